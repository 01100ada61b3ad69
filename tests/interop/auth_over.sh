#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Runs one of the interop tests against keepdav with --users (issue 11): the same script, the
# same client checks, with every request authenticated as a bcrypt user that Apache's htpasswd
# made (lib.sh's interop_make_htpasswd), and the client given the credentials the way its users
# give them (davfs2 a secrets file, rclone `rclone obscure`, cadaver ~/.netrc, the webdav npm
# client its options, gio mount the password on stdin, litmus `litmus URL USER PASS`). Each
# script, seeing KEEPDAV_USER, also checks that its client with a wrong password fails cleanly
# (an error, nothing written, the failure in keepdav's log).
#
# usage: auth_over.sh KEEPDAV_BINARY SCRIPT [SCRIPT_ARG...]
#   e.g. tls_over.sh build/server/keepdav auth_over.sh litmus.sh basic copymove props locks http
# (composes with tls_over.sh, which runs this with its own TLS wrapper as the binary).
#
# SCRIPT gets, in place of the binary, a wrapper that adds --users=FILE; exported for it:
#   KEEPDAV_USER, KEEPDAV_PASS   the user and password (non-ASCII: keepdav's challenge says
#                                charset="UTF-8"; litmus, davfs2, rclone and cadaver send UTF-8)
#   KEEPDAV_USERS_FILE           the htpasswd file
# Measured: the webdav npm package (5.x, through its base-64 dependency) and GVfs (libsoup 3.2)
# encode "user:password" as ISO-8859-1 whatever the charset, so "ä" goes out as the byte 0xE4;
# keepdav reads credentials that are not UTF-8 as ISO-8859-1 (server/basic_credentials.h), and
# their tests log in with this same non-ASCII password.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck disable=SC2034 # read by lib.sh
INTEROP_NAME="auth_over"
# shellcheck source=lib.sh
source "$here/lib.sh"

if [[ $# -lt 2 ]]; then
  echo "usage: $0 KEEPDAV_BINARY SCRIPT [SCRIPT_ARG...]" >&2
  exit 2
fi
bin="$(readlink -f "$1")"
shift
password='Pässwort-42'
script="$1"
shift
interop_require_command htpasswd apache2-utils
interop_require_done

work="$(mktemp -d "${TMPDIR:-/tmp}/keepdav-auth-over.XXXXXX")"
chmod 755 "$work" # mount.davfs and Apache read nothing here, but a dropped daemon may stat it
child=""
cleanup() {
  local rc=$?
  if [[ -n $child ]]; then
    kill -TERM "$child" 2>/dev/null || true
    wait "$child" 2>/dev/null || true
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

export KEEPDAV_USER=kd-alice KEEPDAV_PASS="$password"
export KEEPDAV_USERS_FILE="$work/users"
interop_make_htpasswd "$KEEPDAV_USERS_FILE" "$KEEPDAV_USER" "$KEEPDAV_PASS"
cat >"$work/keepdav" <<WRAPPER
#!/usr/bin/env bash
exec '$bin' --users='$KEEPDAV_USERS_FILE' "\$@"
WRAPPER
chmod +x "$work/keepdav"
echo "auth_over: running $script with --users (user $KEEPDAV_USER, bcrypt by htpasswd)"
bash "$here/$script" "$work/keepdav" "$@" &
child=$!
rc=0
wait "$child" || rc=$?
child=""
exit "$rc"
