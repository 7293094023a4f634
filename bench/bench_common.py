"""What bench/bench.py and bench/bench_backward.py share: CUDA-event timing
(`reps` timed calls of a callable, each after overwriting a buffer larger
than L2 outside the timed region, so every run starts from a cold L2 as the
inputs would in a model, after `warm_ups` untimed calls) and running one
case in a worker process."""


def timed_calls(torch, fn, flush, reps: int, warm_ups: int) -> dict:
    """Median, 20th and 80th percentile and minimum (ms) of `reps` calls."""
    for _ in range(warm_ups):
        fn()
    starts = [torch.cuda.Event(enable_timing=True) for _ in range(reps)]
    ends = [torch.cuda.Event(enable_timing=True) for _ in range(reps)]
    for i in range(reps):
        flush.zero_()
        starts[i].record()
        fn()
        ends[i].record()
    torch.cuda.synchronize()
    times = sorted(s.elapsed_time(e) for s, e in zip(starts, ends))
    middle = len(times) // 2
    median = (times[middle] if len(times) % 2 else
              (times[middle - 1] + times[middle]) / 2)

    def quantile(q):
        return times[min(len(times) - 1, int(q * len(times)))]
    return {"median_ms": median, "p20_ms": quantile(0.2),
            "p80_ms": quantile(0.8), "min_ms": times[0], "reps": reps}


class FlushTimer:
    """Times callables with timed_calls and a 256 MiB flush buffer (larger
    than the H200's L2); subclasses choose the repetitions and warm-ups
    from an estimate of one call (reps_and_warm_ups)."""

    def __init__(self, torch, budget_ms: float, max_reps: int):
        self.torch = torch
        self.budget_ms, self.max_reps = budget_ms, max_reps
        self.flush = torch.empty(256 << 20, dtype=torch.uint8, device="cuda")

    def reps_and_warm_ups(self, estimate_ms: float):
        raise NotImplementedError

    def __call__(self, fn, estimate_ms: float) -> dict:
        reps, warm_ups = self.reps_and_warm_ups(max(estimate_ms, 1e-3))
        return timed_calls(self.torch, fn, self.flush, reps, warm_ups)


def run_worker(command: list, timeout: float, tail: int = 600):
    """Runs a benchmark worker process, which writes its records (a JSON
    list) to the file its command names; returns (records, log): the records
    it wrote, or one ERROR record of "ours"
    when the worker wrote none or ran over `timeout` seconds (the log then
    holds what it printed so far)."""
    import json
    import subprocess
    import tempfile
    from pathlib import Path
    with tempfile.NamedTemporaryFile(suffix=".json") as handle:
        try:
            proc = subprocess.run(command + ["--worker-out", handle.name],
                                  capture_output=True, text=True,
                                  timeout=timeout)
            log = proc.stdout + proc.stderr
            text = Path(handle.name).read_text()
            records = json.loads(text) if text else None
            if records is None:
                records = [{"impl": "ours", "status": "ERROR",
                            "error": f"the worker exited with "
                                     f"{proc.returncode}: "
                                     f"{log.strip()[-tail:]}"}]
        except subprocess.TimeoutExpired as e:
            out = e.stdout or ""
            log = out.decode(errors="replace") if isinstance(out, bytes) \
                else out
            records = [{"impl": "ours", "status": "ERROR",
                        "error": f"the worker ran over {timeout:.0f} s"}]
    return records, log
