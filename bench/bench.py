#!/usr/bin/env python3
"""Times attn-mlir kernel packages against their PyTorch peers on one GPU.

For every case of bench/cases.json it loads build-packages/<name> (compiled by
bench/compile_packages.sh from bench/mlir/<name>.mlir; the shapes are the
manifest's), makes seeded random inputs, checks each implementation's output
against a float64 reference on a sample (rel L2) and times it with CUDA
events, ours and the peers in the same process:

  attention      SDPA flash, SDPA cuDNN, torch.compile(flex_attention)
  softmax        torch.softmax, and a device-to-device copy of the same bytes
  cross_entropy  F.cross_entropy eager and torch.compile
  linear_cross_entropy  hidden @ weight.T then F.cross_entropy, eager and
                 torch.compile; the bare bf16 matmul

Each case runs in its own worker process, so that a kernel fault (which
poisons the CUDA context) or running out of memory costs one case, not the
run. Writes results.json and results.md to --out and prints the short table
last. Needs torch (and triton, for torch.compile) on a CUDA machine; --list
needs neither.

  python3 bench/bench.py --packages build-packages --out bench/results/latest
  python3 bench/bench.py --cases softmax_4096x4096,attention_b8_h32_n2048_d64
  python3 bench/bench.py --list        # cases, packages, FLOPs, bytes; no GPU
"""

import argparse
import datetime
import json
import math
import platform
import subprocess
import sys
import time
import traceback
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))
sys.path.insert(0, str(REPO / "python"))

from cases import load_cases, signature  # noqa: E402
from bench_common import FlushTimer, run_worker  # noqa: E402
from attn_mlir.runtime import (DTYPE_BYTES, AttnRuntimeError,  # noqa: E402
                               Kernel)

# rel L2 bounds by output dtype: bf16 outputs round to 2^-8 relative.
TOLERANCE = {"bf16": 2e-2, "f16": 5e-3, "f32": 1e-3}
# Rows of the output compared with float64 (attention: per sampled head).
SAMPLE_ROWS = 64
SAMPLE_HEADS = 4

# ----------------------------------------------------------------------------
# Counting (no torch)
# ----------------------------------------------------------------------------


def visible_pairs(m: int, n: int, causal: bool) -> int:
    """(query, key) pairs one head computes; causal is bottom-right aligned
    (query i sees keys j <= i + n - m)."""
    if not causal:
        return m * n
    return sum(min(n, max(0, i + n - m + 1)) for i in range(m))


def case_flops(case: dict) -> float:
    """FLOPs of the op, by the usual conventions."""
    op = case["op"]
    if op == "attention":
        b, h, d = case["batch"], case["heads_q"], case["head_dim"]
        m, n = case["seq_q"], case["seq_kv"]
        if case["causal"] and m == n:
            pairs = m * n / 2  # The convention of FlashAttention's figures.
        else:
            pairs = visible_pairs(m, n, case["causal"])
        return 4.0 * b * h * d * pairs
    if op == "linear_cross_entropy":
        return 2.0 * case["tokens"] * case["hidden"] * case["vocab"]
    return 0.0


def tensor_bytes(tensor) -> int:
    return math.prod(tensor.shape) * DTYPE_BYTES[tensor.dtype]


def case_bytes(case: dict) -> int:
    """The fewest bytes the op must move: each input read once, each output
    written once."""
    inputs, outputs = signature(case)
    return sum(tensor_bytes(t) for t in inputs + outputs)


def check_manifest(kernel: Kernel, case: dict) -> str:
    """'' if the package's function has the case's signature, else what
    differs."""
    inputs, outputs = signature(case)
    expected = [(t, False) for t in inputs] + [(t, True) for t in outputs]
    if len(kernel.args) != len(expected):
        return (f"the package's function takes {len(kernel.args)} arguments, "
                f"the case {len(expected)}")
    for arg, (t, is_output) in zip(kernel.args, expected):
        if (arg.shape, arg.dtype, arg.is_output) != (t.shape, t.dtype,
                                                     is_output) or (
                arg.operand and arg.operand != t.operand):
            return (f"argument {arg.index}: the package has "
                    f"{arg.describe()}, the case "
                    f"{'output' if is_output else 'input'} {t.operand} "
                    f"{'x'.join(map(str, t.shape))} {t.dtype}")
    return ""


# ----------------------------------------------------------------------------
# The worker: one case, on the GPU
# ----------------------------------------------------------------------------


class Timer(FlushTimer):
    """Median time of a callable with CUDA events: warm-up calls (none for a
    callable slower than a third of the budget: it already ran twice), then
    `reps` timed calls (3; else 5 to max_reps to fill the budget), each
    after overwriting a buffer larger than L2 (outside the timed region), so
    that every run starts from a cold L2 as the inputs would in a model."""

    def reps_and_warm_ups(self, estimate: float):
        if estimate > self.budget_ms / 3:
            return 3, 0
        return (int(min(self.max_reps, max(5, self.budget_ms // estimate))),
                int(min(20, max(1, 50 // estimate))))


def make_inputs(torch, case: dict, seed: int) -> dict:
    """Seeded random inputs by operand: normal values (never zeros), labels
    uniform in [0, V)."""
    gen = torch.Generator(device="cuda")
    gen.manual_seed(seed)
    inputs, _ = signature(case)
    made = {}
    for t in inputs:
        if t.dtype == "i64":
            made[t.operand] = torch.randint(0, case["vocab"], t.shape,
                                            generator=gen, device="cuda")
            continue
        scale = {"input": 2.0, "logits": 2.0,
                 "weight": 1.0 / math.sqrt(case.get("hidden", 1))}.get(
                     t.operand, 1.0)
        made[t.operand] = torch.randn(t.shape, generator=gen, device="cuda",
                                      dtype=torch.bfloat16).mul_(scale)
    return made


def rel_l2(torch, got, want) -> float:
    got, want = got.double(), want.double()
    norm = torch.linalg.vector_norm(want).item()
    diff = torch.linalg.vector_norm(got - want).item()
    return diff / norm if norm else diff


def make_reference(torch, case: dict, x: dict, seed: int):
    """A function out -> (rel_l2 on the sample, non-finite count of out),
    with the float64 reference computed once, here."""
    op = case["op"]
    gen = torch.Generator(device="cpu")
    gen.manual_seed(seed + 1)

    def nonfinite(out):
        return int((~torch.isfinite(out)).sum().item())

    if op == "attention":
        b, hq, hkv = case["batch"], case["heads_q"], case["heads_kv"]
        m, n, d = case["seq_q"], case["seq_kv"], case["head_dim"]
        group = hq // hkv
        heads = [(int(torch.randint(0, b, (1,), generator=gen)),
                  int(torch.randint(0, hq, (1,), generator=gen)))
                 for _ in range(SAMPLE_HEADS)]
        rows = torch.randperm(m, generator=gen)[:SAMPLE_ROWS].cuda()
        refs = []
        for bi, hi in heads:
            q = x["query"][bi, hi, rows].double()
            k = x["key"][bi, hi // group].double()
            v = x["value"][bi, hi // group].double()
            s = (q @ k.T) / math.sqrt(d)
            if case["causal"]:
                visible = (torch.arange(n, device="cuda")[None, :] <=
                           rows[:, None] + (n - m))
                s = s.masked_fill(~visible, float("-inf"))
            refs.append(torch.softmax(s, dim=-1) @ v)
        want = torch.stack(refs)

        def check(out):
            got = torch.stack([out[bi, hi, rows] for bi, hi in heads])
            return rel_l2(torch, got, want), nonfinite(out)
        return check

    if op == "softmax":
        rows = torch.randperm(case["rows"], generator=gen)[:SAMPLE_ROWS].cuda()
        want = torch.softmax(x["input"][rows].double(), dim=-1)
        return lambda out: (rel_l2(torch, out[rows], want), nonfinite(out))

    # Losses: the mean over every token, in float64, by chunks of rows.
    labels = x["labels"]
    weight = x["weight"].double() if op == "linear_cross_entropy" else None
    total, chunk = 0.0, 256
    for start in range(0, case["tokens"], chunk):
        if weight is not None:
            z = x["hidden"][start:start + chunk].double() @ weight.T
        else:
            z = x["logits"][start:start + chunk].double()
        y = labels[start:start + chunk]
        lse = torch.logsumexp(z, dim=-1)
        total += (lse - z.gather(1, y[:, None])[:, 0]).sum().item()
        del z
    del weight
    want = torch.tensor(total / case["tokens"], dtype=torch.float64)
    return lambda out: (rel_l2(torch, out.reshape(()).cpu(), want),
                        nonfinite(out))


def ours(torch, case, x, package: Path):
    """Our package: loaded, checked against the case, run on the tensors."""
    kernel = Kernel(str(package))
    mismatch = check_manifest(kernel, case)
    if mismatch:
        kernel.close()
        raise ValueError(f"{package} does not match the case: {mismatch}")
    inputs, outputs = signature(case)
    out = torch.empty(outputs[0].shape, device="cuda",
                      dtype=kernel.outputs[0].torch_dtype())
    tensors = [x[t.operand] for t in inputs] + [out]
    for spec, tensor in zip(kernel.args, tensors):
        kernel.check_tensor(spec, tensor)
    kernel.prepare()  # Loads the kernels: the first run needs no warm-up.
    pointers = [t.data_ptr() for t in tensors]
    stream = torch.cuda.current_stream().cuda_stream

    def run():
        kernel.launch(pointers, stream)
        return out

    def poison():
        out.fill_(float("nan"))
    return run, {"poison": poison, "extra_bytes": kernel.temp_bytes,
                 "close": kernel.close, "warm_up": False,
                 "note": f"{len(kernel.args)} args, temps "
                         f"{kernel.temp_bytes} B"}


def attention_peers(torch, case, x):
    import torch.nn.functional as F
    from torch.nn.attention import SDPBackend, sdpa_kernel
    q, k, v = x["query"], x["key"], x["value"]
    m, n = case["seq_q"], case["seq_kv"]
    causal, gqa = case["causal"], case["heads_q"] != case["heads_kv"]
    mask = None
    if causal and m != n:
        from torch.nn.attention.bias import causal_lower_right
        mask = causal_lower_right(m, n)

    def sdpa(backend):
        def setup():
            context = sdpa_kernel(backend)
            context.__enter__()

            def run():
                return F.scaled_dot_product_attention(
                    q, k, v, attn_mask=mask, is_causal=causal and m == n,
                    enable_gqa=gqa)
            return run, {"close": lambda: context.__exit__(None, None, None)}
        return setup

    def flex():
        from torch.nn.attention.flex_attention import (create_block_mask,
                                                       flex_attention)
        compiled = torch.compile(flex_attention, dynamic=False)
        block_mask = None
        if causal:
            block_mask = create_block_mask(
                lambda b, h, qi, ki: qi + (n - m) >= ki, B=None, H=None,
                Q_LEN=m, KV_LEN=n, device="cuda")
        return (lambda: compiled(q, k, v, block_mask=block_mask,
                                 enable_gqa=gqa)), {}
    return [("sdpa_flash", sdpa(SDPBackend.FLASH_ATTENTION)),
            ("sdpa_cudnn", sdpa(SDPBackend.CUDNN_ATTENTION)),
            ("flex_compiled", flex)]


def softmax_peers(torch, case, x):
    inp = x["input"]
    copy = torch.empty_like(inp)
    return [("torch_softmax", lambda: ((lambda: torch.softmax(inp, dim=-1)),
                                       {})),
            ("copy", lambda: ((lambda: copy.copy_(inp)),
                              {"check": False, "extra_bytes": 0,
                               "note": "device-to-device copy of the "
                                       "input's bytes (the bandwidth "
                                       "ceiling)"}))]


def loss_peers(torch, case, x):
    import torch.nn.functional as F
    y = x["labels"]
    if case["op"] == "cross_entropy":
        z = x["logits"]

        def loss(logits, labels):
            return F.cross_entropy(logits, labels)
        args = (z, y)
        peers = []
    else:
        h, w = x["hidden"], x["weight"]

        def loss(hidden, weight, labels):
            return F.cross_entropy(hidden @ weight.T, labels)
        args = (h, w, y)
        matmul_info = {"check": False, "note": "hidden @ weight.T alone"}
        peers = [("matmul_bf16", lambda: ((lambda: h @ w.T), matmul_info))]
    compiled = torch.compile(loss, dynamic=False)
    return [("torch_eager", lambda: ((lambda: loss(*args)), {})),
            ("torch_compiled", lambda: ((lambda: compiled(*args)), {}))] + \
        peers


PEERS = {"attention": attention_peers, "softmax": softmax_peers,
         "cross_entropy": loss_peers, "linear_cross_entropy": loss_peers}
# Every name the peer lists above use (--peers is checked against them).
PEER_NAMES = ("sdpa_flash", "sdpa_cudnn", "flex_compiled", "torch_softmax",
              "copy", "torch_eager", "torch_compiled", "matmul_bf16")


def measure(torch, timer, name, setup, check, tolerance) -> dict:
    """Sets up one implementation, checks one run and times it."""
    record = {"impl": name}
    info = {}
    try:
        run, info = setup()
        if info.get("warm_up", True):
            out = run()  # Compilation, autotuning, handles.
            torch.cuda.synchronize()
            del out
        torch.cuda.empty_cache()
        if "poison" in info:
            info["poison"]()
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        start, end = (torch.cuda.Event(enable_timing=True) for _ in range(2))
        start.record()
        out = run()
        end.record()
        torch.cuda.synchronize()
        peak = torch.cuda.max_memory_allocated() - base
        new_out = 0 if "poison" in info else out.numel() * out.element_size()
        record["extra_bytes"] = info.get("extra_bytes",
                                         max(0, peak - new_out))
        if info.get("check", True):
            error, nonfinite = check(out)
            record["rel_l2"] = error
            record["nonfinite"] = nonfinite
            record["tolerance"] = tolerance
            passed = nonfinite == 0 and error <= tolerance
            record["status"] = "PASS" if passed else "FAIL"
        else:
            record["status"] = "n/a"
        del out
        record.update(timer(run, start.elapsed_time(end)))
    except Exception as e:  # Report every failure; skip nothing silently.
        record["status"] = "ERROR"
        record["error"] = f"{type(e).__name__}: {e}".strip()
        record["traceback"] = traceback.format_exc()
    finally:
        if "close" in info:
            try:
                info["close"]()
            except Exception:
                pass
        if info.get("note"):
            record["note"] = info["note"]
    return record


def run_case(case: dict, seed: int, packages: Path, budget_ms: float,
             max_reps: int, baseline: Path = None, peers=None) -> list:
    import torch
    torch.backends.cuda.matmul.allow_tf32 = False
    timer = Timer(torch, budget_ms, max_reps)
    x = make_inputs(torch, case, seed)
    check = make_reference(torch, case, x, seed)
    torch.cuda.empty_cache()
    _, outputs = signature(case)
    tolerance = TOLERANCE[outputs[0].dtype]
    package = packages / case["name"]
    records = []
    if (package / "manifest.json").exists():
        records.append(measure(torch, timer, "ours",
                               lambda: ours(torch, case, x, package), check,
                               tolerance))
    else:
        records.append({"impl": "ours", "status": "NO PACKAGE",
                        "error": f"{package}/manifest.json does not exist "
                                 f"(run bench/compile_packages.sh)"})
    # The same case from other packages (e.g. the compiler before a change),
    # timed in the same process on the same inputs.
    if baseline and (baseline / case["name"] / "manifest.json").exists():
        records.append(measure(
            torch, timer, "ours@baseline",
            lambda: ours(torch, case, x, baseline / case["name"]), check,
            tolerance))
    for name, setup in PEERS[case["op"]](torch, case, x):
        if peers is not None and name not in peers:
            continue
        # Peers return bf16 losses; judge each by its own output dtype.
        records.append(measure(torch, timer, name, setup, check,
                               TOLERANCE["bf16"]))
    return records


def peer_filter(text: str):
    """--peers: None (all), or the set of peer names to run ("none": no
    peer, for schedule sweeps of our packages alone)."""
    if text == "all":
        return None
    return set() if text == "none" else set(text.split(","))


def worker(args) -> int:
    case = next(c for c in load_cases(args.cases_file)
                if c["name"] == args.worker)
    records = run_case(case, args.seed, Path(args.packages), args.budget_ms,
                       args.max_reps,
                       Path(args.baseline_packages)
                       if args.baseline_packages else None,
                       peer_filter(args.peers))
    Path(args.worker_out).write_text(json.dumps(records))
    return 0


# ----------------------------------------------------------------------------
# The driver: one worker per case, tables
# ----------------------------------------------------------------------------


def derived(case: dict, record: dict) -> None:
    """Adds throughput: TFLOP/s (attention, matmul-bound losses), TB/s of the
    fewest bytes (softmax, losses)."""
    ms = record.get("median_ms")
    if not ms:
        return
    flops = case_flops(case)
    if flops and record["impl"] != "copy":
        record["tflops"] = flops / ms / 1e9
    record["tbps"] = case_bytes(case) / ms / 1e9


def metric(case: dict, record: dict) -> str:
    if "tflops" in record:
        return f"{record['tflops']:.1f} TFLOP/s"
    if "tbps" in record:
        return f"{record['tbps']:.2f} TB/s"
    return "-"


def status_text(record: dict) -> str:
    status = record["status"]
    if status == "FAIL":
        if record.get("nonfinite"):
            return f"FAIL ({record['nonfinite']} non-finite)"
        return f"FAIL (rel_l2 {record['rel_l2']:.1e})"
    if status in ("ERROR", "NO PACKAGE"):
        text = record.get("error", "").splitlines()
        return f"{status}: {text[0][:100] if text else ''}"
    return status


def fmt_ms(record):
    return f"{record['median_ms']:.3f}" if "median_ms" in record else "-"


def fmt_err(record):
    return f"{record['rel_l2']:.1e}" if "rel_l2" in record else "-"


def ratio(value: float) -> str:
    return f"{value:.2f}" if value >= 0.01 else f"{value:.1e}"


def speed(ours, other):
    """ours/peer speed (peer time over ours: above 1, ours is faster)."""
    if "median_ms" in ours and "median_ms" in other:
        return ratio(other["median_ms"] / ours["median_ms"])
    return "-"


def table_head(*columns) -> list:
    """The header and separator lines of a markdown table."""
    return ["| " + " | ".join(columns) + " |",
            "|" + " --- |" * len(columns)]


def full_table(results: list) -> str:
    lines = table_head("case", "impl", "status", "median ms", "p20-p80 ms",
                       "reps", "throughput", "rel L2", "extra MB",
                       "ours/impl speed")
    for case, records in results:
        mine = records[0]
        for r in records:
            spread = (f"{r['p20_ms']:.3f}-{r['p80_ms']:.3f}"
                      if "p20_ms" in r else "-")
            extra = (f"{r['extra_bytes'] / 2**20:.0f}"
                     if "extra_bytes" in r else "-")
            lines.append(
                f"| {case['name']} | {r['impl']} | {status_text(r)} | "
                f"{fmt_ms(r)} | {spread} | {r.get('reps', '-')} | "
                f"{metric(case, r)} | {fmt_err(r)} | {extra} | "
                f"{speed(mine, r) if r is not mine else '-'} |")
    return "\n".join(lines)


def short_table(results: list) -> str:
    lines = table_head("case", "ours", "ms", "throughput", "rel L2",
                       "best peer", "ms", "throughput", "ours/peer speed")
    for case, records in results:
        mine = records[0]
        peers = [r for r in records[1:] if r["impl"] not in
                 ("copy", "matmul_bf16") and r["status"] == "PASS" and
                 not r["impl"].startswith("ours")]
        best = min(peers, key=lambda r: r["median_ms"], default=None)
        extra = ""
        baseline = next((r for r in records if r["impl"] in
                         ("copy", "matmul_bf16") and "median_ms" in r), None)
        if baseline and "median_ms" in mine:
            extra = (f"; {baseline['impl']} {fmt_ms(baseline)} ms, ours at "
                     f"{ratio(baseline['median_ms'] / mine['median_ms'])} "
                     f"of its speed")
        lines.append(
            f"| {case['name']} | {status_text(mine)} | {fmt_ms(mine)} | "
            f"{metric(case, mine)} | {fmt_err(mine)} | "
            f"{best['impl'] if best else 'none passed'} | "
            f"{fmt_ms(best) if best else '-'} | "
            f"{metric(case, best) if best else '-'} | "
            f"{speed(mine, best) if best else '-'}{extra} |")
    return "\n".join(lines)


def environment(packages: Path, baseline: Path = None) -> dict:
    env = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(
        timespec="seconds"), "host": platform.node()}
    for key, command in [
            ("gpu", ["nvidia-smi", "--query-gpu=name,driver_version,"
                     "memory.total,clocks.max.sm", "--format=csv,noheader"]),
            ("commit", ["git", "-C", str(REPO), "rev-parse", "HEAD"])]:
        try:
            env[key] = subprocess.run(command, capture_output=True, text=True,
                                      timeout=30).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            env[key] = "unknown"
    # The device machine's copy of the tree may carry stale git metadata;
    # bench/compile_packages.sh records the source the packages came from.
    source = packages / "SOURCE_COMMIT"
    if source.exists():
        env["commit"] = source.read_text().strip()
    # How their schedules were chosen (chip, cost model or defaults).
    for key, where in (("schedules", packages),
                       ("baseline_schedules", baseline)):
        if where and (where / "SCHEDULES").exists():
            env[key] = (where / "SCHEDULES").read_text().strip()
    probe = ("import torch, triton; print(torch.__version__, "
             "torch.version.cuda, triton.__version__)")
    try:
        env["torch_cuda_triton"] = subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True,
            timeout=120).stdout.strip() or "unavailable"
    except (OSError, subprocess.TimeoutExpired):
        env["torch_cuda_triton"] = "unavailable"
    return env


def list_cases(cases: list, packages: Path) -> int:
    print("\n".join(table_head("case", "op", "FLOPs", "bytes (min)",
                               "package")))
    for case in cases:
        package = packages / case["name"]
        if not (package / "manifest.json").exists():
            state = "missing"
        else:
            try:
                with Kernel(str(package)) as kernel:
                    state = check_manifest(kernel, case) or (
                        f"ok ({kernel.name}, temps {kernel.temp_bytes} B)")
            except AttnRuntimeError as e:
                state = f"does not load: {e}"
        print(f"| {case['name']} | {case['op']} | {case_flops(case):.3g} | "
              f"{case_bytes(case):.3g} | {state} |")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--packages", default=str(REPO / "build-packages"),
                        help="directory of the compiled packages")
    parser.add_argument("--out", default=str(BENCH_DIR / "results" / "latest"),
                        help="directory for results.json and results.md")
    parser.add_argument("--cases", default="",
                        help="comma-separated case names (default: all)")
    parser.add_argument("--cases-file", default=str(BENCH_DIR / "cases.json"))
    parser.add_argument("--baseline-packages", default="",
                        help="also time the packages of this directory "
                             "(ours@baseline), e.g. compiled before a change")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--budget-ms", type=float, default=1500,
                        help="timed milliseconds per implementation "
                             "(at least 5 and at most --max-reps runs)")
    parser.add_argument("--max-reps", type=int, default=100)
    parser.add_argument("--peers", default="all",
                        help="comma-separated peers to run (e.g. "
                             "sdpa_cudnn,copy), 'none' for ours alone, or "
                             "'all' (the default)")
    parser.add_argument("--timeout", type=float, default=900,
                        help="seconds a case's worker may take")
    parser.add_argument("--list", action="store_true",
                        help="list cases and packages; no GPU needed")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--worker-out", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        return worker(args)
    unknown_peers = sorted((peer_filter(args.peers) or set()) -
                           set(PEER_NAMES))
    if unknown_peers:
        parser.error(f"unknown peers {unknown_peers}; known: "
                     f"{', '.join(PEER_NAMES)}, all, none")
    cases = load_cases(args.cases_file)
    if args.cases:
        wanted = args.cases.split(",")
        unknown = sorted(set(wanted) - {c["name"] for c in cases})
        if unknown:
            parser.error(f"unknown cases {unknown}")
        cases = [c for c in cases if c["name"] in wanted]
    packages = Path(args.packages)
    if args.list:
        return list_cases(cases, packages)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench.log").write_text("")  # The workers' output, case by case.
    env = environment(packages, Path(args.baseline_packages)
                      if args.baseline_packages else None)
    print(f"bench: {env.get('gpu')}; torch/cuda/triton "
          f"{env.get('torch_cuda_triton')}; commit {env.get('commit')}; "
          f"schedules {env.get('schedules', 'unknown')}"
          + (f", baseline {env['baseline_schedules']}"
             if "baseline_schedules" in env else ""),
          flush=True)
    results = []
    for index, case in enumerate(cases):
        began = time.time()
        command = [sys.executable, __file__, "--worker", case["name"],
                   "--packages", str(packages), "--cases-file",
                   args.cases_file, "--seed", str(args.seed + index),
                   "--budget-ms", str(args.budget_ms), "--max-reps",
                   str(args.max_reps), "--baseline-packages",
                   args.baseline_packages, "--peers", args.peers]
        records, log = run_worker(command, args.timeout, tail=400)
        with open(out / "bench.log", "a") as handle:
            handle.write(f"==== {case['name']}\n{log}\n")
        for record in records:
            derived(case, record)
        results.append((case, records))
        print(f"[{index + 1}/{len(cases)}] {case['name']} "
              f"({time.time() - began:.0f} s): " +
              ", ".join(f"{r['impl']} {status_text(r)[:60]} {fmt_ms(r)} ms"
                        for r in records), flush=True)

    short = short_table(results)
    (out / "results.json").write_text(json.dumps(
        {"environment": env, "tolerance": TOLERANCE,
         "results": [{"case": c, "flops": case_flops(c),
                      "min_bytes": case_bytes(c), "records": r}
                     for c, r in results]}, indent=1))
    (out / "results.md").write_text(
        f"# attn-mlir benchmark\n\n{json.dumps(env)}\n\n"
        f"Median of CUDA-event timings, cold L2 before each run. Throughput: "
        f"TFLOP/s for attention (4*B*Hq*M*N*D, halved for causal M == N), "
        f"TB/s of the fewest bytes (inputs read once, outputs written once) "
        f"otherwise. Speed ratio: the other's time over ours (above 1: ours "
        f"is faster). Extra MB: peak memory beyond the inputs and the "
        f"output (ours: the manifest's temporaries).\n\n"
        f"## Summary\n\n{short}\n\n## All runs\n\n{full_table(results)}\n")
    print(f"\nfull results: {out}/results.md, {out}/results.json\n")
    print(short)
    failed = any(r["status"] in ("ERROR", "FAIL", "NO PACKAGE")
                 for _, records in results for r in records[:1])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
