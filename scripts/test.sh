#!/usr/bin/env bash
# Builds and runs the whole test suite, then the unit and integration tests
# again under AddressSanitizer and UndefinedBehaviorSanitizer.
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
#   build-fuzz/  clang, libFuzzer + ASan + UBSan: scripts/fuzz.sh fuzzes every target in tests/fuzz/
#                within KEEPDAV_FUZZ_BUDGET_S seconds in all (default 480); a crash, leak or failed
#                invariant fails the run and its input is saved in the target's corpus.
#
# scripts/run.sh builds in build-run/ (Release), so the two never rebuild each other's tree.
#
# Exits non-zero if either ctest run or the fuzzing fails. Needs no stdin; safe as root in CI.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

jobs=2 # the machines have 2 cores; more only thrashes
ctest_args=(--output-on-failure --no-tests=error --timeout 600 -j"$jobs")

bash scripts/install-deps.sh test

echo "test: === build/ (RelWithDebInfo, all tests) ==="
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKEEPDAV_TESTS=ON
cmake --build build -j"$jobs"

# run_ctest BUILD_DIR ARG...: ctest, its output also kept for the skip summary printed after
# CTest's own summary line. Returns ctest's status.
run_ctest() {
  local dir="$1" rc=0
  shift
  ctest --test-dir "$dir" "$@" 2>&1 | tee "$dir/ctest-output.txt" || rc=$?
  bash scripts/skip-summary.sh "$dir/ctest-output.txt" "$dir" | sed 's/^/test: /'
  return "$rc"
}

status=0
run_ctest build "${ctest_args[@]}" || status=1

echo "test: === build-asan/ (ASan + UBSan, unit and integration tests) ==="
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DKEEPDAV_TESTS=ON -DKEEPDAV_SANITIZE=ON
cmake --build build-asan -j"$jobs"

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_stack_use_after_return=1:strict_string_checks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}"
run_ctest build-asan -L 'unit|integration' "${ctest_args[@]}" || status=1

echo "test: === build-fuzz/ (libFuzzer + ASan + UBSan, every target within a budget) ==="
bash scripts/fuzz.sh --budget-s="${KEEPDAV_FUZZ_BUDGET_S:-480}" || status=1

if [[ $status -ne 0 ]]; then
  echo "test: FAILED (see the ctest output above)" >&2
fi
exit "$status"
