// RUN: attn-opt %s -split-input-file -verify-diagnostics --attn-map-to-gpu
// RUN: not attn-opt %s -split-input-file --attn-map-to-gpu="chip=sm_42" 2>&1 | FileCheck %s --check-prefix=CHIP
// CHIP: error: attn-map-to-gpu: unknown chip 'sm_42'

// Schedules that verify on the op but that the GPU kernels cannot run.

func.func @rows_per_warp(%q: tensor<1x2x64x64xbf16>) -> tensor<1x2x64x64xbf16> {
  // expected-error @below {{attn-map-to-gpu: schedule #attn.schedule<block_m = 64, block_n = 64, warps = 8, stages = 2> needs block_m = 16 x warps or 32 x warps (16 or 32 query rows per warp)}}
  %o = attn.attention %q, %q, %q {schedule = #attn.schedule<block_m = 64, block_n = 64, warps = 8, stages = 2>} : tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16> -> tensor<1x2x64x64xbf16>
  return %o : tensor<1x2x64x64xbf16>
}

// -----

func.func @one_stage(%q: tensor<1x2x64x64xbf16>) -> tensor<1x2x64x64xbf16> {
  // expected-error @below {{needs at least 2 stages (the key/value tiles are double-buffered)}}
  %o = attn.attention %q, %q, %q {schedule = #attn.schedule<block_m = 64, block_n = 64, warps = 4, stages = 1>} : tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16> -> tensor<1x2x64x64xbf16>
  return %o : tensor<1x2x64x64xbf16>
}

// -----

// The op's verifier counts the tiles; the kernel also pads each shared row
// by 16 bytes, which tips this schedule over the limit.
func.func @too_much_shared(%q: tensor<1x2x256x256xbf16>) -> tensor<1x2x256x256xbf16> {
  // expected-error @below {{needs 236544 bytes of shared memory; sm_90a has 232448}}
  %o = attn.attention %q, %q, %q {schedule = #attn.schedule<block_m = 64, block_n = 96, warps = 4, stages = 2>} : tensor<1x2x256x256xbf16>, tensor<1x2x256x256xbf16>, tensor<1x2x256x256xbf16> -> tensor<1x2x256x256xbf16>
  return %o : tensor<1x2x256x256xbf16>
}

// -----

func.func @row_split_over_warps(%x: tensor<4x1024xf32>) -> tensor<4x1024xf32> {
  // expected-error @below {{needs block_m = 1 (a row per block) or block_m = warps (a row per warp)}}
  %y = attn.softmax %x, dim = 1 {schedule = #attn.schedule<block_m = 2, block_n = 1024, warps = 4>} : tensor<4x1024xf32> -> tensor<4x1024xf32>
  return %y : tensor<4x1024xf32>
}

// -----

func.func @row_too_long_for_registers(%x: tensor<4x32768xf32>) -> tensor<4x32768xf32> {
  // expected-error @below {{keeps 128 row elements per thread in registers with passes = 1; the limit is 64 (use more warps, or passes = 2)}}
  %y = attn.softmax %x, dim = 1 {schedule = #attn.schedule<block_m = 1, block_n = 32768, warps = 8>} : tensor<4x32768xf32> -> tensor<4x32768xf32>
  return %y : tensor<4x32768xf32>
}

// -----

func.func @lce_block_d(%h: tensor<16x96xbf16>, %w: tensor<64x96xbf16>, %y: tensor<16xi64>) -> tensor<f32> {
  // expected-error @below {{needs block_d to be a multiple of 16 dividing the hidden size (96)}}
  %0 = attn.linear_cross_entropy %h, %w, %y {schedule = #attn.schedule<block_m = 16, block_n = 64, block_d = 64, warps = 1, stages = 2>} : tensor<16x96xbf16>, tensor<64x96xbf16>, tensor<16xi64> -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @lce_rows_per_warp(%h: tensor<16x64xbf16>, %w: tensor<64x64xbf16>, %y: tensor<16xi64>) -> tensor<f32> {
  // expected-error @below {{needs block_m = 16 x warps (one warp per 16 tokens)}}
  %0 = attn.linear_cross_entropy %h, %w, %y {schedule = #attn.schedule<block_m = 64, block_n = 64, block_d = 64, warps = 1, stages = 2>} : tensor<16x64xbf16>, tensor<64x64xbf16>, tensor<16xi64> -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @lce_one_stage(%h: tensor<16x64xbf16>, %w: tensor<64x64xbf16>, %y: tensor<16xi64>) -> tensor<f32> {
  // expected-error @below {{needs at least 2 stages}}
  %0 = attn.linear_cross_entropy %h, %w, %y {schedule = #attn.schedule<block_m = 16, block_n = 64, block_d = 64, warps = 1, stages = 1>} : tensor<16x64xbf16>, tensor<64x64xbf16>, tensor<16xi64> -> tensor<f32>
  return %0 : tensor<f32>
}
