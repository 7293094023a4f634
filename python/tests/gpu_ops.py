"""GPU check of the differentiable ops (attn_mlir.ops) against PyTorch.

Each case runs one op forward and backward on random inputs (outputs and
gradients poisoned beforehand by the caching allocator's reuse, so a kernel
that skips an element is caught), and compares values and input gradients
with PyTorch's own implementation run through torch.autograd:

- ``ref64``: PyTorch's math in float64 on the same inputs (the truth);
- ``ref``: the same math in the inputs' dtype (what PyTorch gives).

A value passes when ``max|ours - ref64| <= 2 * max|ref - ref64| + atol``:
FlashAttention's forward/backward test criterion (twice PyTorch's own
error at that precision, plus a rounding allowance ``atol``). A last case
runs attention and linear_cross_entropy under
``torch.compile(fullgraph=True)`` (a graph break is an error) and compares
with eager.

Two modes:

    python3 python/tests/gpu_ops.py --precompile DIR --chip h200-sxm  # here
    ATTN_MLIR_PACKAGES=DIR python3 python/tests/gpu_ops.py             # GPU

The first needs no torch and no GPU: it compiles every package the cases
use. The second fails on a case whose package is missing.
"""

import argparse
import math
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                os.pardir))

from attn_mlir.signatures import (AttentionSignature,  # noqa: E402
                                  CrossEntropySignature,
                                  LinearCrossEntropySignature,
                                  SoftmaxSignature)

# Attention: (batch, query heads, kv heads, M, N, D, dtype, attributes).
ATTENTION = [
    (2, 4, 4, 128, 128, 64, "bf16", {}),
    (1, 8, 2, 113, 113, 128, "bf16", {"causal": True}),
    (2, 4, 1, 17, 1023, 64, "bf16", {"causal": True}),
    (1, 2, 2, 40, 17, 64, "f16", {"causal": True}),      # 23 rows see no key
    (1, 2, 2, 65, 65, 64, "f32", {"window": (16, 0), "softcap": 30.0}),
    (1, 2, 1, 239, 1, 128, "bf16", {}),
    (1, 2, 2, 799, 3, 64, "bf16", {"scale": 0.3}),
    (1, 4, 4, 256, 256, 256, "bf16", {"causal": True}),
]
# Softmax family: (op, shape, dim, dtype).
SOFTMAX = [
    ("softmax", (17, 1023), 1, "bf16"),
    ("softmax", (4, 32000), 1, "f32"),
    ("log_softmax", (3, 5, 777), 1, "f32"),
    ("log_softmax", (113, 4096), 1, "bf16"),
    ("logsumexp", (113, 4096), 1, "bf16"),
    ("logsumexp", (9, 1000), 0, "f32"),
]
# Cross-entropy: (N, V, dtype, attributes, fraction of ignored labels).
CROSS_ENTROPY = [
    (113, 32000, "bf16", {}, 0.2),
    (17, 32000, "f32", {"reduction": "sum", "label_smoothing": 0.1,
                        "z_loss": 1e-4}, 0.0),
    (64, 1000, "f32", {"reduction": "none", "softcap": 30.0,
                       "ignore_index": 7}, 0.3),
    (33, 500, "f32", {}, 1.0),                         # all ignored: 0 and 0
]
# Linear cross-entropy: (N, D, V, dtype, bias, attributes, ignored).
LINEAR = [
    (17, 256, 32000, "bf16", True, {"reduction": "sum"}, 0.0),
    (113, 128, 128256, "bf16", False, {}, 0.2),
    (64, 64, 1000, "f32", True, {"reduction": "none", "softcap": 20.0,
                                 "label_smoothing": 0.1, "z_loss": 1e-4},
     0.1),
]
# Gradient filtering: (N, D, V, grad_filter), bf16, mean.
FILTERED = (113, 128, 1000, 2e-3)
# torch.compile(fullgraph=True) case: (B, H, T, D, V).
COMPILED = (2, 4, 128, 64, 512)

TORCH_DTYPE = {"f16": "float16", "bf16": "bfloat16", "f32": "float32"}
# Rounding allowance of the criterion, by dtype.
ATOL = {"f16": 2e-3, "bf16": 1e-2, "f32": 1e-5}


def attention_signature(case) -> AttentionSignature:
    b, hq, hkv, m, n, d, dtype, attrs = case
    return AttentionSignature((b, hq, m, d), (b, hkv, n, d), (b, hkv, n, d),
                              dtype, causal=attrs.get("causal", False),
                              window=attrs.get("window"),
                              softcap=attrs.get("softcap"),
                              scale=attrs.get("scale"))


def loss_attributes(attrs):
    return dict(ignore_index=attrs.get("ignore_index", -100),
                label_smoothing=float(attrs.get("label_smoothing", 0.0)),
                z_loss=float(attrs.get("z_loss", 0.0)),
                softcap=attrs.get("softcap"),
                reduction=attrs.get("reduction", "mean"))


def signatures():
    """Every signature the cases compile (forward and backward each)."""
    sigs = [attention_signature(c) for c in ATTENTION]
    sigs += [SoftmaxSignature(op, shape, dim, dtype)
             for op, shape, dim, dtype in SOFTMAX]
    sigs += [CrossEntropySignature(logits=(n, v), dtype=dtype,
                                   **loss_attributes(attrs))
             for n, v, dtype, attrs, _ in CROSS_ENTROPY]
    sigs += [LinearCrossEntropySignature(hidden=(n, d), weight=(v, d),
                                         dtype=dtype, has_bias=bias,
                                         **loss_attributes(attrs))
             for n, d, v, dtype, bias, attrs, _ in LINEAR]
    n, d, v, eps = FILTERED
    sigs.append(LinearCrossEntropySignature(hidden=(n, d), weight=(v, d),
                                            dtype="bf16", grad_filter=eps))
    b, h, t, d, v = COMPILED
    sigs.append(AttentionSignature((b, h, t, d), (b, h, t, d), (b, h, t, d),
                                   "bf16", causal=True))
    sigs.append(LinearCrossEntropySignature(hidden=(b * t, h * d),
                                            weight=(v, h * d), dtype="bf16"))
    return sigs


# The attn-grad pass's output on the GPU: examples/attn-grad/block.mlir.
GRAD_EXAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                            os.pardir, os.pardir, "examples", "attn-grad",
                            "block.mlir")
GRAD_PACKAGE = "attn-grad-block"


def compile_grad_example(out_dir: str, chip: str):
    """attn-opt --attn-grad --attn-to-cubin on the example, into
    out_dir/attn-grad-block."""
    import subprocess
    from attn_mlir.compiler import _find_attn_opt
    package = os.path.join(out_dir, GRAD_PACKAGE)
    subprocess.run([_find_attn_opt(), GRAD_EXAMPLE, "--attn-grad",
                    f"--attn-to-cubin=chip={chip} package-dir={package}",
                    "-o", os.devnull], check=True, capture_output=True)


def ref_attention(q, k, v, causal, window, softcap, scale):
    """Attention as PyTorch's math, in the inputs' dtype: masks (causal
    bottom-right, window), GQA, softcap, fully masked rows as zeros."""
    import torch
    g = q.shape[1] // k.shape[1]
    k = k.repeat_interleave(g, dim=1)
    v = v.repeat_interleave(g, dim=1)
    m, n = q.shape[2], k.shape[2]
    s = (q @ k.transpose(-1, -2)) * scale
    if softcap is not None:
        s = softcap * torch.tanh(s / softcap)
    i = torch.arange(m, device=q.device)[:, None] + (n - m)
    j = torch.arange(n, device=q.device)[None, :]
    keep = torch.ones(m, n, dtype=torch.bool, device=q.device)
    if causal:
        keep &= j <= i
    if window is not None:
        keep &= (j >= i - window[0]) & (j <= i + window[1])
    s = s.masked_fill(~keep, float("-inf"))
    p = torch.softmax(s, dim=-1).nan_to_num(0.0)   # empty rows: 0
    return p @ v


def criterion_bound(ref, ref64, dtype) -> float:
    """FlashAttention's test criterion: twice PyTorch's own error at the
    inputs' precision plus a rounding allowance (relative to the largest
    reference value)."""
    base = (ref.double() - ref64).abs().max().item() if ref.numel() else 0.0
    return 2 * base + ATOL[dtype] * max(1.0, ref64.abs().max().item()
                                        if ref64.numel() else 0.0)


# --- the run on the GPU -------------------------------------------------------

def run_checks() -> int:
    import torch
    import attn_mlir
    torch.manual_seed(0)
    dev = torch.device("cuda")
    failures = []
    results = []

    def dtype_of(name):
        return getattr(torch, TORCH_DTYPE[name])

    def compare(case, name, ours, ref, ref64, dtype):
        ours, ref, ref64 = (t.double() for t in (ours, ref, ref64))
        finite = torch.isfinite(ours).all().item()
        err = (ours - ref64).abs().max().item() if ours.numel() else 0.0
        base = (ref - ref64).abs().max().item() if ours.numel() else 0.0
        bound = criterion_bound(ref, ref64, dtype)
        ok = finite and err <= bound
        results.append((case, name, err, bound, ok))
        if not ok:
            failures.append(f"{case} {name}: max error {err:.3g} > bound "
                            f"{bound:.3g} (PyTorch's own {base:.3g})"
                            + ("" if finite else "; non-finite values"))

    def leaves(*tensors):
        return [t.detach().clone().requires_grad_(True) for t in tensors]

    def grads_of(out, inputs, gout):
        return torch.autograd.grad(out, inputs, gout, allow_unused=True)

    for case in ATTENTION:
        b, hq, hkv, m, n, d, dtype, attrs = case
        name = f"attention {b}x{hq}/{hkv}x{m}x{n}x{d} {dtype} {attrs}"
        dt = dtype_of(dtype)
        q = torch.randn(b, hq, m, d, device=dev).to(dt)
        k = torch.randn(b, hkv, n, d, device=dev).to(dt)
        v = torch.randn(b, hkv, n, d, device=dev).to(dt)
        gout = torch.randn(b, hq, m, d, device=dev).to(dt)
        scale = attrs.get("scale", 1 / math.sqrt(d))
        kw = dict(causal=attrs.get("causal", False),
                  window=attrs.get("window"), softcap=attrs.get("softcap"))
        ins = leaves(q, k, v)
        out = attn_mlir.attention(*ins, scale=attrs.get("scale"),
                                  enable_gqa=hq != hkv, **kw)
        ours = [out] + list(grads_of(out, ins, gout))
        ins = leaves(q, k, v)
        out = ref_attention(*ins, scale=scale, **kw)
        ref = [out] + list(grads_of(out, ins, gout))
        ins = leaves(q.double(), k.double(), v.double())
        out = ref_attention(*ins, scale=scale, **kw)
        ref64 = [out] + list(grads_of(out, ins, gout.double()))
        for label, a, r, r64 in zip(("out", "dq", "dk", "dv"), ours, ref,
                                    ref64):
            compare(name, label, a, r, r64, dtype)

    for op, shape, dim, dtype in SOFTMAX:
        name = f"{op} {shape} dim {dim} {dtype}"
        dt = dtype_of(dtype)
        x = (torch.randn(*shape, device=dev) * 3).to(dt)
        ours_fn = getattr(attn_mlir, op)
        ref_fn = {"softmax": torch.softmax, "log_softmax": torch.log_softmax,
                  "logsumexp": torch.logsumexp}[op]
        out_shape = shape[:dim] + shape[dim + 1:] if op == "logsumexp" \
            else shape
        gout = torch.randn(*out_shape, device=dev)
        (xi,) = leaves(x)
        y = ours_fn(xi, dim)
        ours = [y, grads_of(y, [xi], gout.to(y.dtype))[0]]
        (xi,) = leaves(x)
        y = ref_fn(xi, dim)
        if op == "logsumexp":
            y = y.float()  # ours is float32 whatever the input
        ref = [y, grads_of(y, [xi], gout.to(y.dtype))[0]]
        (xi,) = leaves(x.double())
        y = ref_fn(xi, dim)
        ref64 = [y, grads_of(y, [xi], gout.double())[0]]
        for label, a, r, r64 in zip(("out", "dx"), ours, ref, ref64):
            compare(name, label, a, r, r64, dtype)

    def labels_for(n, v, ignore_fraction, ignore_index):
        y = torch.randint(0, v, (n,), device=dev)
        drop = torch.rand(n, device=dev) < ignore_fraction
        if ignore_fraction >= 1.0:
            drop[:] = True
        return torch.where(drop, torch.full_like(y, ignore_index), y)

    def ref_loss(z, y, ignore_index, label_smoothing, z_loss, softcap,
                 reduction):
        z = z.double() if z.dtype == torch.float64 else z.float()
        if softcap is not None:
            z = softcap * torch.tanh(z / softcap)
        ce = torch.nn.functional.cross_entropy(
            z, y, ignore_index=ignore_index, label_smoothing=label_smoothing,
            reduction="none")
        keep = y != ignore_index
        if z_loss:
            lse = torch.logsumexp(z, dim=-1)
            ce = ce + z_loss * lse * lse * keep
        if reduction == "none":
            return ce
        if reduction == "sum":
            return ce.sum()
        count = keep.sum()
        return ce.sum() / count if count > 0 else ce.sum() * 0

    for n, v, dtype, attrs, ignored in CROSS_ENTROPY:
        name = f"cross_entropy {n}x{v} {dtype} {attrs} ignored {ignored}"
        la = loss_attributes(attrs)
        dt = dtype_of(dtype)
        z = (torch.randn(n, v, device=dev) * 2).to(dt)
        y = labels_for(n, v, ignored, la["ignore_index"])
        gout = torch.randn(n if la["reduction"] == "none" else (),
                           device=dev)
        (zi,) = leaves(z)
        loss = attn_mlir.cross_entropy(zi, y, **la)
        ours = [loss, grads_of(loss, [zi], gout)[0]]
        (zi,) = leaves(z)
        loss = ref_loss(zi, y, **la)
        ref = [loss, grads_of(loss, [zi], gout)[0]]
        (zi,) = leaves(z.double())
        loss = ref_loss(zi, y, **la)
        ref64 = [loss, grads_of(loss, [zi], gout.double())[0]]
        for label, a, r, r64 in zip(("loss", "dlogits"), ours, ref, ref64):
            compare(name, label, a, r, r64, dtype)

    for n, d, v, dtype, has_bias, attrs, ignored in LINEAR:
        name = (f"linear_cross_entropy {n}x{d} V{v} {dtype} bias "
                f"{has_bias} {attrs} ignored {ignored}")
        la = loss_attributes(attrs)
        dt = dtype_of(dtype)
        h = torch.randn(n, d, device=dev).to(dt)
        w = (torch.randn(v, d, device=dev) / math.sqrt(d)).to(dt)
        bias = torch.randn(v, device=dev).to(dt) if has_bias else None
        y = labels_for(n, v, ignored, la["ignore_index"])
        gout = torch.randn(n if la["reduction"] == "none" else (),
                           device=dev)
        base = [h, w] + ([bias] if has_bias else [])

        def ours_loss(ins):
            return attn_mlir.linear_cross_entropy(
                ins[0], ins[1], y, ins[2] if has_bias else None, **la)

        def torch_loss(ins):
            z = ins[0] @ ins[1].t()
            if has_bias:
                z = z + ins[2]
            return ref_loss(z, y, **la)

        ins = leaves(*base)
        loss = ours_loss(ins)
        ours = [loss] + list(grads_of(loss, ins, gout))
        ins = leaves(*base)
        loss = torch_loss(ins)
        ref = [loss] + list(grads_of(loss, ins, gout))
        ins = leaves(*[t.double() for t in base])
        loss = torch_loss(ins)
        ref64 = [loss] + list(grads_of(loss, ins, gout.double()))
        for label, a, r, r64 in zip(("loss", "dh", "dW", "dbias"), ours,
                                    ref, ref64):
            compare(name, label, a, r, r64, dtype)

    # Gradient filtering: V = 1000 and eps = 2e-3 (about half the
    # probabilities fall below it). Ours against the filtered gradient in
    # float64, the base error being the same filtered gradient rounded to
    # bf16 and multiplied in float32, as the kernels do; and ours must be
    # at least 3x closer to the filtered gradient than to the exact one (a
    # filter not applied fails).
    n, d, v, eps = FILTERED
    name = f"linear_cross_entropy {n}x{d} V{v} bf16 grad_filter {eps}"
    h = torch.randn(n, d, device=dev).to(torch.bfloat16)
    w = (torch.randn(v, d, device=dev) / math.sqrt(d)).to(torch.bfloat16)
    y = labels_for(n, v, 0.2, -100)
    gout = torch.randn((), device=dev)
    ins = leaves(h, w)
    loss = attn_mlir.linear_cross_entropy(ins[0], ins[1], y, grad_filter=eps)
    ours = list(grads_of(loss, ins, gout))
    keep = y != -100
    rows = torch.arange(n, device=dev)[keep]

    def dlogits(exact):
        g = torch.softmax(h.double() @ w.double().t(), dim=-1)
        g[rows, y[keep]] -= 1.0
        if not exact:
            g[g.abs() < eps] = 0.0
        g[~keep] = 0.0
        return g * (gout.double() / keep.sum().clamp(min=1))

    g64, exact64 = dlogits(False), dlogits(True)
    ref64 = [g64 @ w.double(), g64.t() @ h.double()]
    g16 = g64.to(torch.bfloat16).float()
    ref = [g16 @ w.float(), g16.t() @ h.float()]
    for label, a, r, r64 in zip(("dh", "dW"), ours, ref, ref64):
        compare(name, label, a, r, r64, "bf16")
    to_filtered = (ours[0].double() - ref64[0]).abs().max().item()
    to_exact = (ours[0].double() - exact64 @ w.double()).abs().max().item()
    results.append((name, "dh: distance to the exact gradient / 3 (must "
                    "exceed the distance to the filtered one)",
                    to_filtered, to_exact / 3, to_filtered < to_exact / 3))
    if not to_filtered < to_exact / 3:
        failures.append(f"{name}: dh is {to_filtered:.3g} from the filtered "
                        f"gradient and {to_exact:.3g} from the exact one: "
                        f"the filter does not show")

    # torch.compile with fullgraph=True: any graph break raises.
    b, hh, t, d, v = COMPILED
    q, k, vv = (torch.randn(b, hh, t, d, device=dev, dtype=torch.bfloat16)
                for _ in range(3))
    w = (torch.randn(v, hh * d, device=dev) / math.sqrt(hh * d)).to(
        torch.bfloat16)
    y = torch.randint(0, v, (b * t,), device=dev)

    def block(q, k, vv, w):
        o = attn_mlir.attention(q, k, vv, causal=True)
        hidden = o.transpose(1, 2).reshape(b * t, hh * d)
        return attn_mlir.linear_cross_entropy(hidden, w, y)

    name = "torch.compile(fullgraph=True) attention + linear_cross_entropy"
    try:
        eager_in = leaves(q, k, vv, w)
        eager = block(*eager_in)
        eager_out = [eager] + list(torch.autograd.grad(eager, eager_in))
        compiled_in = leaves(q, k, vv, w)
        compiled = torch.compile(block, fullgraph=True)(*compiled_in)
        compiled_out = [compiled] + list(torch.autograd.grad(compiled,
                                                             compiled_in))
        # The same kernels run: equal up to the rounding of the glue.
        err = max((a.double() - c.double()).abs().max().item()
                  for a, c in zip(eager_out, compiled_out))
        bound = 1e-2 * max(a.double().abs().max().item() for a in eager_out)
        results.append((name, "loss, dq, dk, dv, dW against eager", err,
                        bound, err <= bound))
        if err > bound:
            failures.append(f"{name}: differs from eager by {err:.3g}")
    except Exception as e:  # a graph break or a failed trace
        results.append((name, "traced", 0, 0, False))
        failures.append(f"{name}: {type(e).__name__}: {e}")

    # attn-grad's @block_grad against torch.autograd of the same block.
    name = "attn-grad examples/attn-grad/block.mlir @block_grad"
    package = os.path.join(os.environ.get("ATTN_MLIR_PACKAGES", "")
                           .split(os.pathsep)[0], GRAD_PACKAGE)
    if not os.path.isdir(package):
        results.append((name, "package", 0, 0, False))
        failures.append(f"{name}: no package {package}")
    else:
        b, hh, t, d, v = 2, 4, 128, 64, 1000
        q, k, vv = (torch.randn(b, hh, t, d, device=dev).to(torch.bfloat16)
                    for _ in range(3))
        w = (torch.randn(v, hh * d, device=dev) / math.sqrt(hh * d)).to(
            torch.bfloat16)
        y = torch.randint(0, v, (b * t,), device=dev)
        ours = list(attn_mlir.Kernel(package, "block_grad")(q, k, vv, w, y))

        def reference(q, k, vv, w):
            o = ref_attention(q, k, vv, True, None, None, 1 / math.sqrt(d))
            hidden = o.transpose(1, 2).reshape(b * t, hh * d)
            return ref_loss(hidden @ w.t(), y, -100, 0.0, 0.0, None, "mean")

        ins = leaves(q, k, vv, w)
        loss = reference(*ins)
        ref = [loss] + list(torch.autograd.grad(loss, ins))
        ins = leaves(*(x.double() for x in (q, k, vv, w)))
        loss = reference(*ins)
        ref64 = [loss] + list(torch.autograd.grad(loss, ins))
        for label, a, r, r64 in zip(("loss", "dq", "dk", "dv", "dW"), ours,
                                    ref, ref64):
            compare(name, label, a, r, r64, "bf16")

    for case, label, err, bound, ok in results:
        print(f"{'PASS' if ok else 'FAIL'}  {case}  {label}  "
              f"err {err:.3g}  bound {bound:.3g}")
    passed = sum(1 for r in results if r[4])
    print(f"\n{passed}/{len(results)} checks passed")
    for f in failures:
        print("FAIL:", f)
    return 0 if not failures else 1


def precompile_or_run(description, signatures_of, run, after=None) -> int:
    """The two modes of a GPU check script: ``--precompile DIR`` compiles
    the packages of ``signatures_of()`` (forward and backward; then
    ``after(DIR, chip)``) and needs no GPU; without it, ``run()`` on the
    GPU."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--precompile", metavar="DIR",
                        help="compile the cases' packages into DIR and exit")
    parser.add_argument("--chip", default="h200-sxm")
    parser.add_argument("-j", "--jobs", type=int, default=0)
    args = parser.parse_args()
    if not args.precompile:
        return run()
    from attn_mlir.precompile import precompile
    precompile(signatures_of(), args.precompile, args.chip, jobs=args.jobs)
    if after:
        after(args.precompile, args.chip)
    return 0


def main() -> int:
    return precompile_or_run(__doc__.split("\n")[0], signatures, run_checks,
                             compile_grad_example)


if __name__ == "__main__":
    sys.exit(main())
