// The softmax family on the CPU against the float64 reference, any rank,
// any reduced dim. f32: rel_l2 <= 1e-5. bf16/f16 outputs: 1e-2 / 2e-3 (the
// output rounding); logsumexp is always f32: 1e-5.
// RUN: attn-run %s --device cpu --function softmax_rank1 --tolerance 1e-5 --iterations 0 | FileCheck %s
// RUN: attn-run %s --device cpu --function softmax_dim0 --tolerance 1e-5 --iterations 0 | FileCheck %s
// RUN: attn-run %s --device cpu --function log_softmax_rank3 --tolerance 1e-5 --iterations 0 | FileCheck %s
// RUN: attn-run %s --device cpu --function logsumexp_rank3 --tolerance 1e-5 --iterations 0 | FileCheck %s
// RUN: attn-run %s --device cpu --function softmax_bf16 --tolerance 1e-2 --iterations 0 | FileCheck %s
// RUN: attn-run %s --device cpu --function log_softmax_f16 --tolerance 2e-3 --iterations 0 | FileCheck %s
// RUN: attn-run %s --device cpu --function logsumexp_bf16 --tolerance 1e-5 --iterations 0 | FileCheck %s
// Logits of magnitude 1e4 must not overflow exp: the max is subtracted first.
// RUN: attn-run %s --device cpu --function softmax_dim0 --input-scale 1e4 --tolerance 1e-5 --iterations 0 | FileCheck %s
// RUN: attn-run %s --device cpu --function log_softmax_rank3 --input-scale 1e4 --tolerance 1e-5 --iterations 0 | FileCheck %s
// RUN: attn-run %s --device cpu --function logsumexp_rank3 --input-scale 1e4 --tolerance 1e-5 --iterations 0 | FileCheck %s

// CHECK: attn-run: function {{.*}} (attn.{{softmax|log_softmax|logsumexp}}) on CPU (MLIR JIT)
// CHECK-NOT: FAIL
// CHECK: attn-run: PASS

func.func @softmax_rank1(%x: tensor<1000xf32>) -> tensor<1000xf32> {
  %0 = attn.softmax %x, dim = 0 : tensor<1000xf32> -> tensor<1000xf32>
  return %0 : tensor<1000xf32>
}
func.func @softmax_dim0(%x: tensor<257x17xf32>) -> tensor<257x17xf32> {
  %0 = attn.softmax %x, dim = 0 : tensor<257x17xf32> -> tensor<257x17xf32>
  return %0 : tensor<257x17xf32>
}
func.func @log_softmax_rank3(%x: tensor<3x129x5xf32>) -> tensor<3x129x5xf32> {
  %0 = attn.log_softmax %x, dim = 1 : tensor<3x129x5xf32> -> tensor<3x129x5xf32>
  return %0 : tensor<3x129x5xf32>
}
func.func @logsumexp_rank3(%x: tensor<3x5x129xf32>) -> tensor<3x5xf32> {
  %0 = attn.logsumexp %x, dim = 2 : tensor<3x5x129xf32> -> tensor<3x5xf32>
  return %0 : tensor<3x5xf32>
}
func.func @softmax_bf16(%x: tensor<7x1023xbf16>) -> tensor<7x1023xbf16> {
  %0 = attn.softmax %x, dim = 1 : tensor<7x1023xbf16> -> tensor<7x1023xbf16>
  return %0 : tensor<7x1023xbf16>
}
func.func @log_softmax_f16(%x: tensor<7x1023xf16>) -> tensor<7x1023xf16> {
  %0 = attn.log_softmax %x, dim = 1 : tensor<7x1023xf16> -> tensor<7x1023xf16>
  return %0 : tensor<7x1023xf16>
}
func.func @logsumexp_bf16(%x: tensor<64x33xbf16>) -> tensor<33xf32> {
  %0 = attn.logsumexp %x, dim = 0 : tensor<64x33xbf16> -> tensor<33xf32>
  return %0 : tensor<33xf32>
}
