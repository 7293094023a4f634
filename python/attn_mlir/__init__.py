"""attn-mlir's Python side: run compiled kernel packages on PyTorch tensors
(``attn_mlir.runtime``, a ctypes wrapper over ``libAttnRuntimeC.so``)."""

from .runtime import (ArgSpec, AttnRuntimeError, Kernel, default_library_path,
                      load_library)

__all__ = ["ArgSpec", "AttnRuntimeError", "Kernel", "default_library_path",
           "load_library"]
