#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Mounts the real keepdav binary with davfs2 (Debian's 1.6.1, a FUSE file system) and runs the
# common mount checks (mount_checks.sh) through it, each looked for on the server's disk; then
# checks that davfs2 locked what it wrote and left no lock behind.
#
# Nothing outside the test's temp dir is configured: `-o conf=FILE` names a davfs2.conf there,
# which names a secrets file and a cache directory there too; /etc is never edited. When root
# mounts, the mount.davfs daemon drops to the `davfs2` user, so the cache directory is
# root:davfs2 mode 775 (what davfs2 demands of /var/cache/davfs2) and the temp dir is opened
# for traversal (711).
#
# davfs2.conf settings, and why:
#   buf_size 64       kernels >= 6.16 refuse davfs2 1.6.1's default 16 KiB FUSE buffer: every
#                     directory listing fails with EINVAL (this machine runs 6.18)
#   delay_upload 0    upload on close rather than 10 s later, so the disk checks see it
#   dir_refresh 1     re-read listings after a second, not 60
#   use_locks 1       the default, said aloud: LOCK, PUT, UNLOCK around every upload
#   ask_auth 0        never prompt: the credentials (with auth_over.sh) are in the secrets file
#
# Exit 77 (skipped) without /dev/fuse, or when not root (mounting needs it unless /etc/fstab
# allows users, which a test must not edit); without mount.davfs too, except under CI=true, where
# that fails (lib.sh: install-deps installs davfs2).
#
# Usage: davfs2_mount.sh KEEPDAV_BINARY
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck disable=SC2034 # read by lib.sh
INTEROP_NAME=davfs2_mount
# shellcheck source=lib.sh
source "$here/lib.sh"
# shellcheck source=mount_checks.sh
source "$here/mount_checks.sh"

if [[ $# -ne 1 ]]; then
  echo "usage: $0 KEEPDAV_BINARY" >&2
  exit 2
fi
bin="$1"

[[ -c /dev/fuse ]] ||
  interop_skip_capability "no /dev/fuse on this machine (davfs2 mounts through FUSE)"
[[ "$(id -u)" -eq 0 ]] ||
  interop_skip_capability "mounting with davfs2 needs root (the test edits no /etc/fstab): run it as root"
interop_require_command mount.davfs davfs2
interop_require_done
getent group davfs2 >/dev/null ||
  interop_skip_missing "the davfs2 group is missing" "as root: apt-get install --reinstall davfs2"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY

interop_init
chmod 711 "$INTEROP_TMP"
root="$INTEROP_TMP/root"
mnt="$INTEROP_TMP/mnt"
cache="$INTEROP_TMP/davfs2-cache"
scratch="$INTEROP_TMP/scratch"
mkdir -p "$root" "$mnt" "$cache" "$scratch"
chown root:davfs2 "$cache"
chmod 775 "$cache"
printf 'on the server before the mount\n' >"$root/seed.txt"

# Debug logging: one line per request, to see what davfs2 sent.
interop_start "$bin" "$root" --log-level=debug

conf="$INTEROP_TMP/davfs2.conf"
secrets="$INTEROP_TMP/davfs2.secrets"
cat >"$conf" <<EOF
buf_size 64
cache_dir $cache
secrets $secrets
ask_auth 0
use_locks 1
delay_upload 0
dir_refresh 1
file_refresh 1
EOF
# Over HTTPS (tls_over.sh): trust the test's CA, as a user trusts their own (README: HTTPS).
# A copy here: mount.davfs reads it after dropping to the davfs2 user.
if [[ -n ${KEEPDAV_TLS_CA:-} ]]; then
  install -m 644 "$KEEPDAV_TLS_CA" "$INTEROP_TMP/tls-ca.pem"
  echo "trust_ca_cert $INTEROP_TMP/tls-ca.pem" >>"$conf"
fi
# Without auth_over.sh keepdav has no authentication: an entry with empty credentials keeps
# davfs2 from asking. With it, the user and password, double-quoted as davfs2's secrets allow.
printf '%s "%s" "%s"\n' "$KEEPDAV_URL" "${KEEPDAV_USER:-}" "${KEEPDAV_PASS:-}" >"$secrets"
chmod 600 "$secrets"

checks=0 failures=0
if [[ -n ${KEEPDAV_USER:-} ]]; then
  # A wrong password in the secrets file: the mount fails, and nothing is mounted.
  sed "s|^secrets .*|secrets $secrets.wrong|" "$conf" >"$conf.wrong"
  printf '%s "%s" "%s"\n' "$KEEPDAV_URL" "$KEEPDAV_USER" "$(interop_wrong_pass)" >"$secrets.wrong"
  chmod 600 "$secrets.wrong"
  wrong_rc=0
  timeout 30 mount -t davfs -o "conf=$conf.wrong,uid=0,gid=0" "$KEEPDAV_URL" "$mnt" </dev/null \
    >"$INTEROP_TMP/mount.wrong" 2>&1 || wrong_rc=$?
  sed 's/^/# wrong password mount: /' "$INTEROP_TMP/mount.wrong"
  if grep -qF " $mnt fuse" /proc/mounts; then umount "$mnt" || umount -l "$mnt" || true; fi
  check "davfs2: a wrong password in the secrets file fails the mount (exit $wrong_rc)" \
    [ "$wrong_rc" -ne 0 ]
  check "davfs2: ... saying the server refused the credentials" \
    grep -qiE 'authenticat|401|unauthori' "$INTEROP_TMP/mount.wrong"
  check "davfs2: ... and keepdav logged the failed login" interop_auth_failure_logged 127.0.0.1
fi

mounted=0
interop_teardown() {
  [[ $mounted -eq 1 ]] || return 0
  # umount.davfs waits for mount.davfs to upload what is dirty, then to exit.
  timeout 30 umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null ||
    fusermount3 -uz "$mnt" 2>/dev/null || true
  mounted=0
}

davfs_version="$(mount.davfs -V 2>&1 | sed -n 1p)"
echo "# $davfs_version, kernel $(uname -r)"
mount_rc=0
timeout 30 mount -t davfs -o "conf=$conf,uid=0,gid=0" "$KEEPDAV_URL" "$mnt" </dev/null \
  >"$INTEROP_TMP/mount.out" 2>&1 || mount_rc=$?
sed 's/^/# mount: /' "$INTEROP_TMP/mount.out"
if [[ $mount_rc -eq 0 ]] && grep -qF " $mnt fuse" /proc/mounts; then
  mounted=1
fi

check "davfs2: mount.davfs mounted the server (exit $mount_rc)" [ "$mounted" -eq 1 ]
if [[ $mounted -eq 1 ]]; then
  mount_checks davfs2 "$mnt" "$root" "$scratch"
  umount_rc=0
  timeout 30 umount "$mnt" >"$INTEROP_TMP/umount.out" 2>&1 || umount_rc=$?
  sed 's/^/# umount: /' "$INTEROP_TMP/umount.out"
  check "davfs2: umount finished cleanly" [ "$umount_rc" -eq 0 ]
  grep -qF " $mnt fuse" /proc/mounts || mounted=0
fi

# What davfs2 sent, from the server's request log.
log="$INTEROP_TMP/server.log"
for method in LOCK UNLOCK PUT MKCOL MOVE DELETE PROPFIND GET; do
  echo "# server saw $(grep -c "keepdav.http: $method " "$log" || true) x $method"
done
check "davfs2: locked the files it wrote (use_locks 1)" grep -q 'keepdav.http: LOCK /renamed.txt' "$log"
# With auth_over.sh, neon sends a session's first request without credentials and answers the
# 401 challenge: those 401s (and the wrong-password mount's) are expected, and counted.
expected_failures="keepdav.http: (PROPFIND|HEAD|GET) .* 404 "
if [[ -n ${KEEPDAV_USER:-} ]]; then
  expected_failures="$expected_failures|keepdav.http: [A-Z]+ .* 401 "
  echo "# server answered $(grep -cE 'keepdav.http: [A-Z]+ .* 401 ' "$log" || true) x 401 (challenges)"
fi
check "davfs2: every request it sent succeeded (no 4xx or 5xx but its existence probes)" \
  bash -c '! grep -E "keepdav.http: [A-Z]+ .* [45][0-9][0-9] [0-9]+us( db=[0-9]+)?$" "$1" |
    grep -vE "$2"' _ "$log" "$expected_failures"
lock_state="$(curl -sS --noproxy '*' --max-time 10 -X PROPFIND -H 'Depth: infinity' \
  "$KEEPDAV_URL" --data-binary \
  '<D:propfind xmlns:D="DAV:"><D:prop><D:lockdiscovery/></D:prop></D:propfind>')"
check "davfs2: no lock is left on the server after umount" \
  bash -c '! grep -q "<D:activelock>" <<<"$1"' _ "$lock_state"

stop_ok=1
interop_stop || stop_ok=0
check "server stops cleanly on SIGTERM" test "$stop_ok" -eq 1
echo "davfs2_mount: $checks checks, $failures not ok"
[[ $failures -eq 0 ]]
