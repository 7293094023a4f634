"""Finds or compiles the kernel package of a signature, Triton-style.

A package is looked up, in order:

1. in each directory of ``ATTN_MLIR_PACKAGES`` (``os.pathsep``-separated):
   packages compiled elsewhere, e.g. by ``python -m attn_mlir.precompile``
   on a machine with MLIR, for a machine without it;
2. in the on-disk cache ``$ATTN_MLIR_CACHE_DIR`` (default
   ``~/.cache/attn-mlir``), under a directory named for the compiler's
   identity (a hash of the ``attn-opt`` binary and its ``--version``), so a
   rebuilt compiler never reuses packages of an older one;
3. else it is compiled there by running ``attn-opt --attn-to-cubin`` (found
   from ``ATTN_OPT``, else ``build/bin/attn-opt`` of this checkout, else
   ``PATH``).

Inside each directory a package is named by its signature's key (the op,
the direction and a hash of the MLIR source and the chip), so a directory of
packages can be copied between machines. Compilation writes into a
temporary directory renamed into place, so concurrent processes never see a
half-written package.

Nothing here needs torch or a GPU.
"""

import hashlib
import os
import shutil
import subprocess
import tempfile
from typing import Dict, List, Optional, Tuple

from .signatures import Signature

__all__ = ["CompileError", "PackageNotFoundError", "Compiler",
           "default_compiler", "chip_for_device_name"]


class CompileError(RuntimeError):
    """attn-opt failed on a signature (the message has its diagnostics)."""


class PackageNotFoundError(RuntimeError):
    """No package for a signature and no compiler to make one."""


def chip_for_device_name(name: str, capability: Tuple[int, int]) -> str:
    """The attn-opt chip of a CUDA device, from its name and compute
    capability (``ATTN_MLIR_CHIP`` overrides it)."""
    env = os.environ.get("ATTN_MLIR_CHIP")
    if env:
        return env
    if "H200" in name:
        return "h200-sxm"
    if "H100" in name or "H800" in name:
        return "h100-sxm"
    if capability == (9, 0):
        return "sm_90a"
    return f"sm_{capability[0]}{capability[1]}"


def _checkout_root() -> str:
    return os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))


def _find_attn_opt() -> Optional[str]:
    env = os.environ.get("ATTN_OPT")
    if env:
        return env
    candidate = os.path.join(_checkout_root(), "build", "bin", "attn-opt")
    if os.access(candidate, os.X_OK):
        return candidate
    return shutil.which("attn-opt")


class Compiler:
    """Package lookup and compilation for one chip."""

    def __init__(self, chip: str, attn_opt: Optional[str] = None,
                 cache_dir: Optional[str] = None,
                 package_dirs: Optional[List[str]] = None,
                 model: str = "auto"):
        self.chip = chip
        self.model = model
        self.attn_opt = attn_opt if attn_opt is not None else _find_attn_opt()
        self.cache_root = cache_dir or os.environ.get(
            "ATTN_MLIR_CACHE_DIR",
            os.path.join(os.path.expanduser("~"), ".cache", "attn-mlir"))
        if package_dirs is None:
            env = os.environ.get("ATTN_MLIR_PACKAGES", "")
            package_dirs = [d for d in env.split(os.pathsep) if d]
        self.package_dirs = package_dirs
        self._identity: Optional[str] = None

    def identity(self) -> str:
        """A hash of the compiler: its binary's bytes and --version."""
        if self._identity is None:
            if not self.attn_opt:
                raise PackageNotFoundError("no attn-opt to compile with")
            digest = hashlib.sha256()
            try:
                with open(self.attn_opt, "rb") as f:
                    for block in iter(lambda: f.read(1 << 20), b""):
                        digest.update(block)
                version = subprocess.run(
                    [self.attn_opt, "--version"], capture_output=True,
                    timeout=60).stdout
            except (OSError, subprocess.SubprocessError) as e:
                raise CompileError(f"cannot run the compiler "
                                   f"{self.attn_opt}: {e}") from e
            digest.update(version)
            digest.update(self.model.encode())
            self._identity = digest.hexdigest()[:16]
        return self._identity

    def cache_dir(self) -> str:
        return os.path.join(self.cache_root, self.identity())

    def find(self, signature: Signature, direction: str) -> Optional[str]:
        """The directory of an existing package, or None."""
        key = signature.key(direction, self.chip)
        dirs = list(self.package_dirs)
        if self.attn_opt:
            dirs.append(self.cache_dir())
        for d in dirs:
            path = os.path.join(d, key)
            if os.path.isfile(os.path.join(path, "manifest.json")):
                return path
        return None

    def package(self, signature: Signature, direction: str) -> str:
        """The package directory of a signature, compiled if needed."""
        found = self.find(signature, direction)
        if found:
            return found
        if not self.attn_opt:
            key = signature.key(direction, self.chip)
            where = (", ".join(self.package_dirs) if self.package_dirs
                     else "no ATTN_MLIR_PACKAGES directory")
            raise PackageNotFoundError(
                f"no kernel package {key} for the {direction} of "
                f"{signature.op_name()} on chip {self.chip} (searched: "
                f"{where}), and no attn-opt to compile it (set ATTN_OPT or "
                f"put attn-opt on PATH, or compile it elsewhere with "
                f"`python -m attn_mlir.precompile` and set "
                f"ATTN_MLIR_PACKAGES). Its source:\n"
                f"{signature.mlir(direction)}")
        return self.compile(signature, direction, self.cache_dir())

    def compile(self, signature: Signature, direction: str,
                out_dir: str) -> str:
        """Compiles one package into out_dir/<key> (replacing nothing that
        a concurrent process put there first)."""
        key = signature.key(direction, self.chip)
        final = os.path.join(out_dir, key)
        if os.path.isfile(os.path.join(final, "manifest.json")):
            return final
        os.makedirs(out_dir, exist_ok=True)
        source = signature.mlir(direction)
        work = tempfile.mkdtemp(prefix=f".{key}.", dir=out_dir)
        try:
            package = os.path.join(work, "package")
            source_path = os.path.join(work, "source.mlir")
            with open(source_path, "w") as f:
                f.write(source)
            command = [self.attn_opt, source_path,
                       f"--attn-to-cubin=chip={self.chip} model={self.model}"
                       f" package-dir={package}", "-o", os.devnull]
            try:
                result = subprocess.run(command, capture_output=True,
                                        text=True, timeout=600)
            except (OSError, subprocess.SubprocessError) as e:
                raise CompileError(f"cannot run {self.attn_opt}: {e}") from e
            if result.returncode != 0:
                raise CompileError(
                    f"attn-opt failed (exit {result.returncode}) on the "
                    f"{direction} of {signature.op_name()} for chip "
                    f"{self.chip}:\n{result.stderr.strip()}\n"
                    f"command: {' '.join(command)}\nsource:\n{source}")
            shutil.copy(source_path, os.path.join(package, "source.mlir"))
            try:
                os.rename(package, final)
            except OSError:
                # Another process renamed its copy into place first.
                if not os.path.isfile(os.path.join(final, "manifest.json")):
                    raise
            return final
        finally:
            shutil.rmtree(work, ignore_errors=True)


_compilers: Dict[str, Compiler] = {}


def default_compiler(chip: str) -> Compiler:
    """One Compiler per chip, configured from the environment."""
    if chip not in _compilers:
        _compilers[chip] = Compiler(chip)
    return _compilers[chip]
