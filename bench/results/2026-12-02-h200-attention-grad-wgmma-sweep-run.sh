# (the run of the commit dc450da; its sweep file then: bench/sweeps/attention-grad-hopper.json at dc450da)
# The first GPU run of the attention backward on warpgroup MMA. Here, first:
#   attn-opt test/Execution/GPU/kernels-grad-attention.mlir --attn-to-cubin="chip=h200-sxm package-dir=build-packages/kernels-grad-attention"
#   python3 python/tests/fa_grid.py --precompile build-packages/python --chip h200-sxm -j 2
#   bench/grad_sweep.py bench/sweeps/attention-grad-hopper.json --emit build-grad-sweep
# There: the kernels against float64 (and under compute-sanitizer), the
# FlashAttention-3 grid (forward and backward, FlashAttention's criterion),
# then the schedule sweep beside SDPA's backward.
set -u
export PATH=/usr/local/cuda/bin:$PATH
OUT=$OUT/check CHECK_FILTER='^kernels-grad-attention ' SEEDS="1 2" TORCH_OPS=0 timeout 240 bash bench/check_gpu.sh > $OUT/check.txt 2>&1; echo "check rc $?"
tail -24 $OUT/check.txt
ATTN_MLIR_PACKAGES=build-packages/python ATTN_RUNTIME_LIB=$PWD/build-rt/lib/libAttnRuntimeC.so timeout 150 python3 python/tests/fa_grid.py > $OUT/fa_grid.log 2>&1; echo "fa_grid rc $?"
grep -E "^FAIL|pass" $OUT/fa_grid.log | tail -8
ATTN_RUNTIME_LIB=$PWD/build-rt/lib/libAttnRuntimeC.so timeout 200 python3 bench/grad_sweep.py build-grad-sweep --out $OUT/grad-sweep.md > $OUT/grad-sweep.log 2>&1; echo "sweep rc $?"
grep -v "^|" $OUT/grad-sweep.log | tail -5
cat $OUT/grad-sweep.md
