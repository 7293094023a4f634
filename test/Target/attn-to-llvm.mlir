// RUN: attn-opt %s --attn-to-llvm | FileCheck %s

// The CPU pipeline leaves only the LLVM dialect: results become
// out-parameters, the math goes to LLVM intrinsics.
// CHECK-NOT: attn.
// CHECK-NOT: linalg.
// CHECK-NOT: memref.
// CHECK-LABEL: llvm.func @cross_entropy
// CHECK: llvm.intr.tanh
// CHECK: llvm.intr.exp
// CHECK: llvm.intr.log
func.func @cross_entropy(%z: tensor<8x100xbf16>, %y: tensor<8xi64>) -> tensor<f32> {
  %0 = attn.cross_entropy %z, %y {softcap = 30.0 : f32} : tensor<8x100xbf16>, tensor<8xi64> -> tensor<f32>
  return %0 : tensor<f32>
}
