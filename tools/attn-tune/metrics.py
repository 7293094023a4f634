"""How well a schedule picker does on measured shapes: the metrics and the
fixed tables it is compared with. Shared by train.py (held-out shapes of
the training data) and evaluate.py (any measured dataset, e.g. shapes of
your own). numpy only.

A picker is a cost per measured candidate (lower is better). Per shape:
  top-1  = best measured time / time of the lowest-cost candidate
  top-5  = best measured time / best time among the 5 lowest-cost ones
  pairwise accuracy: of the candidate pairs whose times differ by more
           than 2%, the share the costs order the same way
  Spearman: rank correlation of cost and time (per shape, then averaged)
"Best measured" is the best of what the dataset measured for the shape:
the whole legal space where it was measured exhaustively, a seeded sample
of it otherwise (the dataset's `sampled` and `space_size` say which).
"""

import collections
import hashlib
import math
import re

import numpy as np


# The model's targets (train.py) and how a prediction becomes a cost (lower
# is better), shared by train.py and evaluate.py; the compiler's CostModel
# (lib/CostModel/CostModel.cpp) does the same.
#   rank                     rank:pairwise on best / time, grouped by shape
#   log2_time_us             reg:squarederror on log2(median us)
#   log2_time_over_roofline  reg:squarederror on log2(median us / roofline us),
#                            the roofline being the candidate's
#                            log_roofline_over_util_us feature: the model
#                            learns how far from its roofline a kernel runs,
#                            which carries over to sizes beyond the data
#                            better than a time does (a tree cannot
#                            extrapolate a time that grows with the size)
TARGETS = ("rank", "log2_time_us", "log2_time_over_roofline")
ROOFLINE_FEATURE = "log_roofline_over_util_us"


def roofline_us(x, names):
    """The roofline time (us) of each row of the feature matrix x."""
    column = np.asarray(x, dtype=np.float64)[:, names.index(ROOFLINE_FEATURE)]
    return np.maximum(np.exp2(column) - 1.0, 1e-3)


def label_of(target, times, best, x, names):
    """The training label of rows with median times `times` (us), `best` the
    best time of each row's shape."""
    times = np.asarray(times, dtype=np.float64)
    if target == "rank":
        return np.asarray(best) / times
    if target == "log2_time_us":
        return np.log2(times)
    if target == "log2_time_over_roofline":
        return np.log2(times / roofline_us(x, names))
    raise ValueError(f"unknown target {target}")


def cost_of(target, predictions, x, names):
    """The cost (lower is better; log2 us for the regressions) of rows whose
    model predictions are `predictions`."""
    predictions = np.asarray(predictions, dtype=np.float64)
    if target == "rank":
        return -predictions
    if target == "log2_time_us":
        return predictions
    if target == "log2_time_over_roofline":
        return predictions + np.log2(roofline_us(x, names))
    raise ValueError(f"unknown target {target}")


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


def measured_groups(rows):
    """{shape: [rows]} of the candidates measured ok, shapes with >= 2. A
    schedule measured in several dataset files (a shape measured again in
    a later session, e.g. for the new pipelines) keeps its last row: the
    files are read in the order given, oldest first."""
    groups = collections.defaultdict(dict)
    for r in rows:
        if r["status"] == "ok" and r.get("features"):
            groups[r["shape"]].pop(r["schedule"], None)
            groups[r["shape"]][r["schedule"]] = r
    return {s: list(g.values()) for s, g in groups.items() if len(g) >= 2}


def _ranks(values):
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values))
    ranks[order] = np.arange(len(values))
    return ranks


def evaluate(shapes, cost, ranks=True):
    """Metrics per op and over all ops. `shapes` is a list of
    (shape, rows) and `cost` a list of cost arrays, one per shape.
    `ranks=False` for a cost that only marks one pick (a fixed table):
    top-5, pairwise accuracy and Spearman mean nothing there."""
    per_op = collections.defaultdict(lambda: {"top1": [], "top5": [],
                                              "pairs_ok": 0, "pairs": 0,
                                              "spearman": [], "shapes": []})
    for (shape, rows), c in zip(shapes, cost):
        t = np.array([r["median_us"] for r in rows])
        c = np.asarray(c, dtype=float)
        best = t.min()
        order = np.argsort(c, kind="stable")
        e = per_op[rows[0]["op"]]
        e["top1"].append(best / t[order[0]])
        e["top5"].append(best / t[order[:5]].min())
        e["shapes"].append((shape, float(best / t[order[0]])))
        dt = t[:, None] - t[None, :]
        dc = c[:, None] - c[None, :]
        mask = np.abs(dt) > 0.02 * np.minimum(t[:, None], t[None, :])
        e["pairs"] += int(mask.sum())
        e["pairs_ok"] += int(((np.sign(dt) == np.sign(dc)) & mask).sum())
        rc, rt = _ranks(c), _ranks(t)
        if rc.std() > 0 and rt.std() > 0:
            e["spearman"].append(float(np.corrcoef(rc, rt)[0, 1]))
    out = {}
    for op, e in per_op.items():
        out[op] = summarize(np.array(e["top1"]))
        out[op]["per_shape"] = e["shapes"]
        if ranks:
            out[op]["top5_mean"] = float(np.mean(e["top5"]))
            out[op]["pairwise_accuracy"] = (
                e["pairs_ok"] / e["pairs"] if e["pairs"] else float("nan"))
            out[op]["spearman_mean"] = (float(np.mean(e["spearman"]))
                                        if e["spearman"] else float("nan"))
    if out:
        out["all"] = summarize(np.concatenate(
            [[v for _, v in out[o]["per_shape"]] for o in list(out)]))
    return out


def summarize(top1):
    return {"shapes": int(top1.size),
            "top1_mean": float(top1.mean()),
            "top1_geomean": float(np.exp(np.log(top1).mean())),
            "top1_min": float(top1.min()),
            "top1_ge_0.95": float((top1 >= 0.95).mean()),
            "top1_ge_0.90": float((top1 >= 0.90).mean())}


# --- Fixed tables -----------------------------------------------------------
#
# What a library with a hand-written tile table would pick, written from
# their public descriptions (not their code) and mapped onto our knobs. Our
# kernels are not theirs, so a table's tile is compared through the measured
# candidate nearest to it (distance: sum of |log2| differences over the
# knobs the table sets); the report gives the share of exact matches.

def shape_params(row, names):
    """The shape of a candidate's op from its features (sizes enter the
    features as log2(1 + x)): b, hq, hkv, m, n, d and causal. For the row
    ops m is the number of rows and n their length (the vocabulary for
    cross-entropy)."""
    f = dict(zip(names, row["features"]))

    def size(name):
        return int(round(2.0 ** f[name] - 1))

    return {"b": size("log_batch"), "hq": size("log_heads_q"),
            "hkv": size("log_heads_kv"), "m": size("log_m"),
            "n": size("log_n"), "d": size("log_d"),
            "causal": f["causal"] > 0.5}


def pipeline_of(row):
    """The candidate's pipeline (the schedule omits the default
    cp_async)."""
    m = re.search(r'pipeline = "(\w+)"', row["schedule"])
    return m.group(1) if m else "cp_async"


def _pow2_at_least(x):
    return 1 << max(0, math.ceil(math.log2(max(1, x))))


def _split_to_fill(blocks, sm_count, limit=16):
    """Smallest power-of-two split that puts >= 80% of the SMs to work."""
    split = 1
    while blocks * split < 0.8 * sm_count and split < limit:
        split *= 2
    return split


def table_fa3(op, p, sm_count):
    """FlashAttention-3's forward tile choice on Hopper (its
    tile_size_fwd_sm90 for 16-bit inputs): query tiles of 192 rows up to
    head dim 64, 128 beyond; key tiles of 192 / 176 / 80 by head dim (128
    when causal); two consumer warpgroups (8 warps); two stages; split-KV
    when the grid does not fill the GPU; TMA loads from a producer
    warpgroup, the two consumers in ping-pong."""
    if op == "attention_grad":
        # Its backward (tile_size_bwd_sm90): 128 x 128 tiles up to head dim
        # 64, 64 query rows by 128 keys at 128; two warpgroups, two stages.
        bm = 128 if p["d"] <= 64 else 64
        return {"block_m": bm, "block_n": 128, "warps": 8, "stages": 2}
    if op != "attention":
        return None
    d = p["d"]
    if d <= 64:
        bm, bn = 192, 128 if p["causal"] else 192
    elif d <= 128:
        bm, bn = 128, 128 if p["causal"] else 176
    else:
        bm, bn = 128, 80
    blocks = p["b"] * p["hq"] * math.ceil(p["m"] / bm)
    return {"block_m": bm, "block_n": bn, "warps": 8, "stages": 2,
            "split": _split_to_fill(blocks, sm_count),
            "pipeline": "tma_pingpong"}


def table_flex(op, p, sm_count):
    """FlexAttention's default configurations for an H100 (bf16):
    (block_m, block_n, warps, stages) = (128, 128, 4, 3) at head dim 64,
    (128, 64, 8, 3) at 128, (64, 32, 4, 3) beyond; its decoding kernel
    (few queries) takes 64-key tiles, 4 warps, 3 stages and splits the
    keys to fill the SMs."""
    if op != "attention":
        return None
    d = p["d"]
    if p["m"] <= 16:
        blocks = p["b"] * p["hkv"]
        return {"block_m": 16, "block_n": 64, "warps": 4, "stages": 3,
                "split": _split_to_fill(blocks, sm_count)}
    if d <= 64:
        cfg = (128, 128, 4, 3)
    elif d <= 128:
        cfg = (128, 64, 8, 3)
    else:
        cfg = (64, 32, 4, 3)
    return dict(zip(("block_m", "block_n", "warps", "stages"), cfg),
                split=1)


def table_liger(op, p, sm_count):
    """Liger-Kernel / Triton-tutorial row kernels: one row per program,
    the row in one power-of-two block when it fits (else a loop over
    blocks: two passes), warps by block size (4, 8 from 2048, 16 from
    8192, 32 from 32768 -- 16 is our most)."""
    if op not in ("softmax", "log_softmax", "logsumexp", "cross_entropy"):
        return None
    n = p["n"]
    block = min(_pow2_at_least(n), 32768)
    warps = 4 if block < 2048 else 8 if block < 8192 else 16
    cfg = {"block_m": 1, "block_n": block, "warps": warps, "split": 1}
    if op != "cross_entropy":
        cfg["passes"] = 1 if n <= block else 2
    return cfg


TABLES = {"fa3": table_fa3, "flex": table_flex, "liger": table_liger}


def table_cost(table, rows, names, sm_count):
    """(cost array marking the nearest candidate to the table's pick,
    exact) or None when the table has nothing to say about the op."""
    cfg = TABLES[table](rows[0]["op"], shape_params(rows[0], names),
                        sm_count)
    if cfg is None:
        return None

    def distance(r):
        # A pipeline other than the table's counts as one doubling.
        return sum(float(pipeline_of(r) != v) if k == "pipeline" else
                   abs(math.log2(1 + r["knobs"].get(k, 0)) - math.log2(1 + v))
                   for k, v in cfg.items())

    dist = [distance(r) for r in rows]
    pick = int(np.argmin(dist))
    cost = np.ones(len(rows))
    cost[pick] = 0.0
    return cost, dist[pick] == 0.0


def default_cost(rows):
    """The hand-written default table's pick, or None when the default
    was not measured for the shape."""
    if not any(r["default"] for r in rows):
        return None
    return np.array([0.0 if r["default"] else 1.0 for r in rows])


def baselines(shapes, names, sm_count):
    """The analytic model, the default table and the fixed tables on
    `shapes` [(shape, rows)]: {name: (metrics, notes)}."""
    analytic_index = names.index("log_roofline_over_util_us")
    out = {}
    out["analytic"] = (evaluate(shapes, [
        np.array([r["features"][analytic_index] for r in rows])
        for _, rows in shapes]), {})
    picked = [(s, rows, default_cost(rows)) for s, rows in shapes]
    kept = [(s, rows) for s, rows, c in picked if c is not None]
    out["default"] = (evaluate(kept, [c for _, _, c in picked
                                      if c is not None], ranks=False),
                      {"shapes_without_measured_default":
                       sorted(s for s, _, c in picked if c is None)})
    for table in TABLES:
        picks = [(s, rows, table_cost(table, rows, names, sm_count))
                 for s, rows in shapes]
        picks = [(s, rows, c) for s, rows, c in picks if c is not None]
        if not picks:
            continue
        out[table] = (evaluate([(s, rows) for s, rows, _ in picks],
                               [c for _, _, (c, _) in picks], ranks=False),
                      {"exact_matches": sum(e for _, _, (_, e) in picks),
                       "shapes": len(picks)})
    return out


def print_table(results, file=None):
    """results: [(picker name, metrics)]."""
    head = (f"{'op':22s} {'picker':>12s} {'shapes':>6s} {'geomean':>8s} "
            f"{'min':>6s} {'>=0.90':>7s} {'>=0.95':>7s} {'top5':>6s} "
            f"{'pairs':>6s} {'rho':>6s}")
    print(head, file=file)
    ops = sorted({op for _, m in results for op in m if op != "all"})
    for op in ops + ["all"]:
        for name, m in results:
            if op not in m:
                continue
            e = m[op]
            print(f"{op:22s} {name:>12.12s} {e['shapes']:6d} "
                  f"{e['top1_geomean']:8.3f} {e['top1_min']:6.3f} "
                  f"{e['top1_ge_0.90']:7.2f} {e['top1_ge_0.95']:7.2f} "
                  f"{e.get('top5_mean', float('nan')):6.3f} "
                  f"{e.get('pairwise_accuracy', float('nan')):6.3f} "
                  f"{e.get('spearman_mean', float('nan')):6.3f}", file=file)
