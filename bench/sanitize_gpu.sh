#!/usr/bin/env bash
# On the GPU machine: run one small case of each kernel variant
# (bench/gpu_sanitize.list, packages from bench/compile_packages.sh) under
# compute-sanitizer memcheck, racecheck and synccheck, one attn-run each
# (one launch, output checked against float64). Writes the full log to
# $OUT/sanitize_gpu.log and prints a table last. Exit status 1 if a tool
# reports an error or hazard in a kernel, a CUDA API error, or a run that
# fails its check. bench/check_gpu.sh runs it after its own checks.
# CHECK_FILTER=<bash regex> restricts it as it does check_gpu.sh.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-bench/results/latest}
mkdir -p "$OUT"
LOG="$OUT/sanitize_gpu.log"
: > "$LOG"
SAN=${SANITIZER:-compute-sanitizer}
command -v "$SAN" >/dev/null || SAN=/usr/local/cuda/bin/compute-sanitizer
"$SAN" --version | head -1 | tee -a "$LOG"
if [ ! -x build-rt/bin/attn-run ]; then
  { cmake -G Ninja -S . -B build-rt -DATTN_RUNTIME_ONLY=ON -DCMAKE_BUILD_TYPE=Release &&
    ninja -C build-rt attn-run; } >"$OUT/cmake.log" 2>&1 || { cat "$OUT/cmake.log"; exit 2; }
fi
bad=0
rows=()
while read -r pkg fn opts; do
  [[ -z "$pkg" || "$pkg" == \#* ]] && continue
  # CHECK_FILTER=<regex>: only the "<package> <function>" lines it
  # matches, as in check_gpu.sh.
  [[ -n "${CHECK_FILTER:-}" && ! "$pkg $fn" =~ $CHECK_FILTER ]] && continue
  line="$(printf '%-18s %-32s' "$pkg" "$fn")"
  for tool in memcheck racecheck synccheck; do
    # shellcheck disable=SC2086
    out=$("$SAN" --tool "$tool" --print-limit 20 build-rt/bin/attn-run \
          "build-packages/$pkg" --function "$fn" --warmup 0 --iterations 1 $opts 2>&1)
    rc=$?
    { echo "\$ $SAN --tool $tool attn-run build-packages/$pkg --function $fn"; echo "$out"; } >> "$LOG"
    summary=$(echo "$out" | grep -oE 'ERROR SUMMARY: [0-9]+ error|RACECHECK SUMMARY: [0-9]+ hazard' | head -1)
    kernel=$(echo "$out" | grep -cE '^========= (Invalid|Race|Barrier|Uninitialized|Out-of-range|Misaligned|Address)' )
    api=$(echo "$out" | grep -c 'Program hit CUDA_ERROR' )
    pass=$(echo "$out" | grep -c 'attn-run: PASS')
    if [ "$kernel" -gt 0 ] || [ "$api" -gt 0 ] || [ "$pass" -eq 0 ]; then
      bad=$((bad + 1))
    fi
    line+="$(printf ' | %s: %s kernel, %s API%s' "$tool" "$kernel" "$api" "$([ "$pass" -eq 0 ] && echo ' (run FAILED)')")"
  done
  rows+=("$line")
done < bench/gpu_sanitize.list
{
  echo
  echo "== compute-sanitizer (kernel = reports in our kernels; API = CUDA API errors)"
  printf '%s\n' "${rows[@]}"
  echo "sanitize: $bad failing tool runs"
} | tee -a "$LOG"
[ "$bad" -eq 0 ]
