#!/usr/bin/env python3
"""Packs (part of) an `attn-tune generate` batch for the GPU machine, so that
the measuring can start while the build machine still compiles, and so that
each device call stays under its carry limit.

  tools/attn-tune/pack.py BATCH OUT.tar.xz [--skip-shapes-in A.tar.xz ...]
      [--skip-ids-in RESULTS.jsonl ...] [--complete-only] [--small-first]

Takes every candidate of BATCH/candidates*.jsonl whose shape is not in a
previous archive (--skip-shapes-in); with --complete-only, leaves out the
last shape of each shard file (it may still be compiling). The archive holds
candidates.jsonl, features.json, COMPILER_COMMIT and the packages of the
chosen candidates: what tools/attn-tune-run/device_tune.sh takes. Stdlib
only.
"""

import argparse
import io
import json
import sys
import tarfile
from pathlib import Path


def shapes_in(archive):
    with tarfile.open(archive, "r:xz") as tar:
        f = tar.extractfile("candidates.jsonl")
        return {json.loads(line)["shape"] for line in f if line.strip()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("batch")
    parser.add_argument("out")
    parser.add_argument("--skip-shapes-in", nargs="*", default=[])
    parser.add_argument("--complete-only", action="store_true")
    parser.add_argument("--skip-ids-in", nargs="*", default=[],
                        help="results.jsonl files: skip their shapes")
    parser.add_argument("--small-first", action="store_true")
    parser.add_argument("--max-shapes", type=int, default=0)
    args = parser.parse_args()
    batch = Path(args.batch)
    skip = set()
    for a in args.skip_shapes_in:
        skip |= shapes_in(a)
    lines = []
    for path in sorted(batch.glob("candidates*.jsonl")):
        rows = []
        for line in path.read_text().splitlines():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                # The line being written; its shape is the last one.
                if not args.complete_only:
                    raise
                break
        if args.complete_only and rows:
            last = rows[-1]["shape"]
            rows = [r for r in rows if r["shape"] != last]
        lines.extend(r for r in rows if r["shape"] not in skip)
    if args.skip_ids_in:
        done = set()
        for path in args.skip_ids_in:
            for line in Path(path).read_text().splitlines():
                r = json.loads(line) if line.strip() else {}
                if r.get("status") not in (None, "setup_error") and "id" in r:
                    done.add(r["shape"])
        lines = [r for r in lines if r["shape"] not in done]
    if args.small_first:
        # The cheapest shapes first (bytes the tiled default moves), so
        # that a device call cut short has measured the most shapes.
        names = json.loads((batch / "features.json").read_text())["names"]
        at = names.index("log_bytes")
        cost = {r["shape"]: r["features"][at] for r in lines
                if r.get("default") and r.get("features")}
        lines.sort(key=lambda r: (cost.get(r["shape"], 99.0), r["shape"]))
        # Round robin over the kinds of op (decode apart from prefill), so
        # that a call cut short has measured some shapes of every kind.
        kinds = {}
        for r in lines:
            kind = r["op"] + ("_decode" if "_m1_" in r["shape"] else "")
            kinds.setdefault(kind, {}).setdefault(r["shape"], []).append(r)
        queues = [list(shapes.values()) for shapes in kinds.values()]
        lines = []
        while any(queues):
            for q in queues:
                if q:
                    lines.extend(q.pop(0))
    if args.max_shapes:
        keep, seen = [], []
        for r in lines:
            if r["shape"] not in seen:
                seen.append(r["shape"])
            if len(seen) <= args.max_shapes:
                keep.append(r)
        lines = keep
    if not lines:
        print("nothing to pack")
        return 1
    with tarfile.open(args.out, "w:xz", preset=6) as tar:
        data = "".join(json.dumps(r) + "\n" for r in lines).encode()
        info = tarfile.TarInfo("candidates.jsonl")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
        for name in ("features.json", "COMPILER_COMMIT"):
            tar.add(batch / name, arcname=name)
        for r in lines:
            if "package" in r:
                tar.add(batch / r["package"], arcname=r["package"])
    shapes = {r["shape"] for r in lines}
    print(f"{args.out}: {len(lines)} candidates of {len(shapes)} shapes, "
          f"{Path(args.out).stat().st_size / 2**20:.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
