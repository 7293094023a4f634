"""Differentiable attn-mlir ops on PyTorch tensors.

Each function runs attn-mlir's kernels for its forward and, under autograd,
for its backward (the ``attn.*_grad`` ops). They are registered with
``torch.library`` as custom ops (namespace ``attn_mlir``) with fake
(meta) implementations and autograd formulas, so ``torch.compile`` traces
through them without graph breaks, and ``torch.autograd`` differentiates
them. The forward saves only what the backward needs: the inputs, the
output and the row log-sum-exp (never the attention scores or the logits of
``linear_cross_entropy``).

The kernel package of each signature (shapes, dtypes, attributes, chip) is
compiled on first use by ``attn-opt`` and cached on disk, or loaded from
``ATTN_MLIR_PACKAGES`` on a machine without MLIR (see attn_mlir.compiler).

Gradients flow to the float inputs (never to labels). The log-sum-exp that
the custom ops return beside the output, for the backward, is not
differentiable: a gradient reaching it is ignored.
"""

from typing import Dict, List, Optional, Sequence, Tuple

import torch
from torch import Tensor

from .compiler import chip_for_device_name, default_compiler
from .runtime import Kernel
from .signatures import (AttentionSignature, CrossEntropySignature,
                         LinearCrossEntropySignature, Signature,
                         SoftmaxSignature)

__all__ = ["attention", "softmax", "log_softmax", "logsumexp",
           "cross_entropy", "linear_cross_entropy", "kernel_for"]

_FLOAT = {torch.float16: "f16", torch.bfloat16: "bf16",
          torch.float32: "f32"}
_LABEL = {torch.int32: "i32", torch.int64: "i64"}


def _float_dtype(op: str, what: str, t: Tensor) -> str:
    if t.dtype not in _FLOAT:
        raise TypeError(f"attn_mlir.{op}: {what} has dtype {t.dtype}; "
                        f"the op takes float16, bfloat16 or float32")
    return _FLOAT[t.dtype]


def _label_dtype(op: str, t: Tensor) -> str:
    if t.dtype not in _LABEL:
        raise TypeError(f"attn_mlir.{op}: labels have dtype {t.dtype}; the "
                        f"op takes int32 or int64")
    return _LABEL[t.dtype]


def _on_one_cuda_device(op: str, tensors: Sequence[Tensor]):
    for t in tensors:
        if t.device.type != "cuda":
            raise ValueError(f"attn_mlir.{op}: tensors must be on a CUDA "
                             f"device, got one on {t.device}")
    if len({t.device for t in tensors}) != 1:
        raise ValueError(f"attn_mlir.{op}: tensors are on several devices: "
                         f"{sorted(str(t.device) for t in tensors)}")


def _same_dtype(op: str, tensors: Sequence[Tensor], names: str):
    if len({t.dtype for t in tensors}) != 1:
        raise TypeError(f"attn_mlir.{op}: {names} must have one dtype, got "
                        f"{', '.join(str(t.dtype) for t in tensors)}")


_kernels: Dict[Tuple[Signature, str, int], Kernel] = {}


_chips: Dict[int, str] = {}


def _device_index(device: torch.device) -> int:
    return device.index if device.index is not None \
        else torch.cuda.current_device()


def _chip(index: int) -> str:
    chip = _chips.get(index)
    if chip is None:
        chip = chip_for_device_name(torch.cuda.get_device_name(index),
                                    torch.cuda.get_device_capability(index))
        _chips[index] = chip
    return chip


def chip_of(device: torch.device) -> str:
    """The attn-mlir chip name of a CUDA device (e.g. "h200-sxm")."""
    return _chip(_device_index(device))


def kernel_for(signature: Signature, direction: str,
               device: torch.device) -> Kernel:
    """The loaded kernel of a signature on a device (compiled or found on
    first use, then kept). Signatures are frozen dataclasses: a call after
    the first finds its kernel by the signature itself, without writing
    the MLIR again or hashing it."""
    index = _device_index(device)
    slot = (signature, direction, index)
    kernel = _kernels.get(slot)
    if kernel is None:
        chip = _chip(index)
        kernel = Kernel(default_compiler(chip).package(signature, direction))
        _kernels[slot] = kernel
    return kernel


def _run(signature: Signature, direction: str, *tensors: Tensor):
    tensors = tuple(t.contiguous() for t in tensors)
    return kernel_for(signature, direction, tensors[0].device)(*tensors)


def _as_tuple(values) -> tuple:
    return values if isinstance(values, tuple) else (values,)


# --- attention --------------------------------------------------------------

def _attention_signature(q: Tensor, k: Tensor, v: Tensor, causal: bool,
                         window: Optional[List[int]],
                         softcap: Optional[float],
                         scale: Optional[float]) -> AttentionSignature:
    return AttentionSignature(
        tuple(q.shape), tuple(k.shape), tuple(v.shape),
        _float_dtype("attention", "query", q), causal=causal,
        window=tuple(window) if window is not None else None,
        softcap=softcap, scale=scale)


@torch.library.custom_op("attn_mlir::attention_forward", mutates_args=())
def _attention_forward(q: Tensor, k: Tensor, v: Tensor, causal: bool,
                       window: Optional[List[int]], softcap: Optional[float],
                       scale: Optional[float]) -> Tuple[Tensor, Tensor]:
    signature = _attention_signature(q, k, v, causal, window, softcap, scale)
    return _run(signature, "forward", q, k, v)


@_attention_forward.register_fake
def _(q, k, v, causal, window, softcap, scale):
    b, h, m, _ = q.shape
    return (q.new_empty((b, h, m, v.shape[3])),
            q.new_empty((b, h, m), dtype=torch.float32))


@torch.library.custom_op("attn_mlir::attention_backward", mutates_args=())
def _attention_backward(q: Tensor, k: Tensor, v: Tensor, o: Tensor,
                        lse: Tensor, do: Tensor, causal: bool,
                        window: Optional[List[int]], softcap: Optional[float],
                        scale: Optional[float]
                        ) -> Tuple[Tensor, Tensor, Tensor]:
    signature = _attention_signature(q, k, v, causal, window, softcap, scale)
    return _run(signature, "backward", q, k, v, o, lse, do)


@_attention_backward.register_fake
def _(q, k, v, o, lse, do, causal, window, softcap, scale):
    return torch.empty_like(q), torch.empty_like(k), torch.empty_like(v)


def _attention_setup(ctx, inputs, output):
    q, k, v, causal, window, softcap, scale = inputs
    o, lse = output
    ctx.save_for_backward(q, k, v, o, lse)
    ctx.attributes = (causal, window, softcap, scale)


def _attention_grad(ctx, grad_o, grad_lse):
    q, k, v, o, lse = ctx.saved_tensors
    dq, dk, dv = _attention_backward(q, k, v, o, lse, grad_o.contiguous(),
                                     *ctx.attributes)
    return dq, dk, dv, None, None, None, None


_attention_forward.register_autograd(_attention_grad,
                                     setup_context=_attention_setup)


def attention(query: Tensor, key: Tensor, value: Tensor, *,
              causal: bool = False,
              window: Optional[Tuple[int, int]] = None,
              softcap: Optional[float] = None,
              scale: Optional[float] = None,
              enable_gqa: bool = False) -> Tensor:
    """Scaled dot-product attention, like
    ``F.scaled_dot_product_attention(q, k, v, is_causal=causal, scale=scale,
    enable_gqa=enable_gqa)`` with sliding windows and soft-capping.

    query ``[B, Hq, M, D]``, key ``[B, Hkv, N, D]``, value
    ``[B, Hkv, N, Dv]`` on one CUDA device, one dtype (float16, bfloat16 or
    float32). ``causal`` is aligned to the bottom-right corner (query i sees
    keys j <= i + N - M); ``window=(left, right)`` keeps keys within
    ``[i + N - M - left, i + N - M + right]``; ``softcap`` applies
    ``softcap * tanh(s / softcap)`` to the scaled scores; ``scale`` defaults
    to ``1/sqrt(D)``. ``Hkv != Hq`` needs ``enable_gqa=True`` (as in SDPA).
    Rows that see no key give 0 (and zero gradients), not NaN.
    """
    op = "attention"
    _on_one_cuda_device(op, (query, key, value))
    _same_dtype(op, (query, key, value), "query, key and value")
    for name, t in (("query", query), ("key", key), ("value", value)):
        if t.dim() != 4:
            raise ValueError(f"attn_mlir.attention: {name} must be "
                             f"[B, H, L, D], got shape {tuple(t.shape)}")
    if query.shape[1] != key.shape[1] and not enable_gqa:
        raise ValueError(f"attn_mlir.attention: {query.shape[1]} query heads "
                         f"and {key.shape[1]} key/value heads need "
                         f"enable_gqa=True")
    window_list = [int(window[0]), int(window[1])] if window is not None \
        else None
    # Checks the shapes and attributes now, with the signature's message.
    _attention_signature(query, key, value, causal, window_list, softcap,
                         scale)
    out, _ = _attention_forward(query, key, value, causal, window_list,
                                softcap, scale)
    return out


# --- softmax family -------------------------------------------------------

def _softmax_signature(op: str, x: Tensor, dim: int) -> SoftmaxSignature:
    return SoftmaxSignature(op, tuple(x.shape), dim,
                            _float_dtype(op, "input", x))


@torch.library.custom_op("attn_mlir::softmax_forward", mutates_args=())
def _softmax_forward(x: Tensor, op: str, dim: int) -> Tensor:
    return _run(_softmax_signature(op, x, dim), "forward", x)


@_softmax_forward.register_fake
def _(x, op, dim):
    if op == "logsumexp":
        shape = x.shape[:dim] + x.shape[dim + 1:]
        return x.new_empty(shape, dtype=torch.float32)
    return torch.empty_like(x)


@torch.library.custom_op("attn_mlir::softmax_backward", mutates_args=())
def _softmax_backward(x: Tensor, y: Tensor, dy: Tensor, op: str,
                      dim: int) -> Tensor:
    signature = _softmax_signature(op, x, dim)
    if op == "logsumexp":
        return _run(signature, "backward", x, y, dy)
    return _run(signature, "backward", y, dy)


@_softmax_backward.register_fake
def _(x, y, dy, op, dim):
    return torch.empty_like(x)


def _softmax_setup(ctx, inputs, output):
    x, op, dim = inputs
    # softmax and log_softmax need only the output; logsumexp the input too.
    ctx.save_for_backward(x if op == "logsumexp" else None, output)
    ctx.attributes = (op, dim)


def _softmax_grad(ctx, dy):
    x, y = ctx.saved_tensors
    op, dim = ctx.attributes
    if dy.dtype != y.dtype:
        dy = dy.to(y.dtype)
    # softmax_grad and log_softmax_grad take no input: pass the output as a
    # placeholder of its type and shape (only its metadata is used).
    dx = _softmax_backward(x if x is not None else y, y, dy.contiguous(),
                           op, dim)
    return dx, None, None


_softmax_forward.register_autograd(_softmax_grad,
                                   setup_context=_softmax_setup)


def _softmax_family(op: str, x: Tensor, dim: int) -> Tensor:
    _on_one_cuda_device(op, (x,))
    if x.dim() == 0:
        raise ValueError(f"attn_mlir.{op}: the input must have rank >= 1")
    if not -x.dim() <= dim < x.dim():
        raise IndexError(f"attn_mlir.{op}: dim {dim} is out of range for a "
                         f"tensor of rank {x.dim()}")
    dim %= x.dim()
    _softmax_signature(op, x, dim)
    return _softmax_forward(x, op, dim)


def softmax(x: Tensor, dim: int = -1) -> Tensor:
    """``torch.softmax(x, dim)``, computed in f32, result in x's dtype."""
    return _softmax_family("softmax", x, dim)


def log_softmax(x: Tensor, dim: int = -1) -> Tensor:
    """``torch.log_softmax(x, dim)``, computed in f32, result in x's
    dtype."""
    return _softmax_family("log_softmax", x, dim)


def logsumexp(x: Tensor, dim: int = -1) -> Tensor:
    """``torch.logsumexp(x, dim)`` in f32 (the result is always float32)."""
    return _softmax_family("logsumexp", x, dim)


# --- losses ---------------------------------------------------------------

def _loss_attributes(ignore_index, label_smoothing, z_loss, softcap,
                     reduction) -> dict:
    return dict(ignore_index=ignore_index, label_smoothing=label_smoothing,
                z_loss=z_loss, softcap=softcap, reduction=reduction)


def _cross_entropy_signature(z: Tensor, y: Tensor, *attributes
                             ) -> CrossEntropySignature:
    return CrossEntropySignature(
        logits=tuple(z.shape), dtype=_float_dtype("cross_entropy", "logits",
                                                  z),
        label_dtype=_label_dtype("cross_entropy", y),
        **_loss_attributes(*attributes))


def _loss_shape(n: int, reduction: str) -> Tuple[int, ...]:
    return (n,) if reduction == "none" else ()


@torch.library.custom_op("attn_mlir::cross_entropy_forward", mutates_args=())
def _cross_entropy_forward(z: Tensor, y: Tensor, ignore_index: int,
                           label_smoothing: float, z_loss: float,
                           softcap: Optional[float], reduction: str
                           ) -> Tuple[Tensor, Tensor]:
    signature = _cross_entropy_signature(z, y, ignore_index, label_smoothing,
                                         z_loss, softcap, reduction)
    return _run(signature, "forward", z, y)


@_cross_entropy_forward.register_fake
def _(z, y, ignore_index, label_smoothing, z_loss, softcap, reduction):
    n = z.shape[0]
    return (z.new_empty(_loss_shape(n, reduction), dtype=torch.float32),
            z.new_empty((n,), dtype=torch.float32))


@torch.library.custom_op("attn_mlir::cross_entropy_backward",
                         mutates_args=())
def _cross_entropy_backward(z: Tensor, y: Tensor, lse: Tensor,
                            dloss: Tensor, ignore_index: int,
                            label_smoothing: float, z_loss: float,
                            softcap: Optional[float], reduction: str
                            ) -> Tensor:
    signature = _cross_entropy_signature(z, y, ignore_index, label_smoothing,
                                         z_loss, softcap, reduction)
    return _run(signature, "backward", z, y, lse, dloss)


@_cross_entropy_backward.register_fake
def _(z, y, lse, dloss, ignore_index, label_smoothing, z_loss, softcap,
      reduction):
    return torch.empty_like(z)


def _cross_entropy_setup(ctx, inputs, output):
    z, y = inputs[:2]
    ctx.save_for_backward(z, y, output[1])
    ctx.attributes = inputs[2:]


def _cross_entropy_grad(ctx, dloss, grad_lse):
    z, y, lse = ctx.saved_tensors
    dz = _cross_entropy_backward(z, y, lse,
                                 dloss.float().contiguous(),
                                 *ctx.attributes)
    return (dz,) + (None,) * 6


_cross_entropy_forward.register_autograd(_cross_entropy_grad,
                                         setup_context=_cross_entropy_setup)


def _flatten_tokens(rows: Tensor, labels: Tensor, ignore_index,
                    label_smoothing, z_loss, softcap, reduction):
    """[..., X] rows and [...] labels as [N, X] and [N], with the loss
    attributes as the custom ops take them."""
    attributes = (int(ignore_index), float(label_smoothing), float(z_loss),
                  None if softcap is None else float(softcap), reduction)
    return rows.reshape(-1, rows.shape[-1]), labels.reshape(-1), attributes


def _unflatten_loss(loss: Tensor, labels: Tensor, reduction: str) -> Tensor:
    return loss.reshape(labels.shape) if reduction == "none" else loss


def _check_loss_call(op: str, tensors: Sequence[Tensor], reduction: str):
    _on_one_cuda_device(op, tensors)
    if reduction not in ("none", "sum", "mean"):
        raise ValueError(f"attn_mlir.{op}: reduction must be 'none', 'sum' "
                         f"or 'mean', got {reduction!r}")


def cross_entropy(logits: Tensor, labels: Tensor, *,
                  ignore_index: int = -100, label_smoothing: float = 0.0,
                  z_loss: float = 0.0, softcap: Optional[float] = None,
                  reduction: str = "mean") -> Tensor:
    """``F.cross_entropy(logits, labels, ignore_index=..., label_smoothing=...,
    reduction=...)`` on logits ``[..., V]`` and labels ``[...]``, plus the
    PaLM z-loss (``z_loss * lse^2``) and logit soft-capping. The loss is
    float32: ``[...]`` for ``reduction='none'``, a scalar otherwise (the
    mean is over non-ignored tokens, 0 when all are ignored)."""
    op = "cross_entropy"
    _check_loss_call(op, (logits, labels), reduction)
    if logits.dim() < 1 or tuple(labels.shape) != tuple(logits.shape[:-1]):
        raise ValueError(f"attn_mlir.cross_entropy: logits [..., V] and "
                         f"labels [...] expected, got {tuple(logits.shape)} "
                         f"and {tuple(labels.shape)}")
    z, y, attributes = _flatten_tokens(logits, labels, ignore_index,
                                       label_smoothing, z_loss, softcap,
                                       reduction)
    _cross_entropy_signature(z, y, *attributes)
    loss, _ = _cross_entropy_forward(z, y, *attributes)
    return _unflatten_loss(loss, labels, reduction)


def _linear_signature(h: Tensor, w: Tensor, y: Tensor, has_bias: bool,
                      *attributes, grad_filter: Optional[float] = None
                      ) -> LinearCrossEntropySignature:
    op = "linear_cross_entropy"
    return LinearCrossEntropySignature(
        hidden=tuple(h.shape), weight=tuple(w.shape),
        dtype=_float_dtype(op, "hidden", h), label_dtype=_label_dtype(op, y),
        has_bias=has_bias, grad_filter=grad_filter,
        **_loss_attributes(*attributes))


@torch.library.custom_op("attn_mlir::linear_cross_entropy_forward",
                         mutates_args=())
def _linear_forward(h: Tensor, w: Tensor, y: Tensor, bias: Optional[Tensor],
                    ignore_index: int, label_smoothing: float, z_loss: float,
                    softcap: Optional[float], reduction: str,
                    grad_filter: Optional[float]) -> Tuple[Tensor, Tensor]:
    # grad_filter only reaches the backward (through the autograd context);
    # the forward's package does not depend on it.
    signature = _linear_signature(h, w, y, bias is not None, ignore_index,
                                  label_smoothing, z_loss, softcap,
                                  reduction)
    operands = (h, w, y) if bias is None else (h, w, y, bias)
    return _run(signature, "forward", *operands)


@_linear_forward.register_fake
def _(h, w, y, bias, ignore_index, label_smoothing, z_loss, softcap,
      reduction, grad_filter):
    n = h.shape[0]
    return (h.new_empty(_loss_shape(n, reduction), dtype=torch.float32),
            h.new_empty((n,), dtype=torch.float32))


@torch.library.custom_op("attn_mlir::linear_cross_entropy_backward",
                         mutates_args=())
def _linear_backward(h: Tensor, w: Tensor, y: Tensor, bias: Optional[Tensor],
                     lse: Tensor, dloss: Tensor, ignore_index: int,
                     label_smoothing: float, z_loss: float,
                     softcap: Optional[float], reduction: str,
                     grad_filter: Optional[float]) -> List[Tensor]:
    signature = _linear_signature(h, w, y, bias is not None, ignore_index,
                                  label_smoothing, z_loss, softcap,
                                  reduction, grad_filter=grad_filter)
    operands = (h, w, y) if bias is None else (h, w, y, bias)
    return list(_as_tuple(_run(signature, "backward", *operands, lse,
                               dloss)))


@_linear_backward.register_fake
def _(h, w, y, bias, lse, dloss, ignore_index, label_smoothing, z_loss,
      softcap, reduction, grad_filter):
    grads = [torch.empty_like(h), torch.empty_like(w)]
    if bias is not None:
        grads.append(torch.empty_like(bias))
    return grads


def _linear_setup(ctx, inputs, output):
    h, w, y, bias = inputs[:4]
    ctx.save_for_backward(h, w, y, bias, output[1])
    ctx.attributes = inputs[4:]


def _linear_grad(ctx, dloss, grad_lse):
    h, w, y, bias, lse = ctx.saved_tensors
    grads = _linear_backward(h, w, y, bias, lse, dloss.float().contiguous(),
                             *ctx.attributes)
    dbias = grads[2] if bias is not None else None
    return (grads[0], grads[1], None, dbias) + (None,) * 6


_linear_forward.register_autograd(_linear_grad, setup_context=_linear_setup)


def linear_cross_entropy(hidden: Tensor, weight: Tensor, labels: Tensor,
                         bias: Optional[Tensor] = None, *,
                         ignore_index: int = -100,
                         label_smoothing: float = 0.0, z_loss: float = 0.0,
                         softcap: Optional[float] = None,
                         reduction: str = "mean",
                         grad_filter: Optional[float] = None) -> Tensor:
    """``cross_entropy(hidden @ weight.T + bias, labels, ...)`` without ever
    materializing the logits (Cut Cross-Entropy), forward and backward.

    hidden ``[..., D]``, weight ``[V, D]``, optional bias ``[V]`` (one float
    dtype), labels ``[...]`` int32/int64; attributes as
    :func:`cross_entropy`. Gradients reach hidden, weight and bias.
    ``grad_filter=eps`` (in (0, 1); None, the default, is exact) is Cut
    Cross-Entropy's gradient filtering: elements of d loss / d logit below
    eps are taken as 0 and the backward skips the products of all-zero
    tiles (the error bound is in attn.linear_cross_entropy_grad's
    documentation; 2**-12 is Cut Cross-Entropy's choice for bf16)."""
    op = "linear_cross_entropy"
    tensors = (hidden, weight, labels) + ((bias,) if bias is not None else ())
    _check_loss_call(op, tensors, reduction)
    _same_dtype(op, [t for t in tensors if t is not labels],
                "hidden, weight and bias")
    if (hidden.dim() < 1 or weight.dim() != 2
            or tuple(labels.shape) != tuple(hidden.shape[:-1])):
        raise ValueError(f"attn_mlir.linear_cross_entropy: hidden [..., D], "
                         f"weight [V, D] and labels [...] expected, got "
                         f"{tuple(hidden.shape)}, {tuple(weight.shape)} and "
                         f"{tuple(labels.shape)}")
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise ValueError(f"attn_mlir.linear_cross_entropy: bias must be "
                         f"[V] = [{weight.shape[0]}], got "
                         f"{tuple(bias.shape)}")
    h, y, attributes = _flatten_tokens(hidden, labels, ignore_index,
                                       label_smoothing, z_loss, softcap,
                                       reduction)
    if grad_filter is not None:
        grad_filter = float(grad_filter)
    _linear_signature(h, weight, y, bias is not None, *attributes,
                      grad_filter=grad_filter)
    loss, _ = _linear_forward(h, weight, y, bias, *attributes, grad_filter)
    return _unflatten_loss(loss, labels, reduction)
