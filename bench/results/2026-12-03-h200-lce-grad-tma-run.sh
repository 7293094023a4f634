#!/usr/bin/env bash
# One device call (bench/results/2026-12-03-h200-lce-grad-tma.md): the
# linear cross-entropy backward's products on the TMA pipeline (schedule
# pipeline = "tma"), and the attn-extern-dynamic-shared fix checked under
# synccheck. Here, first:
#   for n in kernels-grad-linear-cross-entropy-tma kernels-linear-cross-entropy-tma \
#            kernels-grad-linear-cross-entropy; do
#     build/bin/attn-opt test/Execution/GPU/$n.mlir \
#       --attn-to-cubin="chip=h200-sxm package-dir=build-packages-tg/$n" -o /dev/null; done
#   python3 bench/lce_grad_schedules.py --precompile build-packages-lcegrad-tma --set tma
#   PYTHONPATH=python python3 bench/bench_backward.py --precompile build-packages-backward \
#     --ops linear_cross_entropy
# then carry the three package directories. There:
#   1. the float64 check of every TMA backward function, the TMA forward
#      functions and the cp.async backward ones (seeds 1-2);
#   2. compute-sanitizer (memcheck, racecheck, synccheck) on the TMA
#      forward and backward entries of bench/gpu_sanitize.list;
#   3. the backward alone: the cp.async default against TMA schedules;
#   4. forward+backward beside torch.compile and eager (bench/backward.sh).
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-bench/results/latest}
export OUT
mkdir -p "$OUT"
rm -rf build-packages && ln -s build-packages-tg build-packages
SEEDS="1 2" SANITIZE=0 TORCH_OPS=0 \
  CHECK_FILTER='^kernels-(grad-linear-cross-entropy-tma|linear-cross-entropy-tma|grad-linear-cross-entropy) ' \
  bash bench/check_gpu.sh > "$OUT/check.txt" 2>&1
echo "check_gpu.sh exit status $?"; tail -4 "$OUT/check.txt"
CHECK_FILTER='^kernels-(grad-linear-cross-entropy-tma|linear-cross-entropy-tma) ' \
  bash bench/sanitize_gpu.sh > "$OUT/sanitize.txt" 2>&1
echo "sanitize_gpu.sh exit status $?"; tail -8 "$OUT/sanitize.txt"
export ATTN_RUNTIME_LIB=$PWD/build-rt/lib/libAttnRuntimeC.so
timeout 200 python3 bench/lce_grad_schedules.py --packages build-packages-lcegrad-tma \
  --set tma --out "$OUT/sweep" > "$OUT/sweep.log" 2>&1
echo "lce_grad_schedules.py exit status $?"
OUT=$OUT/backward PKG=build-packages-backward timeout 240 bash bench/backward.sh \
  --ops linear_cross_entropy --deadline-s 200 > "$OUT/backward.txt" 2>&1
echo "backward.sh exit status $?"
grep -E '^\| (quick_)?linear' "$OUT/backward/backward.md" | head -8
grep -E '^\| \[|^\| \(' "$OUT/sweep/lce_grad_schedules.md"
