"""The MLIR source of each differentiable op's forward and backward kernels.

A *signature* is everything that selects one compiled kernel package: the
op, its operands' shapes and element types, and its attributes. Each
signature class here writes the one-function MLIR module that
``attn-opt --attn-to-cubin`` compiles into that package, and nothing in this
module needs torch or a GPU, so the packages a program will need can be
listed and compiled on a machine without either (``python -m
attn_mlir.precompile``).

The forward functions also return the row log-sum-exp (the only state the
backward keeps, besides the inputs and the output); the backward functions
take it back. The backward kernels are the ``attn.*_grad`` ops of the
dialect (docs/Passes.md, include/attn/Dialect/Attn/IR/AttnOps.td).
"""

import dataclasses
import hashlib
import math
import struct
from dataclasses import dataclass
from typing import Optional, Sequence, Tuple

__all__ = ["FLOAT_DTYPES", "LABEL_DTYPES", "SignatureError", "Signature",
           "AttentionSignature", "SoftmaxSignature", "CrossEntropySignature",
           "LinearCrossEntropySignature", "to_dict", "from_dict"]

# The element types the ops take, by manifest name.
FLOAT_DTYPES = ("f16", "bf16", "f32")
LABEL_DTYPES = ("i32", "i64")
REDUCTIONS = ("none", "sum", "mean")
# The largest attribute the dialect accepts for a window side (2^31 - 1).
MAX_WINDOW = 2**31 - 1


class SignatureError(ValueError):
    """A call the ops cannot compile (shape, dtype or attribute)."""


def _tensor(shape: Sequence[int], dtype: str) -> str:
    dims = "".join(f"{d}x" for d in shape)
    return f"tensor<{dims}{dtype}>"


def _f32(value: float) -> str:
    """An f32 attribute that round-trips exactly: the value rounded to f32
    and printed with 9 significant digits."""
    rounded = struct.unpack("<f", struct.pack("<f", value))[0]
    return f"{rounded:.9e} : f32"


def _attributes(entries: Sequence[str]) -> str:
    return " {" + ", ".join(entries) + "}" if entries else ""


def _check_shape(what: str, shape: Sequence[int], rank: Optional[int] = None):
    if rank is not None and len(shape) != rank:
        raise SignatureError(f"{what} must have rank {rank}, got shape "
                             f"{tuple(shape)}")
    for d in shape:
        if not isinstance(d, int) or d < 1:
            raise SignatureError(f"{what} has shape {tuple(shape)}: every "
                                 f"dim must be a positive integer")


def _check_dtype(what: str, dtype: str, allowed: Sequence[str]):
    if dtype not in allowed:
        raise SignatureError(f"{what} has element type {dtype}; the op takes "
                             f"{', '.join(allowed)}")


def _check_positive_finite(what: str, value: Optional[float]):
    if value is not None and not (math.isfinite(value) and value > 0):
        raise SignatureError(f"{what} must be a finite number > 0, got "
                             f"{value}")


@dataclass(frozen=True)
class Signature:
    """Common part of the signatures: the function names and the key."""

    def op_name(self) -> str:
        raise NotImplementedError

    def forward_mlir(self) -> str:
        raise NotImplementedError

    def backward_mlir(self) -> str:
        raise NotImplementedError

    def mlir(self, direction: str) -> str:
        if direction == "forward":
            return self.forward_mlir()
        if direction == "backward":
            return self.backward_mlir()
        raise ValueError(f"direction must be forward or backward, got "
                         f"{direction!r}")

    def key(self, direction: str, chip: str) -> str:
        """The package's name: the op, the direction and a hash of the MLIR
        source and the chip (the compiler's identity is the cache
        directory's, see attn_mlir.compiler)."""
        digest = hashlib.sha256(
            f"{chip}\0{self.mlir(direction)}".encode()).hexdigest()[:24]
        return f"{self.op_name()}-{direction}-{digest}"

    @staticmethod
    def _module(name: str, args: Sequence[Tuple[str, str]],
                body: str, results: Sequence[Tuple[str, str]]) -> str:
        params = ", ".join(f"{n}: {t}" for n, t in args)
        result_types = ", ".join(t for _, t in results)
        values = ", ".join(n for n, _ in results)
        return (f"func.func @{name}({params}) -> ({result_types}) {{\n"
                f"{body}"
                f"  return {values} : {result_types}\n"
                f"}}\n")


@dataclass(frozen=True)
class AttentionSignature(Signature):
    """attn.attention / attn.attention_grad on q [B, Hq, M, D],
    k [B, Hkv, N, D], v [B, Hkv, N, Dv]."""
    query: Tuple[int, ...]
    key_shape: Tuple[int, ...]
    value: Tuple[int, ...]
    dtype: str
    causal: bool = False
    window: Optional[Tuple[int, int]] = None
    softcap: Optional[float] = None
    scale: Optional[float] = None

    def __post_init__(self):
        _check_dtype("attention: query, key and value", self.dtype,
                     FLOAT_DTYPES)
        for what, shape in (("query", self.query), ("key", self.key_shape),
                            ("value", self.value)):
            _check_shape(f"attention: {what}", shape, 4)
        (b, hq, _, d), (bk, hkv, n, dk) = self.query, self.key_shape
        bv, hv, nv, _ = self.value
        if bk != b or bv != b:
            raise SignatureError(f"attention: batch sizes differ: query "
                                 f"{b}, key {bk}, value {bv}")
        if hv != hkv or nv != n:
            raise SignatureError(f"attention: key {self.key_shape} and value "
                                 f"{self.value} differ in heads or length")
        if dk != d:
            raise SignatureError(f"attention: query head dim {d} != key head "
                                 f"dim {dk}")
        if hq % hkv:
            raise SignatureError(f"attention: {hq} query heads are not a "
                                 f"multiple of {hkv} key/value heads")
        if self.window is not None:
            if len(self.window) != 2 or not all(
                    isinstance(w, int) and 0 <= w <= MAX_WINDOW
                    for w in self.window):
                raise SignatureError(f"attention: window must be (left, "
                                     f"right) in [0, {MAX_WINDOW}], got "
                                     f"{self.window}")
        _check_positive_finite("attention: softcap", self.softcap)
        if self.scale is not None and not math.isfinite(self.scale):
            raise SignatureError(f"attention: scale must be finite, got "
                                 f"{self.scale}")

    def op_name(self) -> str:
        return "attention"

    @property
    def output(self) -> Tuple[int, ...]:
        b, hq, m, _ = self.query
        return (b, hq, m, self.value[3])

    @property
    def lse(self) -> Tuple[int, ...]:
        return tuple(self.query[:3])

    def _attributes(self) -> str:
        entries = []
        if self.scale is not None:
            entries.append(f"scale = {_f32(self.scale)}")
        if self.causal:
            entries.append("causal")
        if self.window is not None:
            entries.append(f"window = array<i64: {self.window[0]}, "
                           f"{self.window[1]}>")
        if self.softcap is not None:
            entries.append(f"softcap = {_f32(self.softcap)}")
        return _attributes(entries)

    def forward_mlir(self) -> str:
        q, k, v = (_tensor(s, self.dtype)
                   for s in (self.query, self.key_shape, self.value))
        o, lse = _tensor(self.output, self.dtype), _tensor(self.lse, "f32")
        body = (f"  %o, %lse = attn.attention %q, %k, %v{self._attributes()}"
                f"\n      : {q}, {k}, {v} -> {o}, {lse}\n")
        return self._module("attention_forward",
                            [("%q", q), ("%k", k), ("%v", v)], body,
                            [("%o", o), ("%lse", lse)])

    def backward_mlir(self) -> str:
        q, k, v = (_tensor(s, self.dtype)
                   for s in (self.query, self.key_shape, self.value))
        o, lse = _tensor(self.output, self.dtype), _tensor(self.lse, "f32")
        body = (f"  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse,"
                f" %do{self._attributes()}\n"
                f"      : {q}, {k}, {v}, {o}, {lse}, {o} -> {q}, {k}, {v}\n")
        return self._module(
            "attention_backward",
            [("%q", q), ("%k", k), ("%v", v), ("%o", o), ("%lse", lse),
             ("%do", o)], body, [("%dq", q), ("%dk", k), ("%dv", v)])


@dataclass(frozen=True)
class SoftmaxSignature(Signature):
    """attn.softmax / log_softmax / logsumexp along `dim`, and their
    gradients (softmax_grad and log_softmax_grad from the output,
    logsumexp_grad from the input and the output)."""
    op: str
    shape: Tuple[int, ...]
    dim: int
    dtype: str

    def __post_init__(self):
        if self.op not in ("softmax", "log_softmax", "logsumexp"):
            raise SignatureError(f"unknown softmax-family op {self.op!r}")
        _check_dtype(f"{self.op}: the input", self.dtype, FLOAT_DTYPES)
        _check_shape(f"{self.op}: the input", self.shape)
        if not self.shape:
            raise SignatureError(f"{self.op}: the input must have rank >= 1")
        if not 0 <= self.dim < len(self.shape):
            raise SignatureError(f"{self.op}: dim {self.dim} is out of range "
                                 f"for rank {len(self.shape)}")

    def op_name(self) -> str:
        return self.op

    def _result_type(self) -> str:
        if self.op == "logsumexp":
            reduced = self.shape[:self.dim] + self.shape[self.dim + 1:]
            return _tensor(reduced, "f32")
        return _tensor(self.shape, self.dtype)

    def forward_mlir(self) -> str:
        x, y = _tensor(self.shape, self.dtype), self._result_type()
        body = (f"  %y = attn.{self.op} %x, dim = {self.dim} : {x} -> {y}\n")
        return self._module(f"{self.op}_forward", [("%x", x)], body,
                            [("%y", y)])

    def backward_mlir(self) -> str:
        x, y = _tensor(self.shape, self.dtype), self._result_type()
        if self.op == "logsumexp":
            body = (f"  %dx = attn.logsumexp_grad %x, %y, %dy, dim = "
                    f"{self.dim} : {x}, {y}, {y} -> {x}\n")
            args = [("%x", x), ("%y", y), ("%dy", y)]
        else:
            body = (f"  %dx = attn.{self.op}_grad %y, %dy, dim = {self.dim}"
                    f" : {y}, {y} -> {x}\n")
            args = [("%y", y), ("%dy", y)]
        return self._module(f"{self.op}_backward", args, body,
                            [("%dx", x)])


@dataclass(frozen=True, kw_only=True)
class _LossAttributes(Signature):
    ignore_index: int = -100
    label_smoothing: float = 0.0
    z_loss: float = 0.0
    softcap: Optional[float] = None
    reduction: str = "mean"

    def _check_loss(self, op: str, label_dtype: str):
        if self.reduction not in REDUCTIONS:
            raise SignatureError(f"{op}: reduction must be one of "
                                 f"{', '.join(REDUCTIONS)}, got "
                                 f"{self.reduction!r}")
        if not (0.0 <= self.label_smoothing <= 1.0):
            raise SignatureError(f"{op}: label_smoothing must be in [0, 1], "
                                 f"got {self.label_smoothing}")
        if not (math.isfinite(self.z_loss) and self.z_loss >= 0):
            raise SignatureError(f"{op}: z_loss must be finite and >= 0, got "
                                 f"{self.z_loss}")
        _check_positive_finite(f"{op}: softcap", self.softcap)
        bits = 32 if label_dtype == "i32" else 64
        if not -2**(bits - 1) <= self.ignore_index < 2**(bits - 1):
            raise SignatureError(f"{op}: ignore_index {self.ignore_index} "
                                 f"does not fit the {label_dtype} labels")

    def _loss_attributes(self) -> str:
        entries = []
        if self.ignore_index != -100:
            entries.append(f"ignore_index = {self.ignore_index} : i64")
        if self.label_smoothing:
            entries.append(f"label_smoothing = {_f32(self.label_smoothing)}")
        if self.z_loss:
            entries.append(f"z_loss = {_f32(self.z_loss)}")
        if self.softcap is not None:
            entries.append(f"softcap = {_f32(self.softcap)}")
        if self.reduction != "mean":
            entries.append(f"reduction = #attn.reduction<{self.reduction}>")
        return _attributes(entries)

    def _loss_shape(self, tokens: int) -> Tuple[int, ...]:
        return (tokens,) if self.reduction == "none" else ()


@dataclass(frozen=True, kw_only=True)
class CrossEntropySignature(_LossAttributes):
    """attn.cross_entropy / cross_entropy_grad on logits [N, V]."""
    logits: Tuple[int, ...]
    dtype: str
    label_dtype: str = "i64"

    def __post_init__(self):
        _check_dtype("cross_entropy: logits", self.dtype, FLOAT_DTYPES)
        _check_dtype("cross_entropy: labels", self.label_dtype, LABEL_DTYPES)
        _check_shape("cross_entropy: logits", self.logits, 2)
        self._check_loss("cross_entropy", self.label_dtype)

    def op_name(self) -> str:
        return "cross_entropy"

    def _types(self):
        n = self.logits[0]
        return (_tensor(self.logits, self.dtype),
                _tensor((n,), self.label_dtype), _tensor((n,), "f32"),
                _tensor(self._loss_shape(n), "f32"))

    def forward_mlir(self) -> str:
        z, y, lse, loss = self._types()
        body = (f"  %loss, %lse = attn.cross_entropy %z, %y"
                f"{self._loss_attributes()}\n"
                f"      : {z}, {y} -> {loss}, {lse}\n")
        return self._module("cross_entropy_forward", [("%z", z), ("%y", y)],
                            body, [("%loss", loss), ("%lse", lse)])

    def backward_mlir(self) -> str:
        z, y, lse, loss = self._types()
        body = (f"  %dz = attn.cross_entropy_grad %z, %y, %lse, %dloss"
                f"{self._loss_attributes()}\n"
                f"      : {z}, {y}, {lse}, {loss} -> {z}\n")
        return self._module(
            "cross_entropy_backward",
            [("%z", z), ("%y", y), ("%lse", lse), ("%dloss", loss)], body,
            [("%dz", z)])


@dataclass(frozen=True, kw_only=True)
class LinearCrossEntropySignature(_LossAttributes):
    """attn.linear_cross_entropy / linear_cross_entropy_grad on hidden
    [N, D], weight [V, D], optional bias [V]."""
    hidden: Tuple[int, ...]
    weight: Tuple[int, ...]
    dtype: str
    label_dtype: str = "i64"
    has_bias: bool = False
    # Cut Cross-Entropy's gradient filtering (the backward only): None is
    # exact.
    grad_filter: Optional[float] = None

    def __post_init__(self):
        op = "linear_cross_entropy"
        if self.grad_filter is not None and not (0.0 < self.grad_filter
                                                 < 1.0):
            raise SignatureError(f"{op}: grad_filter must be in (0, 1), got "
                                 f"{self.grad_filter}")
        _check_dtype(f"{op}: hidden and weight", self.dtype, FLOAT_DTYPES)
        _check_dtype(f"{op}: labels", self.label_dtype, LABEL_DTYPES)
        _check_shape(f"{op}: hidden", self.hidden, 2)
        _check_shape(f"{op}: weight", self.weight, 2)
        if self.hidden[1] != self.weight[1]:
            raise SignatureError(f"{op}: hidden {self.hidden} and weight "
                                 f"{self.weight} differ in the hidden size")
        self._check_loss(op, self.label_dtype)

    def op_name(self) -> str:
        return "linear_cross_entropy"

    def _types(self):
        n, v = self.hidden[0], self.weight[0]
        return (_tensor(self.hidden, self.dtype),
                _tensor(self.weight, self.dtype),
                _tensor((n,), self.label_dtype),
                _tensor((v,), self.dtype), _tensor((n,), "f32"),
                _tensor(self._loss_shape(n), "f32"))

    def _bias_use(self, b: str) -> str:
        return f" bias(%b : {b})" if self.has_bias else ""

    def forward_mlir(self) -> str:
        h, w, y, b, lse, loss = self._types()
        args = [("%h", h), ("%w", w), ("%y", y)]
        if self.has_bias:
            args.append(("%b", b))
        body = (f"  %loss, %lse = attn.linear_cross_entropy %h, %w, %y"
                f"{self._bias_use(b)}{self._loss_attributes()}\n"
                f"      : {h}, {w}, {y} -> {loss}, {lse}\n")
        return self._module("linear_cross_entropy_forward", args, body,
                            [("%loss", loss), ("%lse", lse)])

    def backward_mlir(self) -> str:
        h, w, y, b, lse, loss = self._types()
        args = [("%h", h), ("%w", w), ("%y", y)]
        results = [("%dh", h), ("%dw", w)]
        if self.has_bias:
            args.append(("%b", b))
            results.append(("%db", b))
        args += [("%lse", lse), ("%dloss", loss)]
        names = ", ".join(n for n, _ in results)
        types = ", ".join(t for _, t in results)
        attributes = self._loss_attributes()
        if self.grad_filter is not None:
            entry = f"grad_filter = {_f32(self.grad_filter)}"
            attributes = (attributes[:-1] + f", {entry}}}" if attributes
                          else _attributes([entry]))
        body = (f"  {names} = attn.linear_cross_entropy_grad %h, %w, %y"
                f"{self._bias_use(b)}, %lse, %dloss"
                f"{attributes}\n"
                f"      : {h}, {w}, {y}, {lse}, {loss} -> {types}\n")
        return self._module("linear_cross_entropy_backward", args, body,
                            results)


_KINDS = {"attention": AttentionSignature, "softmax": SoftmaxSignature,
          "cross_entropy": CrossEntropySignature,
          "linear_cross_entropy": LinearCrossEntropySignature}


def to_dict(signature: Signature) -> dict:
    """A JSON-ready description: {"kind": ..., field: value, ...}."""
    kind = next(k for k, c in _KINDS.items() if type(signature) is c)
    return {"kind": kind, **dataclasses.asdict(signature)}


def from_dict(description: dict) -> Signature:
    """The inverse of to_dict (lists become tuples); SignatureError on an
    unknown kind or field."""
    fields = dict(description)
    kind = fields.pop("kind", None)
    if kind not in _KINDS:
        raise SignatureError(f"unknown signature kind {kind!r} (one of "
                             f"{', '.join(_KINDS)})")
    cls = _KINDS[kind]
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(fields) - names)
    if unknown:
        raise SignatureError(f"{kind}: unknown fields {', '.join(unknown)}")
    fields = {k: tuple(v) if isinstance(v, list) else v
              for k, v in fields.items()}
    try:
        return cls(**fields)
    except TypeError as e:
        raise SignatureError(f"{kind}: {e}") from e
