// linalg.softmax that attn-fuse did not raise (or that a pipeline receives
// directly) is decomposed by attn-decompose and runs on the CPU: attn-to-llvm
// used to leave it on memrefs in its LLVM output (exit 0) and attn-to-cubin
// failed in LLVM translation (found by tools/attn-fuzz).
//   softmax([0, ln 2, ln 3]) = [1/6, 2/6, 3/6]; softmax([0, 0]) over a
//   2-element row = [0.5, 0.5]; along dim 0 of [[0, ln 3], [ln 3, 0]]:
//   [[1/4, 3/4], [3/4, 1/4]].
// RUN: attn-opt %s --attn-to-llvm | FileCheck %s --check-prefix=LOWERED
// RUN: attn-opt %s --attn-to-llvm | mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_lib_dir/libmlir_runner_utils.so,%mlir_lib_dir/libmlir_c_runner_utils.so | FileCheck %s
// RUN: rm -rf %t.pkg && attn-opt %S/Inputs/linalg-softmax-fn.mlir --attn-to-cubin="chip=sm_90a package-dir=%t.pkg assemble=0" -o /dev/null
// LOWERED-NOT: linalg.

func.func private @printMemrefF32(memref<*xf32>)

func.func @print(%t: tensor<*xf32>) {
  %m = bufferization.to_buffer %t : tensor<*xf32> to memref<*xf32>
  call @printMemrefF32(%m) : (memref<*xf32>) -> ()
  return
}

func.func @softmax_last(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %e = tensor.empty() : tensor<2x3xf32>
  %p = linalg.softmax dimension(1) ins(%x : tensor<2x3xf32>) outs(%e : tensor<2x3xf32>) -> tensor<2x3xf32>
  return %p : tensor<2x3xf32>
}

func.func @softmax_first(%x: tensor<2x2xf32>) -> tensor<2x2xf32> {
  %e = tensor.empty() : tensor<2x2xf32>
  %p = linalg.softmax dimension(0) ins(%x : tensor<2x2xf32>) outs(%e : tensor<2x2xf32>) -> tensor<2x2xf32>
  return %p : tensor<2x2xf32>
}

func.func @main() {
  // CHECK: {{\[}}[0.166667,   0.333333,   0.5],
  // CHECK-NEXT: [0.333333,   0.333333,   0.333333]]
  %x = arith.constant dense<[[0.0, 0.693147180559945, 1.09861228866811], [5.0, 5.0, 5.0]]> : tensor<2x3xf32>
  %p = call @softmax_last(%x) : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %pu = tensor.cast %p : tensor<2x3xf32> to tensor<*xf32>
  call @print(%pu) : (tensor<*xf32>) -> ()

  // CHECK: {{\[}}[0.25,   0.75],
  // CHECK-NEXT: [0.75,   0.25]]
  %y = arith.constant dense<[[0.0, 1.09861228866811], [1.09861228866811, 0.0]]> : tensor<2x2xf32>
  %q = call @softmax_first(%y) : (tensor<2x2xf32>) -> tensor<2x2xf32>
  %qu = tensor.cast %q : tensor<2x2xf32> to tensor<*xf32>
  call @print(%qu) : (tensor<*xf32>) -> ()
  return
}
