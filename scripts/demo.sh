#!/usr/bin/env bash
# The README's demo: start the local target, run examples/local.yaml against it, aggregate,
# write the report, stop the target (also on failure or Ctrl-C) and say where the report is.
# DEMO_DIR (default: demo) holds the target's state, the results and the report.
set -euo pipefail

dir=${DEMO_DIR:-demo}
loadgen() { uv run --frozen loadgen "$@"; }

mkdir -p "$dir"
loadgen local down --dir "$dir/target" >/dev/null 2>&1 || true
trap 'loadgen local down --dir "$dir/target" >/dev/null' EXIT
loadgen local up --dir "$dir/target"
rm -rf "$dir/results"
loadgen run examples/local.yaml --outputs "$dir/target/outputs.json" --results "$dir/results"
loadgen aggregate "$dir/results"
loadgen report "$dir/results" -o "$dir/report.html"
echo
echo "Report: $dir/report.html (figures in $dir/report-figures, results in $dir/results)"
