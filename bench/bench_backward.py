#!/usr/bin/env python3
"""The training (backward) benchmark of issue 12: attn_mlir's differentiable
PyTorch ops (python/attn_mlir) forward+backward against PyTorch's own, on
one GPU, on the cases of bench/cases_backward.json.

  attention             fwd+bwd (autograd.grad of out with a random dout):
                        ours vs SDPA FLASH_ATTENTION, SDPA CUDNN_ATTENTION,
                        torch.compile(flex_attention); TFLOP/s with FLOPs =
                        3.5 x 4*B*Hq*N*N*D (halved for causal)
  linear_cross_entropy  fwd+bwd (dh, dW), mean: ours vs
                        F.cross_entropy((h @ W.T).float(), y) eager and under
                        torch.compile; ms and peak memory beyond the inputs
                        and the outputs (loss, dh, dW)
  cross_entropy, softmax, log_softmax
                        the backward alone (autograd.grad on a kept graph):
                        ours vs eager and torch.compile, and a device copy
                        moving the same bytes (the bandwidth ceiling); TB/s of
                        the fewest bytes and the fraction of the copy's speed

Two modes, like python/tests/gpu_ops.py:

  # here (attn-opt, no GPU, no torch): compile every package the cases need
  PYTHONPATH=python python3 bench/bench_backward.py --precompile build-packages-backward
  # on the GPU (no MLIR): the packages carried there, the runtime built
  ATTN_MLIR_PACKAGES=build-packages-backward ATTN_RUNTIME_LIB=build-rt/lib/libAttnRuntimeC.so \\
      python3 bench/bench_backward.py --out $OUT

(bench/backward.sh does the second: it builds build-rt first.) --quick runs
the one tiny case of each kind (a smoke run); --ops/--cases/--match select
cases; --deadline-s stops starting cases after that many seconds.

Every implementation's outputs and gradients are compared with a float32
reference computed on the GPU from the same bf16 inputs (attention: per head
chunk, the explicit softmax; linear cross-entropy: by row chunks; the row ops
by their formula), after the caching allocator's free memory was filled with
NaN, so an element a kernel never writes shows. Ours passes when everything
is finite and each tensor's rel L2 error is at most 2e-2 (or twice the worst
peer's, at most 0.1): otherwise its time is not reported (FAIL). Each peer's
max abs difference from ours is printed too.

Times: CUDA events on the current stream, a 256 MiB buffer zeroed outside
the timed region before each call (cold L2), warm-up calls, the median of
at least 3 calls (more to fill --budget-ms; 2 for a call over 10 s). Each case runs in its own
worker process (a kernel fault or an out-of-memory costs one case). Results:
--out/backward.md and backward.json, rewritten after each case; the markdown
tables are printed last.
"""

import argparse
import datetime
import json
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import time
import traceback
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))
sys.path.insert(0, str(REPO / "python"))

import cases as bench_cases  # noqa: E402
from bench_common import FlushTimer, run_worker  # noqa: E402
from attn_mlir.signatures import (AttentionSignature,  # noqa: E402
                                  CrossEntropySignature,
                                  LinearCrossEntropySignature,
                                  SoftmaxSignature)

CASES_FILE = BENCH_DIR / "cases_backward.json"
OPS = ("attention", "linear_cross_entropy", "cross_entropy", "softmax",
       "log_softmax")
DEFAULT_PACKAGES = REPO / "build-packages-backward"
RECORD = "PRECOMPILE.json"
# rel L2 bound of every checked tensor against the float32 reference (bf16
# rounds to 2^-8 relative; a correct bf16 kernel is at a few 1e-3).
TOLERANCE = 2e-2
# Liger Kernel cannot be installed on the GPU machine (no PyPI there).
LIGER_NOTE = ("Liger Kernel not measured: not installable on the GPU machine "
              "(no PyPI). For reference only: its published fused linear "
              "cross-entropy figure is 50.4 ms on an H100 (another GPU, not "
              "this run).")

# ----------------------------------------------------------------------------
# Cases and their signatures (no torch)
# ----------------------------------------------------------------------------


def load_cases(path=CASES_FILE) -> list:
    return bench_cases.load_cases(path, OPS)


# Cut Cross-Entropy's gradient filter for bf16 (the "filtered" mode).
LCE_GRAD_FILTER = 2.0 ** -12


def signatures_of(case: dict) -> list:
    """The signatures attn_mlir's ops make for the case's calls (forward
    and backward packages each)."""
    op = case["op"]
    if op == "attention":
        b, hq, hkv = case["batch"], case["heads_q"], case["heads_kv"]
        n, d = case["seq"], case["head_dim"]
        return [AttentionSignature((b, hq, n, d), (b, hkv, n, d),
                                   (b, hkv, n, d), "bf16",
                                   causal=case["causal"])]
    if op == "linear_cross_entropy":
        n, d, v = case["tokens"], case["hidden"], case["vocab"]
        return [LinearCrossEntropySignature(hidden=(n, d), weight=(v, d),
                                            dtype="bf16", label_dtype="i64",
                                            grad_filter=f)
                for f in (None, LCE_GRAD_FILTER)]
    if op == "cross_entropy":
        return [CrossEntropySignature(logits=(case["tokens"], case["vocab"]),
                                      dtype="bf16", label_dtype="i64")]
    return [SoftmaxSignature(op, (case["rows"], case["cols"]), 1, "bf16")]


def case_flops(case: dict) -> float:
    """Attention fwd+bwd: 3.5 x the forward's 4*B*Hq*N*N*D, halved for
    causal (FlashAttention's convention). Linear cross-entropy fwd+bwd:
    6*N*D*V, its three matmuls (logits, dh, dW; a recomputation of the
    logits in the backward is not counted)."""
    if case["op"] == "attention":
        forward = (4.0 * case["batch"] * case["heads_q"] * case["seq"] ** 2
                   * case["head_dim"])
        if case["causal"]:
            forward /= 2
        return 3.5 * forward
    if case["op"] == "linear_cross_entropy":
        return 6.0 * case["tokens"] * case["hidden"] * case["vocab"]
    return 0.0


def case_bytes(case: dict) -> int:
    """The backward's fewest bytes (each input read once, each output
    written once), for the row ops: cross_entropy reads the bf16 logits,
    the labels (i64) and the lse (f32), writes dlogits; softmax/log_softmax
    read y and dy, write dx."""
    op = case["op"]
    if op == "cross_entropy":
        n, v = case["tokens"], case["vocab"]
        return 2 * n * v * 2 + n * (8 + 4)
    if op in ("softmax", "log_softmax"):
        return 3 * case["rows"] * case["cols"] * 2
    return 0


def select_cases(args) -> list:
    cases = load_cases(args.cases_file)
    if args.quick:
        cases = [c for c in cases if c.get("quick")]
    if args.ops:
        ops = args.ops.split(",")
        unknown = sorted(set(ops) - set(OPS))
        if unknown:
            raise SystemExit(f"unknown ops {unknown} (known: {OPS})")
        cases = [c for c in cases if c["op"] in ops]
    if args.match:
        pattern = re.compile(args.match)
        cases = [c for c in cases if pattern.search(c["name"])]
    if args.cases:
        wanted = args.cases.split(",")
        unknown = sorted(set(wanted) - {c["name"] for c in cases})
        if unknown:
            raise SystemExit(f"unknown (or filtered out) cases {unknown}")
        cases = [c for c in cases if c["name"] in wanted]
    return cases


# ----------------------------------------------------------------------------
# --precompile: here, with attn-opt (no torch, no GPU)
# ----------------------------------------------------------------------------


def git_commit() -> str:
    try:
        return subprocess.run(
            ["git", "-C", str(REPO), "describe", "--always", "--dirty",
             "--abbrev=12"], capture_output=True, text=True,
            timeout=30).stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def precompile_mode(args) -> int:
    import concurrent.futures
    from attn_mlir.compiler import CompileError, Compiler
    cases = select_cases(args)
    out = Path(args.precompile)
    compiler = Compiler(args.chip, package_dirs=[])
    if not compiler.attn_opt:
        print("error: attn-opt not found (build/bin/attn-opt, ATTN_OPT or "
              "PATH)", file=sys.stderr)
        return 1
    identity = compiler.identity()
    out.mkdir(parents=True, exist_ok=True)
    # Package names hash the MLIR source and the chip, not the compiler:
    # packages of another attn-opt build must not be reused.
    record_path = out / RECORD
    if record_path.exists():
        old = json.loads(record_path.read_text())
        if old.get("compiler") != identity or old.get("chip") != args.chip:
            print(f"{out}: packages of another compiler or chip "
                  f"({old.get('compiler')}, {old.get('chip')}): removed")
            for entry in out.iterdir():
                if entry.is_dir() and (entry / "manifest.json").exists():
                    shutil.rmtree(entry)
    work, seen = [], set()
    for case in cases:
        for signature in signatures_of(case):
            for direction in ("forward", "backward"):
                key = signature.key(direction, args.chip)
                if key not in seen:
                    seen.add(key)
                    work.append((case["name"], signature, direction, key))
    entries = []
    began = time.time()

    def build(item):
        name, signature, direction, key = item
        start = time.time()
        entry = {"case": name, "direction": direction, "key": key}
        try:
            compiler.compile(signature, direction, str(out))
        except CompileError as e:
            entry["error"] = str(e)
        entry["seconds"] = round(time.time() - start, 2)
        print(f"[{len(entries) + 1}/{len(work)}] {name} {direction}: "
              f"{'FAILED' if 'error' in entry else 'ok'} "
              f"({entry['seconds']:.1f} s) {key}", flush=True)
        if "error" in entry:
            print("  " + entry["error"].split("\ncommand:")[0]
                  .replace("\n", "\n  "), flush=True)
        entries.append(entry)
        return entry

    with concurrent.futures.ThreadPoolExecutor(max(1, args.jobs)) as pool:
        list(pool.map(build, work))
    total = time.time() - began
    failed = [e for e in entries if "error" in e]
    record = {"chip": args.chip, "compiler": identity,
              "attn_opt": compiler.attn_opt, "source_commit": git_commit(),
              "date": datetime.datetime.now(datetime.timezone.utc)
              .isoformat(timespec="seconds"),
              "total_seconds": round(total, 1),
              "entries": sorted(entries, key=lambda e: e["key"])}
    # Merge with the entries of earlier (partial) runs of the same compiler.
    if record_path.exists():
        old = json.loads(record_path.read_text())
        if old.get("compiler") == identity and old.get("chip") == args.chip:
            mine = {e["key"] for e in entries}
            record["entries"] = sorted(
                [e for e in old.get("entries", []) if e["key"] not in mine]
                + entries, key=lambda e: e["key"])
    record_path.write_text(json.dumps(record, indent=1) + "\n")
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    slowest = sorted(entries, key=lambda e: -e["seconds"])[:5]
    print(f"\n{len(entries) - len(failed)}/{len(entries)} packages compiled "
          f"for chip {args.chip} into {out} in {total:.0f} s "
          f"({size / 2**20:.1f} MiB); slowest: " +
          ", ".join(f"{e['case']} {e['direction']} {e['seconds']:.0f} s"
                    for e in slowest))
    for e in failed:
        print(f"FAILED: {e['case']} {e['direction']}: "
              f"{e['error'].splitlines()[0] if e['error'] else ''}")
    if failed:
        print(f"{len(failed)} failed: recorded in {record_path}; the run "
              f"mode reports those cases' 'ours' as skipped with the error")
    return 2 if failed else 0


# ----------------------------------------------------------------------------
# The worker: one case on the GPU
# ----------------------------------------------------------------------------


class Skip(Exception):
    """An implementation that cannot run here (with the reason)."""


class Timer(FlushTimer):
    """Median time of a callable with CUDA events: warm-up calls, then
    `reps` timed calls (3 to max_reps, filling the budget; 2 and no warm-up
    for a call over SLOW_MS, e.g. a slow fallback), each after zeroing a
    256 MiB buffer (larger than the H200's L2) outside the timed region."""

    SLOW_MS = 10000.0

    def reps_and_warm_ups(self, estimate: float):
        if estimate > self.SLOW_MS:
            return 2, 0
        if estimate > self.budget_ms / 3:
            return 3, 1 if estimate < 2000 else 0
        return (int(min(self.max_reps, max(5, self.budget_ms // estimate))),
                int(min(10, max(2, 100 // estimate))))


def tensor_bytes(t) -> int:
    return t.numel() * t.element_size()


class Context:
    """What every implementation of a case shares: torch, the timer, the
    reference, the packages."""

    def __init__(self, torch, case, args):
        self.torch, self.case, self.args = torch, case, args
        self.timer = Timer(torch, args.budget_ms, args.max_reps)
        self.reference = {}      # name -> float32 tensor
        self.ours_outputs = None  # ours' checked outputs (compared to peers)

    def poison(self, nbytes: int):
        """Fills the caching allocator's free memory with NaN (0xFF bytes)
        for the next allocations: frees the cache, allocates one block of
        nbytes (at most half of the free memory) filled with 0xFF, frees
        it; the next large allocations are carved from it."""
        torch = self.torch
        torch.cuda.synchronize()
        torch.cuda.empty_cache()
        free, _ = torch.cuda.mem_get_info()
        size = min(int(free * 0.5), int(nbytes))
        if size > 0:
            block = torch.empty(size, dtype=torch.uint8, device="cuda")
            block.fill_(0xFF)
            del block
        torch.cuda.synchronize()

    def compare(self, outputs: dict) -> dict:
        """name -> {max_abs, rel_l2, finite} against the float32
        reference."""
        torch = self.torch
        errors = {}
        for name, got in outputs.items():
            want = self.reference[name]
            got = got.detach().float().reshape(want.shape)
            finite = bool(torch.isfinite(got).all().item())
            diff = got - want
            norm = torch.linalg.vector_norm(want).item()
            rel = torch.linalg.vector_norm(diff).item() / (norm or 1.0)
            errors[name] = {"max_abs": diff.abs().max().item()
                            if diff.numel() else 0.0,
                            "rel_l2": rel, "finite": finite}
            del got, diff
        return errors

    def vs_ours(self, outputs: dict) -> dict:
        """max |ours - this| per tensor (ours' outputs kept)."""
        if not self.ours_outputs:
            return {}
        result = {}
        for name, got in outputs.items():
            mine = self.ours_outputs.get(name)
            if mine is not None:
                result[name] = (got.detach().float() -
                                mine.float()).abs().max().item() \
                    if got.numel() else 0.0
        return result


def ours_missing(ctx) -> str:
    """'' if every package of the case is in ATTN_MLIR_PACKAGES, else why
    not (a failed precompile's error, or the missing key)."""
    from attn_mlir.ops import chip_of
    from attn_mlir.compiler import default_compiler
    torch = ctx.torch
    chip = chip_of(torch.device("cuda"))
    compiler = default_compiler(chip)
    failures = {}
    for d in compiler.package_dirs:
        path = Path(d) / RECORD
        if path.exists():
            for e in json.loads(path.read_text()).get("entries", []):
                if e.get("error"):
                    failures[e["key"]] = e["error"]
    for signature in signatures_of(ctx.case):
        for direction in ("forward", "backward"):
            if compiler.find(signature, direction):
                continue
            key = signature.key(direction, chip)
            if key in failures:
                text = failures[key].split("\ncommand:")[0]
                return (f"precompile failed for the {direction} "
                        f"({key}): {text}")
            return (f"no package {key} (the {direction}) for chip {chip} in "
                    f"ATTN_MLIR_PACKAGES={os.environ.get('ATTN_MLIR_PACKAGES')}"
                    f": run --precompile for this case and chip")
    return ""


def ours_temp_bytes(ctx, grad_filter=None) -> int:
    """The runtime temporaries of ours' kernels (cuMemAlloc: not seen by
    torch.cuda.max_memory_allocated): the forward and backward packages of
    the signature the measured call uses (linear cross-entropy: exact or
    with `grad_filter`)."""
    from attn_mlir.ops import kernel_for
    dev = ctx.torch.device("cuda", ctx.torch.cuda.current_device())
    used = [s for s in signatures_of(ctx.case)
            if getattr(s, "grad_filter", None) == grad_filter]
    return sum(kernel_for(s, d, dev).temp_bytes
               for s in used for d in ("forward", "backward"))


def measure(ctx, name: str, setup) -> dict:
    """One implementation: set up (a Skip or an error is reported), one
    warm-up call (peers: compilation, autotuning; ours has nothing to
    compile and skips it), one call on NaN-poisoned memory that is checked
    and gives the peak memory, then the timings.

    setup() returns a dict: step (callable -> dict name -> tensor: the
    timed call's outputs, all checked), forward (optional: the forward
    alone, timed too), close (optional), note (optional), ours (bool)."""
    torch = ctx.torch
    record = {"impl": name}
    impl = {}
    try:
        impl = setup()
        step = impl["step"]
        if not impl.get("ours"):
            outs = step()  # compilation, autotuning
            del outs
        # The outputs' size (bf16), as the reference's.
        out_bytes = sum(t.numel() * 2 for t in ctx.reference.values())
        ctx.poison(4 * out_bytes + (512 << 20))
        # Peak memory of the call beyond what is allocated before it and
        # the tensors it returns (the poison block is cached, not
        # allocated).
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        start, end = (torch.cuda.Event(enable_timing=True) for _ in range(2))
        start.record()
        outs = step()
        end.record()
        torch.cuda.synchronize()
        peak = torch.cuda.max_memory_allocated() - base
        returned = sum(tensor_bytes(t) for k, t in outs.items()
                       if k not in impl.get("kept", ()))
        record["torch_extra_bytes"] = max(0, peak - returned)
        record["temp_bytes"] = ours_temp_bytes(
            ctx, impl.get("grad_filter")) if impl.get("ours") \
            else 0
        record["extra_bytes"] = record["torch_extra_bytes"] + \
            record["temp_bytes"]
        errors = ctx.compare(outs)
        record["errors"] = errors
        if impl.get("ours"):
            ctx.ours_outputs = {k: v.detach() for k, v in outs.items()}
        else:
            diff = ctx.vs_ours(outs)
            if diff:
                record["max_abs_vs_ours"] = diff
        del outs
        # (settle() may pass ours later, within twice the peers' error.)
        record["status"] = "PASS" if all(
            e["finite"] and e["rel_l2"] <= TOLERANCE
            for e in errors.values()) else "FAIL"
        # (ours' first call also loaded its kernels: an estimate only.)
        timing = ctx.timer(step, start.elapsed_time(end))
        if "forward" in impl:
            # The training forward (grad enabled: what it saves for the
            # backward is made, then freed); compiled peers reuse their
            # graph.
            forward = impl["forward"]
            forward()
            torch.cuda.synchronize()
            start.record()
            forward()
            end.record()
            torch.cuda.synchronize()
            record["forward_ms"] = ctx.timer(
                forward, start.elapsed_time(end))["median_ms"]
        record.update(timing)
    except Skip as e:
        record["status"] = "SKIPPED"
        record["error"] = str(e)
    except Exception as e:  # Reported, never silently dropped.
        # A peer that cannot run here is skipped (with the reason); ours
        # failing is an error.
        record["status"] = "ERROR" if impl.get("ours") or name == "ours" \
            else "SKIPPED"
        record["error"] = f"{type(e).__name__}: {e}".strip()
        record["traceback"] = traceback.format_exc()[-4000:]
    finally:
        if "close" in impl:
            try:
                impl["close"]()
            except Exception:
                pass
        if impl.get("note"):
            record["note"] = impl["note"]
    if record["status"] in ("SKIPPED", "ERROR"):
        print(f"  {name}: {record['status']}: "
              f"{record['error'].splitlines()[0][:300]}", flush=True)
    else:
        vs = record.get("max_abs_vs_ours")
        print(f"  {name}: {record['status']} {record['median_ms']:.3f} ms; "
              f"vs float32: " + ", ".join(
                  f"{k} max err {e['max_abs']:.3g} rel L2 {e['rel_l2']:.2e}"
                  for k, e in record["errors"].items()) +
              (f"; max |diff| vs ours: " + ", ".join(
                  f"{k} {v:.3g}" for k, v in vs.items()) if vs else ""),
              flush=True)
    torch.cuda.empty_cache()
    return record


# --- attention ----------------------------------------------------------------


def attention_reference(torch, q, k, v, do, causal: bool) -> dict:
    """out, dq, dk, dv in float32 by the explicit softmax, chunk of heads
    by chunk of heads (at most 1 GiB of scores a chunk)."""
    b, hq, n, d = q.shape
    group = hq // k.shape[1]
    scale = 1.0 / math.sqrt(d)
    rows = b * hq

    def flat(t):  # [B, Hkv, N, D] -> [B*Hq, N, D] (each kv head repeated)
        return t.repeat_interleave(group, dim=1).reshape(rows, n, d)
    qf, dof = q.reshape(rows, n, d), do.reshape(rows, n, d)
    kf, vf = flat(k), flat(v)
    out = torch.empty(rows, n, d, device="cuda", dtype=torch.float32)
    dq, dk, dv = (torch.empty_like(out) for _ in range(3))
    mask = (torch.triu(torch.ones(n, n, dtype=torch.bool, device="cuda"), 1)
            if causal else None)
    chunk = max(1, (1 << 30) // (n * n * 4))
    for s in range(0, rows, chunk):
        e = min(rows, s + chunk)
        qc, kc, vc, doc = (t[s:e].float() for t in (qf, kf, vf, dof))
        p = torch.bmm(qc, kc.transpose(1, 2)).mul_(scale)
        if mask is not None:
            p.masked_fill_(mask, float("-inf"))
        p = torch.softmax(p, dim=-1)
        oc = torch.bmm(p, vc)
        out[s:e] = oc
        dv[s:e] = torch.bmm(p.transpose(1, 2), doc)
        ds = torch.bmm(doc, vc.transpose(1, 2))
        ds.sub_((doc * oc).sum(-1, keepdim=True)).mul_(p)
        del p
        dq[s:e] = torch.bmm(ds, kc).mul_(scale)
        dk[s:e] = torch.bmm(ds.transpose(1, 2), qc).mul_(scale)
        del ds
    shape_q, hkv = (b, hq, n, d), k.shape[1]
    return {"out": out.reshape(shape_q), "dq": dq.reshape(shape_q),
            "dk": dk.reshape(b, hkv, group, n, d).sum(2),
            "dv": dv.reshape(b, hkv, group, n, d).sum(2)}


def run_attention(ctx) -> list:
    torch, case = ctx.torch, ctx.case
    import torch.nn.functional as F
    b, hq, hkv = case["batch"], case["heads_q"], case["heads_kv"]
    n, d, causal = case["seq"], case["head_dim"], case["causal"]
    gqa = hq != hkv
    gen = torch.Generator(device="cuda")
    gen.manual_seed(ctx.args.seed)

    def randn(*shape):
        return torch.randn(*shape, generator=gen, device="cuda",
                           dtype=torch.bfloat16)
    q, k, v = randn(b, hq, n, d), randn(b, hkv, n, d), randn(b, hkv, n, d)
    do = randn(b, hq, n, d)
    ctx.reference = attention_reference(torch, q, k, v, do, causal)
    torch.cuda.empty_cache()
    q, k, v = (t.requires_grad_(True) for t in (q, k, v))

    def impl_of(fn, **extra):
        def step():
            out = fn(q, k, v)
            dq, dk, dv = torch.autograd.grad(out, (q, k, v), do)
            return {"out": out, "dq": dq, "dk": dk, "dv": dv}
        return dict(step=step, forward=lambda: fn(q, k, v), **extra)

    def ours():
        missing = ours_missing(ctx)
        if missing:
            raise Skip(missing)
        import attn_mlir
        return impl_of(lambda q, k, v: attn_mlir.attention(
            q, k, v, causal=causal, enable_gqa=gqa), ours=True)

    def sdpa(backend):
        def setup():
            from torch.nn.attention import sdpa_kernel
            context = sdpa_kernel(backend)
            context.__enter__()
            return impl_of(lambda q, k, v: F.scaled_dot_product_attention(
                q, k, v, is_causal=causal, enable_gqa=gqa),
                close=lambda: context.__exit__(None, None, None))
        return setup

    def flex():
        try:
            from torch.nn.attention.flex_attention import (create_block_mask,
                                                           flex_attention)
        except ImportError as e:
            raise Skip(f"no flex_attention in this torch: {e}")
        compiled = torch.compile(flex_attention, dynamic=False)
        block_mask = None
        if causal:
            block_mask = create_block_mask(
                lambda b_, h_, qi, ki: qi >= ki, B=None, H=None, Q_LEN=n,
                KV_LEN=n, device="cuda")
        return impl_of(lambda q, k, v: compiled(
            q, k, v, block_mask=block_mask, enable_gqa=gqa),
            note="torch.compile(flex_attention), block mask for causal")

    from torch.nn.attention import SDPBackend
    return [measure(ctx, "ours", ours),
            measure(ctx, "sdpa_flash", sdpa(SDPBackend.FLASH_ATTENTION)),
            measure(ctx, "sdpa_cudnn", sdpa(SDPBackend.CUDNN_ATTENTION)),
            measure(ctx, "flex_compiled", flex)]


# --- linear cross-entropy -------------------------------------------------------


def lce_reference(torch, h, w, y) -> dict:
    """loss, dh, dW of mean cross_entropy(h @ w.T) in float32, by chunks of
    rows (at most 1 GiB of logits a chunk)."""
    n, v = h.shape[0], w.shape[0]
    hf, wf = h.float(), w.float()
    dh = torch.empty_like(hf)
    dw = torch.zeros_like(wf)
    loss = torch.zeros((), device="cuda", dtype=torch.float64)
    chunk = max(1, (1 << 30) // (v * 4))
    for s in range(0, n, chunk):
        e = min(n, s + chunk)
        z = hf[s:e] @ wf.T
        yc = y[s:e]
        lse = torch.logsumexp(z, dim=-1)
        loss += (lse - z.gather(1, yc[:, None])[:, 0]).double().sum()
        z.sub_(lse[:, None]).exp_()
        z[torch.arange(e - s, device="cuda"), yc] -= 1.0
        z.div_(n)
        dh[s:e] = z @ wf
        dw.addmm_(z.T, hf[s:e])
        del z
    return {"loss": (loss / n).float(), "dh": dh, "dW": dw}


def run_linear_cross_entropy(ctx) -> list:
    torch, case = ctx.torch, ctx.case
    import torch.nn.functional as F
    n, d, v = case["tokens"], case["hidden"], case["vocab"]
    gen = torch.Generator(device="cuda")
    gen.manual_seed(ctx.args.seed)
    h = torch.randn(n, d, generator=gen, device="cuda", dtype=torch.bfloat16)
    w = torch.randn(v, d, generator=gen, device="cuda",
                    dtype=torch.bfloat16).mul_(1.0 / math.sqrt(d))
    y = torch.randint(0, v, (n,), generator=gen, device="cuda")
    ctx.reference = lce_reference(torch, h, w, y)
    torch.cuda.empty_cache()
    h.requires_grad_(True)
    w.requires_grad_(True)

    def impl_of(fn, **extra):
        def step():
            loss = fn(h, w, y)
            dh, dw = torch.autograd.grad(loss, (h, w))
            return {"loss": loss, "dh": dh, "dW": dw}
        return dict(step=step, forward=lambda: fn(h, w, y), **extra)

    def materialized(h, w, y):
        return F.cross_entropy((h @ w.T).float(), y)

    def ours(grad_filter=None):
        missing = ours_missing(ctx)
        if missing:
            raise Skip(missing)
        import attn_mlir
        return impl_of(lambda h, w, y: attn_mlir.linear_cross_entropy(
            h, w, y, grad_filter=grad_filter), ours=True,
            grad_filter=grad_filter)

    def compiled():
        return impl_of(torch.compile(materialized, dynamic=False),
                       note="torch.compile(F.cross_entropy((h @ W.T)"
                            ".float(), y))")

    def eager():
        return impl_of(materialized,
                       note="F.cross_entropy((h @ W.T).float(), y)")

    def liger():
        raise Skip(LIGER_NOTE)

    return [measure(ctx, "ours", ours),
            measure(ctx, "ours_filtered",
                    lambda: ours(grad_filter=LCE_GRAD_FILTER)),
            measure(ctx, "torch_compiled", compiled),
            measure(ctx, "torch_eager", eager),
            measure(ctx, "liger", liger)]


# --- the row ops: backward alone ------------------------------------------------


def run_row_backward(ctx) -> list:
    """cross_entropy, softmax, log_softmax: the forward once per
    implementation, then autograd.grad on the kept graph (retain_graph)
    is the timed call."""
    torch, case = ctx.torch, ctx.case
    import torch.nn.functional as F
    op = case["op"]
    gen = torch.Generator(device="cuda")
    gen.manual_seed(ctx.args.seed)
    if op == "cross_entropy":
        rows, cols = case["tokens"], case["vocab"]
    else:
        rows, cols = case["rows"], case["cols"]
    x = torch.randn(rows, cols, generator=gen, device="cuda",
                    dtype=torch.bfloat16).mul_(2.0)
    if op == "cross_entropy":
        labels = torch.randint(0, cols, (rows,), generator=gen, device="cuda")
        dy = None
        z = x.float()
        lse = torch.logsumexp(z, dim=-1)
        loss = (lse - z.gather(1, labels[:, None])[:, 0]).double().mean()
        grad = z.sub_(lse[:, None]).exp_()
        grad[torch.arange(rows, device="cuda"), labels] -= 1.0
        ctx.reference = {"loss": loss.float(), "dx": grad.div_(rows)}
        del z, lse
    else:
        dy = torch.randn(rows, cols, generator=gen, device="cuda",
                         dtype=torch.bfloat16)
        yf = (torch.softmax if op == "softmax" else torch.log_softmax)(
            x.float(), dim=-1)
        dyf = dy.float()
        if op == "softmax":
            dx = yf * (dyf - (yf * dyf).sum(-1, keepdim=True))
        else:
            dx = dyf - yf.exp() * dyf.sum(-1, keepdim=True)
        ctx.reference = {"y": yf, "dx": dx}
        del dyf
    torch.cuda.empty_cache()
    x.requires_grad_(True)
    first = "loss" if op == "cross_entropy" else "y"

    def impl_of(fn, **extra):
        # The forward runs in setup (inside measure's try); its output and
        # graph are kept, the timed call is the backward alone.
        out = fn(x)

        def step():
            (dx,) = torch.autograd.grad(out, (x,), dy, retain_graph=True)
            return {first: out.detach(), "dx": dx}
        # The forward output existed before the timed call.
        return dict(step=step, kept=(first,), **extra)

    def torch_fn(t):
        if op == "cross_entropy":
            return F.cross_entropy(t, labels)
        return (torch.softmax if op == "softmax" else torch.log_softmax)(
            t, dim=-1)

    def ours():
        missing = ours_missing(ctx)
        if missing:
            raise Skip(missing)
        import attn_mlir
        if op == "cross_entropy":
            return impl_of(lambda t: attn_mlir.cross_entropy(t, labels),
                           ours=True)
        return impl_of(lambda t: getattr(attn_mlir, op)(t, -1), ours=True)

    def eager():
        return impl_of(torch_fn, note=("F.cross_entropy(logits, labels) on "
                                       "the bf16 logits" if op ==
                                       "cross_entropy" else f"torch.{op}"))

    def compiled():
        return impl_of(torch.compile(torch_fn, dynamic=False),
                       note="torch.compile of the same")

    records = [measure(ctx, "ours", ours), measure(ctx, "torch_eager", eager),
               measure(ctx, "torch_compiled", compiled)]
    # The bandwidth ceiling: a copy moving the backward's fewest bytes
    # (read + write of half of them).
    record = {"impl": "copy", "status": "n/a",
              "note": "tensor.copy_ reading and writing case_bytes/2 each"}
    try:
        half = case_bytes(case) // 2
        src = torch.empty(half, dtype=torch.uint8, device="cuda").fill_(7)
        dst = torch.empty_like(src)

        def copy():
            dst.copy_(src)
        copy()
        torch.cuda.synchronize()
        start, end = (torch.cuda.Event(enable_timing=True) for _ in range(2))
        start.record()
        copy()
        end.record()
        torch.cuda.synchronize()
        record.update(ctx.timer(copy, start.elapsed_time(end)))
        del src, dst
        print(f"  copy: {record['median_ms']:.3f} ms", flush=True)
    except Exception as e:
        record.update(status="ERROR", error=f"{type(e).__name__}: {e}")
    records.append(record)
    return records


def settle(records: list) -> list:
    """Ours' verdict once the peers ran: a tensor over TOLERANCE still
    passes when it is within twice the worst error of the peers that ran
    (the bf16 floor of that case; at most 5 x TOLERANCE), everything
    finite."""
    mine = records[0]
    if mine.get("impl") != "ours" or mine.get("status") != "FAIL":
        return records
    peer_errors = {}
    for r in records[1:]:
        for k, e in r.get("errors", {}).items():
            if e["finite"]:
                peer_errors[k] = max(peer_errors.get(k, 0.0), e["rel_l2"])
    # Capped: a broken peer must not pass a broken kernel.
    if all(e["finite"] and e["rel_l2"] <= max(
            TOLERANCE, min(2 * peer_errors.get(k, 0.0), 5 * TOLERANCE))
           for k, e in mine["errors"].items()):
        mine["status"] = "PASS"
        mine["note"] = (mine.get("note", "") + " passed within twice the "
                        "peers' error").strip()
    print(f"  ours: final status {mine['status']} (peers' worst rel L2: " +
          ", ".join(f"{k} {v:.2e}" for k, v in peer_errors.items()) + ")",
          flush=True)
    return records


RUNNERS = {"attention": run_attention,
           "linear_cross_entropy": run_linear_cross_entropy,
           "cross_entropy": run_row_backward, "softmax": run_row_backward,
           "log_softmax": run_row_backward}


def worker(args) -> int:
    import torch
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    case = next(c for c in load_cases(args.cases_file)
                if c["name"] == args.worker)
    ctx = Context(torch, case, args)
    records = settle(RUNNERS[case["op"]](ctx))
    Path(args.worker_out).write_text(json.dumps(records))
    return 0


# ----------------------------------------------------------------------------
# The driver: one worker per case, the tables
# ----------------------------------------------------------------------------


def derive(case: dict, record: dict):
    ms = record.get("median_ms")
    if not ms:
        return
    flops = case_flops(case)
    if flops:
        record["tflops"] = flops / ms / 1e9
    nbytes = case_bytes(case)
    if nbytes:
        record["tbps"] = nbytes / ms / 1e9


def verified_ms(record):
    """The time, if it can be reported: ours only when it passed."""
    if record.get("impl") == "ours" and record.get("status") != "PASS":
        return None
    return record.get("median_ms")


def status_text(record: dict) -> str:
    status = record.get("status", "?")
    if status == "FAIL":
        bad = [f"{k} rel L2 {e['rel_l2']:.1e}"
               + ("" if e["finite"] else " non-finite")
               for k, e in record.get("errors", {}).items()
               if not e["finite"] or e["rel_l2"] > TOLERANCE]
        return "FAIL (" + ", ".join(bad) + ")"
    if status in ("ERROR", "SKIPPED", "NOT RUN"):
        text = (record.get("error") or "").splitlines()
        return f"{status}: {text[0][:160] if text else ''}"
    return status


def fmt(value, spec, missing="-"):
    return format(value, spec) if value is not None else missing


def ratio_text(ours, peer) -> str:
    """peer time / ours (above 1: ours is faster)."""
    mine, theirs = verified_ms(ours), peer.get("median_ms")
    if not mine or not theirs:
        return "-"
    value = theirs / mine
    return f"{value:.2f}" if value >= 0.01 else f"{value:.1e}"


def impl_cell(record, unit: str) -> str:
    ms = verified_ms(record)
    if ms is None:
        return status_text(record).split(":")[0]
    value = record.get("tflops" if unit == "TF" else "tbps")
    text = f"{ms:.3f} ms"
    if value is not None:
        text += (f" / {value:.0f} TFLOP/s" if unit == "TF"
                 else f" / {value:.2f} TB/s")
    if record.get("status") == "FAIL":
        text += " (FAIL)"
    return text


def worst_error(record) -> str:
    errors = record.get("errors")
    if not errors:
        return "-"
    name, e = max(errors.items(), key=lambda kv: kv[1]["rel_l2"])
    return f"{e['rel_l2']:.1e} ({name})"


def by_impl(records) -> dict:
    return {r["impl"]: r for r in records}


def attention_table(results) -> list:
    peers = ("sdpa_flash", "sdpa_cudnn", "flex_compiled")
    lines = ["| case | ours fwd+bwd | ours fwd ms | ours err (rel L2) | "
             + " | ".join(peers) + " | " +
             " | ".join(f"{p}/ours" for p in peers) + " |",
             "|" + " --- |" * (4 + 2 * len(peers))]
    for case, records in results:
        r = by_impl(records)
        mine = r.get("ours", {"impl": "ours", "status": "NOT RUN"})
        lines.append(
            f"| {case['name']} | {impl_cell(mine, 'TF')} | "
            f"{fmt(mine.get('forward_ms') if verified_ms(mine) else None, '.3f')} | "
            f"{worst_error(mine)} | " +
            " | ".join(impl_cell(r[p], "TF") if p in r else "-"
                       for p in peers) + " | " +
            " | ".join(ratio_text(mine, r[p]) if p in r else "-"
                       for p in peers) + " |")
    return lines


def mib(value) -> str:
    return f"{value / 2**20:.0f}" if value is not None else "-"


def lce_table(results) -> list:
    peers = ("torch_compiled", "torch_eager")
    lines = ["| case | ours fwd+bwd ms | ours extra MiB (torch + runtime "
             "temps) | ours err (rel L2) | " +
             " | ".join(f"{p} ms | {p} extra MiB" for p in peers) + " | " +
             " | ".join(f"{p}/ours" for p in peers) + " |",
             "|" + " --- |" * (3 + 3 * len(peers) + 1)]
    for case, records in results:
        r = by_impl(records)
        for impl in ("ours", "ours_filtered"):
            if impl == "ours" or impl in r:
                lines.append(lce_row(case, r, impl, peers))
    return lines


def lce_row(case, r, impl, peers) -> str:
    """One line of lce_table: `impl` (ours, or ours with
    grad_filter = 2^-12) against the peers."""
    mine = r.get(impl, {"impl": impl, "status": "NOT RUN"})
    ms = verified_ms(mine)
    extra = (f"{mib(mine['extra_bytes'])} ({mib(mine['torch_extra_bytes'])}"
             f" + {mib(mine['temp_bytes'])})"
             if ms is not None and "extra_bytes" in mine else "-")
    cells = []
    for p in peers:
        peer = r.get(p, {})
        cells.append(impl_cell(peer, "") if peer else "-")
        cells.append(mib(peer.get("extra_bytes")))
    name = case["name"] + (" (grad_filter 2^-12)"
                           if impl == "ours_filtered" else "")
    return (
        f"| {name} | "
        f"{fmt(ms, '.3f', status_text(mine).split(':')[0])} | {extra} | "
        f"{worst_error(mine)} | " + " | ".join(cells) + " | " +
        " | ".join(ratio_text(mine, r[p]) if p in r else "-"
                   for p in peers) + " |")


def row_table(results) -> list:
    peers = ("torch_eager", "torch_compiled", "copy")
    lines = ["| case | ours bwd | ours fraction of copy | ours err (rel L2) |"
             " " + " | ".join(peers) + " | " +
             " | ".join(f"{p}/ours" for p in peers[:2]) + " |",
             "|" + " --- |" * (4 + len(peers) + 2)]
    for case, records in results:
        r = by_impl(records)
        mine = r.get("ours", {"impl": "ours", "status": "NOT RUN"})
        copy = r.get("copy", {})
        fraction = "-"
        if verified_ms(mine) and copy.get("median_ms"):
            fraction = f"{copy['median_ms'] / verified_ms(mine):.2f}"
        lines.append(
            f"| {case['name']} | {impl_cell(mine, 'TB')} | {fraction} | "
            f"{worst_error(mine)} | " +
            " | ".join(impl_cell(r[p], "TB") if p in r else "-"
                       for p in peers) + " | " +
            " | ".join(ratio_text(mine, r[p]) if p in r else "-"
                       for p in peers[:2]) + " |")
    return lines


def detail_table(results) -> list:
    lines = ["| case | impl | status | median ms | p20-p80 ms | reps | fwd ms "
             "| throughput | worst rel L2 vs f32 | max abs err vs f32 | "
             "max abs diff vs ours | extra MiB |",
             "|" + " --- |" * 12]
    for case, records in results:
        for r in records:
            spread = (f"{r['p20_ms']:.3f}-{r['p80_ms']:.3f}"
                      if "p20_ms" in r else "-")
            throughput = (f"{r['tflops']:.1f} TFLOP/s" if "tflops" in r else
                          f"{r['tbps']:.2f} TB/s" if "tbps" in r else "-")
            errors = r.get("errors", {})
            max_abs = ", ".join(f"{k} {e['max_abs']:.2g}"
                                for k, e in errors.items()) or "-"
            vs = ", ".join(f"{k} {v:.2g}" for k, v in
                           r.get("max_abs_vs_ours", {}).items()) or "-"
            lines.append(
                f"| {case['name']} | {r['impl']} | {status_text(r)} | "
                f"{fmt(r.get('median_ms'), '.3f')} | {spread} | "
                f"{r.get('reps', '-')} | {fmt(r.get('forward_ms'), '.3f')} | "
                f"{throughput} | {worst_error(r)} | {max_abs} | {vs} | "
                f"{mib(r.get('extra_bytes'))} |")
    return lines


def summary(results, env) -> str:
    parts = []
    groups = [("Attention forward+backward (bf16; TFLOP/s = 3.5 x "
               "4*B*Hq*N^2*D, halved for causal; peer/ours: above 1 ours is "
               "faster)", ("attention",), attention_table),
              ("Linear cross-entropy forward+backward (bf16, mean; extra "
               "MiB: peak allocated beyond the inputs, the loss, dh and dW; "
               "ours adds its kernels' runtime temporaries)",
               ("linear_cross_entropy",), lce_table),
              ("Row ops, the backward alone (bf16; TB/s of the fewest "
               "bytes; fraction of copy = copy time / ours)",
               ("cross_entropy", "softmax", "log_softmax"), row_table)]
    for title, ops, table in groups:
        rows = [(c, r) for c, r in results if c["op"] in ops]
        if rows:
            parts.append(f"### {title}\n\n" + "\n".join(table(rows)))
            if "linear_cross_entropy" in ops:
                parts.append(f"Note: {LIGER_NOTE}")
    head = (f"GPU {env.get('gpu')}; torch {env.get('torch')}, CUDA "
            f"{env.get('cuda')}, cuDNN {env.get('cudnn')}, triton "
            f"{env.get('triton')}; packages {env.get('packages_commit')} "
            f"(chip {env.get('chip')})")
    return head + "\n\n" + "\n\n".join(parts)


PROBE = """
import json, torch
info = {"torch": torch.__version__, "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version()}
try:
    import triton
    info["triton"] = triton.__version__
except Exception as e:
    info["triton"] = "unavailable"
if torch.cuda.is_available():
    info["gpu_name"] = torch.cuda.get_device_name()
    info["capability"] = list(torch.cuda.get_device_capability())
print(json.dumps(info))
"""


def environment(packages: list) -> dict:
    env = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(
        timespec="seconds"), "host": platform.node(),
        "python": platform.python_version()}
    try:
        env["gpu"] = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,driver_version,memory.total",
             "--format=csv,noheader"], capture_output=True, text=True,
            timeout=60).stdout.strip().splitlines()[0]
    except (OSError, subprocess.SubprocessError, IndexError):
        env["gpu"] = "unknown"
    try:
        env.update(json.loads(subprocess.run(
            [sys.executable, "-c", PROBE], capture_output=True, text=True,
            timeout=300).stdout))
    except (OSError, subprocess.SubprocessError, ValueError):
        env["torch"] = "unavailable"
    for d in packages:
        path = Path(d) / RECORD
        if path.exists():
            record = json.loads(path.read_text())
            env["packages_commit"] = record.get("source_commit")
            env["chip"] = record.get("chip")
            env["compiler"] = record.get("compiler")
            break
    env["chip"] = os.environ.get("ATTN_MLIR_CHIP", env.get("chip"))
    return env


def write_results(out: Path, env, results, final: bool):
    text = summary(results, env)
    (out / "backward.json").write_text(json.dumps(
        {"environment": env, "tolerance": TOLERANCE, "complete": final,
         "results": [{"case": c, "flops": case_flops(c),
                      "min_bytes": case_bytes(c), "records": r}
                     for c, r in results]}, indent=1))
    (out / "backward.md").write_text(
        "# attn-mlir training (backward) benchmark\n\n"
        + ("" if final else "**Partial: the run has not finished.**\n\n")
        + f"{json.dumps(env)}\n\n"
        "Median of CUDA-event timings, cold L2 before each call. Every "
        "output and gradient is compared with a float32 reference from the "
        "same bf16 inputs (rel L2; max abs in the detail table); ours' time "
        f"is shown only when it passed (rel L2 <= {TOLERANCE}, or twice the "
        "worst peer's, all finite). Ratios: the peer's time over ours "
        "(above 1: ours is faster).\n\n"
        f"## Summary\n\n{text}\n\n## All runs\n\n"
        + "\n".join(detail_table(results)) + "\n")
    return text


def run_mode(args) -> int:
    cases = select_cases(args)
    if args.packages:
        os.environ["ATTN_MLIR_PACKAGES"] = args.packages
    elif not os.environ.get("ATTN_MLIR_PACKAGES"):
        os.environ["ATTN_MLIR_PACKAGES"] = str(DEFAULT_PACKAGES)
    packages = [d for d in os.environ["ATTN_MLIR_PACKAGES"].split(os.pathsep)
                if d]
    # The packages were compiled for one chip: look them up under it.
    if not os.environ.get("ATTN_MLIR_CHIP"):
        for d in packages:
            path = Path(d) / RECORD
            if path.exists():
                os.environ["ATTN_MLIR_CHIP"] = json.loads(
                    path.read_text())["chip"]
                break
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    log_path = out / "backward.log"
    log_path.write_text("")
    env = environment(packages)
    print(f"bench_backward: {env.get('gpu')}; torch {env.get('torch')} "
          f"CUDA {env.get('cuda')} cuDNN {env.get('cudnn')} triton "
          f"{env.get('triton')}; packages {packages} "
          f"({env.get('packages_commit')}, chip {env.get('chip')}); "
          f"{len(cases)} cases", flush=True)
    began = time.time()
    results = []
    for index, case in enumerate(cases):
        remaining = (args.deadline_s - (time.time() - began)
                     if args.deadline_s else args.timeout)
        if remaining < 30:
            results.append((case, [{"impl": "ours", "status": "NOT RUN",
                                    "error": "--deadline-s reached"}]))
            print(f"[{index + 1}/{len(cases)}] {case['name']}: not run "
                  f"(deadline)", flush=True)
            continue
        start = time.time()
        command = [sys.executable, __file__, "--worker", case["name"],
                   "--cases-file", str(args.cases_file), "--seed",
                   str(args.seed), "--budget-ms", str(args.budget_ms),
                   "--max-reps", str(args.max_reps)]
        print(f"[{index + 1}/{len(cases)}] {case['name']}", flush=True)
        records, log = run_worker(command, min(args.timeout, remaining))
        with open(log_path, "a") as handle:
            handle.write(f"==== {case['name']}\n{log}\n")
        # The workers' per-implementation lines (two-space indented).
        print("\n".join(line for line in log.splitlines()
                        if line.startswith("  ")), flush=True)
        for record in records:
            derive(case, record)
        results.append((case, records))
        print(f"  ({time.time() - start:.0f} s): " + ", ".join(
            f"{r['impl']} {r.get('status')}" +
            (f" {r['median_ms']:.3f} ms" if "median_ms" in r else "")
            for r in records), flush=True)
        write_results(out, env, results, final=False)
    text = write_results(out, env, results, final=True)
    print(f"\nresults: {out}/backward.md, {out}/backward.json "
          f"(log {log_path}); {time.time() - began:.0f} s\n")
    print(text)
    failed = any(r["impl"] == "ours" and r["status"] in ("FAIL", "ERROR")
                 for _, records in results for r in records)
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--precompile", metavar="DIR",
                        help="compile every package of the selected cases "
                             "into DIR and exit (needs attn-opt)")
    parser.add_argument("--chip", default="h200-sxm",
                        help="--precompile: attn-opt chip (default h200-sxm:"
                             " sm_90a code, H200 cost model)")
    parser.add_argument("-j", "--jobs", type=int, default=1,
                        help="--precompile: attn-opt processes at once")
    parser.add_argument("--packages", default="",
                        help="run: package directory (default "
                             "$ATTN_MLIR_PACKAGES, else "
                             "build-packages-backward)")
    parser.add_argument("--out", default=str(BENCH_DIR / "results" /
                                             "backward-latest"))
    parser.add_argument("--cases-file", default=str(CASES_FILE))
    parser.add_argument("--quick", action="store_true",
                        help="only the tiny case of each kind")
    parser.add_argument("--ops", default="",
                        help=f"comma-separated ops ({', '.join(OPS)})")
    parser.add_argument("--cases", default="",
                        help="comma-separated case names")
    parser.add_argument("--match", default="",
                        help="only the cases whose name this regular "
                             "expression matches (re.search)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--budget-ms", type=float, default=1000,
                        help="timed milliseconds per measurement")
    parser.add_argument("--max-reps", type=int, default=50)
    parser.add_argument("--timeout", type=float, default=420,
                        help="seconds a case's worker may take")
    parser.add_argument("--deadline-s", type=float, default=0,
                        help="start no case after this many seconds (the "
                             "rest is reported as not run)")
    parser.add_argument("--list", action="store_true",
                        help="list the cases (no torch, no GPU)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--worker-out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args)
    if args.list:
        for case in select_cases(args):
            print(f"{case['name']}: {case['op']}, {case_flops(case):.3g} "
                  f"FLOPs, {case_bytes(case):.3g} B, "
                  f"{len(signatures_of(case)) * 2} packages")
        return 0
    if args.precompile:
        return precompile_mode(args)
    return run_mode(args)


if __name__ == "__main__":
    sys.exit(main())
