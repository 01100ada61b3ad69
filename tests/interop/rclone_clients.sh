#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# rclone (Debian's, a Go client; webdav backend with vendor = other) against the real keepdav
# binary. Two modes, two CTest tests:
#
#   sync   copy a local tree up (binary, empty file, nested folders, names with spaces, '#', '%'
#          and non-ASCII), `rclone check` it (sizes) and `rclone check --download` (bytes),
#          change the tree and `rclone sync` it (changed, added, deleted files and folders),
#          then copy it down again; after each step the server's disk (or the copy down) must
#          equal the local tree. Also records what rclone can preserve against keepdav.
#   mount  `rclone mount` (FUSE 3, --vfs-cache-mode writes so appends and rewrites work) with
#          the common mount checks (mount_checks.sh), each looked for on the server's disk.
#
# What rclone's webdav backend preserves against keepdav (vendor = other): neither modification
# times nor checksums. Its features say Precision = "not supported" and Hashes = [] for a plain
# WebDAV server; the server's getlastmodified is the upload time, so `rclone sync` and
# `rclone copy` compare sizes only, and `rclone check` compares sizes unless given --download.
# The sync mode prints rclone's own feature list so a change shows up in the log.
#
# Exit 77 (skipped) without rclone; in mount mode also without /dev/fuse or fusermount3, or when
# not root. Under CI=true a missing rclone or fusermount3 fails instead (lib.sh).
#
# Usage: rclone_clients.sh KEEPDAV_BINARY sync|mount
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mode="${2:-}"
# shellcheck disable=SC2034 # read by lib.sh
INTEROP_NAME="rclone_$mode"
# shellcheck source=lib.sh
source "$here/lib.sh"
# shellcheck source=mount_checks.sh
source "$here/mount_checks.sh"

if [[ $# -ne 2 || ( "$mode" != sync && "$mode" != mount ) ]]; then
  echo "usage: $0 KEEPDAV_BINARY sync|mount" >&2
  exit 2
fi
bin="$1"

if [[ "$mode" == mount ]]; then
  [[ -c /dev/fuse ]] || interop_skip_capability "no /dev/fuse on this machine (rclone mount needs FUSE)"
  [[ "$(id -u)" -eq 0 ]] ||
    interop_skip_capability "this test mounts as root (a user needs user_allow_other): run it as root"
  interop_require_command fusermount3 fuse3
fi
interop_require_command rclone rclone
interop_require_done
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY

interop_init
root="$INTEROP_TMP/root"
scratch="$INTEROP_TMP/scratch"
mkdir -p "$root" "$scratch"
export RCLONE_CONFIG="$INTEROP_TMP/rclone.conf"
export RCLONE_CACHE_DIR="$INTEROP_TMP/rclone-cache"
# No retries: a failure must show, not be papered over.
rclone_opts=(--retries 1 --low-level-retries 1 --timeout 30s --contimeout 10s)

checks=0 failures=0
# run_rclone LOG ARG...: rclone in the background (a ctest timeout reaches the trap at once).
run_rclone() {
  local log="$1"
  shift
  local rc=0
  interop_run_client "$log" timeout 120 rclone "$@" "${rclone_opts[@]}" || rc=$?
  sed 's/^/# rclone: /' "$log" | grep -v '^# rclone: *$' | tail -n 20 || true
  return "$rc"
}
same_tree() { diff -r "$1" "$2" >/dev/null; }

echo "# $(rclone version 2>/dev/null | sed -n 1p)"
[[ "$mode" == mount ]] && printf 'on the server before the mount\n' >"$root/seed.txt"
interop_start "$bin" "$root" --log-level=debug
printf '[kd]\ntype = webdav\nurl = %s\nvendor = other\n' "$KEEPDAV_URL" >"$RCLONE_CONFIG"
if [[ -n ${KEEPDAV_USER:-} ]]; then
  # auth_over.sh: the password as rclone's config holds it, `rclone obscure`d; and a remote with
  # a wrong one, which must fail cleanly.
  printf 'user = %s\npass = %s\n' "$KEEPDAV_USER" "$(rclone obscure "$KEEPDAV_PASS")" >>"$RCLONE_CONFIG"
  printf '[kdwrong]\ntype = webdav\nurl = %s\nvendor = other\nuser = %s\npass = %s\n' \
    "$KEEPDAV_URL" "$KEEPDAV_USER" "$(rclone obscure "$(interop_wrong_pass)")" >>"$RCLONE_CONFIG"
  printf 'must not land\n' >"$scratch/wrong.txt"
  wrong_rc=0
  run_rclone "$INTEROP_TMP/wrong.log" copyto "$scratch/wrong.txt" kdwrong:wrong.txt >/dev/null ||
    wrong_rc=$?
  check "wrong password: rclone copyto fails (exit $wrong_rc)" [ "$wrong_rc" -ne 0 ]
  check "wrong password: rclone reports the 401" grep -q '401' "$INTEROP_TMP/wrong.log"
  check "wrong password: nothing written" test ! -e "$root/wrong.txt"
  check "wrong password: keepdav logged the failed login" interop_auth_failure_logged 127.0.0.1
fi

if [[ "$mode" == sync ]]; then
  src="$scratch/src"
  mkdir -p "$src/nested/deeper" "$src/Dossier été #3" "$src/empty-folder-stays-local"
  printf 'alpha\n' >"$src/a.txt"
  : >"$src/empty.txt"
  head -c 2097152 /dev/urandom >"$src/nested/blob.bin"
  printf 'deep\n' >"$src/nested/deeper/d.txt"
  printf 'odd\n' >"$src/Dossier été #3/100% sûr.txt"
  printf 'to be deleted\n' >"$src/nested/gone.txt"

  run_rclone "$INTEROP_TMP/copy.log" copy "$src" kd:tree ||
    echo "# rclone copy exited non-zero"
  # rclone copies files; an empty local folder is not created remotely (rclone's own rule).
  rmdir "$src/empty-folder-stays-local"
  check "rclone copy: the server's tree equals the local one" same_tree "$src" "$root/tree"
  check "rclone check (sizes): no differences" run_rclone "$INTEROP_TMP/check.log" check "$src" kd:tree
  check "rclone check --download (bytes): no differences" \
    run_rclone "$INTEROP_TMP/check-dl.log" check --download "$src" kd:tree

  # Change, add, delete (a file and a folder), then sync. The changed file changes size: with no
  # modification times or hashes, size is all rclone compares against keepdav.
  printf 'alpha, changed and longer\n' >"$src/a.txt"
  printf 'new\n' >"$src/nested/new.txt"
  rm "$src/nested/gone.txt"
  rm -r "$src/nested/deeper"
  head -c 1048576 /dev/urandom >"$src/Dossier été #3/added.bin"
  check "rclone sync exits 0" run_rclone "$INTEROP_TMP/sync.log" sync "$src" kd:tree
  check "rclone sync: the server's tree equals the changed local one" same_tree "$src" "$root/tree"
  check "rclone sync: the deleted file is gone from the server" test ! -e "$root/tree/nested/gone.txt"
  check "rclone sync: the deleted folder is gone from the server" \
    test ! -e "$root/tree/nested/deeper"
  check "rclone check after sync: no differences" \
    run_rclone "$INTEROP_TMP/check2.log" check --download "$src" kd:tree

  check "rclone copy down exits 0" run_rclone "$INTEROP_TMP/down.log" copy kd:tree "$scratch/down"
  check "rclone copy down: the copy equals the local tree" same_tree "$src" "$scratch/down"

  check "rclone lsjson lists the unusual name" \
    bash -c 'rclone lsjson -R kd:tree | grep -qF "\"Dossier été #3/100% sûr.txt\""'
  # What rclone can preserve (README "rclone"): recorded, not asserted, so a newer rclone that
  # learns more shows up here rather than failing.
  features="$(rclone backend features kd: 2>/dev/null | tr -d ' \n')"
  echo "# rclone features: Precision $(sed -n 's/.*"Precision":\([0-9]*\).*/\1/p' <<<"$features") ns" \
    "(3153600000000000000 = modification times not supported), Hashes" \
    "$(sed -n 's/.*"Hashes":\(\[[^]]*\]\).*/\1/p' <<<"$features")"
  touch -d '2001-02-03 04:05:06 UTC' "$src/nested/blob.bin"
  run_rclone "$INTEROP_TMP/copy-mtime.log" copy "$src" kd:tree >/dev/null || true
  echo "# blob.bin touched locally to 2001-02-03T04:05:06Z and copied again: the server's copy" \
    "has mtime $(date -u -d "@$(stat -c %Y "$root/tree/nested/blob.bin")" +%FT%TZ)" \
    "(rclone saw equal sizes and skipped it; modification times are not preserved)"
else
  mnt="$INTEROP_TMP/mnt"
  mkdir -p "$mnt"
  mounted=0
  RCLONE_MOUNT_PID=""
  interop_teardown() {
    if [[ $mounted -eq 1 ]]; then
      fusermount3 -u "$mnt" 2>/dev/null || fusermount3 -uz "$mnt" 2>/dev/null || true
      mounted=0
    fi
    if [[ -n "$RCLONE_MOUNT_PID" ]]; then
      # rclone exits by itself once unmounted; give it a moment to flush, then stop it.
      local deadline=$((SECONDS + 10))
      while kill -0 "$RCLONE_MOUNT_PID" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
      kill -TERM "$RCLONE_MOUNT_PID" 2>/dev/null || true
      wait "$RCLONE_MOUNT_PID" 2>/dev/null || true
      RCLONE_MOUNT_PID=""
    fi
  }
  # --vfs-cache-mode writes: without it rclone mount cannot append or reopen a file for writing.
  # --vfs-write-back 0s uploads on close; --dir-cache-time 1s re-reads listings soon.
  rclone mount kd: "$mnt" --vfs-cache-mode writes --vfs-write-back 0s --dir-cache-time 1s \
    --poll-interval 0 --cache-dir "$RCLONE_CACHE_DIR" -v "${rclone_opts[@]}" \
    </dev/null >"$INTEROP_TMP/mount.log" 2>&1 &
  RCLONE_MOUNT_PID=$!
  deadline=$((SECONDS + 20))
  until grep -qF " $mnt fuse.rclone" /proc/mounts; do
    if ! kill -0 "$RCLONE_MOUNT_PID" 2>/dev/null || ((SECONDS >= deadline)); then break; fi
    sleep 0.1
  done
  grep -qF " $mnt fuse.rclone" /proc/mounts && mounted=1
  check "rclone mount: mounted the server" [ "$mounted" -eq 1 ]
  if [[ $mounted -eq 1 ]]; then
    mount_checks "rclone mount" "$mnt" "$root" "$scratch"
    umount_rc=0
    fusermount3 -u "$mnt" || umount_rc=$?
    [[ $umount_rc -eq 0 ]] && mounted=0
    check "rclone mount: fusermount3 -u unmounted it" [ "$umount_rc" -eq 0 ]
    interop_teardown
  fi
  sed 's/^/# rclone mount: /' "$INTEROP_TMP/mount.log" | grep -E 'ERROR|NOTICE' | tail -n 20 || true
  check "rclone mount: logged no ERROR" bash -c '! grep -q ERROR "$1"' _ "$INTEROP_TMP/mount.log"
fi

stop_ok=1
interop_stop || stop_ok=0
check "server stops cleanly on SIGTERM" test "$stop_ok" -eq 1
echo "rclone_$mode: $checks checks, $failures not ok"
[[ $failures -eq 0 ]]
