// REQUIRES: ptxas
// RUN: rm -rf %t && mkdir -p %t
// RUN: attn-opt %s --gpu-module-to-binary="format=isa" --attn-emit-kernel-package="package-dir=%t/pkg chip=sm_90a" -verify-diagnostics -o /dev/null
// RUN: FileCheck %s --input-file=%t/pkg/manifest.json
// CHECK: "name": "warn_kernels",
// CHECK-NEXT: "ptx": "warn_kernels.ptx",
// CHECK-NEXT: "ptxas_warnings": [
// CHECK-NEXT: "(C7508) Potential Performance Loss: 'setmaxnreg' ignored; unable to determine register count at entry."
// CHECK-NEXT: ]

// ptxas's performance warnings reach the user and the manifest: here
// setmaxnreg in a kernel without launch bounds, which ptxas ignores (C7508).
module attributes {gpu.container_module} {
  func.func @unbounded(%a: memref<4xf32>) attributes {attn.spec = #attn.function_spec<name = "unbounded", args = [#attn.tensor_arg<name = "arg0", role = "input", dtype = "f32", shape = [4]>]>} {
    %c1 = arith.constant 1 : index
    gpu.launch_func @warn_kernels::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%a : memref<4xf32>)
    return
  }
  // expected-warning @+1 {{ptxas: (C7508) Potential Performance Loss: 'setmaxnreg' ignored}}
  gpu.module @warn_kernels [#nvvm.target<chip = "sm_90a", features = "+ptx80">] {
    llvm.func @k(%a: !llvm.ptr) attributes {gpu.kernel, nvvm.kernel} {
      nvvm.setmaxregister increase 240
      llvm.return
    }
  }
}
