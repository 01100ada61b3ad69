# shellcheck shell=bash
# The file checks every mounting client goes through (davfs2_mount.sh, rclone_clients.sh), so
# each mount is held to the same list: read, write and read back, mkdir, copy, rename a file and a
# folder, append, a 5 MiB binary, names with spaces, '#' and non-ASCII, delete a file and a
# folder. Each change made through the mount is then looked for on the server's disk, where it may
# land a little later (clients upload on close or after a delay): `eventually` polls for it.
#
# Source it after lib.sh (which defines check DESCRIPTION COMMAND...), then:
#   mount_checks LABEL MOUNTPOINT SERVED_ROOT SCRATCH_DIR
# REQUIRES: SERVED_ROOT/seed.txt was there before mounting; the rest of the root is empty.
# Every operation on the mount runs under `timeout`, so a hung client fails a check instead of
# hanging the test.

MOUNT_CHECK_WAIT="${MOUNT_CHECK_WAIT:-20}"

# eventually COMMAND...: true once COMMAND is, polling for up to $MOUNT_CHECK_WAIT seconds.
eventually() {
  local deadline=$((SECONDS + MOUNT_CHECK_WAIT))
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}
# on_mount PROGRAM ARG...: runs a program (not a shell function) that touches the mount, bounded
# in time.
on_mount() { timeout 60 "$@"; }
# same_listing DIR EXPECTED: the names in DIR, sorted and joined by '|', are EXPECTED. davfs2
# shows its local lost+found (backup_dir) in the mount; it is not on the server.
same_listing() {
  [[ "$(timeout 60 find "$1" -mindepth 1 -maxdepth 1 ! -name lost+found -printf '%f\n' | sort |
    tr '\n' '|')" == "$2" ]]
}

mount_checks() {
  local label="$1" mnt="$2" root="$3" scratch="$4"
  local odd="Café menu #2 100%.txt"
  head -c 5242880 /dev/urandom >"$scratch/big.bin"
  printf 'written through %s\n' "$label" >"$scratch/new.txt"
  printf 'written through %s\nappended\n' "$label" >"$scratch/appended.txt"

  check "$label: reads a file the server had" on_mount cmp -s "$root/seed.txt" "$mnt/seed.txt"
  check "$label: lists the root" on_mount test -f "$mnt/seed.txt"

  on_mount cp "$scratch/new.txt" "$mnt/new.txt" || true
  check "$label: write lands on the server" eventually cmp -s "$scratch/new.txt" "$root/new.txt"
  check "$label: read back through the mount" on_mount cmp -s "$scratch/new.txt" "$mnt/new.txt"

  on_mount mkdir "$mnt/folder" || true
  check "$label: mkdir makes a folder on the server" eventually test -d "$root/folder"

  on_mount cp "$mnt/new.txt" "$mnt/folder/copy.txt" || true
  check "$label: copy inside the mount lands on the server" \
    eventually cmp -s "$scratch/new.txt" "$root/folder/copy.txt"

  on_mount mv "$mnt/new.txt" "$mnt/renamed.txt" || true
  check "$label: rename a file" \
    eventually test -f "$root/renamed.txt" -a ! -e "$root/new.txt"
  on_mount mv "$mnt/folder" "$mnt/folder2" || true
  check "$label: rename a folder (its member moves with it)" \
    eventually test -f "$root/folder2/copy.txt" -a ! -e "$root/folder"

  on_mount bash -c 'printf "appended\n" >>"$1"' _ "$mnt/renamed.txt" || true
  check "$label: append lands on the server" \
    eventually cmp -s "$scratch/appended.txt" "$root/renamed.txt"

  on_mount cp "$scratch/big.bin" "$mnt/big.bin" || true
  check "$label: a 5 MiB binary lands whole" eventually cmp -s "$scratch/big.bin" "$root/big.bin"
  check "$label: ... and reads back whole" on_mount cmp -s "$scratch/big.bin" "$mnt/big.bin"

  on_mount cp "$scratch/new.txt" "$mnt/$odd" || true
  check "$label: a name with spaces, '#', '%' and non-ASCII" \
    eventually cmp -s "$scratch/new.txt" "$root/$odd"

  on_mount rm "$mnt/folder2/copy.txt" || true
  check "$label: delete a file" eventually test ! -e "$root/folder2/copy.txt"
  on_mount rmdir "$mnt/folder2" || true
  check "$label: delete a folder" eventually test ! -e "$root/folder2"

  check "$label: the server holds exactly what the mount shows" \
    eventually same_listing "$root" "$odd|big.bin|renamed.txt|seed.txt|"
  check "$label: the mount lists the same names" \
    same_listing "$mnt" "$odd|big.bin|renamed.txt|seed.txt|"
}
