# On the GPU machine, after compiling on the build machine (commit in
# build-bench/SOURCE_COMMIT):
#   attn-opt test/Execution/GPU/kernels-attention{,-tma}.mlir --attn-to-cubin="chip=h200-sxm package-dir=build-packages/<name>"
#   attn-opt bench/mlir/<case>.mlir --attn-to-cubin="chip=h200-sxm model=auto package-dir=build-bench/<case>"   (attention and decode cases)
#   PYTHONPATH=python python3 python/tests/gpu_ops.py --precompile build-pyops --chip h200-sxm
# The attention kernels on the new defaults against float64 (and under
# compute-sanitizer), the benchmark beside every peer, the PyTorch ops.
set -u
export PATH=/usr/local/cuda/bin:$PATH
OUT=$OUT/check CHECK_FILTER='^kernels-attention(-tma)? ' SEEDS="1 2" TORCH_OPS=0 timeout 230 bash bench/check_gpu.sh > $OUT/check.txt 2>&1; echo "check rc $?"
grep -cE " PASS$" $OUT/check.txt; grep -E "FAIL|gpu-check:|failing tool" $OUT/check.txt | head -20
cases=$(ls build-bench | grep -v SOURCE_COMMIT | grep -v SCHEDULES | tr '\n' ',' | sed 's/,$//')
timeout 320 python3 bench/bench.py --packages build-bench --cases "$cases" --out $OUT/bench --budget-ms 250 > $OUT/bench.txt 2>&1; echo "bench rc $?"
ATTN_MLIR_PACKAGES=build-pyops ATTN_RUNTIME_LIB=$PWD/build-rt/lib/libAttnRuntimeC.so PYTHONPATH=python timeout 100 python3 python/tests/gpu_ops.py > $OUT/gpu_ops.txt 2>&1; echo "gpu_ops rc $?"; tail -4 $OUT/gpu_ops.txt
grep -A16 "^| case | ours" $OUT/bench.txt | head -16
