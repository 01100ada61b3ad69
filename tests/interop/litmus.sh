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
# With auth_over.sh: `litmus URL USER PASS`, as its manual says.
credentials=()
[[ -n ${KEEPDAV_USER:-} ]] && credentials=("$KEEPDAV_USER" "$KEEPDAV_PASS")
TESTS="${suites[*]}" interop_run_client "$log" "$litmus" -k "$KEEPDAV_URL" "${credentials[@]}" ||
  litmus_rc=$?
# litmus redraws each test's line with a carriage return; keep what is left
# after the last one, which is what a terminal would show.
sed 's/.*\r//' "$log" >"$log.txt"
cat "$log.txt"

wrong_ok=1
if [[ -n ${KEEPDAV_USER:-} ]]; then
  # A wrong password: litmus's basic suite must fail at its first request (neon: "Could not
  # authenticate to server: rejected Basic challenge"), not hang or pass, and keepdav must log
  # the failed login.
  wrong_rc=0
  TESTS=basic interop_run_client "$log.wrong" "$litmus" -k "$KEEPDAV_URL" "$KEEPDAV_USER" \
    "$(interop_wrong_pass)" || wrong_rc=$?
  sed 's/.*\r//' "$log.wrong" >"$log.wrong.txt"
  sed 's/^/# wrong password: /' "$log.wrong.txt" | grep -E 'summary|FAIL' | head -n 8 || true
  if litmus_verdict "$log.wrong.txt" basic >/dev/null ||
    ! grep -q 'rejected Basic challenge' "$log.wrong.txt"; then
    echo "  with a wrong password the basic suite did not fail on the 401 (litmus exit $wrong_rc)"
    wrong_ok=0
  fi
  if ! interop_auth_failure_logged 127.0.0.1; then
    echo "  keepdav logged no failed login for the wrong password"
    wrong_ok=0
  fi
fi

stop_ok=1
interop_stop || stop_ok=0

bad=0
litmus_verdict "$log.txt" "${suites[@]}" || bad=1
[[ $wrong_ok -eq 1 ]] || bad=1
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
