#!/usr/bin/env bash
# Prints the tests CTest skipped in one run, each with its reason, so a skip never goes unseen
# behind "100% tests passed". scripts/test.sh calls it after each ctest run.
#
# Usage: scripts/skip-summary.sh CTEST_OUTPUT BUILD_DIR
#   CTEST_OUTPUT  what ctest printed (its "The following tests did not run:" list names the
#                 skipped tests: CTest's LastTest.log says "Test Passed." for them)
#   BUILD_DIR     the ctest run's build folder; each skipped test's reason is the text after
#                 "SKIPPED: " in its output there (Testing/Temporary/LastTest.log), else
#                 GoogleTest's GTEST_SKIP() message (the line after "file:line: Skipped"), else
#                 its last line of output
#
# Always exits 0 when its inputs are readable: skipping is reported here, not judged (under
# CI=true the interop tests themselves fail where a skip is not allowed, see tests/interop/lib.sh).
set -euo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $0 CTEST_OUTPUT BUILD_DIR" >&2
  exit 2
fi
output="$1"
build_dir="$2"
log="$build_dir/Testing/Temporary/LastTest.log"

# "	 40 - davfs2_mount (Skipped)" lines, after "The following tests did not run:".
mapfile -t skipped < <(awk '
  /^The following tests did not run:/ { in_list = 1; next }
  in_list && /^[ \t]+[0-9]+ - .* \(Skipped\)$/ {
    sub(/^[ \t]+[0-9]+ - /, ""); sub(/ \(Skipped\)$/, ""); print; next
  }
  in_list { in_list = 0 }' "$output")

if [[ ${#skipped[@]} -eq 0 ]]; then
  echo "skipped tests in $build_dir: none"
  exit 0
fi

# reason NAME: from the test's section of LastTest.log ("N/M Testing: NAME" ... "<end of output>").
reason() {
  [[ -f "$log" ]] || {
    echo "(no $log to read the reason from)"
    return
  }
  awk -v name="$1" '
    $0 ~ /^[0-9]+\/[0-9]+ Testing: / { sub(/^[0-9]+\/[0-9]+ Testing: /, ""); in_test = ($0 == name); next }
    in_test && /^Output:$/ { in_output = 1; getline; next }
    in_output && /^<end of output>$/ { exit }
    in_output && /SKIPPED: / { sub(/.*SKIPPED: /, ""); found = $0 }
    in_output && gtest_next && NF { if ($0 !~ /^\[  SKIPPED \]/) gtest = $0; gtest_next = 0 }
    in_output && /: Skipped$/ { gtest_next = 1 }
    in_output && NF { last = $0 }
    END {
      if (found != "") print found
      else if (gtest != "") print gtest
      else if (last != "") print "(no SKIPPED: line) " last
      else print "(it printed nothing)"
    }' "$log"
}

echo "skipped tests in $build_dir: ${#skipped[@]}"
for name in "${skipped[@]}"; do
  # A parameterized GoogleTest's name carries "  # GetParam() = ..." in CTest's list.
  echo "  ${name%%  # GetParam()*}: $(reason "$name")"
done
