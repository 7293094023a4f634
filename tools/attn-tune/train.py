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
  - Three targets (metrics.TARGETS): `rank:pairwise` grouped by shape
    (label: best time of the shape / time, so faster is more relevant),
    `reg:squarederror` on log2(median microseconds), and `reg:squarederror`
    on log2(median / the candidate's roofline time), the kernel's distance
    from its roofline. The one with the better validation top-1 ships; all
    are reported on the test shapes.
  - Metrics per op on test shapes (metrics.py), against the best measured
    candidate of each shape: top-1 ratio (best / time of the pick; 1.0 is
    perfect), its geomean, minimum and share >= 0.90 and >= 0.95, top-5
    ratio, pairwise ranking accuracy, Spearman; for both learned models, the
    analytic roofline model (features only), the hand-written default
    table, and fixed tables in the style of FlashAttention-3, FlexAttention
    and Liger-Kernel.
The model file carries attributes the compiler checks: attn_chip,
attn_feature_version, attn_target (one of metrics.TARGETS), and the
dataset and hyperparameters it came from. Beside it goes its trained
domain, <out without .json>.domain.json (domain.py): the range of the
shapes it was fit on, outside which attn-select-schedule keeps the
hand-written default schedule.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import xgboost as xgb

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dataset import load_datasets  # noqa: E402
from domain import domain_path, trained_domain, write_domain  # noqa: E402
from metrics import (TARGETS, baselines, cost_of, evaluate,  # noqa: E402
                     label_of, measured_groups, print_table, split_shapes)


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
        y = label_of(target, self.t, self.best, self.x, self.names)
        d = xgb.DMatrix(self.x, label=y, feature_names=self.names)
        if target == "rank":
            d.set_group(self.sizes)
        return d

    def slices(self):
        start = 0
        for s, n in zip(self.shapes, self.sizes):
            yield s, slice(start, start + n)
            start += n

    def per_shape(self, cost):
        """([(shape, rows)], [cost of each shape's rows]) for evaluate."""
        return ([(s, self.rows[sl]) for s, sl in self.slices()],
                [cost[sl] for _, sl in self.slices()])


def params_for(target, depth, eta):
    p = {"max_depth": depth, "eta": eta, "subsample": 0.9,
         "colsample_bytree": 0.9, "min_child_weight": 1, "seed": 1,
         "nthread": 2, "tree_method": "hist"}
    if target == "rank":
        p.update(objective="rank:pairwise", eval_metric="ndcg@5")
    else:
        p.update(objective="reg:squarederror", eval_metric="rmse")
    return p


def costs_of(target, predictions, data):
    """Lower is better."""
    return cost_of(target, predictions, data.x, data.names)


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
    parser.add_argument("--grid", choices=("full", "small"), default="full",
                        help="hyperparameter grid (small: for tests)")
    args = parser.parse_args()

    rows, meta = load_datasets(args.data)
    if meta["chip"] != args.chip:
        raise SystemExit(f"the data was planned for {meta['chip']}, "
                         f"not {args.chip}")
    names = meta["feature_names"]
    groups = measured_groups(rows)
    role = split_shapes(groups)
    sets = {k: Data(groups, [s for s in groups if role[s] == k], names)
            for k in ("train", "val", "test")}
    trainval = Data(groups, [s for s in groups if role[s] != "test"], names)
    print(f"{len(rows)} rows, {sum(len(g) for g in groups.values())} measured "
          f"in {len(groups)} shapes: " +
          ", ".join(f"{k} {len(d.shapes)} shapes / {len(d.rows)} points"
                    for k, d in sets.items()))

    for k, d in sets.items():
        if not d.shapes:
            raise SystemExit(f"no {k} shape: measure more shapes (the split "
                             f"keeps every fifth shape of an op for test and "
                             f"every fifth of the rest for validation)")

    # Hyperparameters on the validation shapes.
    grid = [(d, e, n) for d in (4, 6, 8, 10) for e in (0.05, 0.1, 0.2)
            for n in (100, 300, 600)]
    if args.grid == "small":
        grid = [(d, 0.2, 100) for d in (3, 6)]
    choice = {}
    for target in TARGETS:
        best = None
        for depth, eta, rounds in grid:
            booster = fit(target, depth, eta, rounds, sets["train"])
            pred = booster.predict(sets["val"].dmatrix(target))
            score = evaluate(*sets["val"].per_shape(
                costs_of(target, pred, sets["val"])))["all"]["top1_geomean"]
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
        report["test"][target] = evaluate(*test.per_shape(
            costs_of(target, predictions[target], test)))
    # The baselines on the same shapes: the analytic roofline model, the
    # hand-written default table and the fixed tables in the style of
    # FlashAttention-3, FlexAttention and Liger-Kernel (metrics.py).
    sm_count = int(meta["gpu"].get("sm_count", 132))
    report["baseline_notes"] = {}
    for name, (metrics, notes) in baselines(
            test.per_shape(np.zeros(len(test.rows)))[0], names,
            sm_count).items():
        report["test"][name] = metrics
        report["baseline_notes"][name] = notes

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
    # The shapes the shipped model was fit on, for attn-select-schedule's
    # guard: beside the model, <model>.domain.json (domain.py).
    write_domain(domain_path(args.out), trained_domain(
        rows, groups, trainval.shapes, names, args.chip,
        meta["feature_version"], ",".join(report["dataset"])))

    # Selection speed of the walker is measured by attn-tune; here only
    # the libxgboost prediction time for reference.
    start = time.perf_counter()
    booster.predict(test.dmatrix(shipped))
    report["xgboost_predict_ms_per_1000"] = (
        1000 * (time.perf_counter() - start) / max(1, len(test.rows)) * 1000)

    Path(args.report).parent.mkdir(parents=True, exist_ok=True)
    Path(args.report).write_text(json.dumps(report, indent=1) + "\n")
    print(f"shipped {shipped} -> {args.out}; report -> {args.report}")
    print_table([(m, report["test"][m]) for m in report["test"]])
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
    pred = 2.0 ** costs_of(report["shipped"], predictions[report["shipped"]],
                           test) if report["shipped"] != "rank" else \
        2.0 ** predictions["log2_time_us"]
    ops = sorted({r["op"] for r in test.rows})
    for op in ops:
        idx = [i for i, r in enumerate(test.rows) if r["op"] == op]
        ax.scatter(test.t[idx], pred[idx], s=4, label=op, alpha=0.6)
    lo, hi = test.t.min() * 0.8, test.t.max() * 1.2
    ax.plot([lo, hi], [lo, hi], "k--", lw=0.8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("measured median time (us)")
    ax.set_ylabel("predicted (%s, us)" % (report["shipped"] if
                  report["shipped"] != "rank" else "log2_time_us"))
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
