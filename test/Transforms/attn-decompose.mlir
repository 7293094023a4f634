// RUN: attn-opt %s --attn-decompose --canonicalize -split-input-file | FileCheck %s

// The softmax: a max reduction, a sum-of-exp reduction that uses the safe
// max (0 for an all -inf row), and an elementwise exp(x - max) / sum written
// back in bf16.
// CHECK-LABEL: func @softmax
// CHECK-NOT: attn.
// CHECK-DAG: %[[NEGINF:.+]] = arith.constant 0xFF800000 : f32
// CHECK: %[[MAXINIT:.+]] = linalg.fill ins(%[[NEGINF]] : f32) outs(%{{.+}} : tensor<4xf32>)
// CHECK: %[[MAX:.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]
// CHECK-SAME: outs(%[[MAXINIT]] : tensor<4xf32>)
// CHECK: arith.extf {{.*}} : bf16 to f32
// CHECK: arith.maximumf
// CHECK: %[[SUM:.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]
// CHECK: arith.cmpf oeq, %{{.*}}, %[[NEGINF]]
// CHECK: math.exp
// CHECK: arith.addf
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]
// CHECK: math.exp
// CHECK: arith.divf
// CHECK: arith.truncf {{.*}} : f32 to bf16
// CHECK: -> tensor<4x8xbf16>
func.func @softmax(%x: tensor<4x8xbf16>) -> tensor<4x8xbf16> {
  %0 = attn.softmax %x, dim = 1 : tensor<4x8xbf16> -> tensor<4x8xbf16>
  return %0 : tensor<4x8xbf16>
}

// -----

// The reduced dim can be any dim; log_softmax subtracts log(sum).
// CHECK-LABEL: func @log_softmax_dim0
// CHECK: linalg.generic {{.*}} iterator_types = ["reduction", "parallel", "parallel"]
// CHECK: math.log
// CHECK: arith.subf
// CHECK: -> tensor<3x4x5xf32>
func.func @log_softmax_dim0(%x: tensor<3x4x5xf32>) -> tensor<3x4x5xf32> {
  %0 = attn.log_softmax %x, dim = 0 : tensor<3x4x5xf32> -> tensor<3x4x5xf32>
  return %0 : tensor<3x4x5xf32>
}

// -----

// CHECK-LABEL: func @logsumexp
// CHECK: math.log
// CHECK: arith.addf
// CHECK: -> tensor<3x5xf32>
func.func @logsumexp(%x: tensor<3x4x5xf16>) -> tensor<3x5xf32> {
  %0 = attn.logsumexp %x, dim = 1 : tensor<3x4x5xf16> -> tensor<3x5xf32>
  return %0 : tensor<3x5xf32>
}

// -----

// GQA: q [1,4,5,16] is viewed as [1,2,2,5,16] (2 kv heads, 2 query heads
// each), so k and v are read by head h without a copy. The scores
// [1,2,2,5,7] are materialized in f32. Causal with M=5, N=7 keeps j <= i + 2.
// CHECK-LABEL: func @attention_gqa_causal
// CHECK-DAG: %[[SCALE:.+]] = arith.constant 2.500000e-01 : f32
// CHECK-DAG: %[[OFF:.+]] = arith.constant 2 : index
// CHECK: %[[Q5:.+]] = tensor.expand_shape %arg0 {{\[}}[0], [1, 2], [3], [4]] output_shape [1, 2, 2, 5, 16]
// CHECK: %[[S:.+]] = linalg.generic {{.*}} ins(%[[Q5]], %arg1 : tensor<1x2x2x5x16xbf16>, tensor<1x2x7x16xbf16>) outs(%{{.+}} : tensor<1x2x2x5x7xf32>)
// CHECK: linalg.generic {{.*}} ins(%[[S]] : tensor<1x2x2x5x7xf32>)
// CHECK: arith.mulf %{{.*}}, %[[SCALE]]
// CHECK: %[[I:.+]] = linalg.index 3
// CHECK: %[[J:.+]] = linalg.index 4
// CHECK: %[[D:.+]] = arith.addi %[[I]], %[[OFF]]
// CHECK: %[[REL:.+]] = arith.subi %[[J]], %[[D]]
// CHECK: arith.cmpi sgt, %[[REL]], %{{.+}}
// A fully masked row (sum == 0) gives 0, not NaN.
// CHECK: arith.cmpf oeq
// CHECK: arith.divf
// CHECK: arith.select
// CHECK: arith.truncf {{.*}} : f32 to bf16
// CHECK: tensor.collapse_shape {{.*}} {{\[}}[0], [1, 2], [3], [4]] : tensor<1x2x2x5x16xbf16> into tensor<1x4x5x16xbf16>
// CHECK: math.log
// CHECK: tensor.collapse_shape {{.*}} {{\[}}[0], [1, 2], [3]] : tensor<1x2x2x5xf32> into tensor<1x4x5xf32>
func.func @attention_gqa_causal(%q: tensor<1x4x5x16xbf16>, %k: tensor<1x2x7x16xbf16>, %v: tensor<1x2x7x16xbf16>)
    -> (tensor<1x4x5x16xbf16>, tensor<1x4x5xf32>) {
  %o, %lse = attn.attention %q, %k, %v {causal} : tensor<1x4x5x16xbf16>, tensor<1x2x7x16xbf16>, tensor<1x2x7x16xbf16> -> tensor<1x4x5x16xbf16>, tensor<1x4x5xf32>
  return %o, %lse : tensor<1x4x5x16xbf16>, tensor<1x4x5xf32>
}

// -----

// Softcap, window and a boolean mask broadcast over batch: the mask is read
// at (0, h * 2 + g, i, j) of the [B, Hq, M, N] layout.
// CHECK-DAG: #[[$MASKMAP:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (0, d1 * 2 + d2, d3, d4)>
// CHECK-LABEL: func @attention_softcap_window_mask
// CHECK: linalg.generic {indexing_maps = [#{{.+}}, #[[$MASKMAP]], #{{.+}}]
// CHECK: arith.divf
// CHECK: math.tanh
// CHECK: arith.mulf
// CHECK: arith.select %{{.*}}, %{{.*}}, %{{.*}} : f32
// CHECK: arith.cmpi slt
// CHECK: arith.cmpi sgt
func.func @attention_softcap_window_mask(%q: tensor<2x4x8x16xf32>, %k: tensor<2x2x8x16xf32>, %v: tensor<2x2x8x16xf32>, %m: tensor<1x4x8x8xi1>)
    -> tensor<2x4x8x16xf32> {
  %o = attn.attention %q, %k, %v mask(%m : tensor<1x4x8x8xi1>) {softcap = 30.0 : f32, window = array<i64: 3, 1>}
      : tensor<2x4x8x16xf32>, tensor<2x2x8x16xf32>, tensor<2x2x8x16xf32> -> tensor<2x4x8x16xf32>
  return %o : tensor<2x4x8x16xf32>
}

// -----

// An additive mask is added after scaling.
// CHECK-LABEL: func @attention_additive_mask
// CHECK: arith.mulf
// CHECK: arith.extf {{.*}} : bf16 to f32
// CHECK: arith.addf
func.func @attention_additive_mask(%q: tensor<1x1x4x8xbf16>, %k: tensor<1x1x6x8xbf16>, %v: tensor<1x1x6x8xbf16>, %m: tensor<4x6xbf16>)
    -> tensor<1x1x4x8xbf16> {
  %o = attn.attention %q, %k, %v mask(%m : tensor<4x6xbf16>) : tensor<1x1x4x8xbf16>, tensor<1x1x6x8xbf16>, tensor<1x1x6x8xbf16> -> tensor<1x1x4x8xbf16>
  return %o : tensor<1x1x4x8xbf16>
}

// -----

// Cross-entropy: the target logit and the logit sum come from one reduction
// over the vocabulary that compares the column index with the label;
// ignored tokens give 0; mean divides by the count of non-ignored tokens.
// CHECK-LABEL: func @cross_entropy_mean
// CHECK-DAG: %[[IGNORE:.+]] = arith.constant -100 : i64
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]
// CHECK: linalg.index 1
// CHECK: arith.cmpi eq
// CHECK: arith.cmpi eq, %{{.*}}, %[[IGNORE]] : i64
// CHECK: linalg.generic {{.*}} iterator_types = ["reduction"]
// CHECK: linalg.generic {{.*}} outs(%{{.+}} : tensor<f32>)
// CHECK: arith.divf
// CHECK: arith.select
// CHECK: return %{{.*}} : tensor<f32>
func.func @cross_entropy_mean(%z: tensor<8x100xbf16>, %y: tensor<8xi64>) -> tensor<f32> {
  %0 = attn.cross_entropy %z, %y : tensor<8x100xbf16>, tensor<8xi64> -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

// CHECK-LABEL: func @cross_entropy_smoothing_zloss_softcap
// CHECK-DAG: arith.constant 0.899999976 : f32
// CHECK-DAG: arith.constant 1.000000e+02 : f32
// CHECK-DAG: arith.constant 9.99999974E-5 : f32
// CHECK: math.tanh
// CHECK: return %{{.*}}, %{{.*}} : tensor<8xf32>, tensor<8xf32>
func.func @cross_entropy_smoothing_zloss_softcap(%z: tensor<8x100xf32>, %y: tensor<8xi32>) -> (tensor<8xf32>, tensor<8xf32>) {
  %0, %1 = attn.cross_entropy %z, %y {label_smoothing = 0.1 : f32, z_loss = 1.0e-4 : f32, softcap = 30.0 : f32,
      reduction = #attn.reduction<none>} : tensor<8x100xf32>, tensor<8xi32> -> tensor<8xf32>, tensor<8xf32>
  return %0, %1 : tensor<8xf32>, tensor<8xf32>
}

// -----

// linear_cross_entropy materializes the [N, V] logits (the unfused
// baseline) and then is a cross_entropy.
// CHECK-LABEL: func @linear_cross_entropy
// CHECK: %[[LOGITS:.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]
// CHECK-SAME: ins(%arg0, %arg1 : tensor<16x32xbf16>, tensor<100x32xbf16>) outs(%{{.+}} : tensor<16x100xf32>)
// CHECK: linalg.generic {{.*}} ins(%[[LOGITS]], %arg3 : tensor<16x100xf32>, tensor<100xbf16>)
// CHECK-NOT: attn.
// CHECK: return
func.func @linear_cross_entropy(%h: tensor<16x32xbf16>, %w: tensor<100x32xbf16>, %y: tensor<16xi64>, %b: tensor<100xbf16>) -> tensor<f32> {
  %0 = attn.linear_cross_entropy %h, %w, %y bias(%b : tensor<100xbf16>) {reduction = #attn.reduction<sum>}
      : tensor<16x32xbf16>, tensor<100x32xbf16>, tensor<16xi64> -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

// Dynamic sequence lengths are fine here; only the head counts must be
// static (they define the GQA groups).
// CHECK-LABEL: func @attention_dynamic
// CHECK: tensor.dim
// CHECK: tensor.empty(%{{.*}}) : tensor<1x2x2x?x?xf32>
func.func @attention_dynamic(%q: tensor<1x4x?x16xf32>, %k: tensor<1x2x?x16xf32>, %v: tensor<1x2x?x16xf32>) -> tensor<1x4x?x16xf32> {
  %o = attn.attention %q, %k, %v : tensor<1x4x?x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32> -> tensor<1x4x?x16xf32>
  return %o : tensor<1x4x?x16xf32>
}

// -----

// linalg's aggregated ops on tensors are decomposed too (the pipelines have
// no lowering for linalg.softmax after bufferization); one on memrefs is
// left alone.
// CHECK-LABEL: func.func @linalg_softmax
// CHECK-NOT: linalg.softmax
// CHECK: linalg.generic
// CHECK-LABEL: func.func @linalg_softmax_memref
// CHECK: linalg.softmax
func.func @linalg_softmax(%x: tensor<4x6xf32>) -> tensor<4x6xf32> {
  %e = tensor.empty() : tensor<4x6xf32>
  %p = linalg.softmax dimension(1) ins(%x : tensor<4x6xf32>) outs(%e : tensor<4x6xf32>) -> tensor<4x6xf32>
  return %p : tensor<4x6xf32>
}
func.func @linalg_softmax_memref(%x: memref<4x6xf32>, %y: memref<4x6xf32>) {
  linalg.softmax dimension(1) ins(%x : memref<4x6xf32>) outs(%y : memref<4x6xf32>)
  return
}
