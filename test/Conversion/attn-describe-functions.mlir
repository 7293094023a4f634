// RUN: attn-opt %s -split-input-file --attn-describe-functions -verify-diagnostics | FileCheck %s

// A function that is a single attn op: each argument names the operand it
// feeds, and the op's effective attributes are recorded (the default scale
// 1/sqrt(16) = 0.25, unset window and softcap as null).
// CHECK-LABEL: func @attention
// CHECK-SAME: attn.spec = "{\22args\22:[{\22dtype\22:\22bf16\22,\22name\22:\22arg0\22,\22operand\22:\22query\22,\22role\22:\22input\22,\22shape\22:[1,4,5,16]},{\22dtype\22:\22bf16\22,\22name\22:\22arg1\22,\22operand\22:\22key\22,\22role\22:\22input\22,\22shape\22:[1,2,7,16]},{\22dtype\22:\22bf16\22,\22name\22:\22arg2\22,\22operand\22:\22value\22,\22role\22:\22input\22,\22shape\22:[1,2,7,16]},{\22dtype\22:\22i1\22,\22name\22:\22arg3\22,\22operand\22:\22mask\22,\22role\22:\22input\22,\22shape\22:[5,7]},{\22dtype\22:\22bf16\22,\22name\22:\22result0\22,\22operand\22:\22output\22,\22role\22:\22output\22,\22shape\22:[1,4,5,16]},{\22dtype\22:\22f32\22,\22name\22:\22result1\22,\22operand\22:\22lse\22,\22role\22:\22output\22,\22shape\22:[1,4,5]}],\22name\22:\22attention\22,\22op\22:{\22attributes\22:{\22causal\22:true,\22scale\22:0.25,\22softcap\22:null,\22window\22:null},\22name\22:\22attn.attention\22}}"
func.func @attention(%q: tensor<1x4x5x16xbf16>, %k: tensor<1x2x7x16xbf16>, %v: tensor<1x2x7x16xbf16>, %m: tensor<5x7xi1>)
    -> (tensor<1x4x5x16xbf16>, tensor<1x4x5xf32>) {
  %o, %lse = attn.attention %q, %k, %v mask(%m : tensor<5x7xi1>) {causal} : tensor<1x4x5x16xbf16>, tensor<1x2x7x16xbf16>, tensor<1x2x7x16xbf16> -> tensor<1x4x5x16xbf16>, tensor<1x4x5xf32>
  return %o, %lse : tensor<1x4x5x16xbf16>, tensor<1x4x5xf32>
}

// -----

// Operands may come in any argument order; the loss attributes all appear.
// CHECK-LABEL: func @cross_entropy
// CHECK-SAME: \22operand\22:\22labels\22
// CHECK-SAME: \22operand\22:\22logits\22
// CHECK-SAME: \22ignore_index\22:-100,\22label_smoothing\22:0,\22reduction\22:\22sum\22,\22softcap\22:null,\22z_loss\22:0
func.func @cross_entropy(%y: tensor<8xi64>, %z: tensor<8x100xf32>) -> tensor<f32> {
  %0 = attn.cross_entropy %z, %y {reduction = #attn.reduction<sum>} : tensor<8x100xf32>, tensor<8xi64> -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

// A function that is more than one op has no op to compare against, but
// its arguments are still described; private functions are skipped.
// CHECK-LABEL: func @two_ops
// CHECK-SAME: \22op\22:null
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
