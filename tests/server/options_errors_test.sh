#!/usr/bin/env bash
# Option errors that must never pass silently (issue 16), with the real binary:
# - a numeric option out of range: exit code 64 (EX_USAGE) and a message naming the option and
#   its range, from the command line and from a config file alike. Before, --port=70000 served on
#   4464, --port=-1 on 65535 and --port=65536 on a random port;
# - an unknown key in the config file: exit 64 naming the line and the nearest option. Before,
#   "read_only = true" started the server read-write;
# - a config file that is missing: exit 78 saying so; one not named *.properties is read too.
#
# usage: options_errors_test.sh KEEPDAV_BINARY
set -uo pipefail
keepdav=$1
work=$(mktemp -d)
server_pid=
cleanup() {
  if [[ -n $server_pid ]]; then kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null; fi
  rm -rf "$work"
}
trap cleanup EXIT
mkdir "$work/root"
failures=0

# expect_usage_error "expected message part" ARGS...
expect_usage_error() {
  local expected=$1
  shift
  local rc=0
  timeout 10 "$keepdav" --root="$work/root" --db="$work/db.sqlite" "$@" >"$work/out" 2>&1 || rc=$?
  if [[ $rc -ne 64 ]]; then
    echo "FAIL: keepdav $* exited $rc, expected 64; output: $(cat "$work/out")"
    failures=$((failures + 1))
  elif ! grep -qF -- "$expected" "$work/out"; then
    echo "FAIL: keepdav $*: message lacks '$expected': $(cat "$work/out")"
    failures=$((failures + 1))
  else
    echo "ok: $* -> 64, $(tail -n 1 "$work/out" | sed 's/^.*keepdav.server: //')"
  fi
}

expect_usage_error "--port must be an integer from 0 to 65535, not '70000'" --port=70000
expect_usage_error "--port must be an integer from 0 to 65535, not '-1'" --port=-1
expect_usage_error "--port must be an integer from 0 to 65535, not '65536'" --port=65536
expect_usage_error "--port must be an integer from 0 to 65535, not '80x'" --port=80x
expect_usage_error "--threads must be an integer from 1 to 4096" --threads=0
expect_usage_error "--tree-threads must be an integer from 1 to 64" --tree-threads=65
expect_usage_error "--open-file-cache must be an integer from 0 to" --open-file-cache=-1
expect_usage_error "--max-request-head must be an integer from 256 to" --max-request-head=255
expect_usage_error "--processing-first-ms must be an integer from -1 to" --processing-first-ms=-2
expect_usage_error "--lock-timeout-max must be an integer from 1 to 4294967295" \
  --lock-timeout-max=4294967296
expect_usage_error "--max-locks must be an integer from 1 to" --max-locks=0
expect_usage_error "--test-delay-us must be an integer from 0 to" --test-delay-us=-1
expect_usage_error "--fsync must be true or false, not 'maybe'" --fsync=maybe

# The same table applies the config file.
printf 'port = 70000\n' >"$work/range.properties"
expect_usage_error "--port must be an integer from 0 to 65535, not '70000'" \
  --config="$work/range.properties"

# An unknown key, whatever the file is called.
printf '# settings\nport = 0\n\nread_only = true\n' >"$work/typo.conf"
expect_usage_error "typo.conf:4: unknown option 'read_only' (did you mean 'read-only'?)" \
  --config="$work/typo.conf"

rc=0
timeout 10 "$keepdav" --root="$work/root" --config="$work/missing.properties" >"$work/out" 2>&1 ||
  rc=$?
if [[ $rc -eq 78 ]] && grep -qF "missing.properties: no such file" "$work/out"; then
  echo "ok: a missing --config file -> 78, no such file"
else
  echo "FAIL: a missing --config file: exit $rc, $(cat "$work/out")"
  failures=$((failures + 1))
fi

# The ends of a range are accepted: the server starts and writes its port. The command line
# wins over the file (port = 70000 there), and a *.conf file is read (its tree-threads = 64).
printf 'port = 70000\ntree-threads = 64\n' >"$work/server.conf"
"$keepdav" --root="$work/root" --db="$work/db.sqlite" --port=0 --config="$work/server.conf" \
  --processing-first-ms=-1 --port-file="$work/port" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
  [[ -s $work/port ]] && break
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
if [[ -s $work/port ]]; then
  echo "ok: --port=0 over a file's port, tree-threads = 64, --processing-first-ms=-1 serve on" \
    "port $(cat "$work/port")"
else
  echo "FAIL: keepdav did not start with in-range values: $(cat "$work/server.log")"
  failures=$((failures + 1))
fi

if [[ $failures -ne 0 ]]; then
  echo "$failures failure(s)"
  exit 1
fi
echo "OK"
