#!/usr/bin/env python3
"""Compiles every .mlir file of a directory with attn-opt --attn-to-cubin.

Usage: compile_all.py DIR CHIP
Each file becomes a kernel package DIR/<file>.pkg. Exits 1, printing the
file and attn-opt's output, if any compilation fails (the pinned schedules
of attn-tune pin: every enumerated schedule must compile).
"""
import concurrent.futures
import os
import subprocess
import sys


def compile_one(path, chip):
    cmd = ["attn-opt", path,
           f"--attn-to-cubin=chip={chip} package-dir={path}.pkg",
           "-o", os.devnull]
    done = subprocess.run(cmd, capture_output=True, text=True)
    return path, done.returncode, done.stdout + done.stderr


def main():
    directory, chip = sys.argv[1], sys.argv[2]
    files = sorted(os.path.join(directory, f) for f in os.listdir(directory)
                   if f.endswith(".mlir"))
    if not files:
        print(f"compile_all: no .mlir file in {directory}")
        return 1
    failed = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        for path, rc, output in pool.map(lambda f: compile_one(f, chip), files):
            if rc != 0:
                failed += 1
                print(f"FAILED ({rc}): {path}\n{output}")
    print(f"compile_all: {len(files) - failed} of {len(files)} compiled for {chip}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
