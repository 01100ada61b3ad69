# shellcheck shell=bash
# shellcheck disable=SC2034,SC2153,SC2154 # lib.sh sets PROXY_*, interop_*; the test reads HAPROXY_*
# Several keepdav instances over one root, with PostgreSQL for their shared state (issue 15), and
# HAProxy round-robin in front. Source it after lib.sh; call pg_require before
# interop_require_done, and the rest after interop_init:
#
#   pg_require                   the PostgreSQL server binaries (initdb, pg_ctl, psql from
#                                postgresql-15 in $PG_BIN), haproxy and curl (its probe), via
#                                interop_require_file / interop_require_command
#   pg_start                     a throwaway cluster in $INTEROP_TMP/pg (run as `nobody` when
#                                root, since initdb refuses root; a Unix socket in that directory
#                                only, listen_addresses=''; fsync=off) with a database `keepdav`;
#                                sets PG_URI (the libpq URI to give keepdav as --db=) and PG_BIN.
#                                The superuser is `keepdav`, trusted on the socket.
#   pg_stop                      stops the server (pg_ctl -m fast), for outage tests
#   pg_start_again               starts it again on the same data and socket (same PG_URI)
#   pg_sql SQL                   runs SQL (psql -At) in database keepdav as the superuser and
#                                prints the result; fails (psql's status) on an SQL error
#   multi_start N ROOT [ARG...]  starts N instances of $KEEPDAV_BIN on ROOT, each with
#                                --db=$PG_URI --instance-id=inst<i> --port=0 --port-file=... and
#                                the ARGs, and waits until each listens. Sets MULTI_PIDS,
#                                MULTI_PORTS and MULTI_URLS (trailing slash), indexed by i from 1:
#                                ${MULTI_URLS[1]} is inst1's. Instance i logs to
#                                $INTEROP_TMP/inst<i>.log.
#   multi_start_one I ROOT [ARG...]
#                                (re)starts instance I alone: the same id and log (appended to).
#                                A restart asks for the port it had before, so HAProxy's server
#                                line stays right; only if that port cannot be had does it take a
#                                new one and restart HAProxy (when running) on it.
#   multi_stop I                 SIGTERM, then waits; returns 1 unless it exited 0 within
#                                $KEEPDAV_STOP_TIMEOUT s (then it is killed)
#   multi_stop_all               SIGTERM to every instance at once, then waits for each (as
#                                multi_stop)
#   multi_kill I                 SIGKILL, then waits (a crash)
#   multi_haproxy_start          HAProxy (`balance roundrobin`) on 127.0.0.1:$HAPROXY_PORT over
#                                every running instance, server names inst<i>; sets HAPROXY_PORT,
#                                HAPROXY_URL (trailing slash) and HAPROXY_LOG, its access log
#                                (one `httplog` line a request, naming keepdav_back/inst<i>).
#                                Checks that successive requests on one client connection
#                                alternate between instances; stops an HAProxy already running.
#                                It sends X-Forwarded-For/-Host and keeps Host (start keepdav
#                                with --trusted-proxies=127.0.0.1 to have them honoured).
#   multi_served_by [PATTERN]    from the HAProxy log: "inst1=N inst2=M" (requests each served),
#                                only of request lines matching the ERE PATTERN when given
#   MULTI_LOG_ECHO=1             (set before multi_start) each instance's output also goes to
#                                stdout, line by line, besides its log
#   multi_logs_tail [LINES]      prints the last LINES (default 60) of each instance log, and of
#                                the PostgreSQL server log
#
# Clean-up: pg_start, multi_start and multi_haproxy_start replace interop_init's EXIT trap with
# multi_cleanup, which calls the test's interop_teardown (unmount while the servers answer),
# then stops HAProxy, every instance and the cluster, prints the instance logs when the test
# failed, and ends with interop_cleanup (temp dir, exit status). A script with a trap of its own
# calls multi_cleanup from it instead of interop_cleanup.
#
# KEEPDAV_BIN is the keepdav binary (the test script sets it from its argument).

PG_BIN="${KEEPDAV_PG_BIN:-/usr/lib/postgresql/15/bin}"
PG_URI=""
PG_DIR=""
PG_AS=()
MULTI_PIDS=()
MULTI_PORTS=()
MULTI_URLS=()
HAPROXY_PORT=""
HAPROXY_URL=""
HAPROXY_LOG=""

pg_require() {
  interop_require_file "$PG_BIN/initdb" postgresql-15
  interop_require_file "$PG_BIN/pg_ctl" postgresql-15
  interop_require_file "$PG_BIN/psql" postgresql-15
  interop_require_file "$interop_haproxy_bin" haproxy
  interop_require_command curl curl
}

multi__trap() { trap multi_cleanup EXIT; }

# pg__ctl ARG...: pg_ctl as the cluster's owner, from / (nobody cannot enter the test's cwd).
pg__ctl() {
  (cd / && "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" "$@") >>"$PG_DIR/commands.log" 2>&1
}

pg_start() {
  PG_DIR="$INTEROP_TMP/pg"
  mkdir -p "$PG_DIR"
  PG_AS=()
  if [[ "$(id -u)" -eq 0 ]]; then
    PG_AS=(runuser -u nobody --)
    chmod 711 "$INTEROP_TMP"
    chown nobody: "$PG_DIR"
  fi
  multi__trap
  if ! (cd / && "${PG_AS[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -A trust -U keepdav -E UTF8 \
    --locale=C --no-sync --no-instructions) >>"$PG_DIR/commands.log" 2>&1; then
    interop_log "initdb failed:"
    tail -n 20 "$PG_DIR/commands.log"
    return 1
  fi
  PG_URI="$(pg__uri keepdav)"
  pg_start_again || return 1
  pg__psql postgres -c 'CREATE DATABASE keepdav' >/dev/null || return 1
  interop_log "PostgreSQL $("$PG_BIN/postgres" -V | sed 's/^[^0-9]*\([0-9.]*\).*/\1/') at $PG_URI"
}

pg_start_again() {
  # Test data: no durability. Connections: up to 3 instances with a pool of 8, and psql.
  local options="-c listen_addresses='' -k $PG_DIR -c fsync=off -c full_page_writes=off"
  options+=" -c synchronous_commit=off -c max_connections=60 -c shared_buffers=16MB"
  if ! pg__ctl -l "$PG_DIR/server.log" -w -t 60 -o "$options" start; then
    interop_log "pg_ctl start failed:"
    tail -n 20 "$PG_DIR/commands.log" "$PG_DIR/server.log"
    return 1
  fi
}

pg_stop() {
  [[ -n "$PG_DIR" && -e "$PG_DIR/data/postmaster.pid" ]] || return 0
  pg__ctl -m fast -w -t 60 stop
}

# The socket directory is the URI's host parameter (libpq: an absolute path is a socket dir).
pg__uri() { echo "postgresql:///$1?host=$PG_DIR&user=keepdav"; }
pg__psql() { # pg__psql DATABASE PSQL_ARG...
  local db="$1"
  shift
  "$PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1 "$(pg__uri "$db")" "$@"
}

pg_sql() { # pg_sql SQL
  pg__psql keepdav -c "$1"
}

multi_start() { # multi_start N ROOT [ARG...]
  local n="$1" i
  shift
  for ((i = 1; i <= n; i++)); do
    multi_start_one "$i" "$@" || return 1
  done
}

multi_start_one() { # multi_start_one I ROOT [ARG...]
  local i="$1" root="$2"
  shift 2
  local port_file="$INTEROP_TMP/inst$i.port" log="$INTEROP_TMP/inst$i.log"
  local old_port="${MULTI_PORTS[i]:-}" port="" pid rc=0
  multi__trap
  if [[ ! -x "$KEEPDAV_BIN" ]]; then
    interop_log "server binary not found or not executable: ${KEEPDAV_BIN:-(KEEPDAV_BIN unset)}"
    return 1
  fi
  local attempt ports=(0)
  [[ -n "$old_port" ]] && ports=("$old_port" 0)
  for attempt in "${ports[@]}"; do
    rm -f "$port_file"
    echo "---- $(date -u +%FT%TZ) start inst$i (--port=$attempt) ----" >>"$log"
    local run=("$KEEPDAV_BIN" --root="$root" --db="$PG_URI" --instance-id="inst$i"
      --port="$attempt" --port-file="$port_file" "$@")
    if [[ ${MULTI_LOG_ECHO:-0} == 1 ]]; then
      # keepdav writes a line's text and its newline apart: sed -u passes whole lines, so two
      # instances' lines never mix.
      "${run[@]}" </dev/null > >(sed -u '' | tee -a "$log") 2>&1 &
    else
      "${run[@]}" </dev/null >>"$log" 2>&1 &
    fi
    pid=$!
    # The port file is written after binding: connections queue from then on.
    local deadline=$((SECONDS + KEEPDAV_START_TIMEOUT))
    port=""
    while :; do
      if [[ -s "$port_file" ]]; then
        port="$(tr -d ' \r\n' <"$port_file")"
        [[ "$port" =~ ^[0-9]+$ && "$port" -gt 0 ]] && break
        port=""
      fi
      if ! kill -0 "$pid" 2>/dev/null; then
        rc=0
        wait "$pid" || rc=$?
        interop_log "inst$i exited with status $rc before writing $port_file"
        break
      fi
      if ((SECONDS >= deadline)); then
        interop_log "inst$i wrote no port in $port_file after ${KEEPDAV_START_TIMEOUT}s"
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        break
      fi
      sleep 0.1
    done
    [[ -n "$port" ]] && break
  done
  if [[ -z "$port" ]]; then
    tail -n 20 "$log"
    return 1
  fi
  MULTI_PIDS[i]="$pid"
  MULTI_PORTS[i]="$port"
  MULTI_URLS[i]="http://127.0.0.1:$port/"
  interop_log "inst$i pid $pid listening at ${MULTI_URLS[i]}"
  if [[ -n "$old_port" && "$port" != "$old_port" && -n "$PROXY_PID" ]]; then
    interop_log "inst$i moved from port $old_port to $port: restarting HAProxy"
    multi_haproxy_start || return 1
  fi
}

# lib.sh's interop_stop, on instance I (its messages say "NAME instI: server ...").
multi_stop() { # multi_stop I
  local i="$1" pid="${MULTI_PIDS[$1]:-}"
  [[ -n "$pid" ]] || return 0
  MULTI_PIDS[i]=""
  local KEEPDAV_PID="$pid" INTEROP_NAME="${INTEROP_NAME:-interop} inst$i"
  interop_stop
}

# multi_stop_all: SIGTERM to every running instance at once, then multi_stop on each (a second
# SIGTERM changes nothing); returns 1 unless all exited 0.
multi_stop_all() {
  local i ok=0
  for i in "${!MULTI_PIDS[@]}"; do
    if [[ -n "${MULTI_PIDS[i]}" ]]; then kill -TERM "${MULTI_PIDS[i]}" 2>/dev/null || true; fi
  done
  for i in "${!MULTI_PIDS[@]}"; do multi_stop "$i" || ok=1; done
  return "$ok"
}

multi_kill() { # multi_kill I
  local i="$1" pid="${MULTI_PIDS[$1]:-}"
  [[ -n "$pid" ]] || return 0
  MULTI_PIDS[i]=""
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  interop_log "inst$i killed (SIGKILL)"
}

# The HAProxy start function for proxy_with_free_port (lib.sh), which also gives proxy__run's
# wait for the port and proxy_stop.
multi__haproxy_config() {
  local dir="$INTEROP_TMP/haproxy" i servers=""
  mkdir -p "$dir"
  for i in "${!MULTI_PIDS[@]}"; do
    [[ -n "${MULTI_PIDS[i]}" ]] || continue
    servers+="  server inst$i 127.0.0.1:${MULTI_PORTS[i]}"$'\n'
  done
  # http-reuse never: a backend connection serves one client connection only, so balancing is
  # per request (each request picks the next server) and never by a kept connection.
  cat >"$dir/haproxy.cfg" <<CONFIG
global
  log stdout format raw local0
  maxconn 512

defaults
  mode http
  log global
  option httplog
  option http-keep-alive
  http-reuse never
  timeout connect 2s
  timeout client 60s
  timeout server 60s
  timeout http-keep-alive 10s

frontend keepdav_front
  bind 127.0.0.1:$PROXY_PORT
  option forwardfor
  http-request set-header X-Forwarded-Host %[req.hdr(host)]
  default_backend keepdav_back

backend keepdav_back
  balance roundrobin
$servers
CONFIG
  "$interop_haproxy_bin" -c -q -f "$dir/haproxy.cfg" || return 1
  HAPROXY_LOG="$dir/haproxy.log"
  proxy__run haproxy "$HAPROXY_LOG" "$interop_haproxy_bin" -f "$dir/haproxy.cfg" -db
}

multi_haproxy_start() {
  multi__trap
  proxy_stop
  proxy_with_free_port multi__haproxy_config || return 1
  HAPROXY_PORT="$PROXY_PORT"
  HAPROXY_URL="$PROXY_URL"
  # Four OPTIONS on one client connection: each instance must have answered some.
  local before
  before="$(wc -l <"$HAPROXY_LOG")"
  curl -sS --noproxy '*' --max-time 10 -o /dev/null -o /dev/null -o /dev/null -o /dev/null \
    -X OPTIONS "$HAPROXY_URL" "$HAPROXY_URL" "$HAPROXY_URL" "$HAPROXY_URL" || return 1
  local deadline=$((SECONDS + 5)) served
  while :; do
    served="$(tail -n +"$((before + 1))" "$HAPROXY_LOG" | grep -o 'keepdav_back/inst[0-9]*' |
      sort | uniq -c | awk '{printf "%s=%s ", substr($2, 14), $1}')"
    [[ $(wc -w <<<"$served") -ge "$(multi__running)" ]] && break
    if ((SECONDS >= deadline)); then
      interop_log "HAProxy does not alternate between the instances (4 OPTIONS: ${served:-none})"
      cat "$HAPROXY_LOG"
      return 1
    fi
    sleep 0.1
  done
  interop_log "HAProxy alternates between $(multi__running) instances (4 OPTIONS: ${served% })"
}

multi__running() {
  local i n=0
  for i in "${!MULTI_PIDS[@]}"; do [[ -n "${MULTI_PIDS[i]}" ]] && n=$((n + 1)); done
  echo "$n"
}

multi_served_by() { # multi_served_by [PATTERN]
  grep -E -- "${1:-.}" "$HAPROXY_LOG" | grep -o 'keepdav_back/inst[0-9]*' | sort | uniq -c |
    awk '{printf "%s%s=%s", sep, substr($2, 14), $1; sep = " "} END {print ""}'
}

multi_logs_tail() { # multi_logs_tail [LINES]
  local lines="${1:-60}" log
  for log in "$INTEROP_TMP"/inst*.log "$PG_DIR/server.log"; do
    [[ -s "$log" ]] || continue
    echo "---- $(basename "$log") (last $lines lines) ----"
    tail -n "$lines" "$log"
  done
  echo "---- end of logs ----"
}

multi__status() { return "$1"; }

multi_cleanup() {
  local rc=$?
  set +e
  if [[ -n "$INTEROP_CLIENT_PID" ]]; then
    pkill -TERM -P "$INTEROP_CLIENT_PID" 2>/dev/null
    kill -TERM "$INTEROP_CLIENT_PID" 2>/dev/null
    INTEROP_CLIENT_PID=""
  fi
  if declare -F interop_teardown >/dev/null; then
    interop_teardown
    unset -f interop_teardown
  fi
  proxy_stop >/dev/null 2>&1
  multi_stop_all >/dev/null 2>&1
  pg_stop
  [[ $rc -ne 0 ]] && multi_logs_tail 100
  multi__status "$rc"
  interop_cleanup
}
