#!/usr/bin/env bash
# The full GPU check after attn-extern-dynamic-shared (every kernel's PTX now
# declares its dynamic shared memory as an extern array) and the TMA
# linear cross-entropy backward default (2026-12-03). Here, first:
#   bash bench/compile_packages.sh          # model=auto: the cost model's picks
# and carry build-packages. There:
#   1. bench/check_gpu.sh: every line of bench/gpu_check.list and
#      bench/gpu_kernels.list, seed 1, against the float64 reference;
#   2. bench/sanitize_gpu.sh: memcheck, racecheck and synccheck on every
#      entry of bench/gpu_sanitize.list;
#   3. python/tests/gpu_ops.py: the PyTorch ops against PyTorch.
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-bench/results/latest}
export OUT
mkdir -p "$OUT"
SEEDS=1 SANITIZE=0 TORCH_OPS=0 timeout 230 bash bench/check_gpu.sh > "$OUT/check.txt" 2>&1
echo "check_gpu.sh exit status $?"
grep -E "gpu-check:|FAIL" "$OUT/check.txt" | head -20
timeout 250 bash bench/sanitize_gpu.sh > "$OUT/sanitize.txt" 2>&1
echo "sanitize_gpu.sh exit status $?"
grep -E "sanitize:|FAILED| [1-9][0-9]* kernel| [1-9][0-9]* API" "$OUT/sanitize.txt" | head -20
grep -c "memcheck:" "$OUT/sanitize.txt"
export ATTN_RUNTIME_LIB=$PWD/build-rt/lib/libAttnRuntimeC.so
ATTN_MLIR_PACKAGES=build-packages/python timeout 60 python3 python/tests/gpu_ops.py > "$OUT/gpu_ops.log" 2>&1
echo "gpu_ops.py exit status $?"; grep -E "^FAIL|checks passed" "$OUT/gpu_ops.log" | tail -3
