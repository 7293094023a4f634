// The softmax / log_softmax gradient row kernels (attn-map-to-gpu: the
// softmax family's row kernels reading y and dy): a row per warp or per
// block, one or two passes, a row over a cluster of blocks, 16-byte and
// scalar accesses, rows shorter than a warp's chunks. bench/check_gpu.sh
// runs them on the GPU against the float64 reference (bench/gpu_check.list);
// here lit checks that each compiles to an sm_90a package through the row
// kernels (no simple-mapping remark).
// REQUIRES: ptxas
// RUN: rm -rf %t && attn-opt %s --attn-to-cubin="chip=h200-sxm package-dir=%t" -o /dev/null 2>&1 | FileCheck %s --check-prefix=REMARK --allow-empty
// RUN: FileCheck %s --input-file=%t/manifest.json
// REMARK-NOT: simple GPU mapping
// CHECK-DAG: "kernel": "softmax_grad_113x1023_bf16_kernel"
// CHECK-DAG: "kernel": "log_softmax_grad_17x4096_f32_kernel"
// CHECK-DAG: "kernel": "softmax_grad_5x40000_bf16_kernel"
// CHECK-DAG: "kernel": "softmax_grad_3x100003_f16_cluster8_kernel"
// CHECK-DAG: "kernel": "log_softmax_grad_9x2048_bf16_cluster2_warp1_kernel"
// CHECK-DAG: "kernel": "softmax_grad_2x3x777_f32_kernel"
// CHECK-DAG: "kernel": "log_softmax_grad_64x8_f32_kernel"
// CHECK-DAG: "kernel": "log_softmax_grad_7x5000_f32_two_pass_warp_kernel"
// CHECK-DAG: "mapping": "attn-map-to-gpu"

func.func @softmax_grad_113x1023_bf16(%y: tensor<113x1023xbf16>, %dy: tensor<113x1023xbf16>) -> tensor<113x1023xbf16> {
  %0 = attn.softmax_grad %y, %dy, dim = 1 : tensor<113x1023xbf16>, tensor<113x1023xbf16> -> tensor<113x1023xbf16>
  return %0 : tensor<113x1023xbf16>
}
func.func @log_softmax_grad_17x4096_f32(%y: tensor<17x4096xf32>, %dy: tensor<17x4096xf32>) -> tensor<17x4096xf32> {
  %0 = attn.log_softmax_grad %y, %dy, dim = 1 : tensor<17x4096xf32>, tensor<17x4096xf32> -> tensor<17x4096xf32>
  return %0 : tensor<17x4096xf32>
}
func.func @softmax_grad_5x40000_bf16(%y: tensor<5x40000xbf16>, %dy: tensor<5x40000xbf16>) -> tensor<5x40000xbf16> {
  %0 = attn.softmax_grad %y, %dy, dim = 1 : tensor<5x40000xbf16>, tensor<5x40000xbf16> -> tensor<5x40000xbf16>
  return %0 : tensor<5x40000xbf16>
}
func.func @softmax_grad_3x100003_f16_cluster8(%y: tensor<3x100003xf16>, %dy: tensor<3x100003xf16>) -> tensor<3x100003xf16> {
  %0 = attn.softmax_grad %y, %dy, dim = 1 {schedule = #attn.schedule<block_m = 1, block_n = 12501, warps = 16, split = 8, chip = "sm_90a">} : tensor<3x100003xf16>, tensor<3x100003xf16> -> tensor<3x100003xf16>
  return %0 : tensor<3x100003xf16>
}
func.func @log_softmax_grad_9x2048_bf16_cluster2_warp1(%y: tensor<9x2048xbf16>, %dy: tensor<9x2048xbf16>) -> tensor<9x2048xbf16> {
  %0 = attn.log_softmax_grad %y, %dy, dim = 1 {schedule = #attn.schedule<block_m = 1, block_n = 1024, warps = 1, split = 2, chip = "sm_90a">} : tensor<9x2048xbf16>, tensor<9x2048xbf16> -> tensor<9x2048xbf16>
  return %0 : tensor<9x2048xbf16>
}
func.func @softmax_grad_2x3x777_f32(%y: tensor<2x3x777xf32>, %dy: tensor<2x3x777xf32>) -> tensor<2x3x777xf32> {
  %0 = attn.softmax_grad %y, %dy, dim = 2 : tensor<2x3x777xf32>, tensor<2x3x777xf32> -> tensor<2x3x777xf32>
  return %0 : tensor<2x3x777xf32>
}
func.func @log_softmax_grad_64x8_f32(%y: tensor<64x8xf32>, %dy: tensor<64x8xf32>) -> tensor<64x8xf32> {
  %0 = attn.log_softmax_grad %y, %dy, dim = 1 : tensor<64x8xf32>, tensor<64x8xf32> -> tensor<64x8xf32>
  return %0 : tensor<64x8xf32>
}
func.func @log_softmax_grad_7x5000_f32_two_pass_warp(%y: tensor<7x5000xf32>, %dy: tensor<7x5000xf32>) -> tensor<7x5000xf32> {
  %0 = attn.log_softmax_grad %y, %dy, dim = 1 {schedule = #attn.schedule<block_m = 4, block_n = 4096, warps = 4, passes = 2, chip = "sm_90a">} : tensor<7x5000xf32>, tensor<7x5000xf32> -> tensor<7x5000xf32>
  return %0 : tensor<7x5000xf32>
}
