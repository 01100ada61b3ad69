#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# The `webdav` npm package (version pinned in tests/interop/node/package-lock.json) from a small
# Node script against the real keepdav binary: list, upload (string, Buffer, stream), download,
# stat, copy, move, delete, lock, and a custom property round trip. The Node script checks what
# the client sees (node/webdav_npm_client.mjs); this script then checks the served directory.
#
# The package is installed once into tests/interop/node/node_modules (ignored by git) by
# `scripts/install-deps.sh test`, which runs `npm ci` there from the committed lock file: tests
# never reach the network. Exit 77 (skipped) when node or that install is missing (under CI=true:
# exit 1, see lib.sh).
#
# Usage: webdav_npm.sh KEEPDAV_BINARY
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck disable=SC2034 # read by lib.sh
INTEROP_NAME=webdav_npm
# shellcheck source=lib.sh
source "$here/lib.sh"

if [[ $# -ne 1 ]]; then
  echo "usage: $0 KEEPDAV_BINARY" >&2
  exit 2
fi
bin="$1"

interop_require_command node nodejs
interop_require_done
[[ -f "$here/node/node_modules/webdav/package.json" ]] ||
  interop_skip_missing "the webdav npm package is not installed in $here/node" \
    "run bash scripts/install-deps.sh test, or: npm ci --prefix $here/node"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY

interop_init
root="$INTEROP_TMP/root"
mkdir -p "$root" "$INTEROP_TMP/local"
interop_start "$bin" "$root"

version="$(node -p 'require(process.argv[1]).version' "$here/node/node_modules/webdav/package.json")"
echo "# webdav npm $version on node $(node --version)"
client_rc=0
interop_run_client "$INTEROP_TMP/node.out" timeout 120 node "$here/node/webdav_npm_client.mjs" \
  "$KEEPDAV_URL" "$INTEROP_TMP/local" || client_rc=$?
cat "$INTEROP_TMP/node.out"

checks=0 failures=0
check() { # check DESCRIPTION COMMAND...
  local what="$1"
  shift
  checks=$((checks + 1))
  if "$@"; then
    echo "ok $checks - disk: $what"
  else
    echo "not ok $checks - disk: $what"
    failures=$((failures + 1))
  fi
}
check "the Node client passed all its checks" [ "$client_rc" -eq 0 ]
check "the locked write, then the write after UNLOCK, landed" \
  grep -qx 'after unlock' "$root/docs/hello-moved.txt"
check "the copy kept the original bytes" grep -qx 'hello from node' "$root/docs/hello copy.txt"
check "the non-ASCII name is stored as UTF-8 bytes" test -f "$root/docs/Résumé 2026 #1.txt"
check "the moved folder left its old place" test ! -e "$root/deep/a"
check "the deleted folder is gone" test ! -e "$root/moved-a"
check "the deleted file is gone" test ! -e "$root/docs/stream.bin"
check "the moved file is gone from its old place" test ! -e "$root/docs/data.bin"
if [[ -n ${KEEPDAV_USER:-} ]]; then
  check "the wrong password's PUT wrote nothing" test ! -e "$root/wrong-password.txt"
  check "keepdav logged the wrong password's failed login" interop_auth_failure_logged 127.0.0.1
fi
check "the download equals the upload" cmp -s "$INTEROP_TMP/local/upload.bin" \
  "$INTEROP_TMP/local/download.bin"
check "nothing else is left in /docs" \
  [ "$(find "$root/docs" -mindepth 1 -printf '%f\n' | sort | tr '\n' '|')" == \
  "Résumé 2026 #1.txt|hello copy.txt|hello-moved.txt|" ]

stop_ok=1
interop_stop || stop_ok=0
check "server stops cleanly on SIGTERM" test "$stop_ok" -eq 1
echo "webdav_npm: $checks disk checks, $failures not ok"
[[ $failures -eq 0 ]]
