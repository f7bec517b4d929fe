#!/usr/bin/env bash
# Runs rill's reliability suite in its long mode and prints the table of
# docs/RELIABILITY.md from what it measured: the torture tests' summary
# lines (RELIABILITY ...), fuzzing executions per target, and the torture
# tests once more (short) in each sanitizer build. Run from the repository's
# root, after building (bash scripts/test.sh builds all four trees):
#
#   bash scripts/reliability_report.sh [BUILD_DIR] [FUZZ_SECONDS]
#
#   BUILD_DIR      release build tree (default: build)
#   FUZZ_SECONDS   seconds per fuzz target in build-fuzz (default 600; 0 skips)
#
# The sanitizer builds are build-asan and build-tsan, if present. Needs root
# for the tmpfs test, as scripts/test.sh does. Exits non-zero if anything
# failed; the table is printed either way.
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
fuzz_seconds=${2:-600}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
status=0

step() { printf '== %s (%s)\n' "$1" "$(date +%T)" >&2; }

step "torture tests, long mode, in $build"
start=$(date +%s)
if ! RILL_TEST_MODE=long "$build/tests/torture_test" >"$out/long.txt" 2>&1; then
  status=1
  tail -40 "$out/long.txt" >&2
fi
long_seconds=$(($(date +%s) - start))

sanitizers=()
for dir in build-asan build-tsan; do
  [ -x "$dir/tests/torture_test" ] || continue
  step "torture tests, short mode, in $dir"
  if ASAN_OPTIONS=halt_on_error=1:detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    TSAN_OPTIONS=halt_on_error=1 RILL_TEST_MODE=short "$dir/tests/torture_test" >"$out/$dir.txt" 2>&1; then
    sanitizers+=("$dir: passed, 0 reports")
  else
    sanitizers+=("$dir: FAILED")
    status=1
  fi
done

fuzz=()
if [ "$fuzz_seconds" != 0 ] && [ -x build-fuzz/fuzz/batch_fuzzer ]; then
  step "fuzzing, ${fuzz_seconds}s per target"
  if bash fuzz/run.sh build-fuzz "$fuzz_seconds" >"$out/fuzz.txt" 2>&1; then
    while read -r line; do fuzz+=("$line"); done <"$out/fuzz.txt"
  else
    fuzz+=("FAILED: $(tail -1 "$out/fuzz.txt")")
    status=1
  fi
fi

# field TEST NAME: the value of NAME in the summary line of TEST.
field() {
  grep "^RELIABILITY $1 " "$out/long.txt" | tr ' ' '\n' | grep "^$2=" | cut -d= -f2
}
row() { printf '| %s | %s | %s | %s | %s | `%s` |\n' "$@"; }
rerun="RILL_TEST_MODE=long $build/tests/torture_test"

echo "| what | injected | lost | wrong | failed | rerun |"
echo "|---|---|---:|---:|---:|---|"
row "SIGKILL of a producing child (3 threads, every durability, Send and SendAsync, a consumer)" \
  "$(field torture kills) kills, $(field torture acks) acknowledged records, $(field torture consumed) consumed" \
  "$(field torture lost)" "$(field torture wrong)" "$(field torture failed_reopens) reopens" \
  "$rerun \"[kill]\""
row "power loss after random sends, 4 crash modes (MemFileSystem)" \
  "$(field power_loss trials) crash copies, $(field power_loss durable_acks) durable records" \
  "$(field power_loss lost)" "$(field power_loss wrong)" "$(field power_loss failed_reopens) reopens" \
  "$rerun \"power loss: what*\""
row "power loss or crash at every operation of a new log" \
  "$(field power_loss_points trials) reopens" \
  "$(field power_loss_points lost)" "$(field power_loss_points wrong)" \
  "$(field power_loss_points failed_reopens) reopens" "$rerun \"power loss or a crash*\""
row "byte flips in sealed segments and indexes" \
  "$(field corruption flips) flips ($(field corruption in_batches) in batches, $(field corruption in_indexes) in indexes); verify found $(field corruption detected_by_verify), $(field corruption missed) missed" \
  "-" "$(field corruption wrong)" "$(field corruption failed_repairs) repairs" \
  "$rerun \"[corruption]\""
row "ENOSPC at every operation, each durability" \
  "$(field disk_full_points points) fault points, $(field disk_full_points refused) refused calls, $(field disk_full_points bad_errors) unclear errors" \
  "$(field disk_full_points lost)" "$(field disk_full_points wrong)" \
  "$(field disk_full_points failed_appends) appends" "$rerun \"disk full: ENOSPC*\""
row "a device of limited size" \
  "$(field disk_full_limit points) fills, $(field disk_full_limit refused) refused calls, $(field disk_full_limit bad_errors) unclear errors" \
  "$(field disk_full_limit lost)" "$(field disk_full_limit wrong)" \
  "$(field disk_full_limit failed_appends) appends" "$rerun \"disk full: a device*\""
row "a real 8 MiB tmpfs filled to ENOSPC" \
  "$(field disk_full_tmpfs records) records, $(field disk_full_tmpfs refused) refused, $(field disk_full_tmpfs bad_errors) unclear errors" \
  "$(field disk_full_tmpfs lost)" "$(field disk_full_tmpfs wrong)" \
  "$(field disk_full_tmpfs failed_appends) appends" "$rerun \"disk full for real*\""
for f in "${fuzz[@]}"; do row "fuzzing: ${f%%:*}" "${f#*: }" "-" "-" "-" "bash fuzz/run.sh build-fuzz $fuzz_seconds"; done
for s in "${sanitizers[@]}"; do row "sanitizer build ${s%%:*}, torture tests (short)" "${s#*: }" "-" "-" "-" "${s%%:*}/tests/torture_test"; done
echo
echo "Long mode: ${long_seconds}s on $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(uname -sr), $(date -u +%Y-%m-%d)."
exit $status
