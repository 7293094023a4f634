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
passed=$(grep -E '^ *Passed *:' "$BUILD/lit.log" | grep -oE '[0-9]+' | tail -1)
failed=$(grep -E '^ *(Failed|Unresolved|Timed Out|Unexpectedly Passed) *:' "$BUILD/lit.log" | awk '{s += $NF} END {print s + 0}')
unsupported=$(grep -E '^ *Unsupported *:' "$BUILD/lit.log" | grep -oE '[0-9]+' | tail -1)
echo "lit: ${passed:-0} passed, ${failed:-0} failed, ${unsupported:-0} skipped"
exit $rc
