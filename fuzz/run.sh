#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 20) on a copy of its seed
# corpus, and prints the executions each made. Exits non-zero on a crash.
# Usage: fuzz/run.sh BUILD_DIR [SECONDS]      (BUILD_DIR configured with
#   -DCMAKE_CXX_COMPILER=clang++ -DRILL_BUILD_FUZZERS=ON)
set -euo pipefail
build=$1
seconds=${2:-20}
here=$(cd "$(dirname "$0")" && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for target in batch index recovery; do
  mkdir -p "$scratch/$target"
  cp "$here/corpus/$target"/* "$scratch/$target/"
  log="$scratch/$target.log"
  mkdir -p "$build/fuzz/artifacts"
  if ! "$build/fuzz/${target}_fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="$build/fuzz/artifacts/${target}-" \
      -print_final_stats=1 "$scratch/$target" >"$log" 2>&1; then
    tail -50 "$log"
    echo "${target}_fuzzer: FAILED" >&2
    exit 1
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
  echo "${target}_fuzzer: ${runs} executions in ${seconds}s, no crash"
done
