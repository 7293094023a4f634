// RUN: attn-opt %s -split-input-file -verify-diagnostics --attn-map-to-gpu="chip=sm_86" -o /dev/null
// RUN: not attn-opt %s -split-input-file --attn-map-to-gpu="chip=sm_42" 2>&1 | FileCheck %s --check-prefix=CHIP
// RUN: not attn-opt %s -split-input-file --attn-map-to-gpu="chip=host" 2>&1 | FileCheck %s --check-prefix=CHIP-HOST
// CHIP: error: attn-map-to-gpu: unknown GPU chip 'sm_42' (one of sm_80, sm_86, sm_89, sm_90, sm_90a, h200-sxm, sm_100a)
// CHIP-HOST: error: attn-map-to-gpu: unknown GPU chip 'host' (one of sm_80, sm_86, sm_89, sm_90, sm_90a, h200-sxm, sm_100a)

// The op verifier checks a schedule against the plans of the chip the
// schedule names (tested in test/Dialect/Attn/invalid-schedule-plans.mlir);
// the pass compiles for its own chip and refuses schedules written for a
// chip of another ISA.

// A row spread over a cluster verifies for the schedule's chip (sm_90a),
// but the pass compiles for sm_86.
func.func @schedule_for_another_chip(%x: tensor<2x65536xbf16>) -> tensor<2x65536xbf16> {
  // expected-error @below {{attn-map-to-gpu: the schedule is for chip 'sm_90a', but the pass compiles for 'sm_86' (sm_86)}}
  %0 = attn.softmax %x, dim = 1 {schedule = #attn.schedule<block_m = 1, block_n = 32768, warps = 16, split = 2>} : tensor<2x65536xbf16> -> tensor<2x65536xbf16>
  return %0 : tensor<2x65536xbf16>
}

// -----

func.func @host_schedule(%q: tensor<1x2x64x64xbf16>) -> tensor<1x2x64x64xbf16> {
  // expected-error @below {{attn-map-to-gpu: the schedule is for chip 'host', but the pass compiles for 'sm_86' (sm_86)}}
  %o = attn.attention %q, %q, %q {schedule = #attn.schedule<block_m = 32, block_n = 16, chip = "host">} : tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16> -> tensor<1x2x64x64xbf16>
  return %o : tensor<1x2x64x64xbf16>
}
