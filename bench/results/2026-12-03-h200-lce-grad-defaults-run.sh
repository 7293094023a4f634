#!/usr/bin/env bash
# After the linear cross-entropy backward's sm_90a default became size-
# dependent (128 x 128 tiles where grad-hidden would have fewer than 16
# blocks of 128 x 256): the float64 check of every backward function (their
# defaults now take 128 x 128 or 128 x 256 tiles on the tma pipeline),
# seeds 1-3, and forward+backward beside torch.compile. Here, first:
#   for n in kernels-grad-linear-cross-entropy-tma kernels-grad-linear-cross-entropy \
#            kernels-linear-cross-entropy-tma; do
#     build/bin/attn-opt test/Execution/GPU/$n.mlir \
#       --attn-to-cubin="chip=h200-sxm package-dir=build-packages-tg/$n" -o /dev/null; done
#   PYTHONPATH=python python3 bench/bench_backward.py --precompile build-packages-backward \
#     --ops linear_cross_entropy
# and carry build-packages-tg and build-packages-backward.
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-bench/results/latest}
export OUT
mkdir -p "$OUT"
rm -rf build-packages && ln -s build-packages-tg build-packages
SANITIZE=0 TORCH_OPS=0 CHECK_FILTER='^kernels-grad-linear-cross-entropy(-tma)? ' \
  bash bench/check_gpu.sh > "$OUT/check.txt" 2>&1
echo "check_gpu.sh exit status $?"; grep -E "gpu-check:|FAIL" "$OUT/check.txt" | head
OUT=$OUT/backward PKG=build-packages-backward timeout 240 bash bench/backward.sh \
  --ops linear_cross_entropy --deadline-s 200 > "$OUT/backward.txt" 2>&1
echo "backward.sh exit status $?"
grep -E '^\| (quick_)?linear' "$OUT/backward/backward.md" | head -6
