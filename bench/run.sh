#!/usr/bin/env bash
# keepdav side-by-side WebDAV benchmark (issue 6): keepdav against lighttpd, nginx, Apache and
# rclone on the same machine, the same freshly generated data, in one run.
#
# Usage: bash bench/run.sh [--smoke] [--rounds=N] [--servers=keepdav,lighttpd,...]
#                          [--keepdav-bin=PATH] [--baseline-bin=PATH] [--out=PATH]
#                          [--no-install] [--keep-tmp]
#                          [--long-ops] [--scenarios=get,propfind_d1,...]
#   (default)          build keepdav Release in build-bench/, install missing peers (as root),
#                      full data, 2 rounds, results in bench/results/<time>.json and .tsv, the
#                      chart of the run beside them (<time>.png and .svg, gnuplot) and copied to
#                      bench/results/latest.png and .svg, the one the README shows
#   --out=PATH         write the results to PATH.json, PATH.tsv, PATH.png and PATH.svg instead
#   --smoke            tiny data, one round, 1-second wrk runs, keepdav plus whichever peers are
#                      already installed (nothing is installed but wrk); exits non-zero when a
#                      correctness check of keepdav fails. For CI: well under 2 minutes.
#   --keepdav-bin=PATH use this keepdav binary instead of building one
#   --baseline-bin=PATH also run this keepdav binary (e.g. built from the commit before a change)
#                      as the peer "keepdav-base", so that a change is compared with its base in
#                      one run: its ratio column is the change's speed-up (< 1.00x: a slow-down)
#   --servers=keepdav,keepdav-auth --scenarios=get,propfind_d1
#                      what authentication costs (issue 11): "keepdav-auth" is the same binary
#                      with --users (one bcrypt-10 user, htpasswd from apache2-utils) and every
#                      request of those two scenarios sends its Basic credentials; its column
#                      against keepdav is the cost (the target: at least 0.9x)
#   --no-install       never call apt-get; peers that are missing are skipped
#   --keep-tmp         leave the temp dir (configs, server logs) behind for inspection
#   --long-ops         the long-operation benchmark of issue 4 instead (bench/long_ops.py):
#                      deep COPY, COPY with Overwrite: T, MOVE and DELETE of a 20,000-file tree,
#                      time and number of 102s, keepdav beside Apache mod_dav, on the tmpfs and
#                      on the disk (under the temp dir); 3 rounds (--smoke: tiny tree, 1 round)
#   --scenarios=KEYS   only these scenarios (get, propfind_d1, propfind_inf, copy_move_delete,
#                      proppatch, mkcol_put, big_file, big_file_https, idle_1000,
#                      propfind_100k, explorer_listing, checksums, propfind_d1_props,
#                      lock_unlock, db_round_trips); big_file does PUT and GET
#                      3 times per round (medians),
#                      big_file_https the same over HTTPS on a TLS twin of each server that
#                      can (a self-signed certificate made once per run with openssl),
#                      idle_1000 holds 1,000 keep-alive connections (from 127.0.0.2 and up,
#                      50 each) and measures RSS and a new client's GET latency,
#                      explorer_listing is Windows Explorer's allprop listing of 2,500 files
#                      with 30-character names (bytes per entry; its limit is 1,000,000 bytes),
#                      checksums is keepdav's oc:checksums listing of d1/ (issue 13): cold, then
#                      with the sums stored beside one not asking for them,
#                      propfind_d1_props is propfind_d1 of another 10,000 files with a dead
#                      property on every tenth (set by PROPPATCH, untimed, checked in the
#                      answer), lock_unlock times 1,000 LOCK (exclusive, Depth 0) + UNLOCK pairs
#                      on one connection (pairs/s)
#   --servers=keepdav,keepdav-pg,keepdav-pg2,apache
#   --scenarios=propfind_d1,propfind_d1_props,proppatch,lock_unlock,db_round_trips --rounds=3
#                      several instances on PostgreSQL (issue 15): "keepdav-pg" is the same
#                      binary with --db=postgresql://... of a throwaway cluster that the bench
#                      starts and stops itself (initdb once per run, as nobody when root, in the
#                      temp dir; each server and round a copy on the tmpfs, Unix socket only,
#                      fsync off), "keepdav-pg2" two such instances on one root and one cluster
#                      behind HAProxy round-robin on 127.0.0.1 (per request). db_round_trips
#                      (keepdav-pg only, untimed) counts the PostgreSQL round trips of each kind
#                      of request (PROPFIND D0/D1, PROPPATCH, LOCK, UNLOCK, PUT, GET, COPY, MOVE,
#                      DELETE, MKCOL) from the "db=N" of a --log-level=debug twin's per-request
#                      lines: median and max. The table ends with the issue's ratios (PROPFIND
#                      D1 with PostgreSQL / SQLite, target 0.8x; PROPPATCH with PostgreSQL /
#                      Apache, target 1x) and the round trips. Needs postgresql-15 (installed
#                      with haproxy when missing; KEEPDAV_PG_BIN names another bin dir)
#
# What it does: mounts a tmpfs of its own under a temp dir (the document roots live there: on
# these machines the root file system is ext4 without a journal and create-heavy runs varied up
# to 6x after mass deletes), generates the data once, then for every round and every server
# (order rotated each round) copies the data into a fresh root, starts the server in the
# foreground as a child with a config generated in the temp dir (never the system's config, no
# system service), runs the scenarios in bench/scenarios.py, stops the server. Every request
# goes to 127.0.0.1 and every loop is bounded in count and time. On exit, whatever happens, the
# trap stops the servers it started (by pid) and unmounts the tmpfs.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"

smoke=0
install=1
no_install=0
keep_tmp=0
long_ops=0
keepdav_bin=""
servers_arg=""
py_args=()
for arg in "$@"; do
  case "$arg" in
    --smoke) smoke=1; install=0; py_args+=(--smoke) ;;
    --no-install) install=0; no_install=1 ;;
    --keep-tmp) keep_tmp=1 ;;
    --long-ops) long_ops=1 ;;
    --keepdav-bin=*) keepdav_bin="${arg#*=}" ;;
    --baseline-bin=*) py_args+=("--baseline-bin=$(realpath "${arg#*=}")") ;;
    --servers=*) servers_arg="${arg#*=}"; py_args+=("$arg") ;;
    --rounds=* | --out=* | --scenarios=*) py_args+=("$arg") ;;
    -h | --help) sed -n '2,63p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench: unknown argument: $arg (see --help)" >&2; exit 2 ;;
  esac
done

is_root=0
[[ "$(id -u)" -eq 0 ]] && is_root=1

# --- packages -------------------------------------------------------------------------------
# Debian package that brings each command; peers are optional, the client tools are not.
missing_packages() {
  local pkg status out=()
  for pkg in "$@"; do
    status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
    [[ "$status" == "install ok installed" ]] || out+=("$pkg")
  done
  echo "${out[@]:-}"
}

apt_install() {
  local missing
  missing="$(missing_packages "$@")"
  [[ -z "$missing" ]] && return 0
  if [[ $is_root -ne 1 ]]; then
    echo "bench: not root, not installing: $missing" >&2
    return 0
  fi
  echo "bench: installing missing Debian packages: $missing"
  export DEBIAN_FRONTEND=noninteractive
  # One update per run, and only when something is missing.
  if [[ -z "${bench_apt_updated:-}" ]]; then
    apt-get -o DPkg::Lock::Timeout=600 update -q >/dev/null
    bench_apt_updated=1
  fi
  # shellcheck disable=SC2086  # word splitting of the package list is wanted
  apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends $missing </dev/null \
    >/dev/null
}

if [[ $install -eq 1 && $long_ops -eq 1 ]]; then
  apt_install curl python3 gnuplot-nox apache2  # the only peer of --long-ops
elif [[ $install -eq 1 ]]; then
  apt_install curl python3 wrk gnuplot-nox lighttpd lighttpd-mod-webdav lighttpd-mod-openssl \
    apache2 nginx libnginx-mod-http-dav-ext rclone
  # keepdav-pg and keepdav-pg2 are asked for by name only (issue 15).
  if [[ ",$servers_arg," == *,keepdav-pg* ]]; then apt_install postgresql-15 haproxy; fi
elif [[ $smoke -eq 1 && $no_install -eq 0 && $long_ops -eq 0 ]]; then
  # The load generator is not a peer: the smoke run needs it for scenarios 1 and 2 (skipped, not
  # failed, when it cannot be had).
  apt_install wrk || true
fi
for tool in curl python3; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is required" >&2; exit 1; }
done

# --- keepdav ----------------------------------------------------------------------------------
if [[ -z "$keepdav_bin" ]]; then
  if [[ $install -eq 1 ]]; then bash "$repo/scripts/install-deps.sh" build; fi
  echo "bench: building keepdav (Release) in build-bench/"
  cmake -S "$repo" -B "$repo/build-bench" -DCMAKE_BUILD_TYPE=Release -DKEEPDAV_TESTS=OFF >/dev/null
  cmake --build "$repo/build-bench" -j2 >/dev/null
  keepdav_bin="$repo/build-bench/server/keepdav"
  rev="$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  if [[ -n "$(git -C "$repo" status --porcelain --untracked-files=no 2>/dev/null)" ]]; then
    rev="$rev+local changes"
  fi
  py_args+=("--keepdav-rev=$rev")
else
  py_args+=("--keepdav-rev=prebuilt $keepdav_bin")
fi
[[ -x "$keepdav_bin" ]] || { echo "bench: no keepdav binary at $keepdav_bin" >&2; exit 1; }
# The servers run with their own working directory: a relative path would not resolve there.
keepdav_bin="$(realpath "$keepdav_bin")"

# --- temp dir, tmpfs, cleanup -----------------------------------------------------------------
work="$(mktemp -d /tmp/keepdav-bench.XXXXXX)"
# Servers that drop root privileges (apache, nginx as www-data) must reach their roots.
chmod 755 "$work"
mnt="$work/tmpfs"
mkdir -p "$mnt"
mounted=0
shm_dir=""
py_pid=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n "${py_pid:-}" ]] && kill -0 "$py_pid" 2>/dev/null; then
    kill -TERM "$py_pid" 2>/dev/null || true  # it stops its server on the way out
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$py_pid" 2>/dev/null || break; sleep 0.5; done
  fi
  # The Python driver stops its servers itself; this catches a driver that died. Every server
  # it starts writes its pid (a session leader) to pids/, so only those process groups are hit.
  if [[ -d "$work/pids" ]]; then
    for f in "$work"/pids/*.pid; do
      [[ -e "$f" ]] || continue
      pid="$(cat "$f")"
      kill -TERM -- "-$pid" 2>/dev/null || true
    done
    sleep 0.5
    for f in "$work"/pids/*.pid; do
      [[ -e "$f" ]] || continue
      kill -KILL -- "-$(cat "$f")" 2>/dev/null || true
    done
  fi
  if [[ $mounted -eq 1 ]]; then
    umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || true
  fi
  if [[ $keep_tmp -eq 1 ]]; then
    echo "bench: temp dir kept: $work ${shm_dir:-}"
  else
    rm -rf "$work" "${shm_dir:-/nonexistent}"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Full run: 1 GiB file + its PUT copy + peers' temp copies of the body + trees < 5 GiB.
size=6G
[[ $smoke -eq 1 ]] && size=512M
# --long-ops: the 20,000-file seed plus one root holding two trees (4 KiB pages: ~80 MiB each).
[[ $long_ops -eq 1 ]] && size=1G
if [[ $is_root -eq 1 ]] && mount -t tmpfs -o "size=$size,mode=0755" keepdav-bench "$mnt"; then
  mounted=1
  echo "bench: data on a tmpfs of $size mounted at $mnt"
else
  # Not root (or no mount in this container): /dev/shm is a tmpfs too, just not ours.
  mnt="$(mktemp -d /dev/shm/keepdav-bench.XXXXXX)"
  echo "bench: could not mount a tmpfs; using $mnt (/dev/shm) instead"
  shm_dir="$mnt"
fi

results_dir="$here/results"
mkdir -p "$results_dir"
# In the background and waited for: bash runs a trap only between commands, so a TERM or INT
# must not wait for the whole benchmark to end.
if [[ $long_ops -eq 1 ]]; then
  # The disk pass: the temp dir is on the root file system (removed by the trap with $work).
  mkdir -p "$work/disk"
  python3 "$here/long_ops.py" --work="$work" --data="$mnt" --disk="$work/disk" \
    --keepdav-bin="$keepdav_bin" --results-dir="$results_dir" "${py_args[@]}" &
else
  python3 "$here/bench.py" --work="$work" --data="$mnt" --keepdav-bin="$keepdav_bin" \
    --results-dir="$results_dir" "${py_args[@]}" &
fi
py_pid=$!
wait "$py_pid"
