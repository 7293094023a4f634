#!/usr/bin/env bash
# device_tune.sh: measure an `attn-tune generate` batch on the GPU machine.
#
#   bash tools/attn-tune-run/device_tune.sh BATCH_ARCHIVE.tar.xz OUTDIR \
#       [attn-tune-run options, e.g. --only-shapes 2 --max-reps 10]
#
# Run from the repository root on a machine with a GPU and the CUDA toolkit
# (no LLVM or MLIR needed). It
#   1. builds the runtime-only tree build-rt (cmake -DATTN_RUNTIME_ONLY=ON)
#      if attn-tune-run is missing or stale;
#   2. extracts the archive into a temporary directory (the batch is the
#      directory holding candidates*.jsonl);
#   3. assembles every pkgs/*/*.ptx into the .cubin beside it with
#      `ptxas -arch=$ARCH -v` (ARCH defaults to sm_90a), $JOBS at a time, and
#      parses the logs (parse_ptxas.py) into OUTDIR/resources.jsonl: per
#      package the registers, spills, stack and shared memory of each kernel,
#      or "ptxas_ok": false and the reason;
#   4. runs attn-tune-run over each candidate list into OUTDIR/results.jsonl,
#      starting it again (it resumes) after a timeout, a lost CUDA context or
#      a crash, at most $MAX_RESTARTS times;
#   5. writes OUTDIR/results.jsonl.xz and OUTDIR/resources.jsonl.xz (xz -9)
#      and prints counts by status and by op.
#
# Running it again with the same OUTDIR resumes: candidates already in
# OUTDIR/results.jsonl are not measured again. With WORK_DIR set, the batch
# is extracted and assembled there once and kept, so that a resumed run
# (e.g. the next call of a time-limited session) goes straight to timing.
#
# Environment: CUDA_HOME (/usr/local/cuda), PTXAS ($CUDA_HOME/bin/ptxas),
# ARCH (sm_90a), JOBS (16), MAX_RESTARTS (50), PTXAS_TIMEOUT_S (900),
# WORK_DIR (a temporary directory, removed at exit).
set -euo pipefail

if [[ $# -lt 2 ]]; then
  sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
archive=$1
outdir=$2
shift 2
run_args=("$@")

if [[ ! -f tools/attn-tune-run/attn-tune-run.cpp ]]; then
  echo "device_tune.sh: run me from the attn-mlir repository root" >&2
  exit 2
fi
if [[ ! -f $archive ]]; then
  echo "device_tune.sh: no archive $archive" >&2
  exit 2
fi
repo=$PWD
cuda_home=${CUDA_HOME:-/usr/local/cuda}
ptxas=${PTXAS:-$cuda_home/bin/ptxas}
arch=${ARCH:-sm_90a}
jobs=${JOBS:-16}
max_restarts=${MAX_RESTARTS:-50}
ptxas_timeout=${PTXAS_TIMEOUT_S:-900}
helper=$repo/tools/attn-tune-run/parse_ptxas.py
runner=$repo/build-rt/bin/attn-tune-run
if [[ ! -x $ptxas ]]; then
  echo "device_tune.sh: no ptxas at $ptxas (set CUDA_HOME or PTXAS)" >&2
  exit 2
fi
mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)
say() { echo "device_tune.sh: $*" >&2; }

# 1. The runtime-only build (incremental when it exists).
if [[ ! -f build-rt/CMakeCache.txt ]]; then
  generator=()
  command -v ninja >/dev/null && generator=(-G Ninja)
  say "configuring build-rt"
  cmake "${generator[@]}" -S . -B build-rt -DATTN_RUNTIME_ONLY=ON \
    -DCMAKE_BUILD_TYPE=Release >"$outdir/build.log" 2>&1 ||
    { cat "$outdir/build.log" >&2; exit 2; }
fi
say "building attn-tune-run"
cmake --build build-rt --target attn-tune-run -j "$jobs" >>"$outdir/build.log" 2>&1 ||
  { tail -50 "$outdir/build.log" >&2; exit 2; }

# 2. The batch.
if [[ -n ${WORK_DIR:-} ]]; then
  mkdir -p "$WORK_DIR"
  work=$(cd "$WORK_DIR" && pwd)
else
  work=$(mktemp -d "${TMPDIR:-/tmp}/attn-tune.XXXXXX")
  trap 'rm -rf "$work"' EXIT
fi
if [[ ! -f $work/.extracted ]]; then
  say "extracting $archive"
  tar -xJf "$archive" -C "$work"
  touch "$work/.extracted"
fi
first_list=$(find "$work" -maxdepth 3 -name 'candidates*.jsonl' | sort | head -1)
if [[ -z $first_list ]]; then
  echo "device_tune.sh: $archive holds no candidates*.jsonl" >&2
  exit 2
fi
batch=$(dirname "$first_list")
mapfile -t lists < <(cd "$batch" && ls candidates*.jsonl | sort)
say "batch $(basename "$batch"): ${lists[*]}"

# 3. ptxas on every PTX file, in parallel; each leaves X.cubin, X.ptxas.log
# and X.ptxas.rc (its exit status) beside X.ptx.
count=$(find "$batch/pkgs" -name '*.ptx' | wc -l)
say "assembling $count PTX files with $ptxas -arch=$arch ($jobs at a time)"
start=$SECONDS
export ptxas arch ptxas_timeout
find "$batch/pkgs" -name '*.ptx' -print0 |
  xargs -0 -r -n 1 -P "$jobs" bash -c '
    cd "$(dirname "$1")"
    base=$(basename "$1" .ptx)
    [[ -f $base.ptxas.rc ]] && exit 0  # assembled by an earlier run
    status=0
    timeout "$ptxas_timeout" "$ptxas" -arch="$arch" -v "$base.ptx" -o "$base.cubin" \
      >"$base.ptxas.log" 2>&1 || status=$?
    [[ $status == 124 ]] && echo "error: ptxas timed out after ${ptxas_timeout} s" >>"$base.ptxas.log"
    echo "$status" >"$base.ptxas.rc"' _
python3 "$helper" resources "$batch" >"$outdir/resources.jsonl"
failed=$(grep -c '"ptxas_ok": false' "$outdir/resources.jsonl" || true)
say "ptxas: $(wc -l <"$outdir/resources.jsonl") packages, $failed failed, $((SECONDS - start)) s"

# 4. Timing, restarted after exits that leave the CUDA context unusable.
results=$outdir/results.jsonl
for list in "${lists[@]}"; do
  restarts=0
  while true; do
    status=0
    "$runner" --batch "$batch" --candidates "$list" --out "$results" \
      --resources "$outdir/resources.jsonl" "${run_args[@]}" || status=$?
    case $status in
      0) break ;;
      2) echo "device_tune.sh: attn-tune-run failed to start (see above)" >&2
         exit 2 ;;
      *) restarts=$((restarts + 1))
         if ((restarts > max_restarts)); then
           echo "device_tune.sh: attn-tune-run exited $status; giving up after $max_restarts restarts" >&2
           exit 1
         fi
         say "attn-tune-run exited $status (3: timeout, 4: context lost, else a crash); restart $restarts of $max_restarts"
         sleep 2 ;;
    esac
  done
done

# 5. Compressed copies and a summary.
xz -9 -k -f -T 0 "$results" "$outdir/resources.jsonl"
say "wrote $results.xz and $outdir/resources.jsonl.xz"
python3 - "$results" "${lists[@]/#/$batch/}" <<'EOF'
import collections, json, sys
results, lists = sys.argv[1], sys.argv[2:]
ops = {}
for path in lists:
    with open(path) as f:
        for line in f:
            if line.strip():
                c = json.loads(line)
                ops[c.get("id")] = c.get("op", "?")
by_status = collections.Counter()
by_op = collections.defaultdict(collections.Counter)
with open(results) as f:
    for line in f:
        r = json.loads(line)
        if "meta" in r:
            continue
        by_status[r["status"]] += 1
        by_op[ops.get(r["id"], "?")][r["status"]] += 1
statuses = sorted(by_status, key=lambda s: (s != "ok", s))
columns = statuses + ["total"]
def row(name, counts):
    cells = [counts[s] for s in statuses] + [sum(counts.values())]
    return "%-20s" % name + "".join("%*d" % (len(c) + 2, n)
                                    for c, n in zip(columns, cells))
print("%-20s" % "op" + "".join("  " + c for c in columns))
for op in sorted(by_op):
    print(row(op, by_op[op]))
print(row("all", by_status))
EOF
