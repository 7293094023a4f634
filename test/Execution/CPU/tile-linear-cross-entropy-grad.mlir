// attn-tile's Cut-Cross-Entropy backward of linear_cross_entropy_grad on
// the CPU (attn-run --tile: attn-tile, then JIT) against the float64
// reference: ragged token, vocabulary and hidden tiles in both passes (dh
// over token blocks, dW and dbias over vocabulary blocks), every
// attribute, every reduction, f32 and bf16, all tokens ignored; the same
// functions decomposed (without --tile) as a cross-check.
// RUN: attn-run %s --device cpu --tile --function ragged_mean_bias --ignore-fraction 0.3 --tolerance 1e-5 --iterations 0 | FileCheck %s
// RUN: attn-run %s --device cpu --tile --function ragged_none_all_attributes --ignore-fraction 0.3 --input-scale 2 --tolerance 1e-5 --iterations 0 | FileCheck %s
// RUN: attn-run %s --device cpu --tile --function ragged_sum_i32 --tolerance 1e-5 --iterations 0 | FileCheck %s
// RUN: attn-run %s --device cpu --tile --function default_schedule_bf16 --tolerance 2e-2 --iterations 0 | FileCheck %s
// RUN: attn-run %s --device cpu --tile --function ragged_mean_bias --ignore-fraction 1 --tolerance 1e-5 --iterations 0 | FileCheck %s --check-prefixes=CHECK,ALLIGNORED
// RUN: attn-run %s --device cpu --function ragged_none_all_attributes --ignore-fraction 0.3 --input-scale 2 --tolerance 1e-5 --iterations 0 | FileCheck %s
//
// Gradient filtering (grad_filter = 0.01): the float64 reference drops the
// same elements; tiled and decomposed. Wide logits (--input-scale 3) leave
// most elements, and whole tiles, below the threshold.
// RUN: attn-run %s --device cpu --tile --function filtered_mean --input-scale 3 --tolerance 1e-5 --iterations 0 | FileCheck %s
// RUN: attn-run %s --device cpu --function filtered_mean --input-scale 3 --tolerance 1e-5 --iterations 0 | FileCheck %s
//
// The tiled form holds no [N, V] tensor: tiles of at most block_m x
// block_n logits, and dh, dW, dbias written by scf.forall.
// RUN: attn-opt %s --attn-tile 2>&1 | FileCheck %s --check-prefix=TILED
//
// CHECK: attn-run: function {{.*}} (attn.linear_cross_entropy_grad) on CPU (MLIR JIT)
// CHECK-NOT: FAIL
// ALLIGNORED: output result0 [{{.*}}]: rel_l2 0.000e+00 max_abs 0.000e+00
// ALLIGNORED: output result1 [{{.*}}]: rel_l2 0.000e+00 max_abs 0.000e+00
// ALLIGNORED: output result2 [{{.*}}]: rel_l2 0.000e+00 max_abs 0.000e+00
// CHECK: attn-run: PASS
//
// TILED-LABEL: func.func @ragged_mean_bias
// TILED-NOT: attn.linear_cross_entropy_grad
// TILED-NOT: tensor<37x203xf32>
// TILED: scf.forall
// TILED: scf.for
// TILED: tensor<?x?xf32>
// TILED: scf.forall
// TILED-NOT: tensor<37x203xf32>
// TILED: return
// TILED-LABEL: func.func @ragged_none_all_attributes
// TILED-NOT: attn.linear_cross_entropy_grad
// TILED: return
// TILED-LABEL: func.func @ragged_sum_i32
// TILED-NOT: attn.linear_cross_entropy_grad
// TILED: return
// TILED-LABEL: func.func @default_schedule_bf16
// TILED-NOT: attn.linear_cross_entropy_grad
// TILED: return

// 37 tokens in blocks of 16 (3 blocks, the last of 5), 203 classes in
// tiles of 32 (7, the last of 11), hidden 40 in chunks of 16 (the last 8).
func.func @ragged_mean_bias(%h: tensor<37x40xf32>, %w: tensor<203x40xf32>, %b: tensor<203xf32>, %y: tensor<37xi64>, %lse: tensor<37xf32>, %dl: tensor<f32>) -> (tensor<37x40xf32>, tensor<203x40xf32>, tensor<203xf32>) {
  %dh, %dw, %db = attn.linear_cross_entropy_grad %h, %w, %y bias(%b : tensor<203xf32>), %lse, %dl {schedule = #attn.schedule<block_m = 16, block_n = 32, block_d = 16, chip = "host">} : tensor<37x40xf32>, tensor<203x40xf32>, tensor<37xi64>, tensor<37xf32>, tensor<f32> -> tensor<37x40xf32>, tensor<203x40xf32>, tensor<203xf32>
  return %dh, %dw, %db : tensor<37x40xf32>, tensor<203x40xf32>, tensor<203xf32>
}
// The filtered form skips a tile's products when its gradient is all 0.
// TILED-LABEL: func.func @filtered_mean
// TILED: scf.for
// TILED: math.absf
// TILED: scf.if
// TILED: scf.forall
// TILED: scf.if
// TILED: return

func.func @ragged_none_all_attributes(%h: tensor<21x24xf32>, %w: tensor<70x24xf32>, %b: tensor<70xf32>, %y: tensor<21xi64>, %lse: tensor<21xf32>, %dl: tensor<21xf32>) -> (tensor<21x24xf32>, tensor<70x24xf32>, tensor<70xf32>) {
  %dh, %dw, %db = attn.linear_cross_entropy_grad %h, %w, %y bias(%b : tensor<70xf32>), %lse, %dl {ignore_index = 3 : i64, label_smoothing = 0.1 : f32, z_loss = 1.0e-2 : f32, softcap = 3.0 : f32, reduction = #attn.reduction<none>, schedule = #attn.schedule<block_m = 16, block_n = 16, block_d = 16, chip = "host">} : tensor<21x24xf32>, tensor<70x24xf32>, tensor<21xi64>, tensor<21xf32>, tensor<21xf32> -> tensor<21x24xf32>, tensor<70x24xf32>, tensor<70xf32>
  return %dh, %dw, %db : tensor<21x24xf32>, tensor<70x24xf32>, tensor<70xf32>
}

func.func @ragged_sum_i32(%h: tensor<50x32xf32>, %w: tensor<129x32xf32>, %y: tensor<50xi32>, %lse: tensor<50xf32>, %dl: tensor<f32>) -> (tensor<50x32xf32>, tensor<129x32xf32>) {
  %dh, %dw = attn.linear_cross_entropy_grad %h, %w, %y, %lse, %dl {reduction = #attn.reduction<sum>, schedule = #attn.schedule<block_m = 32, block_n = 64, block_d = 32, chip = "host">} : tensor<50x32xf32>, tensor<129x32xf32>, tensor<50xi32>, tensor<50xf32>, tensor<f32> -> tensor<50x32xf32>, tensor<129x32xf32>
  return %dh, %dw : tensor<50x32xf32>, tensor<129x32xf32>
}

// No schedule: the host default (block_m 64, block_n 128, block_d 64).
func.func @default_schedule_bf16(%h: tensor<70x64xbf16>, %w: tensor<300x64xbf16>, %b: tensor<300xbf16>, %y: tensor<70xi64>, %lse: tensor<70xf32>, %dl: tensor<f32>) -> (tensor<70x64xbf16>, tensor<300x64xbf16>, tensor<300xbf16>) {
  %dh, %dw, %db = attn.linear_cross_entropy_grad %h, %w, %y bias(%b : tensor<300xbf16>), %lse, %dl : tensor<70x64xbf16>, tensor<300x64xbf16>, tensor<70xi64>, tensor<70xf32>, tensor<f32> -> tensor<70x64xbf16>, tensor<300x64xbf16>, tensor<300xbf16>
  return %dh, %dw, %db : tensor<70x64xbf16>, tensor<300x64xbf16>, tensor<300xbf16>
}

func.func @filtered_mean(%h: tensor<37x40xf32>, %w: tensor<203x40xf32>, %b: tensor<203xf32>, %y: tensor<37xi64>, %lse: tensor<37xf32>, %dl: tensor<f32>) -> (tensor<37x40xf32>, tensor<203x40xf32>, tensor<203xf32>) {
  %dh, %dw, %db = attn.linear_cross_entropy_grad %h, %w, %y bias(%b : tensor<203xf32>), %lse, %dl {grad_filter = 0.01 : f32, schedule = #attn.schedule<block_m = 16, block_n = 32, block_d = 16, chip = "host">} : tensor<37x40xf32>, tensor<203x40xf32>, tensor<37xi64>, tensor<37xf32>, tensor<f32> -> tensor<37x40xf32>, tensor<203x40xf32>, tensor<203xf32>
  return %dh, %dw, %db : tensor<37x40xf32>, tensor<203x40xf32>, tensor<203xf32>
}
