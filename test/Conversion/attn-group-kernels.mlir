// RUN: attn-opt %s --attn-group-kernels | FileCheck %s

// The kernels each host function launches end up in one gpu.module named
// after the function; the emptied modules are erased.
// CHECK-LABEL: func @f
// CHECK: gpu.launch_func @f_kernels::@k0
// CHECK: gpu.launch_func @f_kernels::@k1
// CHECK: gpu.module @f_kernels
// CHECK-DAG: gpu.func @k0
// CHECK-DAG: gpu.func @k1
// CHECK-LABEL: func @g
// CHECK: gpu.launch_func @g_kernels::@k2
// CHECK: gpu.module @g_kernels
// CHECK: gpu.func @k2
// CHECK-NOT: gpu.module @m
module attributes {gpu.container_module} {
  func.func @f(%a: memref<4xf32>) {
    %c1 = arith.constant 1 : index
    gpu.launch_func @m0::@k0 blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%a : memref<4xf32>)
    gpu.launch_func @m1::@k1 blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%a : memref<4xf32>)
    return
  }
  gpu.module @m0 {
    gpu.func @k0(%a: memref<4xf32>) kernel { gpu.return }
  }
  gpu.module @m1 {
    gpu.func @k1(%a: memref<4xf32>) kernel { gpu.return }
  }
  func.func @g(%a: memref<4xf32>) {
    %c1 = arith.constant 1 : index
    gpu.launch_func @m2::@k2 blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%a : memref<4xf32>)
    return
  }
  gpu.module @m2 {
    gpu.func @k2(%a: memref<4xf32>) kernel { gpu.return }
  }
}
