#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# rclone with vendor = owncloud against the real keepdav binary (issue 13): what a sync client
# keeps through keepdav's X-OC-Mtime and oc:checksums.
#
#   - `rclone sync` keeps modification times: `rclone lsl` of the server equals that of the local
#     tree, and so does `stat` on the server's disk;
#   - a second `rclone sync` transfers nothing (times and sizes match);
#   - `rclone check` without --download compares hashes (SHA-1/MD5 from oc:checksums): it finds
#     no difference, then finds the one file changed on the server's disk without changing its
#     size or modification time (only the ctime tells keepdav; its stored sum must not be used);
#   - `rclone md5sum`/`sha1sum` of the server equal md5sum/sha1sum of the local files.
#
# Exit 77 (skipped) without rclone; under CI=true a missing rclone fails instead (lib.sh).
#
# Usage: rclone_owncloud.sh KEEPDAV_BINARY
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck disable=SC2034 # read by lib.sh
INTEROP_NAME="rclone_owncloud"
# shellcheck source=lib.sh
source "$here/lib.sh"

if [[ $# -ne 1 ]]; then
  echo "usage: $0 KEEPDAV_BINARY" >&2
  exit 2
fi
bin="$1"
interop_require_command rclone rclone
interop_require_done
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY

interop_init
root="$INTEROP_TMP/root"
src="$INTEROP_TMP/src"
mkdir -p "$root" "$src/nested/deeper" "$src/Dossier été #3"
export RCLONE_CONFIG="$INTEROP_TMP/rclone.conf"
export RCLONE_CACHE_DIR="$INTEROP_TMP/rclone-cache"
# No retries: a failure must show, not be papered over.
rclone_opts=(--retries 1 --low-level-retries 1 --timeout 30s --contimeout 10s)

run_rclone() { # run_rclone LOG ARG...
  local log="$1"
  shift
  local rc=0
  interop_run_client "$log" timeout 120 rclone "$@" "${rclone_opts[@]}" || rc=$?
  sed 's/^/# rclone: /' "$log" | grep -v '^# rclone: *$' | tail -n 20 || true
  return "$rc"
}
# The `rclone lsl` listing of REMOTE, sorted by path (lsl prints size, time, path).
lsl_sorted() { rclone lsl "$1" "${rclone_opts[@]}" 2>/dev/null | sed 's/^ *//' | sort -k4; }
same_lsl() { diff <(lsl_sorted "$src") <(lsl_sorted kd:tree); }
# The on-disk mtimes (seconds) of every file below DIR, by relative path.
disk_mtimes() { (cd "$1" && find . -type f -printf '%P %T@\n' | sed 's/\.[0-9]*$//' | sort); }
same_disk_mtimes() { diff <(disk_mtimes "$src") <(disk_mtimes "$root/tree"); }
log_lacks() { ! grep -qE "$2" "$1"; }
sums_sorted() { sort -k2; }

echo "# $(rclone version 2>/dev/null | sed -n 1p)"
printf 'alpha\n' >"$src/a.txt"
: >"$src/empty.txt"
head -c 3145728 /dev/urandom >"$src/nested/blob.bin"
printf 'deep\n' >"$src/nested/deeper/d.txt"
printf 'odd\n' >"$src/Dossier été #3/100% sûr.txt"
# Distinct whole-second times in the past, so an upload time can never pass for them.
touch -d '2001-02-03 04:05:06 UTC' "$src/a.txt"
touch -d '2002-03-04 05:06:07 UTC' "$src/empty.txt"
touch -d '2003-04-05 06:07:08 UTC' "$src/nested/blob.bin"
touch -d '2004-05-06 07:08:09 UTC' "$src/nested/deeper/d.txt"
touch -d '2005-06-07 08:09:10 UTC' "$src/Dossier été #3/100% sûr.txt"

interop_start "$bin" "$root" --log-level=debug
printf '[kd]\ntype = webdav\nurl = %s\nvendor = owncloud\n' "$KEEPDAV_URL" >"$RCLONE_CONFIG"
features="$(rclone backend features kd: 2>/dev/null | tr -d ' \n')"
note "rclone features: Precision $(sed -n 's/.*"Precision":\([0-9]*\).*/\1/p' <<<"$features") ns," \
  "Hashes $(sed -n 's/.*"Hashes":\(\[[^]]*\]\).*/\1/p' <<<"$features")"

check "rclone sync (owncloud) exits 0" run_rclone "$INTEROP_TMP/sync.log" sync -v "$src" kd:tree
check "rclone sync: the server's files equal the local ones" diff -r "$src" "$root/tree"
check "rclone lsl: the server lists the local modification times" same_lsl
check "stat: the server's disk has the local modification times" same_disk_mtimes

check "second rclone sync exits 0" run_rclone "$INTEROP_TMP/sync2.log" sync -v "$src" kd:tree
check "second rclone sync transferred nothing" log_lacks "$INTEROP_TMP/sync2.log" 'Copied|Updated'

check "rclone check (hashes, no --download): no differences" \
  run_rclone "$INTEROP_TMP/check.log" check "$src" kd:tree
check "rclone check compared hashes, not sizes only" \
  log_lacks "$INTEROP_TMP/check.log" 'no hashes in common|hash.*unsupported|checking sizes only|size-only'
check "rclone md5sum of the server equals md5sum of the local files" \
  diff <(cd "$src" && find . -type f -printf '%P\n' | sort | while read -r f; do
    printf '%s  %s\n' "$(md5sum <"$f" | cut -d' ' -f1)" "$f"; done | sums_sorted) \
  <(rclone md5sum kd:tree "${rclone_opts[@]}" 2>/dev/null | sums_sorted)
check "rclone sha1sum of the server equals sha1sum of the local files" \
  diff <(cd "$src" && find . -type f -printf '%P\n' | sort | while read -r f; do
    printf '%s  %s\n' "$(sha1sum <"$f" | cut -d' ' -f1)" "$f"; done | sums_sorted) \
  <(rclone sha1sum kd:tree "${rclone_opts[@]}" 2>/dev/null | sums_sorted)

# A same-size change made on the server's disk, outside keepdav, with its mtime put back: size
# and time still match, so only the hash can tell (and keepdav's stored sum is stale).
changed="$root/tree/nested/blob.bin"
sleep 0.05
printf 'XYZ' | dd of="$changed" bs=1 seek=1000 conv=notrunc status=none
touch -d '2003-04-05 06:07:08 UTC' "$changed"
check "the changed file kept its size and time" \
  test "$(stat -c '%s %Y' "$changed")" = "$(stat -c '%s %Y' "$src/nested/blob.bin")"
check_rc=0
run_rclone "$INTEROP_TMP/check-changed.log" check "$src" kd:tree || check_rc=$?
check "rclone check (hashes) fails after a same-size change on the server" test "$check_rc" -ne 0
check "rclone check names the changed file" grep -qE 'nested/blob.bin' "$INTEROP_TMP/check-changed.log"
check "rclone check reports exactly one difference" \
  grep -qE '1 differences found' "$INTEROP_TMP/check-changed.log"

stop_ok=1
interop_stop || stop_ok=0
check "server stops cleanly on SIGTERM" test "$stop_ok" -eq 1
echo "rclone_owncloud: $checks checks, $failures not ok"
[[ $failures -eq 0 ]]
