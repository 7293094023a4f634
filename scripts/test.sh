#!/usr/bin/env bash
# Quick start, step 2: run the whole test suite (lit: dialect, passes,
# pipelines, CPU execution against a float64 reference, ptxas for sm_90a,
# the C API, the installed CMake package). Builds first if needed.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
if [ ! -f "$BUILD/build.ninja" ]; then
  ./scripts/deps.sh
  cmake -G Ninja -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release
fi
ninja -C "$BUILD" -j"${JOBS:-$(nproc)}"
set +e
/usr/lib/llvm-22/bin/lit -sv "$BUILD/test" 2>&1 | tee "$BUILD/lit.log"
rc=${PIPESTATUS[0]}
set -e
# One closing line in the plain 'N passed, N failed' form.
count() { # the number on lit's summary line for $1 (0 if absent)
  sed -nE "s/^ *$1 *: *([0-9]+).*/\1/p" "$BUILD/lit.log" | awk '{s += $1} END {print s + 0}'
}
passed=$(count Passed)
failed=$(( $(count Failed) + $(count Unresolved) + $(count 'Timed Out') + $(count 'Unexpectedly Passed') ))
skipped=$(( $(count Unsupported) + $(count 'Expectedly Failed') ))
echo "lit: $passed passed, $failed failed, $skipped skipped"
exit $rc
