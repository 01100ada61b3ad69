# shellcheck shell=bash
# Start/stop plumbing shared by the interop tests. Source it, then:
#
#   interop_init                 private temp dir in $INTEROP_TMP; installs an
#                                EXIT trap that stops the server and removes it
#   interop_start BIN ROOT [ARG...]
#                                starts BIN --root=ROOT --db=$INTEROP_TMP/props.db
#                                --port=0 --port-file=...; sets KEEPDAV_PID,
#                                KEEPDAV_PORT, KEEPDAV_URL (with trailing slash)
#   interop_stop                 SIGTERM, then waits; returns 1 unless the server
#                                exited 0 within $KEEPDAV_STOP_TIMEOUT seconds
#   interop_teardown             optional: a test that defines this function has it called
#                                by the EXIT trap before the server stops (unmount what
#                                the test mounted, while the server still answers)
#   interop_run_client LOG CMD...
#                                runs a long client in the background and waits
#                                for it, so a signal (ctest timeout, Ctrl-C)
#                                reaches the trap at once instead of after the
#                                client finishes; returns the client's status
#
# The dead-property database lives outside the served root, as in production,
# so a client listing the root never sees it. The server log goes to
# $INTEROP_TMP/server.log and is printed when the test fails.
# Set KEEPDAV_KEEP_TMP=1 to keep the temp dir for a post-mortem.
#
# Skipping (CTest's SKIP_RETURN_CODE 77) is for what the machine cannot do, never silent for
# what it merely lacks. Before interop_init:
#   interop_require_command CMD PACKAGE   CMD must be on PATH; PACKAGE is the Debian package
#                                         that brings it (scripts/install-deps.sh test installs
#                                         it; the test install_deps_lists checks that)
#   interop_require_file PATH PACKAGE     the same for a program that is not on PATH
#   interop_require_done                  then: if anything was missing, skip (exit 77) saying
#                                         what to install; under CI=true fail (exit 1) instead,
#                                         since CI runs install-deps, so a missing package is a
#                                         broken set-up, not a reason to skip
#   interop_skip_missing WHAT FIX         the same for something other than a Debian package
#   interop_skip_capability REASON        the capability itself is missing (no /dev/fuse, not
#                                         root): exit 77, under CI too
# Each prints one line "NAME: SKIPPED: reason" (or "NAME: FAILED: ..."), which scripts/test.sh
# collects into its summary of skipped tests.

KEEPDAV_START_TIMEOUT="${KEEPDAV_START_TIMEOUT:-10}"
KEEPDAV_STOP_TIMEOUT="${KEEPDAV_STOP_TIMEOUT:-10}"
KEEPDAV_PID=""
KEEPDAV_PORT=""
KEEPDAV_URL=""
INTEROP_TMP=""
INTEROP_CLIENT_PID=""

interop_log() {
  echo "${INTEROP_NAME:-interop}: $*"
}

interop_in_ci() {
  [[ "${CI:-}" == true || "${CI:-}" == 1 ]]
}

INTEROP_MISSING=()
interop_require_command() { # interop_require_command CMD PACKAGE
  command -v "$1" >/dev/null 2>&1 || INTEROP_MISSING+=("$1 (Debian package $2)")
}
interop_require_file() { # interop_require_file PATH PACKAGE
  [[ -x "$1" ]] || INTEROP_MISSING+=("$1 (Debian package $2)")
}
interop_require_done() {
  [[ ${#INTEROP_MISSING[@]} -eq 0 ]] && return 0
  local what
  what="$(printf '%s, ' "${INTEROP_MISSING[@]}")"
  interop_skip_missing "missing ${what%, }" "as root, run: bash scripts/install-deps.sh test"
}
interop_skip_missing() { # interop_skip_missing WHAT FIX
  if interop_in_ci; then
    echo "${INTEROP_NAME:-interop}: FAILED: $1; under CI=true this is a failure, not a skip:" \
      "scripts/test.sh runs scripts/install-deps.sh test first, so its package list" \
      "(scripts/install-deps.sh --list test) or the install is broken ($2)"
    exit 1
  fi
  echo "${INTEROP_NAME:-interop}: SKIPPED: $1 ($2)"
  exit 77
}
interop_skip_capability() { # interop_skip_capability REASON
  echo "${INTEROP_NAME:-interop}: SKIPPED: $1"
  exit 77
}

interop_init() {
  INTEROP_TMP="$(mktemp -d "${TMPDIR:-/tmp}/keepdav-${INTEROP_NAME:-interop}.XXXXXX")"
  trap interop_cleanup EXIT
  # Turn signals (ctest timeout, Ctrl-C) into an exit so the EXIT trap runs.
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap 'exit 129' HUP
}

interop_cleanup() {
  local rc=$?
  if [[ -n "$INTEROP_CLIENT_PID" ]]; then
    # The client may be a wrapper (litmus is a shell script): stop its
    # children too.
    pkill -TERM -P "$INTEROP_CLIENT_PID" 2>/dev/null || true
    kill -TERM "$INTEROP_CLIENT_PID" 2>/dev/null || true
  fi
  if declare -F interop_teardown >/dev/null; then
    interop_teardown || true
  fi
  interop_stop >/dev/null 2>&1 || true
  if [[ $rc -ne 0 && -s "$INTEROP_TMP/server.log" ]]; then
    echo "---- server log (last 200 lines) ----"
    tail -n 200 "$INTEROP_TMP/server.log" || true
    echo "---- end of server log ----"
  fi
  if [[ -n "$INTEROP_TMP" ]]; then
    if [[ "${KEEPDAV_KEEP_TMP:-0}" == 1 ]]; then
      interop_log "kept $INTEROP_TMP"
    else
      rm -rf "$INTEROP_TMP"
    fi
  fi
  exit "$rc"
}

interop_start() {
  local bin="$1" root="$2"
  shift 2
  local port_file="$INTEROP_TMP/port"
  if [[ ! -x "$bin" ]]; then
    interop_log "server binary not found or not executable: $bin"
    return 1
  fi
  rm -f "$port_file"
  "$bin" --root="$root" --db="$INTEROP_TMP/props.db" --port=0 \
    --port-file="$port_file" "$@" </dev/null >"$INTEROP_TMP/server.log" 2>&1 &
  KEEPDAV_PID=$!

  # The server writes the port only after binding, so once the file holds a
  # number, connections are queued even if accept() has not started yet.
  local deadline=$((SECONDS + KEEPDAV_START_TIMEOUT)) port=""
  while :; do
    if [[ -s "$port_file" ]]; then
      port="$(tr -d ' \r\n' <"$port_file")"
      [[ "$port" =~ ^[0-9]+$ && "$port" -gt 0 ]] && break
    fi
    if ! kill -0 "$KEEPDAV_PID" 2>/dev/null; then
      local rc=0
      wait "$KEEPDAV_PID" || rc=$?
      KEEPDAV_PID=""
      interop_log "server exited with status $rc before writing $port_file"
      return 1
    fi
    if ((SECONDS >= deadline)); then
      interop_log "no port in $port_file after ${KEEPDAV_START_TIMEOUT}s"
      return 1
    fi
    sleep 0.1
  done
  KEEPDAV_PORT="$port"
  # tls_over.sh serves HTTPS and sets https://localhost (the name its certificate is for).
  KEEPDAV_URL="${KEEPDAV_URL_SCHEME:-http}://${KEEPDAV_URL_HOST:-127.0.0.1}:$KEEPDAV_PORT/"
  interop_log "server pid $KEEPDAV_PID listening at $KEEPDAV_URL"
}

interop_stop() {
  [[ -n "$KEEPDAV_PID" ]] || return 0
  local pid="$KEEPDAV_PID" rc=0
  KEEPDAV_PID=""
  kill -TERM "$pid" 2>/dev/null || true
  # bash reaps its children as they exit, so kill -0 fails once it is gone.
  local deadline=$((SECONDS + KEEPDAV_STOP_TIMEOUT))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    interop_log "server ignored SIGTERM for ${KEEPDAV_STOP_TIMEOUT}s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    return 1
  fi
  wait "$pid" 2>/dev/null || rc=$?
  if [[ $rc -ne 0 ]]; then
    interop_log "server exited with status $rc after SIGTERM (expected 0)"
    return 1
  fi
  interop_log "server stopped cleanly"
}

interop_run_client() {
  local log="$1"
  shift
  "$@" </dev/null >"$log" 2>&1 &
  INTEROP_CLIENT_PID=$!
  local rc=0
  wait "$INTEROP_CLIENT_PID" || rc=$?
  INTEROP_CLIENT_PID=""
  return "$rc"
}

# TAP-style checks shared by the interop scripts. `check DESCRIPTION COMMAND...` runs COMMAND
# and prints "ok N - DESCRIPTION" or "not ok N - DESCRIPTION"; $checks and $failures count
# them, and a script ends with `[[ $failures -eq 0 ]]`. `note TEXT` prints a TAP comment.
checks=0
failures=0
check() { # check DESCRIPTION COMMAND...
  local what="$1"
  shift
  checks=$((checks + 1))
  if "$@"; then
    echo "ok $checks - $what"
  else
    echo "not ok $checks - $what"
    failures=$((failures + 1))
  fi
}
note() { echo "# $*"; }

# Users (issue 11). `interop_make_htpasswd FILE USER PASS` adds USER to FILE (created when
# missing) with a bcrypt hash made by Apache's htpasswd (apache2-utils), as an operator would.
interop_make_htpasswd() {
  local file="$1" user="$2" pass="$3" create=""
  [[ -e "$file" ]] || create="-c"
  htpasswd $create -b -B -C 5 "$file" "$user" "$pass" 2>/dev/null
}

# `interop_start_with_users BIN ROOT USERS_FILE [keepdav options...]`: interop_start with --users.
interop_start_with_users() {
  local bin="$1" root="$2" users="$3"
  shift 3
  interop_start "$bin" "$root" --users="$users" "$@"
}

# Reverse proxies in front of keepdav (processing_proxy.sh's 102 tests, proxy_tls.sh): HAProxy
# and Apache 2.4 mod_proxy_http, each in the foreground (HAProxy -db, Apache -X with its own
# ServerRoot, PidFile, ErrorLog and Mutex dir) on 127.0.0.1:$PROXY_PORT, with its configuration
# and logs in $INTEROP_TMP/$PROXY_RUN. A script that starts one stops it before keepdav:
#   trap 'proxy_stop; interop_cleanup' EXIT
#
#   interop_require_proxies [tls]    haproxy, apache2, mod_proxy_http (with tls: mod_ssl,
#                                    mod_headers, mod_socache_shmcb); then interop_require_done
#   proxy_with_free_port proxy_start_haproxy|proxy_start_apache
#                                    a free port (a few tries: it can be taken between the check
#                                    and the bind), the configuration, the proxy; sets PROXY_PID,
#                                    PROXY_PORT and PROXY_URL (the public URL, trailing slash)
#   proxy_stop                       SIGTERM, then SIGKILL after 10 s
# Read when a proxy starts:
#   PROXY_RUN           the run's directory under $INTEROP_TMP (one per run keeps logs apart)
#   PROXY_BACKEND_PORT  keepdav's port (default $KEEPDAV_PORT)
#   PROXY_TIMEOUT_S     the longest silence accepted from keepdav while waiting for the response
#                       (HAProxy `timeout server`, Apache `ProxyTimeout`; each 102 restarts it);
#                       default 30
#   PROXY_TLS_CERT, PROXY_TLS_KEY
#                       when set, the proxy terminates TLS with them (PROXY_URL is then
#                       https://localhost:PORT, the certificate's name) and tells keepdav so with
#                       X-Forwarded-Proto: https
#   PROXY_PREFIX        when set (/dav), only that path prefix goes to keepdav, unchanged (keepdav
#                       serves it with --base-path); other paths get the proxy's own 404
# Both send X-Forwarded-For (the client's address) and X-Forwarded-Host (the public Host), and keep
# the Host header (keepdav checks that a Destination names its own authority).
PROXY_PID=""
PROXY_NAME=""
PROXY_PORT=""
PROXY_URL=""
PROXY_RUN="${PROXY_RUN:-proxy}"
interop_haproxy_bin="$(command -v haproxy || echo /usr/sbin/haproxy)"
interop_apache_bin="$(command -v apache2 || echo /usr/sbin/apache2)"
interop_apache_modules=/usr/lib/apache2/modules

interop_require_proxies() { # interop_require_proxies [tls]
  interop_require_file "$interop_haproxy_bin" haproxy
  interop_require_file "$interop_apache_bin" apache2
  local module modules=(mod_proxy_http)
  [[ ${1:-} == tls ]] && modules+=(mod_ssl mod_headers mod_socache_shmcb)
  for module in "${modules[@]}"; do
    [[ -f "$interop_apache_modules/$module.so" ]] ||
      INTEROP_MISSING+=("$interop_apache_modules/$module.so (Debian package apache2)")
  done
}

interop_free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
# bash's /dev/tcp, not a python3 per poll: on a loaded machine python3 takes seconds to start.
interop_port_open() { # interop_port_open PORT
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# proxy__run NAME LOG CMD...: starts a proxy in the foreground of a background job and waits
# until $PROXY_PORT accepts connections.
proxy__run() {
  local name="$1" log="$2" deadline=$((SECONDS + 10))
  shift 2
  "$@" </dev/null >"$log" 2>&1 &
  PROXY_PID=$!
  PROXY_NAME="$name"
  while ! interop_port_open "$PROXY_PORT"; do
    if ! kill -0 "$PROXY_PID" 2>/dev/null; then
      wait "$PROXY_PID" 2>/dev/null || true
      PROXY_PID=""
      interop_log "$name exited before listening on $PROXY_PORT:"
      cat "$log"
      return 1
    fi
    if ((SECONDS >= deadline)); then
      interop_log "$name not listening on $PROXY_PORT after 10 s:"
      cat "$log"
      return 1
    fi
    sleep 0.1
  done
  local scheme=http host=127.0.0.1
  if [[ -n ${PROXY_TLS_CERT:-} ]]; then scheme=https host=localhost; fi
  PROXY_URL="$scheme://$host:$PROXY_PORT${PROXY_PREFIX:-}/"
  interop_log "$name pid $PROXY_PID listening at $PROXY_URL"
}

proxy_stop() {
  [[ -n "$PROXY_PID" ]] || return 0
  local pid="$PROXY_PID" deadline=$((SECONDS + 10))
  PROXY_PID=""
  kill -TERM "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  interop_log "$PROXY_NAME stopped"
}

proxy_with_free_port() { # proxy_with_free_port START_FUNCTION
  local attempt
  for attempt in 1 2 3; do
    PROXY_PORT="$(interop_free_port)"
    if "$1"; then return 0; fi
    interop_log "retrying with another port (attempt $attempt failed)"
  done
  return 1
}

proxy_start_haproxy() {
  local dir="$INTEROP_TMP/$PROXY_RUN" bind_tls="" tls_lines="" prefix_lines=""
  mkdir -p "$dir"
  if [[ -n ${PROXY_TLS_CERT:-} ]]; then
    # HAProxy wants the certificate and its key in one file.
    cat "$PROXY_TLS_CERT" "$PROXY_TLS_KEY" >"$dir/haproxy-tls.pem"
    bind_tls=" ssl crt $dir/haproxy-tls.pem"
    tls_lines="  http-request set-header X-Forwarded-Proto https"
  fi
  if [[ -n ${PROXY_PREFIX:-} ]]; then
    prefix_lines="  acl keepdav_path path $PROXY_PREFIX
  acl keepdav_path path_beg $PROXY_PREFIX/
  http-request return status 404 if !keepdav_path"
  fi
  cat >"$dir/haproxy.cfg" <<CONFIG
global
  log stdout format raw local0
  maxconn 64

defaults
  mode http
  log global
  option httplog
  timeout connect 2s
  timeout client 30s
  timeout server ${PROXY_TIMEOUT_S:-30}s

frontend keepdav_front
  bind 127.0.0.1:$PROXY_PORT$bind_tls
  option forwardfor
  http-request set-header X-Forwarded-Host %[req.hdr(host)]
$tls_lines
$prefix_lines
  default_backend keepdav_back

backend keepdav_back
  server keepdav 127.0.0.1:${PROXY_BACKEND_PORT:-$KEEPDAV_PORT}
CONFIG
  "$interop_haproxy_bin" -c -q -f "$dir/haproxy.cfg" || return 1
  proxy__run haproxy "$dir/haproxy.log" "$interop_haproxy_bin" -f "$dir/haproxy.cfg" -db
}

proxy_start_apache() {
  local dir="$INTEROP_TMP/$PROXY_RUN" user_lines="" tls_lines=""
  local backend="http://127.0.0.1:${PROXY_BACKEND_PORT:-$KEEPDAV_PORT}" prefix="${PROXY_PREFIX:-}"
  mkdir -p "$dir/run"
  if [[ "$(id -u)" -eq 0 ]]; then
    # Apache refuses to serve as root; -X keeps one process, which still drops to this user.
    user_lines=$'User www-data\nGroup www-data'
  fi
  if [[ -n ${PROXY_TLS_CERT:-} ]]; then
    tls_lines="LoadModule socache_shmcb_module $interop_apache_modules/mod_socache_shmcb.so
LoadModule ssl_module $interop_apache_modules/mod_ssl.so
LoadModule headers_module $interop_apache_modules/mod_headers.so
SSLSessionCache shmcb:$dir/run/ssl_scache(512000)
SSLEngine on
SSLCertificateFile $PROXY_TLS_CERT
SSLCertificateKeyFile $PROXY_TLS_KEY
RequestHeader set X-Forwarded-Proto https"
  fi
  # mod_proxy adds X-Forwarded-For, X-Forwarded-Host and X-Forwarded-Server itself.
  cat >"$dir/apache2.conf" <<CONFIG
ServerRoot "$dir"
ServerName 127.0.0.1
Listen 127.0.0.1:$PROXY_PORT
PidFile "$dir/run/apache2.pid"
DefaultRuntimeDir "$dir/run"
Mutex file:$dir/run default
ErrorLog "$dir/error.log"
LogLevel warn
LoadModule mpm_event_module $interop_apache_modules/mod_mpm_event.so
LoadModule authz_core_module $interop_apache_modules/mod_authz_core.so
LoadModule proxy_module $interop_apache_modules/mod_proxy.so
LoadModule proxy_http_module $interop_apache_modules/mod_proxy_http.so
$user_lines
$tls_lines
LogFormat "%a %r %>s %D us" short
CustomLog "$dir/access.log" short
Timeout 30
# The longest silence mod_proxy accepts from keepdav; each interim response restarts it.
ProxyTimeout ${PROXY_TIMEOUT_S:-30}
# keepdav checks that Destination names its own authority (Host).
ProxyPreserveHost On
ProxyPass "$prefix/" "$backend$prefix/"
ProxyPassReverse "$prefix/" "$backend$prefix/"
CONFIG
  "$interop_apache_bin" -t -f "$dir/apache2.conf" >"$dir/configtest.log" 2>&1 || {
    cat "$dir/configtest.log"
    return 1
  }
  proxy__run apache2 "$dir/apache2.out" "$interop_apache_bin" -X -f "$dir/apache2.conf"
}

# litmus (Debian package `litmus`): `litmus_verdict LOG SUITE...` reads a litmus run's output
# (LOG, carriage-return redraws already removed: sed 's/.*\r//') and prints one line per
# requested suite; returns 1 unless every suite has a summary line, ran tests and failed none.
# litmus -k goes on after a failing suite and then exits 0 whatever happened, so the summary
# lines are the verdict:
#   <- summary for `basic': of 16 tests run: 16 passed, 0 failed. 100.0%
#   -> 1 warning was issued.
litmus_verdict() {
  local log="$1" line last="" pending_skips=0 s w verdict bad=0 total_warnings=0
  shift
  local summary_re="<- summary for \`([A-Za-z0-9_]+)': of ([0-9]+) tests run: ([0-9]+) passed, ([0-9]+) failed"
  local skipped_re="<- all tests skipped for \`([A-Za-z0-9_]+)'"
  local warning_re="^-> ([0-9]+) warnings? (was|were) issued"
  local skips_re="^-> ([0-9]+) tests? (was|were) skipped"
  local -A suite_run=() suite_passed=() suite_failed=() suite_warnings=() suite_skips=()
  while IFS= read -r line; do
    if [[ "$line" =~ $summary_re ]]; then
      last="${BASH_REMATCH[1]}"
      suite_run[$last]="${BASH_REMATCH[2]}"
      suite_passed[$last]="${BASH_REMATCH[3]}"
      suite_failed[$last]="${BASH_REMATCH[4]}"
      suite_skips[$last]=$pending_skips
      pending_skips=0
    elif [[ "$line" =~ $skipped_re ]]; then
      last="${BASH_REMATCH[1]}"
      suite_run[$last]=0 suite_passed[$last]=0 suite_failed[$last]=0 suite_skips[$last]=$pending_skips
      pending_skips=0
    elif [[ "$line" =~ $skips_re ]]; then
      # Printed just before the summary of the suite it belongs to.
      pending_skips="${BASH_REMATCH[1]}"
    elif [[ "$line" =~ $warning_re && -n "$last" ]]; then
      # Printed just after the summary of the suite it belongs to.
      suite_warnings[$last]="${BASH_REMATCH[1]}"
    fi
  done <"$log"
  echo "==== litmus verdict ===="
  for s in "$@"; do
    if [[ -z "${suite_run[$s]+x}" ]]; then
      echo "  $s: FAIL (no summary line: suite crashed or did not run)"
      bad=1
      continue
    fi
    w="${suite_warnings[$s]:-0}"
    total_warnings=$((total_warnings + w))
    verdict=ok
    if [[ "${suite_run[$s]}" -eq 0 ]]; then
      verdict="FAIL (no test ran)"
      bad=1
    elif [[ "${suite_failed[$s]}" -ne 0 ]]; then
      verdict=FAIL
      bad=1
    fi
    # Skipped tests are litmus's own call (a prerequisite test failed, or the server lacks an
    # optional feature); they are shown, not failed on.
    echo "  $s: ${suite_passed[$s]}/${suite_run[$s]} passed, ${suite_failed[$s]} failed," \
      "${suite_skips[$s]} skipped, $w warnings: $verdict"
  done
  if ((total_warnings > 0)); then
    echo "  warnings ($total_warnings):"
    grep -E 'WARNING:' "$log" | sed 's/^/    /' || true
  fi
  return "$bad"
}

# With auth_over.sh (KEEPDAV_USER set): the password a script gives its client to see it fail,
# and whether keepdav logged that failure (the line fail2ban reads).
interop_wrong_pass() { echo "not-${KEEPDAV_PASS:-}"; }
interop_auth_failure_logged() { # interop_auth_failure_logged [ADDRESS]
  grep -qF "authentication failed for user \"$KEEPDAV_USER\" from ${1:-}" "$INTEROP_TMP/server.log"
}
