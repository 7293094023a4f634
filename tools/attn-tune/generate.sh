#!/usr/bin/env bash
# The build-machine half of measuring the cost model's dataset: compiles a
# seeded sample of every shape's legal schedules into PTX-only kernel
# packages, with each candidate's features, and packs them for the GPU
# machine (which assembles them with ptxas and times them:
# tools/attn-tune-run/device_tune.sh). docs/CostModel.md has the whole
# sequence.
#
#   tools/attn-tune/generate.sh BATCH_DIR [SAMPLE] [SEED] [CHIP] [OPS]
#
# SAMPLE schedules per shape (default 28), SEED (default 1), CHIP the chip
# the schedules are planned for (default h200-sxm), OPS a comma-separated
# subset of ops (default all). Writes BATCH_DIR/ and BATCH_DIR.tar.xz; uses
# both cores (two shards).
#
# PIPELINES=tma,tma_pingpong samples only those pipelines' schedules (and
# the default). GUIDE=MODEL (auto or a path) takes the default and the
# model's best-ranked schedules instead of a random sample. SHAPES=FILE.mlir takes the shapes from FILE.mlir (one func.func per attn
# op, e.g. your own) instead of data/tuning/shapes.json, SHAPES=FILE.json
# from a shape list in the format of data/tuning/shapes.json (e.g.
# data/tuning/shapes-bench-scale.json; OPS applies); with a SAMPLE
# larger than any space (e.g. 100000) every legal schedule is compiled:
# the exhaustive measurement tools/attn-tune/evaluate.py checks a model
# against.
set -euo pipefail
cd "$(dirname "$0")/../.."
batch=${1:?usage: generate.sh BATCH_DIR [SAMPLE] [SEED] [CHIP] [OPS]}
sample=${2:-28}
seed=${3:-1}
chip=${4:-h200-sxm}
ops=${5:-}
tune=${ATTN_TUNE:-build/bin/attn-tune}
jobs=${JOBS:-$(nproc)}
rm -rf "$batch" && mkdir -p "$batch"
if [[ ${SHAPES:-} == *.json ]]; then
  python3 tools/attn-tune/shapes.py mlir --shapes "$SHAPES" ${ops:+--only "$ops"} \
    "$batch/shapes.mlir"
elif [[ -n ${SHAPES:-} ]]; then
  cp "$SHAPES" "$batch/shapes.mlir"
else
  python3 tools/attn-tune/shapes.py mlir ${ops:+--only "$ops"} "$batch/shapes.mlir"
fi
git describe --always --dirty --abbrev=12 > "$batch/COMPILER_COMMIT" 2>/dev/null \
  || echo unknown > "$batch/COMPILER_COMMIT"
pids=()
for ((i = 0; i < jobs; i++)); do
  "$tune" generate "$batch/shapes.mlir" --chip "$chip" --sample "$sample" \
    ${PIPELINES:+--pipelines "$PIPELINES"} ${GUIDE:+--guide "$GUIDE"} \
    --seed "$seed" -o "$batch" --shard "$i" --shards "$jobs" \
    2> "$batch/generate-$i.log" &
  pids+=($!)
done
rc=0
for p in "${pids[@]}"; do wait "$p" || rc=1; done
cat "$batch"/candidates-*-of-"$jobs".jsonl > "$batch/candidates.jsonl"
rm "$batch"/candidates-*-of-"$jobs".jsonl
tail -n 1 "$batch"/generate-*.log
echo "$(wc -l < "$batch/candidates.jsonl") candidates"
tar -C "$batch" -cf - candidates.jsonl features.json COMPILER_COMMIT pkgs \
  | xz -T2 -6 > "$batch.tar.xz"
du -h "$batch.tar.xz"
exit $rc
