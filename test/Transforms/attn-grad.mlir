// RUN: attn-opt %s --attn-grad --split-input-file | FileCheck %s

// The loss's own ops are recomputed with their log-sum-exp; the backward
// runs in reverse: the loss gradient seeded with 1.0, reshape and
// transpose undone, the scale's product rule, then attention_grad with the
// forward's attributes. The original function loses its attn.grad only.

// CHECK-LABEL: func.func @attention_lce(
// CHECK-NOT: attn.grad
// CHECK: %[[O0:.+]] = attn.attention {{.*}} -> tensor<1x2x5x8xbf16>
// CHECK-NOT: attn.attention_grad
// CHECK: return
// CHECK-LABEL: func.func @attention_lce_grad(
// CHECK-SAME: %[[Q:[^:]+]]: tensor<1x2x5x8xbf16>, %[[K:[^:]+]]: tensor<1x1x7x8xbf16>, %[[V:[^:]+]]: tensor<1x1x7x8xbf16>, %[[W:[^:]+]]: tensor<11x16xf32>, %[[Y:[^:]+]]: tensor<5xi64>)
// CHECK-SAME: -> (tensor<f32>, tensor<1x2x5x8xbf16>, tensor<1x1x7x8xbf16>, tensor<1x1x7x8xbf16>, tensor<11x16xf32>)
// CHECK: %[[O:.+]], %[[LSE:.+]] = attn.attention %[[Q]], %[[K]], %[[V]] {causal, window = array<i64: 3, 0>} : {{.*}} -> tensor<1x2x5x8xbf16>, tensor<1x2x5xf32>
// CHECK: %[[EXT:.+]] = arith.extf %[[O]]
// CHECK: %[[C:.+]] = arith.constant dense<5.000000e-01>
// CHECK: %[[S:.+]] = arith.mulf %[[EXT]], %[[C]]
// CHECK: %[[T:.+]] = linalg.transpose ins(%[[S]]
// CHECK: %[[H:.+]] = tensor.collapse_shape %[[T]]
// CHECK: %[[L:.+]], %[[LLSE:.+]] = attn.linear_cross_entropy %[[H]], %[[W]], %[[Y]] {label_smoothing = 1.000000e-01 : f32} : {{.*}} -> tensor<f32>, tensor<5xf32>
// CHECK: %[[ONEF:.+]] = arith.constant 1.000000e+00 : f32
// CHECK: %[[ONE:.+]] = linalg.fill ins(%[[ONEF]] : f32) outs({{.*}} : tensor<f32>) -> tensor<f32>
// CHECK: %[[DH:.+]], %[[DW:.+]] = attn.linear_cross_entropy_grad %[[H]], %[[W]], %[[Y]], %[[LLSE]], %[[ONE]] {label_smoothing = 1.000000e-01 : f32}
// CHECK: %[[DT:.+]] = tensor.expand_shape %[[DH]] {{\[\[}}0, 1], [2, 3]] output_shape [1, 5, 2, 8]
// CHECK: %[[DS:.+]] = linalg.transpose ins(%[[DT]] : tensor<1x5x2x8xf32>) outs({{.*}} : tensor<1x2x5x8xf32>) permutation = [0, 2, 1, 3]
// CHECK: %[[DE:.+]] = arith.mulf %[[DS]], %[[C]]
// CHECK: %[[DO:.+]] = arith.truncf %[[DE]] : tensor<1x2x5x8xf32> to tensor<1x2x5x8xbf16>
// CHECK: %[[DQ:.+]], %[[DK:.+]], %[[DV:.+]] = attn.attention_grad %[[Q]], %[[K]], %[[V]], %[[O]], %[[LSE]], %[[DO]] {causal, window = array<i64: 3, 0>}
// CHECK: return %[[L]], %[[DQ]], %[[DK]], %[[DV]], %[[DW]]
func.func @attention_lce(%q: tensor<1x2x5x8xbf16>, %k: tensor<1x1x7x8xbf16>,
                         %v: tensor<1x1x7x8xbf16>, %w: tensor<11x16xf32>,
                         %y: tensor<5xi64>) -> tensor<f32>
    attributes {attn.grad = array<i64: 0, 1, 2, 3>} {
  %o = attn.attention %q, %k, %v {causal, window = array<i64: 3, 0>}
      : tensor<1x2x5x8xbf16>, tensor<1x1x7x8xbf16>, tensor<1x1x7x8xbf16>
      -> tensor<1x2x5x8xbf16>
  %of = arith.extf %o : tensor<1x2x5x8xbf16> to tensor<1x2x5x8xf32>
  %c = arith.constant dense<0.5> : tensor<1x2x5x8xf32>
  %s = arith.mulf %of, %c : tensor<1x2x5x8xf32>
  %e = tensor.empty() : tensor<1x5x2x8xf32>
  %t = linalg.transpose ins(%s : tensor<1x2x5x8xf32>)
      outs(%e : tensor<1x5x2x8xf32>) permutation = [0, 2, 1, 3]
  %h = tensor.collapse_shape %t [[0, 1], [2, 3]]
      : tensor<1x5x2x8xf32> into tensor<5x16xf32>
  %l = attn.linear_cross_entropy %h, %w, %y {label_smoothing = 0.1 : f32}
      : tensor<5x16xf32>, tensor<11x16xf32>, tensor<5xi64> -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// A value used twice accumulates both contributions; the softmax family
// maps to its gradient ops; an argument the loss does not use gets zeros;
// a bias gets its gradient.

// CHECK-LABEL: func.func @softmax_twice_grad(
// CHECK-SAME: -> (tensor<f32>, tensor<4x6xf32>, tensor<3xf32>, tensor<6xf32>)
// CHECK: %[[P:.+]] = attn.softmax %[[X:[^,]+]], dim = 1
// CHECK: %[[L:.+]], %[[LSE:.+]] = attn.linear_cross_entropy
// CHECK: %[[DH:.+]], %[[DW:.+]], %[[DB:.+]] = attn.linear_cross_entropy_grad
// CHECK: %[[G:.+]] = arith.mulf %[[DH]], %[[P]]
// CHECK: %[[G2:.+]] = arith.mulf %[[DH]], %[[P]]
// CHECK: %[[SUM:.+]] = arith.addf %[[G]], %[[G2]]
// CHECK: %[[DX:.+]] = attn.softmax_grad %[[P]], %[[SUM]], dim = 1
// CHECK: %[[ZEROF:.+]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[ZERO:.+]] = linalg.fill ins(%[[ZEROF]] : f32) outs({{.*}} : tensor<3xf32>) -> tensor<3xf32>
// CHECK: return %[[L]], %[[DX]], %[[ZERO]], %[[DB]]
func.func @softmax_twice(%x: tensor<4x6xf32>, %unused: tensor<3xf32>,
                         %b: tensor<6xf32>, %y: tensor<4xi32>) -> tensor<f32>
    attributes {attn.grad = array<i64: 0, 1, 2>} {
  %p = attn.softmax %x, dim = 1 : tensor<4x6xf32> -> tensor<4x6xf32>
  %sq = arith.mulf %p, %p : tensor<4x6xf32>
  %w = arith.constant dense<0.25> : tensor<6x6xf32>
  %l = attn.linear_cross_entropy %sq, %w, %y bias(%b : tensor<6xf32>)
      {reduction = #attn.reduction<sum>}
      : tensor<4x6xf32>, tensor<6x6xf32>, tensor<4xi32> -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// Without attn.grad, nothing changes.
// CHECK-LABEL: func.func @plain(
// CHECK-NOT: func.func @plain_grad
func.func @plain(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %p = attn.softmax %x, dim = 1 : tensor<2x3xf32> -> tensor<2x3xf32>
  return %p : tensor<2x3xf32>
}
