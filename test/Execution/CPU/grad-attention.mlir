// attention_grad on the CPU (attn-decompose, JIT) against the float64
// reference. attn-run draws q, k, v (and the mask), computes the saved
// output and lse with attn.attention's float64 reference, and draws
// grad_output uniform in [-1, 1]. f32 gradients: rel_l2 <= 1e-5 each;
// bf16: 2e-2 (the output rounding). GQA everywhere (G = 2 or 4).
// RUN: attn-run %s --device cpu --function gqa_f32 --tolerance 1e-5 --iterations 0 | FileCheck %s
// RUN: attn-run %s --device cpu --function causal_more_queries --tolerance 1e-5 --iterations 0 | FileCheck %s
// RUN: attn-run %s --device cpu --function window_softcap_scale --tolerance 1e-5 --iterations 0 | FileCheck %s
// RUN: attn-run %s --device cpu --function bool_mask_broadcast --tolerance 1e-5 --iterations 0 | FileCheck %s
// RUN: attn-run %s --device cpu --function float_mask --tolerance 1e-5 --iterations 0 | FileCheck %s
// RUN: attn-run %s --device cpu --function bf16_odd --tolerance 2e-2 --iterations 0 | FileCheck %s
// attn-to-llvm{tile=1} (attn-run --tile): attn-tile leaves the op (no tiled
// form yet) to the same decomposition.
// RUN: attn-run %s --device cpu --tile --function window_softcap_scale --tolerance 1e-5 --iterations 0 | FileCheck %s
// Scores of magnitude ~50: no overflow (exp is taken against the saved lse).
// RUN: attn-run %s --device cpu --function gqa_f32 --input-scale 4 --tolerance 1e-5 --iterations 0 | FileCheck %s
//
// Central finite differences of attn.attention's float64 reference (same
// attributes and mask; attn-run --finite-differences: step
// h = 1e-5 max(1, |x|), two forward evaluations per element of q, k and v,
// L = sum(grad_output * output)): the float64 gradient reference must agree
// within rel_l2 1e-6, the executed f32 op within 1e-5, for dq, dk and dv.
// causal_more_queries has query rows that see no key (lse = -inf): they
// contribute nothing, and no gradient is NaN.
// RUN: attn-run %s --device cpu --function gqa_f32 --tolerance 1e-5 --finite-differences --iterations 0 | FileCheck %s --check-prefixes=CHECK,FD
// RUN: attn-run %s --device cpu --function causal_more_queries --tolerance 1e-5 --finite-differences --iterations 0 | FileCheck %s --check-prefixes=CHECK,FD
// RUN: attn-run %s --device cpu --function window_softcap_scale --tolerance 1e-5 --finite-differences --iterations 0 | FileCheck %s --check-prefixes=CHECK,FD
// RUN: attn-run %s --device cpu --function bool_mask_broadcast --tolerance 1e-5 --finite-differences --iterations 0 | FileCheck %s --check-prefixes=CHECK,FD
// RUN: attn-run %s --device cpu --function float_mask --tolerance 1e-5 --finite-differences --iterations 0 | FileCheck %s --check-prefixes=CHECK,FD

// CHECK: attn-run: function {{.*}} (attn.attention_grad) on CPU (MLIR JIT)
// CHECK-NOT: FAIL
// FD: finite differences of attn.attention: step 1.0e-05
// FD-NEXT: reference result0 vs finite differences: rel_l2 {{.*}} tol 1.0e-06 PASS
// FD-NEXT: output result0 vs finite differences: rel_l2 {{.*}} tol 1.0e-05 PASS
// FD-NEXT: reference result1 vs finite differences: rel_l2 {{.*}} tol 1.0e-06 PASS
// FD-NEXT: output result1 vs finite differences: rel_l2 {{.*}} tol 1.0e-05 PASS
// FD-NEXT: reference result2 vs finite differences: rel_l2 {{.*}} tol 1.0e-06 PASS
// FD-NEXT: output result2 vs finite differences: rel_l2 {{.*}} tol 1.0e-05 PASS
// CHECK: attn-run: PASS

func.func @gqa_f32(%q: tensor<2x4x5x8xf32>, %k: tensor<2x2x7x8xf32>, %v: tensor<2x2x7x6xf32>,
                   %o: tensor<2x4x5x6xf32>, %lse: tensor<2x4x5xf32>, %do: tensor<2x4x5x6xf32>)
    -> (tensor<2x4x5x8xf32>, tensor<2x2x7x8xf32>, tensor<2x2x7x6xf32>) {
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do
      : tensor<2x4x5x8xf32>, tensor<2x2x7x8xf32>, tensor<2x2x7x6xf32>, tensor<2x4x5x6xf32>, tensor<2x4x5xf32>, tensor<2x4x5x6xf32>
      -> tensor<2x4x5x8xf32>, tensor<2x2x7x8xf32>, tensor<2x2x7x6xf32>
  return %dq, %dk, %dv : tensor<2x4x5x8xf32>, tensor<2x2x7x8xf32>, tensor<2x2x7x6xf32>
}
// M = 9 > N = 5, causal (bottom-right): the first 4 query rows see no key.
func.func @causal_more_queries(%q: tensor<1x4x9x8xf32>, %k: tensor<1x1x5x8xf32>, %v: tensor<1x1x5x8xf32>,
                               %o: tensor<1x4x9x8xf32>, %lse: tensor<1x4x9xf32>, %do: tensor<1x4x9x8xf32>)
    -> (tensor<1x4x9x8xf32>, tensor<1x1x5x8xf32>, tensor<1x1x5x8xf32>) {
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do {causal}
      : tensor<1x4x9x8xf32>, tensor<1x1x5x8xf32>, tensor<1x1x5x8xf32>, tensor<1x4x9x8xf32>, tensor<1x4x9xf32>, tensor<1x4x9x8xf32>
      -> tensor<1x4x9x8xf32>, tensor<1x1x5x8xf32>, tensor<1x1x5x8xf32>
  return %dq, %dk, %dv : tensor<1x4x9x8xf32>, tensor<1x1x5x8xf32>, tensor<1x1x5x8xf32>
}
func.func @window_softcap_scale(%q: tensor<1x2x11x4xf32>, %k: tensor<1x1x13x4xf32>, %v: tensor<1x1x13x3xf32>,
                                %o: tensor<1x2x11x3xf32>, %lse: tensor<1x2x11xf32>, %do: tensor<1x2x11x3xf32>)
    -> (tensor<1x2x11x4xf32>, tensor<1x1x13x4xf32>, tensor<1x1x13x3xf32>) {
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do {window = array<i64: 3, 1>, softcap = 1.5 : f32, scale = 0.9 : f32}
      : tensor<1x2x11x4xf32>, tensor<1x1x13x4xf32>, tensor<1x1x13x3xf32>, tensor<1x2x11x3xf32>, tensor<1x2x11xf32>, tensor<1x2x11x3xf32>
      -> tensor<1x2x11x4xf32>, tensor<1x1x13x4xf32>, tensor<1x1x13x3xf32>
  return %dq, %dk, %dv : tensor<1x2x11x4xf32>, tensor<1x1x13x4xf32>, tensor<1x1x13x3xf32>
}
// An i1 mask broadcast over the batch ([1, Hq, M, N]), with causal.
func.func @bool_mask_broadcast(%q: tensor<2x2x6x4xf32>, %k: tensor<2x1x6x4xf32>, %v: tensor<2x1x6x4xf32>,
                               %o: tensor<2x2x6x4xf32>, %lse: tensor<2x2x6xf32>, %do: tensor<2x2x6x4xf32>,
                               %m: tensor<1x2x6x6xi1>)
    -> (tensor<2x2x6x4xf32>, tensor<2x1x6x4xf32>, tensor<2x1x6x4xf32>) {
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do mask(%m : tensor<1x2x6x6xi1>) {causal}
      : tensor<2x2x6x4xf32>, tensor<2x1x6x4xf32>, tensor<2x1x6x4xf32>, tensor<2x2x6x4xf32>, tensor<2x2x6xf32>, tensor<2x2x6x4xf32>
      -> tensor<2x2x6x4xf32>, tensor<2x1x6x4xf32>, tensor<2x1x6x4xf32>
  return %dq, %dk, %dv : tensor<2x2x6x4xf32>, tensor<2x1x6x4xf32>, tensor<2x1x6x4xf32>
}
func.func @float_mask(%q: tensor<1x2x5x4xf32>, %k: tensor<1x2x7x4xf32>, %v: tensor<1x2x7x4xf32>,
                      %o: tensor<1x2x5x4xf32>, %lse: tensor<1x2x5xf32>, %do: tensor<1x2x5x4xf32>,
                      %m: tensor<5x7xf32>)
    -> (tensor<1x2x5x4xf32>, tensor<1x2x7x4xf32>, tensor<1x2x7x4xf32>) {
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do mask(%m : tensor<5x7xf32>) {softcap = 2.0 : f32}
      : tensor<1x2x5x4xf32>, tensor<1x2x7x4xf32>, tensor<1x2x7x4xf32>, tensor<1x2x5x4xf32>, tensor<1x2x5xf32>, tensor<1x2x5x4xf32>
      -> tensor<1x2x5x4xf32>, tensor<1x2x7x4xf32>, tensor<1x2x7x4xf32>
  return %dq, %dk, %dv : tensor<1x2x5x4xf32>, tensor<1x2x7x4xf32>, tensor<1x2x7x4xf32>
}
func.func @bf16_odd(%q: tensor<1x4x33x40xbf16>, %k: tensor<1x2x47x40xbf16>, %v: tensor<1x2x47x24xbf16>,
                    %o: tensor<1x4x33x24xbf16>, %lse: tensor<1x4x33xf32>, %do: tensor<1x4x33x24xbf16>)
    -> (tensor<1x4x33x40xbf16>, tensor<1x2x47x40xbf16>, tensor<1x2x47x24xbf16>) {
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do {causal}
      : tensor<1x4x33x40xbf16>, tensor<1x2x47x40xbf16>, tensor<1x2x47x24xbf16>, tensor<1x4x33x24xbf16>, tensor<1x4x33xf32>, tensor<1x4x33x24xbf16>
      -> tensor<1x4x33x40xbf16>, tensor<1x2x47x40xbf16>, tensor<1x2x47x24xbf16>
  return %dq, %dk, %dv : tensor<1x4x33x40xbf16>, tensor<1x2x47x40xbf16>, tensor<1x2x47x24xbf16>
}
