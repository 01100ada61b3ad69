#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# keepdav behind a reverse proxy that terminates TLS (issue 11, "Behind a reverse proxy"): HAProxy
# and Apache 2.4 mod_proxy_http, each with a certificate from the test's own CA (tls_lib.sh), in
# front of plain-HTTP keepdav started with --trusted-proxies=127.0.0.1/32 and --base-path=/dav,
# the proxy passing only /dav/ (lib.sh's proxy_start_*, the same set-up as processing_proxy.sh's).
# Through each proxy, with a bcrypt user (--users):
#   - litmus, all five suites, at https://localhost:PORT/dav/ with `litmus URL USER PASS`;
#   - COPY (201, then 204 over the copy) and MOVE (201) whose Destination is the public
#     https://localhost:PORT/dav/... URL, which keepdav only knows from X-Forwarded-Proto and
#     X-Forwarded-Host; each looked for on disk. The control: the same MOVE straight to keepdav
#     (no proxy headers) is refused as naming another server, and moves nothing;
#   - the client's address: a wrong password sent from 127.0.0.2 through the proxy (which
#     connects from 127.0.0.1) is logged by keepdav as from 127.0.0.2 (X-Forwarded-For), the
#     authenticator's failed-login line (the one fail2ban reads);
#   - --max-connections-per-client=2 does not apply to the trusted proxy: 6 concurrent PROPFINDs
#     (each at least 1 s, from --test-delay-us) through the proxy all get 207, and keepdav
#     refuses no connection; the control: the same 6 straight from 127.0.0.2 get some refused.
#
# Usage: proxy_tls.sh KEEPDAV_BINARY
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck disable=SC2034 # read by lib.sh
INTEROP_NAME=proxy_tls
# shellcheck source=lib.sh
source "$here/lib.sh"
# shellcheck source=tls_lib.sh
source "$here/tls_lib.sh"

if [[ $# -ne 1 ]]; then
  echo "usage: $0 KEEPDAV_BINARY" >&2
  exit 2
fi
bin="$1"
interop_require_proxies tls
interop_require_command curl curl
interop_require_command litmus litmus
interop_require_command htpasswd apache2-utils
interop_require_command openssl openssl
interop_require_done
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY

interop_init
trap 'proxy_stop; interop_cleanup' EXIT
started=$SECONDS

tls_make_ca "$INTEROP_TMP/tls"
tls_make_server_cert "$INTEROP_TMP/tls" proxy
# Apache reads the key after dropping to www-data only on a graceful restart; -X reads it as root.
export PROXY_TLS_CERT="$INTEROP_TMP/tls/proxy.pem" PROXY_TLS_KEY="$INTEROP_TMP/tls/proxy.key"
export PROXY_PREFIX=/dav
user=kd-bob pass='proxy-Pässwort'
interop_make_htpasswd "$INTEROP_TMP/users" "$user" "$pass"
root="$INTEROP_TMP/root"
mkdir -p "$root"

# curl to the proxy: trusts the test CA, the user's credentials.
pcurl() { curl -sS --max-time 30 --cacert "$INTEROP_TMP/tls/ca.pem" -u "$user:$pass" "$@"; }
status_of() { curl -sS --max-time 30 -o /dev/null -w '%{http_code}\n' "$@" 2>/dev/null || true; }

# concurrent_propfinds LABEL URL [CURL_ARG...]: 6 PROPFINDs at once; prints their statuses sorted.
concurrent_propfinds() {
  local label="$1" url="$2" i
  shift 2
  for i in 1 2 3 4 5 6; do
    status_of --cacert "$INTEROP_TMP/tls/ca.pem" -u "$user:$pass" -X PROPFIND -H 'Depth: 1' \
      "$@" "$url" >"$INTEROP_TMP/$label.$i" &
  done
  wait
  cat "$INTEROP_TMP/$label".? | sort | tr '\n' ' '
}
refusals() { grep -c 'refused a connection from' "$INTEROP_TMP/server.log" || true; }

keepdav_options=(--trusted-proxies=127.0.0.1/32 --base-path=/dav)

run_proxy() { # run_proxy haproxy|apache
  local name="$1" t0=$SECONDS
  note "---- $name ----"
  interop_start_with_users "$bin" "$root" "$INTEROP_TMP/users" "${keepdav_options[@]}"
  PROXY_RUN="$name-litmus"
  proxy_with_free_port "proxy_start_$name"
  local url="$PROXY_URL"

  check "$name: a path outside the prefix is not passed to keepdav (404)" \
    [ "$(status_of --cacert "$INTEROP_TMP/tls/ca.pem" "https://localhost:$PROXY_PORT/other")" = 404 ]

  # litmus through the proxy, with the user.
  local log="$INTEROP_TMP/$name-litmus.log" litmus_rc=0
  (cd "$INTEROP_TMP" && TESTS="basic copymove props locks http" \
    interop_run_client "$log" litmus -k "$url" "$user" "$pass") || litmus_rc=$?
  sed 's/.*\r//' "$log" >"$log.txt"
  note "$name: litmus took $((SECONDS - t0)) s"
  grep -E '^<- summary|FAIL' "$log.txt" | sed "s/^/# $name litmus: /" || true
  check "$name: litmus, all five suites, through the TLS proxy with a user (exit $litmus_rc)" \
    litmus_verdict "$log.txt" basic copymove props locks http

  # COPY and MOVE whose Destination is the public https URL.
  printf 'through the proxy\n' >"$INTEROP_TMP/a.txt"
  check "$name: PUT through the proxy is 201" \
    [ "$(status_of --cacert "$INTEROP_TMP/tls/ca.pem" -u "$user:$pass" -T "$INTEROP_TMP/a.txt" "${url}a.txt")" = 201 ]
  check "$name: COPY to the public https Destination is 201" \
    [ "$(status_of --cacert "$INTEROP_TMP/tls/ca.pem" -u "$user:$pass" -X COPY \
      -H "Destination: ${url}copy.txt" "${url}a.txt")" = 201 ]
  check "$name: ... the copy is on disk" cmp -s "$INTEROP_TMP/a.txt" "$root/copy.txt"
  printf 'second version\n' >"$root/a.txt"
  check "$name: COPY over the existing copy is 204" \
    [ "$(status_of --cacert "$INTEROP_TMP/tls/ca.pem" -u "$user:$pass" -X COPY \
      -H "Destination: ${url}copy.txt" "${url}a.txt")" = 204 ]
  check "$name: ... the copy holds the new bytes" cmp -s "$root/a.txt" "$root/copy.txt"
  check "$name: MOVE to the public https Destination is 201" \
    [ "$(status_of --cacert "$INTEROP_TMP/tls/ca.pem" -u "$user:$pass" -X MOVE \
      -H "Destination: ${url}moved%20here.txt" "${url}copy.txt")" = 201 ]
  check "$name: ... moved on disk" test -f "$root/moved here.txt" -a ! -e "$root/copy.txt"
  # The control: straight to keepdav, the public URL is another server's.
  local direct
  direct="$(status_of -u "$user:$pass" -X MOVE -H "Destination: ${url}elsewhere.txt" \
    "http://127.0.0.1:$KEEPDAV_PORT/dav/a.txt")"
  check "$name: control: the same MOVE straight to keepdav is refused ($direct), nothing moved" \
    bash -c '[[ $1 == 502 || $1 == 403 ]] && [[ -f $2/a.txt && ! -e $2/elsewhere.txt ]]' _ \
    "$direct" "$root"

  # The client's address from X-Forwarded-For: a wrong password from 127.0.0.2.
  check "$name: a wrong password from 127.0.0.2 through the proxy is 401" \
    [ "$(status_of --interface 127.0.0.2 --cacert "$INTEROP_TMP/tls/ca.pem" \
      -u "$user:wrong" "${url}a.txt")" = 401 ]
  check "$name: keepdav logged the failed login from 127.0.0.2, the proxy's X-Forwarded-For" \
    grep -qF "authentication failed for user \"$user\" from 127.0.0.2" "$INTEROP_TMP/server.log"
  proxy_stop
  interop_stop
  rm -rf "${root:?}"/*

  # The per-address connection cap does not apply to the trusted proxy.
  mkdir -p "$root/slow"
  for i in $(seq 1 10); do printf '%s\n' "$i" >"$root/slow/f$i.txt"; done
  interop_start_with_users "$bin" "$root" "$INTEROP_TMP/users" "${keepdav_options[@]}" \
    --max-connections-per-client=2 --test-delay-us=100000
  PROXY_RUN="$name-cap"
  proxy_with_free_port "proxy_start_$name"
  local through t1=$SECONDS
  through="$(concurrent_propfinds "$name-through" "${PROXY_URL}slow/")"
  note "$name: 6 concurrent PROPFINDs through the proxy in $((SECONDS - t1)) s: $through"
  check "$name: 6 concurrent PROPFINDs through the proxy (cap 2) all get 207" \
    [ "$through" = "207 207 207 207 207 207 " ]
  check "$name: ... and keepdav refused no connection" [ "$(refusals)" = 0 ]
  local straight
  straight="$(concurrent_propfinds "$name-straight" "http://127.0.0.1:$KEEPDAV_PORT/dav/slow/" \
    --interface 127.0.0.2)"
  note "$name: the same 6 straight from 127.0.0.2: $straight"
  check "$name: control: straight from one untrusted address the cap refuses some" \
    bash -c '[[ $(refusals) -gt 0 && $1 == *000* ]]' _ "$straight"
  proxy_stop
  interop_stop
  rm -rf "${root:?}"/*
  note "$name: $((SECONDS - t0)) s"
}
export -f refusals
export INTEROP_TMP

run_proxy haproxy
run_proxy apache

note "run time $((SECONDS - started)) s"
echo "proxy_tls: $checks checks, $failures not ok"
[[ $failures -eq 0 ]]
