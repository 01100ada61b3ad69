#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# GNOME Files' WebDAV client, for real and headless: GVfs's gvfsd-dav (libsoup), driven with the
# `gio` command line against the real keepdav binary. Nautilus does the same through the same
# daemon; only the window is missing.
#
# The test starts its own D-Bus session bus (dbus-daemon --session) and its own gvfsd with
# --no-fuse, so nothing outside the temp dir is touched and no FUSE mount appears; remote volume
# monitors (udisks2, MTP, ...) are told to stay away (GVFS_REMOTE_VOLUME_MONITOR_IGNORE). Then:
# mount dav://, list, info, cat, upload (a 5 MiB binary and one from stdin with `gio save`),
# download, mkdir, rename, move, copy on the server, names with spaces, '#', '%' and non-ASCII,
# delete a file and a folder, unmount; each change is looked for on the server's disk.
#
# Exit 77 (skipped) without gio, gvfsd, gvfsd-dav or dbus-daemon (Debian: libglib2.0-bin,
# gvfs-backends, dbus); under CI=true that fails instead (lib.sh: install-deps installs them).
#
# Over HTTPS (tls_over.sh --system-store, test gvfs_https) the mount is davs://localhost:PORT and
# gvfsd-dav checks the certificate through glib-networking (GnuTLS system trust, which there holds
# only the test CA). An untrusted certificate makes gvfsd-dav ask "Are you really sure you would
# like to continue? [1] Yes [2] No" (with the certificate's issuer and SHA-1 fingerprint); gio
# mount prints it and reads the choice from stdin, and at end of input (stdin is /dev/null here)
# it takes choice 1, Yes (measured: run through tls_over.sh without --system-store, every gio
# check passes). So a successful mount proves nothing by itself: the proof that the certificate
# was verified, not waved through, is that no such question was printed.
#
# Usage: gvfs_gio.sh KEEPDAV_BINARY
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck disable=SC2034 # read by lib.sh
INTEROP_NAME=gvfs_gio
# shellcheck source=lib.sh
source "$here/lib.sh"

if [[ $# -ne 1 ]]; then
  echo "usage: $0 KEEPDAV_BINARY" >&2
  exit 2
fi
bin="$1"
gvfsd=/usr/libexec/gvfsd
interop_require_command gio libglib2.0-bin
interop_require_command gdbus libglib2.0-bin
interop_require_command dbus-daemon dbus
interop_require_command pgrep procps
interop_require_file "$gvfsd" gvfs-backends
interop_require_file /usr/libexec/gvfsd-dav gvfs-backends
interop_require_done
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY

interop_init
root="$INTEROP_TMP/root"
scratch="$INTEROP_TMP/scratch"
mkdir -p "$root" "$scratch" "$INTEROP_TMP/runtime"
chmod 700 "$INTEROP_TMP/runtime"
printf 'on the server before the mount\n' >"$root/seed.txt"
interop_start "$bin" "$root" --log-level=debug
dav="dav://127.0.0.1:$KEEPDAV_PORT"
if [[ ${KEEPDAV_URL_SCHEME:-http} == https ]]; then
  # tls_over.sh --system-store: glib-networking's GnuTLS database trusts the test CA there.
  dav="davs://${KEEPDAV_URL_HOST:-localhost}:$KEEPDAV_PORT"
fi

# A private session bus and gvfsd. XDG_RUNTIME_DIR points into the temp dir too.
export XDG_RUNTIME_DIR="$INTEROP_TMP/runtime"
export GVFS_REMOTE_VOLUME_MONITOR_IGNORE=1 GVFS_DISABLE_FUSE=1 GIO_USE_VFS=gvfs
DBUS_PID=""
GVFSD_PID=""
bus_info="$(dbus-daemon --session --fork --print-address=1 --print-pid=1 \
  --address="unix:path=$INTEROP_TMP/runtime/bus")"
export DBUS_SESSION_BUS_ADDRESS="${bus_info%%$'\n'*}"
DBUS_PID="${bus_info##*$'\n'}"
interop_teardown() {
  timeout 15 gio mount -u "$dav/" >/dev/null 2>&1 || true
  local pid child
  for pid in $GVFSD_PID $DBUS_PID; do
    # gvfsd spawns gvfsd-dav; the bus may have activated helpers: stop those children by id.
    for child in $(pgrep -P "$pid" 2>/dev/null || true); do kill -TERM "$child" 2>/dev/null || true; done
    kill -TERM "$pid" 2>/dev/null || true
  done
  GVFSD_PID="" DBUS_PID=""
}
"$gvfsd" --no-fuse </dev/null >"$INTEROP_TMP/gvfsd.log" 2>&1 &
GVFSD_PID=$!
# gvfsd is ready once it owns its bus name.
deadline=$((SECONDS + 10))
until gdbus call --session --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
  --method org.freedesktop.DBus.NameHasOwner org.gtk.vfs.Daemon 2>/dev/null | grep -q true; do
  ((SECONDS < deadline)) || break
  sleep 0.1
done

checks=0 failures=0
g() { # g ARG...: one gio command, bounded in time, its output and errors into logs
  timeout 30 gio "$@" >>"$INTEROP_TMP/gio.out" 2>>"$INTEROP_TMP/gio.err"
}
eventually() {
  local deadline=$((SECONDS + 10))
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

echo "# gio $(gio version 2>/dev/null), gvfs $(dpkg-query -W -f='${Version}' gvfs-backends 2>/dev/null)"
odd="Café menu #2 100%.txt"
odd_uri="Caf%C3%A9%20menu%20%232%20100%25.txt"
head -c 5242880 /dev/urandom >"$scratch/big.bin"
printf 'saved from stdin\n' >"$scratch/saved.txt"

if [[ -n ${KEEPDAV_USER:-} ]]; then
  # auth_over.sh: the user in the URI; gio mount asks "Password:" and reads it from stdin. A
  # wrong one first: gvfsd-dav asks again, gio reads end of input and gives up; nothing mounted.
  dav="${dav%%://*}://$KEEPDAV_USER@${dav#*://}"
  wrong_rc=0
  printf '%s\n' "$(interop_wrong_pass)" | timeout 30 gio mount "$dav/" >"$INTEROP_TMP/gio-wrong.out" \
    2>&1 || wrong_rc=$?
  sed 's/^/# wrong-password gio mount: /' "$INTEROP_TMP/gio-wrong.out"
  check "wrong password: gio mount fails (exit $wrong_rc)" [ "$wrong_rc" -ne 0 ]
  check "wrong password: ... and nothing is mounted" \
    bash -c '! timeout 10 gio list "$1/" >/dev/null 2>&1 </dev/null' _ "$dav"
  check "wrong password: keepdav logged the failed login" interop_auth_failure_logged 127.0.0.1
  check "gio mount ${dav%%:*}:// (gvfsd-dav) with the password on stdin" \
    g mount "$dav/" <<<"$KEEPDAV_PASS"
else
  check "gio mount ${dav%%:*}:// (gvfsd-dav)" g mount "$dav/" </dev/null
fi
if [[ ${KEEPDAV_URL_SCHEME:-http} == https ]]; then
  check "HTTPS: gio mount asked no certificate question" \
    bash -c '! grep -qiE "certificate|sure you would like|identity" "$1" "$2"' _ \
    "$INTEROP_TMP/gio.out" "$INTEROP_TMP/gio.err"
fi
check "gio list shows the seed file" bash -c 'timeout 30 gio list "$1/" | grep -qx seed.txt' _ "$dav"
check "gio cat reads it" bash -c 'timeout 30 gio cat "$1/seed.txt" | cmp -s - "$2"' _ "$dav" "$root/seed.txt"
check "gio copy uploads a 5 MiB binary" g copy "$scratch/big.bin" "$dav/big.bin"
check "... whole on the server" cmp -s "$scratch/big.bin" "$root/big.bin"
check "gio save writes from stdin" bash -c 'timeout 30 gio save "$1/saved.txt" <"$2"' _ "$dav" \
  "$scratch/saved.txt"
check "... on the server" eventually cmp -s "$scratch/saved.txt" "$root/saved.txt"
check "gio info reports the size" \
  bash -c 'timeout 30 gio info -a standard::size "$1/big.bin" | grep -q "standard::size: 5242880"' \
  _ "$dav"
check "gio copy downloads it again" g copy "$dav/big.bin" "$scratch/down.bin"
check "... whole" cmp -s "$scratch/big.bin" "$scratch/down.bin"
check "gio mkdir" g mkdir "$dav/folder"
check "... makes a folder on the server" test -d "$root/folder"
check "gio copy on the server (dav to dav)" g copy "$dav/saved.txt" "$dav/folder/copy.txt"
check "... the copy is on the server" cmp -s "$scratch/saved.txt" "$root/folder/copy.txt"
check "gio rename a file" g rename "$dav/saved.txt" renamed.txt
check "... renamed on the server" test -f "$root/renamed.txt" -a ! -e "$root/saved.txt"
check "gio move a file into a folder" g move "$dav/renamed.txt" "$dav/folder/moved.txt"
check "... moved on the server" test -f "$root/folder/moved.txt" -a ! -e "$root/renamed.txt"
check "gio rename a folder" g rename "$dav/folder" folder2
check "... renamed on the server, members with it" \
  test -f "$root/folder2/moved.txt" -a ! -e "$root/folder"
check "gio copy to a name with spaces, '#', '%' and non-ASCII" \
  g copy "$scratch/saved.txt" "$dav/$odd_uri"
check "... stored under that name" cmp -s "$scratch/saved.txt" "$root/$odd"
check "gio list shows the unusual name decoded" \
  bash -c 'timeout 30 gio list "$1/" | grep -qxF "$2"' _ "$dav" "$odd"
check "gio remove a file" g remove "$dav/folder2/moved.txt"
check "... gone from the server" test ! -e "$root/folder2/moved.txt"
check "gio remove a folder (after its last member)" \
  bash -c 'timeout 30 gio remove "$1/folder2/copy.txt" && timeout 30 gio remove "$1/folder2"' _ "$dav"
check "... gone from the server" test ! -e "$root/folder2"
check "gio mount -u" g mount -u "$dav/"
check "the server holds what was left" \
  [ "$(find "$root" -mindepth 1 -printf '%P\n' | sort | tr '\n' '|')" == "$odd|big.bin|seed.txt|" ]
if [[ -s "$INTEROP_TMP/gio.err" ]]; then
  sed 's/^/# gio stderr: /' "$INTEROP_TMP/gio.err"
fi
# GVfs never locks: it writes with plain PUTs.
for method in OPTIONS PROPFIND GET PUT MKCOL COPY MOVE DELETE LOCK; do
  echo "# server saw $(grep -c "keepdav.http: $method " "$INTEROP_TMP/server.log" || true) x $method"
done

interop_teardown
stop_ok=1
interop_stop || stop_ok=0
check "server stops cleanly on SIGTERM" test "$stop_ok" -eq 1
echo "gvfs_gio: $checks checks, $failures not ok"
[[ $failures -eq 0 ]]
