#!/usr/bin/env bash
# The one script to run on the GPU machine (CUDA driver, PyTorch, Triton; no
# MLIR). Here, first: bench/compile_packages.sh (build-packages/ is carried
# with the working tree). There:
#   1. builds the runtime-only tree build-rt (attn-run, libAttnRuntimeC.so);
#   2. runs bench/check_gpu.sh (every line of bench/gpu_check.list and
#      bench/gpu_kernels.list against the float64 reference, seeds 1-3);
#   3. runs bench/bench.py: our packages of bench/cases.json against SDPA
#      (flash, cuDNN), FlexAttention, torch.softmax and the torch losses;
# writing everything to $OUT (default bench/results/latest) and printing the
# benchmark's short table last. Extra arguments go to bench.py (e.g.
# --cases softmax_4096x4096).
#
# CHECK_GPU=0 skips step 2. On an H100 the check takes over 4 minutes and
# the benchmark about 7: under a 10-minute limit per command, make two
# calls (CHECK_GPU=0 bash bench/device.sh, then bash bench/check_gpu.sh).
#
# Exit status: that of bench.py (1 if one of our packages failed its check,
# could not run or is missing), or 2 if the build failed.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-bench/results/latest}
export OUT
mkdir -p "$OUT"

if [ ! -d build-packages ]; then
  echo "device.sh: no build-packages/: run bench/compile_packages.sh on the build machine and carry build-packages" >&2
  exit 2
fi

echo "== build (runtime only)"
if ! { cmake -G Ninja -S . -B build-rt -DATTN_RUNTIME_ONLY=ON -DCMAKE_BUILD_TYPE=Release &&
       ninja -C build-rt; } >"$OUT/build.log" 2>&1; then
  tail -40 "$OUT/build.log"
  echo "device.sh: the runtime build failed (log: $OUT/build.log)" >&2
  exit 2
fi
export ATTN_RUNTIME_LIB=$PWD/build-rt/lib/libAttnRuntimeC.so

if [ "${CHECK_GPU:-1}" != 0 ]; then
  echo "== GPU check (bench/check_gpu.sh)"
  bash bench/check_gpu.sh 2>&1 | tail -25
  echo "check_gpu.sh exit status ${PIPESTATUS[0]} (log: $OUT/check_gpu.log)"
fi

echo "== benchmark (bench/bench.py)"
python3 bench/bench.py --packages build-packages --out "$OUT" "$@"
