#!/usr/bin/env bash
# Builds and runs the whole test suite, then the unit and integration tests
# again under AddressSanitizer and UndefinedBehaviorSanitizer, the threaded
# parts' tests under ThreadSanitizer, and the fuzzers.
#
#   build/       RelWithDebInfo, every test (labels unit, integration, interop)
#   build-asan/  Debug + KEEPDAV_SANITIZE=ON, only `-L 'unit|integration'`:
#                interop tests drive external clients against the real
#                binary and are slow under ASan without finding more.
#
# After each ctest run it lists the tests CTest skipped, with their reasons (scripts/skip-summary.sh).
# Under CI=true an interop test skips only when the capability itself is missing (no /dev/fuse,
# not root); a missing package fails it, since install-deps installed everything first.
#
#   build-tsan/  Debug -O1 + KEEPDAV_TSAN=ON (ThreadSanitizer): only the executables of the
#                threaded parts are built, and run: their unit tests, and the integration suites
#                named in tsan_suites below. Any report fails the test (TSAN_OPTIONS exitcode).
#   build-fuzz/  clang, libFuzzer + ASan + UBSan: scripts/fuzz.sh fuzzes every target in tests/fuzz/
#                within KEEPDAV_FUZZ_BUDGET_S seconds in all (default 300); a crash, leak or failed
#                invariant fails the run and its input is saved in the target's corpus.
#
# scripts/run.sh builds in build-run/ (Release), so the two never rebuild each other's tree.
#
# At the end it prints a summary naming, for each stage that failed, the failed tests (CI shows
# only the last lines of the output). Exits non-zero if any ctest run or the fuzzing fails.
# Needs no stdin; safe as root in CI.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

jobs=2 # the machines have 2 cores; more only thrashes
ctest_args=(--output-on-failure --no-tests=error --timeout 600 -j"$jobs")

bash scripts/install-deps.sh test

echo "test: === build/ (RelWithDebInfo, all tests) ==="
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKEEPDAV_TESTS=ON
cmake --build build -j"$jobs"

# run_ctest BUILD_DIR ARG...: ctest, its output also kept (BUILD_DIR/ctest-output.txt, or
# ctest-output-$CTEST_OUTPUT_NAME.txt when a stage runs ctest twice) for the skip summary printed
# after CTest's own summary line and for the failure summary at the end. Returns ctest's status.
run_ctest() {
  local dir="$1" rc=0 out
  shift
  out="$dir/ctest-output${CTEST_OUTPUT_NAME:+-$CTEST_OUTPUT_NAME}.txt"
  ctest --test-dir "$dir" "$@" 2>&1 | tee "$out" || rc=$?
  bash scripts/skip-summary.sh "$out" "$dir" | sed 's/^/test: /'
  return "$rc"
}

status=0
failed_stages=() # for the summary at the end
rm -f build*/ctest-output*.txt build-fuzz/fuzz-output.txt # a stage that did not run lists nothing
run_ctest build "${ctest_args[@]}" || { status=1; failed_stages+=(build); }

echo "test: === build-asan/ (ASan + UBSan, unit and integration tests) ==="
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DKEEPDAV_TESTS=ON -DKEEPDAV_SANITIZE=ON
cmake --build build-asan -j"$jobs"

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_stack_use_after_return=1:strict_string_checks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}"
run_ctest build-asan -L 'unit|integration' "${ctest_args[@]}" || {
  status=1
  failed_stages+=(build-asan)
}

echo "test: === build-tsan/ (ThreadSanitizer, the threaded parts' unit and integration tests) ==="
# What shares state between threads, and the tests that drive it from several threads at once:
#   stores: SQLite through Database (one connection per thread), the property, lock, journal and
#     checksum stores over it; posix_file_system_test: the open-file cache and the tree-job
#     threads (PosixFourThreads); file_system_contract_test and fault_injecting_file_system_test:
#     the same through the fault-injecting seam the long-operation tests use;
#     password_file_test (reload while verifying), credential_cache_test and
#     auth_failure_limiter_test (the per-address limiter); tls_reload_signal_test (the SIGHUP
#     watcher thread); pg_store_test (the PostgreSQL pool shared by threads, lease renewal on
#     its own thread, two journals claiming at once).
#   integration suites: ProcessingTest and HangUpTest (the 102 watcher and the long-operation
#     worker threads), EngineTest and ConnectionTest (Poco's acceptor and connection threads, the
#     per-client connection limit), MoveRaceTest (a PROPPATCH racing a MOVE), AuthenticationTest
#     (the credential cache, the failure limiter and password-file reloads under a live server).
# Left out: the parsers', the lock manager's and the single-threaded handlers' suites (ASan and the fuzzers cover them;
# under TSan they would only add build time) and the interop tests (external clients).
# Deadlines in the tests grow by KEEPDAV_TEST_TIME_FACTOR (tests/time_factor.h): TSan runs the
# same code 5-15 times slower, and the tests check that nothing waits, not the CPU's speed.
tsan_units=(database_test property_store_test lock_store_test operation_journal_test
  checksum_store_test posix_file_system_test file_system_contract_test
  fault_injecting_file_system_test password_file_test credential_cache_test
  auth_failure_limiter_test tls_reload_signal_test pg_store_test)
tsan_suites='^(ProcessingTest|Modes/HangUpTest|EngineTest|ConnectionTest|[A-Za-z]+/MoveRaceTest|AuthenticationTest)\.'
cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-g -O1" \
  -DKEEPDAV_TESTS=ON -DKEEPDAV_TSAN=ON
# Only these executables: gtest_discover_tests registers the tests of built executables alone
# (an unbuilt one leaves an unlabelled <target>_NOT_BUILT placeholder, which -L never selects).
# keepdav too: options_readme (label unit) runs the binary's --help.
cmake --build build-tsan -j"$jobs" --target "${tsan_units[@]}" integration_test keepdav
tsan_status=0
(
  # exitcode: a report fails the test even when the test's own checks pass. No suppressions:
  # what TSan cannot see (the order Poco's reference counts give) is declared in the code
  # (server/tsan_annotations.h).
  export TSAN_OPTIONS="${TSAN_OPTIONS:-exitcode=66 second_deadlock_stack=1 halt_on_error=0}"
  export KEEPDAV_TEST_TIME_FACTOR="${KEEPDAV_TEST_TIME_FACTOR:-5}"
  # The heavy loops at a fifth (EngineTest's 1,000 idle connections: 200 server threads).
  export KEEPDAV_TEST_WORK_PERCENT="${KEEPDAV_TEST_WORK_PERCENT:-20}"
  rc=0
  CTEST_OUTPUT_NAME=unit run_ctest build-tsan -L unit "${ctest_args[@]}" || rc=1
  CTEST_OUTPUT_NAME=integration run_ctest build-tsan -L integration -R "$tsan_suites" \
    "${ctest_args[@]}" || rc=1
  exit "$rc"
) || tsan_status=1
if [[ $tsan_status -ne 0 ]]; then
  status=1
  failed_stages+=(build-tsan)
fi

echo "test: === build-fuzz/ (libFuzzer + ASan + UBSan, every target within a budget) ==="
mkdir -p build-fuzz
bash scripts/fuzz.sh --budget-s="${KEEPDAV_FUZZ_BUDGET_S:-300}" 2>&1 | tee build-fuzz/fuzz-output.txt ||
  { status=1; failed_stages+=(build-fuzz); }

# The summary: CI shows only the last lines of the output, so the failed tests are named here,
# from CTest's "The following tests FAILED:" block in each stage's output, and fuzz.sh's lines
# for failed targets.
if [[ $status -ne 0 ]]; then
  echo "test: === summary: FAILED in ${failed_stages[*]} ===" >&2
  for stage in "${failed_stages[@]}"; do
    if [[ $stage == build-fuzz ]]; then
      grep -E '^fuzz: .*(FAILED|ERROR|invariant|saved as|runtime error|not found|no target)' \
        build-fuzz/fuzz-output.txt | sed 's/^/test: build-fuzz: /' >&2 ||
        echo "test: build-fuzz: fuzz.sh failed (see its output above)" >&2
      continue
    fi
    for out in "$stage"/ctest-output*.txt; do
      [[ -f $out ]] || continue
      awk -v stage="$stage" '
        /^The following tests FAILED:/ { in_list = 1; next }
        in_list && /^[ \t]+[0-9]+ - / { sub(/^[ \t]+/, ""); print "test: " stage ": " $0; next }
        in_list { in_list = 0 }
        /^Errors while running CTest/ || /No tests were found/ { print "test: " stage ": " $0 }' \
        "$out" >&2
    done
  done
fi
exit "$status"
