// RUN: attn-opt %s -split-input-file -verify-diagnostics

func.func @softmax_dim_out_of_range(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{dim 2 is out of range for an input of rank 2}}
  %0 = attn.softmax %x, dim = 2 : tensor<4x8xf32> -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @softmax_negative_dim(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{dim -1 is out of range for an input of rank 2}}
  %0 = attn.log_softmax %x, dim = -1 : tensor<4x8xf32> -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @softmax_shape_mismatch(%x: tensor<4x8xf32>) -> tensor<4x9xf32> {
  // expected-error @+1 {{result dimension 1 must be 8, but is 9}}
  %0 = attn.softmax %x, dim = 1 : tensor<4x8xf32> -> tensor<4x9xf32>
  return %0 : tensor<4x9xf32>
}

// -----

func.func @softmax_element_type(%x: tensor<4x8xbf16>) -> tensor<4x8xf32> {
  // expected-error @+1 {{result element type 'f32' must match the input element type 'bf16'}}
  %0 = attn.softmax %x, dim = 1 : tensor<4x8xbf16> -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @softmax_integer_input(%x: tensor<4x8xi32>) -> tensor<4x8xi32> {
  // expected-error @+1 {{operand #0 must be ranked tensor of 16-bit float or bfloat16 type or 32-bit float values}}
  %0 = attn.softmax %x, dim = 1 : tensor<4x8xi32> -> tensor<4x8xi32>
  return %0 : tensor<4x8xi32>
}

// -----

func.func @logsumexp_keeps_dim(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{result must have rank 1, but has rank 2}}
  %0 = attn.logsumexp %x, dim = 1 : tensor<4x8xf32> -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @logsumexp_wrong_dim(%x: tensor<4x8xf32>) -> tensor<8xf32> {
  // expected-error @+1 {{result dimension 0 must be 4, but is 8}}
  %0 = attn.logsumexp %x, dim = 1 : tensor<4x8xf32> -> tensor<8xf32>
  return %0 : tensor<8xf32>
}

// -----

func.func @attention_rank(%q: tensor<8x128x64xf16>, %k: tensor<1x8x128x64xf16>,
                          %v: tensor<1x8x128x64xf16>) -> tensor<1x8x128x64xf16> {
  // expected-error @+1 {{query must have rank 4 ([B, Hq, M, D]), but has rank 3}}
  %o = attn.attention %q, %k, %v : tensor<8x128x64xf16>, tensor<1x8x128x64xf16>, tensor<1x8x128x64xf16> -> tensor<1x8x128x64xf16>
  return %o : tensor<1x8x128x64xf16>
}

// -----

func.func @attention_head_dim(%q: tensor<1x8x128x64xf16>, %k: tensor<1x8x128x32xf16>,
                              %v: tensor<1x8x128x64xf16>) -> tensor<1x8x128x64xf16> {
  // expected-error @+1 {{key dimension 3 must be 64, but is 32}}
  %o = attn.attention %q, %k, %v : tensor<1x8x128x64xf16>, tensor<1x8x128x32xf16>, tensor<1x8x128x64xf16> -> tensor<1x8x128x64xf16>
  return %o : tensor<1x8x128x64xf16>
}

// -----

func.func @attention_kv_length(%q: tensor<1x8x128x64xf16>, %k: tensor<1x8x128x64xf16>,
                               %v: tensor<1x8x100x64xf16>) -> tensor<1x8x128x64xf16> {
  // expected-error @+1 {{value dimension 2 must be 128, but is 100}}
  %o = attn.attention %q, %k, %v : tensor<1x8x128x64xf16>, tensor<1x8x128x64xf16>, tensor<1x8x100x64xf16> -> tensor<1x8x128x64xf16>
  return %o : tensor<1x8x128x64xf16>
}

// -----

func.func @attention_batch(%q: tensor<2x8x128x64xf16>, %k: tensor<1x8x128x64xf16>,
                           %v: tensor<1x8x128x64xf16>) -> tensor<2x8x128x64xf16> {
  // expected-error @+1 {{key dimension 0 must be 2, but is 1}}
  %o = attn.attention %q, %k, %v : tensor<2x8x128x64xf16>, tensor<1x8x128x64xf16>, tensor<1x8x128x64xf16> -> tensor<2x8x128x64xf16>
  return %o : tensor<2x8x128x64xf16>
}

// -----

func.func @attention_gqa(%q: tensor<1x6x128x64xf16>, %k: tensor<1x4x128x64xf16>,
                         %v: tensor<1x4x128x64xf16>) -> tensor<1x6x128x64xf16> {
  // expected-error @+1 {{query heads (6) must be a multiple of key/value heads (4)}}
  %o = attn.attention %q, %k, %v : tensor<1x6x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16> -> tensor<1x6x128x64xf16>
  return %o : tensor<1x6x128x64xf16>
}

// -----

func.func @attention_mixed_types(%q: tensor<1x8x128x64xf16>, %k: tensor<1x8x128x64xbf16>,
                                 %v: tensor<1x8x128x64xf16>) -> tensor<1x8x128x64xf16> {
  // expected-error @+1 {{query, key and value must share one element type, but have 'f16', 'bf16' and 'f16'}}
  %o = attn.attention %q, %k, %v : tensor<1x8x128x64xf16>, tensor<1x8x128x64xbf16>, tensor<1x8x128x64xf16> -> tensor<1x8x128x64xf16>
  return %o : tensor<1x8x128x64xf16>
}

// -----

func.func @attention_f64(%q: tensor<1x8x128x64xf64>, %k: tensor<1x8x128x64xf64>,
                         %v: tensor<1x8x128x64xf64>) -> tensor<1x8x128x64xf64> {
  // expected-error @+1 {{operand #0 must be ranked tensor of 16-bit float or bfloat16 type or 32-bit float values}}
  %o = attn.attention %q, %k, %v : tensor<1x8x128x64xf64>, tensor<1x8x128x64xf64>, tensor<1x8x128x64xf64> -> tensor<1x8x128x64xf64>
  return %o : tensor<1x8x128x64xf64>
}

// -----

func.func @attention_output_type(%q: tensor<1x8x128x64xf16>, %k: tensor<1x8x128x64xf16>,
                                 %v: tensor<1x8x128x64xf16>) -> tensor<1x8x128x64xf32> {
  // expected-error @+1 {{output element type 'f32' must match the query element type 'f16'}}
  %o = attn.attention %q, %k, %v : tensor<1x8x128x64xf16>, tensor<1x8x128x64xf16>, tensor<1x8x128x64xf16> -> tensor<1x8x128x64xf32>
  return %o : tensor<1x8x128x64xf32>
}

// -----

func.func @attention_output_dv(%q: tensor<1x8x128x64xf16>, %k: tensor<1x8x128x64xf16>,
                               %v: tensor<1x8x128x32xf16>) -> tensor<1x8x128x64xf16> {
  // expected-error @+1 {{output dimension 3 must be 32, but is 64}}
  %o = attn.attention %q, %k, %v : tensor<1x8x128x64xf16>, tensor<1x8x128x64xf16>, tensor<1x8x128x32xf16> -> tensor<1x8x128x64xf16>
  return %o : tensor<1x8x128x64xf16>
}

// -----

func.func @attention_lse_shape(%q: tensor<1x8x128x64xf16>, %k: tensor<1x8x128x64xf16>,
                               %v: tensor<1x8x128x64xf16>) -> tensor<1x8x64xf32> {
  // expected-error @+1 {{lse dimension 2 must be 128, but is 64}}
  %o, %lse = attn.attention %q, %k, %v : tensor<1x8x128x64xf16>, tensor<1x8x128x64xf16>, tensor<1x8x128x64xf16> -> tensor<1x8x128x64xf16>, tensor<1x8x64xf32>
  return %lse : tensor<1x8x64xf32>
}

// -----

func.func @attention_lse_type(%q: tensor<1x8x128x64xf16>, %k: tensor<1x8x128x64xf16>,
                              %v: tensor<1x8x128x64xf16>) -> tensor<1x8x128xf16> {
  // expected-error @+1 {{result #1 must be ranked tensor of 32-bit float values}}
  %o, %lse = attn.attention %q, %k, %v : tensor<1x8x128x64xf16>, tensor<1x8x128x64xf16>, tensor<1x8x128x64xf16> -> tensor<1x8x128x64xf16>, tensor<1x8x128xf16>
  return %lse : tensor<1x8x128xf16>
}

// -----

func.func @attention_negative_window(%q: tensor<1x8x128x64xf16>, %k: tensor<1x8x128x64xf16>,
                                     %v: tensor<1x8x128x64xf16>) -> tensor<1x8x128x64xf16> {
  // expected-error @+1 {{window sizes must be non-negative, but are [-1, 0]}}
  %o = attn.attention %q, %k, %v {window = array<i64: -1, 0>} : tensor<1x8x128x64xf16>, tensor<1x8x128x64xf16>, tensor<1x8x128x64xf16> -> tensor<1x8x128x64xf16>
  return %o : tensor<1x8x128x64xf16>
}

// -----

func.func @attention_window_arity(%q: tensor<1x8x128x64xf16>, %k: tensor<1x8x128x64xf16>,
                                  %v: tensor<1x8x128x64xf16>) -> tensor<1x8x128x64xf16> {
  // expected-error @+1 {{window must have two entries [left, right], but has 1}}
  %o = attn.attention %q, %k, %v {window = array<i64: 16>} : tensor<1x8x128x64xf16>, tensor<1x8x128x64xf16>, tensor<1x8x128x64xf16> -> tensor<1x8x128x64xf16>
  return %o : tensor<1x8x128x64xf16>
}

// -----

func.func @attention_softcap(%q: tensor<1x8x128x64xf16>, %k: tensor<1x8x128x64xf16>,
                             %v: tensor<1x8x128x64xf16>) -> tensor<1x8x128x64xf16> {
  // expected-error @+1 {{softcap must be a finite positive number, but is 0}}
  %o = attn.attention %q, %k, %v {softcap = 0.0 : f32} : tensor<1x8x128x64xf16>, tensor<1x8x128x64xf16>, tensor<1x8x128x64xf16> -> tensor<1x8x128x64xf16>
  return %o : tensor<1x8x128x64xf16>
}

// -----

func.func @attention_mask_rank(%q: tensor<1x8x128x64xf16>, %k: tensor<1x8x128x64xf16>,
                               %v: tensor<1x8x128x64xf16>, %m: tensor<128xi1>) -> tensor<1x8x128x64xf16> {
  // expected-error @+1 {{mask must have rank 2 ([M, N]) or 4 ([B|1, Hq|1, M, N]), but has rank 1}}
  %o = attn.attention %q, %k, %v mask(%m : tensor<128xi1>) : tensor<1x8x128x64xf16>, tensor<1x8x128x64xf16>, tensor<1x8x128x64xf16> -> tensor<1x8x128x64xf16>
  return %o : tensor<1x8x128x64xf16>
}

// -----

func.func @attention_mask_shape(%q: tensor<1x8x128x64xf16>, %k: tensor<1x8x256x64xf16>,
                                %v: tensor<1x8x256x64xf16>, %m: tensor<128x128xi1>) -> tensor<1x8x128x64xf16> {
  // expected-error @+1 {{mask dimension 1 must be 256, but is 128}}
  %o = attn.attention %q, %k, %v mask(%m : tensor<128x128xi1>) : tensor<1x8x128x64xf16>, tensor<1x8x256x64xf16>, tensor<1x8x256x64xf16> -> tensor<1x8x128x64xf16>
  return %o : tensor<1x8x128x64xf16>
}

// -----

func.func @attention_mask_broadcast(%q: tensor<2x8x128x64xf16>, %k: tensor<2x8x128x64xf16>,
                                    %v: tensor<2x8x128x64xf16>, %m: tensor<2x4x128x128xf16>) -> tensor<2x8x128x64xf16> {
  // expected-error @+1 {{mask dimensions 0 and 1 must be 1 or match the batch (2) and query heads (8)}}
  %o = attn.attention %q, %k, %v mask(%m : tensor<2x4x128x128xf16>) : tensor<2x8x128x64xf16>, tensor<2x8x128x64xf16>, tensor<2x8x128x64xf16> -> tensor<2x8x128x64xf16>
  return %o : tensor<2x8x128x64xf16>
}

// -----

func.func @attention_mask_type(%q: tensor<1x8x128x64xf16>, %k: tensor<1x8x128x64xf16>,
                               %v: tensor<1x8x128x64xf16>, %m: tensor<128x128xi8>) -> tensor<1x8x128x64xf16> {
  // expected-error @+1 {{operand #3 must be ranked tensor of 1-bit signless integer or 16-bit float or bfloat16 type or 32-bit float values}}
  %o = attn.attention %q, %k, %v mask(%m : tensor<128x128xi8>) : tensor<1x8x128x64xf16>, tensor<1x8x128x64xf16>, tensor<1x8x128x64xf16> -> tensor<1x8x128x64xf16>
  return %o : tensor<1x8x128x64xf16>
}

// -----

func.func @ce_label_smoothing(%z: tensor<8x100xf32>, %y: tensor<8xi64>) -> tensor<f32> {
  // expected-error @+1 {{label_smoothing must be in [0, 1], but is 1.5}}
  %0 = attn.cross_entropy %z, %y {label_smoothing = 1.5 : f32} : tensor<8x100xf32>, tensor<8xi64> -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @ce_negative_smoothing(%z: tensor<8x100xf32>, %y: tensor<8xi64>) -> tensor<f32> {
  // expected-error @+1 {{label_smoothing must be in [0, 1], but is -1.000000e-01}}
  %0 = attn.cross_entropy %z, %y {label_smoothing = -0.1 : f32} : tensor<8x100xf32>, tensor<8xi64> -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @ce_unknown_reduction(%z: tensor<8x100xf32>, %y: tensor<8xi64>) -> tensor<f32> {
  // expected-error @+2 {{expected ::mlir::attn::Reduction to be one of: none, sum, mean}}
  // expected-error @+1 {{failed to parse Attn_ReductionAttr parameter 'value'}}
  %0 = attn.cross_entropy %z, %y {reduction = #attn.reduction<avg>} : tensor<8x100xf32>, tensor<8xi64> -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @ce_reduction_shape(%z: tensor<8x100xf32>, %y: tensor<8xi64>) -> tensor<f32> {
  // expected-error @+1 {{loss (reduction = none) must have rank 1, but has rank 0}}
  %0 = attn.cross_entropy %z, %y {reduction = #attn.reduction<none>} : tensor<8x100xf32>, tensor<8xi64> -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @ce_mean_shape(%z: tensor<8x100xf32>, %y: tensor<8xi64>) -> tensor<8xf32> {
  // expected-error @+1 {{loss must be a rank-0 tensor for reduction = mean, but has rank 1}}
  %0 = attn.cross_entropy %z, %y : tensor<8x100xf32>, tensor<8xi64> -> tensor<8xf32>
  return %0 : tensor<8xf32>
}

// -----

func.func @ce_labels_length(%z: tensor<8x100xf32>, %y: tensor<7xi64>) -> tensor<f32> {
  // expected-error @+1 {{labels dimension 0 must be 8, but is 7}}
  %0 = attn.cross_entropy %z, %y : tensor<8x100xf32>, tensor<7xi64> -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @ce_float_labels(%z: tensor<8x100xf32>, %y: tensor<8xf32>) -> tensor<f32> {
  // expected-error @+1 {{operand #1 must be ranked tensor of 32-bit signless integer or 64-bit signless integer values}}
  %0 = attn.cross_entropy %z, %y : tensor<8x100xf32>, tensor<8xf32> -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @ce_logits_rank(%z: tensor<2x8x100xf32>, %y: tensor<8xi64>) -> tensor<f32> {
  // expected-error @+1 {{logits must have rank 2 ([N, V]), but has rank 3}}
  %0 = attn.cross_entropy %z, %y : tensor<2x8x100xf32>, tensor<8xi64> -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @ce_z_loss(%z: tensor<8x100xf32>, %y: tensor<8xi64>) -> tensor<f32> {
  // expected-error @+1 {{z_loss must be finite and non-negative, but is -1}}
  %0 = attn.cross_entropy %z, %y {z_loss = -1.0 : f32} : tensor<8x100xf32>, tensor<8xi64> -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @ce_lse_shape(%z: tensor<8x100xf32>, %y: tensor<8xi64>) -> tensor<4xf32> {
  // expected-error @+1 {{lse dimension 0 must be 8, but is 4}}
  %0, %1 = attn.cross_entropy %z, %y : tensor<8x100xf32>, tensor<8xi64> -> tensor<f32>, tensor<4xf32>
  return %1 : tensor<4xf32>
}

// -----

func.func @lce_hidden_dim(%h: tensor<16x64xbf16>, %w: tensor<1000x32xbf16>, %y: tensor<16xi64>) -> tensor<f32> {
  // expected-error @+1 {{weight dimension 1 must be 64, but is 32}}
  %0 = attn.linear_cross_entropy %h, %w, %y : tensor<16x64xbf16>, tensor<1000x32xbf16>, tensor<16xi64> -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @lce_weight_type(%h: tensor<16x64xbf16>, %w: tensor<1000x64xf32>, %y: tensor<16xi64>) -> tensor<f32> {
  // expected-error @+1 {{weight element type 'f32' must match the hidden element type 'bf16'}}
  %0 = attn.linear_cross_entropy %h, %w, %y : tensor<16x64xbf16>, tensor<1000x64xf32>, tensor<16xi64> -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @lce_bias_shape(%h: tensor<16x64xbf16>, %w: tensor<1000x64xbf16>, %b: tensor<999xbf16>, %y: tensor<16xi64>) -> tensor<f32> {
  // expected-error @+1 {{bias dimension 0 must be 1000, but is 999}}
  %0 = attn.linear_cross_entropy %h, %w, %y bias(%b : tensor<999xbf16>) : tensor<16x64xbf16>, tensor<1000x64xbf16>, tensor<16xi64> -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @lce_labels(%h: tensor<16x64xbf16>, %w: tensor<1000x64xbf16>, %y: tensor<8xi64>) -> tensor<f32> {
  // expected-error @+1 {{labels dimension 0 must be 16, but is 8}}
  %0 = attn.linear_cross_entropy %h, %w, %y : tensor<16x64xbf16>, tensor<1000x64xbf16>, tensor<8xi64> -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @schedule_block_multiple(%q: tensor<1x8x128x64xf16>, %k: tensor<1x8x128x64xf16>,
                                   %v: tensor<1x8x128x64xf16>) -> tensor<1x8x128x64xf16> {
  // expected-error @+1 {{schedule block_m must be a positive multiple of 16, but is 24}}
  %o = attn.attention %q, %k, %v {schedule = #attn.schedule<block_m = 24, block_n = 64>} : tensor<1x8x128x64xf16>, tensor<1x8x128x64xf16>, tensor<1x8x128x64xf16> -> tensor<1x8x128x64xf16>
  return %o : tensor<1x8x128x64xf16>
}

// -----

func.func @schedule_threads(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{schedule warps must be 1, 2, 4, 8 or 16, but is 64}}
  %0 = attn.softmax %x, dim = 1 {schedule = #attn.schedule<block_m = 1, block_n = 8, warps = 64>} : tensor<4x8xf32> -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @schedule_one_pass(%x: tensor<4x8192xf32>) -> tensor<4x8192xf32> {
  // expected-error @+1 {{schedule passes = 1 needs the whole row (8192) in one tile, but block_n is 1024}}
  %0 = attn.softmax %x, dim = 1 {schedule = #attn.schedule<block_m = 1, block_n = 1024, passes = 1>} : tensor<4x8192xf32> -> tensor<4x8192xf32>
  return %0 : tensor<4x8192xf32>
}

// -----

func.func @softmax_split_short(%x: tensor<4x8192xf32>) -> tensor<4x8192xf32> {
  // expected-error @+1 {{schedule passes = 1 needs the whole row (8192) in one tile, but block_n is 1024 x split 4}}
  %0 = attn.softmax %x, dim = 1 {schedule = #attn.schedule<block_m = 1, block_n = 1024, split = 4>} : tensor<4x8192xf32> -> tensor<4x8192xf32>
  return %0 : tensor<4x8192xf32>
}

// -----

func.func @softmax_split_not_power(%x: tensor<4x8192xf32>) -> tensor<4x8192xf32> {
  // expected-error @+1 {{schedule split (blocks per row, a cluster) must be 1, 2, 4 or 8, but is 3}}
  %0 = attn.softmax %x, dim = 1 {schedule = #attn.schedule<block_m = 1, block_n = 4096, split = 3>} : tensor<4x8192xf32> -> tensor<4x8192xf32>
  return %0 : tensor<4x8192xf32>
}

// -----

func.func @softmax_split_two_pass(%x: tensor<4x8192xf32>) -> tensor<4x8192xf32> {
  // expected-error @+1 {{schedule split > 1 needs passes = 1 and block_m = 1}}
  %0 = attn.softmax %x, dim = 1 {schedule = #attn.schedule<block_m = 1, block_n = 4096, split = 2, passes = 2>} : tensor<4x8192xf32> -> tensor<4x8192xf32>
  return %0 : tensor<4x8192xf32>
}

// -----

func.func @schedule_unused_field(%z: tensor<8x1000xf32>, %y: tensor<8xi64>) -> tensor<f32> {
  // expected-error @+1 {{schedule block_d does not apply to this op and must be 0, but is 64}}
  %0 = attn.cross_entropy %z, %y {schedule = #attn.schedule<block_m = 1, block_n = 512, block_d = 64>} : tensor<8x1000xf32>, tensor<8xi64> -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @schedule_chip(%z: tensor<8x1000xf32>, %y: tensor<8xi64>) -> tensor<f32> {
  // expected-error @+1 {{schedule chip 'sm_70' is not one of sm_80, sm_86, sm_89, sm_90, sm_90a, h200-sxm, sm_100a, host}}
  %0 = attn.cross_entropy %z, %y {schedule = #attn.schedule<block_m = 1, block_n = 512, chip = "sm_70">} : tensor<8x1000xf32>, tensor<8xi64> -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @schedule_split(%q: tensor<1x8x1x64xf16>, %k: tensor<1x8x128x64xf16>,
                          %v: tensor<1x8x128x64xf16>) -> tensor<1x8x1x64xf16> {
  // expected-error @+1 {{schedule split (4) exceeds the number of key tiles (2)}}
  %o = attn.attention %q, %k, %v {schedule = #attn.schedule<block_m = 16, block_n = 64, split = 4>} : tensor<1x8x1x64xf16>, tensor<1x8x128x64xf16>, tensor<1x8x128x64xf16> -> tensor<1x8x1x64xf16>
  return %o : tensor<1x8x1x64xf16>
}

// -----

func.func @schedule_lce_block_d(%h: tensor<16x64xbf16>, %w: tensor<1000x64xbf16>, %y: tensor<16xi64>) -> tensor<f32> {
  // expected-error @+1 {{schedule block_d must be a positive multiple of 16, but is 0}}
  %0 = attn.linear_cross_entropy %h, %w, %y {schedule = #attn.schedule<block_m = 16, block_n = 64>} : tensor<16x64xbf16>, tensor<1000x64xbf16>, tensor<16xi64> -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

// A window near the int64 limit would overflow the mask arithmetic.
func.func @attention_window_too_wide(%q: tensor<1x8x128x64xf16>) -> tensor<1x8x128x64xf16> {
  // expected-error @+1 {{window sizes must be at most 2147483647, but are [9223372036854775807, 0]}}
  %o = attn.attention %q, %q, %q {window = array<i64: 9223372036854775807, 0>} : tensor<1x8x128x64xf16>, tensor<1x8x128x64xf16>, tensor<1x8x128x64xf16> -> tensor<1x8x128x64xf16>
  return %o : tensor<1x8x128x64xf16>
}

// -----

// An ignore_index the i32 labels cannot hold would be truncated onto a real
// label.
func.func @ignore_index_wider_than_labels(%z: tensor<8x1000xf32>, %y: tensor<8xi32>) -> tensor<f32> {
  // expected-error @+1 {{ignore_index 4294967296 does not fit the i32 labels}}
  %0 = attn.cross_entropy %z, %y {ignore_index = 4294967296 : i64} : tensor<8x1000xf32>, tensor<8xi32> -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @lce_ignore_index_wider_than_labels(%h: tensor<16x64xbf16>, %w: tensor<100x64xbf16>, %y: tensor<16xi32>) -> tensor<f32> {
  // expected-error @+1 {{ignore_index -2147483649 does not fit the i32 labels}}
  %0 = attn.linear_cross_entropy %h, %w, %y {ignore_index = -2147483649 : i64} : tensor<16x64xbf16>, tensor<100x64xbf16>, tensor<16xi32> -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

// Static shapes whose size does not fit in int64: the element count wraps
// (here to 0, which the GPU mapping took for an empty tensor).
func.func @softmax_bytes_overflow(%x: tensor<4611686018427387904x4xf32>) -> tensor<4611686018427387904x4xf32> {
  // expected-error @+1 {{operand #0 ('tensor<4611686018427387904x4xf32>') has more than 2^63 - 1 bytes}}
  %0 = attn.softmax %x, dim = 1 : tensor<4611686018427387904x4xf32> -> tensor<4611686018427387904x4xf32>
  return %0 : tensor<4611686018427387904x4xf32>
}

// -----

// Elements fit, bytes do not (2^62 bf16 elements).
func.func @attention_bytes_overflow(%q: tensor<1x1x4611686018427387904x1xbf16>, %k: tensor<1x1x16x1xbf16>, %v: tensor<1x1x16x1xbf16>) -> tensor<1x1x4611686018427387904x1xbf16> {
  // expected-error @+1 {{operand #0 ('tensor<1x1x4611686018427387904x1xbf16>') has more than 2^63 - 1 bytes}}
  %0 = attn.attention %q, %k, %v : tensor<1x1x4611686018427387904x1xbf16>, tensor<1x1x16x1xbf16>, tensor<1x1x16x1xbf16> -> tensor<1x1x4611686018427387904x1xbf16>
  return %0 : tensor<1x1x4611686018427387904x1xbf16>
}

// -----

func.func @cross_entropy_logits_overflow(%z: tensor<3074457345618258603x2xf16>, %y: tensor<3074457345618258603xi64>) -> tensor<f32> {
  // expected-error @+1 {{operand #0 ('tensor<3074457345618258603x2xf16>') has more than 2^63 - 1 bytes}}
  %0 = attn.cross_entropy %z, %y : tensor<3074457345618258603x2xf16>, tensor<3074457345618258603xi64> -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @schedule_unknown_pipeline(%q: tensor<1x2x64x64xbf16>) -> tensor<1x2x64x64xbf16> {
  // expected-error @+1 {{schedule pipeline must be "cp_async", "tma" or "tma_pingpong", but is "bulk"}}
  %o = attn.attention %q, %q, %q {schedule = #attn.schedule<block_m = 128, block_n = 64, warps = 8, stages = 2, pipeline = "bulk">} : tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16> -> tensor<1x2x64x64xbf16>
  return %o : tensor<1x2x64x64xbf16>
}

// -----

func.func @schedule_pipeline_not_attention(%x: tensor<4x1024xf32>) -> tensor<4x1024xf32> {
  // expected-error @+1 {{schedule pipeline "tma" does not apply to this op and must be "cp_async"}}
  %y = attn.softmax %x, dim = 1 {schedule = #attn.schedule<block_m = 4, block_n = 1024, pipeline = "tma">} : tensor<4x1024xf32> -> tensor<4x1024xf32>
  return %y : tensor<4x1024xf32>
}

// -----

// A TMA pipeline on a chip without TMA: no kernel would read the field
// (the host loops ignore it), so the structure rejects it.
func.func @schedule_tma_pipeline_host(%h: tensor<128x128xbf16>, %w: tensor<1000x128xbf16>, %y: tensor<128xi64>) -> tensor<f32> {
  // expected-error @+1 {{schedule pipeline "tma" needs sm_90a's TMA and warpgroup MMA; host has neither}}
  %0 = attn.linear_cross_entropy %h, %w, %y {schedule = #attn.schedule<block_m = 64, block_n = 128, block_d = 64, warps = 4, stages = 1, pipeline = "tma", chip = "host">} : tensor<128x128xbf16>, tensor<1000x128xbf16>, tensor<128xi64> -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @schedule_pingpong_pipeline_host(%q: tensor<1x2x64x64xbf16>) -> tensor<1x2x64x64xbf16> {
  // expected-error @+1 {{schedule pipeline "tma_pingpong" needs sm_90a's TMA and warpgroup MMA; host has neither}}
  %o = attn.attention %q, %q, %q {schedule = #attn.schedule<block_m = 64, block_n = 64, warps = 4, stages = 1, pipeline = "tma_pingpong", chip = "host">} : tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16> -> tensor<1x2x64x64xbf16>
  return %o : tensor<1x2x64x64xbf16>
}
