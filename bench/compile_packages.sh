#!/usr/bin/env bash
# On the build machine (MLIR needed): compile every .mlir file named in
# bench/gpu_check.list and bench/gpu_kernels.list into a kernel package under build-packages/, for
# bench/check_gpu.sh to run on the GPU machine (which has no MLIR), and every
# benchmark case bench/mlir/<name>.mlir (bench/gen_bench_mlir.py writes them
# from bench/cases.json) into build-packages/<name>, for bench/bench.py.
set -euo pipefail
cd "$(dirname "$0")/.."
ATTN_OPT=${ATTN_OPT:-build/bin/attn-opt}
CHIP=${CHIP:-sm_90a}
rm -rf build-packages && mkdir -p build-packages
# What the packages were compiled from, for bench.py's report.
git describe --always --dirty --abbrev=12 > build-packages/SOURCE_COMMIT 2>/dev/null || true
for src in $(cat bench/gpu_check.list bench/gpu_kernels.list | grep -v '^#' | awk 'NF {print $1}' | sort -u); do
  name=$(basename "$src" .mlir)
  echo "compile $src -> build-packages/$name"
  "$ATTN_OPT" "$src" --attn-to-cubin="chip=$CHIP package-dir=build-packages/$name" -o /dev/null
done
# The benchmark cases; a stale bench/mlir (edited cases.json) stops here.
python3 bench/gen_bench_mlir.py --check
for src in bench/mlir/*.mlir; do
  name=$(basename "$src" .mlir)
  echo "compile $src -> build-packages/$name"
  "$ATTN_OPT" "$src" --attn-to-cubin="chip=$CHIP package-dir=build-packages/$name" -o /dev/null
done
du -sh build-packages
