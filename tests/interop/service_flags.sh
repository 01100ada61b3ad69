#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# What the README says about running keepdav as a service, checked with the real binary
# (issue 16):
#   - scripts/keepdav.service is Type=simple, and its ExecStart options start the binary in the
#     foreground (its paths moved into the temp dir, its port made --port=0): it serves, logs the database it
#     uses, and exits 0 on SIGTERM within TimeoutStopSec;
#   - the exit codes its RestartPreventExitStatus lists are the ones the binary gives for a
#     value out of range (64) and for a missing config file or root (78);
#   - Poco's flags: --pidfile writes the pid and removes it on a clean exit; --daemon returns 0 at
#     once (even for --port=70000, which is not reported), runs with / as its working directory
#     and umask 027, or the --umask given.
# A daemon is not this script's child: it is stopped by the pid in its own pid file.
#
# Usage: service_flags.sh KEEPDAV_BINARY SOURCE_DIR
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck disable=SC2034 # read by lib.sh
INTEROP_NAME=service_flags
# shellcheck source=lib.sh
source "$here/lib.sh"

if [[ $# -ne 2 ]]; then
  echo "usage: $0 KEEPDAV_BINARY SOURCE_DIR" >&2
  exit 2
fi
bin="$(realpath "$1")"
unit="$2/scripts/keepdav.service"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY

DAEMON_PIDFILES=()
interop_teardown() {
  local f pid
  for f in "${DAEMON_PIDFILES[@]}"; do
    [[ -s "$f" ]] || continue
    pid="$(tr -d ' \n' <"$f")"
    [[ "$pid" =~ ^[0-9]+$ ]] && kill -TERM "$pid" 2>/dev/null || true
  done
}
interop_init
mkdir -p "$INTEROP_TMP/srv" "$INTEROP_TMP/state"
printf 'served\n' >"$INTEROP_TMP/srv/hello.txt"

# wait_for TEST...: true once TEST is, within 10 s.
wait_for() {
  local deadline=$((SECONDS + 10))
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}
# unit_value KEY: the value of KEY= in the unit.
unit_value() { sed -n "s/^$1=//p" "$unit" | head -n 1; }
get_hello() { # get_hello PORT: the body of /hello.txt
  curl -sS --noproxy '*' --max-time 5 "http://127.0.0.1:$1/hello.txt"
}

# --- the unit -----------------------------------------------------------------------------
check "the unit is Type=simple" [ "$(unit_value Type)" == simple ]
exec_start="$(unit_value ExecStart)"
read -r -a exec_args <<<"$exec_start"
check "its ExecStart runs keepdav (${exec_args[0]})" [ "$(basename "${exec_args[0]}")" == keepdav ]
check "... without --daemon or --pidfile" bash -c '! grep -qE -- "--(daemon|pidfile)" <<<"$1"' _ "$exec_start"
args=()
for a in "${exec_args[@]:1}"; do
  a="${a//\/srv\/dav/$INTEROP_TMP/srv}"
  a="${a//\/var\/lib\/keepdav/$INTEROP_TMP/state}"
  # An option may be given once only: the unit's port becomes an ephemeral one.
  [[ "$a" == --port=* ]] && a=--port=0
  args+=("$a")
done
note "ExecStart options, moved into the temp dir: ${args[*]}"
"$bin" "${args[@]}" --port-file="$INTEROP_TMP/unit.port" </dev/null \
  >"$INTEROP_TMP/unit.log" 2>&1 &
unit_pid=$!
check "the binary starts with them" wait_for test -s "$INTEROP_TMP/unit.port"
port="$(cat "$INTEROP_TMP/unit.port" 2>/dev/null || echo 0)"
check "... and serves the root" [ "$(get_hello "$port" || true)" == served ]
check "... logging the database it uses" \
  grep -qF "(database $INTEROP_TMP/state/keepdav.sqlite)" "$INTEROP_TMP/unit.log"
stop_s="$(unit_value TimeoutStopSec)"
kill -TERM "$unit_pid"
start=$SECONDS
rc=0
wait "$unit_pid" || rc=$?
check "SIGTERM: exit 0 (exit $rc) within TimeoutStopSec=$stop_s ($((SECONDS - start)) s)" \
  [ "$rc" -eq 0 -a $((SECONDS - start)) -le "$stop_s" ]

read -r -a no_restart <<<"$(unit_value RestartPreventExitStatus)"
rc=0
"$bin" --root="$INTEROP_TMP/srv" --port=70000 >/dev/null 2>&1 || rc=$?
check "a value out of range exits $rc, which RestartPreventExitStatus lists" \
  bash -c '[[ " ${*:2} " == *" $1 "* ]]' _ "$rc" "${no_restart[@]}"
rc=0
"$bin" --config="$INTEROP_TMP/none.conf" >/dev/null 2>&1 || rc=$?
check "a missing config file exits $rc, which it lists" \
  bash -c '[[ " ${*:2} " == *" $1 "* ]]' _ "$rc" "${no_restart[@]}"
rc=0
"$bin" --root="$INTEROP_TMP/no-such-root" --db="$INTEROP_TMP/x.db" --port=0 >/dev/null 2>&1 || rc=$?
check "a missing root exits $rc, which it lists" \
  bash -c '[[ " ${*:2} " == *" $1 "* ]]' _ "$rc" "${no_restart[@]}"

# --- --pidfile in the foreground ----------------------------------------------------------
pidfile="$INTEROP_TMP/fg.pid"
"$bin" --root="$INTEROP_TMP/srv" --db="$INTEROP_TMP/fg.db" --port=0 \
  --port-file="$INTEROP_TMP/fg.port" --pidfile="$pidfile" </dev/null >"$INTEROP_TMP/fg.log" 2>&1 &
fg_pid=$!
check "--pidfile: written once it serves" wait_for test -s "$INTEROP_TMP/fg.port" -a -s "$pidfile"
check "... holding the server's pid" [ "$(tr -d ' \n' <"$pidfile" 2>/dev/null)" == "$fg_pid" ]
kill -TERM "$fg_pid"
rc=0
wait "$fg_pid" || rc=$?
check "... and removed on a clean exit (exit $rc)" [ "$rc" -eq 0 -a ! -e "$pidfile" ]

# --- --daemon -------------------------------------------------------------------------------
# daemon NAME ARG...: starts keepdav --daemon with a pid file and port file named NAME; prints
# the starting command's exit status.
daemon() {
  local name="$1" rc=0
  shift
  DAEMON_PIDFILES+=("$INTEROP_TMP/$name.pid")
  timeout 10 "$bin" --daemon --pidfile="$INTEROP_TMP/$name.pid" --root="$INTEROP_TMP/srv" \
    --db="$INTEROP_TMP/$name.db" --port-file="$INTEROP_TMP/$name.port" "$@" </dev/null \
    >"$INTEROP_TMP/$name.out" 2>&1 || rc=$?
  echo "$rc"
}
# stop_daemon NAME: SIGTERM to the pid in its pid file; true once the pid file is gone.
stop_daemon() {
  local pid
  pid="$(tr -d ' \n' <"$INTEROP_TMP/$1.pid" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -TERM "$pid" 2>/dev/null || return 1
  wait_for test ! -e "$INTEROP_TMP/$1.pid"
}
umask_of() { sed -n 's/^Umask:[[:space:]]*//p' "/proc/$1/status"; }

rc="$(daemon d1 --port=0)"
check "--daemon: the command returns 0 at once (exit $rc)" [ "$rc" -eq 0 ]
check "... printing nothing (its output goes to /dev/null)" [ ! -s "$INTEROP_TMP/d1.out" ]
check "... and the daemon serves" wait_for test -s "$INTEROP_TMP/d1.port" -a -s "$INTEROP_TMP/d1.pid"
d1="$(tr -d ' \n' <"$INTEROP_TMP/d1.pid" 2>/dev/null || echo 0)"
check "... GET works" [ "$(get_hello "$(cat "$INTEROP_TMP/d1.port" 2>/dev/null || echo 0)" || true)" == served ]
check "... its working directory is /" [ "$(readlink "/proc/$d1/cwd" 2>/dev/null)" == / ]
check "... its umask is 0027" [ "$(umask_of "$d1" 2>/dev/null)" == 0027 ]
check "... SIGTERM stops it and removes its pid file" stop_daemon d1

rc="$(daemon d2 --port=0 --umask=022)"
check "--daemon --umask=022 (exit $rc)" wait_for test -s "$INTEROP_TMP/d2.port" -a -s "$INTEROP_TMP/d2.pid"
d2="$(tr -d ' \n' <"$INTEROP_TMP/d2.pid" 2>/dev/null || echo 0)"
check "... runs with umask 0022" [ "$(umask_of "$d2" 2>/dev/null)" == 0022 ]
check "... stops on SIGTERM" stop_daemon d2

rc="$(daemon d3 --port=70000)"
check "--daemon --port=70000: still exit 0 (exit $rc), the error is not reported" \
  [ "$rc" -eq 0 -a ! -s "$INTEROP_TMP/d3.out" ]
check "... and nothing serves" bash -c 'sleep 1; [[ ! -s "$1" ]]' _ "$INTEROP_TMP/d3.port"

echo "service_flags: $checks checks, $failures not ok"
[[ $failures -eq 0 ]]
