#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# The verified load test of issue 12 against the real binary: load_verified.py's clients (64 by
# default) for KEEPDAV_LOAD_SECONDS (default 20) of mixed PUT, GET, DELETE, COPY, MOVE,
# PROPPATCH, PROPFIND and LOCK/PUT/UNLOCK on 16 shared names, every answer checked against a
# per-name model (no 5xx, no torn, stale or lost write). Sized by KEEPDAV_LOAD_CLIENTS too.
#
# Usage: load_verified.sh KEEPDAV_BINARY
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
INTEROP_NAME=load_verified
# shellcheck source=lib.sh
source "$here/lib.sh"

bin="$1"
interop_require_command python3 python3
interop_require_done
interop_init
mkdir -p "$INTEROP_TMP/root"
# 64 clients from one address: the per-client cap (64) would leave no room for the final reads.
interop_start "$bin" "$INTEROP_TMP/root" --max-connections-per-client=128
python3 "$here/load_verified.py" "$KEEPDAV_URL" --clients="${KEEPDAV_LOAD_CLIENTS:-64}" \
  --seconds="${KEEPDAV_LOAD_SECONDS:-20}"
if grep -E ' Error | Critical | Fatal ' "$INTEROP_TMP/server.log" >/dev/null; then
  interop_log "the server logged errors under load:"
  grep -E ' Error | Critical | Fatal ' "$INTEROP_TMP/server.log" | head -20
  exit 1
fi
interop_stop
left="$(find "$INTEROP_TMP/root" -name '.keepdav-*' | wc -l)"
if [[ $left -ne 0 ]]; then
  interop_log "FAILED: $left .keepdav-* names left after the load"
  exit 1
fi
interop_log "passed"
