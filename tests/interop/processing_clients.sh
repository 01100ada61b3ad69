#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# 102 Processing against real clients (issue 4): under --processing=auto each client completes a
# long COPY of a tree served by the real binary, and gets the interim responses it can take.
#
#   curl -v        any number of 102s: at least 5 arrive before the final 201, their
#                  Keepdav-Resources-Done values grow, and the server counted as many
#   cadaver        neon takes up to 127 interim responses: `copy` succeeds, the copy on disk is
#                  whole, the server log shows 102s sent to it
#   Node           http.request counts 'information' events (at least 5, final 201); fetch
#                  (undici) completes a COPY the server sent 102s to
#   rclone         Go's net/http before 1.24 aborts after more than 5 interim responses: a
#                  server-side COPY that lasts long enough for 12 completes, with at most 5 sent;
#                  with --processing=always the same COPY fails as Go's limit says it must
#   Python         http.client without User-Agent and requests (python-requests/X.Y) get no 102:
#                  the COPY answers 201 and the next request on the same connection gets its own
#                  answer
#
# The tree is 10 folders x 40 tiny files; --test-delay-us=3000 makes every listed member and
# every copied file sleep 3 ms, so a COPY lasts at least 810 x 3 ms = 2.43 s on any machine, while
# 102s are due every 200 ms after the first 200 ms: at least 12 per COPY. The checks ask for 5, so
# a slow, loaded machine (longer COPYs) only adds margin; with few files the sleeps, not the CPU,
# make up most of the time, so the run stays short on a loaded machine too. rclone copies one file
# (its webdav backend has no server-side directory copy), so a second server run with
# --test-delay-us=2500000 makes that single COPY last at least 2.5 s: at least 12 102s due.
#
# A hang-up: curl gives up 1 s into the same COPY; the server must notice and cancel it.
#
# Over HTTPS (tls_over.sh --system-store, test processing_clients_https) every client above runs
# the same checks over TLS, trusting the test CA: curl CURL_CA_BUNDLE, Node NODE_EXTRA_CA_CERTS,
# Python SSL_CERT_FILE (requests: KEEPDAV_TLS_CA), rclone (Go) SSL_CERT_FILE, cadaver (neon on
# GnuTLS) the private system store. The 102s and the final answer then share one SSL* between
# the watcher and the request's thread (the InterimGate orders them).
#
# Usage: processing_clients.sh KEEPDAV_BINARY
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck disable=SC2034 # read by lib.sh
INTEROP_NAME=processing_clients
# shellcheck source=lib.sh
source "$here/lib.sh"

if [[ $# -ne 1 ]]; then
  echo "usage: $0 KEEPDAV_BINARY" >&2
  exit 2
fi
bin="$1"

# CTest's SKIP_RETURN_CODE (under CI=true a failure): scripts/install-deps.sh test installs all.
interop_require_command curl curl
interop_require_command cadaver cadaver
interop_require_command node nodejs
interop_require_command rclone rclone
interop_require_command python3 python3
interop_require_done
# Every client talks to 127.0.0.1 directly.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY

interop_init
root="$INTEROP_TMP/root"
mkdir -p "$root/rc" "$INTEROP_TMP/home"
python3 - "$root/src" <<'PY'
import os, sys
for d in range(10):
    os.makedirs(f"{sys.argv[1]}/d{d}")
    for f in range(40):
        with open(f"{sys.argv[1]}/d{d}/f{f}.txt", "w") as fh:
            fh.write(f"{d}/{f}\n")
PY
# 16 MiB: keepdav treats a COPY of a file this large as long (DavHandler::MayRunLong).
head -c 16777216 /dev/urandom >"$root/rc/one.bin"
tree_files=400
tree_dirs=11

checks=0 failures=0

# Server log lines for one long operation ("long COPY /src: N resources, T s, K x 102, status S").
# The clients run one after another, so the line written after a mark belongs to the client run
# since. The line is written just after the final response went out: wait a little for it.
log_mark() { wc -l <"$INTEROP_TMP/server.log"; }
long_line() { # long_line MARK PATH
  local mark="$1" path="$2" line deadline=$((SECONDS + 3))
  while :; do
    line="$(tail -n +"$((mark + 1))" "$INTEROP_TMP/server.log" |
      grep -F "long COPY $path: " | tail -n 1 || true)"
    if [[ -n "$line" ]]; then
      echo "$line"
      return 0
    fi
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}
resources_in() { sed -n 's/.*: \([0-9][0-9]*\) resources, .*/\1/p' <<<"$1"; }
interim_in() { sed -n 's/.*, \([0-9][0-9]*\) x 102, .*/\1/p' <<<"$1"; }
status_in() { sed -n 's/.*, status \([0-9][0-9]*\).*/\1/p' <<<"$1"; }
seconds_in() { sed -n 's/.* resources, \([0-9.][0-9.]*\) s, .*/\1/p' <<<"$1"; }
between() { [[ -n "$1" && "$1" -ge "$2" && "$1" -le "$3" ]]; } # between VALUE MIN MAX

# The copy on disk is whole and equal to the source.
copy_is_whole() { # copy_is_whole DIR
  [[ "$(find "$root/$1" -type f | wc -l)" -eq $tree_files &&
    "$(find "$root/$1" -type d | wc -l)" -eq $tree_dirs ]] &&
    diff -r -q "$root/src" "$root/$1" >/dev/null
}
not_in_file() { ! grep -qiE "$1" "$2"; } # not_in_file REGEX FILE
eventually_true() { # eventually_true COMMAND...: true within 5 s
  local deadline=$((SECONDS + 5))
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}
no_staging_left() { [[ -z "$(find "$root" -name '.keepdav-*' -print -quit)" ]]; }
json_field() { # json_field JSON EXPRESSION: EXPRESSION over `r`, printed by Python
  python3 -c 'import json,sys; r=json.loads(sys.argv[1]); v=eval(sys.argv[2]); print(json.dumps(v) if isinstance(v,(list,dict,bool)) or v is None else v)' "$1" "$2"
}
increasing() { # increasing N...: non-decreasing (two 102s sent back to back may carry the same
  # value on a loaded machine) and the last larger than the first
  local prev=-1 first="$1" last
  for last in "$@"; do
    [[ "$last" -ge "$prev" ]] || return 1
    prev="$last"
  done
  [[ "$last" -gt "$first" ]]
}

started=$SECONDS
interop_start "$bin" "$root" --test-delay-us=3000 --processing-first-ms=200 \
  --processing-interval-ms=200
url="${KEEPDAV_URL%/}"

# ---- curl -v ---------------------------------------------------------------------------------
note "curl $(curl --version | sed -n 1p | cut -d' ' -f2): COPY /src -> /dst-curl"
mark="$(log_mark)"
interop_run_client "$INTEROP_TMP/curl.trace" curl -sS -v --max-time 60 -X COPY \
  -H "Destination: $url/dst-curl" -o "$INTEROP_TMP/curl.body" "$url/src" || true
mapfile -t status_lines < <(grep -E '^< HTTP/' "$INTEROP_TMP/curl.trace" || true)
curl_interim="$(grep -c '^< HTTP/1.1 102 Processing' "$INTEROP_TMP/curl.trace" || true)"
curl_final="${status_lines[${#status_lines[@]}-1]:-none}"
mapfile -t curl_done < <(sed -n 's/^< Keepdav-Resources-Done: \([0-9]*\).*/\1/p' \
  "$INTEROP_TMP/curl.trace")
curl_total="$(grep -c '^< Keepdav-Resources-Total:' "$INTEROP_TMP/curl.trace" || true)"
note "curl saw $curl_interim x 102, then '${curl_final%$'\r'}'"
note "curl Keepdav-Resources-Done: ${curl_done[*]:-none}"
note "curl 102s with Keepdav-Resources-Total: $curl_total of $curl_interim"
line="$(long_line "$mark" /src || true)"
note "server: ${line:-no log line}"
check "curl: final response 201 Created" [ "${curl_final%$'\r'}" == "< HTTP/1.1 201 Created" ]
check "curl: at least 5 x 102 Processing" between "$curl_interim" 5 100000
check "curl: every 102 came before the final response" \
  [ "$((${#status_lines[@]} - 1))" -eq "$curl_interim" ]
check "curl: every 102 carries Keepdav-Resources-Done" [ "${#curl_done[@]}" -eq "$curl_interim" ]
check "curl: Keepdav-Resources-Done grows" increasing "${curl_done[@]:-0}"
check "curl: the server counted the 102s curl saw" [ "$(interim_in "$line")" == "$curl_interim" ]
check "curl: the copy on disk is whole" copy_is_whole dst-curl

# ---- cadaver (neon) --------------------------------------------------------------------------
# cadaver reads commands from stdin and exits 0 even when a command failed: its output decides.
note "cadaver: copy src dst-cadaver"
printf 'copy src dst-cadaver\nquit\n' >"$INTEROP_TMP/cadaver.in"
mark="$(log_mark)"
cadaver_rc=0
HOME="$INTEROP_TMP/home" timeout 90 cadaver "$url/" <"$INTEROP_TMP/cadaver.in" \
  >"$INTEROP_TMP/cadaver.out" 2>&1 &
INTEROP_CLIENT_PID=$!
wait "$INTEROP_CLIENT_PID" || cadaver_rc=$?
INTEROP_CLIENT_PID=""
sed 's/^/# cadaver: /' "$INTEROP_TMP/cadaver.out"
line="$(long_line "$mark" /src || true)"
note "server: ${line:-no log line}"
check "cadaver: exited 0" [ "$cadaver_rc" -eq 0 ]
check "cadaver: copy succeeded" grep -qF "Copying \`/src' to \`/dst-cadaver':  succeeded." \
  "$INTEROP_TMP/cadaver.out"
check "cadaver: no failure reported" not_in_file 'failed|interim|error' "$INTEROP_TMP/cadaver.out"
check "cadaver: the server sent it at least 5 x 102 (neon takes up to 127)" \
  between "$(interim_in "$line")" 5 127
check "cadaver: the server answered 201" [ "$(status_in "$line")" == 201 ]
check "cadaver: the copy on disk is whole" copy_is_whole dst-cadaver

# ---- Node: http.request and fetch ------------------------------------------------------------
node_version="$(node --version)"
note "node $node_version http.request (User-Agent node/$node_version): COPY /src -> /dst-node"
mark="$(log_mark)"
interop_run_client "$INTEROP_TMP/node.out" node "$here/processing_copy_client.js" http \
  "$url/src" "$url/dst-node" "node/$node_version" || true
node_json="$(tail -n 1 "$INTEROP_TMP/node.out")"
node_status="$(json_field "$node_json" 'r["status"]' 2>/dev/null || echo none)"
node_interim="$(json_field "$node_json" 'sum(1 for i in r["interim"] if i["status"] == 102)' \
  2>/dev/null || echo 0)"
mapfile -t node_done < <(json_field "$node_json" \
  '"\n".join(str(i["done"]) for i in r["interim"])' 2>/dev/null || true)
line="$(long_line "$mark" /src || true)"
note "node saw $node_interim 'information' events (102), then $node_status"
note "node Keepdav-Resources-Done: ${node_done[*]:-none}"
note "server: ${line:-no log line}"
check "node http.request: final status 201" [ "$node_status" == 201 ]
check "node http.request: at least 5 interim 102s" between "$node_interim" 5 100000
check "node http.request: Keepdav-Resources-Done grows" increasing "${node_done[@]:-0}"
check "node http.request: the server counted the 102s node saw" \
  [ "$(interim_in "$line")" == "$node_interim" ]
check "node http.request: the copy on disk is whole" copy_is_whole dst-node

note "node $node_version fetch (undici, User-Agent node): COPY /src -> /dst-fetch"
mark="$(log_mark)"
interop_run_client "$INTEROP_TMP/fetch.out" node "$here/processing_copy_client.js" fetch \
  "$url/src" "$url/dst-fetch" || true
fetch_status="$(json_field "$(tail -n 1 "$INTEROP_TMP/fetch.out")" 'r["status"]' 2>/dev/null ||
  echo none)"
line="$(long_line "$mark" /src || true)"
note "fetch got $fetch_status; server: ${line:-no log line}"
check "node fetch: final status 201 after the 102s" [ "$fetch_status" == 201 ]
check "node fetch: the server sent it at least 5 x 102" between "$(interim_in "$line")" 5 100000
check "node fetch: the copy on disk is whole" copy_is_whole dst-fetch

# ---- Python: http.client without User-Agent, requests ---------------------------------------
for client in http.client requests; do
  dst="dst-python-${client%.client}"
  note "python $client: COPY /src -> /$dst, then PROPFIND /$dst on the same connection"
  mark="$(log_mark)"
  t0=$SECONDS
  interop_run_client "$INTEROP_TMP/python.out" python3 "$here/processing_copy_client.py" \
    "$client" "$url/src" "$url/$dst" || true
  took=$((SECONDS - t0))
  py_json="$(tail -n 1 "$INTEROP_TMP/python.out")"
  note "python: $py_json"
  field() { json_field "$py_json" "r[\"$1\"]" 2>/dev/null || echo none; }
  if [[ "$(field emulated)" == true ]]; then
    note "requests is not installed: http.client with User-Agent python-requests/2.31 stands in"
  fi
  check "python $client: the COPY answered 201 (a 102 would read as the final answer)" \
    [ "$(field copy_status)" == 201 ]
  check "python $client: the next request on the connection got its own 207" \
    [ "$(field next_status)" == 207 ]
  check "python $client: ... and it names the destination" \
    [ "$(field next_names_destination)" == true ]
  check "python $client: both requests went over one connection" \
    [ "$(field same_connection)" == true ]
  check "python $client: the copy on disk is whole" copy_is_whole "$dst"
  # Issue 4: "one log line per long operation ... 102s sent, outcome" — also for a client that
  # is sent none; it is the only server-side record that the policy held.
  line="$(long_line "$mark" /src || true)"
  note "server: ${line:-no log line} (COPY and PROPFIND took about $took s)"
  if [[ -z "$line" ]]; then
    echo "# FAIL: keepdav wrote no 'long COPY' log line for a COPY of >= 2.4 s by a client that"
    echo "#       gets no 102 (server/http_adapter.cc logs only inside RunLong, which runs only"
    echo "#       when allowed != 0); issue 4 asks for one log line per long operation"
  fi
  check "python $client: the server logged the long COPY with 0 x 102" \
    [ "$(interim_in "$line")" == 0 ]
done

# ---- hang-up: curl gives up 1 s into the COPY ------------------------------------------------
# The watcher polls the connection (POLLRDHUP; over TLS the same descriptor under the records) and
# cancels the COPY, which rolls back: the log says so, well before the 2.43 s the COPY needs.
note "curl --max-time 1: COPY /src -> /dst-hangup, then hangs up"
mark="$(log_mark)"
interop_run_client "$INTEROP_TMP/hangup.trace" curl -sS -v --max-time 1 -X COPY \
  -H "Destination: $url/dst-hangup" -o /dev/null "$url/src" || true
line="$(long_line "$mark" /src || true)"
note "server: ${line:-no log line}"
check "hang-up: the server noticed and cancelled the COPY" \
  grep -qF ", client hung up (cancelled)" <<<"$line"
# "Before the COPY could have ended" is proved by the count, not the clock: the cancelled COPY had
# done fewer than the tree's $((tree_files + tree_dirs)) resources. A seconds bound failed on a
# loaded machine (2.07 s for 142 resources at a load average of 20) with the watcher working.
check "hang-up: ... before the COPY could have ended (fewer resources done than the tree holds)" \
  between "$(resources_in "$line")" 1 $((tree_files + tree_dirs - 1))
check "hang-up: nothing of the cancelled copy is left" \
  eventually_true test ! -e "$root/dst-hangup"
if [[ ${KEEPDAV_URL_SCHEME:-http} == https ]]; then
  check "HTTPS: the clients above spoke TLS (curl's trace)" \
    grep -qE '^\* SSL connection using TLSv1\.[23]' "$INTEROP_TMP/curl.trace"
fi

check "no staging names left in the root" no_staging_left
interop_stop

# ---- rclone (Go net/http) --------------------------------------------------------------------
# rclone's webdav backend copies server-side file by file, so its COPY is one file: a second run
# of the server makes that file's copy last at least 2.5 s (12 x 102 due at 200 ms) with
# --test-delay-us. The remote is /rc/, which holds only that file, so the listings rclone does
# stay short.
export RCLONE_CONFIG="$INTEROP_TMP/rclone.conf"
rclone_go="$(rclone version 2>/dev/null | sed -n 's/.*go[/ ]version: go\([0-9.]*\).*/\1/p')"
rclone_version="$(rclone version 2>/dev/null | sed -n 1p)"
rclone_copy() { # rclone_copy DEST LOG: rclone copyto kd:one.bin kd:DEST, no retries
  printf '[kd]\ntype = webdav\nurl = %s\nvendor = other\n' "${KEEPDAV_URL}rc/" >"$RCLONE_CONFIG"
  interop_run_client "$2" timeout 60 rclone copyto kd:one.bin "kd:$1" -v --retries 1 \
    --low-level-retries 1 --timeout 30s
}
note "$rclone_version (go $rclone_go): rclone copyto kd:one.bin kd:one-copy.bin"
interop_start "$bin" "$root" --test-delay-us=2500000 --processing-first-ms=200 \
  --processing-interval-ms=200
mark="$(log_mark)"
rclone_rc=0
rclone_copy one-copy.bin "$INTEROP_TMP/rclone.out" || rclone_rc=$?
sed 's/^/# rclone: /' "$INTEROP_TMP/rclone.out" | grep -v '^# rclone: *$' || true
line="$(long_line "$mark" /rc/one.bin || true)"
note "server: ${line:-no log line}"
check "rclone: copyto exited 0" [ "$rclone_rc" -eq 0 ]
check "rclone: the copy on disk equals the source" cmp -s "$root/rc/one.bin" "$root/rc/one-copy.bin"
check "rclone: the server answered its COPY 201" [ "$(status_in "$line")" == 201 ]
check "rclone: 102s flowed, at most 5 (Go before 1.24 aborts after 5)" \
  between "$(interim_in "$line")" 1 5
check "rclone: the COPY lasted long enough for 12 x 102 (so the cap did the work)" \
  python3 -c 'import sys; sys.exit(0 if float(sys.argv[1] or 0) >= 2.5 else 1)' \
  "$(seconds_in "$line")"
interop_stop

# Control: the same COPY with --processing=always. Go before 1.24 must give up at the 6th 102
# ("too many 1xx informational responses"); a newer Go has no such count, so only record it then.
interop_start "$bin" "$root" --test-delay-us=2500000 --processing=always \
  --processing-first-ms=200 --processing-interval-ms=200
rclone_rc=0
rclone_copy one-copy-always.bin "$INTEROP_TMP/rclone-always.out" || rclone_rc=$?
if grep -q 'too many 1xx' "$INTEROP_TMP/rclone-always.out"; then
  note "rclone with --processing=always: failed, 'too many 1xx informational responses' (exit $rclone_rc)"
else
  note "rclone with --processing=always: exit $rclone_rc, no 'too many 1xx' error"
fi
go_minor="$(cut -d. -f2 <<<"${rclone_go:-1.0}")"
if [[ "$(cut -d. -f1 <<<"${rclone_go:-1.0}")" == 1 && "${go_minor:-0}" -lt 24 ]]; then
  check "rclone (go $rclone_go) without the cap fails at the 6th 102, as the policy assumes" \
    grep -q 'too many 1xx informational responses' "$INTEROP_TMP/rclone-always.out"
else
  note "rclone is built with go ${rclone_go:-unknown} (>= 1.24 or unknown): control not asserted"
fi
interop_stop

note "run time $((SECONDS - started)) s"
echo "processing_clients: $checks checks, $failures not ok"
[[ $failures -eq 0 ]]
