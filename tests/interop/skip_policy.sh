#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Skips are not silent (issue 16). Runs the real interop scripts with a client hidden from PATH
# (a PATH of symlinks to every program but that one) and checks lib.sh's rule:
#   - without CI: exit 77 (CTest: skipped) and one "NAME: SKIPPED: ..." line naming the Debian
#     package and scripts/install-deps.sh test;
#   - with CI=true: exit 1 (failed), "NAME: FAILED: ..." saying why a skip is not allowed;
#   - a missing capability (interop_skip_capability: no /dev/fuse, not root) skips under CI=true
#     too;
# and that scripts/skip-summary.sh lists a skipped test with its reason after a real ctest run
# (a CTestTestfile.cmake written here, no configure step).
#
# Usage: skip_policy.sh KEEPDAV_BINARY SOURCE_DIR
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck disable=SC2034 # read by lib.sh
INTEROP_NAME=skip_policy
# shellcheck source=lib.sh
source "$here/lib.sh"

if [[ $# -ne 2 ]]; then
  echo "usage: $0 KEEPDAV_BINARY SOURCE_DIR" >&2
  exit 2
fi
bin="$1"
src="$2"
interop_init

# shadow_path HIDDEN...: a directory of symlinks to every program on PATH but HIDDEN.
shadow_path() {
  local dir="$INTEROP_TMP/path-$1" d
  if [[ -d "$dir" ]]; then
    echo "$dir"
    return
  fi
  mkdir -p "$dir"
  local IFS=:
  for d in $PATH; do
    [[ -d "$d" ]] || continue
    find "$d" -maxdepth 1 \( -type f -o -type l \) -executable -print0 2>/dev/null |
      xargs -0 -r ln -s -t "$dir" 2>/dev/null || true # the first of a name wins
  done
  unset IFS
  local hidden
  for hidden in "$@"; do rm -f "$dir/$hidden"; done
  echo "$dir"
}

# run_hidden OUT CI_VALUE HIDDEN SCRIPT ARG...: runs SCRIPT with HIDDEN missing from PATH and
# CI set to CI_VALUE (empty: unset); prints the exit status, output in OUT.
run_hidden() {
  local out="$1" ci="$2" hidden="$3"
  shift 3
  local path rc=0
  path="$(shadow_path "$hidden")"
  if [[ -n "$ci" ]]; then
    env PATH="$path" CI="$ci" bash "$@" >"$out" 2>&1 || rc=$?
  else
    env -u CI PATH="$path" bash "$@" >"$out" 2>&1 || rc=$?
  fi
  echo "$rc"
}

can_mount=0
[[ -c /dev/fuse && "$(id -u)" -eq 0 ]] && can_mount=1

# name script hidden package [extra args]
cases=(
  "cadaver_session|cadaver_session.sh|cadaver|cadaver|"
  "gvfs_gio|gvfs_gio.sh|gio|libglib2.0-bin|"
  "rclone_sync|rclone_clients.sh|rclone|rclone|sync"
  "rclone_mount|rclone_clients.sh|fusermount3|fuse3|mount"
  "davfs2_mount|davfs2_mount.sh|mount.davfs|davfs2|"
)
for c in "${cases[@]}"; do
  IFS='|' read -r name script hidden pkg mode <<<"$c"
  args=("$here/$script" "$bin")
  [[ -n "$mode" ]] && args+=("$mode")
  out="$INTEROP_TMP/$name.out"
  if [[ "$name" == *mount* && $can_mount -eq 0 ]]; then
    # Here the capability is what is missing: a skip, under CI too.
    rc="$(run_hidden "$out" true "$hidden" "${args[@]}")"
    check "$name without /dev/fuse or root skips under CI=true too (exit $rc)" [ "$rc" -eq 77 ]
    continue
  fi
  rc="$(run_hidden "$out" "" "$hidden" "${args[@]}")"
  sed "s/^/# $name, no CI: /" "$out"
  check "$name without $hidden, no CI: skipped (exit $rc, want 77)" [ "$rc" -eq 77 ]
  check "... saying '$name: SKIPPED:', the package $pkg and install-deps" \
    grep -qE "^$name: SKIPPED: .*$hidden \(Debian package $pkg\).*scripts/install-deps.sh test" "$out"
  rc="$(run_hidden "$out" true "$hidden" "${args[@]}")"
  sed "s/^/# $name, CI=true: /" "$out"
  check "$name without $hidden, CI=true: failed (exit $rc, want 1)" [ "$rc" -eq 1 ]
  check "... saying '$name: FAILED:' and that under CI it is no skip" \
    grep -qE "^$name: FAILED: .*$hidden \(Debian package $pkg\).*under CI=true this is a failure" "$out"
done

# The capability rule itself, whatever this machine has.
cap_rc=0
CI=true bash -c 'INTEROP_NAME=cap; source "$1"; interop_skip_capability "no /dev/fuse here"' \
  _ "$here/lib.sh" >"$INTEROP_TMP/cap.out" 2>&1 || cap_rc=$?
check "interop_skip_capability skips under CI=true (exit $cap_rc, want 77)" [ "$cap_rc" -eq 77 ]
check "... printing 'cap: SKIPPED: no /dev/fuse here'" grep -qx 'cap: SKIPPED: no /dev/fuse here' \
  "$INTEROP_TMP/cap.out"

# The skip summary after a real ctest run: one test skipped with a reason, one without, one
# skipped the GoogleTest way, one passed, one failed.
fake="$INTEROP_TMP/ctest"
mkdir -p "$fake"
cat >"$fake/CTestTestfile.cmake" <<'EOF'
add_test(needs_fuse "/bin/bash" "-c" "echo starting; echo 'needs_fuse: SKIPPED: no /dev/fuse on this machine'; exit 77")
set_tests_properties(needs_fuse PROPERTIES SKIP_RETURN_CODE 77)
add_test(quiet_skip "/bin/bash" "-c" "echo 'some last words'; exit 77")
set_tests_properties(quiet_skip PROPERTIES SKIP_RETURN_CODE 77)
add_test(gtest_style "/bin/bash" "-c" "printf '[ RUN      ] A.B\\nfoo_test.cc:12: Skipped\\nroot reads everything\\n[  SKIPPED ] A.B (0 ms)\\n'")
set_tests_properties(gtest_style PROPERTIES SKIP_REGULAR_EXPRESSION "  SKIPPED ")
add_test(passes "/bin/bash" "-c" "echo 'fine'")
add_test(fails "/bin/bash" "-c" "echo 'fails: FAILED: no'; exit 1")
EOF
ctest_rc=0
ctest --test-dir "$fake" -j2 >"$fake/ctest-output.txt" 2>&1 || ctest_rc=$?
check "the fake ctest run fails (one test fails): exit $ctest_rc" [ "$ctest_rc" -ne 0 ]
summary_rc=0
bash "$src/scripts/skip-summary.sh" "$fake/ctest-output.txt" "$fake" >"$fake/summary.txt" 2>&1 ||
  summary_rc=$?
sed 's/^/# summary: /' "$fake/summary.txt"
check "skip-summary.sh exits 0" [ "$summary_rc" -eq 0 ]
check "... counts 3 skipped tests" grep -qx "skipped tests in $fake: 3" "$fake/summary.txt"
check "... with the reason from the SKIPPED: line" \
  grep -qx '  needs_fuse: no /dev/fuse on this machine' "$fake/summary.txt"
check "... a GoogleTest skip with its GTEST_SKIP() message" \
  grep -qx '  gtest_style: root reads everything' "$fake/summary.txt"
check "... and, without one, the test's last line" \
  grep -qx '  quiet_skip: (no SKIPPED: line) some last words' "$fake/summary.txt"
check "... and lists neither the passed nor the failed test" \
  bash -c '! grep -qE "^  (passes|fails):" "$1"' _ "$fake/summary.txt"
# Every ctest run goes through run_ctest (build/, build-asan/, and build-tsan/'s two runs), and
# ctest itself is called only there.
check "scripts/test.sh prints the summary after each ctest run" \
  [ "$(grep -c 'run_ctest build' "$src/scripts/test.sh")" -eq 4 -a \
    "$(grep -cE '^[^#]*\bctest --test-dir' "$src/scripts/test.sh")" -eq 1 ]

none="$INTEROP_TMP/none.txt"
printf '100%% tests passed, 0 tests failed out of 3\n' >"$none"
check "with nothing skipped it says so" \
  bash -c '[[ "$(bash "$1" "$2" "$3")" == "skipped tests in $3: none" ]]' _ \
  "$src/scripts/skip-summary.sh" "$none" "$fake"

echo "skip_policy: $checks checks, $failures not ok"
[[ $failures -eq 0 ]]
