// Attention, decomposed and JIT-compiled for the CPU, against the float64
// reference of attn-run on seeded random inputs. f32 inputs: the bound is
// rel_l2 <= 1e-5 on every output (the computation is f32 end to end).
// RUN: attn-run %s --device cpu --function causal_gqa --tolerance 1e-5 --iterations 0 | FileCheck %s
// RUN: attn-run %s --device cpu --function causal_more_queries_than_keys --tolerance 1e-5 --iterations 0 | FileCheck %s --check-prefixes=CHECK,MASKED
// RUN: attn-run %s --device cpu --function window_softcap --input-scale 3 --tolerance 1e-5 --iterations 0 | FileCheck %s
// RUN: attn-run %s --device cpu --function bool_mask_broadcast --tolerance 1e-5 --iterations 0 | FileCheck %s
// RUN: attn-run %s --device cpu --function additive_mask_mqa --tolerance 1e-5 --iterations 0 | FileCheck %s
// RUN: attn-run %s --device cpu --function scale_dv_batch --tolerance 1e-5 --iterations 0 | FileCheck %s
// RUN: attn-run %s --device cpu --function causal_window_decode --seed 7 --tolerance 1e-5 --iterations 0 | FileCheck %s

// CHECK: attn-run: function {{.*}} (attn.attention) on CPU (MLIR JIT)
// CHECK-NOT: FAIL
// M = 9 queries, N = 5 keys, causal bottom-right: the first 4 rows of each
// of the 2 heads see no key at all, so their output is 0 and their LSE -inf
// (checked exactly).
// MASKED: output result1 [1x2x9 f32]: {{.*}} PASS (8 infinite entries exact)
// CHECK: attn-run: PASS

// GQA 4:2, M = 13 < N = 21, causal.
func.func @causal_gqa(%q: tensor<1x4x13x16xf32>, %k: tensor<1x2x21x16xf32>, %v: tensor<1x2x21x16xf32>)
    -> (tensor<1x4x13x16xf32>, tensor<1x4x13xf32>) {
  %o, %lse = attn.attention %q, %k, %v {causal} : tensor<1x4x13x16xf32>, tensor<1x2x21x16xf32>, tensor<1x2x21x16xf32> -> tensor<1x4x13x16xf32>, tensor<1x4x13xf32>
  return %o, %lse : tensor<1x4x13x16xf32>, tensor<1x4x13xf32>
}

func.func @causal_more_queries_than_keys(%q: tensor<1x2x9x8xf32>, %k: tensor<1x2x5x8xf32>, %v: tensor<1x2x5x8xf32>)
    -> (tensor<1x2x9x8xf32>, tensor<1x2x9xf32>) {
  %o, %lse = attn.attention %q, %k, %v {causal} : tensor<1x2x9x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32> -> tensor<1x2x9x8xf32>, tensor<1x2x9xf32>
  return %o, %lse : tensor<1x2x9x8xf32>, tensor<1x2x9xf32>
}

// Sliding window [3, 2] (non-causal) with soft-capping at 5 on inputs in
// [-3, 3], so that the cap bends the scores.
func.func @window_softcap(%q: tensor<2x2x17x32xf32>, %k: tensor<2x2x17x32xf32>, %v: tensor<2x2x17x32xf32>)
    -> (tensor<2x2x17x32xf32>, tensor<2x2x17xf32>) {
  %o, %lse = attn.attention %q, %k, %v {window = array<i64: 3, 2>, softcap = 5.0 : f32} : tensor<2x2x17x32xf32>, tensor<2x2x17x32xf32>, tensor<2x2x17x32xf32> -> tensor<2x2x17x32xf32>, tensor<2x2x17xf32>
  return %o, %lse : tensor<2x2x17x32xf32>, tensor<2x2x17xf32>
}

// A boolean mask [1, Hq, M, N] broadcast over the batch, with GQA 4:1.
func.func @bool_mask_broadcast(%q: tensor<2x4x7x16xf32>, %k: tensor<2x1x11x16xf32>, %v: tensor<2x1x11x16xf32>, %m: tensor<1x4x7x11xi1>)
    -> (tensor<2x4x7x16xf32>, tensor<2x4x7xf32>) {
  %o, %lse = attn.attention %q, %k, %v mask(%m : tensor<1x4x7x11xi1>) : tensor<2x4x7x16xf32>, tensor<2x1x11x16xf32>, tensor<2x1x11x16xf32> -> tensor<2x4x7x16xf32>, tensor<2x4x7xf32>
  return %o, %lse : tensor<2x4x7x16xf32>, tensor<2x4x7xf32>
}

// An additive float mask [M, N] with multi-query attention (Hkv = 1).
func.func @additive_mask_mqa(%q: tensor<1x3x6x16xf32>, %k: tensor<1x1x10x16xf32>, %v: tensor<1x1x10x16xf32>, %m: tensor<6x10xf32>)
    -> tensor<1x3x6x16xf32> {
  %o = attn.attention %q, %k, %v mask(%m : tensor<6x10xf32>) : tensor<1x3x6x16xf32>, tensor<1x1x10x16xf32>, tensor<1x1x10x16xf32> -> tensor<1x3x6x16xf32>
  return %o : tensor<1x3x6x16xf32>
}

// An explicit scale, Dv != D, batch 3.
func.func @scale_dv_batch(%q: tensor<3x2x5x24xf32>, %k: tensor<3x2x8x24xf32>, %v: tensor<3x2x8x40xf32>)
    -> tensor<3x2x5x40xf32> {
  %o = attn.attention %q, %k, %v {scale = 0.5 : f32} : tensor<3x2x5x24xf32>, tensor<3x2x8x24xf32>, tensor<3x2x8x40xf32> -> tensor<3x2x5x40xf32>
  return %o : tensor<3x2x5x40xf32>
}

// Decode-like: one query over 33 keys, causal plus a window of 8.
func.func @causal_window_decode(%q: tensor<1x8x1x64xf32>, %k: tensor<1x2x33x64xf32>, %v: tensor<1x2x33x64xf32>)
    -> (tensor<1x8x1x64xf32>, tensor<1x8x1xf32>) {
  %o, %lse = attn.attention %q, %k, %v {causal, window = array<i64: 8, 0>} : tensor<1x8x1x64xf32>, tensor<1x2x33x64xf32>, tensor<1x2x33x64xf32> -> tensor<1x8x1x64xf32>, tensor<1x8x1xf32>
  return %o, %lse : tensor<1x8x1x64xf32>, tensor<1x8x1xf32>
}
