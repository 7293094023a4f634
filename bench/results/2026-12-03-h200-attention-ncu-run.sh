# Nsight Compute on three attention forward defaults: the two cases short of
# 0.85x cuDNN (b32 h16 n1024 d128, b8 h32 n2048 d64) and b4 h16 n4096 d128
# for contrast. Tensor-pipe (gmma) and MUFU (xu) utilization, issue
# activity, warp stalls per issue.
# Here first (build/bin on PATH):
#   for n in attention_b32_h16_n1024_d128 attention_b8_h32_n2048_d64 attention_b4_h16_n4096_d128; do
#     attn-opt bench/mlir/$n.mlir --attn-to-cubin="chip=h200-sxm package-dir=build-packages-prof/$n" -o /dev/null; done
set -u
export PATH=/usr/local/cuda/bin:$PATH
{ cmake -G Ninja -S . -B build-rt -DATTN_RUNTIME_ONLY=ON -DCMAKE_BUILD_TYPE=Release && ninja -C build-rt AttnRuntimeC; } > $OUT/build.log 2>&1 || { tail $OUT/build.log; exit 2; }
export ATTN_RUNTIME_LIB=$PWD/build-rt/lib/libAttnRuntimeC.so
M=sm__pipe_tensor_op_gmma_cycles_active.avg.pct_of_peak_sustained_active,sm__inst_executed_pipe_xu.avg.pct_of_peak_sustained_active,sm__throughput.avg.pct_of_peak_sustained_elapsed,gpu__time_duration.sum,sm__warps_active.avg.pct_of_peak_sustained_active,dram__throughput.avg.pct_of_peak_sustained_elapsed,smsp__average_warps_issue_stalled_barrier_per_issue_active.ratio,smsp__average_warps_issue_stalled_long_scoreboard_per_issue_active.ratio,smsp__average_warps_issue_stalled_wait_per_issue_active.ratio,smsp__average_warps_issue_stalled_math_pipe_throttle_per_issue_active.ratio,smsp__average_warps_issue_stalled_short_scoreboard_per_issue_active.ratio,smsp__average_warps_issue_stalled_sleeping_per_issue_active.ratio,smsp__average_warps_issue_stalled_mio_throttle_per_issue_active.ratio,smsp__issue_active.avg.pct_of_peak_sustained_active,launch__grid_size,launch__registers_per_thread
for n in attention_b32_h16_n1024_d128 attention_b8_h32_n2048_d64 attention_b4_h16_n4096_d128; do
  timeout 100 ncu --clock-control none -k regex:main_kernel --launch-skip 1 --launch-count 1 --metrics $M \
    python3 bench/bench.py --packages build-packages-prof --cases $n --peers none --max-reps 2 --out $OUT/bench-$n \
    > $OUT/ncu-$n.txt 2>&1
  echo "== $n rc $?"
  grep -E "gmma_cycles|pipe_xu|sm__throughput|gpu__time_duration|warps_active|dram__throughput|stalled|issue_active|registers_per|grid_size" $OUT/ncu-$n.txt | awk '{print $1, $(NF-1), $(NF)}'
done
