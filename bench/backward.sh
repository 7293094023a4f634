#!/usr/bin/env bash
# The training (backward) benchmark on the GPU machine (CUDA driver, PyTorch,
# Triton; no MLIR). Here, first:
#   PYTHONPATH=python python3 bench/bench_backward.py --precompile build-packages-backward
# and carry build-packages-backward/ with the working tree. There:
#   1. builds the runtime-only tree build-rt (libAttnRuntimeC.so), as
#      bench/device.sh does;
#   2. runs bench/bench_backward.py with ATTN_MLIR_PACKAGES and
#      ATTN_RUNTIME_LIB set, writing backward.md, backward.json and
#      backward.log to $OUT (default bench/results/backward-latest) and
#      printing the tables last.
# Extra arguments go to bench_backward.py (e.g. --quick, --ops attention,
# --deadline-s 500). PKG overrides the package directory.
#
# Exit status: that of bench_backward.py (1 if one of our ops failed its
# check or could not run), or 2 if the packages are missing or the build
# failed.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-bench/results/backward-latest}
PKG=${PKG:-build-packages-backward}
export OUT
mkdir -p "$OUT"

if [ ! -f "$PKG/PRECOMPILE.json" ]; then
  echo "backward.sh: no $PKG/PRECOMPILE.json: run bench/bench_backward.py --precompile $PKG on the build machine and carry $PKG" >&2
  exit 2
fi

echo "== build (runtime only)"
if ! { cmake -G Ninja -S . -B build-rt -DATTN_RUNTIME_ONLY=ON -DCMAKE_BUILD_TYPE=Release &&
       ninja -C build-rt AttnRuntimeC; } >"$OUT/build.log" 2>&1; then
  tail -40 "$OUT/build.log"
  echo "backward.sh: the runtime build failed (log: $OUT/build.log)" >&2
  exit 2
fi

echo "== training benchmark (bench/bench_backward.py)"
ATTN_MLIR_PACKAGES=$PWD/$PKG \
  ATTN_RUNTIME_LIB=$PWD/build-rt/lib/libAttnRuntimeC.so \
  python3 bench/bench_backward.py --out "$OUT" "$@"
