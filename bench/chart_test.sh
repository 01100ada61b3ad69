#!/usr/bin/env bash
# bench/chart.py on a results file made here with known ratios (issue 16): a PNG and an SVG,
# one bar group per scenario that has figures for keepdav and a peer, one bar per peer, the
# ratio written on it, the 1.0 line marked; a peer without a figure has no bar; a scenario only
# keepdav ran has no group. report.finish writes the chart beside the JSON and TSV, and a
# missing gnuplot is said, not hidden.
#
# gnuplot comes from Debian's gnuplot-nox (scripts/install-deps.sh test and bench). Without it the
# test is skipped (exit 77), except under CI=true, where install-deps has installed it: there it
# fails.
#
# Usage: chart_test.sh SOURCE_DIR
set -euo pipefail

src="$1"
bench="$src/bench"
if ! command -v gnuplot >/dev/null 2>&1; then
  if [[ "${CI:-}" == true || "${CI:-}" == 1 ]]; then
    echo "bench_chart: FAILED: missing gnuplot (Debian package gnuplot-nox); under CI=true this" \
      "is a failure, not a skip: scripts/install-deps.sh test installs it"
    exit 1
  fi
  echo "bench_chart: SKIPPED: missing gnuplot (Debian package gnuplot-nox; as root, run: bash" \
    "scripts/install-deps.sh test)"
  exit 77
fi
tmp="$(mktemp -d "${TMPDIR:-/tmp}/keepdav-bench-chart.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

checks=0 failures=0
check() {
  local what="$1"
  shift
  checks=$((checks + 1))
  if "$@"; then echo "ok $checks - $what"; else
    echo "not ok $checks - $what"
    failures=$((failures + 1))
  fi
}

# keepdav 200 req/s against 100 (2.00x ahead) and 400 (0.50x); Depth infinity 1 s against 3 s
# (3.00x) and a failed peer; the 100k scenario ran on keepdav alone.
cat >"$tmp/run.json" <<'EOF'
{"meta": {"smoke": false, "rounds": 2, "servers": ["keepdav", "alpha", "beta"],
          "keepdav": "abc1234", "started": "2026-12-02T07:00:00Z", "cpus": 2},
 "summary": {
  "get_rps": {"keepdav": {"median": 200}, "alpha": {"median": 100}, "beta": {"median": 400}},
  "pfinf_s": {"keepdav": {"median": 1.0}, "alpha": {"median": 3.0},
              "beta": {"median": null, "reason": "failed: 500"}},
  "pf100k_s": {"keepdav": {"median": 2.5}}
 },
 "records": []}
EOF
out_rc=0
python3 "$bench/chart.py" "$tmp/run.json" >"$tmp/out.txt" 2>&1 || out_rc=$?
sed 's/^/# /' "$tmp/out.txt"
check "chart.py exits 0" [ "$out_rc" -eq 0 ]
check "it wrote a PNG" bash -c '[[ "$(head -c 8 "$1" | od -An -tx1 | tr -d " \n")" == 89504e470d0a1a0a ]]' \
  _ "$tmp/run.png"
check "and an SVG" grep -q '<svg' "$tmp/run.svg"
svg="$tmp/run.svg"
has() { grep -qF -- "$1" "$svg"; }
check "a bar group per scenario with figures: GET" has '>GET 4 KiB req/s<'
check "... and PROPFIND Dinf" has '>PROPFIND Dinf<'
check "no group for the scenario keepdav ran alone" bash -c '! grep -qF "PROPFIND Dinf 100k" "$1"' _ "$svg"
check "a legend entry per peer (alpha)" has '>vs alpha<'
check "... (beta)" has '>vs beta<'
check "keepdav ahead 2x: its ratio on the bar" has '>2.00<'
check "keepdav behind 2x: 0.50" has '>0.50<'
check "lower is better: 3 s against 1 s is 3.00" has '>3.00<'
check "the failed peer has no bar: three ratios in all" \
  [ "$(grep -oE '>[0-9]+\.[0-9]{2}<' "$svg" | wc -l)" -eq 3 ]
check "the 1.0 line is labelled on the ratio axis" has '>1x even<'
check "the axis says what a bar is" has 'above 1.0x keepdav is ahead'

# report.finish: the chart beside the JSON and TSV.
finish_rc=0
(cd "$bench" && python3 -c '
import json, sys
import report
r = json.load(open(sys.argv[1]))
sys.exit(report.finish(sys.argv[2], r["meta"], [], r["summary"], []))' \
  "$tmp/run.json" "$tmp/finished") >"$tmp/finish.txt" 2>&1 || finish_rc=$?
sed 's/^/# /' "$tmp/finish.txt"
check "report.finish exits 0" [ "$finish_rc" -eq 0 ]
check "... writing JSON, TSV, PNG and SVG side by side" \
  test -s "$tmp/finished.json" -a -s "$tmp/finished.tsv" -a -s "$tmp/finished.png" -a -s "$tmp/finished.svg"
check "... and saying where the chart is" grep -q "bench: chart drawn to $tmp/finished.png" "$tmp/finish.txt"

# Without gnuplot on PATH: said, and chart.py fails.
mkdir -p "$tmp/bin"
python="$(python3 -c "import sys; print(sys.executable)")"
nog_rc=0
PATH="$tmp/bin" "$python" "$bench/chart.py" "$tmp/run.json" >"$tmp/nog.txt" 2>&1 || nog_rc=$?
check "without gnuplot chart.py exits 1 (exit $nog_rc)" [ "$nog_rc" -eq 1 ]
check "... saying gnuplot is missing and which package brings it" \
  grep -q 'not drawn: gnuplot is not installed (Debian gnuplot-nox' "$tmp/nog.txt"

echo "bench_chart: $checks checks, $failures not ok"
[[ $failures -eq 0 ]]
