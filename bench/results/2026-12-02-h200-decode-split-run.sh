# On the GPU machine: the decoding cases on the default chosen after the
# ping-pong run (splits filling one wave: 2 at batch 8, 16 at batch 1),
# beside every peer. Packages compiled on the build machine from 37a32a4:
#   attn-opt bench/mlir/<case>.mlir --attn-to-cubin="chip=h200-sxm model=auto package-dir=build-bench2/<case>"
set -u
export PATH=/usr/local/cuda/bin:$PATH
cmake -G Ninja -S . -B build-rt -DATTN_RUNTIME_ONLY=ON -DCMAKE_BUILD_TYPE=Release > /tmp/cm.log 2>&1 && ninja -C build-rt attn-run AttnRuntimeC >> /tmp/cm.log 2>&1 || { tail -30 /tmp/cm.log; exit 2; }
cases=$(ls build-bench2 | grep -v SOURCE_COMMIT | grep -v SCHEDULES | tr '\n' ',' | sed 's/,$//')
timeout 240 python3 bench/bench.py --packages build-bench2 --cases "$cases" --out $OUT/bench --budget-ms 300 > $OUT/bench.txt 2>&1; echo "bench rc $?"
grep -A6 "^| case | ours" $OUT/bench.txt | head -6
