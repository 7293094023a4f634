// RUN: attn-opt %s --split-input-file -pass-pipeline='builtin.module(gpu.module(convert-gpu-to-nvvm,attn-extern-dynamic-shared))' | FileCheck %s
// RUN: attn-opt %s --split-input-file -pass-pipeline='builtin.module(gpu.module(convert-gpu-to-nvvm))' | FileCheck %s --check-prefix=BEFORE
// The flag on the whole module does the same to every gpu.module in it and
// leaves host globals alone.
// RUN: attn-opt %s --split-input-file -pass-pipeline='builtin.module(gpu.module(convert-gpu-to-nvvm))' | attn-opt --split-input-file --attn-extern-dynamic-shared | FileCheck %s --check-prefixes=CHECK,HOST

// The dynamic shared memory global that convert-gpu-to-nvvm makes is
// internal (printed by NVPTX as a one-byte static .shared variable); the
// pass makes it an external declaration (.extern .shared name[]). Static
// shared globals (an mbarrier group here) keep their linkage.
// BEFORE: llvm.mlir.global internal @__dynamic_shmem__0() {addr_space = 3 : i32, alignment = 16 : i64} : !llvm.array<0 x i8>
// HOST: llvm.mlir.global internal @host_array() {addr_space = 3 : i32} : !llvm.array<0 x i8>
// CHECK-LABEL: gpu.module @dynamic
// CHECK-DAG: llvm.mlir.global external @__dynamic_shmem__0() {addr_space = 3 : i32, alignment = 16 : i64} : !llvm.array<0 x i8>
// CHECK-DAG: llvm.mlir.global internal @static_buffer() {addr_space = 3 : i32} : !llvm.array<4 x i64>
// CHECK-DAG: llvm.mlir.global internal @empty_initialized() {addr_space = 3 : i32} : !llvm.array<0 x i8>
// CHECK-DAG: llvm.mlir.global internal @global_memory() {addr_space = 1 : i32} : !llvm.array<0 x i8>
// Not in a gpu.module: not the launch's memory, kept internal.
llvm.mlir.global internal @host_array() {addr_space = 3 : i32} : !llvm.array<0 x i8>
gpu.module @dynamic {
  llvm.mlir.global internal @static_buffer() {addr_space = 3 : i32} : !llvm.array<4 x i64>
  // Zero-length shared arrays with an initializer, or in another address
  // space, are not the launch's dynamic memory.
  llvm.mlir.global internal @empty_initialized() {addr_space = 3 : i32} : !llvm.array<0 x i8> {
    %0 = llvm.mlir.undef : !llvm.array<0 x i8>
    llvm.return %0 : !llvm.array<0 x i8>
  }
  llvm.mlir.global internal @global_memory() {addr_space = 1 : i32} : !llvm.array<0 x i8>
  gpu.func @k(%o: memref<4xi8, 1>) kernel {
    %0 = gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
    %c = arith.constant 3 : index
    %v = memref.load %0[%c] : memref<?xi8, #gpu.address_space<workgroup>>
    memref.store %v, %o[%c] : memref<4xi8, 1>
    gpu.return
  }
}

// -----

// A module without dynamic shared memory is unchanged.
// CHECK-LABEL: gpu.module @none
// CHECK-NOT: llvm.mlir.global
// CHECK: llvm.func @k
gpu.module @none {
  gpu.func @k(%o: memref<4xi8, 1>) kernel {
    gpu.return
  }
}
