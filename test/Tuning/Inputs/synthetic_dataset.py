"""Writes a small dataset in the merged format of tools/attn-tune/dataset.py
whose times follow a known rule, for testing train.py, evaluate.py and
metrics.py without a GPU.

Per shape: a grid of candidates over (block_m, block_n); the time is
  base(shape) * (1 + (log2 block_m - opt_m)^2 / 4 + (log2 block_n - 6)^2 / 8)
so the best candidate is block_m = 2^opt_m, block_n = 64, where opt_m
depends on the shape through a feature. The default candidate is always
block_m = 16, block_n = 16; its ratio to the best is known in closed form.
"""

import json
import lzma
import math
import sys

NAMES = ["op_attention", "op_softmax", "log_batch", "log_heads_q",
         "log_heads_kv", "log_m", "log_n", "log_d", "causal", "log_block_m",
         "log_block_n", "log_roofline_over_util_us"]


def lg(x):
    return math.log2(1 + x)


def time_of(opt_m, bm, bn, base):
    return base * (1 + (math.log2(bm) - opt_m) ** 2 / 4 +
                   (math.log2(bn) - 6) ** 2 / 8)


def main(out):
    rows = []
    for i in range(60):
        attention = i % 2 == 0
        m = 256 << (i % 6)
        d = 64 if i % 3 else 128
        opt_m = 6 if m < 2048 else 7  # 64 rows below 2048 queries, else 128
        base = m / 64.0
        if attention:
            shape = f"attention_b{i + 1}_hq8_hkv8_m{m}_n{m}_d{d}"
        else:
            shape = f"softmax_r{m + i}_c{d * 64}"
        op = "attention" if attention else "softmax"
        if attention:
            sizes = [i + 1, 8, 8, m, m, d]
        else:
            sizes = [1, 1, 1, m + i, d * 64, 0]
        for bm in (16, 32, 64, 128, 256):
            for bn in (16, 32, 64, 128):
                knobs = {"block_m": bm, "block_n": bn, "block_d": 0,
                         "warps": 4, "stages": 2, "split": 1, "passes": 1}
                t = time_of(opt_m, bm, bn, base)
                features = [float(attention), float(not attention)] + [
                    lg(x) for x in sizes] + [0.0, lg(bm), lg(bn),
                            # a roofline that prefers the largest tiles
                            -math.log2(bm * bn)]
                schedule = (f"#attn.schedule<block_m = {bm}, block_n = "
                            f"{bn}, stages = 2, chip = \"h200-sxm\">")
                rows.append({"id": f"{shape}.{bm}.{bn}", "shape": shape,
                             "op": op, "schedule": schedule, "knobs": knobs,
                             "default": bm == 16 and bn == 16,
                             "sampled": False, "space_size": 20,
                             "features": features, "status": "ok",
                             "median_us": t, "p10_us": t, "p90_us": t,
                             "min_us": t})
    meta = {"gpu": {"gpu": "synthetic", "sm_count": 132},
            "compiler_commit": "test", "chip": "h200-sxm", "seed": 1,
            "sample": 20, "feature_version": 1, "feature_names": NAMES}
    with lzma.open(out, "wt") as f:
        f.write(json.dumps({"meta": meta}) + "\n")
        for r in rows:
            f.write(json.dumps(r) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
