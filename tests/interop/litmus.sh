#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Runs the litmus WebDAV compliance suites against the real keepdav binary.
#
# Usage: litmus.sh KEEPDAV_BINARY [SUITE...]
#   SUITE defaults to: basic copymove props locks http
#   (tests/interop/CMakeLists.txt passes the list)
#
# litmus (Debian package `litmus`) is a shell wrapper: /usr/bin/litmus runs each
# program named in $TESTS from $TESTROOT (/usr/libexec/litmus). With -k it goes
# on after a failing suite and then exits 0 whatever happened, so the verdict
# here comes from each suite's summary line:
#   <- summary for `basic': of 16 tests run: 16 passed, 0 failed. 100.0%
#   -> 1 warning was issued.
# A requested suite without a summary line (crash, missing program) fails too.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
INTEROP_NAME=litmus
# shellcheck source=lib.sh
source "$here/lib.sh"

if [[ $# -lt 1 ]]; then
  echo "usage: $0 KEEPDAV_BINARY [SUITE...]" >&2
  exit 2
fi
bin="$1"
shift
suites=("$@")
[[ ${#suites[@]} -gt 0 ]] || suites=(basic copymove props locks http)

litmus="${LITMUS:-litmus}"
if ! litmus="$(command -v "$litmus")"; then
  interop_log "litmus not found; install the Debian package: bash scripts/install-deps.sh test"
  exit 1
fi

interop_init
mkdir "$INTEROP_TMP/root"
interop_start "$bin" "$INTEROP_TMP/root"

log="$INTEROP_TMP/litmus.log"
interop_log "running suites: ${suites[*]}"
# Run from the temp dir: litmus writes debug.log and child.log into its cwd.
litmus_rc=0
cd "$INTEROP_TMP"
TESTS="${suites[*]}" interop_run_client "$log" "$litmus" -k "$KEEPDAV_URL" || litmus_rc=$?
# litmus redraws each test's line with a carriage return; keep what is left
# after the last one, which is what a terminal would show.
sed 's/.*\r//' "$log" >"$log.txt"
cat "$log.txt"

stop_ok=1
interop_stop || stop_ok=0

summary_re="<- summary for \`([A-Za-z0-9_]+)': of ([0-9]+) tests run: ([0-9]+) passed, ([0-9]+) failed"
skipped_re="<- all tests skipped for \`([A-Za-z0-9_]+)'"
warning_re="^-> ([0-9]+) warnings? (was|were) issued"
skips_re="^-> ([0-9]+) tests? (was|were) skipped"
declare -A run=() passed=() failed=() warnings=() skips=()
last=""
pending_skips=0
while IFS= read -r line; do
  if [[ "$line" =~ $summary_re ]]; then
    last="${BASH_REMATCH[1]}"
    run[$last]="${BASH_REMATCH[2]}"
    passed[$last]="${BASH_REMATCH[3]}"
    failed[$last]="${BASH_REMATCH[4]}"
    skips[$last]=$pending_skips
    pending_skips=0
  elif [[ "$line" =~ $skipped_re ]]; then
    last="${BASH_REMATCH[1]}"
    run[$last]=0 passed[$last]=0 failed[$last]=0 skips[$last]=$pending_skips
    pending_skips=0
  elif [[ "$line" =~ $skips_re ]]; then
    # Printed just before the summary of the suite it belongs to.
    pending_skips="${BASH_REMATCH[1]}"
  elif [[ "$line" =~ $warning_re && -n "$last" ]]; then
    # Printed just after the summary of the suite it belongs to.
    warnings[$last]="${BASH_REMATCH[1]}"
  fi
done <"$log.txt"

echo "==== litmus verdict ===="
bad=0
total_warnings=0
for s in "${suites[@]}"; do
  if [[ -z "${run[$s]+x}" ]]; then
    echo "  $s: FAIL (no summary line: suite crashed or did not run)"
    bad=1
    continue
  fi
  w="${warnings[$s]:-0}"
  total_warnings=$((total_warnings + w))
  verdict=ok
  if [[ "${run[$s]}" -eq 0 ]]; then
    verdict="FAIL (no test ran)"
    bad=1
  elif [[ "${failed[$s]}" -ne 0 ]]; then
    verdict=FAIL
    bad=1
  fi
  # Skipped tests are litmus's own call (a prerequisite test failed, or the
  # server lacks an optional feature); they are shown, not failed on.
  echo "  $s: ${passed[$s]}/${run[$s]} passed, ${failed[$s]} failed," \
    "${skips[$s]} skipped, $w warnings: $verdict"
done
if ((total_warnings > 0)); then
  echo "  warnings ($total_warnings):"
  grep -E 'WARNING:' "$log.txt" | sed 's/^/    /' || true
fi
if [[ $litmus_rc -ne 0 ]]; then
  echo "  litmus itself exited with status $litmus_rc"
  bad=1
fi
if [[ $stop_ok -ne 1 ]]; then
  echo "  server did not stop cleanly on SIGTERM"
  bad=1
fi
if [[ $bad -ne 0 ]]; then
  echo "litmus: FAILED"
  exit 1
fi
echo "litmus: all suites passed (${suites[*]})"
