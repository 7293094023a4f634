#!/usr/bin/env bash
# Quick start, step 1: install what is missing, build attn-mlir, and run the
# main job on examples/attention.mlir: compile it to a GPU kernel package
# (cubin + manifest) for sm_90a, then run it on the GPU if there is one,
# otherwise JIT it on the CPU; either way compare with a float64 reference.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
EXAMPLE=${EXAMPLE:-examples/attention.mlir}

./scripts/deps.sh
if [ ! -f "$BUILD/build.ninja" ]; then
  cmake -G Ninja -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release
fi
ninja -C "$BUILD" -j"${JOBS:-$(nproc)}"

echo
echo "== attn-opt --attn-to-cubin: $EXAMPLE -> $BUILD/quickstart-package"
rm -rf "$BUILD/quickstart-package"
if "$BUILD/bin/attn-opt" "$EXAMPLE" \
     --attn-to-cubin="chip=sm_90a package-dir=$BUILD/quickstart-package" \
     -o /dev/null; then
  ls -l "$BUILD/quickstart-package"
  have_package=1
else
  echo "(no kernel package: ptxas from CUDA 12.x/13 is needed for sm_90a;"
  echo " set CUDA_HOME or install the CUDA toolkit in /usr/local/cuda)"
  have_package=0
fi

echo
if [ "$have_package" = 1 ] && nvidia-smi -L >/dev/null 2>&1; then
  echo "== attn-run on the GPU"
  "$BUILD/bin/attn-run" "$BUILD/quickstart-package"
else
  echo "== no GPU here: attn-run --device cpu (the same function, JIT-compiled for this CPU)"
  "$BUILD/bin/attn-run" "$EXAMPLE" --device cpu
fi
