// attn-tile's FlashAttention-2 backward of attention_grad on the CPU
// (attn-run --tile: attn-tile, then JIT) against the float64 reference and
// central finite differences: ragged 16-row query and key tiles in both
// passes (dQ over query tiles, dK/dV over key tiles looping over the
// group's query heads), GQA 2:1, causal with more queries than keys (fully
// masked rows), windows, softcap, scale, i1 and f32 mask operands
// (broadcast over batch and heads), Dv != D, bf16, and the default 64 x 64
// schedule; the same functions decomposed (without --tile) as a
// cross-check.
// RUN: attn-run %s --device cpu --tile --function gqa_causal_ragged --tolerance 1e-5 --iterations 0 | FileCheck %s
// RUN: attn-run %s --device cpu --tile --function masked_rows --tolerance 1e-5 --iterations 0 | FileCheck %s
// RUN: attn-run %s --device cpu --tile --function window_softcap_bool_mask --tolerance 1e-5 --iterations 0 | FileCheck %s
// RUN: attn-run %s --device cpu --tile --function float_mask_broadcast --tolerance 1e-5 --iterations 0 | FileCheck %s
// RUN: attn-run %s --device cpu --tile --function default_schedule_bf16 --tolerance 2e-2 --iterations 0 | FileCheck %s
// RUN: attn-run %s --device cpu --tile --function gqa_causal_ragged --tolerance 1e-5 --finite-differences --iterations 0 | FileCheck %s --check-prefixes=CHECK,FD
// RUN: attn-run %s --device cpu --tile --function window_softcap_bool_mask --tolerance 1e-5 --finite-differences --iterations 0 | FileCheck %s --check-prefixes=CHECK,FD
// RUN: attn-run %s --device cpu --function masked_rows --tolerance 1e-5 --iterations 0 | FileCheck %s
//
// The tiled form holds no [M, N] tensor: scores, P and dS exist as tiles of
// at most block_m x block_n, and dQ, dK, dV are written by scf.forall.
// RUN: attn-opt %s --attn-tile 2>&1 | FileCheck %s --check-prefix=TILED
//
// CHECK: attn-run: function {{.*}} (attn.attention_grad) on CPU (MLIR JIT)
// FD: finite differences
// CHECK-NOT: FAIL
// CHECK: attn-run: PASS
//
// TILED-LABEL: func.func @gqa_causal_ragged
// TILED-NOT: attn.attention_grad
// TILED-NOT: x37x45xf32>
// TILED: scf.forall
// TILED: scf.for
// TILED: scf.forall
// TILED: scf.for
// TILED: scf.for
// TILED-NOT: x37x45xf32>
// TILED: return

func.func @gqa_causal_ragged(%q: tensor<2x4x37x8xf32>, %k: tensor<2x2x45x8xf32>, %v: tensor<2x2x45x8xf32>,
                             %o: tensor<2x4x37x8xf32>, %lse: tensor<2x4x37xf32>, %do: tensor<2x4x37x8xf32>)
    -> (tensor<2x4x37x8xf32>, tensor<2x2x45x8xf32>, tensor<2x2x45x8xf32>) {
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do {causal, schedule = #attn.schedule<block_m = 16, block_n = 16, chip = "host">}
      : tensor<2x4x37x8xf32>, tensor<2x2x45x8xf32>, tensor<2x2x45x8xf32>, tensor<2x4x37x8xf32>, tensor<2x4x37xf32>, tensor<2x4x37x8xf32>
      -> tensor<2x4x37x8xf32>, tensor<2x2x45x8xf32>, tensor<2x2x45x8xf32>
  return %dq, %dk, %dv : tensor<2x4x37x8xf32>, tensor<2x2x45x8xf32>, tensor<2x2x45x8xf32>
}

// 40 queries, 23 keys, causal bottom-right: queries 0-16 see no key.
func.func @masked_rows(%q: tensor<1x2x40x8xf32>, %k: tensor<1x1x23x8xf32>, %v: tensor<1x1x23x8xf32>,
                       %o: tensor<1x2x40x8xf32>, %lse: tensor<1x2x40xf32>, %do: tensor<1x2x40x8xf32>)
    -> (tensor<1x2x40x8xf32>, tensor<1x1x23x8xf32>, tensor<1x1x23x8xf32>) {
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do {causal, schedule = #attn.schedule<block_m = 16, block_n = 16, chip = "host">}
      : tensor<1x2x40x8xf32>, tensor<1x1x23x8xf32>, tensor<1x1x23x8xf32>, tensor<1x2x40x8xf32>, tensor<1x2x40xf32>, tensor<1x2x40x8xf32>
      -> tensor<1x2x40x8xf32>, tensor<1x1x23x8xf32>, tensor<1x1x23x8xf32>
  return %dq, %dk, %dv : tensor<1x2x40x8xf32>, tensor<1x1x23x8xf32>, tensor<1x1x23x8xf32>
}

func.func @window_softcap_bool_mask(%q: tensor<1x2x29x4xf32>, %k: tensor<1x2x31x4xf32>, %v: tensor<1x2x31x3xf32>,
                                    %o: tensor<1x2x29x3xf32>, %lse: tensor<1x2x29xf32>, %do: tensor<1x2x29x3xf32>,
                                    %m: tensor<29x31xi1>)
    -> (tensor<1x2x29x4xf32>, tensor<1x2x31x4xf32>, tensor<1x2x31x3xf32>) {
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do mask(%m : tensor<29x31xi1>) {window = array<i64: 5, 2>, softcap = 1.5 : f32, scale = 0.9 : f32, schedule = #attn.schedule<block_m = 16, block_n = 16, chip = "host">}
      : tensor<1x2x29x4xf32>, tensor<1x2x31x4xf32>, tensor<1x2x31x3xf32>, tensor<1x2x29x3xf32>, tensor<1x2x29xf32>, tensor<1x2x29x3xf32>
      -> tensor<1x2x29x4xf32>, tensor<1x2x31x4xf32>, tensor<1x2x31x3xf32>
  return %dq, %dk, %dv : tensor<1x2x29x4xf32>, tensor<1x2x31x4xf32>, tensor<1x2x31x3xf32>
}

func.func @float_mask_broadcast(%q: tensor<2x4x19x4xf32>, %k: tensor<2x2x33x4xf32>, %v: tensor<2x2x33x4xf32>,
                                %o: tensor<2x4x19x4xf32>, %lse: tensor<2x4x19xf32>, %do: tensor<2x4x19x4xf32>,
                                %m: tensor<1x4x19x33xf32>)
    -> (tensor<2x4x19x4xf32>, tensor<2x2x33x4xf32>, tensor<2x2x33x4xf32>) {
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do mask(%m : tensor<1x4x19x33xf32>) {causal, schedule = #attn.schedule<block_m = 16, block_n = 32, chip = "host">}
      : tensor<2x4x19x4xf32>, tensor<2x2x33x4xf32>, tensor<2x2x33x4xf32>, tensor<2x4x19x4xf32>, tensor<2x4x19xf32>, tensor<2x4x19x4xf32>
      -> tensor<2x4x19x4xf32>, tensor<2x2x33x4xf32>, tensor<2x2x33x4xf32>
  return %dq, %dk, %dv : tensor<2x4x19x4xf32>, tensor<2x2x33x4xf32>, tensor<2x2x33x4xf32>
}

func.func @default_schedule_bf16(%q: tensor<1x4x77x40xbf16>, %k: tensor<1x2x130x40xbf16>, %v: tensor<1x2x130x24xbf16>,
                                 %o: tensor<1x4x77x24xbf16>, %lse: tensor<1x4x77xf32>, %do: tensor<1x4x77x24xbf16>)
    -> (tensor<1x4x77x40xbf16>, tensor<1x2x130x40xbf16>, tensor<1x2x130x24xbf16>) {
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do {causal, window = array<i64: 50, 0>}
      : tensor<1x4x77x40xbf16>, tensor<1x2x130x40xbf16>, tensor<1x2x130x24xbf16>, tensor<1x4x77x24xbf16>, tensor<1x4x77xf32>, tensor<1x4x77x24xbf16>
      -> tensor<1x4x77x40xbf16>, tensor<1x2x130x40xbf16>, tensor<1x2x130x24xbf16>
  return %dq, %dk, %dv : tensor<1x4x77x40xbf16>, tensor<1x2x130x40xbf16>, tensor<1x2x130x24xbf16>
}
