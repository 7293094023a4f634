#!/usr/bin/python3
"""The trained domain of a cost model: per op, the range of a few shape-level
features over the shapes the model was fit on, widened by a margin. The
compiler reads it from <model>.domain.json beside the model
(lib/CostModel/TrainedDomain.cpp) and keeps the hand-written default
schedule for an op outside it: a tree ensemble does not extrapolate, and on
shapes far from its data its ranking can be worse than the defaults
(docs/CostModel.md, "Outside the data").

  /usr/bin/python3 tools/attn-tune/domain.py --data D.jsonl.xz ... \\
      --chip h200-sxm --out models/h200-sxm.domain.json

train.py writes the same file beside the model it saves; this command
rebuilds it from the dataset files alone in seconds. The feature values are
the dataset's, i.e. those lib/CostModel/Features.cpp computed for each
shape's default schedule: the compiler checks an op with the features of
its default schedule, so both sides compare the same numbers.

The shapes are those train.py fits the shipped model on: the measured
shapes (two or more timed candidates) that metrics.split_shapes does not
hold out for testing.
"""

import argparse
import collections
import json
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dataset import load_datasets  # noqa: E402
from metrics import measured_groups, split_shapes  # noqa: E402

FORMAT_VERSION = 1
# Sizes enter the features as log2(1 + x): a margin of 1 admits shapes up
# to about twice the largest (and half the smallest) trained value.
LOG_MARGIN = 1.0
# The features the domain bounds, with their margins. The shape and its
# work (FLOPs of the tiled form, bytes of the unfused form, both of the
# default schedule); flags and the element size admit no margin: a model
# that never saw a causal softmax or an f32 input has not seen one.
DOMAIN_FEATURES = (
    ("log_batch", LOG_MARGIN), ("log_heads_q", LOG_MARGIN),
    ("log_heads_kv", LOG_MARGIN), ("log_m", LOG_MARGIN),
    ("log_n", LOG_MARGIN), ("log_d", LOG_MARGIN),
    ("log_flops", LOG_MARGIN), ("log_unfused_bytes", LOG_MARGIN),
    ("causal", 0.0), ("window", 0.0), ("softcap", 0.0),
    ("elem_bytes", 0.0))
OP_PREFIX = "op_"
# Ops whose ranges are taken over each other's shapes too: the softmax
# family runs on one kernel family (the row kernels, one schedule space),
# and the model carries what it learns across it. Per op, the ranges of
# 17 shapes each left two held-out log_softmax shapes of the grid outside,
# where the model picks well (0.976 of the best on the four test shapes)
# and the default does not (0.825).
FAMILIES = (("softmax", "log_softmax", "logsumexp"),)


def domain_path(model_path):
    """<model without .json>.domain.json, beside the model: where the
    compiler looks for it (TrainedDomain.cpp, domainPathFor)."""
    path = Path(model_path)
    stem = path.name[:-len(".json")] if path.name.endswith(".json") \
        else path.name
    return path.with_name(stem + ".domain.json")


def op_of(features, names):
    """The op of a feature vector: the one-hot `op_<name>` column set."""
    hot = [n[len(OP_PREFIX):] for n, v in zip(names, features)
           if n.startswith(OP_PREFIX) and v == 1.0]
    return hot[0] if len(hot) == 1 else None


def trained_domain(rows, groups, trained, names, chip, feature_version,
                   dataset):
    """The domain document of a model fit on the shapes `trained` (keys of
    `groups`, measured_groups of `rows`)."""
    defaults = {r["shape"]: r for r in rows
                if r.get("default") and r.get("features")}
    columns = [(n, names.index(n), m) for n, m in DOMAIN_FEATURES
               if n in names]
    per_op = collections.defaultdict(list)
    for shape in sorted(trained):
        # The default's features; a shape whose default was not generated
        # (not in the real datasets) contributes every measured candidate.
        chosen = [defaults[shape]] if shape in defaults else groups[shape]
        for r in chosen:
            op = op_of(r["features"], names)
            if op is None:
                raise SystemExit(f"{shape}: no single op_* feature set")
            per_op[op].append((shape, r["features"]))
    ops = {}
    for op in sorted(per_op):
        family = next((f for f in FAMILIES if op in f), (op,))
        entries = [e for o in family for e in per_op.get(o, [])]
        bounds = {}
        for name, index, margin in columns:
            values = [float(f[index]) for _, f in entries]
            if not all(math.isfinite(v) for v in values):
                raise SystemExit(f"{op}: a non-finite {name} in the data")
            bounds[name] = {"min": min(values), "max": max(values),
                            "margin": margin}
        ops[op] = {"shapes": len({s for s, _ in entries}),
                   "shapes_of": ", ".join(o for o in family if o in per_op),
                   "features": bounds}
    return {"comment": "The shapes the cost model beside this file was "
                       "trained on: per op, each feature's range over them "
                       "(features of the default schedule, "
                       "lib/CostModel/Features.cpp) and the margin beyond it "
                       "within which attn-select-schedule trusts the model. "
                       "Written by tools/attn-tune/domain.py (train.py).",
            "attn_domain_version": FORMAT_VERSION, "chip": chip,
            "feature_version": feature_version, "dataset": dataset,
            "ops": ops}


def write_domain(out, doc):
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    print(f"trained domain -> {out}: " + ", ".join(
        f"{op} {e['shapes']} shapes" for op, e in doc["ops"].items()))


def why_outside(doc, features, names):
    """The reasons the feature vector lies outside the domain `doc` (empty:
    inside), for evaluate.py; the compiler's check is TrainedDomain.cpp."""
    op = op_of(features, names)
    entry = doc["ops"].get(op)
    if entry is None:
        return [f"no {op} shape was trained on"]
    reasons = []
    for name, b in entry["features"].items():
        v = features[names.index(name)]
        if not (b["min"] - b["margin"] <= v <= b["max"] + b["margin"]):
            reasons.append(f"{name} {v:.2f}")
    return reasons


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, nargs="+")
    parser.add_argument("--chip", required=True)
    parser.add_argument("--out", required=True,
                        help="the domain file (models/CHIP.domain.json)")
    args = parser.parse_args()
    rows, meta = load_datasets(args.data)
    if meta["chip"] != args.chip:
        raise SystemExit(f"the data was planned for {meta['chip']}, "
                         f"not {args.chip}")
    groups = measured_groups(rows)
    role = split_shapes(groups)
    trained = [s for s in groups if role[s] != "test"]
    doc = trained_domain(rows, groups, trained, meta["feature_names"],
                         args.chip, meta["feature_version"],
                         ",".join(Path(p).name for p in args.data))
    write_domain(args.out, doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
