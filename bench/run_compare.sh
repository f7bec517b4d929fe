#!/usr/bin/env bash
# Regenerates the measured section of bench/RESULTS.md and its plots: builds
# rill_compare (Release) if needed, waits for the machine to be quiet, runs
# every workload on rill, the peers and the physical limits (3 interleaved
# repetitions), writes the section and draws the plots with gnuplot.
#
#   bench/run_compare.sh [rill_compare flags]     e.g. --reps 5, --only latency
#
# Environment:
#   RILL_BUILD_DIR    build directory (default: build); must be a Release build
#   RILL_BENCH_DIR    where the runs put their data (default: /tmp)
#   RILL_QUIET_WAIT   seconds to wait for load < 0.5, CPUs < 20 % busy and no
#                     compiler running (default 1200; then it runs anyway, and the
#                     report gives the load it ran under)
set -euo pipefail
cd "$(dirname "$0")/.."

build=${RILL_BUILD_DIR:-build}
if [ ! -f "$build/CMakeCache.txt" ]; then
  generator=()
  command -v ninja >/dev/null && generator=(-G Ninja)
  cmake -S . -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release
fi
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build/CMakeCache.txt")
if [ "$build_type" != Release ]; then
  echo "$build is a '$build_type' build; set RILL_BUILD_DIR to a Release build" >&2
  exit 2
fi
cmake --build "$build" --target rill_compare

# Wait for other work (compilers above all) to finish: two-thread figures and
# fresh-page costs move with the load. Other users' processes may not be
# visible here, so the CPUs' idle time counts too.
busy_percent() {  # CPU busy over 5 s, in percent
  local a b
  read -r -a a < /proc/stat
  sleep 5
  read -r -a b < /proc/stat
  awk -v a="${a[*]}" -v b="${b[*]}" 'BEGIN {
    n = split(a, x); split(b, y); total = 0
    for (i = 2; i <= 9 && i <= n; i++) total += y[i] - x[i]
    idle = (y[5] - x[5]) + (y[6] - x[6])
    printf "%d", (total > 0 ? 100 * (1 - idle / total) : 0) }'
}
waited=0
limit=${RILL_QUIET_WAIT:-1200}
while :; do
  load=$(cut -d' ' -f1 /proc/loadavg)
  busy=$(busy_percent)
  compilers=$(pgrep -c -x 'cc1plus|cc1' || true)
  if awk -v l="$load" 'BEGIN { exit !(l < 0.5) }' && [ "$busy" -lt 20 ] && [ "$compilers" -eq 0 ]; then
    break
  fi
  if [ "$waited" -ge "$limit" ]; then
    echo "still busy after ${waited}s (load $load, CPUs $busy% busy, $compilers compilers): running anyway" >&2
    break
  fi
  echo "waiting for a quiet machine (load $load, CPUs $busy% busy, $compilers compilers)..." >&2
  sleep 25
  waited=$((waited + 30))
done

out="$build/compare-report"
mkdir -p "$out"
status=0
"$build/bench/compare/rill_compare" --command "bench/run_compare.sh${*:+ $*}" \
  --markdown "$out/section.md" --plot-data "$out" "$@" >"$out/report.md" || status=$?

# Replace what lies between the markers in RESULTS.md.
results=bench/RESULTS.md
begin='<!-- BEGIN GENERATED: bench/run_compare.sh writes this section; do not edit -->'
end='<!-- END GENERATED -->'
awk -v begin="$begin" -v end="$end" -v section="$out/section.md" '
  $0 == begin { print; while ((getline line < section) > 0) print line; skip = 1; next }
  $0 == end { skip = 0 }
  !skip { print }
' "$results" >"$out/RESULTS.md"
mv "$out/RESULTS.md" "$results"

gnuplot -e "data='$out'; out='bench'" bench/compare/plots.gp
echo "wrote $results, bench/results_throughput.png, bench/results_latency.png" >&2
exit "$status"
