// REQUIRES: ptxas
// RUN: rm -rf %t && mkdir -p %t
// RUN: attn-opt %s -split-input-file --gpu-module-to-binary="format=isa" --attn-emit-kernel-package="package-dir=%t/pkg chip=sm_90a" -verify-diagnostics -o /dev/null
// RUN: FileCheck %s --input-file=%t/pkg/manifest.json
// RUN: FileCheck %s --check-prefix=PTX --input-file=%t/pkg/scale_kernels.ptx
// RUN: head -c 4 %t/pkg/scale_kernels.cubin | od -c | FileCheck %s --check-prefix=ELF
// A ptxas that does not exist is a clear error, not a crash.
// RUN: not attn-opt %s -split-input-file --gpu-module-to-binary="format=isa" --attn-emit-kernel-package="package-dir=%t/pkg2 ptxas=%t/no-ptxas" 2>&1 | FileCheck %s --check-prefix=NOPTXAS

// The manifest carries the function description from attn.spec, the
// temporaries, and the launch sequence with buffer and scalar arguments.
// CHECK: "binaries": [
// CHECK: "cubin": "scale_kernels.cubin",
// CHECK-NEXT: "name": "scale_kernels",
// CHECK-NEXT: "ptx": "scale_kernels.ptx",
// CHECK-NEXT: "ptxas_warnings": []
// CHECK: "chip": "sm_90a"
// CHECK: "format": "attn-kernel-package"
// CHECK: "functions": [
// CHECK: "launches": [
// CHECK: "args": [
// CHECK-NEXT: {
// CHECK-NEXT: "index": 0,
// CHECK-NEXT: "kind": "arg"
// CHECK: "index": 0,
// CHECK-NEXT: "kind": "temp"
// CHECK: "kind": "i64",
// CHECK-NEXT: "value": 7
// CHECK: "binary": "scale_kernels",
// CHECK: "block": [
// CHECK-NEXT: 32,
// CHECK: "grid": [
// CHECK-NEXT: 2,
// CHECK: "kernel": "k"
// CHECK: "index": 1,
// CHECK-NEXT: "kind": "arg"
// CHECK: "name": "scale"
// CHECK: "temps": [
// CHECK-NEXT: {
// CHECK-NEXT: "bytes": 256
// CHECK: "kernels": [
// CHECK: "registers":
// CHECK: "version": 1

// PTX: .target sm_90a
// PTX: .entry k(
// ELF: 177   E   L   F

// NOPTXAS: error: attn-emit-kernel-package: cannot find ptxas at '{{.*}}no-ptxas'

module attributes {gpu.container_module} {
  func.func @scale(%a: memref<64xf32>, %b: memref<8x8xf32>) attributes {attn.spec = #attn.function_spec<name = "scale", args = [#attn.tensor_arg<name = "arg0", role = "input", dtype = "f32", shape = [64]>, #attn.tensor_arg<name = "result0", role = "output", dtype = "f32", shape = [8, 8]>]>} {
    %c1 = arith.constant 1 : index
    %c2 = arith.constant 2 : index
    %c32 = arith.constant 32 : index
    %c7 = arith.constant 7 : index
    %t = memref.alloc() : memref<64xf32>
    gpu.launch_func @scale_kernels::@k blocks in (%c2, %c1, %c1) threads in (%c32, %c1, %c1) args(%a : memref<64xf32>, %t : memref<64xf32>, %c7 : index)
    %v = memref.expand_shape %t [[0, 1]] output_shape [8, 8] : memref<64xf32> into memref<8x8xf32>
    gpu.launch_func @scale_kernels::@k2 blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%v : memref<8x8xf32>, %b : memref<8x8xf32>)
    memref.dealloc %t : memref<64xf32>
    return
  }
  gpu.module @scale_kernels [#nvvm.target<chip = "sm_90a", features = "+ptx80">] {
    llvm.func @k(%a: !llvm.ptr, %t: !llvm.ptr, %n: i64) attributes {gpu.kernel, nvvm.kernel} {
      llvm.return
    }
    llvm.func @k2(%a: !llvm.ptr, %b: !llvm.ptr) attributes {gpu.kernel, nvvm.kernel} {
      llvm.return
    }
  }
}

// -----

module attributes {gpu.container_module} {
  func.func @host_load(%a: memref<4xf32>) attributes {attn.spec = #attn.function_spec<name = "host_load", args = [#attn.tensor_arg<name = "arg0", role = "input", dtype = "f32", shape = [4]>]>} {
    %c0 = arith.constant 0 : index
    // expected-error @+1 {{attn-emit-kernel-package: host op 'memref.load' cannot run as part of a launch sequence}}
    %x = memref.load %a[%c0] : memref<4xf32>
    return
  }
}

// -----

module attributes {gpu.container_module} {
  func.func @dynamic_grid(%a: memref<4xf32>, %n: index) attributes {attn.spec = #attn.function_spec<name = "dynamic_grid", args = [#attn.tensor_arg<name = "arg0", role = "input", dtype = "f32", shape = [4]>, #attn.tensor_arg<name = "arg1", role = "input", dtype = "i64", shape = []>]>} {
    %c1 = arith.constant 1 : index
    // expected-error @+1 {{attn-emit-kernel-package: grid, block and shared memory sizes must be constants}}
    gpu.launch_func @m::@k blocks in (%n, %c1, %c1) threads in (%c1, %c1, %c1) args(%a : memref<4xf32>)
    return
  }
  gpu.module @m [#nvvm.target<chip = "sm_90a", features = "+ptx80">] {
    llvm.func @k(%a: !llvm.ptr) attributes {gpu.kernel, nvvm.kernel} {
      llvm.return
    }
  }
}

// -----

module attributes {gpu.container_module} {
  func.func @scalar_arg(%a: memref<4xf32>, %n: index) attributes {attn.spec = #attn.function_spec<name = "scalar_arg", args = [#attn.tensor_arg<name = "arg0", role = "input", dtype = "f32", shape = [4]>, #attn.tensor_arg<name = "arg1", role = "input", dtype = "i64", shape = []>]>} {
    %c1 = arith.constant 1 : index
    // expected-error @+1 {{attn-emit-kernel-package: scalar kernel argument is not a constant, so the manifest cannot hold it}}
    gpu.launch_func @m::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%a : memref<4xf32>, %n : index)
    return
  }
  gpu.module @m [#nvvm.target<chip = "sm_90a", features = "+ptx80">] {
    llvm.func @k(%a: !llvm.ptr, %n: i64) attributes {gpu.kernel, nvvm.kernel} {
      llvm.return
    }
  }
}

// -----

module attributes {gpu.container_module} {
  // expected-error @+1 {{attn-emit-kernel-package: attn.spec describes 0 arguments, but the function has 1 (inputs, then one out-parameter per result)}}
  func.func @wrong_arity(%a: memref<4xf32>) attributes {attn.spec = #attn.function_spec<name = "wrong_arity", args = []>} {
    return
  }
}

// -----

// expected-error @+1 {{attn-emit-kernel-package: no public function to package (run attn-describe-functions first)}}
module attributes {gpu.container_module} {
  func.func @undescribed(%a: memref<4xf32>) {
    return
  }
}

// -----

module attributes {gpu.container_module} {
  // expected-error @+1 {{attn-emit-kernel-package: attn.spec is not an #attn.function_spec of #attn.tensor_arg entries}}
  func.func @untyped_spec(%a: memref<4xf32>) attributes {attn.spec = "{\"name\":\"untyped_spec\"}"} {
    return
  }
}

// -----

// Host loops unroll into the launch sequence only with constant bounds and
// step (attn-emit-kernel-package-loops.mlir), and allocate nothing.
module attributes {gpu.container_module} {
  func.func @dynamic_loop(%a: memref<4xf32>, %n: index) attributes {attn.spec = #attn.function_spec<name = "dynamic_loop", args = [#attn.tensor_arg<name = "arg0", role = "input", dtype = "f32", shape = [4]>, #attn.tensor_arg<name = "arg1", role = "input", dtype = "i64", shape = []>]>} {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    // expected-error @+1 {{attn-emit-kernel-package: a host loop needs constant bounds, a positive constant step and no results}}
    scf.for %i = %c0 to %n step %c1 {
      gpu.launch_func @m::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%a : memref<4xf32>)
    }
    return
  }
  gpu.module @m [#nvvm.target<chip = "sm_90a", features = "+ptx80">] {
    llvm.func @k(%a: !llvm.ptr) attributes {gpu.kernel, nvvm.kernel} {
      llvm.return
    }
  }
}

// -----

module attributes {gpu.container_module} {
  func.func @alloc_in_loop(%a: memref<4xf32>) attributes {attn.spec = #attn.function_spec<name = "alloc_in_loop", args = [#attn.tensor_arg<name = "arg0", role = "input", dtype = "f32", shape = [4]>]>} {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c2 = arith.constant 2 : index
    scf.for %i = %c0 to %c2 step %c1 {
      // expected-error @+1 {{attn-emit-kernel-package: temporary buffers must be allocated outside host loops}}
      %t = memref.alloc() : memref<4xf32>
      gpu.launch_func @m::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%t : memref<4xf32>)
    }
    return
  }
  gpu.module @m [#nvvm.target<chip = "sm_90a", features = "+ptx80">] {
    llvm.func @k(%a: !llvm.ptr) attributes {gpu.kernel, nvvm.kernel} {
      llvm.return
    }
  }
}

// -----

// A tensor map packaged from nvgpu.tma.create.descriptor must describe a
// static memref: a dynamic one has no shape the manifest could hold.
!map = !nvgpu.tensormap.descriptor<tensor = memref<1x64xbf16, #gpu.address_space<workgroup>>, swizzle = swizzle_128b, l2promo = none, oob = zero, interleave = none>
module attributes {gpu.container_module} {
  func.func @dynamic_map(%a: memref<?x64xbf16>) attributes {attn.spec = #attn.function_spec<name = "dynamic_map", args = [#attn.tensor_arg<name = "arg0", role = "input", dtype = "bf16", shape = [4, 64]>]>} {
    %c1 = arith.constant 1 : index
    %c64 = arith.constant 64 : index
    %u = memref.cast %a : memref<?x64xbf16> to memref<*xbf16>
    %d = nvgpu.tma.create.descriptor %u box[%c1, %c64] : memref<*xbf16> -> !map
    %p = builtin.unrealized_conversion_cast %d : !map to !llvm.ptr
    // expected-error @+1 {{attn-emit-kernel-package: a tensor map must describe a static memref with the identity layout}}
    gpu.launch_func @m::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%p : !llvm.ptr)
    return
  }
  gpu.module @m [#nvvm.target<chip = "sm_90a", features = "+ptx80">] {
    llvm.func @k(%p: !llvm.ptr) attributes {gpu.kernel, nvvm.kernel} {
      llvm.return
    }
  }
}
