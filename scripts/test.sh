#!/usr/bin/env bash
# Builds rill and runs its whole test suite: a release build, then the same
# suite under AddressSanitizer+UndefinedBehaviorSanitizer and under
# ThreadSanitizer. Run from the repository's root: bash scripts/test.sh
#
# Environment:
#   RILL_TEST_MODE=short|long   length of the torture tests (default short)
#   RILL_SKIP_SANITIZERS=1      only the release build
#   RILL_FUZZ_SECONDS=N         seconds per fuzz target (default 20; 0 skips)
#   JOBS=N                      parallel build and test jobs (default: nproc)
set -euo pipefail
cd "$(dirname "$0")/.."

jobs=${JOBS:-$(nproc)}
export RILL_TEST_MODE=${RILL_TEST_MODE:-short}
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)

step() { printf '\n== %s (%s)\n' "$1" "$(date +%T)"; }

run_suite() {  # run_suite BUILD_DIR CMAKE_ARGS...
  local dir=$1
  shift
  step "configure $dir"
  cmake -S . -B "$dir" "${generator[@]}" -DRILL_WARNINGS_AS_ERRORS=ON "$@" >/dev/null
  step "build $dir"
  cmake --build "$dir" -j "$jobs"
  step "test $dir"
  ctest --test-dir "$dir" --output-on-failure -j "$jobs" --timeout 900
}

run_suite build -DCMAKE_BUILD_TYPE=Release
if [ "${RILL_SKIP_SANITIZERS:-0}" != 1 ]; then
  # halt_on_error: a sanitizer report fails the test that caused it.
  export ASAN_OPTIONS=halt_on_error=1:detect_leaks=1
  export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
  export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
  # -O1 and line tables only (-g1): what the sanitizers' own docs advise, and
  # half the compile time of -O2 -g; reports still name file and line.
  sanitized=(-DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG"
    -DRILL_BUILD_BENCHMARKS=OFF)
  run_suite build-asan "${sanitized[@]}" -DRILL_SANITIZE=address,undefined
  run_suite build-tsan "${sanitized[@]}" -DRILL_SANITIZE=thread
fi
fuzz_seconds=${RILL_FUZZ_SECONDS:-20}
if [ "${RILL_SKIP_SANITIZERS:-0}" != 1 ] && [ "$fuzz_seconds" != 0 ]; then
  # libFuzzer needs clang; the fuzz targets build with ASan and UBSan.
  if ! command -v clang++ >/dev/null; then
    echo "clang++ is missing: apt-get install -y clang libclang-rt-14-dev" \
      "(or RILL_FUZZ_SECONDS=0 to leave fuzzing out)" >&2
    exit 1
  fi
  step "configure build-fuzz"
  cmake -S . -B build-fuzz "${generator[@]}" -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRILL_WARNINGS_AS_ERRORS=ON -DRILL_BUILD_FUZZERS=ON \
    -DRILL_BUILD_TESTS=OFF -DRILL_BUILD_BENCHMARKS=OFF -DRILL_BUILD_EXAMPLES=OFF \
    -DRILL_INSTALL=OFF >/dev/null
  step "build build-fuzz"
  cmake --build build-fuzz -j "$jobs"
  step "fuzz, ${fuzz_seconds}s per target"
  bash fuzz/run.sh build-fuzz "$fuzz_seconds"
fi
step "all tests passed"
