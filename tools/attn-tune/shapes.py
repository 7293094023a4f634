#!/usr/bin/env python3
"""The cost model's shape list: data/tuning/shapes.json (checked in) and the
MLIR file `attn-tune generate` reads (one function per shape, one attn op in
it, bf16 operands).

  tools/attn-tune/shapes.py write [--out data/tuning/shapes.json]
      rewrite the shape list from the grid below (deterministic)
  tools/attn-tune/shapes.py write --grid bench-scale \
      --skip-measured data/tuning/*.jsonl.xz \
      --out data/tuning/shapes-bench-scale.json
      the shapes of the benchmark's scale (bench/cases.json) and around
      it, less those the datasets measured already
  tools/attn-tune/shapes.py write --grid v2 \
      --out data/tuning/shapes-v2.json
      the pipelines' and the attention backward's shapes (feature version 2)
  tools/attn-tune/shapes.py mlir [--shapes data/tuning/shapes.json] OUT.mlir
      the functions of the listed shapes
  tools/attn-tune/shapes.py mlir --names NAMES.txt OUT.mlir
      the functions of the named shapes (names as the datasets spell them)

The grid spans what the issue asks of the dataset: attention prefill (head
dims 64/128/256, sequence 128-32k, causal and not, GQA 1/4/8) and decode
(one query, keys up to 128k), the softmax family on rows of 1k-256k
elements, cross-entropy and linear cross-entropy with vocabularies of
32k-256k and hidden sizes 1k-8k. Batch and head counts keep each kernel in
the milliseconds, so that the GPU measures thousands of candidates in
minutes. Stdlib only.
"""

import argparse
import json
import random
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHAPES = ROOT / "data" / "tuning" / "shapes.json"
# Attention work B*Hq*M*N*D (multiply-adds per GEMM) kept at most this.
MAX_ATTENTION_WORK = 3 * 2**37


def attention_shapes(rng):
    shapes = []
    for d in (64, 128, 256):
        for seq in (128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768):
            for causal in (False, True):
                for group in (1, 4, 8):
                    hkv = rng.choice((1, 2, 4, 8)) if group > 1 else \
                        rng.choice((8, 16, 32))
                    hq = hkv * group
                    batch = 1
                    while batch * 2 * hq * seq * seq * d <= MAX_ATTENTION_WORK \
                            and batch < 64:
                        batch *= 2
                    while batch * hq * seq * seq * d > MAX_ATTENTION_WORK \
                            and hq > group:
                        hq //= 2
                    hkv = hq // group
                    if batch * hq * seq * seq * d > MAX_ATTENTION_WORK:
                        continue
                    shapes.append(dict(op="attention", batch=batch,
                                       heads_q=hq, heads_kv=hkv, seq_q=seq,
                                       seq_kv=seq, head_dim=d, causal=causal))
    # Prefill with a different number of queries than keys (chunked prefill).
    for d in (64, 128):
        for m, n in ((512, 4096), (1024, 8192), (2048, 16384), (256, 32768)):
            for causal in (False, True):
                shapes.append(dict(op="attention", batch=2, heads_q=32,
                                   heads_kv=8, seq_q=m, seq_kv=n, head_dim=d,
                                   causal=causal))
    return shapes


def decode_shapes(rng):
    shapes = []
    for d in (64, 128, 256):
        for n in (1024, 4096, 16384, 32768, 65536, 131072):
            for batch, hq, hkv in ((1, 32, 8), (1, 64, 8), (8, 32, 8),
                                   (4, 32, 32)):
                if d == 256 and n > 65536:
                    continue
                shapes.append(dict(op="attention", batch=batch, heads_q=hq,
                                   heads_kv=hkv, seq_q=1, seq_kv=n,
                                   head_dim=d, causal=False))
    return shapes


def row_shapes(rng):
    shapes = []
    for op in ("softmax", "log_softmax", "logsumexp"):
        for cols in (1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072,
                     262144):
            for total in (2**24, 2**26):
                rows = max(1, total // cols)
                shapes.append(dict(op=op, rows=rows, cols=cols))
        for cols in (1000, 3000, 50257):
            shapes.append(dict(op=op, rows=4096, cols=cols))
    return shapes


def loss_shapes(rng):
    shapes = []
    for vocab in (32000, 50257, 65536, 128256, 151936, 256000):
        for tokens in (1024, 2048, 4096, 8192):
            if tokens * vocab > 2**31:
                continue
            shapes.append(dict(op="cross_entropy", tokens=tokens,
                               vocab=vocab))
    for vocab in (32000, 65536, 128256, 256000):
        for hidden in (1024, 2048, 4096, 8192):
            for tokens in (512, 1024, 2048, 4096):
                if tokens * hidden * vocab > 2**42:
                    continue
                shapes.append(dict(op="linear_cross_entropy", tokens=tokens,
                                   hidden=hidden, vocab=vocab))
    return shapes


def bench_scale_shapes():
    """Shapes of the benchmark's scale and just around it, beyond the grid
    above: the shipped model lost to the defaults on benchmark shapes
    larger than anything it was trained on (docs/CostModel.md). A few are
    in the grid above but were never measured; write --skip-measured leaves
    out those the datasets timed. Sized for about six minutes of an H200
    (the largest linear cross-entropy candidates run for up to a second
    each; softmax outputs of 1-2 GiB are copied and scanned per
    candidate)."""
    shapes = []
    # Linear cross-entropy around N8192 D2304 V256000: tokens and
    # vocabulary up to its size, a larger hidden size, twice the tokens.
    for tokens, hidden, vocab in (
            (4096, 2304, 128256), (4096, 2304, 256000), (8192, 2304, 128256),
            (8192, 2304, 256000), (16384, 2304, 128256),
            (4096, 4096, 128256), (8192, 4096, 128256)):
        shapes.append(dict(op="linear_cross_entropy", tokens=tokens,
                           hidden=hidden, vocab=vocab))
    # The softmax family on 2^29-2^30 elements (the grid stops at 2^26),
    # the benchmark's two wide softmaxes among them.
    for op, sizes in (
            ("softmax", ((16384, 32768), (8192, 65536), (4096, 262144))),
            ("log_softmax", ((16384, 32768),)),
            ("logsumexp", ((16384, 32768), (8192, 65536), (16384, 65536),
                           (8192, 131072), (4096, 262144)))):
        for rows, cols in sizes:
            shapes.append(dict(op=op, rows=rows, cols=cols))
    # Cross-entropy past the grid's 2^31 logits is not safe to index in 32
    # bits; the benchmark's N8192 V128256/256000 are in the grid.
    for tokens, vocab in ((16384, 128256), (12288, 151936)):
        shapes.append(dict(op="cross_entropy", tokens=tokens, vocab=vocab))
    # Prefill around each attention case of bench/cases.json.
    shapes += [prefill(*p) for p in (
        (8, 32, 32, 2048, 64, False), (8, 32, 32, 2048, 64, True),
        (16, 32, 32, 2048, 64, False),
        (4, 16, 16, 4096, 128, False), (4, 16, 16, 4096, 128, True),
        (1, 16, 16, 16384, 128, False), (1, 16, 16, 16384, 128, True),
        (2, 16, 16, 8192, 128, False), (2, 16, 16, 8192, 128, True),
        (2, 32, 8, 4096, 128, False), (2, 32, 8, 4096, 128, True),
        (4, 16, 16, 4096, 256, False), (4, 16, 16, 4096, 256, True))]
    # Decode around the benchmark's B8 Hq32 Hkv8 D128 with 8k and 64k keys.
    shapes += [decode(*p) for p in ((8, 32, 8192), (8, 32, 131072),
                                    (16, 32, 65536), (32, 32, 32768),
                                    (8, 64, 131072))]
    return shapes


def prefill(batch, hq, hkv, seq, d, causal):
    """Self-attention of `seq` queries and keys."""
    return dict(op="attention", batch=batch, heads_q=hq, heads_kv=hkv,
                seq_q=seq, seq_kv=seq, head_dim=d, causal=causal)


def decode(batch, hq, n):
    """One query against `n` keys, 8 KV heads, head dim 128."""
    return dict(op="attention", batch=batch, heads_q=hq, heads_kv=8,
                seq_q=1, seq_kv=n, head_dim=128, causal=False)


def v2_shapes():
    """The second dataset (feature version 2): the pipelines and the
    attention backward, which the first datasets did not measure. Prefill
    attention with head dims 64/128/256 -- the shapes where the TMA
    pipelines (cooperative and ping-pong) are legal and the defaults take
    them -- sampled from the training grid and the benchmark's cases; decode
    at head dim 128 (the TMA split-KV default); and the attention backward
    (dq, dk, dv) at head dims 64/128, sequences 512-16k, causal and not,
    GQA, sized like the forward grid. Sized for about ten minutes of an
    H200."""
    rng = random.Random(20261203)
    shapes = []
    grid = [s for s in attention_shapes(random.Random(20261201))
            if s["seq_q"] >= 512]
    shapes += rng.sample(grid, 30)
    shapes += [prefill(*p) for p in (
        (8, 32, 32, 2048, 64, False), (4, 16, 16, 4096, 128, False),
        (4, 16, 16, 4096, 128, True), (1, 16, 16, 16384, 128, True),
        (2, 32, 8, 4096, 128, False), (4, 16, 16, 4096, 256, False),
        (32, 16, 16, 1024, 128, False), (8, 32, 32, 2048, 64, True))]
    shapes += [decode(*p) for p in ((1, 64, 131072), (8, 32, 65536),
                                    (1, 32, 16384), (4, 32, 32768))]
    for d in (64, 128):
        for seq in (512, 1024, 2048, 4096, 8192, 16384):
            for causal in (False, True):
                group = rng.choice((1, 4))
                hkv = rng.choice((8, 16)) if group == 1 else 4
                hq = hkv * group
                batch = 1
                # The backward does 2.5 times the forward's products.
                while batch * 2 * hq * seq * seq * d <= MAX_ATTENTION_WORK // 2 \
                        and batch < 32:
                    batch *= 2
                while batch * hq * seq * seq * d > MAX_ATTENTION_WORK // 2 \
                        and hq > group:
                    hq //= 2
                hkv = hq // group
                shapes.append(dict(op="attention_grad", batch=batch,
                                   heads_q=hq, heads_kv=hkv, seq_q=seq,
                                   seq_kv=seq, head_dim=d, causal=causal))
    return shapes


def grad_shapes():
    """The gradient ops besides attention's (feature version 3): the
    softmax family's gradients on rows of 1k-256k elements, cross-entropy's
    with vocabularies of 32k-256k, and linear cross-entropy's (the
    Cut-Cross-Entropy backward) at hidden sizes 2k-4k, sized like the
    forward grid. Not measured yet."""
    shapes = []
    for op in ("softmax_grad", "log_softmax_grad", "logsumexp_grad"):
        for cols in (1024, 4096, 16384, 65536, 262144):
            for total in (2**24, 2**26):
                shapes.append(dict(op=op, rows=max(1, total // cols),
                                   cols=cols))
        shapes.append(dict(op=op, rows=4096, cols=50257))
    for vocab in (32000, 128256, 256000):
        for tokens in (1024, 4096, 8192):
            if tokens * vocab <= 2**31:
                shapes.append(dict(op="cross_entropy_grad", tokens=tokens,
                                   vocab=vocab))
    for tokens, hidden, vocab in (
            (1024, 2048, 32000), (2048, 2048, 65536), (4096, 2048, 32000),
            (2048, 4096, 128256), (4096, 2304, 256000), (1024, 4096, 128256),
            (8192, 2304, 256000), (8192, 4096, 131072)):
        shapes.append(dict(op="linear_cross_entropy_grad", tokens=tokens,
                           hidden=hidden, vocab=vocab))
    return shapes


def measured_shapes(datasets):
    """The shapes with a timed candidate in the dataset files."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from dataset import read_jsonl
    return {r["shape"] for path in datasets for r in read_jsonl(path)
            if r.get("status") == "ok"}


ROW_OPS = ("softmax", "log_softmax", "logsumexp", "softmax_grad",
           "log_softmax_grad", "logsumexp_grad")


def name_of(s):
    op = s["op"]
    if op in ("attention", "attention_grad"):
        base = (f"{op}_b{s['batch']}_hq{s['heads_q']}_hkv{s['heads_kv']}"
                f"_m{s['seq_q']}_n{s['seq_kv']}_d{s['head_dim']}")
        return base + ("_causal" if s["causal"] else "")
    if op in ROW_OPS:
        return f"{op}_r{s['rows']}_c{s['cols']}"
    if op in ("cross_entropy", "cross_entropy_grad"):
        return f"{op}_n{s['tokens']}_v{s['vocab']}"
    return f"{op}_n{s['tokens']}_d{s['hidden']}_v{s['vocab']}"


_NAME_PATTERNS = (
    (r"(attention|attention_grad)_b(\d+)_hq(\d+)_hkv(\d+)_m(\d+)_n(\d+)"
     r"_d(\d+)(_causal)?",
     lambda g: dict(op=g[0], batch=int(g[1]), heads_q=int(g[2]),
                    heads_kv=int(g[3]), seq_q=int(g[4]), seq_kv=int(g[5]),
                    head_dim=int(g[6]), causal=g[7] is not None)),
    (r"((?:softmax|log_softmax|logsumexp)(?:_grad)?)_r(\d+)_c(\d+)",
     lambda g: dict(op=g[0], rows=int(g[1]), cols=int(g[2]))),
    (r"(cross_entropy(?:_grad)?)_n(\d+)_v(\d+)",
     lambda g: dict(op=g[0], tokens=int(g[1]), vocab=int(g[2]))),
    (r"(linear_cross_entropy(?:_grad)?)_n(\d+)_d(\d+)_v(\d+)",
     lambda g: dict(op=g[0], tokens=int(g[1]), hidden=int(g[2]),
                    vocab=int(g[3]))),
)


def parse_name(name):
    """The shape a name_of() name describes (with its name), or None."""
    for pattern, make in _NAME_PATTERNS:
        m = re.fullmatch(pattern, name)
        if m:
            shape = make(m.groups())
            if name_of(shape) == name:
                return dict(name=name, **shape)
    return None


def grid_shapes():
    rng = random.Random(20261201)
    return (attention_shapes(rng) + decode_shapes(rng) + row_shapes(rng) +
            loss_shapes(rng))


GRIDS = {
    "training": ("The cost model's training and evaluation shapes, written "
                 "by tools/attn-tune/shapes.py write.", grid_shapes),
    "bench-scale": ("Shapes of the benchmark's scale (bench/cases.json) and "
                    "around it, mostly beyond the training grid, written by "
                    "tools/attn-tune/shapes.py write --grid bench-scale.",
                    bench_scale_shapes),
    "grads": ("The gradient ops' shapes besides attention's (feature version "
              "3), written by tools/attn-tune/shapes.py write --grid grads.",
              grad_shapes),
    "v2": ("The pipelines' and the attention backward's shapes (feature "
           "version 2), written by tools/attn-tune/shapes.py write --grid "
           "v2.", v2_shapes),
}


def write(out, grid, skip_measured):
    what, make = GRIDS[grid]
    shapes = make()
    seen = measured_shapes(skip_measured)
    if seen:
        what += (" Less the shapes measured in " +
                 ", ".join(Path(p).name for p in skip_measured) + ".")
    cases = []
    for s in shapes:
        name = name_of(s)
        if name in seen:
            continue
        seen.add(name)
        cases.append(dict(name=name, **s))
    doc = {"comment": what + " bf16 operands; attention [B, H, M|N, D] "
                      "with scale 1/sqrt(D), causal bottom-right; rows "
                      "reduced along the last dim; losses with int64 labels "
                      "and mean reduction.",
           "shapes": cases}
    Path(out).write_text(json.dumps(doc, indent=0) + "\n")
    by_op = {}
    for c in cases:
        key = c["op"] + ("_decode" if c.get("seq_q") == 1 else "")
        by_op[key] = by_op.get(key, 0) + 1
    print(f"{out}: {len(cases)} shapes " +
          ", ".join(f"{k} {v}" for k, v in sorted(by_op.items())))


def tensor(shape, dtype):
    return "tensor<" + "".join(f"{d}x" for d in shape) + dtype + ">"


def render(c):
    op = c["op"]
    if op == "attention":
        q = tensor((c["batch"], c["heads_q"], c["seq_q"], c["head_dim"]),
                   "bf16")
        kv = tensor((c["batch"], c["heads_kv"], c["seq_kv"], c["head_dim"]),
                    "bf16")
        attrs = " {causal}" if c["causal"] else ""
        return (f"func.func @{c['name']}(%q: {q}, %k: {kv}, %v: {kv}) -> {q} "
                f"{{\n  %r = attn.attention %q, %k, %v{attrs} : {q}, {kv}, "
                f"{kv} -> {q}\n  return %r : {q}\n}}\n")
    if op == "attention_grad":
        q = tensor((c["batch"], c["heads_q"], c["seq_q"], c["head_dim"]),
                   "bf16")
        kv = tensor((c["batch"], c["heads_kv"], c["seq_kv"], c["head_dim"]),
                    "bf16")
        lse = tensor((c["batch"], c["heads_q"], c["seq_q"]), "f32")
        attrs = " {causal}" if c["causal"] else ""
        return (f"func.func @{c['name']}(%q: {q}, %k: {kv}, %v: {kv}, "
                f"%o: {q}, %lse: {lse}, %do: {q}) -> ({q}, {kv}, {kv}) {{\n"
                f"  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, "
                f"%lse, %do{attrs} : {q}, {kv}, {kv}, {q}, {lse}, {q} -> "
                f"{q}, {kv}, {kv}\n  return %dq, %dk, %dv : {q}, {kv}, "
                f"{kv}\n}}\n")
    if op in ("softmax", "log_softmax", "logsumexp"):
        x = tensor((c["rows"], c["cols"]), "bf16")
        r = tensor((c["rows"],), "f32") if op == "logsumexp" else x
        return (f"func.func @{c['name']}(%x: {x}) -> {r} {{\n"
                f"  %r = attn.{op} %x, dim = 1 : {x} -> {r}\n"
                f"  return %r : {r}\n}}\n")
    if op in ("softmax_grad", "log_softmax_grad"):
        x = tensor((c["rows"], c["cols"]), "bf16")
        return (f"func.func @{c['name']}(%y: {x}, %dy: {x}) -> {x} {{\n"
                f"  %r = attn.{op} %y, %dy, dim = 1 : {x}, {x} -> {x}\n"
                f"  return %r : {x}\n}}\n")
    if op == "logsumexp_grad":
        x = tensor((c["rows"], c["cols"]), "bf16")
        r = tensor((c["rows"],), "f32")
        return (f"func.func @{c['name']}(%x: {x}, %lse: {r}, %dlse: {r}) -> "
                f"{x} {{\n  %r = attn.logsumexp_grad %x, %lse, %dlse, dim = 1"
                f" : {x}, {r}, {r} -> {x}\n  return %r : {x}\n}}\n")
    labels = tensor((c["tokens"],), "i64")
    loss = "tensor<f32>"
    lse = tensor((c["tokens"],), "f32")
    if op == "cross_entropy_grad":
        z = tensor((c["tokens"], c["vocab"]), "bf16")
        return (f"func.func @{c['name']}(%z: {z}, %y: {labels}, %lse: {lse}, "
                f"%dl: {loss}) -> {z} {{\n  %r = attn.cross_entropy_grad %z, "
                f"%y, %lse, %dl : {z}, {labels}, {lse}, {loss} -> {z}\n"
                f"  return %r : {z}\n}}\n")
    if op == "linear_cross_entropy_grad":
        h = tensor((c["tokens"], c["hidden"]), "bf16")
        w = tensor((c["vocab"], c["hidden"]), "bf16")
        return (f"func.func @{c['name']}(%h: {h}, %w: {w}, %y: {labels}, "
                f"%lse: {lse}, %dl: {loss}) -> ({h}, {w}) {{\n"
                f"  %dh, %dw = attn.linear_cross_entropy_grad %h, %w, %y, "
                f"%lse, %dl : {h}, {w}, {labels}, {lse}, {loss} -> {h}, {w}\n"
                f"  return %dh, %dw : {h}, {w}\n}}\n")
    if op == "cross_entropy":
        z = tensor((c["tokens"], c["vocab"]), "bf16")
        return (f"func.func @{c['name']}(%z: {z}, %y: {labels}) -> {loss} "
                f"{{\n  %r = attn.cross_entropy %z, %y : {z}, {labels} -> "
                f"{loss}\n  return %r : {loss}\n}}\n")
    h = tensor((c["tokens"], c["hidden"]), "bf16")
    w = tensor((c["vocab"], c["hidden"]), "bf16")
    return (f"func.func @{c['name']}(%h: {h}, %w: {w}, %y: {labels}) -> "
            f"{loss} {{\n  %r = attn.linear_cross_entropy %h, %w, %y : {h}, "
            f"{w}, {labels} -> {loss}\n  return %r : {loss}\n}}\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    w = sub.add_parser("write")
    w.add_argument("--out", default=str(SHAPES))
    w.add_argument("--grid", choices=sorted(GRIDS), default="training")
    w.add_argument("--skip-measured", nargs="*", default=[],
                   help="dataset files: leave out the shapes they timed")
    m = sub.add_parser("mlir")
    m.add_argument("--shapes", default=str(SHAPES))
    m.add_argument("--names", default="",
                   help="a file of shape names (one per line): their "
                        "functions, instead of a shape list")
    m.add_argument("--only", default="",
                   help="comma-separated op names to keep")
    m.add_argument("out")
    args = parser.parse_args()
    if args.command == "write":
        write(args.out, args.grid, args.skip_measured)
        return 0
    if args.names:
        names = Path(args.names).read_text().split()
        cases = [parse_name(n) for n in names]
        unknown = [n for n, c in zip(names, cases) if c is None]
        if unknown:
            raise SystemExit(f"{args.names}: not shape names: {unknown[:5]}")
        args.shapes = args.names
    else:
        cases = json.loads(Path(args.shapes).read_text())["shapes"]
    if args.only:
        keep = set(args.only.split(","))
        cases = [c for c in cases if c["op"] in keep]
    text = "// Generated by tools/attn-tune/shapes.py from " \
           f"{Path(args.shapes).name}; do not edit.\n"
    text += "\n".join(render(c) for c in cases)
    Path(args.out).write_text(text)
    print(f"{args.out}: {len(cases)} functions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
