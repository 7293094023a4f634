// Hand-derived values through mlir-runner (attn-to-llvm, no attn-run):
//   softmax([0, ln 2, ln 3]) = [1/6, 2/6, 3/6]
//   logsumexp([1e4, 1e4]) = 1e4 + ln 2 (no overflow)
//   log_softmax([1e4, -1e4]) = [0, -2e4]
//   cross_entropy of logits [0, ln 3] with label 1: lse = ln 4, loss = ln 4 - ln 3 = 0.287682
//   attention with a single key: out = v; with M = 2 > N = 1 and causal, row 0 sees nothing: 0, lse -inf.
// RUN: attn-opt %s --attn-to-llvm | mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_lib_dir/libmlir_runner_utils.so,%mlir_lib_dir/libmlir_c_runner_utils.so | FileCheck %s

func.func private @printMemrefF32(memref<*xf32>)

func.func @print(%t: tensor<*xf32>) {
  %m = bufferization.to_buffer %t : tensor<*xf32> to memref<*xf32>
  call @printMemrefF32(%m) : (memref<*xf32>) -> ()
  return
}

func.func @main() {
  // CHECK: [0.166667,  0.333333,  0.5]
  %x = arith.constant dense<[0.0, 0.693147180559945, 1.09861228866811]> : tensor<3xf32>
  %p = attn.softmax %x, dim = 0 : tensor<3xf32> -> tensor<3xf32>
  %pu = tensor.cast %p : tensor<3xf32> to tensor<*xf32>
  call @print(%pu) : (tensor<*xf32>) -> ()

  // CHECK: [10000.7]
  %big = arith.constant dense<[[1.0e4, 1.0e4]]> : tensor<1x2xf32>
  %lse = attn.logsumexp %big, dim = 1 : tensor<1x2xf32> -> tensor<1xf32>
  %lseu = tensor.cast %lse : tensor<1xf32> to tensor<*xf32>
  call @print(%lseu) : (tensor<*xf32>) -> ()

  // CHECK: [0,  -20000]
  %pm = arith.constant dense<[1.0e4, -1.0e4]> : tensor<2xf32>
  %ls = attn.log_softmax %pm, dim = 0 : tensor<2xf32> -> tensor<2xf32>
  %lsu = tensor.cast %ls : tensor<2xf32> to tensor<*xf32>
  call @print(%lsu) : (tensor<*xf32>) -> ()

  // CHECK: [0.287682]
  %z = arith.constant dense<[[0.0, 1.09861228866811]]> : tensor<1x2xf32>
  %y = arith.constant dense<[1]> : tensor<1xi64>
  %ce = attn.cross_entropy %z, %y {reduction = #attn.reduction<none>} : tensor<1x2xf32>, tensor<1xi64> -> tensor<1xf32>
  %ceu = tensor.cast %ce : tensor<1xf32> to tensor<*xf32>
  call @print(%ceu) : (tensor<*xf32>) -> ()

  // Row 0 of the causal M=2 > N=1 case is fully masked: 0 and -inf; row 1
  // sees the one key: out = v = [3, -1], lse = q.k * scale = (1*2) / sqrt(2).
  // CHECK: {{\[}}[0,   0],
  // CHECK-NEXT: [3,   -1]]
  // CHECK: [-inf,  1.41421]
  %q = arith.constant dense<[[[[0.5, 0.5], [1.0, 1.0]]]]> : tensor<1x1x2x2xf32>
  %k = arith.constant dense<[[[[1.0, 1.0]]]]> : tensor<1x1x1x2xf32>
  %v = arith.constant dense<[[[[3.0, -1.0]]]]> : tensor<1x1x1x2xf32>
  %o, %l = attn.attention %q, %k, %v {causal} : tensor<1x1x2x2xf32>, tensor<1x1x1x2xf32>, tensor<1x1x1x2xf32> -> tensor<1x1x2x2xf32>, tensor<1x1x2xf32>
  %o2 = tensor.collapse_shape %o [[0, 1, 2], [3]] : tensor<1x1x2x2xf32> into tensor<2x2xf32>
  %ou = tensor.cast %o2 : tensor<2x2xf32> to tensor<*xf32>
  call @print(%ou) : (tensor<*xf32>) -> ()
  %l2 = tensor.collapse_shape %l [[0, 1, 2]] : tensor<1x1x2xf32> into tensor<2xf32>
  %lu = tensor.cast %l2 : tensor<2xf32> to tensor<*xf32>
  call @print(%lu) : (tensor<*xf32>) -> ()
  return
}
