"""Compiles the kernel packages of a list of signatures into a directory,
for a machine without MLIR (point ATTN_MLIR_PACKAGES there).

    python -m attn_mlir.precompile --chip h200-sxm --out packages sigs.json

where sigs.json is a list of signatures as attn_mlir.signatures.to_dict
writes them, e.g.
``{"kind": "attention", "query": [2, 8, 1024, 64], "key_shape": [2, 8,
1024, 64], "value": [2, 8, 1024, 64], "dtype": "bf16", "causal": true}``.
Each is compiled forward and backward (``--forward-only``: forward only).
Programs that know their shapes call :func:`precompile` directly.
"""

import argparse
import concurrent.futures
import json
import os
import sys
from typing import Iterable, List, Sequence

from .compiler import CompileError, Compiler
from .signatures import Signature, SignatureError, from_dict

__all__ = ["precompile"]


def precompile(signatures: Iterable[Signature], out_dir: str, chip: str,
               directions: Sequence[str] = ("forward", "backward"),
               jobs: int = 0, attn_opt: str = None,
               log=sys.stderr) -> List[str]:
    """Compiles every (signature, direction) into out_dir/<key>, skipping
    those already there; returns the package directories. Runs `jobs`
    attn-opt processes at once (0: one per CPU)."""
    compiler = Compiler(chip, attn_opt=attn_opt, package_dirs=[])
    if not compiler.attn_opt:
        raise CompileError("attn-opt not found: set ATTN_OPT or put it on "
                           "PATH")
    work = []
    for signature in dict.fromkeys(signatures):
        for direction in directions:
            work.append((signature, direction))
    jobs = jobs or os.cpu_count() or 1

    def build(item):
        signature, direction = item
        path = compiler.compile(signature, direction, out_dir)
        if log:
            print(f"{os.path.basename(path)}", file=log, flush=True)
        return path

    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        return list(pool.map(build, work))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m attn_mlir.precompile",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("signatures", help="JSON file: a list of signatures")
    parser.add_argument("--chip", required=True,
                        help="attn-opt chip, e.g. h200-sxm")
    parser.add_argument("--out", required=True, help="package directory")
    parser.add_argument("--forward-only", action="store_true")
    parser.add_argument("-j", "--jobs", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        with open(args.signatures) as f:
            descriptions = json.load(f)
        if not isinstance(descriptions, list):
            raise SignatureError("the file must hold a JSON list")
        signatures = [from_dict(d) for d in descriptions]
        directions = ("forward",) if args.forward_only else ("forward",
                                                             "backward")
        precompile(signatures, args.out, args.chip, directions, args.jobs)
    except (OSError, ValueError, CompileError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
