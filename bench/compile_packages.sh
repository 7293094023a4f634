#!/usr/bin/env bash
# On the build machine (MLIR needed): compile every .mlir file named in
# bench/gpu_check.list and bench/gpu_kernels.list into a kernel package under build-packages/, for
# bench/check_gpu.sh to run on the GPU machine (which has no MLIR), and every
# benchmark case bench/mlir/<name>.mlir (bench/gen_bench_mlir.py writes them
# from bench/cases.json) into build-packages/<name>, for bench/bench.py.
#
# CHIP (default h200-sxm, the lent GPU) is the chip the schedules are
# planned for; MODEL (default auto) is attn-select-schedule's model: `auto`
# picks every op's schedule with the shipped cost model of CHIP, `none`
# keeps the hand-written defaults (e.g. PKG=build-packages-default
# MODEL=none, then bench.py --baseline-packages build-packages-default).
# PKG (default build-packages) is the output directory.
set -euo pipefail
cd "$(dirname "$0")/.."
ATTN_OPT=${ATTN_OPT:-build/bin/attn-opt}
CHIP=${CHIP:-h200-sxm}
MODEL=${MODEL:-auto}
PKG=${PKG:-build-packages}
rm -rf "$PKG" && mkdir -p "$PKG"
# What the packages were compiled from, for bench.py's report.
{ git describe --always --dirty --abbrev=12 2>/dev/null || echo unknown; } > "$PKG/SOURCE_COMMIT"
echo "chip=$CHIP model=$MODEL" > "$PKG/SCHEDULES"
for src in $(cat bench/gpu_check.list bench/gpu_kernels.list | grep -v '^#' | awk 'NF {print $1}' | sort -u); do
  name=$(basename "$src" .mlir)
  echo "compile $src -> $PKG/$name"
  "$ATTN_OPT" "$src" --attn-to-cubin="chip=$CHIP model=$MODEL package-dir=$PKG/$name" -o /dev/null
done
# The benchmark cases; a stale bench/mlir (edited cases.json) stops here.
python3 bench/gen_bench_mlir.py --check
for src in bench/mlir/*.mlir; do
  name=$(basename "$src" .mlir)
  echo "compile $src -> $PKG/$name"
  "$ATTN_OPT" "$src" --attn-to-cubin="chip=$CHIP model=$MODEL package-dir=$PKG/$name" -o /dev/null
done
# The PyTorch ops' packages for python/tests/gpu_ops.py and fa_grid.py
# (check_gpu.sh).
python3 python/tests/gpu_ops.py --precompile "$PKG/python" --chip "$CHIP" -j 2
python3 python/tests/fa_grid.py --precompile "$PKG/python" --chip "$CHIP" -j 2
du -sh "$PKG"
