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
