#!/usr/bin/env bash
# The README's demo: start the local target, run examples/local.yaml against it, aggregate,
# write the report, stop the target (also on failure or Ctrl-C) and say where the report is.
# DEMO_DIR (default: demo) holds the target's state, the results and the report. Run it again
# and it starts over (a target left running is stopped first, the results are replaced).
set -euo pipefail

dir=${DEMO_DIR:-demo}
started=$SECONDS
loadgen() { uv run --frozen loadgen "$@"; }
step() { printf '\n== %s (%d s)\n' "$1" "$((SECONDS - started))" >&2; }

# Without a terminal (a log, a pipe) the campaign's progress comes as lines, not a live bar.
plain=()
[ -t 2 ] || plain=(--plain)

step "setup: matplotlib's font cache (built once, before any report needs it)"
uv run --frozen python -m loadgen.report.fonts
mkdir -p "$dir"
loadgen local down --dir "$dir/target" >/dev/null 2>&1 || true
trap 'loadgen local down --dir "$dir/target" >/dev/null' EXIT
step "local target: HAProxy, gateway, FTP server, Prometheus"
loadgen local up --dir "$dir/target"
rm -rf "$dir/results"
step "campaign: examples/local.yaml"
loadgen run examples/local.yaml --stack-outputs "$dir/target/outputs.json" --results "$dir/results" \
  "${plain[@]}"
step "statistics: loadgen aggregate"
loadgen aggregate "$dir/results"
step "report: loadgen report"
loadgen report "$dir/results" -o "$dir/report.html"
echo
echo "Report: $dir/report.html (figures in $dir/report-figures, results in $dir/results)"
echo "Demo took $((SECONDS - started)) s."
