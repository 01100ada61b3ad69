#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Runs one of the interop tests over HTTPS: the same script, the same client checks, with keepdav
# serving TLS on its port (a throw-away CA and a localhost certificate from tls_lib.sh) and the
# clients told to trust that CA.
#
# usage: tls_over.sh KEEPDAV_BINARY SCRIPT [SCRIPT_ARG...]
#   e.g. tls_over.sh build/server/keepdav litmus.sh basic copymove props locks http
#
# How: SCRIPT gets, in place of the binary, a wrapper that adds --tls-cert/--tls-key; lib.sh's
# interop_start then sets KEEPDAV_URL to https://localhost:PORT/ (KEEPDAV_URL_SCHEME,
# KEEPDAV_URL_HOST). Trust, by environment, for the clients that read one:
#   curl CURL_CA_BUNDLE; Go (rclone) and OpenSSL (Python) SSL_CERT_FILE; Node NODE_EXTRA_CA_CERTS;
#   litmus (neon) does not verify certificates. KEEPDAV_TLS_CA names the CA file for scripts
#   that configure a client themselves (davfs2's trust_ca_cert).
# cadaver and GVfs trust only the system store, so their scripts are not run through this.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=tls_lib.sh
source "$here/tls_lib.sh"

if [[ $# -lt 2 ]]; then
  echo "usage: $0 KEEPDAV_BINARY SCRIPT [SCRIPT_ARG...]" >&2
  exit 2
fi
bin="$(readlink -f "$1")"
script="$2"
shift 2

work="$(mktemp -d "${TMPDIR:-/tmp}/keepdav-tls-over.XXXXXX")"
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

tls_make_ca "$work"
tls_make_server_cert "$work" server
cat >"$work/keepdav" <<WRAPPER
#!/usr/bin/env bash
exec '$bin' --tls-cert='$work/server.pem' --tls-key='$work/server.key' "\$@"
WRAPPER
chmod +x "$work/keepdav"

export KEEPDAV_URL_SCHEME=https KEEPDAV_URL_HOST=localhost
export KEEPDAV_TLS_CA="$work/ca.pem"
export CURL_CA_BUNDLE="$work/ca.pem" SSL_CERT_FILE="$work/ca.pem" NODE_EXTRA_CA_CERTS="$work/ca.pem"
echo "tls_over: running $script over HTTPS (CA $work/ca.pem)"
# In the background, so a ctest timeout's SIGTERM reaches the trap, which stops the script
# (and through its own trap, its server).
bash "$here/$script" "$work/keepdav" "$@" &
child=$!
rc=0
wait "$child" || rc=$?
child=""
exit "$rc"
