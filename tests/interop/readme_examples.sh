#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Runs the README's curl examples (the first ```sh block under "## Talking to it with curl")
# against the real keepdav binary serving a copy of sample-data/, so that they stay true.
#
# The block is run as written, with two changes only: its `URL=http://127.0.0.1:8080` line points
# at this test's server, and `curl` is a function that records each answer's status (through
# curl's own --write-out to stderr, after the block's own -w format) without changing what curl
# prints. Then every status must be 2xx, the statuses the block prints itself (its commands have
# -w '%{http_code}\n', issue 16) must be the list the README gives, and the served directory must
# show what each example says it does. Last, the README's undo for the dead property: the
# start-up log line names the database; deleted with the server stopped, the property is gone.
#
# Usage: readme_examples.sh KEEPDAV_BINARY README SAMPLE_DATA_DIR
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck disable=SC2034 # read by lib.sh
INTEROP_NAME=readme_examples
# shellcheck source=lib.sh
source "$here/lib.sh"

if [[ $# -ne 3 ]]; then
  echo "usage: $0 KEEPDAV_BINARY README SAMPLE_DATA_DIR" >&2
  exit 2
fi
bin="$1"
readme="$2"
sample="$3"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY

interop_init
root="$INTEROP_TMP/root"
work="$INTEROP_TMP/work"
cp -R "$sample" "$root"
mkdir -p "$work"

# The block: from the heading to the first closing fence after it.
awk '/^## Talking to it with curl/ { in_section = 1; next }
     in_section && /^## / { exit }
     in_section && !in_block && /^```sh$/ { in_block = 1; next }
     in_block && /^```$/ { exit }
     in_block { print }' "$readme" >"$work/block.sh"
echo "# ---- README block ($(wc -l <"$work/block.sh") lines) ----"
sed 's/^/# /' "$work/block.sh"

checks=0 failures=0

check "the README has a curl block" [ -s "$work/block.sh" ]
check "... that sets URL for scripts/run.sh's default address exactly once" \
  [ "$(grep -cx 'URL=http://127.0.0.1:8080' "$work/block.sh")" -eq 1 ]

interop_start "$bin" "$root"
# The files the examples upload, in the folder they are run from.
head -c 50000 /dev/urandom >"$work/report.pdf"
printf 'README written under a lock by the README example\n' >"$work/README.txt"
{
  echo 'set -eo pipefail'
  # shellcheck disable=SC2016 # expanded when the script runs
  # The block's own -w format stays first; the recorded status goes to stderr after it.
  cat <<'EOF'
curl() {
  local args=() format=""
  while [[ $# -gt 0 ]]; do
    case "$1" in
      -w | --write-out) format="$2"; shift 2 ;;
      *) args+=("$1"); shift ;;
    esac
  done
  command curl --no-progress-meter --noproxy "*" --max-time 30 "${args[@]}" \
    --write-out "${format}%{stderr}README-STATUS %{http_code} %{method} %{url_effective}\n"
}
EOF
  sed "s|^URL=http://127.0.0.1:8080\$|URL=${KEEPDAV_URL%/}|" "$work/block.sh"
} >"$work/run.sh"

block_rc=0
(cd "$work" && interop_run_client "$work/out.txt" bash -c 'bash run.sh 2>err.txt') ||
  block_rc=$?
echo "# ---- stdout of the block ----"
sed 's/^/# /' "$work/out.txt"
echo "# ---- curl statuses ----"
grep '^README-STATUS ' "$work/err.txt" | sed 's/^/# /' || true
grep -v '^README-STATUS ' "$work/err.txt" | sed 's/^/# stderr: /' || true

mapfile -t statuses < <(sed -n 's/^README-STATUS \([0-9]*\) .*/\1/p' "$work/err.txt")
commands="$(grep -cE '^(TOKEN=\$\()?curl ' "$work/block.sh" || true)"
all_2xx() {
  local s
  for s in "${statuses[@]}"; do [[ "$s" =~ ^2[0-9][0-9]$ ]] || return 1; done
}
check "the block ran to its end" [ "$block_rc" -eq 0 ]
check "every curl command in the block answered ($commands commands)" \
  [ "${#statuses[@]}" -eq "$commands" ]
check "every answer was 2xx" all_2xx
check "PROPFIND Depth 1 listed /Projects/ and its member 2026/" grep -q "<D:href>/Projects/2026/</D:href>" "$work/out.txt"
check "curl -T uploaded report.pdf" cmp -s "$work/report.pdf" "$root/Projects/2026/Reports/report.pdf"
check "MKCOL made Projects/2027" test -d "$root/Projects/2027"
check "COPY copied the Reports folder, report.pdf included" \
  diff -r -q "$root/Projects/2026/Reports" "$root/Projects/2027/Reports"
check "MOVE renamed Meeting notes.txt to Archive.txt" \
  test -f "$root/Archive.txt" -a ! -e "$root/Meeting notes.txt"
check "the dead property came back from PROPFIND" \
  grep -qE '<([A-Za-z]+:)?reviewed[^>]*>yes</([A-Za-z]+:)?reviewed>' "$work/out.txt"
check "the LOCK example printed a token" grep -qE '^urn:uuid:[0-9a-f-]{36}$' "$work/out.txt"
check "the PUT with the token replaced README.txt" cmp -s "$work/README.txt" "$root/README.txt"
lock_state="$(command curl -sS --noproxy '*' --max-time 10 -X PROPFIND -H 'Depth: 0' \
  "${KEEPDAV_URL}README.txt" \
  --data-binary '<D:propfind xmlns:D="DAV:"><D:prop><D:lockdiscovery/></D:prop></D:propfind>')"
check "UNLOCK released the lock" grep -qE '<D:lockdiscovery */>' <<<"$lock_state"

# What the block prints: each status on a line of its own, as the README lists them.
printed="$(grep -xE '[0-9]{3}' "$work/out.txt" | tr '\n' ' ' | sed 's/ $//' || true)"
stated="$(awk '/^## Talking to it with curl/ { s = 1; next } s && /^## / { exit } s { print }' \
  "$readme" | grep -oE '`[0-9]{3}( [0-9]{3})+`' | head -n 1 | tr -d '`' || true)"
with_w="$(grep -cF "curl -w '%{http_code}\n' " "$work/block.sh" || true)"
captured="$(grep -cE '^[A-Z]+=\$\(curl ' "$work/block.sh" || true)"
note "statuses printed: $printed; the README says: $stated"
check "every curl command prints its status with -w or is captured ($with_w + $captured of $commands)" \
  [ "$((with_w + captured))" -eq "$commands" ]
check "the block printed one status line per -w command" [ "$(wc -w <<<"$printed")" -eq "$with_w" ]
check "the statuses printed are the README's list" [ -n "$stated" -a "$printed" == "$stated" ]

# The README's undo for the dead property: the log line names the database; delete it with the
# server stopped, and the property is gone after a restart.
db="$(sed -n 's/.*keepdav.server: serving .* (database \(.*\))$/\1/p' "$INTEROP_TMP/server.log" |
  head -n 1 | sed 's/, read-only$//')"
check "the start-up log line names the database ($db)" [ "$db" == "$INTEROP_TMP/props.db" ]
# shellcheck disable=SC2016 # the README's text, not expanded
check "the README says how to reset it" grep -qF 'rm -f "$DB" "$DB-wal" "$DB-shm"' "$readme"
stop_ok=1
interop_stop || stop_ok=0
check "server stops cleanly on SIGTERM" test "$stop_ok" -eq 1
DB="$db"
rm -f "$DB" "$DB-wal" "$DB-shm"
interop_start "$bin" "$root"
after="$(command curl -sS --noproxy '*' --max-time 10 -X PROPFIND -H 'Depth: 0' \
  "${KEEPDAV_URL}README.txt" --data-binary \
  '<D:propfind xmlns:D="DAV:"><D:prop><k:reviewed xmlns:k="urn:example:keepdav"/></D:prop></D:propfind>')"
note "after the reset: $(tr -d '\n' <<<"$after")"
check "with the database deleted the dead property is gone (404 in its propstat)" \
  bash -c 'grep -q "HTTP/1.1 404" <<<"$1" && ! grep -q ">yes<" <<<"$1"' _ "$after"

stop_ok=1
interop_stop || stop_ok=0
check "server stops cleanly on SIGTERM" test "$stop_ok" -eq 1
echo "readme_examples: $checks checks, $failures not ok"
[[ $failures -eq 0 ]]
