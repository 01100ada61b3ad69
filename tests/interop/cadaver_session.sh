#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# A scripted cadaver (neon) session against the real keepdav binary: ls, mkcol, put, get, cat,
# copy, move, propset/propget, lock, discover, a write under the lock, unlock, delete, rmcol, and
# one command that must fail.
#
# cadaver reads commands from stdin and exits 0 even when a command failed, so the verdict comes
# from its output: every command's own "succeeded." line must be there, exactly one "failed"
# (the deliberate one) and no other error, and then the served directory is checked itself.
#
# Over HTTPS (tls_over.sh --system-store, test cadaver_https): neon verifies the certificate
# against the system store, which there holds only the test CA; the session must show no
# "Untrusted server certificate" warning (cadaver would ask "accept?" and read a command as the
# answer), and a control run with an empty store must get that warning and be refused.
#
# Usage: cadaver_session.sh KEEPDAV_BINARY
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck disable=SC2034 # read by lib.sh
INTEROP_NAME=cadaver_session
# shellcheck source=lib.sh
source "$here/lib.sh"

if [[ $# -ne 1 ]]; then
  echo "usage: $0 KEEPDAV_BINARY" >&2
  exit 2
fi
bin="$1"
interop_require_command cadaver cadaver
interop_require_done
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY

interop_init
root="$INTEROP_TMP/root"
work="$INTEROP_TMP/work"
mkdir -p "$root" "$work" "$INTEROP_TMP/home"
interop_start "$bin" "$root"

printf 'first version\n' >"$work/local.txt"
head -c 300000 /dev/urandom >"$work/binary.bin"
printf 'written under the lock\n' >"$work/locked.txt"

host="${KEEPDAV_URL#*://}"
host="${host%%[:/]*}"
if [[ -n ${KEEPDAV_USER:-} ]]; then
  # auth_over.sh: the credentials in ~/.netrc, where cadaver looks before it would ask.
  printf 'machine %s\nlogin %s\npassword %s\n' "$host" "$KEEPDAV_USER" "$KEEPDAV_PASS" \
    >"$INTEROP_TMP/home/.netrc"
  chmod 600 "$INTEROP_TMP/home/.netrc"
fi

# cadaver resolves local names against its cwd: run it in $work.
cat >"$work/session.in" <<'EOF'
mkcol docs
cd docs
put local.txt notes.txt
put binary.bin "Résumé 2026 #1.bin"
ls
get notes.txt back.txt
get "Résumé 2026 #1.bin" back.bin
cat notes.txt
copy notes.txt copy.txt
move copy.txt moved.txt
propset notes.txt color blue
propget notes.txt color
lock notes.txt
discover notes.txt
put locked.txt notes.txt
unlock notes.txt
delete moved.txt
mkcol trash
rmcol trash
get missing.txt nothing.txt
quit
EOF
# In the background with the pid recorded (as interop_run_client does, but with the script on
# stdin), so a ctest timeout reaches the EXIT trap at once.
cadaver_rc=0
cd "$work"
HOME="$INTEROP_TMP/home" timeout 60 cadaver "$KEEPDAV_URL" <"$work/session.in" \
  >"$work/session.out" 2>&1 &
INTEROP_CLIENT_PID=$!
wait "$INTEROP_CLIENT_PID" || cadaver_rc=$?
INTEROP_CLIENT_PID=""
cd "$INTEROP_TMP"
sed 's/^/# cadaver: /' "$work/session.out"

checks=0 failures=0
said() { grep -qF -- "$1" "$work/session.out"; }
said_in() { grep -qF -- "$2" "$1"; } # said_in FILE TEXT

check "cadaver exited 0" [ "$cadaver_rc" -eq 0 ]
check "mkcol" said "Creating \`docs': succeeded."
check "put" said "Uploading local.txt to \`/docs/notes.txt': [.. succeeded."
check "put of a name with spaces, # and non-ASCII" \
  said "Uploading binary.bin to \`/docs/R%c3%a9sum%c3%a9%202026%20%231.bin':"
check "ls lists the two files" \
  grep -qE '^ +notes\.txt +14 ' "$work/session.out"
check "ls shows the unusual name decoded" grep -qF 'Résumé 2026 #1.bin' "$work/session.out"
check "get" said "Downloading \`/docs/notes.txt' to back.txt: [.. succeeded."
check "cat shows the contents" said "first version"
check "copy" said "Copying \`/docs/notes.txt' to \`/docs/copy.txt':  succeeded."
check "move" said "Moving \`/docs/copy.txt' to \`/docs/moved.txt':  succeeded."
check "propset" said "Setting property on \`notes.txt': succeeded."
check "propget" said "Value of color is: blue"
check "lock" said "Locking \`notes.txt': succeeded."
check "discover shows the lock" grep -qE '^Lock token <urn:uuid:[0-9a-f-]+>:' "$work/session.out"
check "put under the lock (cadaver submits its token)" \
  said "Uploading locked.txt to \`/docs/notes.txt': [.. succeeded."
check "unlock" said "Unlocking \`notes.txt': succeeded."
check "delete" said "Deleting \`moved.txt': succeeded."
check "rmcol" said "Deleting collection \`trash': succeeded."
check "the deliberate get of a missing file failed with 404" \
  grep -qE "Downloading \`/docs/missing.txt' to nothing.txt:.*failed:" "$work/session.out"
check "... and it is the only failure in the session" \
  [ "$(grep -ciE 'failed|error|could not' "$work/session.out")" -eq 1 ]

check "disk: notes.txt holds what was written under the lock" \
  cmp -s "$work/locked.txt" "$root/docs/notes.txt"
check "disk: the binary with an unusual name is whole" \
  cmp -s "$work/binary.bin" "$root/docs/Résumé 2026 #1.bin"
check "local: get brought the first version back" cmp -s "$work/local.txt" "$work/back.txt"
check "local: get of the unusual name is whole" cmp -s "$work/binary.bin" "$work/back.bin"
check "disk: the moved copy was deleted, nothing else is left" \
  [ "$(find "$root" -mindepth 1 -printf '%P\n' | sort | tr '\n' '|')" == \
  "docs|docs/Résumé 2026 #1.bin|docs/notes.txt|" ]
curl_auth=()
[[ -n ${KEEPDAV_USER:-} ]] && curl_auth=(-u "$KEEPDAV_USER:$KEEPDAV_PASS")
props="$(curl -sS --max-time 10 "${curl_auth[@]}" -X PROPFIND -H 'Depth: 0' "${KEEPDAV_URL}docs/notes.txt" \
  --data-binary '<D:propfind xmlns:D="DAV:"><D:prop><D:lockdiscovery/>
    <c:color xmlns:c="http://webdav.org/cadaver/custom-properties/"/></D:prop></D:propfind>')"
check "server: the property cadaver set is stored" grep -qE '>blue</([A-Za-z0-9]+:)?color>' <<<"$props"
check "server: no lock is left after unlock" grep -qE '<D:lockdiscovery */>' <<<"$props"

if [[ -n ${KEEPDAV_USER:-} ]]; then
  # A wrong password in ~/.netrc: cadaver reports the refusal and writes nothing (it then asks
  # for a user name on stdin: the session's "put" line is read as one, and refused too).
  mkdir -p "$INTEROP_TMP/home-wrong"
  printf 'machine %s\nlogin %s\npassword %s\n' "$host" "$KEEPDAV_USER" "$(interop_wrong_pass)" \
    >"$INTEROP_TMP/home-wrong/.netrc"
  chmod 600 "$INTEROP_TMP/home-wrong/.netrc"
  printf 'put local.txt wrong.txt\nquit\n' >"$work/wrong.in"
  (cd "$work" && HOME="$INTEROP_TMP/home-wrong" timeout 30 cadaver "$KEEPDAV_URL" \
    <"$work/wrong.in" >"$work/wrong.out" 2>&1) || true
  sed 's/^/# wrong-password cadaver: /' "$work/wrong.out"
  check "wrong password: cadaver reports the refusal" \
    grep -qiE 'authenticat|401|unauthori' "$work/wrong.out"
  check "wrong password: nothing written" test ! -e "$root/wrong.txt"
  check "wrong password: keepdav logged the failed login" interop_auth_failure_logged 127.0.0.1
fi

if [[ ${KEEPDAV_URL_SCHEME:-http} == https ]]; then
  check "HTTPS: cadaver verified the certificate (no untrusted-certificate warning)" \
    bash -c '! grep -qiE "untrusted|certificate" "$1"' _ "$work/session.out"
  if [[ ${KEEPDAV_TLS_SYSTEM_STORE:-0} == 1 ]]; then
    # The control: the same cadaver with an empty system store (a nested private namespace) is
    # warned and refuses (the "accept?" prompt reads "ls" as its answer: not a yes).
    printf 'ls\nquit\n' >"$work/control.in"
    HOME="$INTEROP_TMP/home" timeout 30 unshare --mount --propagation private bash -c \
      'mount -t tmpfs -o size=1m empty /etc/ssl/certs && exec cadaver "$1"' _ "$KEEPDAV_URL" \
      <"$work/control.in" >"$work/control.out" 2>&1 || true
    sed 's/^/# control cadaver: /' "$work/control.out"
    check "HTTPS control: with an empty store cadaver warns of an untrusted certificate" \
      said_in "$work/control.out" "WARNING: Untrusted server certificate presented"
    check "HTTPS control: ... and does not open the collection" \
      said_in "$work/control.out" "Server certificate verification failed: issuer is not trusted"
  fi
fi

stop_ok=1
interop_stop || stop_ok=0
check "server stops cleanly on SIGTERM" test "$stop_ok" -eq 1
echo "cadaver_session: $checks checks, $failures not ok"
[[ $failures -eq 0 ]]
