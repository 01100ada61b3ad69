#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Runs one of the interop tests over HTTPS: the same script, the same client checks, with keepdav
# serving TLS on its port (a throw-away CA and a localhost certificate from tls_lib.sh) and the
# clients told to trust that CA.
#
# usage: tls_over.sh [--system-store] KEEPDAV_BINARY SCRIPT [SCRIPT_ARG...]
#   e.g. tls_over.sh build/server/keepdav litmus.sh basic copymove props locks http
#
# How: SCRIPT gets, in place of the binary, a wrapper that adds --tls-cert/--tls-key; lib.sh's
# interop_start then sets KEEPDAV_URL to https://localhost:PORT/ (KEEPDAV_URL_SCHEME,
# KEEPDAV_URL_HOST). Trust, by environment, for the clients that read one:
#   curl CURL_CA_BUNDLE; Go (rclone) and OpenSSL (Python) SSL_CERT_FILE; Node NODE_EXTRA_CA_CERTS;
#   litmus (neon) does not verify certificates. KEEPDAV_TLS_CA names the CA file for scripts
#   that configure a client themselves (davfs2's trust_ca_cert).
#
# --system-store: for clients that trust only the system store and read no CA setting of their
# own. cadaver's neon is built on GnuTLS here (libneon27-gnutls) and GVfs checks certificates
# through glib-networking's GnuTLS database: both load GnuTLS's compiled-in system trust file,
# /etc/ssl/certs/ca-certificates.crt, and no environment variable changes that (GnuTLS reads no
# SSL_CERT_FILE; G_TLS_GNUTLS_PRIORITY only sets the priority string; glib-networking has no
# OpenSSL module installed here). So SCRIPT runs in a private mount namespace (unshare --mount;
# unshare --user --map-root-user --mount when not root) where a tmpfs over /etc/ssl/certs holds
# the test CA as ca-certificates.crt: only processes of this test see it, nothing on the machine
# changes, and it is gone when the test ends. Within it the clients verify the certificate for
# real (no "accept anyway" answer): the scripts check that no certificate question was asked.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=tls_lib.sh
source "$here/tls_lib.sh"
# shellcheck source=lib.sh
source "$here/lib.sh" # for interop_skip_capability only

system_store=0
if [[ ${1:-} == --system-store ]]; then
  system_store=1
  shift
fi
if [[ $# -lt 2 ]]; then
  echo "usage: $0 [--system-store] KEEPDAV_BINARY SCRIPT [SCRIPT_ARG...]" >&2
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
run=(bash "$here/$script" "$work/keepdav" "$@")
if [[ $system_store -eq 1 ]]; then
  if [[ $(id -u) -eq 0 ]]; then
    namespace=(unshare --mount --propagation private)
  else
    namespace=(unshare --user --map-root-user --mount --propagation private)
  fi
  if ! "${namespace[@]}" true 2>"$work/unshare.err"; then
    # A capability of the machine (a container without CAP_SYS_ADMIN or user namespaces), not a
    # missing package: exit 77 under CI too.
    INTEROP_NAME="$(basename "$script" .sh)_https"
    interop_skip_capability "no private mount namespace for the test CA ($(head -c 200 "$work/unshare.err"))"
  fi
  export KEEPDAV_TLS_SYSTEM_STORE=1
  # unshare execs the shell, so $child is the script's shell itself once the mounts are made.
  run=("${namespace[@]}" bash -c 'mount -t tmpfs -o size=1m,mode=755 keepdav-test-ca /etc/ssl/certs &&
    cp "$1" /etc/ssl/certs/ca-certificates.crt && shift && exec "$@"' _ "$work/ca.pem" "${run[@]}")
  echo "tls_over: the system store (/etc/ssl/certs) holds only the test CA, in a private mount namespace"
fi
# In the background, so a ctest timeout's SIGTERM reaches the trap, which stops the script
# (and through its own trap, its server).
"${run[@]}" &
child=$!
rc=0
wait "$child" || rc=$?
child=""
exit "$rc"
