#!/usr/bin/env bash
# Authentication against the real binary with curl (issue 11): a user made with Apache's
# htpasswd (bcrypt), the 401 challenge, OPTIONS without credentials, SIGHUP reload, and a bad
# users file refused at start-up with its line (exit 78).
# usage: auth_curl.sh KEEPDAV_BINARY
set -euo pipefail
INTEROP_NAME=auth_curl
source "$(dirname "$0")/lib.sh"
bin="$1"
interop_require_command curl curl
interop_require_command htpasswd apache2-utils
interop_require_done
interop_init

root="$INTEROP_TMP/root"
mkdir -p "$root"
users="$INTEROP_TMP/users"
interop_make_htpasswd "$users" alice 'pä ss:1'
interop_start_with_users "$bin" "$root" "$users"
url="$KEEPDAV_URL"

status() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
challenge() {
  curl -s -D - -o /dev/null -X PROPFIND -H 'Depth: 0' "$url" | tr -d '\r' |
    grep -qx 'WWW-Authenticate: Basic realm="keepdav", charset="UTF-8"'
}

check "PROPFIND without credentials is 401" [ "$(status -X PROPFIND -H 'Depth: 0' "$url")" = 401 ]
check "the 401 carries the Basic challenge" challenge
check "OPTIONS without credentials is 200" [ "$(status -X OPTIONS "$url")" = 200 ]
check "wrong password is 401" [ "$(status -u 'alice:nope' "$url")" = 401 ]
check "PUT with the htpasswd user is 201" \
  [ "$(status -u 'alice:pä ss:1' -T /etc/hostname "${url}hostname.txt")" = 201 ]
check "the file is on disk" cmp -s /etc/hostname "$root/hostname.txt"
check "PROPFIND with the user is 207" \
  [ "$(status -u 'alice:pä ss:1' -X PROPFIND -H 'Depth: 1' "$url")" = 207 ]
check "the failed login is logged for fail2ban" \
  grep -q 'keepdav: authentication failed for user "alice" from 127.0.0.1' "$INTEROP_TMP/server.log"

# A changed password after SIGHUP: the new one works and the old one stops at once.
interop_make_htpasswd "$users" alice 'second'
kill -HUP "$KEEPDAV_PID"
sleep 0.5
check "after SIGHUP the old password is 401" [ "$(status -u 'alice:pä ss:1' "$url")" = 401 ]
check "after SIGHUP the new password is 200" [ "$(status -u 'alice:second' "$url")" = 200 ]
interop_stop

# A plain-text line is refused at start-up with file:line and exit 78.
printf 'bob:plaintext\n' >>"$users"
rc=0
"$bin" --root="$root" --db="$INTEROP_TMP/props.db" --port=0 --users="$users" \
  </dev/null >"$INTEROP_TMP/bad.log" 2>&1 || rc=$?
check "a bad users file exits 78" [ "$rc" = 78 ]
check "the message names the line" grep -q "users:2" "$INTEROP_TMP/bad.log"
note "$checks checks, $failures failures"
[[ $failures -eq 0 ]]
