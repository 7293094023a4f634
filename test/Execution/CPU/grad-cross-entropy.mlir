// cross_entropy_grad on the CPU (attn-decompose, JIT) against the float64
// reference, every attribute. attn-run draws logits and labels (uniform in
// [0, V), 10% set to ignore_index) and computes the saved lse with the
// forward reference of attn.cross_entropy; grad_loss is uniform in [-1, 1].
// f32 gradients: rel_l2 <= 1e-5; bf16: 2e-2 (the output rounding).
// RUN: attn-run %s --device cpu --function mean_default --tolerance 1e-5 --iterations 0 | FileCheck %s
// RUN: attn-run %s --device cpu --function none_per_token --tolerance 1e-5 --iterations 0 | FileCheck %s
// RUN: attn-run %s --device cpu --function sum_smoothing_zloss --tolerance 1e-5 --iterations 0 | FileCheck %s
// RUN: attn-run %s --device cpu --function softcap_ignore_zero --input-scale 50 --tolerance 1e-5 --iterations 0 | FileCheck %s
// RUN: attn-run %s --device cpu --function full_smoothing --tolerance 1e-5 --iterations 0 | FileCheck %s
// RUN: attn-run %s --device cpu --function bf16_i32_labels --tolerance 2e-2 --iterations 0 | FileCheck %s
// Logits of magnitude 1e4: no overflow.
// RUN: attn-run %s --device cpu --function none_per_token --input-scale 1e4 --tolerance 1e-5 --iterations 0 | FileCheck %s
// RUN: attn-run %s --device cpu --function sum_smoothing_zloss --input-scale 1e4 --tolerance 1e-5 --iterations 0 | FileCheck %s
// Every token ignored: every gradient is exactly 0, not NaN (mean divides
// by a count of 0).
// RUN: attn-run %s --device cpu --function mean_default --ignore-fraction 1 --tolerance 1e-5 --iterations 0 | FileCheck %s --check-prefixes=CHECK,ALLIGNORED
// RUN: attn-run %s --device cpu --function mean_all_attributes --ignore-fraction 1 --tolerance 1e-5 --iterations 0 | FileCheck %s --check-prefixes=CHECK,ALLIGNORED
//
// Central finite differences of attn.cross_entropy's float64 reference
// with the same attributes (attn-run --finite-differences: step
// h = 1e-5 max(1, |z|), two forward evaluations per logit): the float64
// gradient reference must agree within rel_l2 1e-6, the executed f32
// gradient op within 1e-5. Every reduction, label smoothing, z-loss,
// softcap, ignored tokens (30%), and all ignored.
// RUN: attn-run %s --device cpu --function fd_mean --ignore-fraction 0.3 --tolerance 1e-5 --finite-differences --iterations 0 | FileCheck %s --check-prefixes=CHECK,FD
// RUN: attn-run %s --device cpu --function fd_sum_all_attributes --ignore-fraction 0.3 --input-scale 4 --tolerance 1e-5 --finite-differences --iterations 0 | FileCheck %s --check-prefixes=CHECK,FD
// RUN: attn-run %s --device cpu --function fd_none_all_attributes --ignore-fraction 0.3 --input-scale 4 --tolerance 1e-5 --finite-differences --iterations 0 | FileCheck %s --check-prefixes=CHECK,FD
// RUN: attn-run %s --device cpu --function mean_all_attributes --ignore-fraction 0.3 --input-scale 4 --tolerance 1e-5 --finite-differences --iterations 0 | FileCheck %s --check-prefixes=CHECK,FD
// RUN: attn-run %s --device cpu --function fd_mean --ignore-fraction 1 --tolerance 1e-5 --finite-differences --iterations 0 | FileCheck %s --check-prefixes=CHECK,FD

// CHECK: attn-run: function {{.*}} (attn.cross_entropy_grad) on CPU (MLIR JIT)
// CHECK-NOT: FAIL
// ALLIGNORED: output result0 [{{.*}}]: rel_l2 0.000e+00 max_abs 0.000e+00
// FD: finite differences of attn.cross_entropy: step 1.0e-05
// FD-NEXT: reference result0 vs finite differences: rel_l2 {{.*}} tol 1.0e-06 PASS
// FD-NEXT: output result0 vs finite differences: rel_l2 {{.*}} tol 1.0e-05 PASS
// CHECK: attn-run: PASS

func.func @mean_default(%z: tensor<17x1000xf32>, %y: tensor<17xi64>, %lse: tensor<17xf32>, %dl: tensor<f32>) -> tensor<17x1000xf32> {
  %0 = attn.cross_entropy_grad %z, %y, %lse, %dl : tensor<17x1000xf32>, tensor<17xi64>, tensor<17xf32>, tensor<f32> -> tensor<17x1000xf32>
  return %0 : tensor<17x1000xf32>
}
func.func @none_per_token(%z: tensor<33x517xf32>, %y: tensor<33xi64>, %lse: tensor<33xf32>, %dl: tensor<33xf32>) -> tensor<33x517xf32> {
  %0 = attn.cross_entropy_grad %z, %y, %lse, %dl {reduction = #attn.reduction<none>} : tensor<33x517xf32>, tensor<33xi64>, tensor<33xf32>, tensor<33xf32> -> tensor<33x517xf32>
  return %0 : tensor<33x517xf32>
}
func.func @sum_smoothing_zloss(%z: tensor<9x1000xf32>, %y: tensor<9xi64>, %lse: tensor<9xf32>, %dl: tensor<f32>) -> tensor<9x1000xf32> {
  %0 = attn.cross_entropy_grad %z, %y, %lse, %dl {label_smoothing = 0.1 : f32, z_loss = 1.0e-4 : f32, reduction = #attn.reduction<sum>} : tensor<9x1000xf32>, tensor<9xi64>, tensor<9xf32>, tensor<f32> -> tensor<9x1000xf32>
  return %0 : tensor<9x1000xf32>
}
func.func @softcap_ignore_zero(%z: tensor<16x300xf32>, %y: tensor<16xi64>, %lse: tensor<16xf32>, %dl: tensor<16xf32>) -> tensor<16x300xf32> {
  %0 = attn.cross_entropy_grad %z, %y, %lse, %dl {softcap = 30.0 : f32, ignore_index = 0 : i64, reduction = #attn.reduction<none>} : tensor<16x300xf32>, tensor<16xi64>, tensor<16xf32>, tensor<16xf32> -> tensor<16x300xf32>
  return %0 : tensor<16x300xf32>
}
// label_smoothing = 1: the target term vanishes (1 - eps = 0).
func.func @full_smoothing(%z: tensor<5x77xf32>, %y: tensor<5xi32>, %lse: tensor<5xf32>, %dl: tensor<f32>) -> tensor<5x77xf32> {
  %0 = attn.cross_entropy_grad %z, %y, %lse, %dl {label_smoothing = 1.0 : f32, reduction = #attn.reduction<sum>} : tensor<5x77xf32>, tensor<5xi32>, tensor<5xf32>, tensor<f32> -> tensor<5x77xf32>
  return %0 : tensor<5x77xf32>
}
func.func @bf16_i32_labels(%z: tensor<8x32003xbf16>, %y: tensor<8xi32>, %lse: tensor<8xf32>, %dl: tensor<f32>) -> tensor<8x32003xbf16> {
  %0 = attn.cross_entropy_grad %z, %y, %lse, %dl {label_smoothing = 0.2 : f32} : tensor<8x32003xbf16>, tensor<8xi32>, tensor<8xf32>, tensor<f32> -> tensor<8x32003xbf16>
  return %0 : tensor<8x32003xbf16>
}
// Small shapes for the finite differences.
func.func @fd_mean(%z: tensor<13x31xf32>, %y: tensor<13xi64>, %lse: tensor<13xf32>, %dl: tensor<f32>) -> tensor<13x31xf32> {
  %0 = attn.cross_entropy_grad %z, %y, %lse, %dl : tensor<13x31xf32>, tensor<13xi64>, tensor<13xf32>, tensor<f32> -> tensor<13x31xf32>
  return %0 : tensor<13x31xf32>
}
func.func @fd_sum_all_attributes(%z: tensor<13x31xf32>, %y: tensor<13xi64>, %lse: tensor<13xf32>, %dl: tensor<f32>) -> tensor<13x31xf32> {
  %0 = attn.cross_entropy_grad %z, %y, %lse, %dl {label_smoothing = 0.1 : f32, z_loss = 1.0e-2 : f32, softcap = 2.5 : f32, ignore_index = 3 : i64, reduction = #attn.reduction<sum>} : tensor<13x31xf32>, tensor<13xi64>, tensor<13xf32>, tensor<f32> -> tensor<13x31xf32>
  return %0 : tensor<13x31xf32>
}
func.func @fd_none_all_attributes(%z: tensor<13x31xf32>, %y: tensor<13xi32>, %lse: tensor<13xf32>, %dl: tensor<13xf32>) -> tensor<13x31xf32> {
  %0 = attn.cross_entropy_grad %z, %y, %lse, %dl {label_smoothing = 0.3 : f32, z_loss = 1.0e-2 : f32, softcap = 2.5 : f32, reduction = #attn.reduction<none>} : tensor<13x31xf32>, tensor<13xi32>, tensor<13xf32>, tensor<13xf32> -> tensor<13x31xf32>
  return %0 : tensor<13x31xf32>
}
func.func @mean_all_attributes(%z: tensor<13x31xf32>, %y: tensor<13xi64>, %lse: tensor<13xf32>, %dl: tensor<f32>) -> tensor<13x31xf32> {
  %0 = attn.cross_entropy_grad %z, %y, %lse, %dl {label_smoothing = 0.1 : f32, z_loss = 1.0e-3 : f32, softcap = 2.5 : f32, ignore_index = -1 : i64} : tensor<13x31xf32>, tensor<13xi64>, tensor<13xf32>, tensor<f32> -> tensor<13x31xf32>
  return %0 : tensor<13x31xf32>
}
