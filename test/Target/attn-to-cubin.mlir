// REQUIRES: ptxas
// Every op compiles to an sm_90a kernel package: PTX assembled by ptxas
// (CUDA 13) into a cubin, and a manifest the runtime reads.
// RUN: rm -rf %t && attn-opt %s --attn-to-cubin="chip=sm_90a package-dir=%t" -o %t.mlir
// RUN: FileCheck %s --input-file=%t/manifest.json
// RUN: FileCheck %s --check-prefix=IR --input-file=%t.mlir
// The PTX is valid sm_90a input for ptxas on its own, too.
// RUN: %ptxas -arch=sm_90a %t/attention_kernels.ptx -o %t/check.cubin
// RUN: %ptxas -arch=sm_90a %t/linear_cross_entropy_kernels.ptx -o %t/check2.cubin
// RUN: FileCheck %s --check-prefix=PTX --input-file=%t/attention_kernels.ptx
// A bad pipeline option is a clear error.
// RUN: not attn-opt %s --attn-to-cubin="threads=0 package-dir=%t/bad" 2>&1 | FileCheck %s --check-prefix=BADOPT

// CHECK-DAG: "cubin": "attention_kernels.cubin"
// CHECK-DAG: "cubin": "softmax_kernels.cubin"
// CHECK-DAG: "cubin": "log_softmax_kernels.cubin"
// CHECK-DAG: "cubin": "logsumexp_kernels.cubin"
// CHECK-DAG: "cubin": "cross_entropy_kernels.cubin"
// CHECK-DAG: "cubin": "linear_cross_entropy_kernels.cubin"
// CHECK-DAG: "name": "attn.attention"
// CHECK-DAG: "name": "attn.softmax"
// CHECK-DAG: "name": "attn.log_softmax"
// CHECK-DAG: "name": "attn.logsumexp"
// CHECK-DAG: "name": "attn.cross_entropy"
// CHECK-DAG: "name": "attn.linear_cross_entropy"
// CHECK-DAG: "operand": "mask"
// CHECK-DAG: "operand": "bias"
// CHECK-DAG: "operand": "lse"
// CHECK-DAG: "chip": "sm_90a"

// The host side is only allocations, views and launches.
// IR-LABEL: func.func @attention
// IR-NOT: memref.load
// IR-NOT: scf.
// IR: gpu.launch_func @attention_kernels::
// IR: gpu.binary @attention_kernels

// PTX: .target sm_90a
// PTX: .visible .entry attention_kernel

// BADOPT: error: attn-loops-to-gpu: threads must be in [1, 1024], got 0

func.func @attention(%q: tensor<1x4x5x16xbf16>, %k: tensor<1x2x7x16xbf16>, %v: tensor<1x2x7x16xbf16>, %m: tensor<1x1x5x7xi1>)
    -> (tensor<1x4x5x16xbf16>, tensor<1x4x5xf32>) {
  %o, %lse = attn.attention %q, %k, %v mask(%m : tensor<1x1x5x7xi1>) {causal, softcap = 20.0 : f32, window = array<i64: 2, 0>}
      : tensor<1x4x5x16xbf16>, tensor<1x2x7x16xbf16>, tensor<1x2x7x16xbf16> -> tensor<1x4x5x16xbf16>, tensor<1x4x5xf32>
  return %o, %lse : tensor<1x4x5x16xbf16>, tensor<1x4x5xf32>
}
func.func @softmax(%x: tensor<3x33xf16>) -> tensor<3x33xf16> {
  %0 = attn.softmax %x, dim = 1 : tensor<3x33xf16> -> tensor<3x33xf16>
  return %0 : tensor<3x33xf16>
}
func.func @log_softmax(%x: tensor<3x33xf32>) -> tensor<3x33xf32> {
  %0 = attn.log_softmax %x, dim = 0 : tensor<3x33xf32> -> tensor<3x33xf32>
  return %0 : tensor<3x33xf32>
}
func.func @logsumexp(%x: tensor<2x3x33xbf16>) -> tensor<2x3xf32> {
  %0 = attn.logsumexp %x, dim = 2 : tensor<2x3x33xbf16> -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}
func.func @cross_entropy(%z: tensor<8x100xbf16>, %y: tensor<8xi64>) -> (tensor<f32>, tensor<8xf32>) {
  %0, %1 = attn.cross_entropy %z, %y {label_smoothing = 0.1 : f32, z_loss = 1.0e-4 : f32} : tensor<8x100xbf16>, tensor<8xi64> -> tensor<f32>, tensor<8xf32>
  return %0, %1 : tensor<f32>, tensor<8xf32>
}
func.func @linear_cross_entropy(%h: tensor<8x32xbf16>, %w: tensor<100x32xbf16>, %y: tensor<8xi32>, %b: tensor<100xbf16>) -> tensor<8xf32> {
  %0 = attn.linear_cross_entropy %h, %w, %y bias(%b : tensor<100xbf16>) {reduction = #attn.reduction<none>}
      : tensor<8x32xbf16>, tensor<100x32xbf16>, tensor<8xi32> -> tensor<8xf32>
  return %0 : tensor<8xf32>
}
