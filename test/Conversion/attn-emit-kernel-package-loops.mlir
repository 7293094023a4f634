// REQUIRES: ptxas
// RUN: rm -rf %t && mkdir -p %t
// RUN: attn-opt %s --gpu-module-to-binary="format=isa" --attn-emit-kernel-package="package-dir=%t/pkg chip=sm_90a" -o /dev/null
// RUN: FileCheck %s --input-file=%t/pkg/manifest.json

// A host loop of launches (the chunk loop of the linear cross-entropy
// backward) is unrolled into the launch sequence: the launch before it, the
// loop's two launches for i = 1 and i = 3 (step 2), each with its induction
// variable as a constant i64 argument, then the launch after it; the
// temporary allocated before the loop is one buffer.
// CHECK: "launches": [
// CHECK: "kernel": "first"
// CHECK: "kind": "i64",
// CHECK-NEXT: "value": 1
// CHECK: "kind": "temp"
// CHECK: "kernel": "body"
// CHECK: "kind": "temp"
// CHECK: "kernel": "tail"
// CHECK: "kind": "i64",
// CHECK-NEXT: "value": 3
// CHECK: "kernel": "body"
// CHECK: "kernel": "tail"
// CHECK: "kernel": "last"
// CHECK-NOT: "kernel": "body"
// CHECK: "temps": [
// CHECK-NEXT: {
// CHECK-NEXT: "bytes": 16
// CHECK-NEXT: }
// CHECK-NEXT: ]

module attributes {gpu.container_module} {
  func.func @chunks(%a: memref<4xf32>) attributes {attn.spec = #attn.function_spec<name = "chunks", args = [#attn.tensor_arg<name = "arg0", role = "input", dtype = "f32", shape = [4]>]>} {
    %c1 = arith.constant 1 : index
    %c2 = arith.constant 2 : index
    %c4 = arith.constant 4 : index
    %t = memref.alloc() : memref<4xf32>
    gpu.launch_func @m::@first blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%a : memref<4xf32>)
    scf.for %i = %c1 to %c4 step %c2 {
      gpu.launch_func @m::@body blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%i : index, %t : memref<4xf32>)
      gpu.launch_func @m::@tail blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%t : memref<4xf32>)
    }
    gpu.launch_func @m::@last blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%a : memref<4xf32>)
    memref.dealloc %t : memref<4xf32>
    return
  }
  gpu.module @m [#nvvm.target<chip = "sm_90a", features = "+ptx80">] {
    llvm.func @first(%a: !llvm.ptr) attributes {gpu.kernel, nvvm.kernel} {
      llvm.return
    }
    llvm.func @body(%i: i64, %t: !llvm.ptr) attributes {gpu.kernel, nvvm.kernel} {
      llvm.return
    }
    llvm.func @tail(%t: !llvm.ptr) attributes {gpu.kernel, nvvm.kernel} {
      llvm.return
    }
    llvm.func @last(%a: !llvm.ptr) attributes {gpu.kernel, nvvm.kernel} {
      llvm.return
    }
  }
}
