// cross_entropy on the CPU against the float64 reference. Labels are
// uniform in [0, V) with 10% set to ignore_index (the attribute's value).
// Every output is f32 computed in f32: rel_l2 <= 1e-5, logits of magnitude
// 1e4 included.
// RUN: attn-run %s --device cpu --function mean_default --tolerance 1e-5 --iterations 0 | FileCheck %s
// RUN: attn-run %s --device cpu --function none_with_lse --tolerance 1e-5 --iterations 0 | FileCheck %s
// RUN: attn-run %s --device cpu --function sum_smoothing_zloss --tolerance 1e-5 --iterations 0 | FileCheck %s
// RUN: attn-run %s --device cpu --function softcap_ignore_zero --input-scale 50 --tolerance 1e-5 --iterations 0 | FileCheck %s
// RUN: attn-run %s --device cpu --function bf16_i32_labels --tolerance 1e-5 --iterations 0 | FileCheck %s
// Logits of magnitude 1e4: no overflow.
// RUN: attn-run %s --device cpu --function none_with_lse --input-scale 1e4 --tolerance 1e-5 --iterations 0 | FileCheck %s
// RUN: attn-run %s --device cpu --function sum_smoothing_zloss --input-scale 1e4 --tolerance 1e-5 --iterations 0 | FileCheck %s
// Every token ignored: the mean is 0, not NaN.
// RUN: attn-run %s --device cpu --function mean_default --ignore-fraction 1 --tolerance 1e-5 --iterations 0 | FileCheck %s --check-prefixes=CHECK,ALLIGNORED

// CHECK: attn-run: function {{.*}} (attn.cross_entropy) on CPU (MLIR JIT)
// CHECK-NOT: FAIL
// ALLIGNORED: output result0 [f32]: rel_l2 0.000e+00 max_abs 0.000e+00
// CHECK: attn-run: PASS

func.func @mean_default(%z: tensor<17x1000xf32>, %y: tensor<17xi64>) -> tensor<f32> {
  %0 = attn.cross_entropy %z, %y : tensor<17x1000xf32>, tensor<17xi64> -> tensor<f32>
  return %0 : tensor<f32>
}
func.func @none_with_lse(%z: tensor<33x517xf32>, %y: tensor<33xi64>) -> (tensor<33xf32>, tensor<33xf32>) {
  %0, %1 = attn.cross_entropy %z, %y {reduction = #attn.reduction<none>} : tensor<33x517xf32>, tensor<33xi64> -> tensor<33xf32>, tensor<33xf32>
  return %0, %1 : tensor<33xf32>, tensor<33xf32>
}
func.func @sum_smoothing_zloss(%z: tensor<9x1000xf32>, %y: tensor<9xi64>) -> tensor<f32> {
  %0 = attn.cross_entropy %z, %y {label_smoothing = 0.1 : f32, z_loss = 1.0e-4 : f32, reduction = #attn.reduction<sum>} : tensor<9x1000xf32>, tensor<9xi64> -> tensor<f32>
  return %0 : tensor<f32>
}
func.func @softcap_ignore_zero(%z: tensor<16x300xf32>, %y: tensor<16xi64>) -> (tensor<16xf32>, tensor<16xf32>) {
  %0, %1 = attn.cross_entropy %z, %y {softcap = 30.0 : f32, ignore_index = 0 : i64, reduction = #attn.reduction<none>} : tensor<16x300xf32>, tensor<16xi64> -> tensor<16xf32>, tensor<16xf32>
  return %0, %1 : tensor<16xf32>, tensor<16xf32>
}
func.func @bf16_i32_labels(%z: tensor<8x32003xbf16>, %y: tensor<8xi32>) -> tensor<f32> {
  %0 = attn.cross_entropy %z, %y {label_smoothing = 0.2 : f32} : tensor<8x32003xbf16>, tensor<8xi32> -> tensor<f32>
  return %0 : tensor<f32>
}
