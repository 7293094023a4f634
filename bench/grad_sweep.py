#!/usr/bin/env python3
"""Schedule sweeps of the attention backward kernels (attn.attention_grad).

bench/sweep.py sweeps the forward ops through bench.py; the backward has no
bench.py case, so this does the same for it. A sweep file is JSON:

  {"shapes": [{"name": "b4_h16_n4096_d128", "batch": 4, "q_heads": 16,
               "kv_heads": 16, "seq": 4096, "head_dim": 128,
               "causal": false}, ...],
   "schedules": ["block_m = 64, block_n = 64, warps = 8, stages = 2", ...]}

Each shape may carry its own "schedules". On the build machine (MLIR
needed) --emit writes DIR/mlir/<function>.mlir, one function per (shape,
schedule) plus the shape's compiler default, and compiles each into
DIR/packages/<function>; schedules the planner rejects are left out and
listed. On the GPU machine
the sweep times each function on random inputs (CUDA events, cold L2, the
median of --reps calls) beside PyTorch's SDPA FLASH_ATTENTION and
CUDNN_ATTENTION backward of the same shape (autograd.grad on a kept graph),
and prints a table: ms, TFLOP/s (FlashAttention's count: the backward is
2.5 x the forward's 4 B Hq N^2 D, halved for causal) and the peers' time over
ours. These are schedule-choice measurements, not correctness checks
(bench/check_gpu.sh checks the kernels against float64).

  bench/grad_sweep.py bench/sweeps/attention-grad-hopper.json --emit build-grad-sweep
  ATTN_RUNTIME_LIB=build-rt/lib/libAttnRuntimeC.so \\
      python3 bench/grad_sweep.py build-grad-sweep --out $OUT/grad-sweep.md
"""

import argparse
import json
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def function_name(shape: dict, schedule: str) -> str:
    if not schedule:
        return f"{shape['name']}__default"
    short = {"block_m": "bm", "block_n": "bn", "warps": "w", "stages": "st"}
    parts = []
    for field in schedule.split(","):
        key, _, value = (x.strip() for x in field.partition("="))
        parts.append(f"{short.get(key, key)}{value}")
    return re.sub(r"[^A-Za-z0-9_]", "", f"{shape['name']}__" + "_".join(parts))


def render(shape: dict, schedule: str) -> str:
    b, hq, hkv = shape["batch"], shape["q_heads"], shape["kv_heads"]
    n, d = shape["seq"], shape["head_dim"]
    t = f"tensor<{b}x{hq}x{n}x{d}xbf16>"
    kv = f"tensor<{b}x{hkv}x{n}x{d}xbf16>"
    lse = f"tensor<{b}x{hq}x{n}xf32>"
    attrs = []
    if shape.get("causal"):
        attrs.append("causal")
    if schedule:
        attrs.append(f"schedule = #attn.schedule<{schedule}>")
    body = " {" + ", ".join(attrs) + "}" if attrs else ""
    name = function_name(shape, schedule)
    return (f"func.func @{name}(%q: {t}, %k: {kv}, %v: {kv}, %o: {t}, "
            f"%lse: {lse}, %do: {t}) -> ({t}, {kv}, {kv}) {{\n"
            f"  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do"
            f"{body}\n      : {t}, {kv}, {kv}, {t}, {lse}, {t} -> {t}, {kv}, "
            f"{kv}\n  return %dq, %dk, %dv : {t}, {kv}, {kv}\n}}\n")


def emit(sweep_file: Path, out: Path, attn_opt: str, chip: str) -> int:
    sweep = json.loads(sweep_file.read_text())
    (out / "mlir").mkdir(parents=True, exist_ok=True)
    jobs = []
    for shape in sweep["shapes"]:
        for schedule in [""] + shape.get("schedules", sweep["schedules"]):
            name = function_name(shape, schedule)
            source = out / "mlir" / f"{name}.mlir"
            source.write_text(render(shape, schedule))
            jobs.append((name, source))

    def compile_one(job):
        name, source = job
        return name, subprocess.run(
            [attn_opt, str(source),
             f"--attn-to-cubin=chip={chip} package-dir={out / 'packages' / name}",
             "-o", "/dev/null"], capture_output=True, text=True)

    kept = []
    with ThreadPoolExecutor(2) as pool:
        for name, result in pool.map(compile_one, jobs):
            if result.returncode != 0:
                first = (result.stderr.strip().splitlines() or ["?"])[0]
                print(f"rejected {name}: {first}")
            else:
                kept.append(name)
    sweep["compiled"] = kept
    (out / "sweep.json").write_text(json.dumps(sweep, indent=1))
    print(f"{len(kept)} of {len(jobs)} functions in {out / 'packages'}")
    return 0


def time_ms(fn, reps: int) -> float:
    import torch
    flush = torch.empty(256 << 20, dtype=torch.uint8, device="cuda")
    for _ in range(2):
        fn()
    times = []
    for _ in range(reps):
        flush.zero_()
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    times.sort()
    return times[len(times) // 2]


def run(directory: Path, out: Path, reps: int) -> int:
    import torch
    import torch.nn.functional as F
    from torch.nn.attention import SDPBackend, sdpa_kernel
    sys.path.insert(0, str(ROOT / "python"))
    from attn_mlir.runtime import Kernel

    sweep = json.loads((directory / "sweep.json").read_text())
    names = set(sweep["compiled"])
    lines = ["| function | ms | TFLOP/s | SDPA flash / ours | SDPA cuDNN / ours |",
             "| --- | --- | --- | --- | --- |"]
    torch.manual_seed(1)
    for shape in sweep["shapes"]:
        b, hq, hkv = shape["batch"], shape["q_heads"], shape["kv_heads"]
        n, d, causal = shape["seq"], shape["head_dim"], shape.get("causal", False)
        flops = 2.5 * 4 * b * hq * n * n * d * (0.5 if causal else 1.0)
        dev = dict(device="cuda", dtype=torch.bfloat16)
        q = torch.randn(b, hq, n, d, **dev)
        k = torch.randn(b, hkv, n, d, **dev)
        v = torch.randn(b, hkv, n, d, **dev)
        do = torch.randn(b, hq, n, d, **dev)
        peers = {}
        for backend in (SDPBackend.FLASH_ATTENTION, SDPBackend.CUDNN_ATTENTION):
            try:
                qq, kk, vv = (x.clone().requires_grad_() for x in (q, k, v))
                with sdpa_kernel(backend):
                    o = F.scaled_dot_product_attention(
                        qq, kk, vv, is_causal=causal, enable_gqa=hq != hkv)
                peers[backend] = time_ms(lambda: torch.autograd.grad(
                    o, (qq, kk, vv), do, retain_graph=True), reps)
            except RuntimeError as e:
                print(f"{shape['name']}: {backend} failed: {e}")
        with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
            o = F.scaled_dot_product_attention(q, k, v, is_causal=causal,
                                               enable_gqa=hq != hkv)
        # The LSE of each row, from the scores in float32 (by heads).
        lse = torch.empty(b, hq, n, device="cuda", dtype=torch.float32)
        group = hq // hkv
        for h in range(hq):
            s = (q[:, h].float() @ k[:, h // group].float().transpose(-1, -2)
                 ) * d ** -0.5
            if causal:
                s.masked_fill_(torch.ones(n, n, device="cuda",
                                          dtype=torch.bool).triu(1), -float("inf"))
            lse[:, h] = torch.logsumexp(s, dim=-1)
        for schedule in [""] + shape.get("schedules", sweep["schedules"]):
            name = function_name(shape, schedule)
            if name not in names:
                continue
            kernel = Kernel(str(directory / "packages" / name), name)
            outs = [torch.empty_like(x) for x in (q, k, v)]
            args = (q, k, v, o, lse, do, *outs)
            ms = time_ms(lambda: kernel(*args), reps)
            ratio = [f"{peers[p] / ms:.2f}" if p in peers else "-"
                     for p in (SDPBackend.FLASH_ATTENTION,
                               SDPBackend.CUDNN_ATTENTION)]
            lines.append(f"| {name} | {ms:.3f} | {flops / ms / 1e9:.0f} | "
                         f"{ratio[0]} | {ratio[1]} |")
            print(lines[-1], flush=True)
            kernel.close()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", help="the sweep file (--emit) or directory")
    parser.add_argument("--emit", metavar="DIR")
    parser.add_argument("--attn-opt", default=str(ROOT / "build/bin/attn-opt"))
    parser.add_argument("--chip", default="h200-sxm")
    parser.add_argument("--out", default="grad-sweep.md")
    parser.add_argument("--reps", type=int, default=10)
    args = parser.parse_args()
    if args.emit:
        return emit(Path(args.path), Path(args.emit), args.attn_opt, args.chip)
    return run(Path(args.path), Path(args.out), args.reps)


if __name__ == "__main__":
    sys.exit(main())
