// RUN: attn-opt %s -split-input-file -verify-diagnostics --attn-map-to-gpu="chip=sm_86" -o /dev/null

// Shared-memory limits come from the pass's chip (99 KiB per block on sm_86).
// The op's verifier counts the unpadded tiles (81920 bytes); the kernel's
// 16-byte row padding needs more than an sm_86 block may have.
func.func @lce_too_much_shared(%h: tensor<256x64xbf16>, %w: tensor<256x64xbf16>, %y: tensor<256xi64>) -> tensor<f32> {
  // expected-error @below {{needs 122880 bytes of shared memory; sm_86 has 101376}}
  %0 = attn.linear_cross_entropy %h, %w, %y {schedule = #attn.schedule<block_m = 256, block_n = 256, block_d = 16, warps = 16, stages = 5, chip = "sm_86">} : tensor<256x64xbf16>, tensor<256x64xbf16>, tensor<256xi64> -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

// A row spread over a cluster verifies for the schedule's chip (sm_90a) but
// the pass compiles for sm_86, which has no clusters.
func.func @softmax_cluster_on_sm86(%x: tensor<2x65536xbf16>) -> tensor<2x65536xbf16> {
  // expected-error @below {{spreads a row over a cluster of 2 blocks; sm_86 has no clusters}}
  %0 = attn.softmax %x, dim = 1 {schedule = #attn.schedule<block_m = 1, block_n = 32768, warps = 16, split = 2>} : tensor<2x65536xbf16> -> tensor<2x65536xbf16>
  return %0 : tensor<2x65536xbf16>
}
