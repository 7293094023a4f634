# On the GPU machine, after compiling on the build machine:
#   attn-opt test/Execution/GPU/kernels-attention{,-tma}.mlir --attn-to-cubin="chip=h200-sxm package-dir=build-packages/<name>"
#   bench/sweep.py bench/sweeps/attention-hopper.json --out build-sweep --attn-opt build/bin/attn-opt
# Checks the attention kernels against float64 (and under compute-sanitizer),
# then times the sweep beside cuDNN.
set -u
export PATH=/usr/local/cuda/bin:$PATH
OUT=$OUT/check CHECK_FILTER='^kernels-attention(-tma)? ' SEEDS="1 2" TORCH_OPS=0 timeout 330 bash bench/check_gpu.sh > $OUT/check.txt 2>&1; echo "check rc $?"
grep -cE " PASS$" $OUT/check.txt; grep -E "FAIL" $OUT/check.txt | head -20
tail -22 $OUT/check.txt
timeout 420 python3 bench/bench.py --cases-file build-sweep/cases.json --packages build-sweep/packages --peers sdpa_cudnn --budget-ms 200 --out $OUT/sweep > $OUT/sweep.txt 2>&1; echo "sweep rc $?"
grep "^|" $OUT/sweep.txt | awk -F'|' '{printf "%-70s %s %s %s %s\n", $2, $3, $4, $8, $10}'
