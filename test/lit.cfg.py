# -*- Python -*-
# lit configuration for attn-mlir.

import os
import shutil
import subprocess

import lit.formats
from lit.llvm import llvm_config

config.name = "attn-mlir"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.excludes = ["Inputs", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.attn_obj_root, "test")

config.environment["FILECHECK_OPTS"] = "--enable-var-scope"
llvm_config.use_default_substitutions()

tool_dirs = [config.attn_tools_dir, config.llvm_tools_dir]
llvm_config.add_tool_substitutions(
    ["attn-opt", "attn-tune", "attn-run", "attn-reference-test", "attn-capi-test",
     "attn-runtime-c-test", "attn-model-eval", "mlir-runner", "mlir-opt"],
    tool_dirs)
config.substitutions.append(("%mlir_lib_dir", config.mlir_lib_dir))
config.substitutions.append(("%attn_src_root", config.attn_src_root))
config.substitutions.append(("%attn_obj_root", config.attn_obj_root))
# Shared libraries: libAttnRuntimeC.so, and libattn-fake-cuda.so (a logging
# stand-in for the CUDA driver, for ATTN_LIBCUDA).
config.substitutions.append(("%attn_lib_dir", os.path.join(config.attn_obj_root, "lib")))
config.substitutions.append(("%cmake", config.cmake_command))
llvm_config.with_environment("PATH", config.attn_tools_dir, append_path=True)
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
for var in ["CUDA_HOME", "HOME", "TMPDIR"]:
    if var in os.environ:
        config.environment[var] = os.environ[var]

# ptxas: the CUDA toolkit assembles our PTX for sm_90a (no GPU needed).
ptxas = None
for cand in [os.path.join(os.environ.get("CUDA_HOME", "/nonexistent"), "bin", "ptxas"),
             "/usr/local/cuda/bin/ptxas", shutil.which("ptxas")]:
    if cand and os.path.exists(cand):
        ptxas = cand
        break
if ptxas:
    config.available_features.add("ptxas")
    config.substitutions.append(("%ptxas", ptxas))

# cuda: a GPU and a driver are present (never on CI).
try:
    if subprocess.run(["nvidia-smi", "-L"], capture_output=True,
                      timeout=20).returncode == 0:
        config.available_features.add("cuda")
except (OSError, subprocess.TimeoutExpired):
    pass

# xgboost: Debian's python3-xgboost, for the system Python (not a pyenv or
# virtualenv python3 on PATH). The cost model's tree walker is checked
# against it.
system_python = "/usr/bin/python3"
config.substitutions.append(("%system_python", system_python))
try:
    if subprocess.run([system_python, "-c", "import xgboost"],
                      capture_output=True, timeout=60).returncode == 0:
        config.available_features.add("xgboost")
except (OSError, subprocess.TimeoutExpired):
    pass
