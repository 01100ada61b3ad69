#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# A disk that fills up during PUT and COPY (issue 12): the real binary serves a 6 MiB tmpfs.
# Every upload or copy that does not fit answers 507 Insufficient Storage, the old content and its
# dead property are intact, a new name stays absent, and no `.keepdav-*` staging is left; once
# space is free again the same requests succeed. Needs root (mount -t tmpfs); skips without.
#
# Usage: disk_full.sh KEEPDAV_BINARY
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
INTEROP_NAME=disk_full
# shellcheck source=lib.sh
source "$here/lib.sh"

bin="$1"
interop_require_command curl curl
interop_require_done
[[ $(id -u) -eq 0 ]] || interop_skip_capability "not root: cannot mount a tmpfs"
interop_init
root="$INTEROP_TMP/root"
mkdir -p "$root"
mount -t tmpfs -o size=6m,mode=0755 keepdav-disk-full "$root" ||
  interop_skip_capability "mount -t tmpfs failed"
interop_teardown() {
  # -l: the server may still hold a descriptor of a read file (its open-file cache).
  umount -l "$root" 2>/dev/null || true
}

failures=0
expect() { # expect DESCRIPTION ACTUAL WANTED
  if [[ "$2" == "$3" ]]; then
    echo "ok - $1 ($2)"
  else
    echo "not ok - $1: got '$2', wanted '$3'"
    failures=$((failures + 1))
  fi
}
status() { # status CURL_ARG... -> the HTTP status
  curl -s -o /dev/null -w '%{http_code}' "$@"
}
leftovers() { find "$root" -name '.keepdav-*' | wc -l; }
sum() { if [[ -e "$1" ]]; then sha256sum <"$1" | cut -c1-16; else echo absent; fi; }
prop() { # prop PATH -> the k:mark value
  curl -s -X PROPFIND -H 'Depth: 0' "${KEEPDAV_URL}$1" --data-binary \
    '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><k:mark xmlns:k="urn:k"/></D:prop></D:propfind>' |
    sed -n 's/.*<k:mark[^>]*>\([^<]*\)<\/k:mark>.*/\1/p'
}

head -c $((1 << 20)) /dev/urandom >"$root/keep.bin"             # 1 MiB, with a property
head -c $((2 << 20)) /dev/urandom >"$root/big.bin"              # 2 MiB
head -c $((5 << 19)) /dev/urandom >"$INTEROP_TMP/too-big.bin"   # 2.5 MiB: 1 MiB is free
head -c $((256 << 10)) /dev/urandom >"$INTEROP_TMP/small.bin"   # fits
mkdir "$root/tree"
for i in 1 2 3 4; do head -c $((512 << 10)) /dev/urandom >"$root/tree/f$i"; done # 2 MiB
keep_sum="$(sum "$root/keep.bin")"

interop_start "$bin" "$root"
expect "PROPPATCH keep.bin" "$(status -X PROPPATCH "${KEEPDAV_URL}keep.bin" --data-binary \
  '<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:k="urn:k"><D:set><D:prop><k:mark>old</k:mark></D:prop></D:set></D:propertyupdate>')" 207

# PUT replacing, with a length and chunked (no length: found full only while writing).
expect "PUT replacing, too big" "$(status -T "$INTEROP_TMP/too-big.bin" "${KEEPDAV_URL}keep.bin")" 507
expect "  old content intact" "$(sum "$root/keep.bin")" "$keep_sum"
expect "  old property intact" "$(prop keep.bin)" old
expect "  no staging left" "$(leftovers)" 0
expect "PUT replacing, chunked, too big" "$(status -T - -H 'Transfer-Encoding: chunked' \
  "${KEEPDAV_URL}keep.bin" <"$INTEROP_TMP/too-big.bin")" 507
expect "  old content intact" "$(sum "$root/keep.bin")" "$keep_sum"
expect "  no staging left" "$(leftovers)" 0
expect "PUT new, too big" "$(status -T "$INTEROP_TMP/too-big.bin" "${KEEPDAV_URL}new.bin")" 507
expect "  new name absent" "$(sum "$root/new.bin")" absent
expect "  no staging left" "$(leftovers)" 0

# COPY of a file and of a tree that do not fit; Overwrite: T onto keep.bin.
expect "COPY file, too big" "$(status -X COPY -H "Destination: ${KEEPDAV_URL}big2.bin" \
  "${KEEPDAV_URL}big.bin")" 507
expect "  destination absent" "$(sum "$root/big2.bin")" absent
expect "  no staging left" "$(leftovers)" 0
expect "COPY onto keep.bin (Overwrite: T), too big" "$(status -X COPY -H 'Overwrite: T' \
  -H "Destination: ${KEEPDAV_URL}keep.bin" "${KEEPDAV_URL}big.bin")" 507
expect "  old content intact" "$(sum "$root/keep.bin")" "$keep_sum"
expect "  old property intact" "$(prop keep.bin)" old
expect "  no staging left" "$(leftovers)" 0
expect "COPY tree, too big" "$(status -X COPY -H "Destination: ${KEEPDAV_URL}tree2/" \
  "${KEEPDAV_URL}tree/")" 507
expect "  destination absent" "$([[ -e $root/tree2 ]] && echo present || echo absent)" absent
expect "  no staging left" "$(leftovers)" 0
expect "source tree intact" "$(find "$root/tree" -type f | wc -l)" 4

# The server goes on: what fits is stored, and with space freed the refused requests succeed.
expect "PUT small" "$(status -T "$INTEROP_TMP/small.bin" "${KEEPDAV_URL}small.bin")" 201
expect "  stored whole" "$(sum "$root/small.bin")" "$(sum "$INTEROP_TMP/small.bin")"
expect "DELETE big.bin" "$(status -X DELETE "${KEEPDAV_URL}big.bin")" 204
expect "PUT replacing, now fits" "$(status -T "$INTEROP_TMP/too-big.bin" "${KEEPDAV_URL}keep.bin")" 204
expect "  new content" "$(sum "$root/keep.bin")" "$(sum "$INTEROP_TMP/too-big.bin")"
expect "  no staging left" "$(leftovers)" 0
grep -c ' 507\| Insufficient\|no space' "$INTEROP_TMP/server.log" >/dev/null &&
  note "server log: $(grep -ci 'space' "$INTEROP_TMP/server.log") lines name the full disk"

if ((failures > 0)); then
  interop_log "FAILED: $failures checks"
  exit 1
fi
interop_log "passed"
