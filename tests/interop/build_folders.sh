#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# scripts/run.sh (Release) and scripts/test.sh (RelWithDebInfo, then the sanitizer builds) must
# not share a build folder (issue 16: each rebuilt everything after the other), the benchmark's
# build-bench/ neither; git ignores each folder, and the README names them.
#
# Usage: build_folders.sh SOURCE_DIR
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck disable=SC2034 # read by lib.sh
INTEROP_NAME=build_folders
# shellcheck source=lib.sh
source "$here/lib.sh"
src="$1"

# folders SCRIPT: "FOLDER BUILD_TYPE" for each `cmake -S ... -B FOLDER -DCMAKE_BUILD_TYPE=...`.
folders() {
  sed -n 's/^[[:space:]]*cmake -S [^ ]* -B \([^ ]*\) -DCMAKE_BUILD_TYPE=\([A-Za-z]*\).*/\1 \2/p' "$1" |
    sed 's|"\$repo/||; s|"||g'
}
mapfile -t run < <(folders "$src/scripts/run.sh")
mapfile -t tests < <(folders "$src/scripts/test.sh")
mapfile -t bench < <(folders "$src/bench/run.sh")
note "run.sh: ${run[*]}; test.sh: ${tests[*]}; bench/run.sh: ${bench[*]}"

check "run.sh configures one folder, Release" [ "${#run[@]}" -eq 1 -a "${run[0]#* }" == Release ]
check "test.sh configures build/ RelWithDebInfo, build-asan/ and build-tsan/" \
  [ "${tests[*]}" == "build RelWithDebInfo build-asan Debug build-tsan Debug" ]
run_dir="${run[0]%% *}"
check "run.sh's folder ($run_dir) is none of test.sh's" \
  bash -c '[[ "$1" != build && "$1" != build-asan && "$1" != build-tsan ]]' _ "$run_dir"
check "... nor the benchmark's (${bench[0]%% *})" [ "$run_dir" != "${bench[0]%% *}" ]
check "run.sh serves the binary it built there" \
  grep -qE "^exec $run_dir/server/keepdav " "$src/scripts/run.sh"
for dir in "$run_dir" build build-asan build-tsan build-bench; do
  check "git ignores $dir/" git -C "$src" check-ignore -q "$dir/server/keepdav"
done
check "the README names run.sh's folder" grep -qF "builds in \`$run_dir/\` (Release)" "$src/README.md"

echo "build_folders: $checks checks, $failures not ok"
[[ $failures -eq 0 ]]
