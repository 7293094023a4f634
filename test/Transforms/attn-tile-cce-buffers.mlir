// The Cut-Cross-Entropy form never allocates an N x V buffer: tile and
// bufferize a linear_cross_entropy with N = 256, V = 4096 and look at every
// allocation. None has a dim of V; the largest is the [32, 128] logits tile.
// RUN: attn-opt %s --pass-pipeline="builtin.module(attn-tile,canonicalize,cse,eliminate-empty-tensors,empty-tensor-to-alloc-tensor,one-shot-bufferize{bufferize-function-boundaries allow-return-allocs-from-loops function-boundary-type-conversion=identity-layout-map},canonicalize)" | FileCheck %s
// The decomposition, by contrast, materializes the logits.
// RUN: attn-opt %s --pass-pipeline="builtin.module(attn-decompose,canonicalize,cse,eliminate-empty-tensors,empty-tensor-to-alloc-tensor,one-shot-bufferize{bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map},canonicalize)" | FileCheck %s --check-prefix=UNFUSED

// CHECK-LABEL: func @lce
// CHECK-NOT: memref.alloc(){{.*}}4096
// CHECK: memref.alloc() {{.*}} : memref<32x128xf32>
// CHECK-NOT: memref.alloc(){{.*}}4096
// CHECK: return

// UNFUSED: memref.alloc() {{.*}} : memref<256x4096xf32>
func.func @lce(%h: tensor<256x64xbf16>, %w: tensor<4096x64xbf16>, %y: tensor<256xi64>) -> tensor<f32> {
  %l = attn.linear_cross_entropy %h, %w, %y {schedule = #attn.schedule<block_m = 32, block_n = 128, block_d = 32, chip = "host">}
      : tensor<256x64xbf16>, tensor<4096x64xbf16>, tensor<256xi64> -> tensor<f32>
  return %l : tensor<f32>
}
