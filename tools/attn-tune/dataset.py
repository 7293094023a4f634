#!/usr/bin/env python3
"""The cost model's dataset: joins what `attn-tune generate` wrote on the
build machine (candidates, features) with what the GPU machine measured
(tools/attn-tune-run/device_tune.sh: ptxas resources, times, failures) into
one compressed JSON-lines file under data/tuning/.

  tools/attn-tune/dataset.py merge --batch BATCH --results R.jsonl[.xz] ...
      --resources RES.jsonl[.xz] ... --commit C -o data/tuning/NAME.jsonl.xz
  tools/attn-tune/dataset.py stats data/tuning/NAME.jsonl.xz
  tools/attn-tune/dataset.py refeaturize data/tuning/NAME.jsonl.xz \
      --commit C -o data/tuning/NAME.jsonl.xz

The first line is {"meta": {...}}: the GPU, its driver and CUDA version, the
compiler commit, the chip the candidates were planned for, the sampling
seed, and the feature names. Every other line is one candidate: its op,
shape, schedule knobs, whether it is the default, the size of its space,
its features, the ptxas resources of its kernels, and either its time
(median, p10, p90, min in microseconds; status "ok") or its failure
(status and reason). Stdlib only.
"""

import argparse
import collections
import json
import lzma
import sys
from pathlib import Path


def read_jsonl(path):
    path = Path(path)
    opener = lzma.open if path.suffix == ".xz" else open
    with opener(path, "rt") as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError as e:
                raise SystemExit(f"{path}:{number}: not JSON: {e}")


def load_dataset(path):
    """(meta, rows) of a merged dataset file."""
    rows = list(read_jsonl(path))
    if not rows or "meta" not in rows[0]:
        raise SystemExit(f"{path}: the first line is not a meta line")
    return rows[0]["meta"], rows[1:]


def load_datasets(paths):
    """(rows, meta) of several merged dataset files with the same feature
    list; meta is the first file's."""
    rows, meta = [], None
    for path in paths:
        m, r = load_dataset(path)
        if meta and m["feature_names"] != meta["feature_names"]:
            raise SystemExit(f"{path}: other feature names than {paths[0]}")
        meta = meta or m
        rows.extend(r)
    return rows, meta


def merge(args):
    batch = Path(args.batch)
    features = json.loads((batch / "features.json").read_text())
    candidates = []
    for path in sorted(batch.glob("candidates*.jsonl")):
        candidates.extend(read_jsonl(path))
    results, meta_gpu = {}, {}
    for path in args.results:
        for r in read_jsonl(path):
            if "meta" in r:
                meta_gpu = meta_gpu or r["meta"]
                continue
            results[r["id"]] = r
    resources = {}
    for path in args.resources:
        resources.update({r["id"]: r for r in read_jsonl(path)})
    meta = {"gpu": meta_gpu, "compiler_commit": args.commit,
            "chip": features["chip"], "seed": features["seed"],
            "sample": features["sample"],
            "feature_version": features["version"],
            "feature_names": features["names"]}
    counts = collections.Counter()
    out = Path(args.o)
    out.parent.mkdir(parents=True, exist_ok=True)
    with lzma.open(out, "wt", preset=9) as f:
        f.write(json.dumps({"meta": meta}) + "\n")
        for c in candidates:
            row = {k: c[k] for k in ("id", "shape", "op", "schedule", "knobs",
                                     "default", "space_size", "sampled")}
            row["features"] = c.get("features")
            if "status" in c:          # failed on the build machine
                row["status"], row["reason"] = c["status"], c.get("reason")
            else:
                res = resources.get(c["id"])
                if res is not None:
                    row["kernels"] = res.get("kernels", [])
                r = results.get(c["id"])
                if r is None:
                    row["status"] = "not_measured"
                    row["reason"] = "no result from the GPU machine"
                else:
                    row["status"] = r["status"]
                    if r["status"] == "ok":
                        for k in ("median", "min", "p10", "p90"):
                            row[f"{k}_us"] = 1000.0 * r[f"{k}_ms"]
                        row["reps"] = r["reps"]
                        row["checked"] = r.get("checked")
                    else:
                        row["reason"] = r.get("reason", "")
            counts[(c["op"], row["status"])] += 1
            f.write(json.dumps(row) + "\n")
    print(f"{out}: {len(candidates)} candidates")
    for (op, status), n in sorted(counts.items()):
        print(f"  {op:22s} {status:14s} {n}")
    return 0


def refeaturize(args):
    """Recomputes the features of every row of a dataset file with this
    compiler (`attn-tune featurize`), keeping its measurements: the
    models of a new feature list train on the old data. The meta line
    records the new feature names and version, the commit that
    recomputed them and the version they replace; each row's "default"
    becomes whether it is this compiler's default schedule (the time
    stays the time of the kernel that schedule compiled to when it was
    measured)."""
    import subprocess
    import tempfile
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from shapes import parse_name, render
    meta, rows = load_dataset(args.dataset)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        names = sorted({r["shape"] for r in rows})
        cases = [parse_name(n) for n in names]
        unknown = [n for n, c in zip(names, cases) if c is None]
        if unknown:
            raise SystemExit(f"{args.dataset}: shapes without a parsable "
                             f"name: {unknown[:5]}")
        (tmp / "shapes.mlir").write_text("\n".join(render(c) for c in cases))
        with open(tmp / "rows.jsonl", "w") as f:
            for r in rows:
                f.write(json.dumps({k: r[k] for k in ("id", "shape",
                                                      "schedule")}) + "\n")
        subprocess.run([args.tune, "featurize", str(tmp / "shapes.mlir"),
                        "--chip", meta["chip"], "--rows",
                        str(tmp / "rows.jsonl"), "-o", str(tmp / "out.jsonl")],
                       check=True)
        out = list(read_jsonl(tmp / "out.jsonl"))
    version = out[0]["meta"]["version"]
    feature_names = out[0]["meta"]["names"]
    recomputed = {r["id"]: r for r in out[1:]}
    previous = meta.get("refeaturized", [])
    meta["refeaturized"] = previous + [{
        "from_version": meta["feature_version"],
        "compiler_commit": args.commit}]
    meta["feature_version"] = version
    meta["feature_names"] = feature_names
    lost = 0
    with lzma.open(args.o, "wt", preset=9) as f:
        f.write(json.dumps({"meta": meta}) + "\n")
        for r in rows:
            new = recomputed[r["id"]]
            r["default"] = new["default"]
            if "features" in new:
                r["features"] = new["features"]
            else:
                r["features"] = None
                if r["status"] == "ok":
                    lost += 1
                    r["status"] = "no_features"
                    r["reason"] = new["reason"]
            f.write(json.dumps(r) + "\n")
    print(f"{args.o}: {len(rows)} rows under feature version {version}; "
          f"{lost} measured rows without features now")
    return 0


def stats(args):
    meta, rows = load_dataset(args.dataset)
    ok = [r for r in rows if r["status"] == "ok"]
    shapes = {r["shape"] for r in ok}
    print(f"{args.dataset}: {len(rows)} candidates, {len(ok)} measured ok, "
          f"{len(shapes)} shapes; GPU {meta['gpu'].get('gpu', '?')}, "
          f"compiler {meta['compiler_commit']}")
    by_op = collections.defaultdict(lambda: [0, set(), 0])
    for r in rows:
        e = by_op[r["op"]]
        e[0] += r["status"] == "ok"
        e[2] += r["status"] != "ok"
        if r["status"] == "ok":
            e[1].add(r["shape"])
    for op, (n, s, bad) in sorted(by_op.items()):
        print(f"  {op:22s} {n:6d} ok points, {len(s):4d} shapes, "
              f"{bad} failed")
    failures = collections.Counter((r["status"], (r.get("reason") or "")[:80])
                                   for r in rows if r["status"] != "ok")
    for (status, reason), n in failures.most_common(10):
        print(f"  failure {status}: {n}x {reason}")
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    m = sub.add_parser("merge")
    m.add_argument("--batch", required=True)
    m.add_argument("--results", required=True, nargs="+")
    m.add_argument("--resources", required=True, nargs="+")
    m.add_argument("--commit", required=True)
    m.add_argument("-o", required=True)
    s = sub.add_parser("stats")
    s.add_argument("dataset")
    f = sub.add_parser("refeaturize")
    f.add_argument("dataset")
    f.add_argument("--tune", default="build/bin/attn-tune")
    f.add_argument("--commit", required=True)
    f.add_argument("-o", required=True)
    args = parser.parse_args()
    return {"merge": merge, "stats": stats,
            "refeaturize": refeaturize}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
