#!/usr/bin/env python3
"""attn-fuzz: a seeded, deterministic mutation fuzzer for attn-opt.

What it does
------------
It takes the project's own MLIR test inputs as seeds (every ``test/**/*.mlir``
that contains ``attn.``, cut at ``// -----`` into chunks, and every top-level
function of a chunk on its own), mutates them, and runs each mutant through
every pass and pipeline of ``attn-opt`` that works without a GPU (see
``--list-pipelines``): the plain parse, the generic-form print, attn-tile,
attn-decompose, attn-io-report, attn-fuse, attn-to-llvm (with and without
tile=1), attn-select-schedule (the shipped h200-sxm model and the analytic
one), attn-map-to-gpu (sm_90a and sm_80), the lower GPU-path passes, and
attn-to-cubin with assemble=0 (everything but ptxas, in the default kernel
mapping and in the simple one, kernels=0).

Mutations: element types (bf16/f16/f32/f64/i1/i8/i32/i64/index/f8E4M3FN,
one occurrence or all), tensor shapes (a dim replaced by 0, 1, odd values,
2^31, 2^32, 2^40, 2^62, 2^63-1, 2^63, ``?``; one occurrence or all; ranks
grown and shrunk), attribute values at and beyond their limits (dim,
ignore_index, window, scale, softcap, label_smoothing, z_loss: negative, 0,
huge, NaN and +-inf floats), attributes added to attn ops (causal, scale,
softcap, window, ignore_index, label_smoothing, z_loss, reduction, schedule,
an unknown one), ``#attn.schedule<...>`` fields (block_m, block_n, block_d,
warps, stages, split, passes: 0, 1, odd, huge, negative; fields added and
removed) and its chip (every chip of lib/Target, aliases, unknown ones),
``#attn.reduction`` values, any other numeric literal, operand and type
swaps, deleted and duplicated tokens and lines, and truncation.

Each run is classified:

  clean        exit 0, and the output re-parses and verifies with plain
               attn-opt (and a kernel package's manifest.json is valid JSON)
  clean error  nonzero exit with an ``error:`` diagnostic, no signal
  crash        killed by a signal, or a crash report in stderr (stack dump,
               "PLEASE submit a bug report", an assertion, "LLVM ERROR",
               "terminate called", an out-of-memory report)
  hang         no exit within --timeout seconds (default 20)
  bad output   exit 0 but the output fails to parse or verify (or an invalid
               manifest.json, or an error diagnostic despite exit 0), or a
               nonzero exit without any error diagnostic

Crashes, hangs and bad outputs are failures. Each distinct failure (its
class and signature: the signal and first frames of the stack trace, the
LLVM ERROR text, the re-parse error) is written to OUT/failures/NN-CLASS-
PIPELINE/: ``input.mlir`` (the mutant), ``reduced.mlir`` (a line-based
reduction that keeps the same failure, when cheap), ``command.sh`` (the
exact commands), ``stderr.txt`` and ``info.json`` (seed, mutant index,
origin, mutations). The process exits with status 1 when it found a
failure, 0 otherwise.

Plain-parse gate: when the plain parse of a mutant ends in a clean error
(the parser or a verifier rejected it), the other pipelines would parse the
same text and fail the same way, so they are not run; the summary counts
them as "skipped" (``--all-pipelines`` runs them anyway). A crash in the
parser shows up on the plain parse. Nothing else is skipped; the summary
names what cannot run here (ptxas, a GPU).

Determinism: mutant number i is a function of (--seed, i) and of the seed
inputs (sorted paths), never of timing or of the number of jobs. Adding or
changing test inputs changes the mutants. ``--runs`` and ``--mutants``
budgets are deterministic (results are taken in mutant order); a
``--seconds`` budget is not (it stops starting mutants when time is up).

Usage
-----
  # short mode (the lit test test/Tools/attn-fuzz.test runs a fixed budget)
  python3 tools/attn-fuzz/attn-fuzz.py --seed 1 --runs 600

  # long mode, for local runs (hours on 2 cores; add -j for more cores)
  nice python3 tools/attn-fuzz/attn-fuzz.py --seed 7 --runs 20000 -j 2 \\
      --out /tmp/attn-fuzz-out
  nice python3 tools/attn-fuzz/attn-fuzz.py --seed 8 --seconds 1200 -j 2

  # look at mutant 42 of seed 7, and the seeds
  python3 tools/attn-fuzz/attn-fuzz.py --seed 7 --show-mutant 42
  python3 tools/attn-fuzz/attn-fuzz.py --list-seeds

  # run saved reproducers (no mutation) through every pipeline
  python3 tools/attn-fuzz/attn-fuzz.py --replay test/Fuzz/Inputs

Options: --attn-opt PATH (default: $ATTN_OPT, else build/bin/attn-opt of the
source tree, else attn-opt on PATH), --src-root DIR (default: two levels
above this file), -j/--jobs N (default 2), --timeout S (per run, default
20), --mem-mb N (address-space limit of each attn-opt, default 4096; an
attn-opt that runs out of it is a crash), --pipelines a,b (a subset),
--reduce-attempts N (runs spent on reducing each distinct failure, default
100; 0 turns reduction off), --out DIR (default: a temporary directory that
is removed unless a failure was found), -v (one line per failure
occurrence).

Only the Python 3 standard library is needed.
"""

import argparse
import concurrent.futures
import hashlib
import json
import os
import random
import re
import resource
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

# ---------------------------------------------------------------------------
# Pipelines
# ---------------------------------------------------------------------------

# name -> attn-opt arguments. PKG stands for a fresh package directory.
PIPELINES = [
    ("parse", []),
    ("generic", ["--mlir-print-op-generic"]),
    ("tile", ["--attn-tile"]),
    ("decompose", ["--attn-decompose"]),
    ("io-report", ["--attn-io-report"]),
    ("fuse", ["--attn-fuse"]),
    ("to-llvm", ["--attn-to-llvm"]),
    ("to-llvm-tile", ["--attn-to-llvm=tile=1"]),
    ("select-h200", ["--attn-select-schedule=chip=h200-sxm"]),
    ("select-analytic", ["--attn-select-schedule=chip=h200-sxm model=analytic"]),
    ("map-to-gpu-sm90a", ["--attn-map-to-gpu=chip=sm_90a"]),
    ("map-to-gpu-sm80", ["--attn-map-to-gpu=chip=sm_80"]),
    ("describe-functions", ["--attn-describe-functions"]),
    ("loops-to-gpu", ["--attn-loops-to-gpu"]),
    ("group-kernels", ["--attn-group-kernels"]),
    ("lower-host-copies", ["--attn-lower-host-copies"]),
    ("to-cubin", ["--attn-to-cubin=chip=sm_90a package-dir=PKG assemble=0"]),
    ("to-cubin-simple", ["--attn-to-cubin=chip=sm_90a kernels=0 package-dir=PKG assemble=0"]),
]
PIPELINE_ARGS = dict(PIPELINES)
NOT_RUN = ("not run here: attn-to-cubin with assemble=1 and attn-emit-kernel-package "
           "(they need ptxas), anything that executes kernels (a GPU)")
COMMON_ARGS = ["--mlir-disable-threading"]

CLASSES = ["clean", "error", "crash", "hang", "bad", "known", "skipped"]
FAILURES = ("crash", "hang", "bad")
CLASS_TITLE = {"clean": "clean", "error": "clean errors", "crash": "crashes",
               "hang": "hangs", "bad": "bad outputs", "skipped": "skipped"}

# ---------------------------------------------------------------------------
# Seeds
# ---------------------------------------------------------------------------

SPLIT_RE = re.compile(r"^// -----\s*$", re.M)
OP_NAMES = ["attention", "softmax", "log_softmax", "logsumexp", "cross_entropy",
            "linear_cross_entropy"]


def strip_comments(text):
    out = []
    for line in text.splitlines():
        s = line.strip()
        if s.startswith("//"):
            continue
        out.append(line.rstrip())
    # Collapse runs of blank lines.
    res, blank = [], False
    for line in out:
        if not line.strip():
            if blank:
                continue
            blank = True
        else:
            blank = False
        res.append(line)
    return "\n".join(res).strip("\n") + "\n"


def top_level_items(text):
    """Split a chunk into top-level items by brace depth: (first line, text)."""
    items, cur, depth, opened = [], [], 0, False
    for line in text.splitlines():
        if depth == 0 and not cur and not line.strip():
            continue
        cur.append(line)
        code = re.sub(r'"(\\.|[^"\\])*"', '""', line)
        depth += code.count("{") - code.count("}")
        opened = opened or "{" in code
        # A top-level item ends when its braces close (or at once for a
        # one-line alias definition).
        if depth <= 0 and (opened or cur[0].lstrip()[:1] in ("#", "!")):
            items.append("\n".join(cur) + "\n")
            cur, depth, opened = [], 0, False
    if cur:
        items.append("\n".join(cur) + "\n")
    return items


class Seed:
    __slots__ = ("origin", "text", "valid")

    def __init__(self, origin, text, valid):
        self.origin, self.text, self.valid = origin, text, valid


def collect_seeds(src_root, inputs=None):
    """Seeds grouped by file: {relpath: [Seed]} (sorted, deduplicated)."""
    test_dir = os.path.join(src_root, "test")
    paths = []
    roots = inputs or [test_dir]
    for root in roots:
        if os.path.isfile(root):
            paths.append(root)
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            rel = os.path.relpath(dirpath, test_dir)
            if not inputs and (rel == "Fuzz" or rel.startswith("Fuzz" + os.sep)):
                continue  # our own reproducers: keep the mutants stable
            for f in sorted(filenames):
                if f.endswith(".mlir"):
                    paths.append(os.path.join(dirpath, f))
    groups, seen = {}, set()
    for path in sorted(paths):
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                raw = f.read()
        except OSError:
            continue
        if "attn." not in raw:
            continue
        rel = os.path.relpath(path, src_root)
        seeds = []
        for ci, chunk in enumerate(SPLIT_RE.split(raw)):
            valid = "expected-error" not in chunk and "expected-warning" not in chunk
            text = strip_comments(chunk)
            if not text.strip():
                continue
            cands = [("chunk%d" % ci, text)]
            items = top_level_items(text)
            funcs = [it for it in items if it.lstrip().startswith("func.func")]
            aliases = [it for it in items if it.lstrip()[:1] in ("#", "!")]
            if len(funcs) > 1:
                for it in funcs:
                    m = re.search(r"@([\w$.-]+)", it)
                    name = m.group(1) if m else "?"
                    cands.append(("chunk%d@%s" % (ci, name), "".join(aliases) + it))
            for tag, t in cands:
                h = hashlib.sha1(t.encode()).hexdigest()
                if h in seen:
                    continue
                seen.add(h)
                seeds.append(Seed("%s#%s" % (rel, tag), t, valid))
        if seeds:
            groups[rel] = seeds
            for sd in seeds:
                if sd.valid:
                    note_schedules(sd.text)
    return groups


# ---------------------------------------------------------------------------
# Mutations
# ---------------------------------------------------------------------------

ELEM_TYPES = ["bf16", "f16", "f32", "f64", "i1", "i32", "i64", "i8", "index",
              "f8E4M3FN", "i16", "complex<f32>", "tf32"]
TYPE_RE = re.compile(
    r"(?:(?<=[0-9?]x)|(?<![A-Za-z0-9_.%@#$]))"
    r"(bf16|f16|f32|f64|f8E4M3FN|tf32|i1|i8|i16|i32|i64|index)(?![A-Za-z0-9_])")
SHAPED_RE = re.compile(r"\b(tensor|memref|vector)<([^<>]*)>")
DIM_VALUES = [0, 0, 1, 1, 2, 3, 5, 7, 17, 31, 33, 127, 129, 1000, 65535, 65536,
              2**31 - 1, 2**31, 2**32, 2**40, 2**62, 2**63 - 1, 2**63, "?", "?"]
INT_VALUES = [-2**63, -2**31, -100, -3, -2, -1, -1, 0, 0, 0, 1, 1, 1, 2, 3, 5, 7,
              15, 33, 63, 64, 65, 127, 129, 255, 256, 1024, 4096, 65535, 65536,
              2**31 - 1, 2**31, 2**32 + 1, 2**40, 2**62, 2**63 - 1, 2**63, 2**64]
FLOAT_VALUES = ["0.0", "-0.0", "1.0", "-1.0", "0.5", "2.0", "1.5", "-0.5", "1.0e-45",
                "1.0e-30", "1.0e+38", "3.4e+38", "-3.4e+38", "1.0e+39", "1.0e+300",
                "0x7FC00000", "0x7F800000", "0xFF800000", "0xFFFFFFFF", "0x00000001",
                "100.0", "1.0e+10", "-1.0e+10"]
INT_ATTRS = ["dim", "ignore_index", "block_m", "block_n", "block_d", "warps",
             "stages", "split", "passes", "top", "threads"]
FLOAT_ATTRS = ["scale", "softcap", "label_smoothing", "z_loss"]
INT_ATTR_RE = re.compile(r"\b(%s)(\s*=\s*)(-?\d+)" % "|".join(INT_ATTRS))
FLOAT_ATTR_RE = re.compile(
    r"\b(%s)(\s*=\s*)(0x[0-9A-Fa-f]+|[-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)" % "|".join(FLOAT_ATTRS))
ARRAY_RE = re.compile(r"array<i64:\s*([-\d,\s]*)>")
NUM_RE = re.compile(r"(?<![\w%@#$.x-])(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|0x[0-9A-Fa-f]+)(?![\w.])")
SCHED_RE = re.compile(r"#attn\.schedule<([^<>]*)>")
SCHED_FIELDS = ["block_m", "block_n", "block_d", "warps", "stages", "split", "passes"]
CHIPS = ["host", "sm_80", "sm_86", "sm_89", "sm_90", "sm_90a", "h200-sxm", "h100-sxm",
         "a100-sxm", "h200", "sm_100a", "sm_42", "", "SM_90A", "sm_90a ", "gfx90a"]
REDUCTIONS = ["none", "sum", "mean", "max", ""]
ATTN_OP_RE = re.compile(r"\battn\.(%s)\b" % "|".join(OP_NAMES))
TOKEN_RE = re.compile(
    r'"(?:\\.|[^"\\])*"|[%@#^!][\w$.-]+|[A-Za-z_][\w.$-]*|0x[0-9A-Fa-f]+|'
    r'-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|->|\S')


def pick_value(rng, values):
    return rng.choice(values)


def m_type_all(rng, text):
    found = sorted(set(m.group(1) for m in TYPE_RE.finditer(text)))
    if not found:
        return None
    old = rng.choice(found)
    if old in ("bf16", "f16", "f32") and rng.random() < 0.7:
        new = rng.choice([t for t in ("bf16", "f16", "f32", "f64") if t != old])
    else:
        new = rng.choice([t for t in ELEM_TYPES if t != old])
    return TYPE_RE.sub(lambda m: new if m.group(1) == old else m.group(0), text), \
        "type_all %s->%s" % (old, new)


def m_type_whole(rng, text):
    """Replace every occurrence of one whole shaped type (say
    tensor<4x8xbf16>) by the same shape with another element type, or with
    one dim changed: consistent enough to pass the verifiers more often."""
    found = sorted(set(m.group(0) for m in SHAPED_RE.finditer(text)))
    if not found:
        return None
    old = rng.choice(found)
    m = SHAPED_RE.match(old)
    body = m.group(2)
    dims = _dims(body)
    if rng.random() < 0.5 or not dims:
        tm = list(TYPE_RE.finditer(body))
        if not tm:
            return None
        t = tm[-1]
        near = [x for x in ("bf16", "f16", "f32") if x != t.group(1)]
        nt = rng.choice(near) if rng.random() < 0.7 else rng.choice(
            [x for x in ELEM_TYPES if x != t.group(1)])
        nb = body[:t.start(1)] + nt + body[t.end(1):]
    else:
        s, e, d = rng.choice(dims)
        nb = body[:s] + str(rng.choice([v for v in DIM_VALUES if str(v) != d])) + body[e:]
    new = "%s<%s>" % (m.group(1), nb)
    return text.replace(old, new), "type_whole %s->%s" % (old, new)


def m_type_one(rng, text):
    ms = list(TYPE_RE.finditer(text))
    if not ms:
        return None
    m = rng.choice(ms)
    new = rng.choice([t for t in ELEM_TYPES if t != m.group(1)])
    return text[:m.start(1)] + new + text[m.end(1):], "type_one@%d %s->%s" % (
        m.start(1), m.group(1), new)


def _dims(body):
    """Dims of a shaped type body like '4x?x8xf32': [(start, end, text)]."""
    out, pos = [], 0
    for part in body.split("x"):
        if re.fullmatch(r"\d+|\?", part):
            out.append((pos, pos + len(part), part))
            pos += len(part) + 1
        else:
            break
    return out


def _shaped(text):
    """[(abs_start, abs_end, dimtext)] of every dim of every shaped type."""
    res = []
    for m in SHAPED_RE.finditer(text):
        base = m.start(2)
        for s, e, d in _dims(m.group(2)):
            res.append((base + s, base + e, d))
    return res


def m_dim_all(rng, text):
    dims = _shaped(text)
    if not dims:
        return None
    old = rng.choice(sorted(set(d for _, _, d in dims)))
    new = str(rng.choice([v for v in DIM_VALUES if str(v) != old]))
    out, last = [], 0
    for s, e, d in dims:
        if d == old:
            out.append(text[last:s])
            out.append(new)
            last = e
    out.append(text[last:])
    return "".join(out), "dim_all %s->%s" % (old, new)


def m_dim_one(rng, text):
    dims = _shaped(text)
    if not dims:
        return None
    s, e, d = rng.choice(dims)
    new = str(rng.choice([v for v in DIM_VALUES if str(v) != d]))
    return text[:s] + new + text[e:], "dim_one@%d %s->%s" % (s, d, new)


def m_rank(rng, text):
    ms = list(SHAPED_RE.finditer(text))
    if not ms:
        return None
    m = rng.choice(ms)
    body = m.group(2)
    dims = _dims(body)
    if dims and rng.random() < 0.5:
        s, e, _ = rng.choice(dims)
        nb = body[:s] + body[e + 1:]  # drop "Nx"
        what = "rank_drop"
    else:
        cut = rng.choice([d[0] for d in dims] + [dims[-1][1] + 1 if dims else 0])
        nb = body[:cut] + str(rng.choice([1, 2, 8, "?"])) + "x" + body[cut:]
        what = "rank_add"
    return text[:m.start(2)] + nb + text[m.end(2):], "%s@%d" % (what, m.start(2))


def m_int_attr(rng, text):
    cands = [(m.start(3), m.end(3), m.group(1)) for m in INT_ATTR_RE.finditer(text)]
    for m in ARRAY_RE.finditer(text):
        for n in re.finditer(r"-?\d+", m.group(1)):
            cands.append((m.start(1) + n.start(), m.start(1) + n.end(), "array"))
    if not cands:
        return None
    s, e, name = rng.choice(cands)
    new = str(rng.choice(INT_VALUES))
    return text[:s] + new + text[e:], "int_attr %s %s->%s" % (name, text[s:e], new)


def m_float_attr(rng, text):
    ms = list(FLOAT_ATTR_RE.finditer(text))
    if not ms:
        return None
    m = rng.choice(ms)
    new = rng.choice(FLOAT_VALUES)
    return text[:m.start(3)] + new + text[m.end(3):], "float_attr %s %s->%s" % (
        m.group(1), m.group(3), new)


def m_number(rng, text):
    ms = list(NUM_RE.finditer(text))
    if not ms:
        return None
    m = rng.choice(ms)
    old = m.group(1)
    if "." in old or "e" in old.lower() and not old.startswith("0x"):
        new = rng.choice(FLOAT_VALUES)
    else:
        new = str(rng.choice(INT_VALUES))
    return text[:m.start(1)] + new + text[m.end(1):], "number@%d %s->%s" % (
        m.start(1), old, new)


SANE_FIELD = {"block_m": [1, 16, 32, 64, 128], "block_n": [16, 32, 64, 128, 256],
              "block_d": [16, 32, 64, 128], "warps": [1, 2, 4, 8, 16],
              "stages": [1, 2, 3, 4], "split": [1, 2, 4, 8], "passes": [1, 2]}


def _field_value(rng, field):
    """A plausible value half the time, an edge value otherwise."""
    if field in SANE_FIELD and rng.random() < 0.5:
        return rng.choice(SANE_FIELD[field])
    return rng.choice(INT_VALUES)


def _random_schedule(rng):
    fields = []
    for f in SCHED_FIELDS:
        if f in ("block_m", "block_n") or rng.random() < 0.3:
            fields.append("%s = %d" % (f, _field_value(rng, f)))
    if rng.random() < 0.6:
        fields.append('chip = "%s"' % rng.choice(CHIPS))
    return "#attn.schedule<%s>" % ", ".join(fields)


def _op_statement_colon(text, start):
    """Index of the ' : ' that starts the type list of the op at start."""
    depth = 0
    i = start
    while i < len(text):
        c = text[i]
        if c in "<({[":
            depth += 1
        elif c in ">)}]":
            if not (c == ">" and i > 0 and text[i - 1] == "-"):
                depth -= 1
        elif c == ":" and depth <= 0 and text[i - 1:i] == " " and text[i + 1:i + 2] == " ":
            return i - 1
        i += 1
    return -1


ADD_ATTRS = {
    "attention": ["causal", "scale = {F} : f32", "softcap = {F} : f32",
                  "window = array<i64: {I}, {I}>", "window = array<i64: {I}>",
                  "schedule = {S}"],
    "softmax": ["schedule = {S}"],
    "log_softmax": ["schedule = {S}"],
    "logsumexp": ["schedule = {S}"],
    "cross_entropy": ["ignore_index = {I} : i64", "label_smoothing = {F} : f32",
                      "z_loss = {F} : f32", "softcap = {F} : f32",
                      "reduction = #attn.reduction<{R}>", "schedule = {S}"],
    "linear_cross_entropy": ["ignore_index = {I} : i64", "label_smoothing = {F} : f32",
                             "z_loss = {F} : f32", "softcap = {F} : f32",
                             "reduction = #attn.reduction<{R}>", "schedule = {S}"],
}
EXTRA_ATTRS = ["foo = 1 : i64", "causal = false", "scale = {F} : f64", "scale = 1 : i32",
               "dim = {I} : i64", "schedule = 1 : i64", "window = array<i32: 1, 2>"]


def _fill(rng, tmpl):
    out = tmpl
    while "{I}" in out:
        out = out.replace("{I}", str(rng.choice(INT_VALUES)), 1)
    out = out.replace("{F}", rng.choice(FLOAT_VALUES))
    out = out.replace("{R}", rng.choice(REDUCTIONS))
    out = out.replace("{S}", _random_schedule(rng))
    return out


def m_add_attr(rng, text):
    ms = list(ATTN_OP_RE.finditer(text))
    if not ms:
        return None
    m = rng.choice(ms)
    op = m.group(1)
    tmpl = rng.choice(ADD_ATTRS[op] + ([rng.choice(EXTRA_ATTRS)] if rng.random() < 0.2 else []))
    attr = _fill(rng, tmpl)
    colon = _op_statement_colon(text, m.end())
    if colon < 0:
        return None
    seg = text[m.end():colon]
    # Does the op have an attribute dict already (a '{' outside <...>)?
    brace = -1
    depth = 0
    for i, c in enumerate(seg):
        if c == "<":
            depth += 1
        elif c == ">" and seg[i - 1:i] != "-":
            depth -= 1
        elif c == "{" and depth == 0:
            brace = i
            break
    if brace >= 0:
        pos = m.end() + brace + 1
        return text[:pos] + attr + ", " + text[pos:], "add_attr %s {%s,...}" % (op, attr)
    return text[:colon] + " {" + attr + "}" + text[colon:], "add_attr %s {%s}" % (op, attr)


def m_schedule(rng, text):
    ms = list(SCHED_RE.finditer(text))
    if not ms:
        return m_add_sched(rng, text)
    m = rng.choice(ms)
    fields = [f.strip() for f in m.group(1).split(",") if f.strip()]
    r = rng.random()
    what = ""
    if r < 0.45 and fields:  # change a value
        i = rng.randrange(len(fields))
        k = fields[i].split("=")[0].strip()
        if k == "chip":
            fields[i] = 'chip = "%s"' % rng.choice(CHIPS)
        else:
            fields[i] = "%s = %d" % (k, _field_value(rng, k))
        what = "set " + fields[i]
    elif r < 0.6 and fields:  # remove a field
        i = rng.randrange(len(fields))
        what = "drop " + fields.pop(i)
    elif r < 0.8:  # add a field (maybe a duplicate or an unknown one)
        k = rng.choice(SCHED_FIELDS + ["chip", "bogus"])
        f = 'chip = "%s"' % rng.choice(CHIPS) if k == "chip" else \
            "%s = %d" % (k, _field_value(rng, k))
        fields.insert(rng.randrange(len(fields) + 1), f)
        what = "add " + f
    elif r < 0.9 and len(fields) > 1:  # reorder
        rng.shuffle(fields)
        what = "shuffle"
    else:
        new = _random_schedule(rng)
        return text[:m.start()] + new + text[m.end():], "schedule %s" % new
    new = "#attn.schedule<%s>" % ", ".join(fields)
    return text[:m.start()] + new + text[m.end():], "schedule %s" % what


# Schedules the seeds put on each op ({op: [text]}), filled by collect_seeds:
# transplanted onto other shapes and chips they are often still legal, so
# the passes see them, not only the verifiers.
SCHED_POOL = {}


def note_schedules(text):
    for m in ATTN_OP_RE.finditer(text):
        colon = _op_statement_colon(text, m.end())
        if colon < 0:
            continue
        for sm in SCHED_RE.finditer(text[m.end():colon]):
            pool = SCHED_POOL.setdefault(m.group(1), [])
            if sm.group(0) not in pool:
                pool.append(sm.group(0))


def m_add_sched(rng, text):
    """Give an attn op a schedule (replacing the one it has): one that a seed
    puts on the same op, or a random one."""
    ms = list(ATTN_OP_RE.finditer(text))
    if not ms:
        return None
    m = rng.choice(ms)
    colon = _op_statement_colon(text, m.end())
    if colon < 0:
        return None
    pool = SCHED_POOL.get(m.group(1))
    if pool and rng.random() < 0.6:
        sched = rng.choice(pool)
        if rng.random() < 0.3:
            sched = re.sub(r'chip = "[^"]*"', 'chip = "%s"' % rng.choice(CHIPS[:9]), sched)
    else:
        sched = _random_schedule(rng)
    attr = "schedule = " + sched
    seg = text[m.end():colon]
    old = SCHED_RE.search(seg)
    if old:
        s0, e0 = m.end() + old.start(), m.end() + old.end()
        return text[:s0] + sched + text[e0:], "set_sched %s" % sched
    if "{" in seg:
        pos = m.end() + seg.index("{") + 1
        return text[:pos] + attr + ", " + text[pos:], "add_sched %s" % attr
    return text[:colon] + " {" + attr + "}" + text[colon:], "add_sched %s" % attr


def m_reduction(rng, text):
    ms = list(re.finditer(r"#attn\.reduction<(\w*)>", text))
    if not ms:
        return None
    m = rng.choice(ms)
    new = rng.choice([r for r in REDUCTIONS if r != m.group(1)])
    return text[:m.start(1)] + new + text[m.end(1):], "reduction %s->%s" % (m.group(1), new)


def m_chip_anywhere(rng, text):
    ms = list(re.finditer(r'chip = "([^"]*)"', text))
    if not ms:
        return None
    m = rng.choice(ms)
    new = rng.choice([c for c in CHIPS if c != m.group(1)])
    return text[:m.start(1)] + new + text[m.end(1):], "chip %s->%s" % (m.group(1), new)


def m_operand_swap(rng, text):
    lines = text.splitlines(True)
    cands = []
    for i, line in enumerate(lines):
        if "=" not in line:
            continue
        rhs_at = line.index("=") + 1
        ops = [(m.start() + rhs_at, m.end() + rhs_at)
               for m in re.finditer(r"%[\w$.-]+(?:#\d+)?", line[rhs_at:])]
        names = set(line[s:e] for s, e in ops)
        if len(names) >= 2:
            cands.append((i, ops))
    if not cands:
        return None
    i, ops = rng.choice(cands)
    line = lines[i]
    a, b = rng.sample(range(len(ops)), 2)
    if a > b:
        a, b = b, a
    (sa, ea), (sb, eb) = ops[a], ops[b]
    if line[sa:ea] == line[sb:eb]:
        return None
    lines[i] = line[:sa] + line[sb:eb] + line[ea:sb] + line[sa:ea] + line[eb:]
    return "".join(lines), "operand_swap line %d %s<->%s" % (i + 1, line[sa:ea], line[sb:eb])


def m_type_swap(rng, text):
    ms = list(re.finditer(r"\b(?:tensor|memref|vector)<[^<>]*>", text))
    if len(ms) < 2:
        return None
    a, b = rng.sample(range(len(ms)), 2)
    if a > b:
        a, b = b, a
    ma, mb = ms[a], ms[b]
    if ma.group(0) == mb.group(0):
        return None
    return (text[:ma.start()] + mb.group(0) + text[ma.end():mb.start()] + ma.group(0) +
            text[mb.end():]), "type_swap %s<->%s" % (ma.group(0), mb.group(0))


def _tokens(text):
    return [m for m in TOKEN_RE.finditer(text)]


def m_token_delete(rng, text):
    toks = _tokens(text)
    if not toks:
        return None
    m = rng.choice(toks)
    return text[:m.start()] + text[m.end():], "token_delete@%d %r" % (m.start(), m.group(0))


def m_token_dup(rng, text):
    toks = _tokens(text)
    if not toks:
        return None
    m = rng.choice(toks)
    return text[:m.end()] + " " + m.group(0) + text[m.end():], "token_dup@%d %r" % (
        m.start(), m.group(0))


def m_token_replace(rng, text):
    toks = _tokens(text)
    if len(toks) < 2:
        return None
    a, b = rng.sample(toks, 2)
    return text[:a.start()] + b.group(0) + text[a.end():], "token_replace@%d %r->%r" % (
        a.start(), a.group(0), b.group(0))


def m_line_delete(rng, text):
    lines = text.splitlines(True)
    if len(lines) < 2:
        return None
    i = rng.randrange(len(lines))
    return "".join(lines[:i] + lines[i + 1:]), "line_delete %d" % (i + 1)


def m_line_dup(rng, text):
    lines = text.splitlines(True)
    if not lines:
        return None
    i = rng.randrange(len(lines))
    j = rng.randrange(len(lines) + 1)
    lines.insert(j, lines[i])
    return "".join(lines), "line_dup %d->%d" % (i + 1, j + 1)


def m_truncate(rng, text):
    if len(text) < 2:
        return None
    n = rng.randrange(1, len(text))
    return text[:n], "truncate %d/%d" % (n, len(text))


# Weights: mutations that keep a mutant verifiable often come first, so
# that the passes (not only the parser and the verifiers) see most mutants.
MUTATORS = [
    (m_type_all, 5), (m_type_whole, 8), (m_type_one, 2), (m_dim_all, 12),
    (m_dim_one, 2), (m_rank, 1), (m_int_attr, 8), (m_float_attr, 6), (m_number, 5),
    (m_add_attr, 8), (m_schedule, 10), (m_add_sched, 5), (m_reduction, 2),
    (m_chip_anywhere, 3), (m_operand_swap, 3), (m_type_swap, 1), (m_token_delete, 1),
    (m_token_dup, 1), (m_token_replace, 1), (m_line_delete, 1), (m_line_dup, 1),
    (m_truncate, 1),
]
_MUT_FUNCS = [f for f, _ in MUTATORS]
_MUT_WEIGHTS = [w for _, w in MUTATORS]


class Mutant:
    __slots__ = ("index", "origin", "text", "mutations")

    def __init__(self, index, origin, text, mutations):
        self.index, self.origin, self.text, self.mutations = index, origin, text, mutations


def make_mutant(seed, index, groups):
    rng = random.Random("attn-fuzz/%s/%d" % (seed, index))
    files = sorted(groups)
    want_valid = rng.random() < 0.85
    for _ in range(4):
        f = rng.choice(files)
        pool = [s for s in groups[f] if s.valid == want_valid] or groups[f]
        if pool:
            break
    base = rng.choice(pool)
    text = base.text
    n = rng.choices([1, 2, 3, 4], weights=[60, 25, 10, 5])[0]
    done = []
    for _ in range(n):
        for _attempt in range(12):
            fn = rng.choices(_MUT_FUNCS, weights=_MUT_WEIGHTS)[0]
            res = fn(rng, text)
            if res is not None and res[0] != text:
                text = res[0]
                done.append(res[1])
                break
    return Mutant(index, base.origin, text, done)


# ---------------------------------------------------------------------------
# Running and classifying
# ---------------------------------------------------------------------------

CRASH_MARKERS = [
    "PLEASE submit a bug report", "Stack dump:", "LLVM ERROR", "Assertion `",
    "UNREACHABLE executed", "terminate called", "Segmentation fault",
    "AddressSanitizer", "std::bad_alloc", "out of memory", "Aborted",
]
GENERIC_FRAMES = re.compile(
    r"llvm::sys::|SignalHandler|__restore_rt|PrintStackTrace|RunSignalHandlers|"
    r"^raise$|^abort$|__GI_|gsignal|pthread_kill|__pthread|libc\.so|"
    r"llvm::report_fatal_error|reportFatal|__cxa_|std::terminate|__gnu_cxx::|"
    r"llvm_unreachable_internal|__assert_fail|_start$|__libc_start")


def signal_name(rc):
    try:
        return signal.Signals(-rc).name
    except (ValueError, AttributeError):
        return "signal %d" % -rc


def normalize(s):
    s = re.sub(r"0x[0-9a-fA-F]+", "0x_", s)
    s = re.sub(r"\d+", "N", s)
    return s.strip()[:200]


def stack_frames(stderr):
    frames = []
    for line in stderr.splitlines():
        m = re.match(r"\s*#\d+\s+0x[0-9a-fA-F]+\s+(.*)$", line)
        if not m:
            continue
        fr = m.group(1).strip()
        fr = re.sub(r"\s+\+\s+\d+$", "", fr)          # " + 123"
        fr = re.sub(r"\s+\(/[^)]*\)$", "", fr)        # " (/path/lib.so+0x...)"
        frames.append(fr)
    return frames


def short_frame(fr):
    # "mlir::foo::bar(int, ...) const" -> "mlir::foo::bar"; keep templates short.
    depth, out = 0, []
    for c in fr:
        if c == "<":
            depth += 1
            if depth == 1:
                out.append("<>")
            continue
        if c == ">":
            depth = max(0, depth - 1)
            continue
        if depth:
            continue
        if c == "(" and out and out[-1] not in ("operator",):
            break
        out.append(c)
    s = "".join(out).strip()
    return s or fr[:80]


def crash_signature(rc, stderr):
    parts = []
    if rc < 0:
        parts.append(signal_name(rc))
    m = re.search(r"LLVM ERROR: ?(.*)", stderr)
    if m:
        parts.append("LLVM ERROR: " + normalize(m.group(1)))
    m = re.search(r"Assertion `(.*)' failed", stderr)
    if m:
        parts.append("Assertion: " + normalize(m.group(1)))
    m = re.search(r"terminate called (.*)", stderr)
    if m:
        parts.append("terminate called " + normalize(m.group(1)))
    frames = [short_frame(f) for f in stack_frames(stderr)]
    useful = [f for f in frames if not GENERIC_FRAMES.search(f)]
    # Prefer symbolized frames: "(lib.so+0x...)" offsets say less and change
    # with every build of the library.
    named = [f for f in useful if not f.startswith("(")]
    useful = named or useful
    if useful:
        parts.append(" <- ".join(useful[:3]))
    if not parts:
        parts.append("exit %d with crash text" % rc)
    return " | ".join(parts)


def first_error(stderr):
    for line in stderr.splitlines():
        if "error:" in line:
            return line[line.index("error:"):]
    lines = [l for l in stderr.splitlines() if l.strip()]
    return lines[0] if lines else ""


def has_crash_text(stderr):
    return any(k in stderr for k in CRASH_MARKERS)


class Runner:
    def __init__(self, attn_opt, workdir, timeout, mem_mb):
        self.attn_opt = attn_opt
        self.workdir = workdir
        self.timeout = timeout
        self.mem_mb = mem_mb
        self._n = 0
        self._lock = threading.Lock()
        self.invocations = 0

    def fresh_dir(self):
        with self._lock:
            self._n += 1
            d = os.path.join(self.workdir, "r%d" % self._n)
        os.makedirs(d)
        return d

    def command(self, pipeline, input_path, output_path, pkg_dir):
        args = [a.replace("PKG", pkg_dir) for a in PIPELINE_ARGS[pipeline]]
        return [self.attn_opt, input_path] + COMMON_ARGS + args + ["-o", output_path]

    def exec(self, cmd, timeout=None):
        with self._lock:
            self.invocations += 1
        t0 = time.monotonic()
        try:
            p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=timeout or self.timeout)
            rc, out, err, hung = p.returncode, p.stdout, p.stderr, False
        except subprocess.TimeoutExpired as e:
            rc, out, err, hung = None, e.stdout or b"", e.stderr or b"", True
        dt = time.monotonic() - t0
        err = err.decode("utf-8", "replace")
        # Keep the head (the first diagnostic, which classifies the run) and
        # the tail (a stack trace) of a long stderr; an IR dump after an
        # error once pushed the "error:" line out of a tail-only window.
        if len(err) > 40000:
            err = err[:20000] + "\n[...]\n" + err[-20000:]
        return rc, out.decode("utf-8", "replace"), err, hung, dt

    def run_one(self, pipeline, text, verified=None, timeout=None):
        """Run text through pipeline; returns a result dict."""
        d = self.fresh_dir()
        try:
            inp = os.path.join(d, "input.mlir")
            with open(inp, "w") as f:
                f.write(text)
            outp = os.path.join(d, "out.mlir")
            pkg = os.path.join(d, "pkg")
            cmd = self.command(pipeline, inp, outp, pkg)
            rc, _, err, hung, dt = self.exec(cmd, timeout)
            res = {"pipeline": pipeline, "rc": rc, "stderr": err, "time": dt,
                   "cmd": cmd, "detail": ""}
            if hung:
                res["class"] = "hang"
                res["sig"] = "timeout after %gs" % (timeout or self.timeout)
                return res
            if rc < 0 or has_crash_text(err):
                res["class"] = "crash"
                res["sig"] = crash_signature(rc, err)
                return res
            if rc != 0:
                if "error:" in err:
                    res["class"] = "error"
                    res["sig"] = normalize(first_error(err))
                else:
                    res["class"] = "bad"
                    res["sig"] = "exit %d without an error diagnostic" % rc
                return res
            # Exit 0.
            if "error:" in err:
                res["class"] = "bad"
                res["sig"] = "exit 0 after an error diagnostic: " + normalize(first_error(err))
                return res
            if os.path.isdir(pkg) and os.path.exists(os.path.join(pkg, "manifest.json")):
                try:
                    with open(os.path.join(pkg, "manifest.json")) as f:
                        json.load(f)
                except (ValueError, OSError) as e:
                    res["class"] = "bad"
                    res["sig"] = "invalid manifest.json: " + normalize(str(e))
                    return res
            try:
                with open(outp, "rb") as f:
                    out_bytes = f.read()
            except OSError:
                res["class"] = "bad"
                res["sig"] = "exit 0 but no output file"
                return res
            h = hashlib.sha1(out_bytes).hexdigest()
            if verified is not None and h in verified:
                res["class"] = "clean"
                return res
            vcmd = [self.attn_opt, outp] + COMMON_ARGS + ["-o", os.devnull]
            vrc, _, verr, vhung, vdt = self.exec(vcmd, timeout)
            res["time"] += vdt
            if vhung or vrc != 0 or has_crash_text(verr):
                res["class"] = "bad"
                if vhung:
                    why = "re-parse hangs"
                elif vrc < 0 or has_crash_text(verr):
                    why = "re-parse crashes: " + crash_signature(vrc, verr)
                else:
                    why = "output does not re-parse: " + normalize(first_error(verr))
                res["sig"] = why
                res["detail"] = verr[-4000:]
                res["output"] = out_bytes.decode("utf-8", "replace")
                return res
            if verified is not None:
                verified.add(h)
            res["class"] = "clean"
            return res
        finally:
            shutil.rmtree(d, ignore_errors=True)


def run_mutant(runner, mutant, pipelines, all_pipelines):
    results = []
    verified = set()
    gate_rejected = False
    for p in pipelines:
        if gate_rejected:
            results.append({"pipeline": p, "class": "skipped"})
            continue
        r = runner.run_one(p, mutant.text, verified)
        results.append(r)
        if p == "parse" and r["class"] == "error" and not all_pipelines:
            gate_rejected = True
    return results


# ---------------------------------------------------------------------------
# Reduction
# ---------------------------------------------------------------------------

def reduce_lines(runner, pipeline, text, cls, sig, attempts):
    """ddmin over lines, keeping (class, signature). Returns (text, runs)."""
    used = 0

    def still_fails(cand_lines):
        nonlocal used
        used += 1
        r = runner.run_one(pipeline, "".join(cand_lines))
        return r["class"] == cls and r.get("sig") == sig

    # First keep a single top-level function (with the aliases), if one
    # fails alone.
    items = top_level_items(text)
    aliases = [it for it in items if it.lstrip()[:1] in ("#", "!")]
    others = [it for it in items if it not in aliases]
    if len(others) > 1:
        for it in others:
            if used >= attempts:
                break
            cand = "".join(aliases) + it
            if still_fails(cand.splitlines(True)):
                text = cand
                break
    lines = text.splitlines(True)

    n = 2
    while len(lines) >= 2 and used < attempts:
        chunk = max(1, len(lines) // n)
        removed = False
        i = 0
        while i < len(lines) and used < attempts:
            cand = lines[:i] + lines[i + chunk:]
            if cand and still_fails(cand):
                lines = cand
                removed = True
            else:
                i += chunk
        if not removed:
            if chunk == 1:
                break
            n = min(len(lines), n * 2)
    return "".join(lines), used


# ---------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------

def write_failure(out_dir, num, fail, runner, reduce_attempts, seed):
    r, mutant = fail["result"], fail["mutant"]
    name = "%02d-%s-%s" % (num, r["class"], r["pipeline"])
    d = os.path.join(out_dir, "failures", name)
    os.makedirs(d, exist_ok=True)
    inp = os.path.join(d, "input.mlir")
    with open(inp, "w") as f:
        f.write(mutant.text)
    reduced_text, used = mutant.text, 0
    if reduce_attempts > 0 and r["class"] != "hang":
        reduced_text, used = reduce_lines(runner, r["pipeline"], mutant.text, r["class"],
                                          r["sig"], reduce_attempts)
    with open(os.path.join(d, "reduced.mlir"), "w") as f:
        f.write(reduced_text)
    with open(os.path.join(d, "stderr.txt"), "w") as f:
        f.write(r.get("stderr", ""))
        if r.get("detail"):
            f.write("\n--- re-parse of the output ---\n" + r["detail"])
    if r.get("output") is not None:
        with open(os.path.join(d, "output.mlir"), "w") as f:
            f.write(r["output"])
    args = [a.replace("PKG", "pkg") for a in PIPELINE_ARGS[r["pipeline"]]]
    cmd = shlex.join([runner.attn_opt, "reduced.mlir"] + COMMON_ARGS + args)
    with open(os.path.join(d, "command.sh"), "w") as f:
        f.write("#!/bin/sh\n# %s in pipeline %s: %s\n" % (r["class"], r["pipeline"], r["sig"]))
        f.write("# mutant %d of seed %s, from %s by: %s\n" % (
            mutant.index, seed, mutant.origin, "; ".join(mutant.mutations)))
        f.write('cd "$(dirname "$0")"\n')
        f.write(cmd + "\n")
        if r["class"] == "bad":
            f.write("# then re-parse the output:\n# %s\n" % shlex.join(
                [runner.attn_opt, "out.mlir"]))
    info = {"class": r["class"], "pipeline": r["pipeline"], "signature": r["sig"],
            "pipelines": sorted(fail["pipelines"]), "count": fail["count"],
            "seed": seed, "mutant": mutant.index, "origin": mutant.origin,
            "mutations": mutant.mutations, "command": cmd,
            "reduction_runs": used, "input_lines": mutant.text.count("\n"),
            "reduced_lines": reduced_text.count("\n")}
    with open(os.path.join(d, "info.json"), "w") as f:
        json.dump(info, f, indent=1)
    return d, info


def stack_head(stderr, n=6):
    lines = stderr.splitlines()
    out = []
    for i, l in enumerate(lines):
        if "LLVM ERROR" in l or "Assertion" in l or "Stack dump" in l or \
                re.match(r"\s*#\d+\s+0x", l) or "terminate called" in l:
            out.append(l.rstrip())
    frames = [l for l in out if re.match(r"\s*#\d+", l)]
    heads = [l for l in out if not re.match(r"\s*#\d+", l)][:2]
    useful = [l for l in frames if not GENERIC_FRAMES.search(l)]
    named = [l for l in useful
             if not re.match(r"\s*#\d+\s+0x[0-9a-fA-F]+\s+\(", l)]
    return heads + (named or useful)[:n]


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------

class Known:
    """A line of a known-failures file:
    CLASS | PIPELINES | SIGNATURE SUBSTRING | REPRODUCER | NOTE
    PIPELINES is '*' or a comma-separated list; REPRODUCER is relative to
    the source root."""

    def __init__(self, line, where):
        parts = [x.strip() for x in line.split("|")]
        if len(parts) < 4 or parts[0] not in FAILURES or not parts[2]:
            raise ValueError("%s: expected 'CLASS | PIPELINES | SIGNATURE | "
                             "REPRODUCER [| NOTE]' with CLASS one of %s" % (
                                 where, ", ".join(FAILURES)))
        self.cls, self.sig, self.repro = parts[0], parts[2], parts[3]
        self.pipelines = None if parts[1] == "*" else set(
            x.strip() for x in parts[1].split(","))
        self.note = parts[4] if len(parts) > 4 else ""
        self.where = where
        self.count = 0
        self.pipes_seen = set()

    def matches(self, cls, pipeline, sig):
        return cls == self.cls and self.sig in sig and (
            self.pipelines is None or pipeline in self.pipelines)


def load_known(paths):
    known = []
    for path in paths or []:
        with open(path) as f:
            for n, line in enumerate(f, 1):
                line = line.strip()
                if line and not line.startswith("#"):
                    known.append(Known(line, "%s:%d" % (path, n)))
    return known


def find_attn_opt(src_root):
    if os.environ.get("ATTN_OPT"):
        return os.environ["ATTN_OPT"]
    cand = os.path.join(src_root, "build", "bin", "attn-opt")
    if os.access(cand, os.X_OK):
        return cand
    return shutil.which("attn-opt") or cand


def replay_inputs(paths):
    files = []
    for p in paths:
        if os.path.isdir(p):
            for dp, dn, fn in os.walk(p):
                dn.sort()
                files += [os.path.join(dp, f) for f in sorted(fn) if f.endswith(".mlir")]
        else:
            files.append(p)
    return files


def main(argv=None):
    ap = argparse.ArgumentParser(description="Mutation fuzzer for attn-opt (see the docstring).")
    ap.add_argument("--seed", default="1")
    ap.add_argument("--runs", type=int, default=None,
                    help="stop after this many pipeline runs (rounded up to whole mutants)")
    ap.add_argument("--mutants", type=int, default=None)
    ap.add_argument("--seconds", type=float, default=None,
                    help="stop starting mutants after this long (not deterministic)")
    ap.add_argument("-j", "--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=20.0)
    ap.add_argument("--mem-mb", type=int, default=4096)
    ap.add_argument("--attn-opt", default=None)
    ap.add_argument("--src-root", default=None)
    ap.add_argument("--inputs", nargs="*", default=None,
                    help="seed files or directories instead of SRC/test")
    ap.add_argument("--pipelines", default=None, help="comma-separated subset")
    ap.add_argument("--all-pipelines", action="store_true",
                    help="also run the pipelines on mutants the plain parse rejects")
    ap.add_argument("--reduce-attempts", type=int, default=100)
    ap.add_argument("--out", default=None)
    ap.add_argument("--replay", nargs="+", default=None, metavar="FILE_OR_DIR")
    ap.add_argument("--known-failures", action="append", default=None, metavar="FILE",
                    help="failures already reported (CLASS | PIPELINES | SIGNATURE | "
                         "REPRODUCER [| NOTE] a line): counted and listed as known, not "
                         "as new; with --replay, a listed reproducer that no longer "
                         "fails is an error (update the list)")
    ap.add_argument("--show-mutant", type=int, default=None)
    ap.add_argument("--list-seeds", action="store_true")
    ap.add_argument("--list-pipelines", action="store_true")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)

    here = os.path.dirname(os.path.abspath(__file__))
    src_root = os.path.abspath(args.src_root or os.path.join(here, "..", ".."))
    attn_opt = args.attn_opt or find_attn_opt(src_root)
    if os.sep in attn_opt:
        attn_opt = os.path.abspath(attn_opt)
    pipelines = [p for p, _ in PIPELINES]
    if args.pipelines:
        want = [p.strip() for p in args.pipelines.split(",") if p.strip()]
        bad = [p for p in want if p not in PIPELINE_ARGS]
        if bad:
            ap.error("unknown pipeline(s): %s (see --list-pipelines)" % ", ".join(bad))
        pipelines = [p for p in pipelines if p in want]
        if "parse" not in pipelines:
            pipelines.insert(0, "parse")

    if args.list_pipelines:
        for p in pipelines:
            print("%-20s attn-opt FILE %s" % (p, shlex.join(COMMON_ARGS + PIPELINE_ARGS[p])))
        print(NOT_RUN)
        return 0

    if args.replay is None:
        groups = collect_seeds(src_root, args.inputs)
        nseeds = sum(len(v) for v in groups.values())
        if not nseeds:
            print("attn-fuzz: error: no seed inputs (MLIR files with attn. ops) under %s"
                  % (args.inputs or os.path.join(src_root, "test")), file=sys.stderr)
            return 2
        if args.list_seeds:
            for f in sorted(groups):
                for s in groups[f]:
                    print("%s%s (%d lines)" % (s.origin, "" if s.valid else " [invalid]",
                                               s.text.count("\n")))
            print("attn-fuzz: %d seeds from %d files" % (nseeds, len(groups)))
            return 0
        if args.show_mutant is not None:
            m = make_mutant(args.seed, args.show_mutant, groups)
            print("// mutant %d of seed %s, from %s by: %s" % (
                m.index, args.seed, m.origin, "; ".join(m.mutations)))
            sys.stdout.write(m.text)
            return 0

    if not (os.access(attn_opt, os.X_OK) or shutil.which(attn_opt)):
        print("attn-fuzz: error: attn-opt not found: %s" % attn_opt, file=sys.stderr)
        return 2

    # Children inherit the address-space limit: a runaway allocation is an
    # out-of-memory crash, not a swapping machine.
    if args.mem_mb > 0:
        lim = args.mem_mb * 1024 * 1024
        try:
            resource.setrlimit(resource.RLIMIT_AS, (lim, lim))
        except (ValueError, OSError):
            pass

    workdir = tempfile.mkdtemp(prefix="attn-fuzz-")
    runner = Runner(attn_opt, workdir, args.timeout, args.mem_mb)
    out_dir = args.out
    out_is_temp = out_dir is None
    if out_is_temp:
        out_dir = tempfile.mkdtemp(prefix="attn-fuzz-out-")
    os.makedirs(out_dir, exist_ok=True)

    try:
        known = load_known(args.known_failures)
    except (OSError, ValueError) as e:
        print("attn-fuzz: error: %s" % e, file=sys.stderr)
        return 2
    known_by_file = {}  # replay: origin -> set of known entries seen there

    t0 = time.monotonic()
    stats = {p: {c: 0 for c in CLASSES} for p in pipelines}
    failures = {}  # (class, sig) -> {"result", "mutant", "count", "pipelines"}
    nruns = 0
    nmutants = 0
    rejected = 0

    def absorb(mutant, results):
        nonlocal nruns, nmutants, rejected
        nmutants += 1
        for r in results:
            c = r["class"]
            stats[r["pipeline"]][c] += 1
            if c != "skipped":
                nruns += 1
            if c in FAILURES:
                k = next((k for k in known if k.matches(c, r["pipeline"], r["sig"])), None)
                if k is not None:
                    stats[r["pipeline"]][c] -= 1
                    stats[r["pipeline"]]["known"] += 1
                    if k.count == 0:
                        print("attn-fuzz: known %s in %s (mutant %d, %s): %s" % (
                            c, r["pipeline"], mutant.index, mutant.origin, r["sig"]),
                            flush=True)
                    k.count += 1
                    k.pipes_seen.add(r["pipeline"])
                    known_by_file.setdefault(mutant.origin, set()).add(k)
                    continue
                key = (c, r["sig"])
                f = failures.get(key)
                if f is None:
                    f = failures[key] = {"result": r, "mutant": mutant, "count": 0,
                                         "pipelines": set()}
                    print("attn-fuzz: NEW %s in %s (mutant %d, %s): %s" % (
                        c, r["pipeline"], mutant.index, mutant.origin, r["sig"]), flush=True)
                elif args.verbose:
                    print("attn-fuzz: %s in %s (mutant %d): %s" % (
                        c, r["pipeline"], mutant.index, r["sig"]), flush=True)
                f["count"] += 1
                f["pipelines"].add(r["pipeline"])
        if results and results[0]["pipeline"] == "parse" and \
                any(r["class"] == "skipped" for r in results):
            rejected += 1

    if args.replay is not None:
        files = replay_inputs(args.replay)
        mutants = []
        for i, path in enumerate(files):
            with open(path, encoding="utf-8", errors="replace") as f:
                mutants.append(Mutant(i, os.path.abspath(path), f.read(), []))
        nseeds = len(files)
        ngroups = len(files)
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as ex:
            futs = [ex.submit(run_mutant, runner, m, pipelines, True) for m in mutants]
            for m, fu in zip(mutants, futs):
                absorb(m, fu.result())
    else:
        ngroups = len(groups)
        budget_mutants = args.mutants
        if budget_mutants is None and args.runs is None and args.seconds is None:
            budget_mutants = 50
        window = max(1, args.jobs) * 2
        next_index = 0
        pending = {}
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as ex:
            def can_start():
                if budget_mutants is not None and next_index >= budget_mutants:
                    return False
                if args.seconds is not None and time.monotonic() - t0 >= args.seconds:
                    return False
                return True

            done_index = 0
            stop = False
            while True:
                while not stop and len(pending) < window and can_start():
                    m = make_mutant(args.seed, next_index, groups)
                    pending[next_index] = (m, ex.submit(run_mutant, runner, m, pipelines,
                                                        args.all_pipelines))
                    next_index += 1
                if done_index not in pending:
                    break
                m, fu = pending.pop(done_index)
                results = fu.result()
                if not stop:
                    absorb(m, results)
                    if args.runs is not None and nruns >= args.runs:
                        stop = True  # later mutants are dropped: deterministic
                done_index += 1
                if stop:
                    for _, (_, f2) in pending.items():
                        f2.cancel()
                    # Wait for those in flight, dropping their results.
                    for _, (_, f2) in list(pending.items()):
                        if not f2.cancelled():
                            try:
                                f2.result()
                            except Exception:
                                pass
                    pending.clear()
                    break

    fuzz_time = time.monotonic() - t0

    # Reproducers.
    written = []
    ordered = sorted(failures.items(), key=lambda kv: (FAILURES.index(kv[0][0]),
                                                       -kv[1]["count"], kv[0][1]))
    for num, (key, fail) in enumerate(ordered, 1):
        d, info = write_failure(out_dir, num, fail, runner, args.reduce_attempts, args.seed)
        written.append((d, info, fail))

    total = time.monotonic() - t0
    shutil.rmtree(workdir, ignore_errors=True)

    # Summary.
    if args.replay is not None:
        print("attn-fuzz: replay of %d inputs (no mutation), %d pipelines, %d jobs, "
              "%.1f s running + %.1f s reducing" % (
                  nseeds, len(pipelines), args.jobs, fuzz_time, total - fuzz_time))
    else:
        print("attn-fuzz: seed %s, %d inputs (seeds) from %d files, %d mutants, "
              "%d pipelines, %d jobs, %.1f s fuzzing + %.1f s reducing" % (
                  args.seed, nseeds, ngroups, nmutants, len(pipelines), args.jobs,
                  fuzz_time, total - fuzz_time))
    hdr = "%-20s %6s %6s %7s %7s %6s %5s %6s %8s" % (
        "pipeline", "runs", "clean", "errors", "crashes", "hangs", "bad", "known", "skipped")
    print("attn-fuzz: " + hdr)
    for p in pipelines:
        s = stats[p]
        runs = sum(s[c] for c in CLASSES if c != "skipped")
        print("attn-fuzz: %-20s %6d %6d %7d %7d %6d %5d %6d %8d" % (
            p, runs, s["clean"], s["error"], s["crash"], s["hang"], s["bad"], s["known"],
            s["skipped"]))
    if rejected:
        print("attn-fuzz: skipped: the pipelines after the plain parse of %d mutants that "
              "the parser or a verifier rejected (clean error); --all-pipelines runs them"
              % rejected)
    print("attn-fuzz: " + NOT_RUN)
    tot = {c: sum(stats[p][c] for p in pipelines) for c in CLASSES}
    for d, info, fail in written:
        print("attn-fuzz: FAILURE %s [%s] x%d: %s" % (
            info["class"], ",".join(info["pipelines"]), info["count"], info["signature"]))
        print("attn-fuzz:   reproducer %s (reduced %d -> %d lines)" % (
            d, info["input_lines"], info["reduced_lines"]))
        print("attn-fuzz:   %s" % info["command"])
        for l in stack_head(fail["result"].get("stderr", ""), 4):
            print("attn-fuzz:     %s" % l.strip())
    for k in known:
        if k.count:
            print("attn-fuzz: KNOWN %s [%s] x%d: %s (%s, reproducer %s)%s" % (
                k.cls, ",".join(sorted(k.pipes_seen)), k.count, k.sig, k.where, k.repro,
                ": " + k.note if k.note else ""))
    # Replay: a listed reproducer that no longer fails the listed way.
    fixed = []
    if args.replay is not None:
        for k in known:
            repro = os.path.abspath(os.path.join(src_root, k.repro))
            hit = k in known_by_file.get(repro, ())
            listed = any(m.origin == repro for m in mutants)
            if listed and not hit:
                fixed.append(k)
                print("attn-fuzz: FIXED? %s no longer gives the known %s '%s' (%s): "
                      "remove that line, keep the reproducer as a regression input" % (
                          k.repro, k.cls, k.sig, k.where))
    nknown = tot["known"]
    print("attn-fuzz: %d runs: %d clean, %d clean errors, %d crashes, %d hangs, "
          "%d bad outputs (%d distinct failures); %d known failures (%d distinct, "
          "listed above)" % (
              nruns, tot["clean"], tot["error"], tot["crash"], tot["hang"], tot["bad"],
              len(failures), nknown, sum(1 for k in known if k.count)))
    summary = {"seed": args.seed, "inputs": nseeds, "files": ngroups, "mutants": nmutants,
               "runs": nruns, "totals": tot, "per_pipeline": stats,
               "rejected_by_parse": rejected, "seconds": total,
               "failures": [info for _, info, _ in written],
               "known": [{"class": k.cls, "signature": k.sig, "count": k.count,
                          "reproducer": k.repro} for k in known if k.count],
               "fixed": [k.repro for k in fixed]}
    with open(os.path.join(out_dir, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    if failures:
        print("attn-fuzz: reproducers in %s" % os.path.join(out_dir, "failures"))
    elif out_is_temp:
        shutil.rmtree(out_dir, ignore_errors=True)
    return 1 if failures or fixed else 0


if __name__ == "__main__":
    sys.exit(main())
