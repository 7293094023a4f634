// linear_cross_entropy on the CPU against the float64 reference (which
// forms hidden @ weight^T in float64). f32 inputs: rel_l2 <= 1e-5; bf16
// inputs (f32 accumulation, same rounded inputs): also 1e-5.
// RUN: attn-run %s --device cpu --function mean_f32 --tolerance 1e-5 --iterations 0 | FileCheck %s
// RUN: attn-run %s --device cpu --function bias_none_lse --tolerance 1e-5 --iterations 0 | FileCheck %s
// RUN: attn-run %s --device cpu --function bf16_sum_all_attributes --tolerance 1e-5 --iterations 0 | FileCheck %s

// CHECK: attn-run: function {{.*}} (attn.linear_cross_entropy) on CPU (MLIR JIT)
// CHECK-NOT: FAIL
// CHECK: attn-run: PASS

func.func @mean_f32(%h: tensor<17x64xf32>, %w: tensor<1000x64xf32>, %y: tensor<17xi64>) -> tensor<f32> {
  %0 = attn.linear_cross_entropy %h, %w, %y : tensor<17x64xf32>, tensor<1000x64xf32>, tensor<17xi64> -> tensor<f32>
  return %0 : tensor<f32>
}
func.func @bias_none_lse(%h: tensor<13x80xf32>, %w: tensor<257x80xf32>, %y: tensor<13xi32>, %b: tensor<257xf32>) -> (tensor<13xf32>, tensor<13xf32>) {
  %0, %1 = attn.linear_cross_entropy %h, %w, %y bias(%b : tensor<257xf32>) {reduction = #attn.reduction<none>} : tensor<13x80xf32>, tensor<257x80xf32>, tensor<13xi32> -> tensor<13xf32>, tensor<13xf32>
  return %0, %1 : tensor<13xf32>, tensor<13xf32>
}
func.func @bf16_sum_all_attributes(%h: tensor<8x128xbf16>, %w: tensor<1000x128xbf16>, %y: tensor<8xi64>, %b: tensor<1000xbf16>) -> tensor<f32> {
  %0 = attn.linear_cross_entropy %h, %w, %y bias(%b : tensor<1000xbf16>) {label_smoothing = 0.1 : f32, z_loss = 1.0e-4 : f32, softcap = 15.0 : f32, ignore_index = 3 : i64, reduction = #attn.reduction<sum>} : tensor<8x128xbf16>, tensor<1000x128xbf16>, tensor<8xi64> -> tensor<f32>
  return %0 : tensor<f32>
}
