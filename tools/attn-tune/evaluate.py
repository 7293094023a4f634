#!/usr/bin/python3
"""Checks a cost model against measured shapes: for every shape of a
dataset (data/tuning/*.jsonl.xz, or one you measured for shapes of your
own), the schedule the model picks against the best measured one, beside
the analytic model, the hand-written default table and the fixed tables
(metrics.py). The model is evaluated by the compiler's own tree walker
(attn-model-eval), i.e. exactly as attn-select-schedule scores.

  tools/attn-tune/evaluate.py --data D.jsonl.xz [--model models/h200-sxm.json]
      [--shapes all|test] [--json OUT.json]

--shapes test keeps the held-out shapes of train.py's split (for the
dataset the model was trained on); the default, all, is for datasets of
new shapes. Measuring shapes of your own: docs/CostModel.md ("Checking the
model on your shapes"). With the model's trained domain beside it
(<model>.domain.json, domain.py), the `guarded` row is what
attn-select-schedule picks: the default on shapes outside the domain, the
model's pick inside. Stdlib and numpy only.
"""

import argparse
import csv
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dataset import load_datasets  # noqa: E402
from domain import domain_path, why_outside  # noqa: E402
from metrics import (baselines, cost_of, default_cost, evaluate,  # noqa: E402
                     measured_groups, print_table, split_shapes)

ROOT = Path(__file__).resolve().parents[2]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, nargs="+")
    parser.add_argument("--model", default=str(ROOT / "models/h200-sxm.json"))
    parser.add_argument("--shapes", choices=("all", "test"), default="all")
    parser.add_argument("--model-eval",
                        default=str(ROOT / "build/bin/attn-model-eval"))
    parser.add_argument("--json", default="")
    args = parser.parse_args()

    rows, meta = load_datasets(args.data)
    names = meta["feature_names"]
    model = json.loads(Path(args.model).read_text())
    attrs = model["learner"].get("attributes", {})
    if attrs.get("attn_chip") != meta["chip"]:
        raise SystemExit(f"{args.model} is for {attrs.get('attn_chip')}, the "
                         f"data for {meta['chip']}")
    if attrs.get("attn_feature_version") != str(meta["feature_version"]):
        raise SystemExit(f"{args.model} has feature version "
                         f"{attrs.get('attn_feature_version')}, the data "
                         f"{meta['feature_version']}: retrain")
    target = attrs.get("attn_target", "log2_time_us")

    groups = measured_groups(rows)
    if args.shapes == "test":
        role = split_shapes(groups)
        groups = {s: g for s, g in groups.items() if role[s] == "test"}
    if not groups:
        raise SystemExit("no shape with two or more measured candidates")
    shapes = sorted(groups.items())

    with tempfile.TemporaryDirectory() as tmp:
        features = Path(tmp) / "features.csv"
        with features.open("w", newline="") as f:
            w = csv.writer(f)
            w.writerow(names)
            for _, rs in shapes:
                for r in rs:
                    w.writerow([repr(float(v)) for v in r["features"]])
        out = subprocess.run([args.model_eval, args.model, str(features)],
                             check=True, capture_output=True, text=True)
    pred = np.array([float(x) for x in out.stdout.split()])
    if pred.size != sum(len(rs) for _, rs in shapes):
        raise SystemExit("attn-model-eval returned the wrong number of rows")
    cost = cost_of(target, pred, [r["features"] for _, rs in shapes
                                  for r in rs], names)
    costs, start = [], 0
    for _, rs in shapes:
        costs.append(cost[start:start + len(rs)])
        start += len(rs)

    results = [(f"model:{target}", evaluate(shapes, costs))]
    notes = {}
    guarded = guard(shapes, costs, names, domain_path(args.model))
    if guarded:
        results.append(("guarded", guarded[0]))
        notes["guarded"] = guarded[1]
        print(f"guarded: {len(guarded[1]['outside'])} of {len(shapes)} "
              f"shapes outside the trained domain keep the default")
    for name, (metrics, note) in baselines(
            shapes, names, int(meta["gpu"].get("sm_count", 132))).items():
        results.append((name, metrics))
        notes[name] = note
    sampled = sum(1 for _, rs in shapes if rs[0].get("sampled"))
    print(f"{len(shapes)} shapes ({sampled} measured on a sample of their "
          f"space, the rest exhaustively), "
          f"{sum(len(rs) for _, rs in shapes)} measured candidates")
    print_table(results)
    for name, note in notes.items():
        if note.get("exact_matches") is not None:
            print(f"{name}: the table's own tile was measured for "
                  f"{note['exact_matches']} of {note['shapes']} shapes; "
                  f"elsewhere its nearest measured candidate stands in")
    missing = notes["default"]["shapes_without_measured_default"]
    if missing:
        print(f"default: not measured for {len(missing)} shapes, left out")
    if args.json:
        Path(args.json).write_text(json.dumps(
            {"model": args.model, "data": args.data, "shapes": args.shapes,
             "results": dict(results), "notes": notes}, indent=1) + "\n")
    return 0


def guard(shapes, costs, names, domain_file):
    """(metrics, notes) of attn-select-schedule's pick: the default for a
    shape outside the trained domain in `domain_file` (checked on its
    default's features), the model's pick elsewhere; None without a
    domain file."""
    if not domain_file.exists():
        print(f"no trained domain {domain_file}: no guarded row")
        return None
    doc = json.loads(domain_file.read_text())
    picked, outside = [], {}
    for (shape, rs), cost in zip(shapes, costs):
        default = default_cost(rs)
        first = next((r for r in rs if r["default"]), rs[0])
        reasons = why_outside(doc, first["features"], names)
        if reasons and default is not None:
            outside[shape] = reasons
            cost = default
        picked.append(cost)
    return (evaluate(shapes, picked, ranks=False),
            {"domain": str(domain_file), "outside": outside})


if __name__ == "__main__":
    sys.exit(main())
