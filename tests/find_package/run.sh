#!/usr/bin/env bash
# Installs the build tree of rill into a scratch prefix, then configures,
# builds and runs tests/find_package against it with CMake and pkg-config.
# Usage: run.sh BUILD_DIR SOURCE_DIR SCRATCH_DIR [SANITIZERS]
# SANITIZERS (e.g. address,undefined) must match the build's RILL_SANITIZE:
# an instrumented librill.a needs an instrumented program to link into.
set -euo pipefail
build=$1 source=$2 scratch=$3 sanitize=${4:-}
flags=()
if [ -n "$sanitize" ]; then
  flags=(-DCMAKE_CXX_FLAGS="-fsanitize=$sanitize" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=$sanitize")
fi
rm -rf "$scratch"
cmake --install "$build" --prefix "$scratch/prefix" >/dev/null
export PKG_CONFIG_PATH="$scratch/prefix/lib/pkgconfig:$scratch/prefix/lib/x86_64-linux-gnu/pkgconfig:${PKG_CONFIG_PATH:-}"
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
cmake -S "$source/tests/find_package" -B "$scratch/build" "${generator[@]}" \
  -DCMAKE_PREFIX_PATH="$scratch/prefix" "${flags[@]}" >/dev/null
cmake --build "$scratch/build" >/dev/null
"$scratch/build/with_cmake"
"$scratch/build/with_pkg_config"
# The installed headers are the public ones only.
if [ -d "$scratch/prefix/include/format" ] || [ -d "$scratch/prefix/include/storage" ]; then
  echo "private headers were installed" >&2
  exit 1
fi
echo "find_package(rill) and pkg-config both work"
