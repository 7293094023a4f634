set -u
export PATH=/usr/local/cuda/bin:$PATH
cmake -G Ninja -S . -B build-rt -DATTN_RUNTIME_ONLY=ON -DCMAKE_BUILD_TYPE=Release > /tmp/cm.log 2>&1 && ninja -C build-rt attn-run AttnRuntimeC >> /tmp/cm.log 2>&1 || { tail -30 /tmp/cm.log; exit 2; }
OUT=$OUT/check CHECK_FILTER='^tma_' SEEDS="1 2 3" TORCH_OPS=0 SANITIZE=0 timeout 200 bash bench/check_gpu.sh > $OUT/check.txt 2>&1; echo "check rc $?"
grep -E "FAIL|gpu-check:" $OUT/check.txt
for fn in tma_square_17 tma_gqa4_causal_d128_stages4 tma_one_warpgroup_d256 tma_decode_split4_d128; do for tool in memcheck racecheck synccheck; do
  r=$(timeout 100 compute-sanitizer --tool $tool --print-limit 5 build-rt/bin/attn-run build-packages/kernels-attention-tma --function $fn --warmup 0 --iterations 1 --tolerance 1e-2 --tolerance result1=1e-5 2>&1); echo "$fn $tool: $(echo "$r" | grep -oE 'ERROR SUMMARY: [0-9]+ error|RACECHECK SUMMARY: [0-9]+ hazard' | head -1), $(echo "$r" | grep -c 'Program hit CUDA_ERROR') API errors, $(echo "$r" | grep -c 'attn-run: PASS') pass"; echo "$r" >> $OUT/sanitize.log
done; done
cases=$(ls build-packages-tma | tr '\n' ',' | sed 's/,$//')
timeout 400 python3 bench/bench.py --packages build-packages-tma --cases "$cases" --out $OUT/bench --budget-ms 300 > $OUT/bench.txt 2>&1; echo "bench rc $?"
grep "^\[" $OUT/bench.txt
