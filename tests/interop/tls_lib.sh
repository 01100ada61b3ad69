# shellcheck shell=bash
# A throw-away certificate authority and server certificates signed by it, made with openssl,
# for the HTTPS tests (tests/server/tls_*_test.cc now, the HTTPS interop tests later). Source it,
# or run it as a command (`bash tls_lib.sh FUNCTION ARG...`, as the C++ tests do):
#
#   tls_make_ca DIR                  DIR/ca.pem (the root to trust: curl --cacert, rclone
#                                    --ca-cert, NODE_EXTRA_CA_CERTS, davfs2 servercert) and
#                                    DIR/ca.key
#   tls_make_server_cert DIR NAME [CN]
#                                    DIR/NAME.pem and DIR/NAME.key: a server certificate for
#                                    localhost, 127.0.0.1 and ::1 (subjectAltName) with subject
#                                    CN (default localhost), signed by DIR/ca.pem
#   tls_make_chain_cert DIR NAME [CN]
#                                    the same, signed by an intermediate CA that is signed by
#                                    DIR/ca.pem; DIR/NAME.pem holds the leaf, then the
#                                    intermediate (the chain a server sends)
#   tls_fingerprint FILE             the SHA-256 fingerprint of the first certificate in FILE
#
# Keys are EC P-256 (fast to make); TLS_KEY_ALG=rsa makes RSA 2048 keys instead. Certificates
# are valid for two days: nothing here is meant to outlive a test run.

TLS_KEY_ALG="${TLS_KEY_ALG:-ec}"

tls__new_key_args() {
  if [[ $TLS_KEY_ALG == rsa ]]; then
    echo "-newkey rsa:2048"
  else
    echo "-newkey ec -pkeyopt ec_paramgen_curve:P-256"
  fi
}

tls_make_ca() {
  local dir=$1
  mkdir -p "$dir"
  # shellcheck disable=SC2046
  openssl req -x509 $(tls__new_key_args) -nodes -days 2 -sha256 \
    -subj "/CN=keepdav test CA $$" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>"$dir/openssl.log"
}

# tls__sign DIR NAME CN ISSUER EXTENSIONS: DIR/NAME.key and DIR/NAME.pem signed by
# DIR/ISSUER.{pem,key}.
tls__sign() {
  local dir=$1 name=$2 cn=$3 issuer=$4 extensions=$5
  # shellcheck disable=SC2046
  openssl req -new $(tls__new_key_args) -nodes -subj "/CN=$cn" \
    -keyout "$dir/$name.key" -out "$dir/$name.csr" 2>>"$dir/openssl.log" &&
    printf '%b\n' "$extensions" >"$dir/$name.ext" &&
    openssl x509 -req -in "$dir/$name.csr" -CA "$dir/$issuer.pem" -CAkey "$dir/$issuer.key" \
      -set_serial "0x$(openssl rand -hex 8)" -days 2 -sha256 -extfile "$dir/$name.ext" \
      -out "$dir/$name.pem" 2>>"$dir/openssl.log" &&
    rm -f "$dir/$name.csr" "$dir/$name.ext"
}

TLS_SERVER_EXTENSIONS='subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth'

tls_make_server_cert() {
  local dir=$1 name=$2 cn=${3:-localhost}
  tls__sign "$dir" "$name" "$cn" ca "$TLS_SERVER_EXTENSIONS"
}

tls_make_chain_cert() {
  local dir=$1 name=$2 cn=${3:-localhost}
  tls__sign "$dir" "$name-intermediate" "keepdav test intermediate $$" ca \
    'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign' &&
    tls__sign "$dir" "$name" "$cn" "$name-intermediate" "$TLS_SERVER_EXTENSIONS" &&
    cat "$dir/$name-intermediate.pem" >>"$dir/$name.pem"
}

tls_fingerprint() {
  openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/^.*=//'
}

# As a command: bash tls_lib.sh FUNCTION ARG...
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  set -euo pipefail
  "$@"
fi
