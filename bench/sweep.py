#!/usr/bin/env python3
"""Schedule sweeps: one benchmark case per (shape, schedule) pair.

A sweep file is a cases file (bench/cases.json's format) whose cases may
carry "schedules", a list of #attn.schedule bodies, instead of one
"schedule". On the build machine (MLIR needed) this expands the sweep into
DIR/cases.json, one case per schedule named <case>__<schedule slug> (a case
without "schedules" stays as it is: its compiler-chosen default), writes
DIR/mlir/<name>.mlir and compiles each into DIR/packages/<name>:

  bench/sweep.py bench/sweeps/attention-hopper.json --out build-sweep \\
      --attn-opt build/bin/attn-opt

On the GPU machine, bench.py times them, alone or beside chosen peers:

  python3 bench/bench.py --cases-file build-sweep/cases.json \\
      --packages build-sweep/packages --peers none --out $OUT/sweep

A schedule the planner rejects is reported and left out (exit status 1
unless --allow-rejected), so that a sweep never times a fallback silently.
"""

import argparse
import json
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from cases import load_cases
from gen_bench_mlir import render


def slug(schedule: str) -> str:
    """A short, file-name-safe name of a schedule body."""
    short = {"block_m": "bm", "block_n": "bn", "block_d": "bd",
             "warps": "w", "stages": "st", "split": "sp", "passes": "p",
             "pipeline": "", "chip": None}
    parts = []
    for field in schedule.split(","):
        key, _, value = (x.strip() for x in field.partition("="))
        name = short.get(key, key)
        if name is None:
            continue
        parts.append(f"{name}{value.strip(chr(34))}")
    return re.sub(r"[^A-Za-z0-9_]", "", "_".join(parts))


def expand(cases: list) -> list:
    out = []
    for case in cases:
        schedules = case.get("schedules")
        if schedules is None:
            out.append(case)
            continue
        for schedule in schedules:
            variant = {k: v for k, v in case.items() if k != "schedules"}
            variant["name"] = f"{case['name']}__{slug(schedule)}"
            variant["schedule"] = schedule
            out.append(variant)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sweep", help="the sweep file")
    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument("--attn-opt", help="compile every case with this "
                        "attn-opt into OUT/packages")
    parser.add_argument("--chip", default="h200-sxm")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--allow-rejected", action="store_true",
                        help="exit 0 even if a schedule does not compile")
    args = parser.parse_args()

    cases = expand(json.loads(Path(args.sweep).read_text())["cases"])
    out = Path(args.out)
    (out / "mlir").mkdir(parents=True, exist_ok=True)
    expanded = out / "cases.json"
    expanded.write_text(json.dumps({"cases": cases}, indent=1))
    try:
        load_cases(expanded)  # Unique names, known ops.
    except ValueError as error:
        parser.error(f"{args.sweep}: {error}")
    for case in cases:
        (out / "mlir" / f"{case['name']}.mlir").write_text(render(case))
    print(f"sweep: {len(cases)} cases in {expanded}")
    if not args.attn_opt:
        return 0

    def compile_case(case):
        package = out / "packages" / case["name"]
        result = subprocess.run(
            [args.attn_opt, str(out / "mlir" / f"{case['name']}.mlir"),
             f"--attn-to-cubin=chip={args.chip} model=none "
             f"package-dir={package}", "-o", "/dev/null"],
            capture_output=True, text=True)
        return case, result

    rejected = []
    with ThreadPoolExecutor(args.jobs) as pool:
        for case, result in pool.map(compile_case, cases):
            if result.returncode != 0:
                rejected.append(case["name"])
                first = (result.stderr.strip().splitlines() or ["?"])[0]
                print(f"rejected {case['name']}: {first}")
    kept = [c for c in cases if c["name"] not in rejected]
    expanded.write_text(json.dumps({"cases": kept}, indent=1))
    print(f"sweep: {len(kept)} packages in {out / 'packages'}, "
          f"{len(rejected)} rejected")
    return 1 if rejected and not args.allow_rejected else 0


if __name__ == "__main__":
    sys.exit(main())
