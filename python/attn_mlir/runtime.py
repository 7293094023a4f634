"""Runs attn-mlir kernel packages on PyTorch tensors.

A thin ctypes wrapper over the runtime's C ABI (``include/attn-c/Runtime.h``,
``libAttnRuntimeC.so``)::

    from attn_mlir import Kernel
    kernel = Kernel("build-packages/attention_b4_h16_n4096_d128_causal")
    out = kernel(q, k, v)      # inputs only: outputs allocated, returned
    kernel(q, k, v, out)       # or every argument, outputs written in place

Each tensor is checked against the package manifest (dtype, shape,
contiguity, device) before the kernels are enqueued on
``torch.cuda.current_stream()``. torch is imported only when a tensor is
passed, so loading a package and reading its arguments needs neither torch
nor a GPU.

The library is found from the ``lib`` argument, else the environment variable
``ATTN_RUNTIME_LIB``, else ``build-rt/lib`` or ``build/lib`` of this checkout,
else the dynamic loader's search path.
"""

import ctypes
import os
from typing import NamedTuple, Optional, Sequence, Tuple

__all__ = ["ArgSpec", "Kernel", "AttnRuntimeError", "load_library",
           "default_library_path"]

LIBRARY_NAME = "libAttnRuntimeC.so"

# Status codes of attnRuntimePrepare/attnRuntimeLaunch (attn-c/Runtime.h).
_OK = 0
_INVALID_ARGUMENT = 1

# Bytes per element of each manifest dtype (i1 is one byte, 0 or 1).
DTYPE_BYTES = {"f32": 4, "f16": 2, "bf16": 2, "f64": 8, "i1": 1, "i8": 1,
               "i32": 4, "i64": 8}
# The torch dtype of each manifest dtype, by attribute name of torch.
TORCH_DTYPE_NAMES = {"f32": "float32", "f16": "float16", "bf16": "bfloat16",
                     "f64": "float64", "i1": "bool", "i8": "int8",
                     "i32": "int32", "i64": "int64"}


class AttnRuntimeError(RuntimeError):
    """A failure reported by the runtime library (CUDA driver, package)."""


class ArgSpec(NamedTuple):
    """One argument of a compiled function, as the manifest describes it."""
    index: int
    name: str        # "arg0", "result0"
    operand: str     # "query", "logits", ... ("" if not a single attn op)
    dtype: str       # manifest dtype: "bf16", "f32", "i64", ...
    shape: Tuple[int, ...]
    is_output: bool

    @property
    def numel(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n

    @property
    def nbytes(self) -> int:
        return self.numel * DTYPE_BYTES[self.dtype]

    def torch_dtype(self):
        import torch
        return getattr(torch, TORCH_DTYPE_NAMES[self.dtype])

    def describe(self) -> str:
        dims = "x".join(str(d) for d in self.shape)
        role = "output" if self.is_output else "input"
        kind = f"{dims} {self.dtype}" if dims else self.dtype
        operand = f" ({self.operand})" if self.operand else ""
        return f"{role} {self.index} {self.name}{operand}: {kind}"


def default_library_path() -> str:
    """ATTN_RUNTIME_LIB, else the first build of this checkout that has the
    library, else the bare name for the dynamic loader."""
    env = os.environ.get("ATTN_RUNTIME_LIB")
    if env:
        return env
    root = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    for build in ("build-rt", "build"):
        candidate = os.path.join(root, build, "lib", LIBRARY_NAME)
        if os.path.exists(candidate):
            return candidate
    return LIBRARY_NAME


_libraries = {}


def load_library(path: Optional[str] = None) -> ctypes.CDLL:
    """Opens libAttnRuntimeC.so (once per path) and declares its functions."""
    path = path or default_library_path()
    if path in _libraries:
        return _libraries[path]
    try:
        lib = ctypes.CDLL(path)
    except OSError as e:
        raise AttnRuntimeError(
            f"cannot load the attn runtime library {path}: {e} (build the "
            f"AttnRuntimeC target, e.g. ninja -C build-rt, or set "
            f"ATTN_RUNTIME_LIB)") from e
    handle = ctypes.c_void_p
    declarations = {
        "attnRuntimeLoad": (handle, [ctypes.c_char_p, ctypes.c_char_p]),
        "attnRuntimeLastError": (ctypes.c_char_p, []),
        "attnRuntimeFunctionName": (ctypes.c_char_p, [handle]),
        "attnRuntimeOpName": (ctypes.c_char_p, [handle]),
        "attnRuntimeNumArgs": (ctypes.c_int, [handle]),
        "attnRuntimeArgName": (ctypes.c_char_p, [handle, ctypes.c_int]),
        "attnRuntimeArgOperand": (ctypes.c_char_p, [handle, ctypes.c_int]),
        "attnRuntimeArgDType": (ctypes.c_char_p, [handle, ctypes.c_int]),
        "attnRuntimeArgRank": (ctypes.c_int, [handle, ctypes.c_int]),
        "attnRuntimeArgDim": (ctypes.c_int64,
                              [handle, ctypes.c_int, ctypes.c_int]),
        "attnRuntimeArgIsOutput": (ctypes.c_int, [handle, ctypes.c_int]),
        "attnRuntimeTempBytes": (ctypes.c_size_t, [handle]),
        "attnRuntimePrepare": (ctypes.c_int, [handle]),
        "attnRuntimeDevice": (ctypes.c_int, [handle]),
        "attnRuntimeLaunch": (ctypes.c_int,
                              [handle, ctypes.POINTER(ctypes.c_void_p),
                               ctypes.c_size_t, ctypes.c_void_p]),
        "attnRuntimeDestroy": (None, [handle]),
    }
    for name, (restype, argtypes) in declarations.items():
        function = getattr(lib, name)
        function.restype = restype
        function.argtypes = argtypes
    _libraries[path] = lib
    return lib


def _text(value: Optional[bytes]) -> str:
    return value.decode() if value is not None else ""


class Kernel:
    """One function of a kernel package, callable on torch tensors."""

    def __init__(self, package_dir: str, function: Optional[str] = None,
                 lib: Optional[str] = None):
        self._lib = load_library(lib)
        self._handle = self._lib.attnRuntimeLoad(
            os.fsencode(package_dir),
            function.encode() if function else None)
        if not self._handle:
            raise AttnRuntimeError(self._last_error())
        self.package_dir = package_dir
        self.name = _text(self._lib.attnRuntimeFunctionName(self._handle))
        self.op = _text(self._lib.attnRuntimeOpName(self._handle))
        self.temp_bytes = int(self._lib.attnRuntimeTempBytes(self._handle))
        self.args = tuple(self._arg(i) for i in
                          range(self._lib.attnRuntimeNumArgs(self._handle)))

    def _last_error(self) -> str:
        return _text(self._lib.attnRuntimeLastError())

    def _arg(self, i: int) -> ArgSpec:
        lib, h = self._lib, self._handle
        rank = lib.attnRuntimeArgRank(h, i)
        return ArgSpec(
            index=i, name=_text(lib.attnRuntimeArgName(h, i)),
            operand=_text(lib.attnRuntimeArgOperand(h, i)),
            dtype=_text(lib.attnRuntimeArgDType(h, i)),
            shape=tuple(lib.attnRuntimeArgDim(h, i, d) for d in range(rank)),
            is_output=lib.attnRuntimeArgIsOutput(h, i) == 1)

    @property
    def inputs(self) -> Tuple[ArgSpec, ...]:
        return tuple(a for a in self.args if not a.is_output)

    @property
    def outputs(self) -> Tuple[ArgSpec, ...]:
        return tuple(a for a in self.args if a.is_output)

    @property
    def device(self) -> Optional[int]:
        """The CUDA device the kernels are loaded on (None before)."""
        self._check_open()
        d = self._lib.attnRuntimeDevice(self._handle)
        return d if d >= 0 else None

    def _check_open(self):
        if not self._handle:
            raise AttnRuntimeError(f"kernel {self.name} is closed")

    def _status(self, status: int):
        if status == _OK:
            return
        message = f"{self.name} ({self.package_dir}): {self._last_error()}"
        raise (ValueError if status == _INVALID_ARGUMENT
               else AttnRuntimeError)(message)

    def prepare(self):
        """Loads the kernels into the current CUDA context and allocates the
        temporaries (the first launch does it otherwise)."""
        self._check_open()
        self._status(self._lib.attnRuntimePrepare(self._handle))

    def launch(self, pointers: Sequence[int], stream: int = 0):
        """Enqueues the kernels on raw device pointers (one int per argument,
        in manifest order) and a raw CUstream (0: the default stream)."""
        self._check_open()
        array = (ctypes.c_void_p * max(len(pointers), 1))(
            *[ctypes.c_void_p(p or None) for p in pointers])
        self._status(self._lib.attnRuntimeLaunch(
            self._handle, array, len(pointers),
            ctypes.c_void_p(stream or None)))

    def check_tensor(self, spec: ArgSpec, tensor) -> None:
        """Raises TypeError/ValueError unless `tensor` is what `spec` says."""
        import torch
        what = f"{self.name}: {spec.describe()}"
        if not isinstance(tensor, torch.Tensor):
            raise TypeError(f"{what}: expected a torch.Tensor, got "
                            f"{type(tensor).__name__}")
        if tensor.dtype != spec.torch_dtype():
            raise TypeError(f"{what}: got dtype {tensor.dtype}, expected "
                            f"{spec.torch_dtype()}")
        if tuple(tensor.shape) != spec.shape:
            raise ValueError(f"{what}: got shape {tuple(tensor.shape)}, "
                             f"expected {spec.shape}")
        if not tensor.is_cuda:
            raise ValueError(f"{what}: the tensor is on {tensor.device}, not "
                             f"on a CUDA device")
        if not tensor.is_contiguous():
            raise ValueError(f"{what}: the tensor is not contiguous (strides "
                             f"{tuple(tensor.stride())}); pass "
                             f".contiguous()")

    def __call__(self, *tensors):
        """Runs on torch tensors: either the inputs alone (outputs are
        allocated with torch.empty and returned) or every argument in
        manifest order (outputs written in place and returned). Returns the
        output tensor, or a tuple when there are several."""
        import torch
        self._check_open()
        inputs, outputs = self.inputs, self.outputs
        if len(tensors) == len(inputs):
            device = next((t.device for t in tensors
                           if isinstance(t, torch.Tensor)), None)
            if device is None or device.type != "cuda":
                device = torch.device("cuda", torch.cuda.current_device())
            tensors = tuple(tensors) + tuple(
                torch.empty(s.shape, dtype=s.torch_dtype(), device=device)
                for s in outputs)
        elif len(tensors) != len(self.args):
            raise TypeError(
                f"{self.name} takes {len(inputs)} input tensors (or all "
                f"{len(self.args)} arguments with the outputs), got "
                f"{len(tensors)}:\n  " +
                "\n  ".join(a.describe() for a in self.args))
        for spec, tensor in zip(self.args, tensors):
            self.check_tensor(spec, tensor)
        devices = {t.device.index for t in tensors}
        if len(devices) != 1:
            raise ValueError(f"{self.name}: the tensors are on several "
                             f"devices: cuda:{sorted(devices)}")
        index = devices.pop()
        with torch.cuda.device(index):
            # Loads into PyTorch's context of this device on first use.
            self.prepare()
            if self.device != index:
                raise ValueError(
                    f"{self.name}: the kernels are loaded on cuda:"
                    f"{self.device}, the tensors are on cuda:{index}; use "
                    f"one Kernel per device")
            stream = torch.cuda.current_stream(index).cuda_stream
            self.launch([t.data_ptr() for t in tensors], stream)
        result = tensors[len(inputs):]
        return result[0] if len(result) == 1 else tuple(result)

    def close(self):
        """Waits for the device, frees the temporaries and unloads."""
        if getattr(self, "_handle", None):
            self._lib.attnRuntimeDestroy(self._handle)
            self._handle = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def __repr__(self):
        args = ", ".join(a.describe() for a in self.args)
        return f"Kernel({self.package_dir!r}, {self.name}: {self.op}; {args})"
