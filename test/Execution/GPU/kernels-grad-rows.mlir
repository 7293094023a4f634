// The softmax / log_softmax gradient row kernels (attn-map-to-gpu: the
// softmax family's row kernels reading y and dy): a row per warp or per
// block, one or two passes, a row over a cluster of blocks, 16-byte and
// scalar accesses, rows shorter than a warp's chunks. Then the elementwise
// row kernel of cross_entropy_grad (every reduction, every attribute, all
// labels ignored, V up to 128256) and logsumexp_grad. bench/check_gpu.sh
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
// CHECK-DAG: "kernel": "ce_grad_mean_bf16_113x32000_kernel"
// CHECK-DAG: "kernel": "ce_grad_mean_all_ignored_17x1024_kernel"
// CHECK-DAG: "kernel": "ce_grad_none_all_attributes_f16_33x4099_kernel"
// CHECK-DAG: "kernel": "ce_grad_sum_bf16_9x128256_warps16_kernel"
// CHECK-DAG: "kernel": "ce_grad_mean_f32_64x1001_row_per_warp_kernel"
// CHECK-DAG: "kernel": "logsumexp_grad_bf16_2x3x4099_kernel"
// CHECK-DAG: "kernel": "logsumexp_grad_f32_17x262144_kernel"
// CHECK-DAG: "kernel": "logsumexp_grad_f16_113x1024_row_per_warp_kernel"
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
func.func @ce_grad_mean_bf16_113x32000(%z: tensor<113x32000xbf16>, %y: tensor<113xi64>, %lse: tensor<113xf32>, %dl: tensor<f32>) -> tensor<113x32000xbf16> {
  %0 = attn.cross_entropy_grad %z, %y, %lse, %dl : tensor<113x32000xbf16>, tensor<113xi64>, tensor<113xf32>, tensor<f32> -> tensor<113x32000xbf16>
  return %0 : tensor<113x32000xbf16>
}
func.func @ce_grad_mean_all_ignored_17x1024(%z: tensor<17x1024xbf16>, %y: tensor<17xi64>, %lse: tensor<17xf32>, %dl: tensor<f32>) -> tensor<17x1024xbf16> {
  %0 = attn.cross_entropy_grad %z, %y, %lse, %dl : tensor<17x1024xbf16>, tensor<17xi64>, tensor<17xf32>, tensor<f32> -> tensor<17x1024xbf16>
  return %0 : tensor<17x1024xbf16>
}
func.func @ce_grad_none_all_attributes_f16_33x4099(%z: tensor<33x4099xf16>, %y: tensor<33xi32>, %lse: tensor<33xf32>, %dl: tensor<33xf32>) -> tensor<33x4099xf16> {
  %0 = attn.cross_entropy_grad %z, %y, %lse, %dl {softcap = 30.0 : f32, label_smoothing = 0.1 : f32, z_loss = 1.0e-4 : f32, ignore_index = 0 : i64, reduction = #attn.reduction<none>} : tensor<33x4099xf16>, tensor<33xi32>, tensor<33xf32>, tensor<33xf32> -> tensor<33x4099xf16>
  return %0 : tensor<33x4099xf16>
}
func.func @ce_grad_sum_bf16_9x128256_warps16(%z: tensor<9x128256xbf16>, %y: tensor<9xi64>, %lse: tensor<9xf32>, %dl: tensor<f32>) -> tensor<9x128256xbf16> {
  %0 = attn.cross_entropy_grad %z, %y, %lse, %dl {reduction = #attn.reduction<sum>, schedule = #attn.schedule<block_m = 1, warps = 16, chip = "sm_90a">} : tensor<9x128256xbf16>, tensor<9xi64>, tensor<9xf32>, tensor<f32> -> tensor<9x128256xbf16>
  return %0 : tensor<9x128256xbf16>
}
func.func @ce_grad_mean_f32_64x1001_row_per_warp(%z: tensor<64x1001xf32>, %y: tensor<64xi64>, %lse: tensor<64xf32>, %dl: tensor<f32>) -> tensor<64x1001xf32> {
  %0 = attn.cross_entropy_grad %z, %y, %lse, %dl {label_smoothing = 0.2 : f32, schedule = #attn.schedule<block_m = 4, warps = 4, chip = "sm_90a">} : tensor<64x1001xf32>, tensor<64xi64>, tensor<64xf32>, tensor<f32> -> tensor<64x1001xf32>
  return %0 : tensor<64x1001xf32>
}
func.func @logsumexp_grad_bf16_2x3x4099(%x: tensor<2x3x4099xbf16>, %lse: tensor<2x3xf32>, %dlse: tensor<2x3xf32>) -> tensor<2x3x4099xbf16> {
  %0 = attn.logsumexp_grad %x, %lse, %dlse, dim = 2 : tensor<2x3x4099xbf16>, tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x3x4099xbf16>
  return %0 : tensor<2x3x4099xbf16>
}
func.func @logsumexp_grad_f32_17x262144(%x: tensor<17x262144xf32>, %lse: tensor<17xf32>, %dlse: tensor<17xf32>) -> tensor<17x262144xf32> {
  %0 = attn.logsumexp_grad %x, %lse, %dlse, dim = 1 : tensor<17x262144xf32>, tensor<17xf32>, tensor<17xf32> -> tensor<17x262144xf32>
  return %0 : tensor<17x262144xf32>
}
func.func @logsumexp_grad_f16_113x1024_row_per_warp(%x: tensor<113x1024xf16>, %lse: tensor<113xf32>, %dlse: tensor<113xf32>) -> tensor<113x1024xf16> {
  %0 = attn.logsumexp_grad %x, %lse, %dlse, dim = 1 {schedule = #attn.schedule<block_m = 2, warps = 2, chip = "sm_90a">} : tensor<113x1024xf16>, tensor<113xf32>, tensor<113xf32> -> tensor<113x1024xf16>
  return %0 : tensor<113x1024xf16>
}
