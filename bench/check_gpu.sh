#!/usr/bin/env bash
# On the GPU machine: build the MLIR-free runtime and attn-run, then run
# every line of bench/gpu_check.list and bench/gpu_kernels.list (packages from bench/compile_packages.sh,
# carried in build-packages/) on the GPU for seeds 1-3, against the float64
# reference. Writes the full log to $OUT (or bench/results/latest) and
# prints a summary table last; then bench/sanitize_gpu.sh runs one small
# case of every kernel variant under compute-sanitizer memcheck, racecheck
# and synccheck (SANITIZE=0 skips it). Exit status 1 if any run failed or
# the sanitizer reported an error, a hazard or a CUDA API error. Then
# python/tests/gpu_ops.py checks the PyTorch ops and python/tests/fa_grid.py
# attention over FlashAttention-3's sequence grid (TORCH_OPS=0 skips both).
# CHECK_FILTER=<bash regex> restricts the run to the functions whose
# "<package> <function>" (e.g. "kernels-attention-tma tma_square_17")
# matches;
# SEEDS (default "1 2 3") are the input seeds of each function.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-bench/results/latest}
mkdir -p "$OUT"
LOG="$OUT/check_gpu.log"
: > "$LOG"

{
  echo "# attn-mlir GPU check, $(date -u +%Y-%m-%dT%H:%MZ)"
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  nvcc --version | tail -1
  # The packages' source (the device copy's git metadata may be stale).
  echo "packages from $(cat build-packages/SOURCE_COMMIT 2>/dev/null || echo unknown)"
} | tee -a "$LOG"

cmake -G Ninja -S . -B build-rt -DATTN_RUNTIME_ONLY=ON -DCMAKE_BUILD_TYPE=Release >"$OUT/cmake.log" 2>&1 &&
  ninja -C build-rt attn-run AttnRuntimeC >>"$OUT/cmake.log" 2>&1 || { cat "$OUT/cmake.log"; exit 2; }

seeds=${SEEDS:-1 2 3}
pass=0; fail=0
summary=()
while read -r src fn opts; do
  [[ -z "$src" || "$src" == \#* ]] && continue
  # CHECK_FILTER=<regex>: only the "<package> <function>" lines it matches
  # (a partial check).
  [[ -n "${CHECK_FILTER:-}" && ! "$(basename "$src" .mlir) $fn" =~ $CHECK_FILTER ]] && continue
  pkg="build-packages/$(basename "$src" .mlir)"
  for seed in $seeds; do
    # shellcheck disable=SC2086
    cmd="build-rt/bin/attn-run $pkg --function $fn --seed $seed --warmup 3 --iterations 10 $opts"
    out=$($cmd 2>&1)
    rc=$?
    echo "\$ $cmd" >> "$LOG"
    echo "$out" >> "$LOG"
    if [ $rc -eq 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
    if [ "$seed" = "${seeds%% *}" ] || [ $rc -ne 0 ]; then
      worst=$(echo "$out" | grep -oE 'rel_l2 [0-9.e+-]+' | awk '{print $2}' | sort -g | tail -1)
      ms=$(echo "$out" | grep -oE 'median [0-9.]+ ms' | awk '{print $2}')
      summary+=("$(printf '%-30s %-36s seed %s  worst rel_l2 %-10s %8s ms  %s' \
        "$(basename "$src")" "$fn $opts" "$seed" "${worst:--}" "${ms:--}" \
        "$([ $rc -eq 0 ] && echo PASS || echo FAIL)")")
    fi
  done
done < <(cat bench/gpu_check.list bench/gpu_kernels.list)

{
  echo
  echo "== summary (the first seed; failures of any seed; times are attn-run's, not benchmarks: see bench/bench.py)"
  printf '%s\n' "${summary[@]}"
  echo "gpu-check: $pass passed, $fail failed"
} | tee -a "$LOG"
# The PyTorch ops (python/attn_mlir) forward and backward against PyTorch's
# own implementations through torch.autograd, and under torch.compile; their
# packages come from compile_packages.sh (build-packages/python).
torch_ops=0
# torch_check TITLE SCRIPT SUMMARY-REGEX: one of the PyTorch-side checks.
torch_check() {
  local name
  name=$(basename "$2" .py)
  echo "== $1 ($2)" | tee -a "$LOG"
  ATTN_MLIR_PACKAGES=build-packages/python \
    ATTN_RUNTIME_LIB=$PWD/build-rt/lib/libAttnRuntimeC.so \
    python3 "$2" > "$OUT/$name.log" 2>&1
  local rc=$?
  grep -E "^FAIL|$3" "$OUT/$name.log" | tee -a "$LOG"
  [ "$rc" -eq 0 ] || tail -20 "$OUT/$name.log"
  echo "$name.py exit status $rc (log: $OUT/$name.log)" | tee -a "$LOG"
  [ "$rc" -eq 0 ] || torch_ops=1
}
if [ "${TORCH_OPS:-1}" != 0 ]; then
  torch_check "PyTorch ops" python/tests/gpu_ops.py "checks passed"
  # FlashAttention's criterion over FlashAttention-3's sequence grid.
  torch_check "attention over FlashAttention-3's grid" python/tests/fa_grid.py "grid points pass"
fi
sanitize=0
if [ "${SANITIZE:-1}" != 0 ]; then
  bash bench/sanitize_gpu.sh
  sanitize=$?
  echo "sanitize_gpu.sh exit status $sanitize (log: $OUT/sanitize_gpu.log)" | tee -a "$LOG"
fi
[ "$fail" -eq 0 ] && [ "$torch_ops" -eq 0 ] && [ "$sanitize" -eq 0 ]
