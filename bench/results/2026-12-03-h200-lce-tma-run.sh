#!/usr/bin/env bash
# One device call (bench/results/2026-12-03-h200-lce-tma.md): the linear
# cross-entropy forward on the TMA pipeline (schedule pipeline = "tma").
# Here, first:
#   mkdir -p build-packages && for n in kernels-linear-cross-entropy-tma kernels-attention; do
#     build/bin/attn-opt test/Execution/GPU/$n.mlir \
#       --attn-to-cubin="chip=h200-sxm package-dir=build-packages/$n" -o /dev/null; done
#   python3 bench/sweep.py bench/sweeps/lce-hopper.json --out build-sweep-lce \
#     --attn-opt build/bin/attn-opt
# then carry build-packages and build-sweep-lce. There:
#   1. the float64 check of every TMA linear cross-entropy function and of
#      the cp.async ones (seeds 1-3);
#   2. compute-sanitizer (memcheck, racecheck, synccheck) on the TMA ones;
#   3. the schedule sweep beside the bare bf16 matmul of the same shape.
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-bench/results/latest}
export OUT
SANITIZE=0 TORCH_OPS=0 CHECK_FILTER='^kernels-(linear-cross-entropy-tma tma_|attention lce_)' \
  bash bench/check_gpu.sh | tail -22
CHECK_FILTER='^kernels-linear-cross-entropy-tma ' bash bench/sanitize_gpu.sh | tail -6
export ATTN_RUNTIME_LIB=$PWD/build-rt/lib/libAttnRuntimeC.so
timeout 300 python3 bench/bench.py --cases-file build-sweep-lce/cases.json \
  --packages build-sweep-lce/packages --peers matmul_bf16 \
  --out "$OUT/sweep" > "$OUT/sweep.log" 2>&1
echo "bench.py exit status $?"
grep -E '^\| linear' "$OUT/sweep/results.md" | head -40
