#!/usr/bin/env bash
# The JavaScript the dashboard ships, gzipped (issue 12: at most 150 KB): every script the run page loads
# (the heaviest page), as the build embeds them. Run after a build (dotnet build or scripts/test).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
www="$root/src/Gateway/wwwroot"
[ -f "$www/lib/uplot/uPlot.iife.min.js" ] || { echo "build the gateway first (its build copies uPlot into wwwroot/lib)" >&2; exit 1; }
total_raw=0; total_gz=0
for f in lib/uplot/uPlot.iife.min.js js/run.js js/live.js js/trajectory.js js/runs.js; do
  raw=$(wc -c <"$www/$f"); gz=$(gzip -9 -c "$www/$f" | wc -c)
  printf '%-32s %8d B  %8d B gzipped\n' "$f" "$raw" "$gz"
  total_raw=$((total_raw + raw)); total_gz=$((total_gz + gz))
done
printf '%-32s %8d B  %8d B gzipped (%.1f KB; budget 150 KB)\n' "total" "$total_raw" "$total_gz" "$(echo "$total_gz / 1024" | bc -l)"
