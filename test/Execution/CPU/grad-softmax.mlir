// The gradients of the softmax family on the CPU (attn-decompose, JIT)
// against the float64 reference, any rank and reduced dim, odd sizes. The
// saved operands are consistent: attn-run draws the forward input x, and
// y = softmax(x) / log_softmax(x), lse = logsumexp(x) come from the forward
// reference (rounded to their dtype). f32: rel_l2 <= 1e-5; bf16/f16
// outputs: 2e-2 / 2e-3 (the output rounding).
// RUN: attn-run %s --device cpu --function softmax_grad_rank1 --tolerance 1e-5 --iterations 0 | FileCheck %s
// RUN: attn-run %s --device cpu --function softmax_grad_dim0 --tolerance 1e-5 --iterations 0 | FileCheck %s
// RUN: attn-run %s --device cpu --function log_softmax_grad_rank3 --tolerance 1e-5 --iterations 0 | FileCheck %s
// RUN: attn-run %s --device cpu --function logsumexp_grad_rank3 --tolerance 1e-5 --iterations 0 | FileCheck %s
// RUN: attn-run %s --device cpu --function softmax_grad_bf16 --tolerance 2e-2 --iterations 0 | FileCheck %s
// RUN: attn-run %s --device cpu --function log_softmax_grad_f16 --tolerance 2e-3 --iterations 0 | FileCheck %s
// RUN: attn-run %s --device cpu --function logsumexp_grad_bf16 --tolerance 2e-2 --iterations 0 | FileCheck %s
// Inputs of magnitude 1e4: the saved values carry the scale, nothing overflows.
// RUN: attn-run %s --device cpu --function softmax_grad_dim0 --input-scale 1e4 --tolerance 1e-5 --iterations 0 | FileCheck %s
// RUN: attn-run %s --device cpu --function log_softmax_grad_rank3 --input-scale 1e4 --tolerance 1e-5 --iterations 0 | FileCheck %s
// RUN: attn-run %s --device cpu --function logsumexp_grad_rank3 --input-scale 1e4 --tolerance 1e-5 --iterations 0 | FileCheck %s
//
// Central finite differences of the forward op's float64 reference
// (attn-run --finite-differences, step h = 1e-5 max(1, |x|), two forward
// evaluations per element of x): the float64 gradient reference must agree
// within rel_l2 1e-6 (it does to ~1e-8), and the executed f32 gradient op
// within the output tolerance 1e-5.
// RUN: attn-run %s --device cpu --function fd_softmax_grad --tolerance 1e-5 --finite-differences --iterations 0 | FileCheck %s --check-prefixes=CHECK,FD
// RUN: attn-run %s --device cpu --function fd_log_softmax_grad --tolerance 1e-5 --finite-differences --iterations 0 | FileCheck %s --check-prefixes=CHECK,FD
// RUN: attn-run %s --device cpu --function fd_logsumexp_grad --tolerance 1e-5 --finite-differences --iterations 0 | FileCheck %s --check-prefixes=CHECK,FD
// RUN: attn-run %s --device cpu --function fd_softmax_grad --input-scale 8 --tolerance 1e-5 --finite-differences --iterations 0 | FileCheck %s --check-prefixes=CHECK,FD

// CHECK: attn-run: function {{.*}} (attn.{{softmax_grad|log_softmax_grad|logsumexp_grad}}) on CPU (MLIR JIT)
// CHECK-NOT: FAIL
// FD: finite differences of attn.{{softmax|log_softmax|logsumexp}}: step 1.0e-05
// FD-NEXT: reference result0 vs finite differences: rel_l2 {{.*}} tol 1.0e-06 PASS
// FD-NEXT: output result0 vs finite differences: rel_l2 {{.*}} tol 1.0e-05 PASS
// CHECK: attn-run: PASS

func.func @softmax_grad_rank1(%y: tensor<1000xf32>, %dy: tensor<1000xf32>) -> tensor<1000xf32> {
  %0 = attn.softmax_grad %y, %dy, dim = 0 : tensor<1000xf32>, tensor<1000xf32> -> tensor<1000xf32>
  return %0 : tensor<1000xf32>
}
func.func @softmax_grad_dim0(%y: tensor<257x17xf32>, %dy: tensor<257x17xf32>) -> tensor<257x17xf32> {
  %0 = attn.softmax_grad %y, %dy, dim = 0 : tensor<257x17xf32>, tensor<257x17xf32> -> tensor<257x17xf32>
  return %0 : tensor<257x17xf32>
}
func.func @log_softmax_grad_rank3(%y: tensor<3x129x5xf32>, %dy: tensor<3x129x5xf32>) -> tensor<3x129x5xf32> {
  %0 = attn.log_softmax_grad %y, %dy, dim = 1 : tensor<3x129x5xf32>, tensor<3x129x5xf32> -> tensor<3x129x5xf32>
  return %0 : tensor<3x129x5xf32>
}
func.func @logsumexp_grad_rank3(%x: tensor<3x5x129xf32>, %lse: tensor<3x5xf32>, %dlse: tensor<3x5xf32>) -> tensor<3x5x129xf32> {
  %0 = attn.logsumexp_grad %x, %lse, %dlse, dim = 2 : tensor<3x5x129xf32>, tensor<3x5xf32>, tensor<3x5xf32> -> tensor<3x5x129xf32>
  return %0 : tensor<3x5x129xf32>
}
func.func @softmax_grad_bf16(%y: tensor<7x1023xbf16>, %dy: tensor<7x1023xbf16>) -> tensor<7x1023xbf16> {
  %0 = attn.softmax_grad %y, %dy, dim = 1 : tensor<7x1023xbf16>, tensor<7x1023xbf16> -> tensor<7x1023xbf16>
  return %0 : tensor<7x1023xbf16>
}
func.func @log_softmax_grad_f16(%y: tensor<7x1023xf16>, %dy: tensor<7x1023xf16>) -> tensor<7x1023xf16> {
  %0 = attn.log_softmax_grad %y, %dy, dim = 1 : tensor<7x1023xf16>, tensor<7x1023xf16> -> tensor<7x1023xf16>
  return %0 : tensor<7x1023xf16>
}
func.func @logsumexp_grad_bf16(%x: tensor<64x33xbf16>, %lse: tensor<33xf32>, %dlse: tensor<33xf32>) -> tensor<64x33xbf16> {
  %0 = attn.logsumexp_grad %x, %lse, %dlse, dim = 0 : tensor<64x33xbf16>, tensor<33xf32>, tensor<33xf32> -> tensor<64x33xbf16>
  return %0 : tensor<64x33xbf16>
}
// Small shapes for the finite differences (two forward evaluations per element).
func.func @fd_softmax_grad(%y: tensor<5x37xf32>, %dy: tensor<5x37xf32>) -> tensor<5x37xf32> {
  %0 = attn.softmax_grad %y, %dy, dim = 1 : tensor<5x37xf32>, tensor<5x37xf32> -> tensor<5x37xf32>
  return %0 : tensor<5x37xf32>
}
func.func @fd_log_softmax_grad(%y: tensor<3x7x5xf32>, %dy: tensor<3x7x5xf32>) -> tensor<3x7x5xf32> {
  %0 = attn.log_softmax_grad %y, %dy, dim = 1 : tensor<3x7x5xf32>, tensor<3x7x5xf32> -> tensor<3x7x5xf32>
  return %0 : tensor<3x7x5xf32>
}
func.func @fd_logsumexp_grad(%x: tensor<13x6xf32>, %lse: tensor<6xf32>, %dlse: tensor<6xf32>) -> tensor<13x6xf32> {
  %0 = attn.logsumexp_grad %x, %lse, %dlse, dim = 0 : tensor<13x6xf32>, tensor<6xf32>, tensor<6xf32> -> tensor<13x6xf32>
  return %0 : tensor<13x6xf32>
}
