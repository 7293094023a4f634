"""attn-mlir's Python side.

- ``attn_mlir.attention``, ``softmax``, ``log_softmax``, ``logsumexp``,
  ``cross_entropy``, ``linear_cross_entropy``: differentiable ops on PyTorch
  CUDA tensors, compiled on first use and cached (``attn_mlir.ops``;
  importing them imports torch).
- ``attn_mlir.Kernel``: runs one compiled kernel package on torch tensors
  (``attn_mlir.runtime``, a ctypes wrapper over ``libAttnRuntimeC.so``).
- ``attn_mlir.signatures`` / ``attn_mlir.compiler``: the MLIR source of each
  op's packages and their lookup, compilation and cache (no torch needed);
  ``python -m attn_mlir.precompile`` compiles packages for another machine.
"""

from .runtime import (ArgSpec, AttnRuntimeError, Kernel, default_library_path,
                      load_library)

_OPS = ("attention", "softmax", "log_softmax", "logsumexp", "cross_entropy",
        "linear_cross_entropy")

__all__ = ["ArgSpec", "AttnRuntimeError", "Kernel", "default_library_path",
           "load_library"] + list(_OPS)


def __getattr__(name):
    # The ops import torch: only when one is asked for.
    if name in _OPS:
        from . import ops
        return getattr(ops, name)
    raise AttributeError(f"module 'attn_mlir' has no attribute {name!r}")
