#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz (clang, ASan + UBSan + libFuzzer, in build-fuzz/)
# and fuzzes every target within one total time budget.
#
#   scripts/fuzz.sh [--budget-s=N] [--jobs=N] [--update-corpus] [target...]
#
#   --budget-s=N      total wall-clock seconds of fuzzing (default 300), split evenly between
#                     the rounds of --jobs targets that run at a time (each target one libFuzzer
#                     process with -max_total_time): the run takes N seconds plus the build.
#   --jobs=N          targets fuzzed at the same time (default 2: the machines have 2 cores).
#   --update-corpus   afterwards, minimise (-merge=1) each committed corpus with what the run
#                     found: tests/fuzz/corpus/<target>/ keeps its seed-* and regression-* files
#                     and gains the fewest new inputs that add edge coverage.
#   target...         only these targets (names as in tests/fuzz/CMakeLists.txt).
#
# Inputs the fuzzers generate go to build-fuzz/fuzz-work/<target>/, not into the repository.
# A crash, a leak, a timeout, running out of memory or a failed FUZZ_CHECK invariant fails the
# run: the input is copied into tests/fuzz/corpus/<target>/regression-<kind>-<sha1> (so the
# GoogleTest replay of the normal build keeps checking it once committed), its path is printed,
# and the script exits 1. For each target it prints executions per second, runs, coverage
# points, the corpus size libFuzzer ended with (corpus) and the input files it drew on (files:
# committed corpus plus build-fuzz/fuzz-work/).
# Needs clang++ with libFuzzer (Debian: clang, libclang-rt-<version>-dev).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)

budget=300
jobs=2
update_corpus=0
targets=()
for arg in "$@"; do
  case "$arg" in
    --budget-s=*) budget=${arg#--budget-s=} ;;
    --jobs=*) jobs=${arg#--jobs=} ;;
    --update-corpus) update_corpus=1 ;;
    -h | --help)
      sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
      exit 0
      ;;
    -*)
      echo "fuzz: unknown option $arg" >&2
      exit 2
      ;;
    *) targets+=("$arg") ;;
  esac
done
if ! [[ $budget =~ ^[0-9]+$ && $jobs =~ ^[1-9][0-9]*$ ]]; then
  echo "fuzz: --budget-s and --jobs take whole numbers" >&2
  exit 2
fi

all_targets=$(sed -n '/^set(KEEPDAV_FUZZ_TARGETS/,/^)/p' tests/fuzz/CMakeLists.txt | sed '1d;$d')
# Targets with a known open finding, left out of the default (CI) run until it is fixed; they
# still build, their committed corpus still replays in the GoogleTest build, and naming them
# fuzzes them. None at present (access_rules' round-trip finding, a final blank in a path, was
# fixed on 2026-12-02 by AccessPathText).
known_open=()
if [[ ${#targets[@]} -eq 0 ]]; then
  read -r -a targets <<<"$(echo $all_targets)"
  kept=()
  for t in "${targets[@]}"; do
    if [[ " ${known_open[*]} " == *" $t "* ]]; then
      echo "fuzz: $t left out of this run (a known open finding; see known_open in $0)"
    else
      kept+=("$t")
    fi
  done
  targets=("${kept[@]}")
fi
for t in "${targets[@]}"; do
  if ! grep -qx "  $t" <<<"$all_targets"; then
    echo "fuzz: no target $t (have: $(echo $all_targets))" >&2
    exit 2
  fi
done

if ! command -v clang++ >/dev/null; then
  echo "fuzz: clang++ not found (Debian packages: clang, libclang-rt-dev)" >&2
  exit 2
fi
if ! compgen -G "$(dirname "$(clang++ -print-libgcc-file-name --rtlib=compiler-rt)")/libclang_rt.fuzzer-*.a" >/dev/null; then
  echo "fuzz: clang++ has no libFuzzer runtime (Debian package: libclang-rt-<version>-dev)" >&2
  exit 2
fi

build=$root/build-fuzz
launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
echo "fuzz: === build-fuzz/ (clang, libFuzzer + ASan + UBSan) ==="
mkdir -p "$build"
cmake -S . -B "$build" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DKEEPDAV_TESTS=OFF -DKEEPDAV_FUZZ=ON "${launcher[@]}" >"$build/configure.log" 2>&1 ||
  { cat "$build/configure.log" >&2; exit 2; }
cmake --build "$build" -j"$jobs" --target "${targets[@]/%/_fuzz}"

rounds=$(((${#targets[@]} + jobs - 1) / jobs))
per_target=$((budget / rounds))
if [[ $per_target -lt 1 ]]; then per_target=1; fi
echo "fuzz: ${#targets[@]} targets, $per_target s each, $jobs at a time (budget $budget s)"

# LeakSanitizer is on by default under libFuzzer; every UBSan report is fatal (the targets are
# built with -fno-sanitize-recover=all).
export ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

fuzz_one() {
  local t=$1
  local work=$build/fuzz-work/$t artifacts=$build/fuzz-artifacts/$t/
  mkdir -p "$work" "$artifacts"
  local rc=0 dict=()
  case "$t" in xml_request | dead_property) dict=(-dict=tests/fuzz/xml.dict) ;; esac
  "$build/tests/fuzz/${t}_fuzz" "$work" "tests/fuzz/corpus/$t" "${dict[@]}" \
    -max_total_time="$per_target" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
    -artifact_prefix="$artifacts" -print_final_stats=1 >"$build/fuzz-$t.log" 2>&1 || rc=$?
  echo "$rc" >"$build/fuzz-$t.rc"
}

running=0
for t in "${targets[@]}"; do
  if [[ $running -ge $jobs ]]; then
    wait -n || true
    running=$((running - 1))
  fi
  rm -rf "$build/fuzz-artifacts/$t"
  echo 1 >"$build/fuzz-$t.rc"
  fuzz_one "$t" &
  running=$((running + 1))
done

wait
status=0
printf 'fuzz: %-16s %8s %10s %6s %7s %6s %s\n' target exec/s runs cov corpus files result
for t in "${targets[@]}"; do
  rc=$(cat "$build/fuzz-$t.rc")
  log=$build/fuzz-$t.log
  execs=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  # The DONE line: cov (coverage points) and corp (inputs in the in-memory corpus, minimal).
  done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$done_line")
  corpus=$(sed -n 's/.* corp: \([0-9]*\)\/.*/\1/p' <<<"$done_line")
  files=$(find "$build/fuzz-work/$t" "tests/fuzz/corpus/$t" -type f | wc -l)
  result=ok
  shopt -s nullglob
  found=("$build/fuzz-artifacts/$t"/*)
  shopt -u nullglob
  if [[ $rc -ne 0 || ${#found[@]} -gt 0 ]]; then
    result="FAILED (exit $rc, log $log)"
    status=1
  fi
  printf 'fuzz: %-16s %8s %10s %6s %7s %6s %s\n' "$t" "${execs:-?}" "${runs:-?}" "${cov:-?}" \
    "${corpus:-?}" "$files" "$result"
  for artifact in "${found[@]}"; do
    name=$(basename "$artifact") # crash-<sha1>, leak-<sha1>, timeout-<sha1>, oom-<sha1>
    kept=tests/fuzz/corpus/$t/regression-$name
    cp "$artifact" "$kept"
    echo "fuzz: $t: ${name%%-*} input saved as $kept (replay: build-fuzz/tests/fuzz/${t}_fuzz $kept)"
  done
  if [[ $result != ok ]]; then
    grep -m1 -E 'ERROR: |fuzz invariant failed|runtime error' "$log" | sed "s/^/fuzz: $t: /" || true
  fi
done

if [[ $update_corpus -eq 1 ]]; then
  for t in "${targets[@]}"; do
    merged=$build/fuzz-merged/$t
    rm -rf "$merged"
    mkdir -p "$merged"
    find "tests/fuzz/corpus/$t" -type f \( -name 'seed-*' -o -name 'regression-*' \) \
      -exec cp {} "$merged/" \;
    before=$(find "$merged" -type f | wc -l)
    # Edge coverage only (-use_counters=0): hit counts would keep hundreds of near-duplicates.
    "$build/tests/fuzz/${t}_fuzz" -merge=1 -use_counters=0 -max_len=8192 "$merged" "tests/fuzz/corpus/$t" \
      "$build/fuzz-work/$t" >"$build/fuzz-merge-$t.log" 2>&1 ||
      { echo "fuzz: merge of $t failed (log $build/fuzz-merge-$t.log)" >&2; status=1; continue; }
    rm -f "tests/fuzz/corpus/$t"/*
    cp "$merged"/* "tests/fuzz/corpus/$t/"
    echo "fuzz: $t: corpus minimised to $(find "tests/fuzz/corpus/$t" -type f | wc -l) files" \
      "($before seeds and regression cases kept)"
  done
fi

if [[ $status -ne 0 ]]; then
  echo "fuzz: FAILED (inputs saved under tests/fuzz/corpus/; see the logs above)" >&2
fi
exit "$status"
