// The softmax family tiled (attn-to-llvm{tile=1}) on inputs whose leading
// dims are both dynamic: the rows are viewed as one dim and the result is
// put back with a reshape by a shape tensor. An expand_shape with two
// dynamic sizes in one group, the form attn-tile emitted before, crashed
// upstream expand-strided-metadata (LLVM 22). The ops sit in @main (the CPU
// pipeline's out-parameters need static result shapes at calls).
// Hand-derived values: each row is [0, ln 2, ln 3, 0], exp = [1, 2, 3, 1],
// sum 7: softmax = [1/7, 2/7, 3/7, 1/7], logsumexp = ln 7 = 1.94591.
// RUN: attn-opt %s --attn-to-llvm=tile=1 | mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_lib_dir/libmlir_runner_utils.so,%mlir_lib_dir/libmlir_c_runner_utils.so | FileCheck %s
// RUN: attn-opt %s --attn-tile | FileCheck %s --check-prefix=TILED

// TILED-LABEL: func.func @main
// TILED-NOT: tensor.expand_shape
// TILED: tensor.reshape {{.*}} -> tensor<?x?x4xf32>
// TILED-NOT: tensor.expand_shape
// TILED: tensor.reshape {{.*}} -> tensor<?x?xf32>

// CHECK: rank = 3 offset = 0 sizes = [2, 3, 4]
// CHECK-COUNT-6: [0.142857,   0.285714,   0.428571,   0.142857]
// CHECK: rank = 2 offset = 0 sizes = [2, 3]
// CHECK-COUNT-2: [1.94591,   1.94591,   1.94591]

func.func private @printMemrefF32(memref<*xf32>)

func.func @main() {
  %row = arith.constant dense<[0.0, 0.69314718, 1.09861229, 0.0]> : tensor<4xf32>
  %e = tensor.empty() : tensor<2x3x4xf32>
  %c = linalg.broadcast ins(%row : tensor<4xf32>) outs(%e : tensor<2x3x4xf32>) dimensions = [0, 1]
  %d = tensor.cast %c : tensor<2x3x4xf32> to tensor<?x?x4xf32>
  %s = attn.softmax %d, dim = 2 : tensor<?x?x4xf32> -> tensor<?x?x4xf32>
  %su = tensor.cast %s : tensor<?x?x4xf32> to tensor<*xf32>
  %sm = bufferization.to_buffer %su : tensor<*xf32> to memref<*xf32>
  call @printMemrefF32(%sm) : (memref<*xf32>) -> ()
  %l = attn.logsumexp %d, dim = 2 : tensor<?x?x4xf32> -> tensor<?x?xf32>
  %lu = tensor.cast %l : tensor<?x?xf32> to tensor<*xf32>
  %lm = bufferization.to_buffer %lu : tensor<*xf32> to memref<*xf32>
  call @printMemrefF32(%lm) : (memref<*xf32>) -> ()
  return
}
