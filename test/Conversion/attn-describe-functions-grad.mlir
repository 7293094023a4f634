// RUN: attn-opt %s -split-input-file --attn-describe-functions | FileCheck %s

// The gradient ops name their operands after the forward op's roles: the
// saved forward result is "result" (softmax's y, logsumexp's lse), the
// upstream gradient "grad_result", and the result "grad_input". The float64
// reference and attn-run's finite differences read these roles.
// CHECK-LABEL: func @softmax_grad
// CHECK-SAME: args = [#attn.tensor_arg<name = "arg0", role = "input", dtype = "bf16", shape = [4, 9], operand = "result">, #attn.tensor_arg<name = "arg1", role = "input", dtype = "bf16", shape = [4, 9], operand = "grad_result">, #attn.tensor_arg<name = "result0", role = "output", dtype = "bf16", shape = [4, 9], operand = "grad_input">], op = "attn.softmax_grad", attributes = {dim = 1 : i64}>
func.func @softmax_grad(%y: tensor<4x9xbf16>, %dy: tensor<4x9xbf16>) -> tensor<4x9xbf16> {
  %0 = attn.softmax_grad %y, %dy, dim = 1 : tensor<4x9xbf16>, tensor<4x9xbf16> -> tensor<4x9xbf16>
  return %0 : tensor<4x9xbf16>
}

// -----

// CHECK-LABEL: func @logsumexp_grad
// CHECK-SAME: operand = "input">
// CHECK-SAME: operand = "result">
// CHECK-SAME: operand = "grad_result">
// CHECK-SAME: operand = "grad_input">], op = "attn.logsumexp_grad", attributes = {dim = 0 : i64}>
func.func @logsumexp_grad(%x: tensor<4x9xf32>, %lse: tensor<9xf32>, %d: tensor<9xf32>) -> tensor<4x9xf32> {
  %0 = attn.logsumexp_grad %x, %lse, %d, dim = 0 : tensor<4x9xf32>, tensor<9xf32>, tensor<9xf32> -> tensor<4x9xf32>
  return %0 : tensor<4x9xf32>
}

// -----

// cross_entropy_grad: the forward's operands and lse, the upstream gradient
// of the loss, every loss attribute.
// CHECK-LABEL: func @cross_entropy_grad
// CHECK-SAME: operand = "grad_loss">
// CHECK-SAME: operand = "logits">
// CHECK-SAME: operand = "labels">
// CHECK-SAME: operand = "lse">
// CHECK-SAME: operand = "grad_logits">], op = "attn.cross_entropy_grad", attributes = {ignore_index = 7 : i64, label_smoothing = 5.000000e-01 : f64, reduction = "none", softcap = 3.000000e+01 : f64, z_loss = 0.000000e+00 : f64}>
func.func @cross_entropy_grad(%dl: tensor<8xf32>, %z: tensor<8x100xf32>, %y: tensor<8xi32>, %lse: tensor<8xf32>) -> tensor<8x100xf32> {
  %0 = attn.cross_entropy_grad %z, %y, %lse, %dl {ignore_index = 7 : i64, label_smoothing = 0.5 : f32, softcap = 30.0 : f32, reduction = #attn.reduction<none>} : tensor<8x100xf32>, tensor<8xi32>, tensor<8xf32>, tensor<8xf32> -> tensor<8x100xf32>
  return %0 : tensor<8x100xf32>
}

// -----

// attention_grad: the forward's operands, its saved output and lse, the
// output's gradient and the mask (last); the forward's effective
// attributes (scale 1/sqrt(16)).
// CHECK-LABEL: func @attention_grad
// CHECK-SAME: operand = "query">
// CHECK-SAME: operand = "key">
// CHECK-SAME: operand = "value">
// CHECK-SAME: operand = "output">
// CHECK-SAME: operand = "lse">
// CHECK-SAME: operand = "grad_output">
// CHECK-SAME: operand = "mask">
// CHECK-SAME: operand = "grad_query">
// CHECK-SAME: operand = "grad_key">
// CHECK-SAME: operand = "grad_value">], op = "attn.attention_grad", attributes = {causal = true, scale = 2.500000e-01 : f64, softcap, window}>
func.func @attention_grad(%q: tensor<1x4x5x16xf32>, %k: tensor<1x2x7x16xf32>, %v: tensor<1x2x7x8xf32>,
                          %o: tensor<1x4x5x8xf32>, %lse: tensor<1x4x5xf32>, %do: tensor<1x4x5x8xf32>, %m: tensor<5x7xi1>)
    -> (tensor<1x4x5x16xf32>, tensor<1x2x7x16xf32>, tensor<1x2x7x8xf32>) {
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do mask(%m : tensor<5x7xi1>) {causal}
      : tensor<1x4x5x16xf32>, tensor<1x2x7x16xf32>, tensor<1x2x7x8xf32>, tensor<1x4x5x8xf32>, tensor<1x4x5xf32>, tensor<1x4x5x8xf32>
      -> tensor<1x4x5x16xf32>, tensor<1x2x7x16xf32>, tensor<1x2x7x8xf32>
  return %dq, %dk, %dv : tensor<1x4x5x16xf32>, tensor<1x2x7x16xf32>, tensor<1x2x7x8xf32>
}
