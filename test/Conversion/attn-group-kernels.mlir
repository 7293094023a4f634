// RUN: attn-opt %s -split-input-file -verify-diagnostics --attn-group-kernels | FileCheck %s

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

// -----

// A launch in clusters gives its kernel the static cluster shape.
// CHECK-LABEL: func @clustered
// CHECK: gpu.launch_func @clustered_kernels::@k3 clusters in
// CHECK: gpu.func @k3({{.*}}) kernel attributes {nvvm.cluster_dim = array<i32: 4, 1, 1>}
module attributes {gpu.container_module} {
  func.func @clustered(%a: memref<4xf32>) {
    %c1 = arith.constant 1 : index
    %c4 = arith.constant 4 : index
    gpu.launch_func @m3::@k3 clusters in (%c4, %c1, %c1) blocks in (%c4, %c1, %c1) threads in (%c1, %c1, %c1) args(%a : memref<4xf32>)
    return
  }
  gpu.module @m3 {
    gpu.func @k3(%a: memref<4xf32>) kernel { gpu.return }
  }
}

// -----

module attributes {gpu.container_module} {
  func.func @dynamic_cluster(%a: memref<4xf32>, %n: index) {
    %c1 = arith.constant 1 : index
    // expected-error @below {{attn-group-kernels: the cluster shape must be constant}}
    gpu.launch_func @m4::@k4 clusters in (%n, %c1, %c1) blocks in (%n, %c1, %c1) threads in (%c1, %c1, %c1) args(%a : memref<4xf32>)
    return
  }
  gpu.module @m4 {
    gpu.func @k4(%a: memref<4xf32>) kernel { gpu.return }
  }
}
