// RUN: attn-opt %s --attn-grad --split-input-file --verify-diagnostics

func.func @unsupported(%x: tensor<2x3xf32>, %y: tensor<2xi64>) -> tensor<f32>
    attributes {attn.grad = array<i64: 0>} {
  // expected-error @+1 {{attn-grad: cannot differentiate 'math.exp', which lies between a differentiated argument and the loss; supported ops: attn.attention,}}
  %e = math.exp %x : tensor<2x3xf32>
  %l = attn.cross_entropy %e, %y : tensor<2x3xf32>, tensor<2xi64> -> tensor<f32>
  return %l : tensor<f32>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>
func.func @region(%x: tensor<2x3xf32>, %y: tensor<2xi64>) -> tensor<f32>
    attributes {attn.grad = array<i64: 0>} {
  %init = tensor.empty() : tensor<2x3xf32>
  // expected-error @+1 {{attn-grad: cannot differentiate 'linalg.generic' (an op with regions)}}
  %g = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<2x3xf32>) outs(%init : tensor<2x3xf32>) {
    ^bb0(%a: f32, %b: f32):
      linalg.yield %a : f32
  } -> tensor<2x3xf32>
  %l = attn.cross_entropy %g, %y : tensor<2x3xf32>, tensor<2xi64> -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// expected-error @+1 {{attn-grad: 'attn.grad' must be an array<i64> of argument indices}}
func.func @not_array(%x: tensor<2x3xf32>) -> tensor<f32> attributes {attn.grad = 0 : i64} {
  %l = attn.logsumexp %x, dim = 1 : tensor<2x3xf32> -> tensor<2xf32>
  %c = arith.constant dense<0.0> : tensor<f32>
  return %c : tensor<f32>
}

// -----

// expected-error @+1 {{attn-grad: argument index 3 is out of range [0, 2)}}
func.func @out_of_range(%x: tensor<2x3xf32>, %y: tensor<2xi64>) -> tensor<f32>
    attributes {attn.grad = array<i64: 3>} {
  %l = attn.cross_entropy %x, %y : tensor<2x3xf32>, tensor<2xi64> -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// expected-error @+1 {{attn-grad: argument index 0 is listed twice}}
func.func @twice(%x: tensor<2x3xf32>, %y: tensor<2xi64>) -> tensor<f32>
    attributes {attn.grad = array<i64: 0, 0>} {
  %l = attn.cross_entropy %x, %y : tensor<2x3xf32>, tensor<2xi64> -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// expected-error @+1 {{attn-grad: argument #1 must be a statically shaped float tensor, got 'tensor<2xi64>'}}
func.func @labels(%x: tensor<2x3xf32>, %y: tensor<2xi64>) -> tensor<f32>
    attributes {attn.grad = array<i64: 1>} {
  %l = attn.cross_entropy %x, %y : tensor<2x3xf32>, tensor<2xi64> -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// expected-error @+1 {{attn-grad: the loss must be a tensor<f32>, got 'tensor<2xf32>'}}
func.func @not_scalar(%x: tensor<2x3xf32>, %y: tensor<2xi64>) -> tensor<2xf32>
    attributes {attn.grad = array<i64: 0>} {
  %l = attn.cross_entropy %x, %y {reduction = #attn.reduction<none>}
      : tensor<2x3xf32>, tensor<2xi64> -> tensor<2xf32>
  return %l : tensor<2xf32>
}

// -----

// expected-error @+1 {{attn-grad: the function must return one value, the loss; it returns 2}}
func.func @two_results(%x: tensor<2x3xf32>, %y: tensor<2xi64>) -> (tensor<f32>, tensor<2xf32>)
    attributes {attn.grad = array<i64: 0>} {
  %l, %lse = attn.cross_entropy %x, %y : tensor<2x3xf32>, tensor<2xi64> -> tensor<f32>, tensor<2xf32>
  return %l, %lse : tensor<f32>, tensor<2xf32>
}

// -----

func.func @through_lse(%x: tensor<2x3xf32>, %y: tensor<2xi64>, %y1: tensor<1xi64>) -> tensor<f32>
    attributes {attn.grad = array<i64: 0>} {
  // expected-error @+1 {{attn-grad: the loss depends on the log-sum-exp result #1 of this op, which has no gradient}}
  %l, %lse = attn.cross_entropy %x, %y : tensor<2x3xf32>, tensor<2xi64> -> tensor<f32>, tensor<2xf32>
  %z = tensor.expand_shape %lse [[0, 1]] output_shape [1, 2] : tensor<2xf32> into tensor<1x2xf32>
  %m = attn.cross_entropy %z, %y1 : tensor<1x2xf32>, tensor<1xi64> -> tensor<f32>
  return %m : tensor<f32>
}

// -----

func.func @mask(%q: tensor<1x1x4x8xf32>, %m: tensor<4x4xf32>, %w: tensor<5x8xf32>, %y: tensor<4xi64>) -> tensor<f32>
    attributes {attn.grad = array<i64: 0, 1>} {
  // expected-error @+1 {{attn-grad: the mask operand depends on a differentiated argument, but it gets no gradient}}
  %o = attn.attention %q, %q, %q mask(%m : tensor<4x4xf32>)
      : tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32> -> tensor<1x1x4x8xf32>
  %h = tensor.collapse_shape %o [[0, 1, 2], [3]] : tensor<1x1x4x8xf32> into tensor<4x8xf32>
  %l = attn.linear_cross_entropy %h, %w, %y : tensor<4x8xf32>, tensor<5x8xf32>, tensor<4xi64> -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// expected-error @+1 {{attn-grad: a symbol named 'taken_grad' already exists}}
func.func @taken(%x: tensor<2x3xf32>, %y: tensor<2xi64>) -> tensor<f32>
    attributes {attn.grad = array<i64: 0>} {
  %l = attn.cross_entropy %x, %y : tensor<2x3xf32>, tensor<2xi64> -> tensor<f32>
  return %l : tensor<f32>
}
func.func @taken_grad() {
  return
}

// -----

// expected-error @+1 {{attn-grad: the function must have a body of one block}}
func.func private @external(%x: tensor<2x3xf32>) -> tensor<f32> attributes {attn.grad = array<i64: 0>}
