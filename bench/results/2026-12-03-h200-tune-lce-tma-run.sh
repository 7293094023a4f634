#!/usr/bin/env bash
# One device call: the cost model's measurements of the TMA linear
# cross-entropy kernel (two `attn-tune generate` batches: PIPELINES=tma,
# 8 schedules of each of the 63 linear_cross_entropy shapes of
# data/tuning/shapes.json, 16 of each of the 7 of shapes-bench-scale.json;
# see docs/CostModel.md), then compute-sanitizer synccheck and memcheck on
# variants of the kernel (build-sync/run.sh).
#   bash bench/results/2026-12-03-h200-tune-lce-tma-run.sh
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-/tmp/out}
bash bench/results/2026-12-03-h200-tune-v2-run.sh build-tune/lce-tma-b.tar.xz lce-tma-b 170 | tail -4
bash bench/results/2026-12-03-h200-tune-v2-run.sh build-tune/lce-tma-a.tar.xz lce-tma-a 230 | tail -4
[ -d build-sync ] && bash build-sync/run.sh
