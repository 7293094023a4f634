"""The benchmark cases of bench/cases.json and the signature of each: what
bench/gen_bench_mlir.py writes as the @main function of bench/mlir/<name>.mlir
and what bench/bench.py expects of the compiled package build-packages/<name>.
Needs nothing beyond the Python standard library."""

import json
from pathlib import Path
from typing import List, NamedTuple, Tuple

CASES_FILE = Path(__file__).with_name("cases.json")
OPS = ("attention", "softmax", "cross_entropy", "linear_cross_entropy")


class Tensor(NamedTuple):
    operand: str            # the manifest's "operand" of the argument
    shape: Tuple[int, ...]  # () for a scalar
    dtype: str              # manifest dtype


def load_cases(path=CASES_FILE, ops=OPS) -> List[dict]:
    """The cases, checked: unique names, ops among `ops`."""
    cases = json.loads(Path(path).read_text())["cases"]
    names = [c["name"] for c in cases]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"{path}: duplicate case names {duplicates}")
    for case in cases:
        if case["op"] not in ops:
            raise ValueError(f"{path}: case {case['name']}: unknown op "
                             f"{case['op']!r} (known: {', '.join(ops)})")
    return cases


def signature(case: dict) -> Tuple[List[Tensor], List[Tensor]]:
    """(inputs, outputs) of the case's function, in argument order."""
    op = case["op"]
    if op == "attention":
        b, hq, hkv = case["batch"], case["heads_q"], case["heads_kv"]
        m, n, d = case["seq_q"], case["seq_kv"], case["head_dim"]
        return ([Tensor("query", (b, hq, m, d), "bf16"),
                 Tensor("key", (b, hkv, n, d), "bf16"),
                 Tensor("value", (b, hkv, n, d), "bf16")],
                [Tensor("output", (b, hq, m, d), "bf16")])
    if op == "softmax":
        shape = (case["rows"], case["cols"])
        return [Tensor("input", shape, "bf16")], [Tensor("result", shape,
                                                         "bf16")]
    n, v = case["tokens"], case["vocab"]
    loss = [Tensor("loss", (), "f32")]
    if op == "cross_entropy":
        return [Tensor("logits", (n, v), "bf16"),
                Tensor("labels", (n,), "i64")], loss
    d = case["hidden"]
    return [Tensor("hidden", (n, d), "bf16"), Tensor("weight", (v, d), "bf16"),
            Tensor("labels", (n,), "i64")], loss
