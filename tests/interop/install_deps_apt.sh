#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# scripts/install-deps.sh's use of apt-get (issue 16: another package manager holding the lock
# made the first run.sh fail at once with "Could not get lock"). apt-get, dpkg-query, npm and
# id are stand-ins on PATH that record how they were called, so nothing is installed:
#   - a missing package: apt-get update is retried while the lists lock is held, then install
#     runs with DPkg::Lock::Timeout, -y, --no-install-recommends, DEBIAN_FRONTEND=noninteractive
#     and stdin from /dev/null (CI has none), and what was installed is printed with versions;
#   - a lock held past $KEEPDAV_APT_LOCK_TIMEOUT: it gives up with apt-get's message, non-zero;
#   - nothing missing: no apt-get at all;
#   - not root: the command to run is printed, exit 1, no apt-get.
#
# Usage: install_deps_apt.sh SOURCE_DIR
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck disable=SC2034 # read by lib.sh
INTEROP_NAME=install_deps_apt
# shellcheck source=lib.sh
source "$here/lib.sh"

src="$1"
interop_init
stubs="$INTEROP_TMP/bin"
calls="$INTEROP_TMP/calls"
mkdir -p "$stubs"

# dpkg-query: $MISSING is not installed, everything else is; the version query prints 9.9.
cat >"$stubs/dpkg-query" <<'EOF'
#!/usr/bin/env bash
if [[ "$2" == '-f=${Status}' ]]; then
  [[ " ${MISSING:-} " == *" $3 "* ]] || printf 'install ok installed'
  exit 0
fi
shift 2
for p in "$@"; do printf '  %s 9.9\n' "$p"; done
EOF
# apt-get: records its arguments, DEBIAN_FRONTEND and its stdin; `update` fails with APT's lock
# message the first $LOCKED_UPDATES times.
cat >"$stubs/apt-get" <<'EOF'
#!/usr/bin/env bash
printf '%s | DEBIAN_FRONTEND=%s | stdin=%s\n' "$*" "${DEBIAN_FRONTEND:-}" \
  "$(readlink /proc/self/fd/0)" >>"$CALLS"
if [[ " $* " == *" update "* ]]; then
  n="$(grep -c ' update ' "$CALLS")"
  if [[ "$n" -le "${LOCKED_UPDATES:-0}" ]]; then
    echo "E: Could not get lock /var/lib/apt/lists/lock. It is held by process 4242 (apt)"
    echo "E: Unable to lock directory /var/lib/apt/lists/"
    exit 100
  fi
  echo "Hit:1 stand-in bookworm InRelease"
fi
exit 0
EOF
printf '#!/usr/bin/env bash\necho "npm $*" >>"$CALLS"\n' >"$stubs/npm"
# id -u: $FAKE_UID (root unless told).
printf '#!/usr/bin/env bash\n[[ "$1" == -u ]] && { echo "${FAKE_UID:-0}"; exit 0; }\nexec /usr/bin/id "$@"\n' \
  >"$stubs/id"
chmod +x "$stubs"/*

# run_deps OUT VAR=VALUE...: install-deps.sh test with the stand-ins; prints its exit status.
run_deps() {
  local out="$1" rc=0
  shift
  : >"$calls"
  env PATH="$stubs:$PATH" CALLS="$calls" "$@" bash "$src/scripts/install-deps.sh" test \
    </dev/null >"$out" 2>&1 || rc=$?
  echo "$rc"
}

out="$INTEROP_TMP/wait.out"
start=$SECONDS
rc="$(run_deps "$out" MISSING="wrk davfs2" LOCKED_UPDATES=1 KEEPDAV_APT_LOCK_TIMEOUT=60)"
took=$((SECONDS - start))
sed 's/^/# lock held once: /' "$out"
sed 's/^/# apt-get /' "$calls"
check "lock held for the first update: exit 0 (exit $rc)" [ "$rc" -eq 0 ]
check "... it said it waits for the lock" grep -q '^install-deps: waiting for the package lock' "$out"
check "... and ran apt-get update again ($took s)" [ "$(grep -c ' update ' "$calls")" -eq 2 ]
check "... it said what it installs" \
  grep -qx 'install-deps: installing missing Debian packages: davfs2 wrk' "$out"
install_line="$(grep ' install ' "$calls" || true)"
check "... install waits for dpkg's lock too (DPkg::Lock::Timeout=60)" \
  grep -qF -- '-o DPkg::Lock::Timeout=60' <<<"$install_line"
check "... non-interactive: -y, DEBIAN_FRONTEND=noninteractive, stdin /dev/null" \
  bash -c 'grep -qF " install -y --no-install-recommends davfs2 wrk " <<<"$1 " &&
    grep -qF "DEBIAN_FRONTEND=noninteractive | stdin=/dev/null" <<<"$1"' _ "$install_line"
check "... keeps changed config files without asking" \
  grep -qF -- '-o Dpkg::Options::=--force-confold' <<<"$install_line"
check "... and printed each package installed with its version" \
  bash -c 'grep -qx "  davfs2 9.9" "$1" && grep -qx "  wrk 9.9" "$1"' _ "$out"

out="$INTEROP_TMP/giveup.out"
rc="$(run_deps "$out" MISSING=wrk LOCKED_UPDATES=99 KEEPDAV_APT_LOCK_TIMEOUT=0)"
sed 's/^/# lock never released: /' "$out"
check "lock held past KEEPDAV_APT_LOCK_TIMEOUT: fails (exit $rc)" [ "$rc" -ne 0 ]
check "... with apt-get's message" grep -q 'Could not get lock /var/lib/apt/lists/lock' "$out"
check "... and no install" bash -c '! grep -q " install " "$1"' _ "$calls"

out="$INTEROP_TMP/none.out"
rc="$(run_deps "$out" MISSING=)"
check "nothing missing: exit 0 (exit $rc), no apt-get" \
  bash -c '[[ $1 -eq 0 ]] && ! grep -q "| DEBIAN_FRONTEND" "$2"' _ "$rc" "$calls"
check "... saying so" grep -qx "install-deps: all 'test' packages are installed" "$out"

out="$INTEROP_TMP/user.out"
rc="$(run_deps "$out" MISSING=fuse3 FAKE_UID=1000)"
sed 's/^/# not root: /' "$out"
check "not root: exit 1 (exit $rc), no apt-get" \
  bash -c '[[ $1 -eq 1 ]] && ! grep -q "| DEBIAN_FRONTEND" "$2"' _ "$rc" "$calls"
check "... printing the command to run as root" \
  grep -qF 'apt-get install -y --no-install-recommends fuse3' "$out"

echo "install_deps_apt: $checks checks, $failures not ok"
[[ $failures -eq 0 ]]
