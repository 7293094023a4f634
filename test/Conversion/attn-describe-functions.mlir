// RUN: attn-opt %s -split-input-file --attn-describe-functions -verify-diagnostics | FileCheck %s

// A function that is a single attn op: each argument names the operand it
// feeds, and the op's effective attributes are recorded (the default scale
// 1/sqrt(16) = 0.25, unset window and softcap as unit: null in the
// manifest).
// CHECK-LABEL: func @attention
// CHECK-SAME: attn.spec = #attn.function_spec<name = "attention", args = [#attn.tensor_arg<name = "arg0", role = "input", dtype = "bf16", shape = [1, 4, 5, 16], operand = "query">, #attn.tensor_arg<name = "arg1", role = "input", dtype = "bf16", shape = [1, 2, 7, 16], operand = "key">, #attn.tensor_arg<name = "arg2", role = "input", dtype = "bf16", shape = [1, 2, 7, 16], operand = "value">, #attn.tensor_arg<name = "arg3", role = "input", dtype = "i1", shape = [5, 7], operand = "mask">, #attn.tensor_arg<name = "result0", role = "output", dtype = "bf16", shape = [1, 4, 5, 16], operand = "output">, #attn.tensor_arg<name = "result1", role = "output", dtype = "f32", shape = [1, 4, 5], operand = "lse">], op = "attn.attention", attributes = {causal = true, scale = 2.500000e-01 : f64, softcap, window}>
func.func @attention(%q: tensor<1x4x5x16xbf16>, %k: tensor<1x2x7x16xbf16>, %v: tensor<1x2x7x16xbf16>, %m: tensor<5x7xi1>)
    -> (tensor<1x4x5x16xbf16>, tensor<1x4x5xf32>) {
  %o, %lse = attn.attention %q, %k, %v mask(%m : tensor<5x7xi1>) {causal} : tensor<1x4x5x16xbf16>, tensor<1x2x7x16xbf16>, tensor<1x2x7x16xbf16> -> tensor<1x4x5x16xbf16>, tensor<1x4x5xf32>
  return %o, %lse : tensor<1x4x5x16xbf16>, tensor<1x4x5xf32>
}

// -----

// Operands may come in any argument order; the loss attributes all appear.
// CHECK-LABEL: func @cross_entropy
// CHECK-SAME: operand = "labels"
// CHECK-SAME: operand = "logits"
// CHECK-SAME: op = "attn.cross_entropy", attributes = {ignore_index = -100 : i64, label_smoothing = 0.000000e+00 : f64, reduction = "sum", softcap, z_loss = 0.000000e+00 : f64}>
func.func @cross_entropy(%y: tensor<8xi64>, %z: tensor<8x100xf32>) -> tensor<f32> {
  %0 = attn.cross_entropy %z, %y {reduction = #attn.reduction<sum>} : tensor<8x100xf32>, tensor<8xi64> -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

// A function that is more than one op has no op to compare against, but
// its arguments are still described; private functions are skipped.
// CHECK-LABEL: func @two_ops
// CHECK-SAME: attn.spec = #attn.function_spec<name = "two_ops", args = [#attn.tensor_arg<name = "arg0", role = "input", dtype = "f32", shape = [4, 8]>, #attn.tensor_arg<name = "result0", role = "output", dtype = "f32", shape = [4, 8]>]>}
// CHECK-LABEL: func private @helper
// CHECK-NOT: attn.spec
func.func @two_ops(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %0 = attn.softmax %x, dim = 1 : tensor<4x8xf32> -> tensor<4x8xf32>
  %1 = attn.softmax %0, dim = 0 : tensor<4x8xf32> -> tensor<4x8xf32>
  return %1 : tensor<4x8xf32>
}
func.func private @helper(%x: tensor<?xf32>) -> tensor<?xf32> {
  return %x : tensor<?xf32>
}

// -----

// expected-error @+1 {{function 'dynamic': arg0 must be a statically shaped tensor to run through a kernel package, but is 'tensor<?x8xf32>'}}
func.func @dynamic(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %0 = attn.softmax %x, dim = 1 : tensor<?x8xf32> -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

// expected-error @+1 {{function 'complex': arg0 has element type 'complex<f32>', which the runtime cannot hold}}
func.func @complex(%x: tensor<4xcomplex<f32>>) -> tensor<4xcomplex<f32>> {
  return %x : tensor<4xcomplex<f32>>
}
