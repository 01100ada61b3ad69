#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Several keepdav instances on one root behind HAProxy (issue 15): an existing single-server
# interop test, unchanged, run against 2 instances (KEEPDAV_MULTI_INSTANCES) that share one
# PostgreSQL database (pg_lib.sh: a throwaway cluster on a Unix socket), with HAProxy
# `balance roundrobin` in front on 127.0.0.1, so successive requests alternate between instances.
#
# Usage: multi_instance.sh KEEPDAV_BINARY MODE [ARG...]
#   litmus [SUITE...]  litmus.sh: litmus's suites (all five by default) through HAProxy
#   davfs2             davfs2_mount.sh: a davfs2 mount through HAProxy and the common mount checks
#                      (write, read back, rename, append, delete...); root and /dev/fuse needed,
#                      else exit 77 (its own capability check)
#   rclone             rclone_clients.sh sync: rclone copy, check, check --download, sync, copy
#                      down and lsjson through HAProxy, each compared with the disk
#   load               load_verified.sh: 64 clients for 20 s (the single-server test's duration),
#                      every answer checked against the model, nothing lost
#
# How (as tls_over.sh does for HTTPS): the test script gets, in place of the binary, a wrapper
# that runs this script with --cluster. That "server" takes the script's --root, --port-file and
# other options, drops its --db and --port, starts the cluster, the instances (each with the
# other options, --db=the cluster, --trusted-proxies=127.0.0.1, its own port) and HAProxy, and
# writes HAProxy's port to the port file; so the script's KEEPDAV_URL is HAProxy's. Every
# instance's log goes to the script's server log as well (so its log checks read all of them).
# On SIGTERM (the script's interop_stop) it stops HAProxy, every instance and the cluster, and
# exits 0 only if every instance exited 0 and none had died meanwhile.
#
# Then checked here, from HAProxy's access log (the alternation probe at start-up left out) and
# the instance logs: every instance served requests, kept its state in PostgreSQL and logged no
# error; HAProxy answered no 5xx; for litmus and davfs2, a lock taken through one instance was
# used (PUT, UNLOCK, ...) through another; for litmus, LOCK and UNLOCK were each served by 2
# instances or more; for davfs2, no request failed but its existence probes (404 to PROPFIND,
# HEAD, GET): davfs2_mount.sh's own check of that reads keepdav's debug lines as ending in
# "NNNus", which with PostgreSQL end in " db=N".
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck disable=SC2034 # read by lib.sh
INTEROP_NAME=multi_instance
# shellcheck source=lib.sh
source "$here/lib.sh"
# shellcheck source=pg_lib.sh
source "$here/pg_lib.sh"

# ---- the --cluster "server": multi_instance.sh --cluster WORK BINARY N KEEPDAV_ARG... ----
cluster_died=0
cluster_term() {
  trap - TERM
  local ok=0
  proxy_stop
  multi_stop_all || ok=1
  pg_stop || ok=1
  if [[ $cluster_died -ne 0 ]]; then
    interop_log "an instance died while serving"
    ok=1
  fi
  exit "$ok"
}

cluster_serve() {
  local work="$1" n="$3" root="" port_file="" arg i forward=()
  KEEPDAV_BIN="$2"
  shift 3
  for arg in "$@"; do
    case "$arg" in
      --root=*) root="${arg#--root=}" ;;
      --port-file=*) port_file="${arg#--port-file=}" ;;
      --db=* | --port=*) ;; # PostgreSQL instead; each instance has its own port
      *) forward+=("$arg") ;;
    esac
  done
  # The test's own time-outs (KEEPDAV_STOP_TIMEOUT) are for the whole cluster.
  KEEPDAV_STOP_TIMEOUT="${KEEPDAV_MULTI_STOP_TIMEOUT:-10}"
  KEEPDAV_KEEP_TMP=1 # the outer multi_instance.sh reads the logs, then removes $work
  MULTI_LOG_ECHO=1
  TMPDIR="$work" interop_init
  pg_start
  multi_start "$n" "$root" --trusted-proxies=127.0.0.1 "${forward[@]}"
  multi_haproxy_start
  wc -l <"$HAPROXY_LOG" >"$INTEROP_TMP/haproxy/probe-lines"
  echo "$HAPROXY_PORT" >"$port_file"
  trap cluster_term TERM
  while :; do
    sleep 0.5 &
    wait $! || true
    for i in "${!MULTI_PIDS[@]}"; do
      if [[ -n "${MULTI_PIDS[i]}" ]] && ! kill -0 "${MULTI_PIDS[i]}" 2>/dev/null; then
        local rc=0
        wait "${MULTI_PIDS[i]}" || rc=$?
        interop_log "inst$i died (status $rc) while serving"
        MULTI_PIDS[i]=""
        cluster_died=1
      fi
    done
  done
}

if [[ ${1:-} == --cluster ]]; then
  shift
  INTEROP_NAME=multi_cluster
  cluster_serve "$@"
fi

# ---- the test ----
if [[ $# -lt 2 ]]; then
  echo "usage: $0 KEEPDAV_BINARY litmus|davfs2|rclone|load [ARG...]" >&2
  exit 2
fi
bin="$(readlink -f "$1")"
mode="$2"
shift 2
case "$mode" in
  litmus) run=(litmus.sh "$@") ;;
  davfs2) run=(davfs2_mount.sh) ;;
  rclone) run=(rclone_clients.sh sync) ;;
  load) run=(load_verified.sh) ;;
  *)
    echo "$0: unknown mode $mode" >&2
    exit 2
    ;;
esac
INTEROP_NAME="multi_$mode"
instances="${KEEPDAV_MULTI_INSTANCES:-2}"
pg_require
interop_require_done
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY

work="$(mktemp -d "${TMPDIR:-/tmp}/keepdav-multi.XXXXXX")"
chmod 711 "$work" # the cluster runs as nobody below it
child=""
# After the script: anything of the cluster still running (only if it was killed) is stopped.
cleanup() {
  local rc=$? data pid
  if [[ -n $child ]]; then
    kill -TERM "$child" 2>/dev/null || true
    wait "$child" 2>/dev/null || true
  fi
  for data in "$work"/keepdav-multi_cluster.*/pg/data; do
    [[ -e $data/postmaster.pid ]] || continue
    PG_DIR="${data%/data}"
    PG_AS=()
    [[ "$(id -u)" -eq 0 ]] && PG_AS=(runuser -u nobody --)
    pg__ctl -m immediate -w stop || true
  done
  # Processes named by a path in $work: instances (--db), HAProxy (-f), the cluster script.
  local pids=()
  mapfile -t pids < <(grep -lsF "$work" /proc/[0-9]*/cmdline | cut -d/ -f3)
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  if [[ "${KEEPDAV_KEEP_TMP:-0}" == 1 ]]; then
    echo "multi_$mode: kept $work"
  else
    rm -rf "$work"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

cat >"$work/keepdav" <<WRAPPER
#!/usr/bin/env bash
exec bash '$here/multi_instance.sh' --cluster '$work' '$bin' '$instances' "\$@"
WRAPPER
chmod +x "$work/keepdav"
# The cluster needs longer than one server to start (initdb) and to stop (every instance).
export KEEPDAV_START_TIMEOUT=$((${KEEPDAV_START_TIMEOUT:-10} + 50))
export KEEPDAV_MULTI_STOP_TIMEOUT="${KEEPDAV_STOP_TIMEOUT:-10}"
export KEEPDAV_STOP_TIMEOUT=$((KEEPDAV_MULTI_STOP_TIMEOUT + 30))
started=$SECONDS
echo "multi_$mode: running ${run[*]} against $instances keepdav instances behind HAProxy"
bash "$here/${run[0]}" "$work/keepdav" "${run[@]:1}" &
child=$!
rc=0
wait "$child" || rc=$?
child=""
echo "# ${run[0]} exited $rc after $((SECONDS - started)) s"
[[ $rc -eq 77 ]] && exit 77 # its skip (a missing capability or package), already explained

# none_of AWK_CONDITION: no request (INSTANCE STATUS METHOD PATH, $1..$4) matches; those that
# do are shown.
none_of() {
  local bad
  bad="$(awk "$1" "$work/requests.txt")"
  [[ -z $bad ]] || { head -n 20 <<<"$bad" | sed 's/^/# /'; return 1; }
}
# no_errors_in LOG: keepdav logged no Error, Critical or Fatal line; the first are shown.
no_errors_in() {
  local bad
  bad="$(grep -E ' (Error|Critical|Fatal) ' "$1" || true)"
  [[ -z $bad ]] || { head -n 5 <<<"$bad" | sed 's/^/# /'; return 1; }
}
# served_some LIST INSTANCE: LIST (multi_served_by's "inst1=N inst2=M") counts INSTANCE's.
served_some() { grep -qE "(^| )$2=[1-9]" <<<"$1"; }
# locks_crossed: how many locks were used (by the next request on the path that needs the lock,
# answered 2xx) through another instance than the one that granted them.
locks_crossed() {
  awk '$3 == "LOCK" && $2 ~ /^2/ { lock[$4] = $1; next }
       ($4 in lock) && $3 ~ /^(PUT|UNLOCK|PROPPATCH|DELETE|MOVE|LOCK)$/ {
         if ($1 != lock[$4] && $2 ~ /^2/) n++; delete lock[$4] }
       END { print n + 0 }' "$work/requests.txt"
}
checks=0 failures=0
check "${run[*]} passed through HAProxy over $instances instances" [ "$rc" -eq 0 ]
cluster="$(find "$work" -maxdepth 1 -name 'keepdav-multi_cluster.*' | head -n 1)"
if [[ -z $cluster || ! -s $cluster/haproxy/haproxy.log ]]; then
  check "the cluster left HAProxy's log" false
  exit 1
fi
# The requests the client made (the alternation probe at start-up left out), one a line:
# INSTANCE STATUS METHOD PATH.
HAPROXY_LOG="$work/requests.log"
tail -n +"$(($(cat "$cluster/haproxy/probe-lines") + 1))" "$cluster/haproxy/haproxy.log" |
  grep 'keepdav_back/' >"$HAPROXY_LOG" || true
awk '{ for (k = 1; k <= NF; k++) if ($k ~ /^keepdav_back\//) { srv = substr($k, 14); st = $(k + 2) }
       print srv, st, substr($(NF - 2), 2), $(NF - 1) }' "$HAPROXY_LOG" >"$work/requests.txt"
served="$(multi_served_by)"
note "requests through HAProxy: $(wc -l <"$work/requests.txt"), served by: $served"
for ((i = 1; i <= instances; i++)); do
  check "inst$i served requests" served_some "$served" "inst$i"
  check "inst$i kept its state in PostgreSQL (its start-up line)" \
    grep -q 'keepdav.server: serving .*(database PostgreSQL ' "$cluster/inst$i.log"
  check "inst$i logged no Error, Critical or Fatal line" no_errors_in "$cluster/inst$i.log"
done
# shellcheck disable=SC2016 # awk's fields
check "HAProxy answered no 5xx (its own or an instance's)" none_of '$2 ~ /^5/'

case "$mode" in
  litmus)
    locks="$(multi_served_by '"LOCK ')" unlocks="$(multi_served_by '"UNLOCK ')"
    note "LOCK served by: $locks; UNLOCK served by: $unlocks"
    # litmus is one client in sequence: which instance gets which request is the same each run,
    # and with 3 instances one of them may get no LOCK; so: 2 instances at least (with 2, both).
    check "LOCK was served by 2 instances or more ($locks)" [ "$(wc -w <<<"$locks")" -ge 2 ]
    check "UNLOCK was served by 2 instances or more ($unlocks)" [ "$(wc -w <<<"$unlocks")" -ge 2 ]
    crossed="$(locks_crossed)"
    check "a lock granted by one instance was used through another ($crossed times)" \
      [ "$crossed" -gt 0 ]
    ;;
  davfs2)
    crossed="$(locks_crossed)"
    check "a lock granted by one instance was used through another ($crossed times)" \
      [ "$crossed" -gt 0 ]
    # shellcheck disable=SC2016 # awk's fields
    check "every request davfs2 sent succeeded (no 4xx or 5xx but 404 to its probes)" \
      none_of '$2 ~ /^[45]/ && !($2 == 404 && $3 ~ /^(PROPFIND|HEAD|GET)$/)'
    ;;
esac
echo "multi_$mode: $checks checks, $failures not ok ($((SECONDS - started)) s)"
[[ $failures -eq 0 ]]
