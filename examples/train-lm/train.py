"""Trains a small causal transformer LM with attn-mlir's ops and with
PyTorch's, from the same seed, and compares the two loss curves.

The model: byte-level tokens, learned positions, `--layers` pre-norm blocks
(multi-head causal attention, a GELU MLP), a final norm and an untied LM
head. The corpus is this repository's Markdown (README.md, docs/*.md), read
as bytes. Both runs draw the same batches and start from the same weights;
they differ only in two places:

- attention: ``attn_mlir.attention(q, k, v, causal=True)`` against
  ``F.scaled_dot_product_attention(q, k, v, is_causal=True)``;
- the LM head and loss: ``attn_mlir.linear_cross_entropy(h, W, y)`` (the
  logits are never materialized) against ``F.cross_entropy(h @ W.T, y)``.

Both run those two in bfloat16 (parameters and the rest in float32), so
their loss curves agree up to bf16 rounding, which makes the trajectories
drift apart slowly without changing the curve.

On the GPU machine (no MLIR there), with packages compiled here first:

    python3 examples/train-lm/train.py --precompile build-train-lm --chip h200-sxm
    ATTN_MLIR_PACKAGES=build-train-lm python3 examples/train-lm/train.py --out DIR

writes DIR/train-lm.json (both curves, timings, peak memory) and
DIR/train-lm.png, and exits 1 if the curves disagree by more than
``--tolerance`` (relative, on the mean loss of each 50-step window).
"""

import argparse
import glob
import json
import math
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "python"))

from attn_mlir.signatures import (AttentionSignature,  # noqa: E402
                                  LinearCrossEntropySignature)

VOCAB = 256  # bytes


def signatures(args):
    head_dim = args.dim // args.heads
    qkv = (args.batch, args.heads, args.seq, head_dim)
    return [AttentionSignature(qkv, qkv, qkv, "bf16", causal=True),
            LinearCrossEntropySignature(hidden=(args.batch * args.seq,
                                                args.dim),
                                        weight=(VOCAB, args.dim),
                                        dtype="bf16")]


def corpus():
    files = [os.path.join(ROOT, "README.md")] + sorted(
        glob.glob(os.path.join(ROOT, "docs", "*.md")))
    data = b"".join(open(f, "rb").read() for f in files)
    return data


def train(args, backend, text):
    import torch
    import torch.nn.functional as F
    import attn_mlir

    torch.manual_seed(args.seed)
    dev = torch.device("cuda")
    d, h = args.dim, args.heads
    hd = d // h

    class Block(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.norm1 = torch.nn.LayerNorm(d)
            self.qkv = torch.nn.Linear(d, 3 * d)
            self.proj = torch.nn.Linear(d, d)
            self.norm2 = torch.nn.LayerNorm(d)
            self.mlp = torch.nn.Sequential(torch.nn.Linear(d, 4 * d),
                                           torch.nn.GELU(),
                                           torch.nn.Linear(4 * d, d))

        def forward(self, x):
            b, t, _ = x.shape
            q, k, v = self.qkv(self.norm1(x)).split(d, dim=-1)
            q, k, v = (z.reshape(b, t, h, hd).transpose(1, 2)
                       .to(torch.bfloat16) for z in (q, k, v))
            if backend == "attn":
                o = attn_mlir.attention(q, k, v, causal=True)
            else:
                o = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            o = o.float().transpose(1, 2).reshape(b, t, d)
            x = x + self.proj(o)
            return x + self.mlp(self.norm2(x))

    class LM(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.tokens = torch.nn.Embedding(VOCAB, d)
            self.positions = torch.nn.Parameter(torch.zeros(args.seq, d))
            self.blocks = torch.nn.ModuleList(Block()
                                              for _ in range(args.layers))
            self.norm = torch.nn.LayerNorm(d)
            self.head = torch.nn.Parameter(torch.randn(VOCAB, d) / math.sqrt(d))

        def forward(self, x, y):
            z = self.tokens(x) + self.positions
            for block in self.blocks:
                z = block(z)
            hidden = self.norm(z).reshape(-1, d).to(torch.bfloat16)
            w = self.head.to(torch.bfloat16)
            labels = y.reshape(-1)
            if backend == "attn":
                return attn_mlir.linear_cross_entropy(hidden, w, labels)
            return F.cross_entropy((hidden @ w.t()).float(), labels)

    model = LM().to(dev)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr,
                                  weight_decay=0.01)
    data = torch.tensor(list(text), dtype=torch.long)
    batches = torch.Generator().manual_seed(args.seed + 1)
    losses = []
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    for step in range(args.steps):
        starts = torch.randint(0, len(data) - args.seq - 1, (args.batch,),
                               generator=batches)
        chunk = torch.stack([data[s:s + args.seq + 1] for s in starts])
        x, y = chunk[:, :-1].to(dev), chunk[:, 1:].to(dev)
        lr = args.lr * min(1.0, (step + 1) / 50)
        for group in optimizer.param_groups:
            group["lr"] = lr
        loss = model(x, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if not math.isfinite(losses[-1]):
            raise RuntimeError(f"{backend}: loss is {losses[-1]} at step "
                               f"{step}")
    torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    return {"losses": losses, "seconds": seconds,
            "ms_per_step": 1e3 * seconds / args.steps,
            "peak_memory_mib": torch.cuda.max_memory_allocated() / 2**20}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--precompile", metavar="DIR",
                        help="compile the packages the run needs and exit")
    parser.add_argument("--chip", default="h200-sxm")
    parser.add_argument("--out", default=".")
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--seq", type=int, default=256)
    parser.add_argument("--dim", type=int, default=256)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--window", type=int, default=50,
                        help="steps per window of the comparison")
    parser.add_argument("--tolerance", type=float, default=0.03)
    args = parser.parse_args()
    if args.dim % args.heads:
        parser.error("--dim must be a multiple of --heads")
    if args.precompile:
        from attn_mlir.precompile import precompile
        precompile(signatures(args), args.precompile, args.chip)
        return 0

    text = corpus()
    runs = {backend: train(args, backend, text)
            for backend in ("attn", "torch")}
    ours, theirs = runs["attn"]["losses"], runs["torch"]["losses"]
    windows = []
    for start in range(0, args.steps, args.window):
        a = sum(ours[start:start + args.window]) / len(
            ours[start:start + args.window])
        b = sum(theirs[start:start + args.window]) / len(
            theirs[start:start + args.window])
        windows.append({"steps": [start, min(start + args.window,
                                             args.steps)],
                        "attn": a, "torch": b,
                        "relative_difference": abs(a - b) / b})
    worst = max(w["relative_difference"] for w in windows)
    report = {"config": vars(args), "corpus_bytes": len(text),
              "runs": runs, "windows": windows,
              "worst_window_relative_difference": worst,
              "first_step_difference": abs(ours[0] - theirs[0])}
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "train-lm.json"), "w") as f:
        json.dump(report, f, indent=1)

    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(7, 4))
        ax.plot(theirs, label="PyTorch (SDPA + F.cross_entropy)", lw=1)
        ax.plot(ours, label="attn-mlir (attention + linear_cross_entropy)",
                lw=1, alpha=0.8)
        ax.set_xlabel("step")
        ax.set_ylabel("training loss (nats/byte)")
        ax.set_title(f"byte-level LM, {args.layers} layers, d={args.dim}, "
                     f"seq {args.seq}, batch {args.batch}, seed {args.seed}")
        ax.legend()
        fig.tight_layout()
        fig.savefig(os.path.join(args.out, "train-lm.png"), dpi=120)
    except ImportError:
        print("matplotlib not available: no plot", file=sys.stderr)

    print(f"{'window':>12} {'attn-mlir':>10} {'PyTorch':>10} {'rel.diff':>9}")
    for w in windows:
        print(f"{w['steps'][0]:>5}-{w['steps'][1]:<6} {w['attn']:>10.4f} "
              f"{w['torch']:>10.4f} {w['relative_difference']:>9.4f}")
    for backend, run in runs.items():
        print(f"{backend}: {run['ms_per_step']:.2f} ms/step, peak "
              f"{run['peak_memory_mib']:.0f} MiB, final loss "
              f"{run['losses'][-1]:.4f}")
    ok = worst <= args.tolerance
    print(f"worst window relative difference {worst:.4f} "
          f"({'within' if ok else 'OVER'} tolerance {args.tolerance})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
