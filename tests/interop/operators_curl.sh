#!/usr/bin/env bash
# Operators (issue 11) against the real binary with curl: the access log (a line per request,
# logrotate's rename + SIGHUP lands the next line in a new file), CORS as a browser would ask
# (preflight without credentials, then the request with them), the --access rules re-read on
# SIGHUP (a broken file keeps the old rules), and the start-up warning for a [user] section that
# --users lacks.
# usage: operators_curl.sh KEEPDAV_BINARY
set -euo pipefail
INTEROP_NAME=operators_curl
source "$(dirname "$0")/lib.sh"
bin="$1"
interop_require_command curl curl
interop_require_command htpasswd apache2-utils
interop_require_done
interop_init

root="$INTEROP_TMP/root"
mkdir -p "$root"
echo hello >"$root/f.txt"
users="$INTEROP_TMP/users"
interop_make_htpasswd "$users" alice secret
rules="$INTEROP_TMP/access.conf"
printf '[anonymous]\nread /\n[authenticated]\nwrite /\n[user carol]\nread /\n' >"$rules"
log="$INTEROP_TMP/access.log"
origin=https://app.keeweb.info
interop_start_with_users "$bin" "$root" "$users" --access="$rules" --access-log="$log" \
  --cors-origins="$origin,app://obsidian.md"
url="$KEEPDAV_URL"

status() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
# The access log is written right after each response: wait for `grep -c PATTERN` to reach N.
wait_lines() { # wait_lines FILE PATTERN N
  local i
  for i in $(seq 100); do
    [[ $(grep -c -- "$2" "$1" 2>/dev/null || true) -ge $3 ]] && return 0
    sleep 0.05
  done
  return 1
}
hup() {
  kill -HUP "$KEEPDAV_PID"
  sleep 0.5
}

check "anonymous GET is 200 under the first rules" [ "$(status "${url}f.txt")" = 200 ]
check "alice's PUT is 201" [ "$(status -u alice:secret -A 'curl-ops/1' -T /etc/hostname "${url}h.txt")" = 201 ]
check "the PUT is logged with the user, status and agent" \
  wait_lines "$log" '^127\.0\.0\.1 - alice \[.* +0000\] "PUT /h\.txt HTTP/1\.1" 201 - "-" "curl-ops/1" [0-9][0-9]*$' 1
check "the anonymous GET is logged with its bytes" \
  wait_lines "$log" '^127\.0\.0\.1 - - \[.*\] "GET /f\.txt HTTP/1\.1" 200 6 ' 1

# logrotate: rename, SIGHUP, the next request goes to a new file of the old name.
mv "$log" "$log.1"
hup
status "${url}after-rotate" >/dev/null || true
check "after rename + SIGHUP the next line lands in a new file" \
  wait_lines "$log" '"GET /after-rotate HTTP/1.1"' 1
check "the rotated file keeps the old lines only" \
  bash -c "grep -q 'PUT /h.txt' '$log.1' && ! grep -q after-rotate '$log.1'"

# CORS as a browser does it: the preflight carries no credentials and is answered at once.
preflight="$(curl -s -i -X OPTIONS -H "Origin: $origin" -H 'Access-Control-Request-Method: PROPFIND' \
  -H 'Access-Control-Request-Headers: authorization, depth' "$url" | tr -d '\r')"
check "preflight is 204 without credentials" grep -q '^HTTP/1.1 204' <<<"$preflight"
check "preflight allows the origin with credentials" \
  grep -qx "Access-Control-Allow-Origin: $origin" <<<"$preflight"
check "preflight allows PROPFIND" grep -q '^Access-Control-Allow-Methods: .*PROPFIND' <<<"$preflight"
check "preflight allows Authorization and Depth" \
  grep -q '^Access-Control-Allow-Headers: Authorization, .*Depth' <<<"$preflight"
actual="$(curl -s -D - -o /dev/null -u alice:secret -X PROPFIND -H 'Depth: 0' -H "Origin: $origin" \
  "$url" | tr -d '\r')"
check "the PROPFIND is 207 with the origin echoed" \
  bash -c "grep -q '^HTTP/1.1 207' <<<'$actual' && grep -qx 'Access-Control-Allow-Origin: $origin' <<<'$actual'"
check "ETag and DAV are exposed to the page" \
  grep -q '^Access-Control-Expose-Headers: DAV, ETag, ' <<<"$actual"
evil="$(curl -s -i -X OPTIONS -H 'Origin: https://evil.example' -H 'Access-Control-Request-Method: PUT' \
  "$url" | tr -d '\r')"
check "a preflight from another origin is 403 without CORS headers" \
  bash -c "grep -q '^HTTP/1.1 403' <<<'$evil' && ! grep -qi '^Access-Control-' <<<'$evil'"
check "and is logged" grep -q "origin 'https://evil.example' is not in --cors-origins" \
  "$INTEROP_TMP/server.log"

# The rules file: warned about carol at start-up, re-read on SIGHUP, a broken one refused.
check "start-up warns about [user carol], naming the line" \
  grep -q "access.conf:5: user 'carol' is not in --users" "$INTEROP_TMP/server.log"
printf '[anonymous]\nnone /\n[authenticated]\nwrite /\n' >"$rules"
hup
check "after SIGHUP anonymous GET is 401" [ "$(status "${url}f.txt")" = 401 ]
check "alice still reads" [ "$(status -u alice:secret "${url}f.txt")" = 200 ]
printf '[anonymous]\nread /\nallow /x\n' >"$rules"
hup
check "a broken rules file is refused with its line" \
  grep -q 'reloading the access rules failed, the old rules stay: .*access.conf:3:' \
  "$INTEROP_TMP/server.log"
check "and the old rules stay" [ "$(status "${url}f.txt")" = 401 ]

check "the server stops cleanly" interop_stop
[[ $failures -eq 0 ]]
