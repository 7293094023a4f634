// linear_cross_entropy_grad on the CPU (attn-decompose, JIT) against the
// float64 reference, every attribute, with and without a bias. attn-run
// draws hidden, weight, bias and labels (uniform in [0, V), 10% set to
// ignore_index) and computes the saved lse with the forward reference of
// attn.linear_cross_entropy; grad_loss is uniform in [-1, 1].
// f32 gradients: rel_l2 <= 1e-5; bf16: 2e-2 (the output rounding).
// RUN: attn-run %s --device cpu --function mean_default --tolerance 1e-5 --iterations 0 | FileCheck %s
// RUN: attn-run %s --device cpu --function one_token_bias --tolerance 1e-5 --iterations 0 | FileCheck %s
// RUN: attn-run %s --device cpu --function none_bias_all_attributes --input-scale 2 --tolerance 1e-5 --iterations 0 | FileCheck %s
// RUN: attn-run %s --device cpu --function sum_smoothing_zloss --tolerance 1e-5 --iterations 0 | FileCheck %s
// RUN: attn-run %s --device cpu --function mean_bias_softcap_ignore_zero --input-scale 2 --tolerance 1e-5 --iterations 0 | FileCheck %s
// RUN: attn-run %s --device cpu --function larger_mean_bias --tolerance 1e-5 --iterations 0 | FileCheck %s
// RUN: attn-run %s --device cpu --function bf16_i32_labels_bias --tolerance 2e-2 --iterations 0 | FileCheck %s
// Every token ignored: every gradient is exactly 0, not NaN (mean divides
// by a count of 0).
// RUN: attn-run %s --device cpu --function mean_default --ignore-fraction 1 --tolerance 1e-5 --iterations 0 | FileCheck %s --check-prefixes=CHECK,ALLIGNORED
// RUN: attn-run %s --device cpu --function mean_bias_softcap_ignore_zero --ignore-fraction 1 --tolerance 1e-5 --iterations 0 | FileCheck %s --check-prefixes=CHECK,ALLIGNORED,ALLIGNOREDBIAS
//
// Central finite differences of attn.linear_cross_entropy's float64
// reference with the same attributes (attn-run --finite-differences: step
// h = 1e-5 max(1, |x|), two forward evaluations per element of hidden,
// weight and bias): the float64 gradient reference must agree within
// rel_l2 1e-6, the executed f32 gradient op within 1e-5. Every reduction,
// label smoothing, z-loss, softcap, bias and none, ignored tokens (30%),
// one token, and all ignored.
// RUN: attn-run %s --device cpu --function mean_default --ignore-fraction 0.3 --tolerance 1e-5 --finite-differences --iterations 0 | FileCheck %s --check-prefixes=CHECK,FD
// RUN: attn-run %s --device cpu --function one_token_bias --tolerance 1e-5 --finite-differences --iterations 0 | FileCheck %s --check-prefixes=CHECK,FD,FDBIAS
// RUN: attn-run %s --device cpu --function none_bias_all_attributes --ignore-fraction 0.3 --input-scale 2 --tolerance 1e-5 --finite-differences --iterations 0 | FileCheck %s --check-prefixes=CHECK,FD,FDBIAS
// RUN: attn-run %s --device cpu --function sum_smoothing_zloss --ignore-fraction 0.3 --input-scale 2 --tolerance 1e-5 --finite-differences --iterations 0 | FileCheck %s --check-prefixes=CHECK,FD
// RUN: attn-run %s --device cpu --function mean_bias_softcap_ignore_zero --ignore-fraction 0.3 --input-scale 2 --tolerance 1e-5 --finite-differences --iterations 0 | FileCheck %s --check-prefixes=CHECK,FD,FDBIAS
// RUN: attn-run %s --device cpu --function mean_bias_softcap_ignore_zero --ignore-fraction 1 --tolerance 1e-5 --finite-differences --iterations 0 | FileCheck %s --check-prefixes=CHECK,FD,FDBIAS

// CHECK: attn-run: function {{.*}} (attn.linear_cross_entropy_grad) on CPU (MLIR JIT)
// CHECK-NOT: FAIL
// ALLIGNORED: output result0 [{{.*}}]: rel_l2 0.000e+00 max_abs 0.000e+00
// ALLIGNORED: output result1 [{{.*}}]: rel_l2 0.000e+00 max_abs 0.000e+00
// ALLIGNOREDBIAS: output result2 [{{.*}}]: rel_l2 0.000e+00 max_abs 0.000e+00
// FD: finite differences of attn.linear_cross_entropy: step 1.0e-05
// FD-NEXT: reference result0 vs finite differences: rel_l2 {{.*}} tol 1.0e-06 PASS
// FD-NEXT: output result0 vs finite differences: rel_l2 {{.*}} tol 1.0e-05 PASS
// FD-NEXT: reference result1 vs finite differences: rel_l2 {{.*}} tol 1.0e-06 PASS
// FD-NEXT: output result1 vs finite differences: rel_l2 {{.*}} tol 1.0e-05 PASS
// FDBIAS-NEXT: reference result2 vs finite differences: rel_l2 {{.*}} tol 1.0e-06 PASS
// FDBIAS-NEXT: output result2 vs finite differences: rel_l2 {{.*}} tol 1.0e-05 PASS
// CHECK: attn-run: PASS

func.func @mean_default(%h: tensor<7x5xf32>, %w: tensor<11x5xf32>, %y: tensor<7xi64>, %lse: tensor<7xf32>, %dl: tensor<f32>) -> (tensor<7x5xf32>, tensor<11x5xf32>) {
  %dh, %dw = attn.linear_cross_entropy_grad %h, %w, %y, %lse, %dl : tensor<7x5xf32>, tensor<11x5xf32>, tensor<7xi64>, tensor<7xf32>, tensor<f32> -> tensor<7x5xf32>, tensor<11x5xf32>
  return %dh, %dw : tensor<7x5xf32>, tensor<11x5xf32>
}
func.func @one_token_bias(%h: tensor<1x5xf32>, %w: tensor<11x5xf32>, %b: tensor<11xf32>, %y: tensor<1xi64>, %lse: tensor<1xf32>, %dl: tensor<f32>) -> (tensor<1x5xf32>, tensor<11x5xf32>, tensor<11xf32>) {
  %dh, %dw, %db = attn.linear_cross_entropy_grad %h, %w, %y bias(%b : tensor<11xf32>), %lse, %dl {label_smoothing = 0.2 : f32, reduction = #attn.reduction<sum>} : tensor<1x5xf32>, tensor<11x5xf32>, tensor<1xi64>, tensor<1xf32>, tensor<f32> -> tensor<1x5xf32>, tensor<11x5xf32>, tensor<11xf32>
  return %dh, %dw, %db : tensor<1x5xf32>, tensor<11x5xf32>, tensor<11xf32>
}
func.func @none_bias_all_attributes(%h: tensor<7x5xf32>, %w: tensor<11x5xf32>, %b: tensor<11xf32>, %y: tensor<7xi32>, %lse: tensor<7xf32>, %dl: tensor<7xf32>) -> (tensor<7x5xf32>, tensor<11x5xf32>, tensor<11xf32>) {
  %dh, %dw, %db = attn.linear_cross_entropy_grad %h, %w, %y bias(%b : tensor<11xf32>), %lse, %dl {label_smoothing = 0.3 : f32, z_loss = 1.0e-2 : f32, softcap = 2.5 : f32, ignore_index = -1 : i64, reduction = #attn.reduction<none>} : tensor<7x5xf32>, tensor<11x5xf32>, tensor<7xi32>, tensor<7xf32>, tensor<7xf32> -> tensor<7x5xf32>, tensor<11x5xf32>, tensor<11xf32>
  return %dh, %dw, %db : tensor<7x5xf32>, tensor<11x5xf32>, tensor<11xf32>
}
func.func @sum_smoothing_zloss(%h: tensor<7x5xf32>, %w: tensor<11x5xf32>, %y: tensor<7xi64>, %lse: tensor<7xf32>, %dl: tensor<f32>) -> (tensor<7x5xf32>, tensor<11x5xf32>) {
  %dh, %dw = attn.linear_cross_entropy_grad %h, %w, %y, %lse, %dl {label_smoothing = 0.1 : f32, z_loss = 1.0e-2 : f32, reduction = #attn.reduction<sum>} : tensor<7x5xf32>, tensor<11x5xf32>, tensor<7xi64>, tensor<7xf32>, tensor<f32> -> tensor<7x5xf32>, tensor<11x5xf32>
  return %dh, %dw : tensor<7x5xf32>, tensor<11x5xf32>
}
func.func @mean_bias_softcap_ignore_zero(%h: tensor<7x5xf32>, %w: tensor<11x5xf32>, %b: tensor<11xf32>, %y: tensor<7xi64>, %lse: tensor<7xf32>, %dl: tensor<f32>) -> (tensor<7x5xf32>, tensor<11x5xf32>, tensor<11xf32>) {
  %dh, %dw, %db = attn.linear_cross_entropy_grad %h, %w, %y bias(%b : tensor<11xf32>), %lse, %dl {softcap = 2.5 : f32, z_loss = 1.0e-3 : f32, label_smoothing = 0.1 : f32, ignore_index = 0 : i64} : tensor<7x5xf32>, tensor<11x5xf32>, tensor<7xi64>, tensor<7xf32>, tensor<f32> -> tensor<7x5xf32>, tensor<11x5xf32>, tensor<11xf32>
  return %dh, %dw, %db : tensor<7x5xf32>, tensor<11x5xf32>, tensor<11xf32>
}
func.func @larger_mean_bias(%h: tensor<33x64xf32>, %w: tensor<517x64xf32>, %b: tensor<517xf32>, %y: tensor<33xi64>, %lse: tensor<33xf32>, %dl: tensor<f32>) -> (tensor<33x64xf32>, tensor<517x64xf32>, tensor<517xf32>) {
  %dh, %dw, %db = attn.linear_cross_entropy_grad %h, %w, %y bias(%b : tensor<517xf32>), %lse, %dl : tensor<33x64xf32>, tensor<517x64xf32>, tensor<33xi64>, tensor<33xf32>, tensor<f32> -> tensor<33x64xf32>, tensor<517x64xf32>, tensor<517xf32>
  return %dh, %dw, %db : tensor<33x64xf32>, tensor<517x64xf32>, tensor<517xf32>
}
func.func @bf16_i32_labels_bias(%h: tensor<9x32xbf16>, %w: tensor<301x32xbf16>, %b: tensor<301xbf16>, %y: tensor<9xi32>, %lse: tensor<9xf32>, %dl: tensor<f32>) -> (tensor<9x32xbf16>, tensor<301x32xbf16>, tensor<301xbf16>) {
  %dh, %dw, %db = attn.linear_cross_entropy_grad %h, %w, %y bias(%b : tensor<301xbf16>), %lse, %dl {label_smoothing = 0.2 : f32} : tensor<9x32xbf16>, tensor<301x32xbf16>, tensor<9xi32>, tensor<9xf32>, tensor<f32> -> tensor<9x32xbf16>, tensor<301x32xbf16>, tensor<301xbf16>
  return %dh, %dw, %db : tensor<9x32xbf16>, tensor<301x32xbf16>, tensor<301xbf16>
}
