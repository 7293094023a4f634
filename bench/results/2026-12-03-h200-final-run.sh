#!/usr/bin/env bash
# The session's last device call (2026-12-03): after the linear
# cross-entropy default moved to the TMA pipeline and the cost model was
# retrained on its measurements. Here, first:
#   bash bench/compile_packages.sh                      # model=auto: the picks
#   for f in bench/mlir/*.mlir; do case $f in *__*) continue;; esac
#     build/bin/attn-opt $f --attn-to-cubin="chip=h200-sxm model=none \
#       package-dir=build-packages-default/$(basename $f .mlir)" -o /dev/null; done
# and carry build-packages, build-packages-default and build-sync. There:
#   1. the runtime; synccheck on variants of the TMA linear cross-entropy
#      kernel (build-sync/run.sh);
#   2. bench.py on the attention, decoding and linear cross-entropy cases,
#      the model's picks beside the hand-written defaults and the peers;
#   3. bench/check_gpu.sh: every line of the GPU check lists, seed 1, and
#      the sanitizer list (memcheck, racecheck, synccheck);
#   4. the PyTorch ops against PyTorch (python/tests/gpu_ops.py).
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-bench/results/latest}
export OUT
export PATH=/usr/local/cuda/bin:$PATH
{ cmake -G Ninja -S . -B build-rt -DATTN_RUNTIME_ONLY=ON -DCMAKE_BUILD_TYPE=Release &&
  ninja -C build-rt attn-run AttnRuntimeC; } > "$OUT/build.log" 2>&1 || { tail -30 "$OUT/build.log"; exit 2; }
export ATTN_RUNTIME_LIB=$PWD/build-rt/lib/libAttnRuntimeC.so
bash build-sync/run.sh
cases=$(python3 - <<'PY'
import json
print(",".join(c["name"] for c in json.load(open("bench/cases.json"))["cases"]
               if "__" not in c["name"] and c["op"] in ("attention", "linear_cross_entropy")))
PY
)
timeout 280 python3 bench/bench.py --packages build-packages --baseline-packages build-packages-default \
  --cases "$cases" --out "$OUT/bench" > "$OUT/bench.txt" 2>&1
echo "bench.py exit status $?"
SEEDS=1 TORCH_OPS=0 timeout 170 bash bench/check_gpu.sh > "$OUT/check.txt" 2>&1
echo "check_gpu.sh exit status $?"
grep -E "gpu-check:|sanitize:|FAIL|run FAILED" "$OUT/check.txt" | head -20
ATTN_MLIR_PACKAGES=build-packages/python timeout 40 python3 python/tests/gpu_ops.py > "$OUT/gpu_ops.log" 2>&1
echo "gpu_ops.py exit status $?"; grep -E "^FAIL|checks passed" "$OUT/gpu_ops.log" | tail -3
grep -E "^\[[0-9]+/" "$OUT/bench.txt" | cut -c1-300
# One archive: a call brings back at most 8 files.
(cd "$OUT" && tar czf ../final-all.tgz . && rm -rf ./* && mv ../final-all.tgz .)
