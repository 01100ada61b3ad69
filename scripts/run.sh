#!/usr/bin/env bash
# Builds keepdav (Release, no tests) and serves sample-data/ at
# http://127.0.0.1:8080/. Extra arguments go to the server, e.g.
#   bash scripts/run.sh --read-only
#   bash scripts/run.sh --port=9000 --root=/srv/dav
# (a later --root/--port overrides the defaults given here).
#   bash scripts/run.sh --tls
# serves HTTPS instead, at https://localhost:8080/, with a self-signed certificate for
# localhost, 127.0.0.1 and ::1 that it makes once with openssl and keeps in
# ${XDG_STATE_HOME:-~/.local/state}/keepdav/tls/ (made again when it expires within a day);
# the README's "HTTPS" section shows how to make each client trust it.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# --tls: the self-signed certificate, made once (a block of its own: the rest of this script
# does not depend on it).
scheme=http
tls_args=()
args=()
for arg in "$@"; do
  if [[ $arg == --tls ]]; then scheme=https; else args+=("$arg"); fi
done
if [[ $scheme == https ]]; then
  tls_dir="${XDG_STATE_HOME:-$HOME/.local/state}/keepdav/tls"
  tls_cert="$tls_dir/localhost.pem"
  tls_key="$tls_dir/localhost.key"
  if ! command -v openssl >/dev/null 2>&1; then
    echo "run: --tls needs openssl to make the certificate (apt-get install openssl)" >&2
    exit 1
  fi
  if ! openssl x509 -in "$tls_cert" -noout -checkend 86400 >/dev/null 2>&1 || [[ ! -s $tls_key ]]; then
    mkdir -p "$tls_dir"
    chmod 700 "$tls_dir"
    # 825 days: the longest validity macOS accepts for a TLS server certificate.
    (umask 077 && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
      -days 825 -sha256 -subj "/CN=localhost" \
      -addext "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1" \
      -addext "basicConstraints=critical,CA:FALSE" \
      -addext "keyUsage=critical,digitalSignature" \
      -addext "extendedKeyUsage=serverAuth" \
      -keyout "$tls_key" -out "$tls_cert" 2>/dev/null)
    chmod 644 "$tls_cert"  # public: clients are given it to trust
    echo "run: made a self-signed certificate for localhost: $tls_cert"
  fi
  tls_args=(--tls-cert="$tls_cert" --tls-key="$tls_key")
  echo "run: trust it with e.g. curl --cacert $tls_cert https://localhost:8080/ (README: HTTPS)"
fi

bash scripts/install-deps.sh build
# build-run/, not build/: scripts/test.sh builds RelWithDebInfo with the tests in build/, and
# sharing one folder made each script rebuild everything after the other.
cmake -S . -B build-run -DCMAKE_BUILD_TYPE=Release -DKEEPDAV_TESTS=OFF
cmake --build build-run -j"$(nproc)"

host=127.0.0.1
[[ $scheme == https ]] && host=localhost
# The defaults only where the caller did not choose: Poco refuses an option given twice.
defaults=()
[[ " ${args[*]} " == *" --root="* ]] || defaults+=(--root=sample-data)
port=8080
for arg in "${args[@]}"; do [[ $arg == --port=* ]] && port=${arg#--port=}; done
[[ " ${args[*]} " == *" --port="* ]] || defaults+=(--port=8080)
echo "run: serving at $scheme://$host:$port/ (Ctrl-C stops)"
exec build-run/server/keepdav "${defaults[@]}" "${tls_args[@]}" "${args[@]}"
