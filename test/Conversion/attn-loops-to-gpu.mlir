// RUN: attn-opt %s -split-input-file -verify-diagnostics --attn-loops-to-gpu="threads=16" | FileCheck %s

// A 4x8 parallel nest becomes 2 blocks of 16 threads, one thread per
// iteration, innermost dimension fastest; a loop with no parallel dimension
// becomes a single-thread launch. Constants are cloned into the kernels.
// CHECK-LABEL: func @map_loops
// CHECK: gpu.launch blocks(%[[BX:[^,]+]], {{.*}}) in (%{{[^ ]+}} = %c2, {{.*}} threads(%[[TX:[^,]+]], {{.*}}) in (%{{[^ ]+}} = %c16,
// CHECK: %[[TWO:.+]] = arith.constant 2.000000e+00 : f32
// CHECK: %[[MUL:.+]] = arith.muli %[[BX]], %{{.+}} : index
// CHECK: %[[LIN:.+]] = arith.addi %[[MUL]], %[[TX]] : index
// CHECK: %[[IN:.+]] = arith.cmpi ult, %[[LIN]], %{{.+}} : index
// CHECK: scf.if %[[IN]]
// CHECK: %[[J:.+]] = arith.remui %[[LIN]], %{{.+}} : index
// CHECK: %[[I:.+]] = arith.divui %[[LIN]], %{{.+}} : index
// CHECK: %[[X:.+]] = memref.load %arg0[%[[I]], %[[J]]]
// CHECK: arith.mulf %[[X]], %[[TWO]]
// CHECK: gpu.terminator
// CHECK: gpu.launch blocks({{.*}}) in (%{{[^ ]+}} = %c1{{(_[0-9]+)?}}, {{.*}} threads({{.*}}) in (%{{[^ ]+}} = %c1{{(_[0-9]+)?}},
// CHECK: scf.for
// CHECK: gpu.terminator
// CHECK-NEXT: }
// CHECK-NEXT: return
func.func @map_loops(%a: memref<4x8xf32>, %b: memref<4x8xf32>, %s: memref<f32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %two = arith.constant 2.0 : f32
  scf.parallel (%i, %j) = (%c0, %c0) to (%c4, %c8) step (%c1, %c1) {
    %x = memref.load %a[%i, %j] : memref<4x8xf32>
    %y = arith.mulf %x, %two : f32
    memref.store %y, %b[%i, %j] : memref<4x8xf32>
    scf.reduce
  }
  scf.for %i = %c0 to %c4 step %c1 {
    %x = memref.load %b[%i, %c0] : memref<4x8xf32>
    %acc = memref.load %s[] : memref<f32>
    %y = arith.addf %x, %acc : f32
    memref.store %y, %s[] : memref<f32>
  }
  return
}

// -----

// Allocations and views stay on the host; scalar code between them is moved
// into a kernel.
// CHECK-LABEL: func @scalar_code
// CHECK: memref.alloc
// CHECK: gpu.launch
// CHECK: memref.load
// CHECK: memref.store
// CHECK: gpu.terminator
// CHECK: memref.dealloc
func.func @scalar_code(%a: memref<f32>) {
  %t = memref.alloc() : memref<f32>
  %x = memref.load %a[] : memref<f32>
  memref.store %x, %t[] : memref<f32>
  memref.dealloc %t : memref<f32>
  return
}

// -----

func.func @dynamic_bounds(%a: memref<?xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %z = arith.constant 0.0 : f32
  // expected-error @+1 {{attn-loops-to-gpu needs constant loop bounds (dynamic shapes are not supported on the GPU path yet)}}
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    memref.store %z, %a[%i] : memref<?xf32>
    scf.reduce
  }
  return
}

// -----

// A host loop of kernel launches (the linear cross-entropy backward's chunk
// loop) is a launch sequence: it stays on the host, not wrapped in a
// single-thread launch; a loop that also computes is wrapped.
// CHECK-LABEL: func @launch_loop
// CHECK: scf.for
// CHECK-NEXT: gpu.launch blocks
// CHECK: gpu.terminator
// CHECK-NEXT: }
// CHECK-NEXT: }
// CHECK: gpu.launch blocks
// CHECK: scf.for
// CHECK: memref.store
func.func @launch_loop(%a: memref<4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %z = arith.constant 0.0 : f32
  scf.for %i = %c0 to %c4 step %c1 {
    gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1) threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
      memref.store %z, %a[%i] : memref<4xf32>
      gpu.terminator
    }
  }
  scf.for %i = %c0 to %c4 step %c1 {
    memref.store %z, %a[%i] : memref<4xf32>
  }
  return
}
