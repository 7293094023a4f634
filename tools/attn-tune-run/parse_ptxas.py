#!/usr/bin/env python3
"""Reads `ptxas -v` logs into the cost model's per-package resources.

device_tune.sh assembles every BATCH/pkgs/<id>/<binary>.ptx with
`ptxas -arch=sm_90a -v`, leaving <binary>.cubin, the log <binary>.ptxas.log
and ptxas's exit status in <binary>.ptxas.rc beside it. Then:

  parse_ptxas.py log LOG
      prints the kernels of one log as a JSON array (for tests).
  parse_ptxas.py resources BATCH [CANDIDATES.jsonl]
      prints one JSON line per candidate package of the batch:
      {"id", "kernels": [{"binary", "name", "registers", "spill_bytes",
       "spill_store_bytes", "spill_load_bytes", "stack_bytes",
       "shared_bytes"}], "ptxas_ok", "reason"}
      (candidates without a package, e.g. compile errors, are left out).

spill_bytes is spill stores plus spill loads, as the compiler's own package
writer counts it (lib/Conversion/KernelPackage/EmitKernelPackage.cpp).
Python standard library only.
"""

import glob
import json
import os
import re
import sys

ENTRY = re.compile(r"Compiling entry function '([^']+)'")
PROPERTIES = re.compile(r"Function properties for ([A-Za-z0-9_$.]+)")
FRAME = re.compile(r"(\d+) bytes stack frame, (\d+) bytes spill stores, "
                   r"(\d+) bytes spill loads")
REGISTERS = re.compile(r"Used (\d+) registers")
SMEM = re.compile(r"(\d+) bytes smem")
PROBLEM = re.compile(r"\b(error|fatal)\b", re.IGNORECASE)

# The longest failure reason kept: the first errors say what went wrong.
MAX_REASON = 1000


def parse_log(text, binary=None):
    """The kernels of one ptxas -v log, in the order ptxas compiled them.

    Lines belong to the entry function named last ("Compiling entry
    function" or "Function properties for"); properties of non-entry
    functions (callees) are ignored.
    """
    kernels = {}
    order = []
    current = None
    for line in text.splitlines():
        match = ENTRY.search(line)
        if match:
            current = match.group(1)
            if current not in kernels:
                kernel = {"name": current, "registers": 0, "spill_bytes": 0,
                          "spill_store_bytes": 0, "spill_load_bytes": 0,
                          "stack_bytes": 0, "shared_bytes": 0}
                if binary is not None:
                    kernel = {"binary": binary, **kernel}
                kernels[current] = kernel
                order.append(current)
            continue
        match = PROPERTIES.search(line)
        if match:
            current = match.group(1) if match.group(1) in kernels else None
            continue
        if current is None:
            continue
        kernel = kernels[current]
        match = FRAME.search(line)
        if match:
            kernel["stack_bytes"] = int(match.group(1))
            kernel["spill_store_bytes"] = int(match.group(2))
            kernel["spill_load_bytes"] = int(match.group(3))
            kernel["spill_bytes"] = int(match.group(2)) + int(match.group(3))
        match = REGISTERS.search(line)
        if match:
            kernel["registers"] = int(match.group(1))
        match = SMEM.search(line)
        if match:
            kernel["shared_bytes"] = int(match.group(1))
    return [kernels[name] for name in order]


def failure_reason(text):
    """The error lines of a failed log, joined and bounded."""
    problems = [line.strip() for line in text.splitlines()
                if PROBLEM.search(line)]
    reason = "; ".join(problems)
    if len(reason) > MAX_REASON:
        reason = reason[:MAX_REASON - 3] + "..."
    return reason


def read_text(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return None


def package_resources(package_dir):
    """(kernels, ok, reason) of one package directory."""
    kernels = []
    reasons = []
    for ptx in sorted(glob.glob(os.path.join(package_dir, "*.ptx"))):
        base = ptx[:-len(".ptx")]
        binary = os.path.basename(base)
        log = read_text(base + ".ptxas.log")
        status = read_text(base + ".ptxas.rc")
        if log is None or status is None:
            reasons.append(binary + ": not assembled (no ptxas log)")
            continue
        status = status.strip()
        if status != "0":
            why = failure_reason(log) or "no error message"
            reasons.append("%s: ptxas exit status %s: %s" % (binary, status,
                                                             why))
            continue
        if not os.path.isfile(base + ".cubin"):
            reasons.append(binary + ": ptxas wrote no cubin")
            continue
        kernels.extend(parse_log(log, binary))
    reason = "; ".join(reasons)
    if len(reason) > MAX_REASON:
        reason = reason[:MAX_REASON - 3] + "..."
    return kernels, not reasons, reason


def candidate_packages(batch, candidates_paths):
    """(id, package directory) of every candidate that has a package."""
    for path in candidates_paths:
        with open(path, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    candidate = json.loads(line)
                except ValueError as error:
                    raise SystemExit("parse_ptxas.py: %s:%d: %s" %
                                     (path, number, error))
                package = candidate.get("package")
                if isinstance(package, str) and "id" in candidate:
                    yield candidate["id"], os.path.join(batch, package)


def main(argv):
    if len(argv) == 3 and argv[1] == "log":
        text = read_text(argv[2])
        if text is None:
            raise SystemExit("parse_ptxas.py: cannot read " + argv[2])
        print(json.dumps(parse_log(text), indent=1))
        return 0
    if len(argv) in (3, 4) and argv[1] == "resources":
        batch = argv[2]
        paths = ([argv[3]] if len(argv) == 4 else
                 sorted(glob.glob(os.path.join(batch, "candidates*.jsonl"))))
        if not paths:
            raise SystemExit("parse_ptxas.py: no candidates*.jsonl in " + batch)
        for ident, package_dir in candidate_packages(batch, paths):
            kernels, ok, reason = package_resources(package_dir)
            record = {"id": ident, "kernels": kernels, "ptxas_ok": ok}
            if reason:
                record["reason"] = reason
            print(json.dumps(record))
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
