#!/usr/bin/env python3
"""Schedule sweep of the linear cross-entropy backward kernels (issue 12).

linear_cross_entropy_grad's shapes are too large for attn-run's float64
reference and its op has no cost-model features yet (attn-tune generate
skips it), so this script times a hand-picked set of schedules per shape.

On the build machine (MLIR):
    python3 bench/lce_grad_schedules.py --precompile build-packages-lcegrad
writes one package per (shape, schedule) with attn-opt --attn-to-cubin.
On the GPU machine (PyTorch, no MLIR), after building build-rt:
    ATTN_RUNTIME_LIB=$PWD/build-rt/lib/libAttnRuntimeC.so \\
        python3 bench/lce_grad_schedules.py --packages build-packages-lcegrad \\
        --out $OUT
times every package on the same inputs (bf16, mean, upstream gradient 1,
the true LSE), from a flushed L2, and compares dh and dW with a float32
PyTorch reference (bench_backward.lce_reference); a schedule whose rel L2
exceeds 0.02 is reported as wrong and never as the fastest. Writes
lce_grad_schedules.json and .md under --out and prints the table last.
"""

import argparse
import json
import math
import os
import subprocess
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))
sys.path.insert(0, str(ROOT / "python"))

SHAPES = [(8192, 2304, 256000), (8192, 4096, 131072)]

# (block_m, block_n, block_d, warps, stages[, pipeline]); the first is the
# cp.async default the others are compared with.
SCHEDULES = [
    (128, 128, 64, 8, 4),   # wgmma, the default
    (128, 128, 64, 8, 3),
    (128, 128, 64, 8, 5),
    (128, 128, 64, 8, 6),
    (64, 128, 64, 4, 6),
    (128, 64, 64, 8, 4),
    (64, 128, 64, 4, 4),
    (128, 256, 64, 8, 3),
    (128, 256, 64, 8, 4),
    (128, 128, 32, 8, 4),   # mma.sync (the first version's default)
    (128, 256, 32, 8, 3),   # mma.sync
]

# --set tma: the cp.async default of 2026-12-02 (128 x 256 x 64, 8 warps,
# 4 stages), then the tma pipeline (a producer warpgroup feeding the
# products by TMA) at those and nearby tiles.
TMA_SCHEDULES = [
    (128, 256, 64, 8, 4),
    (128, 256, 64, 8, 4, "tma"),
    (128, 256, 64, 8, 3, "tma"),
    (128, 256, 64, 8, 2, "tma"),
    (128, 128, 64, 8, 4, "tma"),
    (128, 128, 64, 8, 6, "tma"),
    (64, 256, 64, 4, 4, "tma"),
]

SETS = {"all": SCHEDULES, "tma": TMA_SCHEDULES}


def pipeline_of(schedule) -> str:
    return schedule[5] if len(schedule) > 5 else "cp_async"


def name_of(shape, schedule) -> str:
    n, d, v = shape
    bm, bn, bd, w, st = schedule[:5]
    tail = "_tma" if pipeline_of(schedule) == "tma" else ""
    return f"n{n}_d{d}_v{v}__bm{bm}_bn{bn}_bd{bd}_w{w}_s{st}{tail}"


def mlir_of(shape, schedule) -> str:
    n, d, v = shape
    bm, bn, bd, w, st = schedule[:5]
    h, wt = f"tensor<{n}x{d}xbf16>", f"tensor<{v}x{d}xbf16>"
    y, l = f"tensor<{n}xi64>", f"tensor<{n}xf32>"
    sched = (f"#attn.schedule<block_m = {bm}, block_n = {bn}, block_d = {bd},"
             f" warps = {w}, stages = {st},"
             f" pipeline = \"{pipeline_of(schedule)}\">")
    return (f"func.func @lce_grad(%h: {h}, %w: {wt}, %y: {y}, %lse: {l}, "
            f"%dl: tensor<f32>) -> ({h}, {wt}) {{\n"
            f"  %dh, %dw = attn.linear_cross_entropy_grad %h, %w, %y, %lse, "
            f"%dl {{schedule = {sched}}}\n"
            f"      : {h}, {wt}, {y}, {l}, tensor<f32> -> {h}, {wt}\n"
            f"  return %dh, %dw : {h}, {wt}\n}}\n")


def precompile(out: Path, attn_opt: str, chip: str, schedules, shapes):
    out.mkdir(parents=True, exist_ok=True)
    for shape in shapes:
        for schedule in schedules:
            name = name_of(shape, schedule)
            src = out / f"{name}.mlir"
            src.write_text(mlir_of(shape, schedule))
            subprocess.run([attn_opt, str(src), "-o", os.devnull,
                            f"--attn-to-cubin=chip={chip} "
                            f"package-dir={out / name}"], check=True)
            print("compiled", name, flush=True)


def run(packages: Path, out: Path, reps: int, schedules, shapes):
    import torch
    from attn_mlir.runtime import Kernel
    from bench_backward import lce_reference
    from bench_common import timed_calls

    out.mkdir(parents=True, exist_ok=True)
    flush = torch.empty(256 << 20, dtype=torch.uint8, device="cuda")
    records = []
    for shape in shapes:
        n, d, v = shape
        gen = torch.Generator(device="cuda")
        gen.manual_seed(1)
        h = torch.randn(n, d, generator=gen, device="cuda",
                        dtype=torch.bfloat16)
        w = torch.randn(v, d, generator=gen, device="cuda",
                        dtype=torch.bfloat16).mul_(1.0 / math.sqrt(d))
        y = torch.randint(0, v, (n,), generator=gen, device="cuda")
        ref = lce_reference(torch, h, w, y)
        lse = torch.empty(n, device="cuda")
        chunk = max(1, (1 << 30) // (v * 4))
        for s in range(0, n, chunk):
            lse[s:s + chunk] = torch.logsumexp(
                h[s:s + chunk].float() @ w.float().T, dim=-1)
        dl = torch.ones((), device="cuda")
        flops = 6.0 * n * d * v  # the three products of the backward
        for schedule in schedules:
            name = name_of(shape, schedule)
            rec = {"shape": list(shape), "schedule": list(schedule[:5]),
                   "pipeline": pipeline_of(schedule), "name": name}
            try:
                kernel = Kernel(str(packages / name))
                dh, dw = kernel(h, w, y, lse, dl)
                torch.cuda.synchronize()
                err = {k: float((a.float() - ref[k]).norm() / ref[k].norm())
                       for k, a in (("dh", dh), ("dW", dw))}
                rec["rel_l2"] = err
                rec["temp_mib"] = kernel.temp_bytes / 2 ** 20
                t = timed_calls(torch, lambda: kernel(h, w, y, lse, dl),
                                flush, reps, 1)
                rec.update(t)
                rec["tflops"] = flops / (t["median_ms"] * 1e-3) / 1e12
                rec["status"] = ("ok" if max(err.values()) <= 0.02
                                 else "wrong")
                kernel.close()
                del dh, dw
            except Exception as e:  # noqa: BLE001 - reported per schedule
                rec["status"] = f"error: {e}"
            records.append(rec)
            print(json.dumps(rec), flush=True)
            torch.cuda.empty_cache()
    (out / "lce_grad_schedules.json").write_text(json.dumps(records, indent=1))
    lines = ["| shape (N, D, V) | schedule (bm, bn, bd, warps, stages) | "
             "pipeline | mma | ms | TFLOP/s (6NDV) | vs default | rel L2 dh / dW | "
             "temps MiB | status |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for shape in shapes:
        rows = [r for r in records if r["shape"] == list(shape)]
        base = rows[0].get("median_ms") if rows else None
        for r in rows:
            bm, bn, bd, w, st = r["schedule"]
            pipe = r.get("pipeline", "cp_async")
            mma = "wgmma" if (bd == 64 and bm == 16 * w and bn % 64 == 0
                              and (st >= 3 or pipe == "tma")
                              and w % 4 == 0) else "mma.sync"
            ms = r.get("median_ms")
            e = r.get("rel_l2", {})
            lines.append(
                f"| {shape} | {tuple(r['schedule'])} | {pipe} | {mma} | "
                f"{ms:.2f} | {r['tflops']:.0f} | {base / ms:.2f} | "
                f"{e.get('dh', 0):.1e} / {e.get('dW', 0):.1e} | "
                f"{r['temp_mib']:.0f} | {r['status']} |"
                if ms else
                f"| {shape} | {tuple(r['schedule'])} | {pipe} | {mma} | - | - | - |"
                f" - | - | {r['status']} |")
    table = "\n".join(lines)
    (out / "lce_grad_schedules.md").write_text(
        "# linear_cross_entropy_grad schedule sweep (bench/"
        "lce_grad_schedules.py)\n\n"
        f"GPU {torch.cuda.get_device_name()}; median of {reps} calls from a "
        "flushed L2; the backward alone (the three products and the "
        "recomputed logits), bf16, mean.\n\n" + table + "\n")
    print(table)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--precompile", metavar="DIR")
    ap.add_argument("--attn-opt", default=str(ROOT / "build/bin/attn-opt"))
    ap.add_argument("--chip", default="h200-sxm")
    ap.add_argument("--packages", metavar="DIR")
    ap.add_argument("--out", default=str(BENCH_DIR / "results" /
                                         "lce-grad-latest"))
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--set", choices=sorted(SETS), default="all",
                    help="which schedules: all (the 2026-12-02 sweep) or "
                         "tma (the cp.async default and tma variants)")
    ap.add_argument("--shapes", default="",
                    help="N,D,V;N,D,V... instead of the two LLM shapes")
    args = ap.parse_args()
    shapes = ([tuple(int(x) for x in t.split(","))
               for t in args.shapes.split(";")] if args.shapes else SHAPES)
    if args.precompile:
        precompile(Path(args.precompile), args.attn_opt, args.chip,
                   SETS[args.set], shapes)
    elif args.packages:
        run(Path(args.packages), Path(args.out), args.reps, SETS[args.set],
            shapes)
    else:
        ap.error("give --precompile DIR or --packages DIR")


if __name__ == "__main__":
    main()
