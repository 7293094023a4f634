#!/usr/bin/python3
"""Trains the learned cost model on a measured dataset and evaluates it on
shapes it never saw. Runs with Debian's python3 and python3-xgboost
(`apt-get install python3-xgboost python3-matplotlib`; /usr/bin/python3, not
a virtualenv's).

  /usr/bin/python3 tools/attn-tune/train.py --data data/tuning/NAME.jsonl.xz \
      --chip h200-sxm --out models/h200-sxm.json \
      --report docs/cost-model/h200-sxm.json --plots docs/cost-model

Protocol (TenSet / MetaSchedule style):
  - Split by shape: per op, every fifth shape (in the order of a hash of its
    name) is a held-out TEST shape, never seen in training or model choice.
    Of the rest, every fifth is a VALIDATION shape for choosing
    hyperparameters; the final model is refit on train + validation.
  - Two objectives: `rank:pairwise` grouped by shape (label: best time of
    the shape / time, so faster is more relevant), and `reg:squarederror` on
    log2(median microseconds). The one with the better validation top-1
    ships; both are reported on the test shapes.
  - Metrics per op on test shapes, against the best measured candidate of
    each shape (the exhaustive search over what was measured): top-1 ratio
    (best / time of the pick; 1.0 is perfect), top-5 ratio (best of the 5
    best-scored / best), pairwise ranking accuracy; for the learned model,
    the analytic roofline model (features only) and the hand-written default
    schedule (the fixed table).
The model file carries attributes the compiler checks: attn_chip,
attn_feature_version, attn_target ("rank" or "log2_time_us"), and the
dataset and hyperparameters it came from.
"""

import argparse
import collections
import hashlib
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import xgboost as xgb

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dataset import load_dataset  # noqa: E402


def shape_hash(name):
    return hashlib.sha256(name.encode()).hexdigest()


def split_shapes(groups):
    """{shape: 'train'|'val'|'test'}, every fifth per op by hash order."""
    by_op = collections.defaultdict(list)
    for shape, rows in groups.items():
        by_op[rows[0]["op"]].append(shape)
    role = {}
    for op, shapes in by_op.items():
        shapes.sort(key=shape_hash)
        rest = []
        for i, s in enumerate(shapes):
            (role.__setitem__(s, "test") if i % 5 == 2 else rest.append(s))
        for i, s in enumerate(rest):
            role[s] = "val" if i % 5 == 4 else "train"
    return role


class Data:
    """Rows of the measured candidates of some shapes, grouped by shape."""

    def __init__(self, groups, shapes, names):
        self.shapes = sorted(shapes)
        self.rows = [r for s in self.shapes for r in groups[s]]
        self.x = np.array([r["features"] for r in self.rows], dtype=np.float32)
        self.t = np.array([r["median_us"] for r in self.rows])
        self.sizes = [len(groups[s]) for s in self.shapes]
        best = []
        for s in self.shapes:
            b = min(r["median_us"] for r in groups[s])
            best.extend([b] * len(groups[s]))
        self.best = np.array(best)
        self.names = names

    def dmatrix(self, target):
        y = (self.best / self.t) if target == "rank" else np.log2(self.t)
        d = xgb.DMatrix(self.x, label=y, feature_names=self.names)
        if target == "rank":
            d.set_group(self.sizes)
        return d

    def slices(self):
        start = 0
        for s, n in zip(self.shapes, self.sizes):
            yield s, slice(start, start + n)
            start += n


def params_for(target, depth, eta):
    p = {"max_depth": depth, "eta": eta, "subsample": 0.9,
         "colsample_bytree": 0.9, "min_child_weight": 1, "seed": 1,
         "nthread": 2, "tree_method": "hist"}
    if target == "rank":
        p.update(objective="rank:pairwise", eval_metric="ndcg@5")
    else:
        p.update(objective="reg:squarederror", eval_metric="rmse")
    return p


def costs_of(target, predictions):
    """Lower is better."""
    return -predictions if target == "rank" else predictions


def evaluate(data, cost, groups, ranks=True):
    """Per op: top-1 and top-5 ratios and pairwise accuracy of `cost`
    (an array over data.rows, lower is better). `ranks=False` for a cost
    that only marks one pick (the default table): top-5 and pairwise
    accuracy mean nothing there and are left out."""
    per_op = collections.defaultdict(lambda: {"top1": [], "top5": [],
                                              "pairs_ok": 0, "pairs": 0,
                                              "shapes": []})
    for shape, sl in data.slices():
        t = data.t[sl]
        c = cost[sl]
        best = t.min()
        order = np.argsort(c, kind="stable")
        e = per_op[data.rows[sl.start]["op"]]
        e["top1"].append(best / t[order[0]])
        e["top5"].append(best / t[order[:5]].min())
        e["shapes"].append((shape, float(best / t[order[0]])))
        dt = t[:, None] - t[None, :]
        dc = c[:, None] - c[None, :]
        mask = np.abs(dt) > 0.02 * np.minimum(t[:, None], t[None, :])
        e["pairs"] += int(mask.sum())
        e["pairs_ok"] += int(((np.sign(dt) == np.sign(dc)) & mask).sum())
    out = {}
    for op, e in per_op.items():
        top1 = np.array(e["top1"])
        out[op] = {"shapes": len(top1),
                   "top1_mean": float(top1.mean()),
                   "top1_geomean": float(np.exp(np.log(top1).mean())),
                   "top1_min": float(top1.min()),
                   "top1_ge_0.95": float((top1 >= 0.95).mean()),
                   "per_shape": e["shapes"]}
        if ranks:
            out[op]["top5_mean"] = float(np.mean(e["top5"]))
            out[op]["pairwise_accuracy"] = (
                e["pairs_ok"] / e["pairs"] if e["pairs"] else float("nan"))
    all_top1 = np.concatenate([[v for _, v in out[o]["per_shape"]]
                               for o in out])
    out["all"] = {"shapes": int(all_top1.size),
                  "top1_mean": float(all_top1.mean()),
                  "top1_geomean": float(np.exp(np.log(all_top1).mean())),
                  "top1_min": float(all_top1.min()),
                  "top1_ge_0.95": float((all_top1 >= 0.95).mean())}
    return out


def fit(target, depth, eta, rounds, train):
    return xgb.train(params_for(target, depth, eta), train.dmatrix(target),
                     num_boost_round=rounds)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, nargs="+")
    parser.add_argument("--chip", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--report", required=True)
    parser.add_argument("--plots", default="")
    args = parser.parse_args()

    rows, meta = [], None
    for path in args.data:
        m, r = load_dataset(path)
        if meta and m["feature_names"] != meta["feature_names"]:
            raise SystemExit(f"{path}: other feature names than {args.data[0]}")
        meta = meta or m
        rows.extend(r)
    if meta["chip"] != args.chip:
        raise SystemExit(f"the data was planned for {meta['chip']}, "
                         f"not {args.chip}")
    names = meta["feature_names"]
    groups = collections.defaultdict(list)
    for r in rows:
        if r["status"] == "ok" and r.get("features"):
            groups[r["shape"]].append(r)
    groups = {s: g for s, g in groups.items() if len(g) >= 2}
    role = split_shapes(groups)
    sets = {k: Data(groups, [s for s in groups if role[s] == k], names)
            for k in ("train", "val", "test")}
    trainval = Data(groups, [s for s in groups if role[s] != "test"], names)
    print(f"{len(rows)} rows, {sum(len(g) for g in groups.values())} measured "
          f"in {len(groups)} shapes: " +
          ", ".join(f"{k} {len(d.shapes)} shapes / {len(d.rows)} points"
                    for k, d in sets.items()))

    # Hyperparameters on the validation shapes.
    grid = [(d, e, n) for d in (4, 6, 8, 10) for e in (0.05, 0.1, 0.2)
            for n in (100, 300, 600)]
    choice = {}
    for target in ("rank", "log2_time_us"):
        best = None
        for depth, eta, rounds in grid:
            booster = fit(target, depth, eta, rounds, sets["train"])
            pred = booster.predict(sets["val"].dmatrix(target))
            score = evaluate(sets["val"], costs_of(target, pred),
                             groups)["all"]["top1_geomean"]
            if best is None or score > best[0] + 1e-9:
                best = (score, depth, eta, rounds)
        choice[target] = best
        print(f"{target}: validation top-1 geomean {best[0]:.4f} with "
              f"max_depth {best[1]}, eta {best[2]}, rounds {best[3]}")

    # Refit on train + validation; evaluate everything on the test shapes.
    report = {"dataset": [Path(p).name for p in args.data],
              "gpu": meta["gpu"], "compiler_commit": meta["compiler_commit"],
              "chip": args.chip,
              "split": {k: {"shapes": len(d.shapes), "points": len(d.rows)}
                        for k, d in sets.items()},
              "hyperparameters": {t: {"validation_top1_geomean": c[0],
                                      "max_depth": c[1], "eta": c[2],
                                      "rounds": c[3]}
                                  for t, c in choice.items()},
              "test": {}}
    test = sets["test"]
    boosters, predictions = {}, {}
    for target, (_, depth, eta, rounds) in choice.items():
        booster = fit(target, depth, eta, rounds, trainval)
        boosters[target] = booster
        predictions[target] = booster.predict(test.dmatrix(target))
        report["test"][target] = evaluate(test, costs_of(
            target, predictions[target]), groups)
    analytic_index = names.index("log_roofline_over_util_us")
    report["test"]["analytic"] = evaluate(test, test.x[:, analytic_index],
                                          groups)
    # The hand-written table's pick: shapes whose default schedule was not
    # measured (it failed or was not sampled) cannot be scored and are
    # left out of that row; the report counts them.
    with_default = [s for s in test.shapes
                    if any(r["default"] for r in groups[s])]
    report["test_shapes_without_measured_default"] = sorted(
        set(test.shapes) - set(with_default))
    test_default = Data(groups, with_default, names)
    default_cost = np.array([0.0 if r["default"] else 1.0
                             for r in test_default.rows])
    report["test"]["default"] = evaluate(test_default, default_cost, groups,
                                         ranks=False)

    shipped = max(choice, key=lambda t: choice[t][0])
    booster = boosters[shipped]
    booster.set_attr(attn_chip=args.chip,
                     attn_feature_version=str(meta["feature_version"]),
                     attn_target=shipped,
                     attn_dataset=",".join(report["dataset"]),
                     attn_compiler_commit=str(meta["compiler_commit"]),
                     attn_hyperparameters=json.dumps(
                         report["hyperparameters"][shipped]))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    booster.save_model(args.out)
    report["shipped"] = shipped

    # Selection speed of the walker is measured by attn-tune; here only
    # the libxgboost prediction time for reference.
    start = time.perf_counter()
    booster.predict(test.dmatrix(shipped))
    report["xgboost_predict_ms_per_1000"] = (
        1000 * (time.perf_counter() - start) / max(1, len(test.rows)) * 1000)

    Path(args.report).parent.mkdir(parents=True, exist_ok=True)
    Path(args.report).write_text(json.dumps(report, indent=1) + "\n")
    print(f"shipped {shipped} -> {args.out}; report -> {args.report}")
    print(f"{'test shapes':24s} {'model':>8s} {'top1 mean':>10s} "
          f"{'geomean':>8s} {'min':>6s} {'>=0.95':>7s} {'top5':>6s} "
          f"{'pairs':>6s}")
    for model in ("rank", "log2_time_us", "analytic", "default"):
        for op, e in sorted(report["test"][model].items()):
            print(f"{op:24s} {model:>8.8s} {e['top1_mean']:10.3f} "
                  f"{e['top1_geomean']:8.3f} {e['top1_min']:6.3f} "
                  f"{e['top1_ge_0.95']:7.2f} {e.get('top5_mean', float('nan')):6.3f} "
                  f"{e.get('pairwise_accuracy', float('nan')):6.3f}")
    if args.plots:
        plot(args.plots, args.chip, test, predictions, report)
    return 0


def plot(directory, chip, test, predictions, report):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(5.5, 5))
    pred = 2.0 ** predictions["log2_time_us"]
    ops = sorted({r["op"] for r in test.rows})
    for op in ops:
        idx = [i for i, r in enumerate(test.rows) if r["op"] == op]
        ax.scatter(test.t[idx], pred[idx], s=4, label=op, alpha=0.6)
    lo, hi = test.t.min() * 0.8, test.t.max() * 1.2
    ax.plot([lo, hi], [lo, hi], "k--", lw=0.8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("measured median time (us)")
    ax.set_ylabel("predicted (regression model, us)")
    ax.set_title(f"held-out shapes, {chip}")
    ax.legend(fontsize=7, markerscale=3)
    fig.tight_layout()
    fig.savefig(out / f"{chip}-predicted-vs-measured.png", dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(8, 4))
    for model, marker in ((report["shipped"], "o"), ("analytic", "x"),
                          ("default", "+")):
        values = sorted(v for op, e in report["test"][model].items()
                        if op != "all" for _, v in e["per_shape"])
        ax.plot(range(len(values)), values, marker, ms=3,
                label=f"{model} (geomean "
                      f"{report['test'][model]['all']['top1_geomean']:.3f})")
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("held-out shapes (sorted per model)")
    ax.set_ylabel("best measured time / time of the pick")
    ax.set_title(f"picked schedule vs the best measured, {chip}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / f"{chip}-ratio-to-best.png", dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
