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
