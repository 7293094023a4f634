#!/usr/bin/env bash
# Measures one packed part of the cost model's v2 batch on the GPU machine
# (tools/attn-tune-run/device_tune.sh), stopping the timing before the
# call's limit so that what was measured comes back.
#   bash bench/results/2026-12-03-h200-tune-v2-run.sh PART.tar.xz NAME SECONDS
set -uo pipefail
part=$1 name=$2 limit=${3:-540}
out=${OUT:-/tmp/out}/$name
mkdir -p "$out"
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv,noheader
timeout "$limit" bash tools/attn-tune-run/device_tune.sh "$part" "$out" \
  --warmup 2 --max-reps 20 --budget-ms 60 2>&1 | tail -40
rc=${PIPESTATUS[0]}
pkill -f build-rt/bin/attn-tune-run && sleep 2
[[ -f $out/results.jsonl.xz ]] || xz -9 -k -f "$out/results.jsonl" "$out/resources.jsonl" 2>/dev/null
rm -f "$out/results.jsonl" "$out/resources.jsonl"
ls -la "$out"
echo "device_tune rc=$rc (124: stopped at the limit; resume with pack.py --skip-ids-in)"
python3 - "$out/results.jsonl.xz" <<'PY'
import collections, json, lzma, sys
c = collections.Counter()
for line in lzma.open(sys.argv[1], "rt"):
    r = json.loads(line)
    if "meta" not in r:
        c[r["status"]] += 1
print(dict(c))
PY
