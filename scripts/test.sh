#!/usr/bin/env bash
# Builds and runs the whole test suite, then the unit and integration tests
# again under AddressSanitizer and UndefinedBehaviorSanitizer.
#
#   build/       RelWithDebInfo, every test (labels unit, integration, interop)
#   build-asan/  Debug + KEEPDAV_SANITIZE=ON, only `-L 'unit|integration'`:
#                interop tests drive external clients against the real
#                binary and are slow under ASan without finding more.
#
# Exits non-zero if either ctest run fails. Needs no stdin; safe as root in CI.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

jobs=2 # the machines have 2 cores; more only thrashes
ctest_args=(--output-on-failure --no-tests=error --timeout 600 -j"$jobs")

bash scripts/install-deps.sh test

echo "test: === build/ (RelWithDebInfo, all tests) ==="
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKEEPDAV_TESTS=ON
cmake --build build -j"$jobs"

status=0
ctest --test-dir build "${ctest_args[@]}" || status=1

echo "test: === build-asan/ (ASan + UBSan, unit and integration tests) ==="
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DKEEPDAV_TESTS=ON -DKEEPDAV_SANITIZE=ON
cmake --build build-asan -j"$jobs"

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_stack_use_after_return=1:strict_string_checks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}"
ctest --test-dir build-asan -L 'unit|integration' "${ctest_args[@]}" || status=1

if [[ $status -ne 0 ]]; then
  echo "test: FAILED (see the ctest output above)" >&2
fi
exit "$status"
