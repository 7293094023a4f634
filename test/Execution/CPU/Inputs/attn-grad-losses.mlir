// Loss functions for attn-grad.test: each is differentiated by attn-grad
// with respect to the arguments its attn.grad lists.

// GQA causal attention, a scale, a head transpose and a reshape, then the
// fused classifier loss.
func.func @attention_lce(%q: tensor<1x2x5x8xf32>, %k: tensor<1x1x7x8xf32>,
                         %v: tensor<1x1x7x8xf32>, %w: tensor<11x16xf32>,
                         %y: tensor<5xi64>) -> tensor<f32>
    attributes {attn.grad = array<i64: 0, 1, 2, 3>} {
  %o = attn.attention %q, %k, %v {causal}
      : tensor<1x2x5x8xf32>, tensor<1x1x7x8xf32>, tensor<1x1x7x8xf32>
      -> tensor<1x2x5x8xf32>
  %c = arith.constant dense<0.5> : tensor<1x2x5x8xf32>
  %s = arith.mulf %o, %c : tensor<1x2x5x8xf32>
  %e = tensor.empty() : tensor<1x5x2x8xf32>
  %t = linalg.transpose ins(%s : tensor<1x2x5x8xf32>)
      outs(%e : tensor<1x5x2x8xf32>) permutation = [0, 2, 1, 3]
  %h = tensor.collapse_shape %t [[0, 1], [2, 3]]
      : tensor<1x5x2x8xf32> into tensor<5x16xf32>
  %l = attn.linear_cross_entropy %h, %w, %y {label_smoothing = 0.1 : f32}
      : tensor<5x16xf32>, tensor<11x16xf32>, tensor<5xi64> -> tensor<f32>
  return %l : tensor<f32>
}

// The softmax family and every arithmetic rule: a product of two active
// values, a quotient with an active denominator, a negation, a difference,
// a reshape round trip; the cross-entropy loss with a bias-free sum.
func.func @softmax_glue(%x: tensor<3x6xf32>, %z: tensor<3x6xf32>,
                        %y: tensor<3xi64>) -> tensor<f32>
    attributes {attn.grad = array<i64: 0, 1>} {
  %p = attn.softmax %x, dim = 1 : tensor<3x6xf32> -> tensor<3x6xf32>
  %lp = attn.log_softmax %z, dim = 1 : tensor<3x6xf32> -> tensor<3x6xf32>
  %a = arith.addf %p, %lp : tensor<3x6xf32>
  %m = arith.mulf %a, %p : tensor<3x6xf32>
  %two = arith.constant dense<2.0> : tensor<3x6xf32>
  %d0 = arith.addf %p, %two : tensor<3x6xf32>
  %r = arith.divf %m, %d0 : tensor<3x6xf32>
  %n = arith.negf %r : tensor<3x6xf32>
  %s = arith.subf %n, %z : tensor<3x6xf32>
  %e = tensor.expand_shape %s [[0], [1, 2]] output_shape [3, 2, 3]
      : tensor<3x6xf32> into tensor<3x2x3xf32>
  %f = tensor.collapse_shape %e [[0], [1, 2]]
      : tensor<3x2x3xf32> into tensor<3x6xf32>
  %l = attn.cross_entropy %f, %y {reduction = #attn.reduction<sum>,
                                  z_loss = 0.01 : f32}
      : tensor<3x6xf32>, tensor<3xi64> -> tensor<f32>
  return %l : tensor<f32>
}

// logsumexp of one argument feeds the loss's logits; the other argument
// is not used by the loss (its gradient is 0).
func.func @logsumexp_unused(%x: tensor<4x5xf32>, %u: tensor<2xf32>,
                            %y: tensor<1xi64>) -> tensor<f32>
    attributes {attn.grad = array<i64: 0, 1>} {
  %s = attn.logsumexp %x, dim = 1 : tensor<4x5xf32> -> tensor<4xf32>
  %z = tensor.expand_shape %s [[0, 1]] output_shape [1, 4]
      : tensor<4xf32> into tensor<1x4xf32>
  %l = attn.cross_entropy %z, %y : tensor<1x4xf32>, tensor<1xi64> -> tensor<f32>
  return %l : tensor<f32>
}
