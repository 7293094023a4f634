// Attention with bf16 and f16 inputs, f32 accumulation. The kernel and the
// float64 reference see the same rounded inputs, so the error comes from the
// final rounding of the output to bf16 (2^-9 relative) or f16 (2^-12):
// bound rel_l2 <= 1e-2 for bf16 outputs, 2e-3 for f16, 1e-5 for the f32 LSE.
// RUN: attn-run %s --device cpu --function gqa_causal_bf16 --tolerance 1e-2 --tolerance result1=1e-5 --iterations 0 | FileCheck %s
// RUN: attn-run %s --device cpu --function window_mask_f16 --tolerance 2e-3 --tolerance result1=1e-5 --iterations 0 | FileCheck %s
// RUN: attn-run %s --device cpu --function softcap_additive_bf16 --input-scale 4 --tolerance 1e-2 --iterations 0 | FileCheck %s

// CHECK: attn-run: function {{.*}} (attn.attention) on CPU (MLIR JIT)
// CHECK-NOT: FAIL
// CHECK: attn-run: PASS

func.func @gqa_causal_bf16(%q: tensor<2x8x31x64xbf16>, %k: tensor<2x2x47x64xbf16>, %v: tensor<2x2x47x64xbf16>)
    -> (tensor<2x8x31x64xbf16>, tensor<2x8x31xf32>) {
  %o, %lse = attn.attention %q, %k, %v {causal} : tensor<2x8x31x64xbf16>, tensor<2x2x47x64xbf16>, tensor<2x2x47x64xbf16> -> tensor<2x8x31x64xbf16>, tensor<2x8x31xf32>
  return %o, %lse : tensor<2x8x31x64xbf16>, tensor<2x8x31xf32>
}

func.func @window_mask_f16(%q: tensor<1x4x19x80xf16>, %k: tensor<1x4x19x80xf16>, %v: tensor<1x4x19x80xf16>, %m: tensor<19x19xi1>)
    -> (tensor<1x4x19x80xf16>, tensor<1x4x19xf32>) {
  %o, %lse = attn.attention %q, %k, %v mask(%m : tensor<19x19xi1>) {window = array<i64: 5, 5>} : tensor<1x4x19x80xf16>, tensor<1x4x19x80xf16>, tensor<1x4x19x80xf16> -> tensor<1x4x19x80xf16>, tensor<1x4x19xf32>
  return %o, %lse : tensor<1x4x19x80xf16>, tensor<1x4x19xf32>
}

func.func @softcap_additive_bf16(%q: tensor<1x2x9x16xbf16>, %k: tensor<1x2x12x16xbf16>, %v: tensor<1x2x12x16xbf16>, %m: tensor<1x1x9x12xbf16>)
    -> tensor<1x2x9x16xbf16> {
  %o = attn.attention %q, %k, %v mask(%m : tensor<1x1x9x12xbf16>) {softcap = 10.0 : f32} : tensor<1x2x9x16xbf16>, tensor<1x2x12x16xbf16>, tensor<1x2x12x16xbf16> -> tensor<1x2x9x16xbf16>
  return %o : tensor<1x2x9x16xbf16>
}
