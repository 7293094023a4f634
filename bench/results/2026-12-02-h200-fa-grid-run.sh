# On the GPU machine: FlashAttention's test criterion over FlashAttention-3's
# sequence grid (python/tests/fa_grid.py), forward and backward, on
# packages compiled on the build machine:
#   PYTHONPATH=python python3 python/tests/fa_grid.py --precompile build-fagrid --chip h200-sxm
set -u
export PATH=/usr/local/cuda/bin:$PATH
cmake -G Ninja -S . -B build-rt -DATTN_RUNTIME_ONLY=ON -DCMAKE_BUILD_TYPE=Release > /tmp/cm.log 2>&1 && ninja -C build-rt AttnRuntimeC >> /tmp/cm.log 2>&1 || { tail -30 /tmp/cm.log; exit 2; }
ATTN_MLIR_PACKAGES=build-fagrid ATTN_RUNTIME_LIB=$PWD/build-rt/lib/libAttnRuntimeC.so PYTHONPATH=python timeout 150 python3 python/tests/fa_grid.py 2>&1 | tee $OUT/fa_grid.txt | cut -c1-150; echo "fa_grid rc ${PIPESTATUS[0]}"
