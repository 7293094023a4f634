# The attention backward on warpgroup MMA with P's exponentials under the dP
# product and dS under dV (2026-12-03): its float64 check, compute-sanitizer,
# the PyTorch ops, FlashAttention-3's grid, and the training benchmark's
# attention cases beside SDPA (flash, cuDNN) and compiled FlexAttention.
# Here, first (build/bin on PATH):
#   for f in test/Execution/GPU/kernels-grad-attention test/Execution/CPU/grad-attention; do
#     attn-opt $f.mlir --attn-to-cubin="chip=h200-sxm package-dir=build-packages/$(basename $f)" -o /dev/null; done
#   python3 python/tests/gpu_ops.py --precompile build-packages/python --chip h200-sxm -j 2
#   python3 python/tests/fa_grid.py --precompile build-packages/python --chip h200-sxm -j 2
#   PYTHONPATH=python python3 bench/bench_backward.py --precompile build-packages-backward --ops attention
set -u
export PATH=/usr/local/cuda/bin:$PATH
RT=$PWD/build-rt/lib/libAttnRuntimeC.so
OUT=$OUT/check CHECK_FILTER='^(kernels-)?grad-attention ' TORCH_OPS=0 timeout 240 bash bench/check_gpu.sh > $OUT/check.txt 2>&1; echo "check rc $?"
grep -E "gpu-check:|sanitize:|FAIL" $OUT/check.txt | head -20
ATTN_MLIR_PACKAGES=build-packages/python ATTN_RUNTIME_LIB=$RT timeout 200 python3 python/tests/gpu_ops.py > $OUT/gpu_ops.log 2>&1; echo "gpu_ops rc $?"
grep -E "^FAIL|checks passed" $OUT/gpu_ops.log | tail -5
ATTN_MLIR_PACKAGES=build-packages/python ATTN_RUNTIME_LIB=$RT timeout 150 python3 python/tests/fa_grid.py > $OUT/fa_grid.log 2>&1; echo "fa_grid rc $?"
grep -E "^FAIL|pass" $OUT/fa_grid.log | tail -4
OUT=$OUT/backward PKG=build-packages-backward timeout 330 bash bench/backward.sh --ops attention > $OUT/backward.txt 2>&1; echo "backward rc $?"
grep -A8 "^### Attention" $OUT/backward.txt | tail -7
