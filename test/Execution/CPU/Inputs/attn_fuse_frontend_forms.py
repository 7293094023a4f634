#!/usr/bin/env python3
"""Inputs and float64 expected outputs of the attn-fuse frontend-form
execution tests (attn-fuse-attention-k-transposed.mlir,
attn-fuse-attention-folded-heads.mlir, attn-fuse-nll-loss.mlir).

Each test's main() holds these constants; both the unraised and the raised
program must reproduce the expected values. Run with the system Python
(numpy) and paste the printed literals: `python3 attn_fuse_frontend_forms.py
k-transposed|folded-heads|nll-loss`.
"""

import sys

import numpy as np


def literal(a, fmt="%.4f", indent=4):
    """An MLIR dense literal of `a`, one innermost row (or 8 values of a
    vector) per line."""
    if a.ndim == 0:
        return fmt % a
    if a.ndim == 1:
        rows = [", ".join(fmt % x for x in a[i:i + 8])
                for i in range(0, len(a), 8)]
        return "[" + (",\n" + " " * (indent + 1)).join(rows) + "]"
    inner = [literal(x, fmt, indent + 1) for x in a]
    return "[" + (",\n" + " " * (indent + 1)).join(inner) + "]"


def constant(name, a, element="f32", fmt="%.4f"):
    """`%name = arith.constant dense<..>` of `a`, as main() holds it."""
    prefix = "  %%%s = arith.constant dense<" % name
    shape = "x".join(str(d) for d in a.shape)
    return "%s%s> : tensor<%sx%s>" % (prefix, literal(a, fmt, len(prefix)),
                                      shape, element)


def uniform(rng, shape, lo, hi):
    # Four decimals, so that the literal is the value the program reads.
    return np.round(rng.uniform(lo, hi, shape), 4).astype(np.float32)


def attention(q, k, v, scale, mask=None, causal=False):
    """float64 attention of [.., M, D] q and [.., N, D] k, v."""
    q, k, v = (x.astype(np.float64) for x in (q, k, v))
    s = scale * np.einsum("...id,...jd->...ij", q, k)
    if mask is not None:
        s = s + mask.astype(np.float64)
    m, n = s.shape[-2], s.shape[-1]
    if causal:
        i = np.arange(m)[:, None]
        j = np.arange(n)[None, :]
        s = np.where(j > i + (n - m), -np.inf, s)
    s = s - s.max(axis=-1, keepdims=True)
    p = np.exp(s)
    p = p / p.sum(axis=-1, keepdims=True)
    return np.einsum("...ij,...jd->...id", p, v)


def cross_entropy(z, y, ignore=None):
    """float64 per-token loss lse - z[y], 0 where y == ignore."""
    z = z.astype(np.float64)
    lse = np.log(np.exp(z - z.max(axis=1, keepdims=True)).sum(axis=1))
    lse += z.max(axis=1)
    rows = np.arange(len(y))
    kept = y != ignore if ignore is not None else np.ones(len(y), bool)
    loss = np.zeros(len(y))
    loss[kept] = lse[kept] - z[rows[kept], y[kept]]
    return loss


def k_transposed():
    rng = np.random.RandomState(13)
    b, h, m, n, d = 2, 2, 5, 7, 8
    q = uniform(rng, (b, h, m, d), -1, 1)
    kt = uniform(rng, (b, h, d, n), -1, 1)
    v = uniform(rng, (b, h, n, d), -1, 1)
    scale = float(np.float32(0.353553385))
    out = attention(q, np.swapaxes(kt, -1, -2), v, scale, causal=True)
    for name, a in (("q", q), ("kt", kt), ("v", v)):
        print(constant(name, a))
    print(constant("want", out.reshape(-1), fmt="%.8e"))


def folded_heads():
    rng = np.random.RandomState(14)
    bh, m, n, d = 6, 5, 7, 8
    q = uniform(rng, (bh, m, d), -1, 1)
    kt = uniform(rng, (bh, d, n), -1, 1)
    v = uniform(rng, (bh, n, d), -1, 1)
    mask = uniform(rng, (bh, m, n), -1, 0)
    out = attention(q, np.swapaxes(kt, -1, -2), v, 0.5, mask=mask)
    for name, a in (("q", q), ("kt", kt), ("v", v), ("mask", mask)):
        print(constant(name, a))
    print(constant("want", out.reshape(-1), fmt="%.8e"))


def nll_loss():
    rng = np.random.RandomState(15)
    n, vocab = 8, 32
    z = uniform(rng, (n, vocab), -3, 3)
    y = rng.randint(0, vocab, n)
    # Ignored tokens sit in rows >= 4: the frontend reads z[n, -100] before
    # its select, which stays inside the buffer there (n * 32 >= 100).
    y_ignored = y.copy()
    y_ignored[[5, 7]] = -100
    print(constant("z", z))
    print(constant("y_ignored", y_ignored, "i64", "%d"))
    print(constant("y", y, "i64", "%d"))
    sum_ignored = cross_entropy(z, y_ignored, -100).sum()
    mean = cross_entropy(z, y).mean()
    print(constant("want", np.array([sum_ignored, mean]), fmt="%.8e"))


if __name__ == "__main__":
    {"k-transposed": k_transposed, "folded-heads": folded_heads,
     "nll-loss": nll_loss}[sys.argv[1]]()
