"""Checks attn-model-eval (the compiler's XGBoost tree walker) against XGBoost.

usage: xgb_walker_check.py ATTN_MODEL_EVAL WORKDIR

Trains small models with fixed seeds on random data (reg:squarederror with
missing values, rank:pairwise and rank:ndcg with query groups; depth up to 8,
50 trees, 20 named features), saves each with Booster.save_model (JSON),
writes a feature CSV with missing values and values exactly on split
thresholds, and compares attn-model-eval's predictions with
Booster.predict. Prints one "...: OK" line per model, or "...: FAIL" and
exits 1.
"""

import json
import math
import os
import subprocess
import sys

import numpy as np
import xgboost as xgb

NUM_FEATURES = 20
NAMES = ["feat_%02d" % i for i in range(NUM_FEATURES)]
TOLERANCE = 1e-5


def make_data(rng, rows, missing):
    x = rng.normal(size=(rows, NUM_FEATURES))
    x[:, 3] = rng.integers(0, 8, size=rows)  # a few repeated values
    x[:, 7] = np.exp(x[:, 7] * 3)  # a wide range
    target = (np.sin(x[:, 0]) + 0.5 * x[:, 1] * x[:, 2] + (x[:, 3] > 4) +
              0.1 * np.log1p(x[:, 7]) + 0.1 * rng.normal(size=rows))
    x[rng.random(x.shape) < missing] = np.nan
    return x, target


def thresholds(model_path):
    """The split thresholds of every feature, from the saved JSON."""
    with open(model_path) as f:
        trees = json.load(f)["learner"]["gradient_booster"]["model"]["trees"]
    found = [set() for _ in range(NUM_FEATURES)]
    for tree in trees:
        for node, left in enumerate(tree["left_children"]):
            if left != -1:
                found[tree["split_indices"][node]].add(
                    tree["split_conditions"][node])
    return [sorted(values) for values in found]


def eval_rows(rng, model_path):
    """Fresh rows: random ones with missing values, rows exactly on split
    thresholds (the left-iff-less rule), next to them, and just below them
    in float64 but on them in float32 (XGBoost compares float32), extreme
    values."""
    x, _ = make_data(rng, 600, 0.2)
    cuts = thresholds(model_path)
    on_cuts = np.full((600, NUM_FEATURES), np.nan)
    for j, values in enumerate(cuts):
        if not values:
            continue
        picked = np.array(values, dtype=np.float32)[
            rng.integers(0, len(values), size=600)]
        # -1: the float32 below, 0: on it, 1: the float32 above, 2: a
        # float64 just below that rounds onto it (compared as float32).
        step = rng.integers(-1, 3, size=600)
        value = np.where(step < 0, np.nextafter(picked, np.float32(-np.inf)),
                         np.where(step == 1,
                                  np.nextafter(picked, np.float32(np.inf)),
                                  picked)).astype(np.float64)
        value = np.where(step == 2, value - np.abs(value) * 1e-10, value)
        on_cuts[:, j] = value
    on_cuts[rng.random(on_cuts.shape) < 0.1] = np.nan
    extreme = rng.choice([-1e30, -1e-30, 0.0, -0.0, 1e-30, 1e30],
                         size=(50, NUM_FEATURES))
    all_missing = np.full((2, NUM_FEATURES), np.nan)
    return np.vstack([x, on_cuts, extreme, all_missing])


def write_csv(path, x):
    with open(path, "w") as f:
        f.write(",".join(NAMES) + "\n")
        for i, row in enumerate(x):
            fields = []
            for v in row:
                if math.isnan(v):
                    fields.append("" if i % 2 else "nan")
                else:
                    fields.append(repr(float(v)))
            f.write(",".join(fields) + "\n")


def check(tool, workdir, label, booster, rng):
    model_path = os.path.join(workdir, label.replace(":", "_") + ".json")
    csv_path = model_path[:-len(".json")] + ".csv"
    booster.set_attr(trainer="xgb_walker_check", label=label)
    booster.save_model(model_path)

    x = eval_rows(rng, model_path)
    write_csv(csv_path, x)
    expected = booster.predict(xgb.DMatrix(x, feature_names=NAMES))
    run = subprocess.run([tool, model_path, csv_path], capture_output=True,
                         text=True)
    if run.returncode != 0:
        print("%s: attn-model-eval failed: %s: FAIL" % (label, run.stderr))
        return False
    got = np.array([float(line) for line in run.stdout.split()])
    if got.shape != expected.shape:
        print("%s: %d predictions for %d rows: FAIL" %
              (label, got.size, expected.size))
        return False
    diff = np.abs(got - expected.astype(np.float64))
    ok = bool(np.all(diff <= TOLERANCE * (1 + np.abs(expected))))
    # %.9g round-trips a float32.
    exact = int(np.sum(got.astype(np.float32) == expected))

    # The batched walk (what attn-select-schedule uses) gives the same text.
    batch = subprocess.run([tool, model_path, csv_path, "--batch"],
                           capture_output=True, text=True)
    if batch.returncode != 0 or batch.stdout != run.stdout:
        print("%s: --batch differs from one row at a time: FAIL" % label)
        ok = False

    describe = subprocess.run([tool, model_path, "--describe"],
                              capture_output=True, text=True).stdout
    for line in ["objective: " + label,
                 "trees: %d" % booster.num_boosted_rounds(),
                 "attribute trainer: xgb_walker_check",
                 "attribute label: " + label,
                 "features: %d (%s)" % (NUM_FEATURES, ", ".join(NAMES))]:
        if line not in describe.splitlines():
            print("%s: --describe lacks '%s': FAIL" % (label, line))
            ok = False
    print("%s: %d trees, %d rows (%d exact), max |diff| %.3g: %s" %
          (label, booster.num_boosted_rounds(), len(expected), exact,
           diff.max(), "OK" if ok else "FAIL"))
    return ok


def main():
    tool, workdir = sys.argv[1], sys.argv[2]
    os.makedirs(workdir, exist_ok=True)
    ok = True

    rng = np.random.default_rng(20240601)
    x, y = make_data(rng, 3000, 0.15)
    reg = xgb.train({"objective": "reg:squarederror", "max_depth": 8,
                     "eta": 0.2, "seed": 1, "nthread": 1},
                    xgb.DMatrix(x, label=y, feature_names=NAMES), 50)
    ok &= check(tool, workdir, "reg:squarederror", reg, rng)

    groups, per_group = 100, 20
    x, score = make_data(rng, groups * per_group, 0.1)
    relevance = np.clip(np.round(score - score.mean() + 2), 0, 4)
    for objective, depth in [("rank:pairwise", 8), ("rank:ndcg", 6)]:
        train = xgb.DMatrix(x, label=relevance, feature_names=NAMES)
        train.set_group([per_group] * groups)
        ranker = xgb.train({"objective": objective, "max_depth": depth,
                            "eta": 0.1, "seed": 2, "nthread": 1},
                           train, 50)
        ok &= check(tool, workdir, objective, ranker, rng)

    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
