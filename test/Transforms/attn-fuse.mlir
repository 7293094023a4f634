// RUN: attn-opt %s -split-input-file --attn-fuse | FileCheck %s

// Every pattern of attn-fuse, on the linalg forms that tosa-to-linalg and
// torch-mlir emit: a positive case, and negative cases that must stay
// unfused. Patterns are independent, so a negative case for one op may still
// raise an inner chain that is exact on its own (a softmax inside an
// attention, a log-softmax inside a loss); those cases say so.

// rank-3 batch_matmul with K transposed by linalg.transpose and linalg.softmax,
// no scale step: the op gets scale = 1.0, not its 1/sqrt(D) default; q, k, v
// are viewed as [1, B*H, ., .] and the output collapsed back.
// CHECK-LABEL: func.func @attention_bmm_unscaled
// CHECK-SAME: (%[[Q:.+]]: tensor<2x4x8xf32>, %[[K:.+]]: tensor<2x6x8xf32>, %[[V:.+]]: tensor<2x6x8xf32>)
// CHECK-DAG: %[[Q4:.+]] = tensor.expand_shape %[[Q]] {{\[}}[0, 1], [2], [3]] output_shape [1, 2, 4, 8]
// CHECK-DAG: %[[K4:.+]] = tensor.expand_shape %[[K]] {{\[}}[0, 1], [2], [3]] output_shape [1, 2, 6, 8]
// CHECK-DAG: %[[V4:.+]] = tensor.expand_shape %[[V]] {{\[}}[0, 1], [2], [3]] output_shape [1, 2, 6, 8]
// CHECK: %[[O:.+]] = attn.attention %[[Q4]], %[[K4]], %[[V4]] {scale = 1.000000e+00 : f32} : tensor<1x2x4x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32> -> tensor<1x2x4x8xf32>
// CHECK: %[[R:.+]] = tensor.collapse_shape %[[O]] {{\[}}[0, 1], [2], [3]] : tensor<1x2x4x8xf32> into tensor<2x4x8xf32>
// CHECK-NOT: linalg.
// CHECK: return %[[R]]
func.func @attention_bmm_unscaled(%q: tensor<2x4x8xf32>, %k: tensor<2x6x8xf32>, %val: tensor<2x6x8xf32>) -> (tensor<2x4x8xf32>) {
  %c0 = arith.constant 0.0 : f32
  %e1 = tensor.empty() : tensor<2x4x6xf32>
  %f2 = linalg.fill ins(%c0 : f32) outs(%e1 : tensor<2x4x6xf32>) -> tensor<2x4x6xf32>
  %e3 = tensor.empty() : tensor<2x8x6xf32>
  %kt4 = linalg.transpose ins(%k : tensor<2x6x8xf32>) outs(%e3 : tensor<2x8x6xf32>) permutation = [0, 2, 1]
  %s5 = linalg.batch_matmul ins(%q, %kt4 : tensor<2x4x8xf32>, tensor<2x8x6xf32>) outs(%f2 : tensor<2x4x6xf32>) -> tensor<2x4x6xf32>
  %e7 = tensor.empty() : tensor<2x4x6xf32>
  %p6 = linalg.softmax dimension(2) ins(%s5 : tensor<2x4x6xf32>) outs(%e7 : tensor<2x4x6xf32>) -> tensor<2x4x6xf32>
  %c8 = arith.constant 0.0 : f32
  %e9 = tensor.empty() : tensor<2x4x8xf32>
  %f10 = linalg.fill ins(%c8 : f32) outs(%e9 : tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  %o11 = linalg.batch_matmul ins(%p6, %val : tensor<2x4x6xf32>, tensor<2x6x8xf32>) outs(%f10 : tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  return %o11 : tensor<2x4x8xf32>
}

// -----

// batch_matmul with transposed-B indexing maps, divided by a constant
// (scale = 1/c), a [B*H, M, N] additive mask, the torch-style causal
// arith.select of -inf on a triangle tensor, and the softmax chain.
// CHECK-LABEL: func.func @attention_div_mask_causal
// CHECK-SAME: %[[MASK:[^:]+]]: tensor<2x6x6xf32>
// CHECK: %[[M4:.+]] = tensor.expand_shape %[[MASK]] {{\[}}[0, 1], [2], [3]] output_shape [1, 2, 6, 6]
// CHECK: attn.attention {{.*}} mask(%[[M4]] : tensor<1x2x6x6xf32>) {causal, scale = 2.500000e-01 : f32}
// CHECK-NOT: linalg.
func.func @attention_div_mask_causal(%q: tensor<2x6x8xf32>, %k: tensor<2x6x8xf32>, %val: tensor<2x6x8xf32>, %mask: tensor<2x6x6xf32>) -> (tensor<2x6x8xf32>) {
  %c12 = arith.constant 0.0 : f32
  %e13 = tensor.empty() : tensor<2x6x6xf32>
  %f14 = linalg.fill ins(%c12 : f32) outs(%e13 : tensor<2x6x6xf32>) -> tensor<2x6x6xf32>
  %s15 = linalg.batch_matmul indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>]
      ins(%q, %k : tensor<2x6x8xf32>, tensor<2x6x8xf32>) outs(%f14 : tensor<2x6x6xf32>) -> tensor<2x6x6xf32>
  %c16 = arith.constant 4.0 : f32
  %e17 = tensor.empty() : tensor<2x6x6xf32>
  %g18 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%s15 : tensor<2x6x6xf32>) outs(%e17 : tensor<2x6x6xf32>) {
  ^bb0(%a0: f32, %out: f32):
    %v = arith.divf %a0, %c16 : f32
    linalg.yield %v : f32
  } -> tensor<2x6x6xf32>
  %e19 = tensor.empty() : tensor<2x6x6xf32>
  %g20 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%g18, %mask : tensor<2x6x6xf32>, tensor<2x6x6xf32>) outs(%e19 : tensor<2x6x6xf32>) {
  ^bb0(%a0: f32, %a1: f32, %out: f32):
    %v = arith.addf %a0, %a1 : f32
    linalg.yield %v : f32
  } -> tensor<2x6x6xf32>
  %e21 = tensor.empty() : tensor<2x6x6xi1>
  %g22 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]}
      outs(%e21 : tensor<2x6x6xi1>) {
  ^bb0(%out: i1):
    %i = linalg.index 1 : index
    %j = linalg.index 2 : index
    %o = arith.constant 0 : index
    %io = arith.addi %i, %o : index
    %v = arith.cmpi sgt, %j, %io : index
    linalg.yield %v : i1
  } -> tensor<2x6x6xi1>
  %c23 = arith.constant 0xFF800000 : f32
  %e24 = tensor.empty() : tensor<2x6x6xf32>
  %f25 = linalg.fill ins(%c23 : f32) outs(%e24 : tensor<2x6x6xf32>) -> tensor<2x6x6xf32>
  %sel26 = arith.select %g22, %f25, %g20 : tensor<2x6x6xi1>, tensor<2x6x6xf32>
  %c27 = arith.constant 0xFF800000 : f32
  %e28 = tensor.empty() : tensor<2x6xf32>
  %f29 = linalg.fill ins(%c27 : f32) outs(%e28 : tensor<2x6xf32>) -> tensor<2x6xf32>
  %g30 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%sel26 : tensor<2x6x6xf32>) outs(%f29 : tensor<2x6xf32>) {
  ^bb0(%a0: f32, %out: f32):
    %v = arith.maximumf %a0, %out : f32
    linalg.yield %v : f32
  } -> tensor<2x6xf32>
  %e31 = tensor.empty() : tensor<2x6x6xf32>
  %g32 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%sel26, %g30 : tensor<2x6x6xf32>, tensor<2x6xf32>) outs(%e31 : tensor<2x6x6xf32>) {
  ^bb0(%a0: f32, %a1: f32, %out: f32):
    %s = arith.subf %a0, %a1 : f32
    %v = math.exp %s : f32
    linalg.yield %v : f32
  } -> tensor<2x6x6xf32>
  %c33 = arith.constant 0.0 : f32
  %e34 = tensor.empty() : tensor<2x6xf32>
  %f35 = linalg.fill ins(%c33 : f32) outs(%e34 : tensor<2x6xf32>) -> tensor<2x6xf32>
  %g36 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%g32 : tensor<2x6x6xf32>) outs(%f35 : tensor<2x6xf32>) {
  ^bb0(%a0: f32, %out: f32):
    %v = arith.addf %a0, %out : f32
    linalg.yield %v : f32
  } -> tensor<2x6xf32>
  %e37 = tensor.empty() : tensor<2x6x6xf32>
  %g38 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%g32, %g36 : tensor<2x6x6xf32>, tensor<2x6xf32>) outs(%e37 : tensor<2x6x6xf32>) {
  ^bb0(%a0: f32, %a1: f32, %out: f32):
    %v = arith.divf %a0, %a1 : f32
    linalg.yield %v : f32
  } -> tensor<2x6x6xf32>
  %c39 = arith.constant 0.0 : f32
  %e40 = tensor.empty() : tensor<2x6x8xf32>
  %f41 = linalg.fill ins(%c39 : f32) outs(%e40 : tensor<2x6x8xf32>) -> tensor<2x6x8xf32>
  %o42 = linalg.batch_matmul ins(%g38, %val : tensor<2x6x6xf32>, tensor<2x6x8xf32>) outs(%f41 : tensor<2x6x8xf32>) -> tensor<2x6x8xf32>
  return %o42 : tensor<2x6x8xf32>
}

// -----

// Negative: the softmax runs over the query dim (1), not the keys. The
// softmax itself is still raised (it is one), the attention is not.
// CHECK-LABEL: func.func @attention_softmax_wrong_dim
// CHECK-NOT: attn.attention
// CHECK: attn.softmax %{{.+}}, dim = 1
// CHECK-NOT: attn.attention
func.func @attention_softmax_wrong_dim(%q: tensor<2x4x8xf32>, %k: tensor<2x6x8xf32>, %val: tensor<2x6x8xf32>) -> (tensor<2x4x8xf32>) {
  %c43 = arith.constant 0.0 : f32
  %e44 = tensor.empty() : tensor<2x4x6xf32>
  %f45 = linalg.fill ins(%c43 : f32) outs(%e44 : tensor<2x4x6xf32>) -> tensor<2x4x6xf32>
  %e46 = tensor.empty() : tensor<2x8x6xf32>
  %kt47 = linalg.transpose ins(%k : tensor<2x6x8xf32>) outs(%e46 : tensor<2x8x6xf32>) permutation = [0, 2, 1]
  %s48 = linalg.batch_matmul ins(%q, %kt47 : tensor<2x4x8xf32>, tensor<2x8x6xf32>) outs(%f45 : tensor<2x4x6xf32>) -> tensor<2x4x6xf32>
  %e50 = tensor.empty() : tensor<2x4x6xf32>
  %p49 = linalg.softmax dimension(1) ins(%s48 : tensor<2x4x6xf32>) outs(%e50 : tensor<2x4x6xf32>) -> tensor<2x4x6xf32>
  %c51 = arith.constant 0.0 : f32
  %e52 = tensor.empty() : tensor<2x4x8xf32>
  %f53 = linalg.fill ins(%c51 : f32) outs(%e52 : tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  %o54 = linalg.batch_matmul ins(%p49, %val : tensor<2x4x6xf32>, tensor<2x6x8xf32>) outs(%f53 : tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  return %o54 : tensor<2x4x8xf32>
}

// -----

// Negative: the scale is a function argument, not a constant.
// CHECK-LABEL: func.func @attention_scale_not_constant
// CHECK-NOT: attn.attention
func.func @attention_scale_not_constant(%q: tensor<2x4x8xf32>, %k: tensor<2x6x8xf32>, %val: tensor<2x6x8xf32>, %c: f32) -> (tensor<2x4x8xf32>) {
  %c55 = arith.constant 0.0 : f32
  %e56 = tensor.empty() : tensor<2x4x6xf32>
  %f57 = linalg.fill ins(%c55 : f32) outs(%e56 : tensor<2x4x6xf32>) -> tensor<2x4x6xf32>
  %e58 = tensor.empty() : tensor<2x8x6xf32>
  %kt59 = linalg.transpose ins(%k : tensor<2x6x8xf32>) outs(%e58 : tensor<2x8x6xf32>) permutation = [0, 2, 1]
  %s60 = linalg.batch_matmul ins(%q, %kt59 : tensor<2x4x8xf32>, tensor<2x8x6xf32>) outs(%f57 : tensor<2x4x6xf32>) -> tensor<2x4x6xf32>
  %e61 = tensor.empty() : tensor<2x4x6xf32>
  %g62 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%s60 : tensor<2x4x6xf32>) outs(%e61 : tensor<2x4x6xf32>) {
  ^bb0(%a0: f32, %out: f32):
    %v = arith.mulf %a0, %c : f32
    linalg.yield %v : f32
  } -> tensor<2x4x6xf32>
  %e64 = tensor.empty() : tensor<2x4x6xf32>
  %p63 = linalg.softmax dimension(2) ins(%g62 : tensor<2x4x6xf32>) outs(%e64 : tensor<2x4x6xf32>) -> tensor<2x4x6xf32>
  %c65 = arith.constant 0.0 : f32
  %e66 = tensor.empty() : tensor<2x4x8xf32>
  %f67 = linalg.fill ins(%c65 : f32) outs(%e66 : tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  %o68 = linalg.batch_matmul ins(%p63, %val : tensor<2x4x6xf32>, tensor<2x6x8xf32>) outs(%f67 : tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  return %o68 : tensor<2x4x8xf32>
}

// -----

// Negative: the masked scores are also returned, so the chain cannot go.
// CHECK-LABEL: func.func @attention_scores_extra_user
// CHECK-NOT: attn.attention
func.func @attention_scores_extra_user(%q: tensor<2x6x8xf32>, %k: tensor<2x6x8xf32>, %val: tensor<2x6x8xf32>, %mask: tensor<2x6x6xf32>) -> (tensor<2x6x8xf32>, tensor<2x6x6xf32>) {
  %c69 = arith.constant 0.0 : f32
  %e70 = tensor.empty() : tensor<2x6x6xf32>
  %f71 = linalg.fill ins(%c69 : f32) outs(%e70 : tensor<2x6x6xf32>) -> tensor<2x6x6xf32>
  %e72 = tensor.empty() : tensor<2x8x6xf32>
  %kt73 = linalg.transpose ins(%k : tensor<2x6x8xf32>) outs(%e72 : tensor<2x8x6xf32>) permutation = [0, 2, 1]
  %s74 = linalg.batch_matmul ins(%q, %kt73 : tensor<2x6x8xf32>, tensor<2x8x6xf32>) outs(%f71 : tensor<2x6x6xf32>) -> tensor<2x6x6xf32>
  %e75 = tensor.empty() : tensor<2x6x6xf32>
  %g76 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%s74, %mask : tensor<2x6x6xf32>, tensor<2x6x6xf32>) outs(%e75 : tensor<2x6x6xf32>) {
  ^bb0(%a0: f32, %a1: f32, %out: f32):
    %v = arith.addf %a0, %a1 : f32
    linalg.yield %v : f32
  } -> tensor<2x6x6xf32>
  %e78 = tensor.empty() : tensor<2x6x6xf32>
  %p77 = linalg.softmax dimension(2) ins(%g76 : tensor<2x6x6xf32>) outs(%e78 : tensor<2x6x6xf32>) -> tensor<2x6x6xf32>
  %c79 = arith.constant 0.0 : f32
  %e80 = tensor.empty() : tensor<2x6x8xf32>
  %f81 = linalg.fill ins(%c79 : f32) outs(%e80 : tensor<2x6x8xf32>) -> tensor<2x6x8xf32>
  %o82 = linalg.batch_matmul ins(%p77, %val : tensor<2x6x6xf32>, tensor<2x6x8xf32>) outs(%f81 : tensor<2x6x8xf32>) -> tensor<2x6x8xf32>
  return %o82, %g76 : tensor<2x6x8xf32>, tensor<2x6x6xf32>
}

// -----

// Negative: the -inf triangle is j > i + 1, not the causal diagonal
// j > i + (N - M) = j > i.
// CHECK-LABEL: func.func @attention_not_causal_diagonal
// CHECK-NOT: attn.attention
func.func @attention_not_causal_diagonal(%q: tensor<2x6x8xf32>, %k: tensor<2x6x8xf32>, %val: tensor<2x6x8xf32>) -> (tensor<2x6x8xf32>) {
  %c83 = arith.constant 0.0 : f32
  %e84 = tensor.empty() : tensor<2x6x6xf32>
  %f85 = linalg.fill ins(%c83 : f32) outs(%e84 : tensor<2x6x6xf32>) -> tensor<2x6x6xf32>
  %e86 = tensor.empty() : tensor<2x8x6xf32>
  %kt87 = linalg.transpose ins(%k : tensor<2x6x8xf32>) outs(%e86 : tensor<2x8x6xf32>) permutation = [0, 2, 1]
  %s88 = linalg.batch_matmul ins(%q, %kt87 : tensor<2x6x8xf32>, tensor<2x8x6xf32>) outs(%f85 : tensor<2x6x6xf32>) -> tensor<2x6x6xf32>
  %e89 = tensor.empty() : tensor<2x6x6xi1>
  %g90 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]}
      outs(%e89 : tensor<2x6x6xi1>) {
  ^bb0(%out: i1):
    %i = linalg.index 1 : index
    %j = linalg.index 2 : index
    %o = arith.constant 1 : index
    %io = arith.addi %i, %o : index
    %v = arith.cmpi sgt, %j, %io : index
    linalg.yield %v : i1
  } -> tensor<2x6x6xi1>
  %c91 = arith.constant 0xFF800000 : f32
  %e92 = tensor.empty() : tensor<2x6x6xf32>
  %f93 = linalg.fill ins(%c91 : f32) outs(%e92 : tensor<2x6x6xf32>) -> tensor<2x6x6xf32>
  %sel94 = arith.select %g90, %f93, %s88 : tensor<2x6x6xi1>, tensor<2x6x6xf32>
  %e96 = tensor.empty() : tensor<2x6x6xf32>
  %p95 = linalg.softmax dimension(2) ins(%sel94 : tensor<2x6x6xf32>) outs(%e96 : tensor<2x6x6xf32>) -> tensor<2x6x6xf32>
  %c97 = arith.constant 0.0 : f32
  %e98 = tensor.empty() : tensor<2x6x8xf32>
  %f99 = linalg.fill ins(%c97 : f32) outs(%e98 : tensor<2x6x8xf32>) -> tensor<2x6x8xf32>
  %o100 = linalg.batch_matmul ins(%p95, %val : tensor<2x6x6xf32>, tensor<2x6x8xf32>) outs(%f99 : tensor<2x6x8xf32>) -> tensor<2x6x8xf32>
  return %o100 : tensor<2x6x8xf32>
}

// -----

// Negative: a dynamic B*H (head count) dim.
// CHECK-LABEL: func.func @attention_dynamic_heads
// CHECK-NOT: attn.attention
func.func @attention_dynamic_heads(%q: tensor<?x4x8xf32>, %kt: tensor<?x8x6xf32>, %v: tensor<?x6x8xf32>, %s0: tensor<?x4x6xf32>, %o0: tensor<?x4x8xf32>) -> tensor<?x4x8xf32> {
  %zero = arith.constant 0.0 : f32
  %sz = linalg.fill ins(%zero : f32) outs(%s0 : tensor<?x4x6xf32>) -> tensor<?x4x6xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<?x4x8xf32>, tensor<?x8x6xf32>) outs(%sz : tensor<?x4x6xf32>) -> tensor<?x4x6xf32>
  %p = linalg.softmax dimension(2) ins(%s : tensor<?x4x6xf32>) outs(%s0 : tensor<?x4x6xf32>) -> tensor<?x4x6xf32>
  %oz = linalg.fill ins(%zero : f32) outs(%o0 : tensor<?x4x8xf32>) -> tensor<?x4x8xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<?x4x6xf32>, tensor<?x6x8xf32>) outs(%oz : tensor<?x4x8xf32>) -> tensor<?x4x8xf32>
  return %o : tensor<?x4x8xf32>
}

// -----

// K arrives as [B, H, D, N] and the 5-loop Q.K generic reads it so, with no
// transpose op: a linalg.transpose to [B, H, N, D] is inserted for the op.
// CHECK-LABEL: func.func @attention_k_pretransposed_generic
// CHECK-SAME: (%[[Q:.+]]: tensor<1x2x4x8xf32>, %[[KT:.+]]: tensor<1x2x8x6xf32>, %[[V:.+]]: tensor<1x2x6x8xf32>)
// CHECK: %[[E:.+]] = tensor.empty() : tensor<1x2x6x8xf32>
// CHECK-NEXT: %[[K:.+]] = linalg.transpose ins(%[[KT]] : tensor<1x2x8x6xf32>) outs(%[[E]] : tensor<1x2x6x8xf32>) permutation = [0, 1, 3, 2]
// CHECK-NEXT: %[[O:.+]] = attn.attention %[[Q]], %[[K]], %[[V]] {scale = 1.250000e-01 : f32} : tensor<1x2x4x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32> -> tensor<1x2x4x8xf32>
// CHECK-NEXT: return %[[O]]
#qk_q = affine_map<(b, h, i, j, d) -> (b, h, i, d)>
#qk_kt = affine_map<(b, h, i, j, d) -> (b, h, d, j)>
#qk_s = affine_map<(b, h, i, j, d) -> (b, h, i, j)>
#pv_p = affine_map<(b, h, i, e, j) -> (b, h, i, j)>
#pv_v = affine_map<(b, h, i, e, j) -> (b, h, j, e)>
#pv_o = affine_map<(b, h, i, e, j) -> (b, h, i, e)>
#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
func.func @attention_k_pretransposed_generic(%q: tensor<1x2x4x8xf32>, %kt: tensor<1x2x8x6xf32>, %v: tensor<1x2x6x8xf32>) -> tensor<1x2x4x8xf32> {
  %zero = arith.constant 0.0 : f32
  %c = arith.constant 0.125 : f32
  %s0 = tensor.empty() : tensor<1x2x4x6xf32>
  %sz = linalg.fill ins(%zero : f32) outs(%s0 : tensor<1x2x4x6xf32>) -> tensor<1x2x4x6xf32>
  %s = linalg.generic {indexing_maps = [#qk_q, #qk_kt, #qk_s], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%q, %kt : tensor<1x2x4x8xf32>, tensor<1x2x8x6xf32>) outs(%sz : tensor<1x2x4x6xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4x6xf32>
  %scaled = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%s : tensor<1x2x4x6xf32>) outs(%s0 : tensor<1x2x4x6xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.mulf %a, %c : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4x6xf32>
  %p = linalg.softmax dimension(3) ins(%scaled : tensor<1x2x4x6xf32>) outs(%s0 : tensor<1x2x4x6xf32>) -> tensor<1x2x4x6xf32>
  %o0 = tensor.empty() : tensor<1x2x4x8xf32>
  %oz = linalg.fill ins(%zero : f32) outs(%o0 : tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  %o = linalg.generic {indexing_maps = [#pv_p, #pv_v, #pv_o], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%p, %v : tensor<1x2x4x6xf32>, tensor<1x2x6x8xf32>) outs(%oz : tensor<1x2x4x8xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4x8xf32>
  return %o : tensor<1x2x4x8xf32>
}

// -----

// Batch and heads folded ([B*H, M, D]) and K arriving as [B*H, D, N] into a
// plain batch_matmul, M = 4 < N = 6, the triangle j > i + 2: K is
// transposed to [B*H, N, D], everything viewed as [1, B*H, ., .], and the
// triangle is the causal one (N - M = 2, N read from K's last dim).
// CHECK-LABEL: func.func @attention_bmm_k_pretransposed_causal
// CHECK-SAME: (%[[Q:.+]]: tensor<3x4x8xf32>, %[[KT:.+]]: tensor<3x8x6xf32>, %[[V:.+]]: tensor<3x6x8xf32>)
// CHECK: %[[K:.+]] = linalg.transpose ins(%[[KT]] : tensor<3x8x6xf32>) outs(%{{.+}} : tensor<3x6x8xf32>) permutation = [0, 2, 1]
// CHECK-DAG: %[[Q4:.+]] = tensor.expand_shape %[[Q]] {{\[}}[0, 1], [2], [3]] output_shape [1, 3, 4, 8]
// CHECK-DAG: %[[K4:.+]] = tensor.expand_shape %[[K]] {{\[}}[0, 1], [2], [3]] output_shape [1, 3, 6, 8]
// CHECK-DAG: %[[V4:.+]] = tensor.expand_shape %[[V]] {{\[}}[0, 1], [2], [3]] output_shape [1, 3, 6, 8]
// CHECK: %[[O:.+]] = attn.attention %[[Q4]], %[[K4]], %[[V4]] {causal, scale = 1.000000e+00 : f32}
// CHECK-NEXT: %[[R:.+]] = tensor.collapse_shape %[[O]] {{\[}}[0, 1], [2], [3]] : tensor<1x3x4x8xf32> into tensor<3x4x8xf32>
// CHECK-NEXT: return %[[R]]
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @attention_bmm_k_pretransposed_causal(%q: tensor<3x4x8xf32>, %kt: tensor<3x8x6xf32>, %v: tensor<3x6x8xf32>) -> tensor<3x4x8xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %s0 = tensor.empty() : tensor<3x4x6xf32>
  %sz = linalg.fill ins(%zero : f32) outs(%s0 : tensor<3x4x6xf32>) -> tensor<3x4x6xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<3x4x8xf32>, tensor<3x8x6xf32>) outs(%sz : tensor<3x4x6xf32>) -> tensor<3x4x6xf32>
  %causal = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%s : tensor<3x4x6xf32>) outs(%s0 : tensor<3x4x6xf32>) {
  ^bb0(%a: f32, %o: f32):
    %i = linalg.index 1 : index
    %j = linalg.index 2 : index
    %c2 = arith.constant 2 : index
    %i2 = arith.addi %i, %c2 : index
    %above = arith.cmpi sgt, %j, %i2 : index
    %r = arith.select %above, %ninf, %a : f32
    linalg.yield %r : f32
  } -> tensor<3x4x6xf32>
  %p = linalg.softmax dimension(2) ins(%causal : tensor<3x4x6xf32>) outs(%s0 : tensor<3x4x6xf32>) -> tensor<3x4x6xf32>
  %o0 = tensor.empty() : tensor<3x4x8xf32>
  %oz = linalg.fill ins(%zero : f32) outs(%o0 : tensor<3x4x8xf32>) -> tensor<3x4x8xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<3x4x6xf32>, tensor<3x6x8xf32>) outs(%oz : tensor<3x4x8xf32>) -> tensor<3x4x8xf32>
  return %o : tensor<3x4x8xf32>
}

// -----

// Rank 2 with D = N = 8: the plain matmul reads its right operand as
// [D, N], so it is K^T and is transposed back (a [N, D] K has the same
// type; the indexing maps decide).
// CHECK-LABEL: func.func @attention_matmul_square_k_pretransposed
// CHECK-SAME: (%[[Q:.+]]: tensor<4x8xf32>, %[[KT:.+]]: tensor<8x8xf32>, %[[V:.+]]: tensor<8x8xf32>)
// CHECK: %[[K:.+]] = linalg.transpose ins(%[[KT]] : tensor<8x8xf32>) outs(%{{.+}} : tensor<8x8xf32>) permutation = [1, 0]
// CHECK: %[[K4:.+]] = tensor.expand_shape %[[K]] {{\[}}[0, 1, 2], [3]] output_shape [1, 1, 8, 8]
// CHECK: attn.attention %{{.+}}, %[[K4]], %{{.+}} {scale = 1.000000e+00 : f32}
func.func @attention_matmul_square_k_pretransposed(%q: tensor<4x8xf32>, %kt: tensor<8x8xf32>, %v: tensor<8x8xf32>) -> tensor<4x8xf32> {
  %zero = arith.constant 0.0 : f32
  %s0 = tensor.empty() : tensor<4x8xf32>
  %sz = linalg.fill ins(%zero : f32) outs(%s0 : tensor<4x8xf32>) -> tensor<4x8xf32>
  %s = linalg.matmul ins(%q, %kt : tensor<4x8xf32>, tensor<8x8xf32>) outs(%sz : tensor<4x8xf32>) -> tensor<4x8xf32>
  %p = linalg.softmax dimension(1) ins(%s : tensor<4x8xf32>) outs(%s0 : tensor<4x8xf32>) -> tensor<4x8xf32>
  %o0 = tensor.empty() : tensor<4x8xf32>
  %oz = linalg.fill ins(%zero : f32) outs(%o0 : tensor<4x8xf32>) -> tensor<4x8xf32>
  %o = linalg.matmul ins(%p, %v : tensor<4x8xf32>, tensor<8x8xf32>) outs(%oz : tensor<4x8xf32>) -> tensor<4x8xf32>
  return %o : tensor<4x8xf32>
}

// -----

// Negative: the Q.K generic reads K^T with batch and heads swapped
// ((b, h) of Q against K^T[h, b]): not Q.K^T under any inner transpose.
// The softmax alone is raised.
// CHECK-LABEL: func.func @attention_k_batch_heads_swapped
// CHECK-NOT: attn.attention
// CHECK-NOT: linalg.transpose
// CHECK: attn.softmax
// CHECK-NOT: attn.attention
#qk_q = affine_map<(b, h, i, j, d) -> (b, h, i, d)>
#qk_kt = affine_map<(b, h, i, j, d) -> (h, b, d, j)>
#qk_s = affine_map<(b, h, i, j, d) -> (b, h, i, j)>
#pv_p = affine_map<(b, h, i, e, j) -> (b, h, i, j)>
#pv_v = affine_map<(b, h, i, e, j) -> (b, h, j, e)>
#pv_o = affine_map<(b, h, i, e, j) -> (b, h, i, e)>
func.func @attention_k_batch_heads_swapped(%q: tensor<2x2x4x8xf32>, %kt: tensor<2x2x8x6xf32>, %v: tensor<2x2x6x8xf32>) -> tensor<2x2x4x8xf32> {
  %zero = arith.constant 0.0 : f32
  %s0 = tensor.empty() : tensor<2x2x4x6xf32>
  %sz = linalg.fill ins(%zero : f32) outs(%s0 : tensor<2x2x4x6xf32>) -> tensor<2x2x4x6xf32>
  %s = linalg.generic {indexing_maps = [#qk_q, #qk_kt, #qk_s], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%q, %kt : tensor<2x2x4x8xf32>, tensor<2x2x8x6xf32>) outs(%sz : tensor<2x2x4x6xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  } -> tensor<2x2x4x6xf32>
  %p = linalg.softmax dimension(3) ins(%s : tensor<2x2x4x6xf32>) outs(%s0 : tensor<2x2x4x6xf32>) -> tensor<2x2x4x6xf32>
  %o0 = tensor.empty() : tensor<2x2x4x8xf32>
  %oz = linalg.fill ins(%zero : f32) outs(%o0 : tensor<2x2x4x8xf32>) -> tensor<2x2x4x8xf32>
  %o = linalg.generic {indexing_maps = [#pv_p, #pv_v, #pv_o], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%p, %v : tensor<2x2x4x6xf32>, tensor<2x2x6x8xf32>) outs(%oz : tensor<2x2x4x8xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  } -> tensor<2x2x4x8xf32>
  return %o : tensor<2x2x4x8xf32>
}

// -----

// Negative: the product reduces over Q's rows (Q read as [D, M], M = D = 8):
// Q^T.K^T, not attention of Q.
// CHECK-LABEL: func.func @attention_q_rows_reduced
// CHECK-NOT: attn.attention
// CHECK-NOT: linalg.transpose
// CHECK: attn.softmax
// CHECK-NOT: attn.attention
#qk_q = affine_map<(b, h, i, j, d) -> (b, h, d, i)>
#qk_kt = affine_map<(b, h, i, j, d) -> (b, h, d, j)>
#qk_s = affine_map<(b, h, i, j, d) -> (b, h, i, j)>
#pv_p = affine_map<(b, h, i, e, j) -> (b, h, i, j)>
#pv_v = affine_map<(b, h, i, e, j) -> (b, h, j, e)>
#pv_o = affine_map<(b, h, i, e, j) -> (b, h, i, e)>
func.func @attention_q_rows_reduced(%q: tensor<1x2x8x8xf32>, %kt: tensor<1x2x8x6xf32>, %v: tensor<1x2x6x8xf32>) -> tensor<1x2x8x8xf32> {
  %zero = arith.constant 0.0 : f32
  %s0 = tensor.empty() : tensor<1x2x8x6xf32>
  %sz = linalg.fill ins(%zero : f32) outs(%s0 : tensor<1x2x8x6xf32>) -> tensor<1x2x8x6xf32>
  %s = linalg.generic {indexing_maps = [#qk_q, #qk_kt, #qk_s], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%q, %kt : tensor<1x2x8x8xf32>, tensor<1x2x8x6xf32>) outs(%sz : tensor<1x2x8x6xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  } -> tensor<1x2x8x6xf32>
  %p = linalg.softmax dimension(3) ins(%s : tensor<1x2x8x6xf32>) outs(%s0 : tensor<1x2x8x6xf32>) -> tensor<1x2x8x6xf32>
  %o0 = tensor.empty() : tensor<1x2x8x8xf32>
  %oz = linalg.fill ins(%zero : f32) outs(%o0 : tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32>
  %o = linalg.generic {indexing_maps = [#pv_p, #pv_v, #pv_o], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%p, %v : tensor<1x2x8x6xf32>, tensor<1x2x6x8xf32>) outs(%oz : tensor<1x2x8x8xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  } -> tensor<1x2x8x8xf32>
  return %o : tensor<1x2x8x8xf32>
}

// -----

// Negative: [B*H, M, N] folded heads with the additive mask read
// transposed (mask[bh, j, i], M = N = 6): no mask layout of attn.attention.
// CHECK-LABEL: func.func @attention_bmm_mask_transposed
// CHECK-NOT: attn.attention
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#ji3 = affine_map<(d0, d1, d2) -> (d0, d2, d1)>
func.func @attention_bmm_mask_transposed(%q: tensor<2x6x8xf32>, %k: tensor<2x6x8xf32>, %v: tensor<2x6x8xf32>, %mask: tensor<2x6x6xf32>) -> tensor<2x6x8xf32> {
  %zero = arith.constant 0.0 : f32
  %s0 = tensor.empty() : tensor<2x6x6xf32>
  %sz = linalg.fill ins(%zero : f32) outs(%s0 : tensor<2x6x6xf32>) -> tensor<2x6x6xf32>
  %s = linalg.batch_matmul indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>]
      ins(%q, %k : tensor<2x6x8xf32>, tensor<2x6x8xf32>) outs(%sz : tensor<2x6x6xf32>) -> tensor<2x6x6xf32>
  %masked = linalg.generic {indexing_maps = [#id3, #ji3, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%s, %mask : tensor<2x6x6xf32>, tensor<2x6x6xf32>) outs(%s0 : tensor<2x6x6xf32>) {
  ^bb0(%a: f32, %m: f32, %o: f32):
    %r = arith.addf %a, %m : f32
    linalg.yield %r : f32
  } -> tensor<2x6x6xf32>
  %p = linalg.softmax dimension(2) ins(%masked : tensor<2x6x6xf32>) outs(%s0 : tensor<2x6x6xf32>) -> tensor<2x6x6xf32>
  %o0 = tensor.empty() : tensor<2x6x8xf32>
  %oz = linalg.fill ins(%zero : f32) outs(%o0 : tensor<2x6x8xf32>) -> tensor<2x6x8xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x6x6xf32>, tensor<2x6x8xf32>) outs(%oz : tensor<2x6x8xf32>) -> tensor<2x6x8xf32>
  return %o : tensor<2x6x8xf32>
}

// -----

// The max / sub / exp / sum / div chain of the frontends.
// CHECK-LABEL: func.func @softmax_chain
// CHECK-SAME: (%[[X:.+]]: tensor<4x8xf32>)
// CHECK-NEXT: %[[P:.+]] = attn.softmax %[[X]], dim = 1 : tensor<4x8xf32> -> tensor<4x8xf32>
// CHECK-NEXT: return %[[P]]
func.func @softmax_chain(%x: tensor<4x8xf32>) -> (tensor<4x8xf32>) {
  %c101 = arith.constant 0xFF800000 : f32
  %e102 = tensor.empty() : tensor<4xf32>
  %f103 = linalg.fill ins(%c101 : f32) outs(%e102 : tensor<4xf32>) -> tensor<4xf32>
  %g104 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]}
      ins(%x : tensor<4x8xf32>) outs(%f103 : tensor<4xf32>) {
  ^bb0(%a0: f32, %out: f32):
    %v = arith.maximumf %a0, %out : f32
    linalg.yield %v : f32
  } -> tensor<4xf32>
  %e105 = tensor.empty() : tensor<4x8xf32>
  %g106 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%x, %g104 : tensor<4x8xf32>, tensor<4xf32>) outs(%e105 : tensor<4x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %out: f32):
    %v = arith.subf %a0, %a1 : f32
    linalg.yield %v : f32
  } -> tensor<4x8xf32>
  %e107 = tensor.empty() : tensor<4x8xf32>
  %g108 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%g106 : tensor<4x8xf32>) outs(%e107 : tensor<4x8xf32>) {
  ^bb0(%a0: f32, %out: f32):
    %v = math.exp %a0 : f32
    linalg.yield %v : f32
  } -> tensor<4x8xf32>
  %c109 = arith.constant 0.0 : f32
  %e110 = tensor.empty() : tensor<4xf32>
  %f111 = linalg.fill ins(%c109 : f32) outs(%e110 : tensor<4xf32>) -> tensor<4xf32>
  %g112 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]}
      ins(%g108 : tensor<4x8xf32>) outs(%f111 : tensor<4xf32>) {
  ^bb0(%a0: f32, %out: f32):
    %v = arith.addf %a0, %out : f32
    linalg.yield %v : f32
  } -> tensor<4xf32>
  %e113 = tensor.empty() : tensor<4x8xf32>
  %g114 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%g108, %g112 : tensor<4x8xf32>, tensor<4xf32>) outs(%e113 : tensor<4x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %out: f32):
    %v = arith.divf %a0, %a1 : f32
    linalg.yield %v : f32
  } -> tensor<4x8xf32>
  return %g114 : tensor<4x8xf32>
}

// -----

// sub and exp in one generic, bf16, reduced over dim 0.
// CHECK-LABEL: func.func @softmax_fused_sub_exp_dim0
// CHECK-NEXT: attn.softmax %{{.+}}, dim = 0 : tensor<4x8xbf16> -> tensor<4x8xbf16>
func.func @softmax_fused_sub_exp_dim0(%x: tensor<4x8xbf16>) -> (tensor<4x8xbf16>) {
  %c115 = arith.constant 0xFF80 : bf16
  %e116 = tensor.empty() : tensor<8xbf16>
  %f117 = linalg.fill ins(%c115 : bf16) outs(%e116 : tensor<8xbf16>) -> tensor<8xbf16>
  %g118 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>], iterator_types = ["reduction", "parallel"]}
      ins(%x : tensor<4x8xbf16>) outs(%f117 : tensor<8xbf16>) {
  ^bb0(%a0: bf16, %out: bf16):
    %v = arith.maximumf %a0, %out : bf16
    linalg.yield %v : bf16
  } -> tensor<8xbf16>
  %e119 = tensor.empty() : tensor<4x8xbf16>
  %g120 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%x, %g118 : tensor<4x8xbf16>, tensor<8xbf16>) outs(%e119 : tensor<4x8xbf16>) {
  ^bb0(%a0: bf16, %a1: bf16, %out: bf16):
    %s = arith.subf %a0, %a1 : bf16
    %v = math.exp %s : bf16
    linalg.yield %v : bf16
  } -> tensor<4x8xbf16>
  %c121 = arith.constant 0.0 : bf16
  %e122 = tensor.empty() : tensor<8xbf16>
  %f123 = linalg.fill ins(%c121 : bf16) outs(%e122 : tensor<8xbf16>) -> tensor<8xbf16>
  %g124 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>], iterator_types = ["reduction", "parallel"]}
      ins(%g120 : tensor<4x8xbf16>) outs(%f123 : tensor<8xbf16>) {
  ^bb0(%a0: bf16, %out: bf16):
    %v = arith.addf %a0, %out : bf16
    linalg.yield %v : bf16
  } -> tensor<8xbf16>
  %e125 = tensor.empty() : tensor<4x8xbf16>
  %g126 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%g120, %g124 : tensor<4x8xbf16>, tensor<8xbf16>) outs(%e125 : tensor<4x8xbf16>) {
  ^bb0(%a0: bf16, %a1: bf16, %out: bf16):
    %v = arith.divf %a0, %a1 : bf16
    linalg.yield %v : bf16
  } -> tensor<4x8xbf16>
  return %g126 : tensor<4x8xbf16>
}

// -----

// Negative: the max runs over dim 1 but the sum over dim 0.
// CHECK-LABEL: func.func @softmax_mismatched_dims
// CHECK-NOT: attn.
func.func @softmax_mismatched_dims(%x: tensor<4x8xf32>) -> (tensor<4x8xf32>) {
  %c127 = arith.constant 0xFF800000 : f32
  %e128 = tensor.empty() : tensor<4xf32>
  %f129 = linalg.fill ins(%c127 : f32) outs(%e128 : tensor<4xf32>) -> tensor<4xf32>
  %g130 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]}
      ins(%x : tensor<4x8xf32>) outs(%f129 : tensor<4xf32>) {
  ^bb0(%a0: f32, %out: f32):
    %v = arith.maximumf %a0, %out : f32
    linalg.yield %v : f32
  } -> tensor<4xf32>
  %e131 = tensor.empty() : tensor<4x8xf32>
  %g132 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%x, %g130 : tensor<4x8xf32>, tensor<4xf32>) outs(%e131 : tensor<4x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %out: f32):
    %s = arith.subf %a0, %a1 : f32
    %v = math.exp %s : f32
    linalg.yield %v : f32
  } -> tensor<4x8xf32>
  %c133 = arith.constant 0.0 : f32
  %e134 = tensor.empty() : tensor<8xf32>
  %f135 = linalg.fill ins(%c133 : f32) outs(%e134 : tensor<8xf32>) -> tensor<8xf32>
  %g136 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>], iterator_types = ["reduction", "parallel"]}
      ins(%g132 : tensor<4x8xf32>) outs(%f135 : tensor<8xf32>) {
  ^bb0(%a0: f32, %out: f32):
    %v = arith.addf %a0, %out : f32
    linalg.yield %v : f32
  } -> tensor<8xf32>
  %e137 = tensor.empty() : tensor<4x8xf32>
  %g138 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%g132, %g136 : tensor<4x8xf32>, tensor<8xf32>) outs(%e137 : tensor<4x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %out: f32):
    %v = arith.divf %a0, %a1 : f32
    linalg.yield %v : f32
  } -> tensor<4x8xf32>
  return %g138 : tensor<4x8xf32>
}

// -----

// Negative: exp(x - max) is also returned.
// CHECK-LABEL: func.func @softmax_exp_extra_user
// CHECK-NOT: attn.
func.func @softmax_exp_extra_user(%x: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  %c139 = arith.constant 0xFF800000 : f32
  %e140 = tensor.empty() : tensor<4xf32>
  %f141 = linalg.fill ins(%c139 : f32) outs(%e140 : tensor<4xf32>) -> tensor<4xf32>
  %g142 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]}
      ins(%x : tensor<4x8xf32>) outs(%f141 : tensor<4xf32>) {
  ^bb0(%a0: f32, %out: f32):
    %v = arith.maximumf %a0, %out : f32
    linalg.yield %v : f32
  } -> tensor<4xf32>
  %e143 = tensor.empty() : tensor<4x8xf32>
  %g144 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%x, %g142 : tensor<4x8xf32>, tensor<4xf32>) outs(%e143 : tensor<4x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %out: f32):
    %s = arith.subf %a0, %a1 : f32
    %v = math.exp %s : f32
    linalg.yield %v : f32
  } -> tensor<4x8xf32>
  %c145 = arith.constant 0.0 : f32
  %e146 = tensor.empty() : tensor<4xf32>
  %f147 = linalg.fill ins(%c145 : f32) outs(%e146 : tensor<4xf32>) -> tensor<4xf32>
  %g148 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]}
      ins(%g144 : tensor<4x8xf32>) outs(%f147 : tensor<4xf32>) {
  ^bb0(%a0: f32, %out: f32):
    %v = arith.addf %a0, %out : f32
    linalg.yield %v : f32
  } -> tensor<4xf32>
  %e149 = tensor.empty() : tensor<4x8xf32>
  %g150 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%g144, %g148 : tensor<4x8xf32>, tensor<4xf32>) outs(%e149 : tensor<4x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %out: f32):
    %v = arith.divf %a0, %a1 : f32
    linalg.yield %v : f32
  } -> tensor<4x8xf32>
  return %g150, %g144 : tensor<4x8xf32>, tensor<4x8xf32>
}

// -----

// linalg.softmax.
// CHECK-LABEL: func.func @linalg_softmax
// CHECK-SAME: (%[[X:[^:]+]]: tensor<4x8xf16>
// CHECK-NEXT: %[[P:.+]] = attn.softmax %[[X]], dim = 1 : tensor<4x8xf16> -> tensor<4x8xf16>
// CHECK-NEXT: return %[[P]]
func.func @linalg_softmax(%x: tensor<4x8xf16>, %init: tensor<4x8xf16>) -> tensor<4x8xf16> {
  %p = linalg.softmax dimension(1) ins(%x : tensor<4x8xf16>) outs(%init : tensor<4x8xf16>) -> tensor<4x8xf16>
  return %p : tensor<4x8xf16>
}

// -----

// Negative: f64 is not an element type of attn.softmax.
// CHECK-LABEL: func.func @linalg_softmax_f64
// CHECK-NOT: attn.
// CHECK: linalg.softmax
func.func @linalg_softmax_f64(%x: tensor<4x8xf64>, %init: tensor<4x8xf64>) -> tensor<4x8xf64> {
  %p = linalg.softmax dimension(1) ins(%x : tensor<4x8xf64>) outs(%init : tensor<4x8xf64>) -> tensor<4x8xf64>
  return %p : tensor<4x8xf64>
}

// -----

// The log-softmax chain, the log inside the last generic.
// CHECK-LABEL: func.func @log_softmax_chain
// CHECK-SAME: (%[[X:.+]]: tensor<3x5x7xf32>)
// CHECK-NEXT: %[[L:.+]] = attn.log_softmax %[[X]], dim = 1 : tensor<3x5x7xf32> -> tensor<3x5x7xf32>
// CHECK-NEXT: return %[[L]]
func.func @log_softmax_chain(%x: tensor<3x5x7xf32>) -> (tensor<3x5x7xf32>) {
  %c151 = arith.constant 0xFF800000 : f32
  %e152 = tensor.empty() : tensor<3x7xf32>
  %f153 = linalg.fill ins(%c151 : f32) outs(%e152 : tensor<3x7xf32>) -> tensor<3x7xf32>
  %g154 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d2)>], iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%x : tensor<3x5x7xf32>) outs(%f153 : tensor<3x7xf32>) {
  ^bb0(%a0: f32, %out: f32):
    %v = arith.maximumf %a0, %out : f32
    linalg.yield %v : f32
  } -> tensor<3x7xf32>
  %e155 = tensor.empty() : tensor<3x5x7xf32>
  %g156 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x, %g154 : tensor<3x5x7xf32>, tensor<3x7xf32>) outs(%e155 : tensor<3x5x7xf32>) {
  ^bb0(%a0: f32, %a1: f32, %out: f32):
    %v = arith.subf %a0, %a1 : f32
    linalg.yield %v : f32
  } -> tensor<3x5x7xf32>
  %e157 = tensor.empty() : tensor<3x5x7xf32>
  %g158 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%g156 : tensor<3x5x7xf32>) outs(%e157 : tensor<3x5x7xf32>) {
  ^bb0(%a0: f32, %out: f32):
    %v = math.exp %a0 : f32
    linalg.yield %v : f32
  } -> tensor<3x5x7xf32>
  %c159 = arith.constant 0.0 : f32
  %e160 = tensor.empty() : tensor<3x7xf32>
  %f161 = linalg.fill ins(%c159 : f32) outs(%e160 : tensor<3x7xf32>) -> tensor<3x7xf32>
  %g162 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d2)>], iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%g158 : tensor<3x5x7xf32>) outs(%f161 : tensor<3x7xf32>) {
  ^bb0(%a0: f32, %out: f32):
    %v = arith.addf %a0, %out : f32
    linalg.yield %v : f32
  } -> tensor<3x7xf32>
  %e163 = tensor.empty() : tensor<3x5x7xf32>
  %g164 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%g156, %g162 : tensor<3x5x7xf32>, tensor<3x7xf32>) outs(%e163 : tensor<3x5x7xf32>) {
  ^bb0(%a0: f32, %a1: f32, %out: f32):
    %l = math.log %a1 : f32
    %v = arith.subf %a0, %l : f32
    linalg.yield %v : f32
  } -> tensor<3x5x7xf32>
  return %g164 : tensor<3x5x7xf32>
}

// -----

// Negative: x - max is also returned.
// CHECK-LABEL: func.func @log_softmax_shifted_extra_user
// CHECK-NOT: attn.
func.func @log_softmax_shifted_extra_user(%x: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  %c165 = arith.constant 0xFF800000 : f32
  %e166 = tensor.empty() : tensor<4xf32>
  %f167 = linalg.fill ins(%c165 : f32) outs(%e166 : tensor<4xf32>) -> tensor<4xf32>
  %g168 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]}
      ins(%x : tensor<4x8xf32>) outs(%f167 : tensor<4xf32>) {
  ^bb0(%a0: f32, %out: f32):
    %v = arith.maximumf %a0, %out : f32
    linalg.yield %v : f32
  } -> tensor<4xf32>
  %e169 = tensor.empty() : tensor<4x8xf32>
  %g170 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%x, %g168 : tensor<4x8xf32>, tensor<4xf32>) outs(%e169 : tensor<4x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %out: f32):
    %v = arith.subf %a0, %a1 : f32
    linalg.yield %v : f32
  } -> tensor<4x8xf32>
  %e171 = tensor.empty() : tensor<4x8xf32>
  %g172 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%g170 : tensor<4x8xf32>) outs(%e171 : tensor<4x8xf32>) {
  ^bb0(%a0: f32, %out: f32):
    %v = math.exp %a0 : f32
    linalg.yield %v : f32
  } -> tensor<4x8xf32>
  %c173 = arith.constant 0.0 : f32
  %e174 = tensor.empty() : tensor<4xf32>
  %f175 = linalg.fill ins(%c173 : f32) outs(%e174 : tensor<4xf32>) -> tensor<4xf32>
  %g176 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]}
      ins(%g172 : tensor<4x8xf32>) outs(%f175 : tensor<4xf32>) {
  ^bb0(%a0: f32, %out: f32):
    %v = arith.addf %a0, %out : f32
    linalg.yield %v : f32
  } -> tensor<4xf32>
  %e177 = tensor.empty() : tensor<4x8xf32>
  %g178 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%g170, %g176 : tensor<4x8xf32>, tensor<4xf32>) outs(%e177 : tensor<4x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %out: f32):
    %l = math.log %a1 : f32
    %v = arith.subf %a0, %l : f32
    linalg.yield %v : f32
  } -> tensor<4x8xf32>
  return %g178, %g170 : tensor<4x8xf32>, tensor<4x8xf32>
}

// -----

// nll_loss(log_softmax(z), y) with the label gathered by tensor.extract,
// negated in the same body, summed: reduction sum, and no token ignored
// (ignore_index = INT64_MIN).
// CHECK-LABEL: func.func @cross_entropy_sum
// CHECK-SAME: (%[[Z:.+]]: tensor<8x100xf32>, %[[Y:.+]]: tensor<8xi64>)
// CHECK-NEXT: %[[L:.+]] = attn.cross_entropy %[[Z]], %[[Y]] {ignore_index = -9223372036854775808 : i64, reduction = #attn.reduction<sum>} : tensor<8x100xf32>, tensor<8xi64> -> tensor<f32>
// CHECK-NEXT: return %[[L]]
func.func @cross_entropy_sum(%z: tensor<8x100xf32>, %y: tensor<8xi64>) -> (tensor<f32>) {
  %c179 = arith.constant 0xFF800000 : f32
  %e180 = tensor.empty() : tensor<8xf32>
  %f181 = linalg.fill ins(%c179 : f32) outs(%e180 : tensor<8xf32>) -> tensor<8xf32>
  %g182 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]}
      ins(%z : tensor<8x100xf32>) outs(%f181 : tensor<8xf32>) {
  ^bb0(%a0: f32, %out: f32):
    %v = arith.maximumf %a0, %out : f32
    linalg.yield %v : f32
  } -> tensor<8xf32>
  %e183 = tensor.empty() : tensor<8x100xf32>
  %g184 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%z, %g182 : tensor<8x100xf32>, tensor<8xf32>) outs(%e183 : tensor<8x100xf32>) {
  ^bb0(%a0: f32, %a1: f32, %out: f32):
    %v = arith.subf %a0, %a1 : f32
    linalg.yield %v : f32
  } -> tensor<8x100xf32>
  %e185 = tensor.empty() : tensor<8x100xf32>
  %g186 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%g184 : tensor<8x100xf32>) outs(%e185 : tensor<8x100xf32>) {
  ^bb0(%a0: f32, %out: f32):
    %v = math.exp %a0 : f32
    linalg.yield %v : f32
  } -> tensor<8x100xf32>
  %c187 = arith.constant 0.0 : f32
  %e188 = tensor.empty() : tensor<8xf32>
  %f189 = linalg.fill ins(%c187 : f32) outs(%e188 : tensor<8xf32>) -> tensor<8xf32>
  %g190 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]}
      ins(%g186 : tensor<8x100xf32>) outs(%f189 : tensor<8xf32>) {
  ^bb0(%a0: f32, %out: f32):
    %v = arith.addf %a0, %out : f32
    linalg.yield %v : f32
  } -> tensor<8xf32>
  %e191 = tensor.empty() : tensor<8x100xf32>
  %g192 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%g184, %g190 : tensor<8x100xf32>, tensor<8xf32>) outs(%e191 : tensor<8x100xf32>) {
  ^bb0(%a0: f32, %a1: f32, %out: f32):
    %l = math.log %a1 : f32
    %v = arith.subf %a0, %l : f32
    linalg.yield %v : f32
  } -> tensor<8x100xf32>
  %e193 = tensor.empty() : tensor<8xf32>
  %g194 = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]}
      ins(%y : tensor<8xi64>) outs(%e193 : tensor<8xf32>) {
  ^bb0(%a0: i64, %out: f32):
    %row = linalg.index 0 : index
    %col = arith.index_cast %a0 : i64 to index
    %x = tensor.extract %g192[%row, %col] : tensor<8x100xf32>
    %v = arith.negf %x : f32
    linalg.yield %v : f32
  } -> tensor<8xf32>
  %c195 = arith.constant 0.0 : f32
  %e196 = tensor.empty() : tensor<f32>
  %f197 = linalg.fill ins(%c195 : f32) outs(%e196 : tensor<f32>) -> tensor<f32>
  %g198 = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> ()>], iterator_types = ["reduction"]}
      ins(%g194 : tensor<8xf32>) outs(%f197 : tensor<f32>) {
  ^bb0(%a0: f32, %out: f32):
    %v = arith.addf %a0, %out : f32
    linalg.yield %v : f32
  } -> tensor<f32>
  return %g198 : tensor<f32>
}

// -----

// The one-hot compare/select/sum gather, i32 labels (sign-extended so
// that INT64_MIN matches no label), negated by * -1, no reduction.
// CHECK-LABEL: func.func @cross_entropy_one_hot_none
// CHECK-SAME: (%[[Z:.+]]: tensor<8x100xf32>, %[[Y:.+]]: tensor<8xi32>)
// CHECK-NEXT: %[[Y64:.+]] = arith.extsi %[[Y]] : tensor<8xi32> to tensor<8xi64>
// CHECK-NEXT: %[[L:.+]] = attn.cross_entropy %[[Z]], %[[Y64]] {ignore_index = -9223372036854775808 : i64, reduction = #attn.reduction<none>} : tensor<8x100xf32>, tensor<8xi64> -> tensor<8xf32>
// CHECK-NEXT: return %[[L]]
func.func @cross_entropy_one_hot_none(%z: tensor<8x100xf32>, %y: tensor<8xi32>) -> (tensor<8xf32>) {
  %c199 = arith.constant 0xFF800000 : f32
  %e200 = tensor.empty() : tensor<8xf32>
  %f201 = linalg.fill ins(%c199 : f32) outs(%e200 : tensor<8xf32>) -> tensor<8xf32>
  %g202 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]}
      ins(%z : tensor<8x100xf32>) outs(%f201 : tensor<8xf32>) {
  ^bb0(%a0: f32, %out: f32):
    %v = arith.maximumf %a0, %out : f32
    linalg.yield %v : f32
  } -> tensor<8xf32>
  %e203 = tensor.empty() : tensor<8x100xf32>
  %g204 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%z, %g202 : tensor<8x100xf32>, tensor<8xf32>) outs(%e203 : tensor<8x100xf32>) {
  ^bb0(%a0: f32, %a1: f32, %out: f32):
    %v = arith.subf %a0, %a1 : f32
    linalg.yield %v : f32
  } -> tensor<8x100xf32>
  %e205 = tensor.empty() : tensor<8x100xf32>
  %g206 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%g204 : tensor<8x100xf32>) outs(%e205 : tensor<8x100xf32>) {
  ^bb0(%a0: f32, %out: f32):
    %v = math.exp %a0 : f32
    linalg.yield %v : f32
  } -> tensor<8x100xf32>
  %c207 = arith.constant 0.0 : f32
  %e208 = tensor.empty() : tensor<8xf32>
  %f209 = linalg.fill ins(%c207 : f32) outs(%e208 : tensor<8xf32>) -> tensor<8xf32>
  %g210 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]}
      ins(%g206 : tensor<8x100xf32>) outs(%f209 : tensor<8xf32>) {
  ^bb0(%a0: f32, %out: f32):
    %v = arith.addf %a0, %out : f32
    linalg.yield %v : f32
  } -> tensor<8xf32>
  %e211 = tensor.empty() : tensor<8x100xf32>
  %g212 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%g204, %g210 : tensor<8x100xf32>, tensor<8xf32>) outs(%e211 : tensor<8x100xf32>) {
  ^bb0(%a0: f32, %a1: f32, %out: f32):
    %l = math.log %a1 : f32
    %v = arith.subf %a0, %l : f32
    linalg.yield %v : f32
  } -> tensor<8x100xf32>
  %c213 = arith.constant 0.0 : f32
  %e214 = tensor.empty() : tensor<8xf32>
  %f215 = linalg.fill ins(%c213 : f32) outs(%e214 : tensor<8xf32>) -> tensor<8xf32>
  %g216 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]}
      ins(%g212, %y : tensor<8x100xf32>, tensor<8xi32>) outs(%f215 : tensor<8xf32>) {
  ^bb0(%a0: f32, %a1: i32, %out: f32):
    %j = linalg.index 1 : index
    %jc = arith.index_cast %j : index to i32
    %eq = arith.cmpi eq, %jc, %a1 : i32
    %zz = arith.constant 0.0 : f32
    %s = arith.select %eq, %a0, %zz : f32
    %v = arith.addf %out, %s : f32
    linalg.yield %v : f32
  } -> tensor<8xf32>
  %c217 = arith.constant -1.0 : f32
  %e218 = tensor.empty() : tensor<8xf32>
  %g219 = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]}
      ins(%g216 : tensor<8xf32>) outs(%e218 : tensor<8xf32>) {
  ^bb0(%a0: f32, %out: f32):
    %v = arith.mulf %a0, %c217 : f32
    linalg.yield %v : f32
  } -> tensor<8xf32>
  return %g219 : tensor<8xf32>
}

// -----

// The sum is divided by 4, not by the 8 tokens: not a mean. The sum
// alone is an exact reduction = sum loss and is raised; the division stays.
// CHECK-LABEL: func.func @cross_entropy_wrong_divisor
// CHECK-NOT: reduction = #attn.reduction<mean>
// CHECK: %[[L:.+]] = attn.cross_entropy {{.*}}reduction = #attn.reduction<sum>
// CHECK: %[[D:.+]] = linalg.generic {{.*}} ins(%[[L]] : tensor<f32>)
// CHECK: arith.divf %{{.+}}, %{{.+}} : f32
// CHECK: return %[[D]]
func.func @cross_entropy_wrong_divisor(%z: tensor<8x100xf32>, %y: tensor<8xi64>) -> (tensor<f32>) {
  %c220 = arith.constant 0xFF800000 : f32
  %e221 = tensor.empty() : tensor<8xf32>
  %f222 = linalg.fill ins(%c220 : f32) outs(%e221 : tensor<8xf32>) -> tensor<8xf32>
  %g223 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]}
      ins(%z : tensor<8x100xf32>) outs(%f222 : tensor<8xf32>) {
  ^bb0(%a0: f32, %out: f32):
    %v = arith.maximumf %a0, %out : f32
    linalg.yield %v : f32
  } -> tensor<8xf32>
  %e224 = tensor.empty() : tensor<8x100xf32>
  %g225 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%z, %g223 : tensor<8x100xf32>, tensor<8xf32>) outs(%e224 : tensor<8x100xf32>) {
  ^bb0(%a0: f32, %a1: f32, %out: f32):
    %v = arith.subf %a0, %a1 : f32
    linalg.yield %v : f32
  } -> tensor<8x100xf32>
  %e226 = tensor.empty() : tensor<8x100xf32>
  %g227 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%g225 : tensor<8x100xf32>) outs(%e226 : tensor<8x100xf32>) {
  ^bb0(%a0: f32, %out: f32):
    %v = math.exp %a0 : f32
    linalg.yield %v : f32
  } -> tensor<8x100xf32>
  %c228 = arith.constant 0.0 : f32
  %e229 = tensor.empty() : tensor<8xf32>
  %f230 = linalg.fill ins(%c228 : f32) outs(%e229 : tensor<8xf32>) -> tensor<8xf32>
  %g231 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]}
      ins(%g227 : tensor<8x100xf32>) outs(%f230 : tensor<8xf32>) {
  ^bb0(%a0: f32, %out: f32):
    %v = arith.addf %a0, %out : f32
    linalg.yield %v : f32
  } -> tensor<8xf32>
  %e232 = tensor.empty() : tensor<8x100xf32>
  %g233 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%g225, %g231 : tensor<8x100xf32>, tensor<8xf32>) outs(%e232 : tensor<8x100xf32>) {
  ^bb0(%a0: f32, %a1: f32, %out: f32):
    %l = math.log %a1 : f32
    %v = arith.subf %a0, %l : f32
    linalg.yield %v : f32
  } -> tensor<8x100xf32>
  %e234 = tensor.empty() : tensor<8xf32>
  %g235 = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]}
      ins(%y : tensor<8xi64>) outs(%e234 : tensor<8xf32>) {
  ^bb0(%a0: i64, %out: f32):
    %row = linalg.index 0 : index
    %col = arith.index_cast %a0 : i64 to index
    %x = tensor.extract %g233[%row, %col] : tensor<8x100xf32>
    %v = arith.negf %x : f32
    linalg.yield %v : f32
  } -> tensor<8xf32>
  %c236 = arith.constant 0.0 : f32
  %e237 = tensor.empty() : tensor<f32>
  %f238 = linalg.fill ins(%c236 : f32) outs(%e237 : tensor<f32>) -> tensor<f32>
  %g239 = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> ()>], iterator_types = ["reduction"]}
      ins(%g235 : tensor<8xf32>) outs(%f238 : tensor<f32>) {
  ^bb0(%a0: f32, %out: f32):
    %v = arith.addf %a0, %out : f32
    linalg.yield %v : f32
  } -> tensor<f32>
  %c240 = arith.constant 4.0 : f32
  %e241 = tensor.empty() : tensor<f32>
  %g242 = linalg.generic {indexing_maps = [affine_map<() -> ()>, affine_map<() -> ()>], iterator_types = []}
      ins(%g239 : tensor<f32>) outs(%e241 : tensor<f32>) {
  ^bb0(%a0: f32, %out: f32):
    %v = arith.divf %a0, %c240 : f32
    linalg.yield %v : f32
  } -> tensor<f32>
  return %g242 : tensor<f32>
}

// -----

// Negative: bf16 logits give a bf16 loss; attn.cross_entropy's is f32.
// CHECK-LABEL: func.func @cross_entropy_bf16
// CHECK-NOT: attn.cross_entropy
func.func @cross_entropy_bf16(%z: tensor<8x100xbf16>, %y: tensor<8xi64>) -> (tensor<bf16>) {
  %c243 = arith.constant 0xFF80 : bf16
  %e244 = tensor.empty() : tensor<8xbf16>
  %f245 = linalg.fill ins(%c243 : bf16) outs(%e244 : tensor<8xbf16>) -> tensor<8xbf16>
  %g246 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]}
      ins(%z : tensor<8x100xbf16>) outs(%f245 : tensor<8xbf16>) {
  ^bb0(%a0: bf16, %out: bf16):
    %v = arith.maximumf %a0, %out : bf16
    linalg.yield %v : bf16
  } -> tensor<8xbf16>
  %e247 = tensor.empty() : tensor<8x100xbf16>
  %g248 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%z, %g246 : tensor<8x100xbf16>, tensor<8xbf16>) outs(%e247 : tensor<8x100xbf16>) {
  ^bb0(%a0: bf16, %a1: bf16, %out: bf16):
    %v = arith.subf %a0, %a1 : bf16
    linalg.yield %v : bf16
  } -> tensor<8x100xbf16>
  %e249 = tensor.empty() : tensor<8x100xbf16>
  %g250 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%g248 : tensor<8x100xbf16>) outs(%e249 : tensor<8x100xbf16>) {
  ^bb0(%a0: bf16, %out: bf16):
    %v = math.exp %a0 : bf16
    linalg.yield %v : bf16
  } -> tensor<8x100xbf16>
  %c251 = arith.constant 0.0 : bf16
  %e252 = tensor.empty() : tensor<8xbf16>
  %f253 = linalg.fill ins(%c251 : bf16) outs(%e252 : tensor<8xbf16>) -> tensor<8xbf16>
  %g254 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]}
      ins(%g250 : tensor<8x100xbf16>) outs(%f253 : tensor<8xbf16>) {
  ^bb0(%a0: bf16, %out: bf16):
    %v = arith.addf %a0, %out : bf16
    linalg.yield %v : bf16
  } -> tensor<8xbf16>
  %e255 = tensor.empty() : tensor<8x100xbf16>
  %g256 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%g248, %g254 : tensor<8x100xbf16>, tensor<8xbf16>) outs(%e255 : tensor<8x100xbf16>) {
  ^bb0(%a0: bf16, %a1: bf16, %out: bf16):
    %l = math.log %a1 : bf16
    %v = arith.subf %a0, %l : bf16
    linalg.yield %v : bf16
  } -> tensor<8x100xbf16>
  %e257 = tensor.empty() : tensor<8xbf16>
  %g258 = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]}
      ins(%y : tensor<8xi64>) outs(%e257 : tensor<8xbf16>) {
  ^bb0(%a0: i64, %out: bf16):
    %row = linalg.index 0 : index
    %col = arith.index_cast %a0 : i64 to index
    %x = tensor.extract %g256[%row, %col] : tensor<8x100xbf16>
    %v = arith.negf %x : bf16
    linalg.yield %v : bf16
  } -> tensor<8xbf16>
  %c259 = arith.constant 0.0 : bf16
  %e260 = tensor.empty() : tensor<bf16>
  %f261 = linalg.fill ins(%c259 : bf16) outs(%e260 : tensor<bf16>) -> tensor<bf16>
  %g262 = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> ()>], iterator_types = ["reduction"]}
      ins(%g258 : tensor<8xbf16>) outs(%f261 : tensor<bf16>) {
  ^bb0(%a0: bf16, %out: bf16):
    %v = arith.addf %a0, %out : bf16
    linalg.yield %v : bf16
  } -> tensor<bf16>
  %c263 = arith.constant 8.0 : bf16
  %e264 = tensor.empty() : tensor<bf16>
  %g265 = linalg.generic {indexing_maps = [affine_map<() -> ()>, affine_map<() -> ()>], iterator_types = []}
      ins(%g262 : tensor<bf16>) outs(%e264 : tensor<bf16>) {
  ^bb0(%a0: bf16, %out: bf16):
    %v = arith.divf %a0, %c263 : bf16
    linalg.yield %v : bf16
  } -> tensor<bf16>
  return %g265 : tensor<bf16>
}

// -----

// Negative: the log-probabilities are also returned.
// CHECK-LABEL: func.func @cross_entropy_logp_extra_user
// CHECK-NOT: attn.cross_entropy
func.func @cross_entropy_logp_extra_user(%z: tensor<8x100xf32>, %y: tensor<8xi64>) -> (tensor<8xf32>, tensor<8x100xf32>) {
  %c266 = arith.constant 0xFF800000 : f32
  %e267 = tensor.empty() : tensor<8xf32>
  %f268 = linalg.fill ins(%c266 : f32) outs(%e267 : tensor<8xf32>) -> tensor<8xf32>
  %g269 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]}
      ins(%z : tensor<8x100xf32>) outs(%f268 : tensor<8xf32>) {
  ^bb0(%a0: f32, %out: f32):
    %v = arith.maximumf %a0, %out : f32
    linalg.yield %v : f32
  } -> tensor<8xf32>
  %e270 = tensor.empty() : tensor<8x100xf32>
  %g271 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%z, %g269 : tensor<8x100xf32>, tensor<8xf32>) outs(%e270 : tensor<8x100xf32>) {
  ^bb0(%a0: f32, %a1: f32, %out: f32):
    %v = arith.subf %a0, %a1 : f32
    linalg.yield %v : f32
  } -> tensor<8x100xf32>
  %e272 = tensor.empty() : tensor<8x100xf32>
  %g273 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%g271 : tensor<8x100xf32>) outs(%e272 : tensor<8x100xf32>) {
  ^bb0(%a0: f32, %out: f32):
    %v = math.exp %a0 : f32
    linalg.yield %v : f32
  } -> tensor<8x100xf32>
  %c274 = arith.constant 0.0 : f32
  %e275 = tensor.empty() : tensor<8xf32>
  %f276 = linalg.fill ins(%c274 : f32) outs(%e275 : tensor<8xf32>) -> tensor<8xf32>
  %g277 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]}
      ins(%g273 : tensor<8x100xf32>) outs(%f276 : tensor<8xf32>) {
  ^bb0(%a0: f32, %out: f32):
    %v = arith.addf %a0, %out : f32
    linalg.yield %v : f32
  } -> tensor<8xf32>
  %e278 = tensor.empty() : tensor<8x100xf32>
  %g279 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%g271, %g277 : tensor<8x100xf32>, tensor<8xf32>) outs(%e278 : tensor<8x100xf32>) {
  ^bb0(%a0: f32, %a1: f32, %out: f32):
    %l = math.log %a1 : f32
    %v = arith.subf %a0, %l : f32
    linalg.yield %v : f32
  } -> tensor<8x100xf32>
  %e280 = tensor.empty() : tensor<8xf32>
  %g281 = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]}
      ins(%y : tensor<8xi64>) outs(%e280 : tensor<8xf32>) {
  ^bb0(%a0: i64, %out: f32):
    %row = linalg.index 0 : index
    %col = arith.index_cast %a0 : i64 to index
    %x = tensor.extract %g279[%row, %col] : tensor<8x100xf32>
    %v = arith.negf %x : f32
    linalg.yield %v : f32
  } -> tensor<8xf32>
  return %g281, %g279 : tensor<8xf32>, tensor<8x100xf32>
}

// -----

// torch-mlir's nll_loss of the logits: the row max and the sum of
// exp(z - max) in one generic with two results (the online update),
// lse = max + log(sum) in a generic of its own, then per token
// lse - z[n, label] with z read by tensor.extract at index_cast(label) and
// 0 selected where the label is -100 (an index constant), summed:
// reduction sum, ignore_index -100 (the op's default, so not printed).
// CHECK-LABEL: func.func @cross_entropy_nll_online_sum_ignore
// CHECK-SAME: (%[[Z:.+]]: tensor<8x100xf32>, %[[Y:.+]]: tensor<8xi64>)
// CHECK-NEXT: %[[L:.+]] = attn.cross_entropy %[[Z]], %[[Y]] {reduction = #attn.reduction<sum>} : tensor<8x100xf32>, tensor<8xi64> -> tensor<f32>
// CHECK-NEXT: return %[[L]]
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#row2 = affine_map<(d0, d1) -> (d0)>
#id1 = affine_map<(d0) -> (d0)>
#all1 = affine_map<(d0) -> ()>
func.func @cross_entropy_nll_online_sum_ignore(%z: tensor<8x100xf32>, %y: tensor<8xi64>) -> tensor<f32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %ignore = arith.constant -100 : index
  %r0 = tensor.empty() : tensor<8xf32>
  %minit = linalg.fill ins(%ninf : f32) outs(%r0 : tensor<8xf32>) -> tensor<8xf32>
  %sinit = linalg.fill ins(%zero : f32) outs(%r0 : tensor<8xf32>) -> tensor<8xf32>
  %max, %sum = linalg.generic {indexing_maps = [#id2, #row2, #row2], iterator_types = ["parallel", "reduction"]}
      ins(%z : tensor<8x100xf32>) outs(%minit, %sinit : tensor<8xf32>, tensor<8xf32>) {
  ^bb0(%x: f32, %m: f32, %s: f32):
    %mn = arith.maximumf %m, %x : f32
    %d = arith.subf %m, %mn : f32
    %c = math.exp %d : f32
    %sc = arith.mulf %s, %c : f32
    %xd = arith.subf %x, %mn : f32
    %e = math.exp %xd : f32
    %sn = arith.addf %sc, %e : f32
    linalg.yield %mn, %sn : f32, f32
  } -> (tensor<8xf32>, tensor<8xf32>)
  %lse = linalg.generic {indexing_maps = [#id1, #id1, #id1], iterator_types = ["parallel"]}
      ins(%max, %sum : tensor<8xf32>, tensor<8xf32>) outs(%r0 : tensor<8xf32>) {
  ^bb0(%m: f32, %s: f32, %o: f32):
    %l = math.log %s : f32
    %r = arith.addf %m, %l : f32
    linalg.yield %r : f32
  } -> tensor<8xf32>
  %loss = linalg.generic {indexing_maps = [#id1, #id1, #id1], iterator_types = ["parallel"]}
      ins(%y, %lse : tensor<8xi64>, tensor<8xf32>) outs(%r0 : tensor<8xf32>) {
  ^bb0(%label: i64, %l: f32, %o: f32):
    %row = linalg.index 0 : index
    %col = arith.index_cast %label : i64 to index
    %zy = tensor.extract %z[%row, %col] : tensor<8x100xf32>
    %v = arith.subf %l, %zy : f32
    %ignored = arith.cmpi eq, %col, %ignore : index
    %r = arith.select %ignored, %zero, %v : f32
    linalg.yield %r : f32
  } -> tensor<8xf32>
  %t0 = tensor.empty() : tensor<f32>
  %tz = linalg.fill ins(%zero : f32) outs(%t0 : tensor<f32>) -> tensor<f32>
  %total = linalg.generic {indexing_maps = [#id1, #all1], iterator_types = ["reduction"]}
      ins(%loss : tensor<8xf32>) outs(%tz : tensor<f32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.addf %a, %acc : f32
    linalg.yield %r : f32
  } -> tensor<f32>
  return %total : tensor<f32>
}

// -----

// The fused reduction as linalg.reduce over two copies of z (maxnumf,
// operands commuted), lse computed in the per-token body, i32 labels, no
// ignore select, summed and divided by N = 8: reduction mean, no token
// ignored (ignore_index INT64_MIN, labels sign-extended).
// CHECK-LABEL: func.func @cross_entropy_nll_reduce_mean
// CHECK-SAME: (%[[Z:.+]]: tensor<8x100xf32>, %[[Y:.+]]: tensor<8xi32>)
// CHECK-NEXT: %[[Y64:.+]] = arith.extsi %[[Y]] : tensor<8xi32> to tensor<8xi64>
// CHECK-NEXT: %[[L:.+]] = attn.cross_entropy %[[Z]], %[[Y64]] {ignore_index = -9223372036854775808 : i64} : tensor<8x100xf32>, tensor<8xi64> -> tensor<f32>
// CHECK-NEXT: return %[[L]]
#id1 = affine_map<(d0) -> (d0)>
#all1 = affine_map<(d0) -> ()>
#scalar = affine_map<() -> ()>
func.func @cross_entropy_nll_reduce_mean(%z: tensor<8x100xf32>, %y: tensor<8xi32>) -> tensor<f32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %n = arith.constant 8.0 : f32
  %r0 = tensor.empty() : tensor<8xf32>
  %minit = linalg.fill ins(%ninf : f32) outs(%r0 : tensor<8xf32>) -> tensor<8xf32>
  %sinit = linalg.fill ins(%zero : f32) outs(%r0 : tensor<8xf32>) -> tensor<8xf32>
  %max, %sum = linalg.reduce ins(%z, %z : tensor<8x100xf32>, tensor<8x100xf32>) outs(%minit, %sinit : tensor<8xf32>, tensor<8xf32>) dimensions = [1]
    (%x: f32, %x2: f32, %m: f32, %s: f32) {
      %mn = arith.maxnumf %x, %m : f32
      %d = arith.subf %m, %mn : f32
      %c = math.exp %d : f32
      %sc = arith.mulf %c, %s : f32
      %xd = arith.subf %x2, %mn : f32
      %e = math.exp %xd : f32
      %sn = arith.addf %e, %sc : f32
      linalg.yield %mn, %sn : f32, f32
    }
  %loss = linalg.generic {indexing_maps = [#id1, #id1, #id1, #id1], iterator_types = ["parallel"]}
      ins(%y, %max, %sum : tensor<8xi32>, tensor<8xf32>, tensor<8xf32>) outs(%r0 : tensor<8xf32>) {
  ^bb0(%label: i32, %m: f32, %s: f32, %o: f32):
    %l = math.log %s : f32
    %lse = arith.addf %l, %m : f32
    %row = linalg.index 0 : index
    %col = arith.index_cast %label : i32 to index
    %zy = tensor.extract %z[%row, %col] : tensor<8x100xf32>
    %v = arith.subf %lse, %zy : f32
    linalg.yield %v : f32
  } -> tensor<8xf32>
  %t0 = tensor.empty() : tensor<f32>
  %tz = linalg.fill ins(%zero : f32) outs(%t0 : tensor<f32>) -> tensor<f32>
  %total = linalg.generic {indexing_maps = [#id1, #all1], iterator_types = ["reduction"]}
      ins(%loss : tensor<8xf32>) outs(%tz : tensor<f32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.addf %a, %acc : f32
    linalg.yield %r : f32
  } -> tensor<f32>
  %mean = linalg.generic {indexing_maps = [#scalar, #scalar], iterator_types = []}
      ins(%total : tensor<f32>) outs(%t0 : tensor<f32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.divf %a, %n : f32
    linalg.yield %r : f32
  } -> tensor<f32>
  return %mean : tensor<f32>
}

// -----

// torch-mlir's nll_loss of a log-softmax: label == -100 ? 0 : -logp[label]
// (the ignore index an i64 constant index_cast in the body), reduction none.
// CHECK-LABEL: func.func @cross_entropy_log_softmax_ignore_none
// CHECK-SAME: (%[[Z:.+]]: tensor<8x100xf32>, %[[Y:.+]]: tensor<8xi64>)
// CHECK-NEXT: %[[L:.+]] = attn.cross_entropy %[[Z]], %[[Y]] {reduction = #attn.reduction<none>} : tensor<8x100xf32>, tensor<8xi64> -> tensor<8xf32>
// CHECK-NEXT: return %[[L]]
#id1 = affine_map<(d0) -> (d0)>
func.func @cross_entropy_log_softmax_ignore_none(%z: tensor<8x100xf32>, %y: tensor<8xi64>) -> tensor<8xf32> {
  %zero = arith.constant 0.0 : f32
  %ignore = arith.constant -100 : i64
  %logp = attn.log_softmax %z, dim = 1 : tensor<8x100xf32> -> tensor<8x100xf32>
  %r0 = tensor.empty() : tensor<8xf32>
  %loss = linalg.generic {indexing_maps = [#id1, #id1], iterator_types = ["parallel"]}
      ins(%y : tensor<8xi64>) outs(%r0 : tensor<8xf32>) {
  ^bb0(%label: i64, %o: f32):
    %col = arith.index_cast %label : i64 to index
    %ign = arith.index_cast %ignore : i64 to index
    %ignored = arith.cmpi eq, %col, %ign : index
    %row = linalg.index 0 : index
    %x = tensor.extract %logp[%row, %col] : tensor<8x100xf32>
    %nx = arith.negf %x : f32
    %r = arith.select %ignored, %zero, %nx : f32
    linalg.yield %r : f32
  } -> tensor<8xf32>
  return %loss : tensor<8xf32>
}

// -----

// An ignore select, summed and divided by all N = 8 tokens: the op's mean
// divides by the kept tokens, so only the sum is raised (reduction sum,
// ignore_index -100) and the division stays.
// CHECK-LABEL: func.func @cross_entropy_nll_ignore_mean_over_all
// CHECK: %[[L:.+]] = attn.cross_entropy {{.*}}{reduction = #attn.reduction<sum>}
// CHECK: %[[D:.+]] = linalg.generic {{.*}} ins(%[[L]] : tensor<f32>)
// CHECK: arith.divf
// CHECK: return %[[D]]
#id1 = affine_map<(d0) -> (d0)>
#all1 = affine_map<(d0) -> ()>
#scalar = affine_map<() -> ()>
func.func @cross_entropy_nll_ignore_mean_over_all(%z: tensor<8x100xf32>, %y: tensor<8xi64>) -> tensor<f32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %n = arith.constant 8.0 : f32
  %ignore = arith.constant -100 : i64
  %r0 = tensor.empty() : tensor<8xf32>
  %minit = linalg.fill ins(%ninf : f32) outs(%r0 : tensor<8xf32>) -> tensor<8xf32>
  %sinit = linalg.fill ins(%zero : f32) outs(%r0 : tensor<8xf32>) -> tensor<8xf32>
  %max, %sum = linalg.reduce ins(%z, %z : tensor<8x100xf32>, tensor<8x100xf32>) outs(%minit, %sinit : tensor<8xf32>, tensor<8xf32>) dimensions = [1]
    (%x: f32, %x2: f32, %m: f32, %s: f32) {
      %mn = arith.maximumf %m, %x : f32
      %d = arith.subf %m, %mn : f32
      %c = math.exp %d : f32
      %sc = arith.mulf %s, %c : f32
      %xd = arith.subf %x, %mn : f32
      %e = math.exp %xd : f32
      %sn = arith.addf %sc, %e : f32
      linalg.yield %mn, %sn : f32, f32
    }
  %loss = linalg.generic {indexing_maps = [#id1, #id1, #id1, #id1], iterator_types = ["parallel"]}
      ins(%y, %max, %sum : tensor<8xi64>, tensor<8xf32>, tensor<8xf32>) outs(%r0 : tensor<8xf32>) {
  ^bb0(%label: i64, %m: f32, %s: f32, %o: f32):
    %l = math.log %s : f32
    %lse = arith.addf %m, %l : f32
    %row = linalg.index 0 : index
    %col = arith.index_cast %label : i64 to index
    %zy = tensor.extract %z[%row, %col] : tensor<8x100xf32>
    %v = arith.subf %lse, %zy : f32
    %kept = arith.cmpi ne, %label, %ignore : i64
    %r = arith.select %kept, %v, %zero : f32
    linalg.yield %r : f32
  } -> tensor<8xf32>
  %t0 = tensor.empty() : tensor<f32>
  %tz = linalg.fill ins(%zero : f32) outs(%t0 : tensor<f32>) -> tensor<f32>
  %total = linalg.generic {indexing_maps = [#id1, #all1], iterator_types = ["reduction"]}
      ins(%loss : tensor<8xf32>) outs(%tz : tensor<f32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.addf %a, %acc : f32
    linalg.yield %r : f32
  } -> tensor<f32>
  %mean = linalg.generic {indexing_maps = [#scalar, #scalar], iterator_types = []}
      ins(%total : tensor<f32>) outs(%t0 : tensor<f32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.divf %a, %n : f32
    linalg.yield %r : f32
  } -> tensor<f32>
  return %mean : tensor<f32>
}

// -----

// Negative: the label logit is read from %z2, not from the logits the
// lse is over.
// CHECK-LABEL: func.func @cross_entropy_nll_label_logit_other_tensor
// CHECK-NOT: attn.cross_entropy
func.func @cross_entropy_nll_label_logit_other_tensor(%z: tensor<8x100xf32>, %z2: tensor<8x100xf32>, %y: tensor<8xi64>) -> tensor<f32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %ignore = arith.constant -100 : i64
  %r0 = tensor.empty() : tensor<8xf32>
  %minit = linalg.fill ins(%ninf : f32) outs(%r0 : tensor<8xf32>) -> tensor<8xf32>
  %sinit = linalg.fill ins(%zero : f32) outs(%r0 : tensor<8xf32>) -> tensor<8xf32>
  %max, %sum = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]}
      ins(%z : tensor<8x100xf32>) outs(%minit, %sinit : tensor<8xf32>, tensor<8xf32>) {
  ^bb0(%x: f32, %m: f32, %s: f32):
    %mn = arith.maximumf %m, %x : f32
    %d = arith.subf %m, %mn : f32
    %c = math.exp %d : f32
    %sc = arith.mulf %s, %c : f32
    %xd = arith.subf %x, %mn : f32
    %e = math.exp %xd : f32
    %sn = arith.addf %sc, %e : f32
    linalg.yield %mn, %sn : f32, f32
  } -> (tensor<8xf32>, tensor<8xf32>)
  %loss = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]}
      ins(%y, %max, %sum : tensor<8xi64>, tensor<8xf32>, tensor<8xf32>) outs(%r0 : tensor<8xf32>) {
  ^bb0(%label: i64, %m: f32, %s: f32, %o: f32):
    %l = math.log %s : f32
    %lse = arith.addf %m, %l : f32
    %row = linalg.index 0 : index
    %col = arith.index_cast %label : i64 to index
    %zy = tensor.extract %z2[%row, %col] : tensor<8x100xf32>
    %v = arith.subf %lse, %zy : f32
    %ign = arith.cmpi eq, %label, %ignore : i64
    %r = arith.select %ign, %zero, %v : f32
    linalg.yield %r : f32
  } -> tensor<8xf32>
  %t0 = tensor.empty() : tensor<f32>
  %tz = linalg.fill ins(%zero : f32) outs(%t0 : tensor<f32>) -> tensor<f32>
  %total = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> ()>], iterator_types = ["reduction"]}
      ins(%loss : tensor<8xf32>) outs(%tz : tensor<f32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.addf %a, %acc : f32
    linalg.yield %r : f32
  } -> tensor<f32>
  return %total : tensor<f32>
}

// -----

// Negative: the ignore select tests a label of %y2, not the label that
// picks the logit.
// CHECK-LABEL: func.func @cross_entropy_nll_ignore_other_labels
// CHECK-NOT: attn.cross_entropy
func.func @cross_entropy_nll_ignore_other_labels(%z: tensor<8x100xf32>, %y: tensor<8xi64>, %y2: tensor<8xi64>) -> tensor<f32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %ignore = arith.constant -100 : i64
  %r0 = tensor.empty() : tensor<8xf32>
  %minit = linalg.fill ins(%ninf : f32) outs(%r0 : tensor<8xf32>) -> tensor<8xf32>
  %sinit = linalg.fill ins(%zero : f32) outs(%r0 : tensor<8xf32>) -> tensor<8xf32>
  %max, %sum = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]}
      ins(%z : tensor<8x100xf32>) outs(%minit, %sinit : tensor<8xf32>, tensor<8xf32>) {
  ^bb0(%x: f32, %m: f32, %s: f32):
    %mn = arith.maximumf %m, %x : f32
    %d = arith.subf %m, %mn : f32
    %c = math.exp %d : f32
    %sc = arith.mulf %s, %c : f32
    %xd = arith.subf %x, %mn : f32
    %e = math.exp %xd : f32
    %sn = arith.addf %sc, %e : f32
    linalg.yield %mn, %sn : f32, f32
  } -> (tensor<8xf32>, tensor<8xf32>)
  %loss = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]}
      ins(%y, %y2, %max, %sum : tensor<8xi64>, tensor<8xi64>, tensor<8xf32>, tensor<8xf32>) outs(%r0 : tensor<8xf32>) {
  ^bb0(%label: i64, %label2: i64, %m: f32, %s: f32, %o: f32):
    %l = math.log %s : f32
    %lse = arith.addf %m, %l : f32
    %row = linalg.index 0 : index
    %col = arith.index_cast %label : i64 to index
    %zy = tensor.extract %z[%row, %col] : tensor<8x100xf32>
    %v = arith.subf %lse, %zy : f32
    %ign = arith.cmpi eq, %label2, %ignore : i64
    %r = arith.select %ign, %zero, %v : f32
    linalg.yield %r : f32
  } -> tensor<8xf32>
  %t0 = tensor.empty() : tensor<f32>
  %tz = linalg.fill ins(%zero : f32) outs(%t0 : tensor<f32>) -> tensor<f32>
  %total = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> ()>], iterator_types = ["reduction"]}
      ins(%loss : tensor<8xf32>) outs(%tz : tensor<f32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.addf %a, %acc : f32
    linalg.yield %r : f32
  } -> tensor<f32>
  return %total : tensor<f32>
}

// -----

// Negative: the max and the sum of exponentials run over dim 0 (the
// tokens) of square 8x8 logits, not over the vocabulary.
// CHECK-LABEL: func.func @cross_entropy_nll_reduced_over_dim0
// CHECK-NOT: attn.cross_entropy
func.func @cross_entropy_nll_reduced_over_dim0(%z: tensor<8x8xf32>, %y: tensor<8xi64>) -> tensor<f32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %ignore = arith.constant -100 : i64
  %r0 = tensor.empty() : tensor<8xf32>
  %minit = linalg.fill ins(%ninf : f32) outs(%r0 : tensor<8xf32>) -> tensor<8xf32>
  %sinit = linalg.fill ins(%zero : f32) outs(%r0 : tensor<8xf32>) -> tensor<8xf32>
  %max, %sum = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d1)>], iterator_types = ["reduction", "parallel"]}
      ins(%z : tensor<8x8xf32>) outs(%minit, %sinit : tensor<8xf32>, tensor<8xf32>) {
  ^bb0(%x: f32, %m: f32, %s: f32):
    %mn = arith.maximumf %m, %x : f32
    %d = arith.subf %m, %mn : f32
    %c = math.exp %d : f32
    %sc = arith.mulf %s, %c : f32
    %xd = arith.subf %x, %mn : f32
    %e = math.exp %xd : f32
    %sn = arith.addf %sc, %e : f32
    linalg.yield %mn, %sn : f32, f32
  } -> (tensor<8xf32>, tensor<8xf32>)
  %loss = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]}
      ins(%y, %max, %sum : tensor<8xi64>, tensor<8xf32>, tensor<8xf32>) outs(%r0 : tensor<8xf32>) {
  ^bb0(%label: i64, %m: f32, %s: f32, %o: f32):
    %l = math.log %s : f32
    %lse = arith.addf %m, %l : f32
    %row = linalg.index 0 : index
    %col = arith.index_cast %label : i64 to index
    %zy = tensor.extract %z[%row, %col] : tensor<8x8xf32>
    %v = arith.subf %lse, %zy : f32
    %ign = arith.cmpi eq, %label, %ignore : i64
    %r = arith.select %ign, %zero, %v : f32
    linalg.yield %r : f32
  } -> tensor<8xf32>
  %t0 = tensor.empty() : tensor<f32>
  %tz = linalg.fill ins(%zero : f32) outs(%t0 : tensor<f32>) -> tensor<f32>
  %total = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> ()>], iterator_types = ["reduction"]}
      ins(%loss : tensor<8xf32>) outs(%tz : tensor<f32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.addf %a, %acc : f32
    linalg.yield %r : f32
  } -> tensor<f32>
  return %total : tensor<f32>
}

// -----

// Negative: the running sum is not rescaled by exp(m - m') when the max
// grows: not the sum of exp(z - max).
// CHECK-LABEL: func.func @cross_entropy_nll_sum_not_rescaled
// CHECK-NOT: attn.cross_entropy
func.func @cross_entropy_nll_sum_not_rescaled(%z: tensor<8x100xf32>, %y: tensor<8xi64>) -> tensor<f32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %ignore = arith.constant -100 : i64
  %r0 = tensor.empty() : tensor<8xf32>
  %minit = linalg.fill ins(%ninf : f32) outs(%r0 : tensor<8xf32>) -> tensor<8xf32>
  %sinit = linalg.fill ins(%zero : f32) outs(%r0 : tensor<8xf32>) -> tensor<8xf32>
  %max, %sum = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]}
      ins(%z : tensor<8x100xf32>) outs(%minit, %sinit : tensor<8xf32>, tensor<8xf32>) {
  ^bb0(%x: f32, %m: f32, %s: f32):
    %mn = arith.maximumf %m, %x : f32
    %d = arith.subf %m, %mn : f32
    %c = math.exp %d : f32
    %sc = arith.mulf %s, %c : f32
    %xd = arith.subf %x, %mn : f32
    %e = math.exp %xd : f32
    %sn = arith.addf %s, %e : f32
    linalg.yield %mn, %sn : f32, f32
  } -> (tensor<8xf32>, tensor<8xf32>)
  %loss = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]}
      ins(%y, %max, %sum : tensor<8xi64>, tensor<8xf32>, tensor<8xf32>) outs(%r0 : tensor<8xf32>) {
  ^bb0(%label: i64, %m: f32, %s: f32, %o: f32):
    %l = math.log %s : f32
    %lse = arith.addf %m, %l : f32
    %row = linalg.index 0 : index
    %col = arith.index_cast %label : i64 to index
    %zy = tensor.extract %z[%row, %col] : tensor<8x100xf32>
    %v = arith.subf %lse, %zy : f32
    %ign = arith.cmpi eq, %label, %ignore : i64
    %r = arith.select %ign, %zero, %v : f32
    linalg.yield %r : f32
  } -> tensor<8xf32>
  %t0 = tensor.empty() : tensor<f32>
  %tz = linalg.fill ins(%zero : f32) outs(%t0 : tensor<f32>) -> tensor<f32>
  %total = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> ()>], iterator_types = ["reduction"]}
      ins(%loss : tensor<8xf32>) outs(%tz : tensor<f32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.addf %a, %acc : f32
    linalg.yield %r : f32
  } -> tensor<f32>
  return %total : tensor<f32>
}

// -----

// Negative: the select keeps the loss only where the label is -100.
// CHECK-LABEL: func.func @cross_entropy_nll_select_keeps_ignored
// CHECK-NOT: attn.cross_entropy
func.func @cross_entropy_nll_select_keeps_ignored(%z: tensor<8x100xf32>, %y: tensor<8xi64>) -> tensor<f32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %ignore = arith.constant -100 : i64
  %r0 = tensor.empty() : tensor<8xf32>
  %minit = linalg.fill ins(%ninf : f32) outs(%r0 : tensor<8xf32>) -> tensor<8xf32>
  %sinit = linalg.fill ins(%zero : f32) outs(%r0 : tensor<8xf32>) -> tensor<8xf32>
  %max, %sum = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]}
      ins(%z : tensor<8x100xf32>) outs(%minit, %sinit : tensor<8xf32>, tensor<8xf32>) {
  ^bb0(%x: f32, %m: f32, %s: f32):
    %mn = arith.maximumf %m, %x : f32
    %d = arith.subf %m, %mn : f32
    %c = math.exp %d : f32
    %sc = arith.mulf %s, %c : f32
    %xd = arith.subf %x, %mn : f32
    %e = math.exp %xd : f32
    %sn = arith.addf %sc, %e : f32
    linalg.yield %mn, %sn : f32, f32
  } -> (tensor<8xf32>, tensor<8xf32>)
  %loss = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]}
      ins(%y, %max, %sum : tensor<8xi64>, tensor<8xf32>, tensor<8xf32>) outs(%r0 : tensor<8xf32>) {
  ^bb0(%label: i64, %m: f32, %s: f32, %o: f32):
    %l = math.log %s : f32
    %lse = arith.addf %m, %l : f32
    %row = linalg.index 0 : index
    %col = arith.index_cast %label : i64 to index
    %zy = tensor.extract %z[%row, %col] : tensor<8x100xf32>
    %v = arith.subf %lse, %zy : f32
    %ign = arith.cmpi eq, %label, %ignore : i64
    %r = arith.select %ign, %v, %zero : f32
    linalg.yield %r : f32
  } -> tensor<8xf32>
  %t0 = tensor.empty() : tensor<f32>
  %tz = linalg.fill ins(%zero : f32) outs(%t0 : tensor<f32>) -> tensor<f32>
  %total = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> ()>], iterator_types = ["reduction"]}
      ins(%loss : tensor<8xf32>) outs(%tz : tensor<f32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.addf %a, %acc : f32
    linalg.yield %r : f32
  } -> tensor<f32>
  return %total : tensor<f32>
}

// -----

// Negative: 4 labels for 8 rows of log-probabilities (the frontend reads
// rows 0..3 only); attn.cross_entropy takes one label per row.
// CHECK-LABEL: func.func @cross_entropy_fewer_labels_than_rows
// CHECK-NOT: attn.cross_entropy
#id1 = affine_map<(d0) -> (d0)>
#all1 = affine_map<(d0) -> ()>
func.func @cross_entropy_fewer_labels_than_rows(%z: tensor<8x100xf32>, %y: tensor<4xi64>) -> tensor<f32> {
  %zero = arith.constant 0.0 : f32
  %logp = attn.log_softmax %z, dim = 1 : tensor<8x100xf32> -> tensor<8x100xf32>
  %r0 = tensor.empty() : tensor<4xf32>
  %loss = linalg.generic {indexing_maps = [#id1, #id1], iterator_types = ["parallel"]}
      ins(%y : tensor<4xi64>) outs(%r0 : tensor<4xf32>) {
  ^bb0(%label: i64, %o: f32):
    %row = linalg.index 0 : index
    %col = arith.index_cast %label : i64 to index
    %x = tensor.extract %logp[%row, %col] : tensor<8x100xf32>
    %nx = arith.negf %x : f32
    linalg.yield %nx : f32
  } -> tensor<4xf32>
  %t0 = tensor.empty() : tensor<f32>
  %tz = linalg.fill ins(%zero : f32) outs(%t0 : tensor<f32>) -> tensor<f32>
  %total = linalg.generic {indexing_maps = [#id1, #all1], iterator_types = ["reduction"]}
      ins(%loss : tensor<4xf32>) outs(%tz : tensor<f32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.addf %a, %acc : f32
    linalg.yield %r : f32
  } -> tensor<f32>
  return %total : tensor<f32>
}

// -----

// hidden . W^T (transposed-B maps) + bias, then the mean cross-entropy
// chain: attn.linear_cross_entropy.
// CHECK-LABEL: func.func @linear_cross_entropy
// CHECK-SAME: (%[[H:.+]]: tensor<8x16xf32>, %[[W:.+]]: tensor<100x16xf32>, %[[B:.+]]: tensor<100xf32>, %[[Y:.+]]: tensor<8xi64>)
// CHECK-NEXT: %[[L:.+]] = attn.linear_cross_entropy %[[H]], %[[W]], %[[Y]] bias(%[[B]] : tensor<100xf32>) {ignore_index = -9223372036854775808 : i64} : tensor<8x16xf32>, tensor<100x16xf32>, tensor<8xi64> -> tensor<f32>
// CHECK-NEXT: return %[[L]]
func.func @linear_cross_entropy(%h: tensor<8x16xf32>, %w: tensor<100x16xf32>, %bias: tensor<100xf32>, %y: tensor<8xi64>) -> (tensor<f32>) {
  %c282 = arith.constant 0.0 : f32
  %e283 = tensor.empty() : tensor<8x100xf32>
  %f284 = linalg.fill ins(%c282 : f32) outs(%e283 : tensor<8x100xf32>) -> tensor<8x100xf32>
  %mm285 = linalg.matmul indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>]
      ins(%h, %w : tensor<8x16xf32>, tensor<100x16xf32>) outs(%f284 : tensor<8x100xf32>) -> tensor<8x100xf32>
  %e286 = tensor.empty() : tensor<8x100xf32>
  %g287 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%mm285, %bias : tensor<8x100xf32>, tensor<100xf32>) outs(%e286 : tensor<8x100xf32>) {
  ^bb0(%a0: f32, %a1: f32, %out: f32):
    %v = arith.addf %a0, %a1 : f32
    linalg.yield %v : f32
  } -> tensor<8x100xf32>
  %c288 = arith.constant 0xFF800000 : f32
  %e289 = tensor.empty() : tensor<8xf32>
  %f290 = linalg.fill ins(%c288 : f32) outs(%e289 : tensor<8xf32>) -> tensor<8xf32>
  %g291 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]}
      ins(%g287 : tensor<8x100xf32>) outs(%f290 : tensor<8xf32>) {
  ^bb0(%a0: f32, %out: f32):
    %v = arith.maximumf %a0, %out : f32
    linalg.yield %v : f32
  } -> tensor<8xf32>
  %e292 = tensor.empty() : tensor<8x100xf32>
  %g293 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%g287, %g291 : tensor<8x100xf32>, tensor<8xf32>) outs(%e292 : tensor<8x100xf32>) {
  ^bb0(%a0: f32, %a1: f32, %out: f32):
    %v = arith.subf %a0, %a1 : f32
    linalg.yield %v : f32
  } -> tensor<8x100xf32>
  %e294 = tensor.empty() : tensor<8x100xf32>
  %g295 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%g293 : tensor<8x100xf32>) outs(%e294 : tensor<8x100xf32>) {
  ^bb0(%a0: f32, %out: f32):
    %v = math.exp %a0 : f32
    linalg.yield %v : f32
  } -> tensor<8x100xf32>
  %c296 = arith.constant 0.0 : f32
  %e297 = tensor.empty() : tensor<8xf32>
  %f298 = linalg.fill ins(%c296 : f32) outs(%e297 : tensor<8xf32>) -> tensor<8xf32>
  %g299 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]}
      ins(%g295 : tensor<8x100xf32>) outs(%f298 : tensor<8xf32>) {
  ^bb0(%a0: f32, %out: f32):
    %v = arith.addf %a0, %out : f32
    linalg.yield %v : f32
  } -> tensor<8xf32>
  %e300 = tensor.empty() : tensor<8x100xf32>
  %g301 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%g293, %g299 : tensor<8x100xf32>, tensor<8xf32>) outs(%e300 : tensor<8x100xf32>) {
  ^bb0(%a0: f32, %a1: f32, %out: f32):
    %l = math.log %a1 : f32
    %v = arith.subf %a0, %l : f32
    linalg.yield %v : f32
  } -> tensor<8x100xf32>
  %e302 = tensor.empty() : tensor<8xf32>
  %g303 = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]}
      ins(%y : tensor<8xi64>) outs(%e302 : tensor<8xf32>) {
  ^bb0(%a0: i64, %out: f32):
    %row = linalg.index 0 : index
    %col = arith.index_cast %a0 : i64 to index
    %x = tensor.extract %g301[%row, %col] : tensor<8x100xf32>
    %v = arith.negf %x : f32
    linalg.yield %v : f32
  } -> tensor<8xf32>
  %c304 = arith.constant 0.0 : f32
  %e305 = tensor.empty() : tensor<f32>
  %f306 = linalg.fill ins(%c304 : f32) outs(%e305 : tensor<f32>) -> tensor<f32>
  %g307 = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> ()>], iterator_types = ["reduction"]}
      ins(%g303 : tensor<8xf32>) outs(%f306 : tensor<f32>) {
  ^bb0(%a0: f32, %out: f32):
    %v = arith.addf %a0, %out : f32
    linalg.yield %v : f32
  } -> tensor<f32>
  %c308 = arith.constant 8.0 : f32
  %e309 = tensor.empty() : tensor<f32>
  %g310 = linalg.generic {indexing_maps = [affine_map<() -> ()>, affine_map<() -> ()>], iterator_types = []}
      ins(%g307 : tensor<f32>) outs(%e309 : tensor<f32>) {
  ^bb0(%a0: f32, %out: f32):
    %v = arith.divf %a0, %c308 : f32
    linalg.yield %v : f32
  } -> tensor<f32>
  return %g310 : tensor<f32>
}

// -----

// Negative: the logits are also returned; the cross-entropy is raised,
// the matmul is not folded into it.
// CHECK-LABEL: func.func @linear_cross_entropy_logits_extra_user
// CHECK-NOT: attn.linear_cross_entropy
// CHECK: attn.cross_entropy
// CHECK-NOT: attn.linear_cross_entropy
func.func @linear_cross_entropy_logits_extra_user(%h: tensor<8x16xf32>, %w: tensor<100x16xf32>, %bias: tensor<100xf32>, %y: tensor<8xi64>) -> (tensor<f32>, tensor<8x100xf32>) {
  %c311 = arith.constant 0.0 : f32
  %e312 = tensor.empty() : tensor<8x100xf32>
  %f313 = linalg.fill ins(%c311 : f32) outs(%e312 : tensor<8x100xf32>) -> tensor<8x100xf32>
  %mm314 = linalg.matmul indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>]
      ins(%h, %w : tensor<8x16xf32>, tensor<100x16xf32>) outs(%f313 : tensor<8x100xf32>) -> tensor<8x100xf32>
  %e315 = tensor.empty() : tensor<8x100xf32>
  %g316 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%mm314, %bias : tensor<8x100xf32>, tensor<100xf32>) outs(%e315 : tensor<8x100xf32>) {
  ^bb0(%a0: f32, %a1: f32, %out: f32):
    %v = arith.addf %a0, %a1 : f32
    linalg.yield %v : f32
  } -> tensor<8x100xf32>
  %c317 = arith.constant 0xFF800000 : f32
  %e318 = tensor.empty() : tensor<8xf32>
  %f319 = linalg.fill ins(%c317 : f32) outs(%e318 : tensor<8xf32>) -> tensor<8xf32>
  %g320 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]}
      ins(%g316 : tensor<8x100xf32>) outs(%f319 : tensor<8xf32>) {
  ^bb0(%a0: f32, %out: f32):
    %v = arith.maximumf %a0, %out : f32
    linalg.yield %v : f32
  } -> tensor<8xf32>
  %e321 = tensor.empty() : tensor<8x100xf32>
  %g322 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%g316, %g320 : tensor<8x100xf32>, tensor<8xf32>) outs(%e321 : tensor<8x100xf32>) {
  ^bb0(%a0: f32, %a1: f32, %out: f32):
    %v = arith.subf %a0, %a1 : f32
    linalg.yield %v : f32
  } -> tensor<8x100xf32>
  %e323 = tensor.empty() : tensor<8x100xf32>
  %g324 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%g322 : tensor<8x100xf32>) outs(%e323 : tensor<8x100xf32>) {
  ^bb0(%a0: f32, %out: f32):
    %v = math.exp %a0 : f32
    linalg.yield %v : f32
  } -> tensor<8x100xf32>
  %c325 = arith.constant 0.0 : f32
  %e326 = tensor.empty() : tensor<8xf32>
  %f327 = linalg.fill ins(%c325 : f32) outs(%e326 : tensor<8xf32>) -> tensor<8xf32>
  %g328 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]}
      ins(%g324 : tensor<8x100xf32>) outs(%f327 : tensor<8xf32>) {
  ^bb0(%a0: f32, %out: f32):
    %v = arith.addf %a0, %out : f32
    linalg.yield %v : f32
  } -> tensor<8xf32>
  %e329 = tensor.empty() : tensor<8x100xf32>
  %g330 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%g322, %g328 : tensor<8x100xf32>, tensor<8xf32>) outs(%e329 : tensor<8x100xf32>) {
  ^bb0(%a0: f32, %a1: f32, %out: f32):
    %l = math.log %a1 : f32
    %v = arith.subf %a0, %l : f32
    linalg.yield %v : f32
  } -> tensor<8x100xf32>
  %e331 = tensor.empty() : tensor<8xf32>
  %g332 = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]}
      ins(%y : tensor<8xi64>) outs(%e331 : tensor<8xf32>) {
  ^bb0(%a0: i64, %out: f32):
    %row = linalg.index 0 : index
    %col = arith.index_cast %a0 : i64 to index
    %x = tensor.extract %g330[%row, %col] : tensor<8x100xf32>
    %v = arith.negf %x : f32
    linalg.yield %v : f32
  } -> tensor<8xf32>
  %c333 = arith.constant 0.0 : f32
  %e334 = tensor.empty() : tensor<f32>
  %f335 = linalg.fill ins(%c333 : f32) outs(%e334 : tensor<f32>) -> tensor<f32>
  %g336 = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> ()>], iterator_types = ["reduction"]}
      ins(%g332 : tensor<8xf32>) outs(%f335 : tensor<f32>) {
  ^bb0(%a0: f32, %out: f32):
    %v = arith.addf %a0, %out : f32
    linalg.yield %v : f32
  } -> tensor<f32>
  %c337 = arith.constant 8.0 : f32
  %e338 = tensor.empty() : tensor<f32>
  %g339 = linalg.generic {indexing_maps = [affine_map<() -> ()>, affine_map<() -> ()>], iterator_types = []}
      ins(%g336 : tensor<f32>) outs(%e338 : tensor<f32>) {
  ^bb0(%a0: f32, %out: f32):
    %v = arith.divf %a0, %c337 : f32
    linalg.yield %v : f32
  } -> tensor<f32>
  return %g339, %g316 : tensor<f32>, tensor<8x100xf32>
}
