#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Replays of the sync apps that use small WebDAV servers (issue 13) against the real keepdav
# binary, over plain HTTP without users: Joplin, Zotero, KeeWeb / Keepass2Android / KeePassXC
# through a mount, Floccus, Cryptomator, Obsidian Remotely Save, DAVx5 and Seedvault.
# app_replays.py sends each app's requests with its headers and User-Agent, as its source does
# (cited above each section there), checks every answer against what the app needs and every
# file it wrote on the served directory itself.
#   1. keepdav as started by default (PROPFIND Depth: infinity allowed): every replay;
#   2. keepdav restarted on the same tree with --propfind-infinity=false: the RFC 4918 §9.1
#      403 <D:propfind-finite-depth/>, and Seedvault's fallback to Depth 1 PROPFINDs.
# Each run must stop cleanly on SIGTERM.
#
# Usage: app_replays.sh KEEPDAV_BINARY
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck disable=SC2034 # read by lib.sh
INTEROP_NAME=app_replays
# shellcheck source=lib.sh
source "$here/lib.sh"

if [[ $# -ne 1 ]]; then
  echo "usage: $0 KEEPDAV_BINARY" >&2
  exit 2
fi
bin="$1"
interop_require_command python3 python3
interop_require_done

interop_init
root="$INTEROP_TMP/root"
mkdir -p "$root"

run_replay() { # run_replay LOG [--finite-depth]
  local log="$1" rc=0
  shift
  interop_run_client "$log" timeout 90 python3 "$here/app_replays.py" "$KEEPDAV_URL" "$root" \
    "$@" || rc=$?
  cat "$log"
  return "$rc"
}

replay_rc=0
interop_start "$bin" "$root"
run_replay "$INTEROP_TMP/replay.out" || replay_rc=$?
stop_ok=1
interop_stop || stop_ok=0

finite_rc=0
interop_start "$bin" "$root" --propfind-infinity=false
run_replay "$INTEROP_TMP/finite.out" --finite-depth || finite_rc=$?
finite_stop_ok=1
interop_stop || finite_stop_ok=0

checks=0 failures=0
check "the replays passed all their checks" [ "$replay_rc" -eq 0 ]
check "the server stops cleanly on SIGTERM" test "$stop_ok" -eq 1
check "the finite-depth replay passed all its checks" [ "$finite_rc" -eq 0 ]
check "the --propfind-infinity=false server stops cleanly on SIGTERM" test "$finite_stop_ok" -eq 1
echo "app_replays: $checks checks, $failures not ok"
[[ $failures -eq 0 ]]
