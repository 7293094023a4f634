// RUN: attn-opt %s | FileCheck %s
// Round trip: print, parse the printed form, and print again.
// RUN: attn-opt %s | attn-opt | FileCheck %s
// RUN: attn-opt %s --mlir-print-op-generic | attn-opt | FileCheck %s

// CHECK-LABEL: func @softmax_family
func.func @softmax_family(%x: tensor<4x8x16xbf16>)
    -> (tensor<4x8x16xbf16>, tensor<4x8x16xbf16>, tensor<4x16xf32>) {
  // CHECK: attn.softmax %{{.*}}, dim = 2 : tensor<4x8x16xbf16> -> tensor<4x8x16xbf16>
  %0 = attn.softmax %x, dim = 2 : tensor<4x8x16xbf16> -> tensor<4x8x16xbf16>
  // CHECK: attn.log_softmax %{{.*}}, dim = 0 : tensor<4x8x16xbf16> -> tensor<4x8x16xbf16>
  %1 = attn.log_softmax %x, dim = 0 : tensor<4x8x16xbf16> -> tensor<4x8x16xbf16>
  // CHECK: attn.logsumexp %{{.*}}, dim = 1 : tensor<4x8x16xbf16> -> tensor<4x16xf32>
  %2 = attn.logsumexp %x, dim = 1 : tensor<4x8x16xbf16> -> tensor<4x16xf32>
  return %0, %1, %2 : tensor<4x8x16xbf16>, tensor<4x8x16xbf16>, tensor<4x16xf32>
}

// CHECK-LABEL: func @attention_plain
func.func @attention_plain(%q: tensor<2x8x128x64xf16>, %k: tensor<2x8x256x64xf16>,
                           %v: tensor<2x8x256x32xf16>) -> tensor<2x8x128x32xf16> {
  // CHECK: attn.attention %{{.*}}, %{{.*}}, %{{.*}} : tensor<2x8x128x64xf16>, tensor<2x8x256x64xf16>, tensor<2x8x256x32xf16> -> tensor<2x8x128x32xf16>
  %o = attn.attention %q, %k, %v : tensor<2x8x128x64xf16>, tensor<2x8x256x64xf16>, tensor<2x8x256x32xf16> -> tensor<2x8x128x32xf16>
  return %o : tensor<2x8x128x32xf16>
}

// CHECK-LABEL: func @attention_all_attributes
func.func @attention_all_attributes(%q: tensor<1x8x5x16xbf16>, %k: tensor<1x2x7x16xbf16>,
                                    %v: tensor<1x2x7x16xbf16>, %m: tensor<1x8x5x7xi1>)
    -> (tensor<1x8x5x16xbf16>, tensor<1x8x5xf32>) {
  // CHECK: attn.attention %{{.*}}, %{{.*}}, %{{.*}} mask(%{{.*}} : tensor<1x8x5x7xi1>)
  // CHECK-SAME: causal
  // CHECK-SAME: scale = 2.500000e-01 : f32
  // CHECK-SAME: softcap = 5.000000e+01 : f32
  // CHECK-SAME: window = array<i64: 3, 0>
  // CHECK-SAME: -> tensor<1x8x5x16xbf16>, tensor<1x8x5xf32>
  %o, %lse = attn.attention %q, %k, %v mask(%m : tensor<1x8x5x7xi1>)
      {causal, scale = 0.25 : f32, softcap = 50.0 : f32, window = array<i64: 3, 0>}
      : tensor<1x8x5x16xbf16>, tensor<1x2x7x16xbf16>, tensor<1x2x7x16xbf16>
      -> tensor<1x8x5x16xbf16>, tensor<1x8x5xf32>
  return %o, %lse : tensor<1x8x5x16xbf16>, tensor<1x8x5xf32>
}

// CHECK-LABEL: func @attention_additive_mask
func.func @attention_additive_mask(%q: tensor<1x4x5x16xf32>, %k: tensor<1x1x7x16xf32>,
                                   %v: tensor<1x1x7x16xf32>, %m: tensor<5x7xf32>)
    -> tensor<1x4x5x16xf32> {
  // CHECK: mask(%{{.*}} : tensor<5x7xf32>)
  %o = attn.attention %q, %k, %v mask(%m : tensor<5x7xf32>)
      : tensor<1x4x5x16xf32>, tensor<1x1x7x16xf32>, tensor<1x1x7x16xf32> -> tensor<1x4x5x16xf32>
  return %o : tensor<1x4x5x16xf32>
}

// CHECK-LABEL: func @attention_dynamic
func.func @attention_dynamic(%q: tensor<?x4x?x64xf32>, %k: tensor<?x2x?x64xf32>,
                             %v: tensor<?x2x?x64xf32>) -> tensor<?x4x?x64xf32> {
  // CHECK: attn.attention
  %o = attn.attention %q, %k, %v : tensor<?x4x?x64xf32>, tensor<?x2x?x64xf32>, tensor<?x2x?x64xf32> -> tensor<?x4x?x64xf32>
  return %o : tensor<?x4x?x64xf32>
}

// CHECK-LABEL: func @cross_entropy
func.func @cross_entropy(%z: tensor<8x1000xbf16>, %y: tensor<8xi64>)
    -> (tensor<f32>, tensor<8xf32>, tensor<f32>, tensor<8xf32>) {
  // Defaults (ignore_index = -100, no smoothing, reduction = mean) print nothing.
  // CHECK: attn.cross_entropy %{{.*}}, %{{.*}} : tensor<8x1000xbf16>, tensor<8xi64> -> tensor<f32>
  %0 = attn.cross_entropy %z, %y : tensor<8x1000xbf16>, tensor<8xi64> -> tensor<f32>
  // CHECK: attn.cross_entropy %{{.*}}, %{{.*}} {reduction = #attn.reduction<none>} : tensor<8x1000xbf16>, tensor<8xi64> -> tensor<8xf32>
  %1 = attn.cross_entropy %z, %y {reduction = #attn.reduction<none>} : tensor<8x1000xbf16>, tensor<8xi64> -> tensor<8xf32>
  // CHECK: attn.cross_entropy %{{.*}}, %{{.*}} {ignore_index = 0 : i64, label_smoothing = 1.000000e-01 : f32, reduction = #attn.reduction<sum>, softcap = 3.000000e+01 : f32, z_loss = 9.99999974E-5 : f32} : tensor<8x1000xbf16>, tensor<8xi64> -> tensor<f32>, tensor<8xf32>
  %2, %3 = attn.cross_entropy %z, %y {ignore_index = 0 : i64, label_smoothing = 0.1 : f32,
      z_loss = 1.0e-4 : f32, softcap = 30.0 : f32, reduction = #attn.reduction<sum>}
      : tensor<8x1000xbf16>, tensor<8xi64> -> tensor<f32>, tensor<8xf32>
  return %0, %1, %2, %3 : tensor<f32>, tensor<8xf32>, tensor<f32>, tensor<8xf32>
}

// CHECK-LABEL: func @linear_cross_entropy
func.func @linear_cross_entropy(%h: tensor<16x64xbf16>, %w: tensor<1000x64xbf16>,
                                %b: tensor<1000xbf16>, %y: tensor<16xi32>)
    -> (tensor<f32>, tensor<16xf32>, tensor<16xf32>) {
  // CHECK: attn.linear_cross_entropy %{{.*}}, %{{.*}}, %{{.*}} : tensor<16x64xbf16>, tensor<1000x64xbf16>, tensor<16xi32> -> tensor<f32>
  %0 = attn.linear_cross_entropy %h, %w, %y : tensor<16x64xbf16>, tensor<1000x64xbf16>, tensor<16xi32> -> tensor<f32>
  // CHECK: attn.linear_cross_entropy %{{.*}}, %{{.*}}, %{{.*}} bias(%{{.*}} : tensor<1000xbf16>) {reduction = #attn.reduction<none>} : tensor<16x64xbf16>, tensor<1000x64xbf16>, tensor<16xi32> -> tensor<16xf32>, tensor<16xf32>
  %1, %2 = attn.linear_cross_entropy %h, %w, %y bias(%b : tensor<1000xbf16>) {reduction = #attn.reduction<none>}
      : tensor<16x64xbf16>, tensor<1000x64xbf16>, tensor<16xi32> -> tensor<16xf32>, tensor<16xf32>
  return %0, %1, %2 : tensor<f32>, tensor<16xf32>, tensor<16xf32>
}

// CHECK-LABEL: func @schedules
func.func @schedules(%x: tensor<4x8192xf32>, %h: tensor<256x64xbf16>, %w: tensor<1000x64xbf16>, %y: tensor<256xi64>)
    -> (tensor<4x8192xf32>, tensor<f32>) {
  // Fields at their default are not printed.
  // CHECK: schedule = #attn.schedule<block_m = 4, block_n = 2048, passes = 2>
  %0 = attn.softmax %x, dim = 1 {schedule = #attn.schedule<block_m = 4, block_n = 2048, passes = 2, warps = 4, chip = "sm_90a">} : tensor<4x8192xf32> -> tensor<4x8192xf32>
  // CHECK: schedule = #attn.schedule<block_m = 128, block_n = 128, block_d = 64, warps = 8, stages = 3, split = 2, chip = "sm_80">
  %1 = attn.linear_cross_entropy %h, %w, %y {schedule = #attn.schedule<block_m = 128, block_n = 128, block_d = 64, warps = 8, stages = 3, split = 2, chip = "sm_80">}
      : tensor<256x64xbf16>, tensor<1000x64xbf16>, tensor<256xi64> -> tensor<f32>
  return %0, %1 : tensor<4x8192xf32>, tensor<f32>
}
