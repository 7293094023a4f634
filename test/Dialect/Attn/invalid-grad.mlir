// RUN: attn-opt %s -split-input-file -verify-diagnostics
// Every diagnostic of the gradient ops' verifiers.

func.func @softmax_grad_dim_out_of_range(%y: tensor<4x8xf32>, %dy: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{dim 2 is out of range for an output of rank 2}}
  %0 = attn.softmax_grad %y, %dy, dim = 2 : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @log_softmax_grad_negative_dim(%y: tensor<4x8xf32>, %dy: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{dim -1 is out of range for an output of rank 2}}
  %0 = attn.log_softmax_grad %y, %dy, dim = -1 : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @softmax_grad_rank0(%y: tensor<f32>, %dy: tensor<f32>) -> tensor<f32> {
  // expected-error @+1 {{output must have rank >= 1}}
  %0 = attn.softmax_grad %y, %dy, dim = 0 : tensor<f32>, tensor<f32> -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @softmax_grad_dy_shape(%y: tensor<4x8xf32>, %dy: tensor<4x9xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{grad_output dimension 1 must be 8, but is 9}}
  %0 = attn.softmax_grad %y, %dy, dim = 1 : tensor<4x8xf32>, tensor<4x9xf32> -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @softmax_grad_dy_rank(%y: tensor<4x8xf32>, %dy: tensor<32xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{grad_output must have rank 2, but has rank 1}}
  %0 = attn.softmax_grad %y, %dy, dim = 1 : tensor<4x8xf32>, tensor<32xf32> -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @softmax_grad_dy_type(%y: tensor<4x8xbf16>, %dy: tensor<4x8xf32>) -> tensor<4x8xbf16> {
  // expected-error @+1 {{grad_output element type 'f32' must match the output element type 'bf16'}}
  %0 = attn.softmax_grad %y, %dy, dim = 1 : tensor<4x8xbf16>, tensor<4x8xf32> -> tensor<4x8xbf16>
  return %0 : tensor<4x8xbf16>
}

// -----

func.func @log_softmax_grad_result_type(%y: tensor<4x8xf16>, %dy: tensor<4x8xf16>) -> tensor<4x8xf32> {
  // expected-error @+1 {{grad_input element type 'f32' must match the output element type 'f16'}}
  %0 = attn.log_softmax_grad %y, %dy, dim = 1 : tensor<4x8xf16>, tensor<4x8xf16> -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @log_softmax_grad_result_shape(%y: tensor<4x8xf32>, %dy: tensor<4x8xf32>) -> tensor<8x4xf32> {
  // expected-error @+1 {{grad_input dimension 0 must be 4, but is 8}}
  %0 = attn.log_softmax_grad %y, %dy, dim = 1 : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<8x4xf32>
  return %0 : tensor<8x4xf32>
}

// -----

func.func @softmax_grad_integer(%y: tensor<4x8xi32>, %dy: tensor<4x8xi32>) -> tensor<4x8xi32> {
  // expected-error @+1 {{operand #0 must be ranked tensor of 16-bit float or bfloat16 type or 32-bit float values}}
  %0 = attn.softmax_grad %y, %dy, dim = 1 : tensor<4x8xi32>, tensor<4x8xi32> -> tensor<4x8xi32>
  return %0 : tensor<4x8xi32>
}

// -----

func.func @logsumexp_grad_dim(%x: tensor<4x8xf32>, %lse: tensor<4xf32>, %d: tensor<4xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{dim 5 is out of range for an input of rank 2}}
  %0 = attn.logsumexp_grad %x, %lse, %d, dim = 5 : tensor<4x8xf32>, tensor<4xf32>, tensor<4xf32> -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @logsumexp_grad_lse_shape(%x: tensor<4x8xf32>, %lse: tensor<8xf32>, %d: tensor<4xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{output dimension 0 must be 4, but is 8}}
  %0 = attn.logsumexp_grad %x, %lse, %d, dim = 1 : tensor<4x8xf32>, tensor<8xf32>, tensor<4xf32> -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @logsumexp_grad_dlse_rank(%x: tensor<4x8xf32>, %lse: tensor<4xf32>, %d: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{grad_output must have rank 1, but has rank 2}}
  %0 = attn.logsumexp_grad %x, %lse, %d, dim = 1 : tensor<4x8xf32>, tensor<4xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @logsumexp_grad_lse_bf16(%x: tensor<4x8xbf16>, %lse: tensor<4xbf16>, %d: tensor<4xf32>) -> tensor<4x8xbf16> {
  // expected-error @+1 {{operand #1 must be ranked tensor of 32-bit float values}}
  %0 = attn.logsumexp_grad %x, %lse, %d, dim = 1 : tensor<4x8xbf16>, tensor<4xbf16>, tensor<4xf32> -> tensor<4x8xbf16>
  return %0 : tensor<4x8xbf16>
}

// -----

func.func @logsumexp_grad_result_type(%x: tensor<4x8xbf16>, %lse: tensor<4xf32>, %d: tensor<4xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{grad_input element type 'f32' must match the input element type 'bf16'}}
  %0 = attn.logsumexp_grad %x, %lse, %d, dim = 1 : tensor<4x8xbf16>, tensor<4xf32>, tensor<4xf32> -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @logsumexp_grad_rank0(%x: tensor<f32>, %lse: tensor<f32>, %d: tensor<f32>) -> tensor<f32> {
  // expected-error @+1 {{input must have rank >= 1}}
  %0 = attn.logsumexp_grad %x, %lse, %d, dim = 0 : tensor<f32>, tensor<f32>, tensor<f32> -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

// softmax_grad and log_softmax_grad take the softmax family's row schedules.
func.func @softmax_grad_schedule(%y: tensor<4x8xf32>, %dy: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{schedule passes = 1 needs the whole row (8) in one tile, but block_n is 4}}
  %0 = attn.softmax_grad %y, %dy, dim = 1 {schedule = #attn.schedule<block_m = 1, block_n = 4, chip = "host">} : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

// The plan of the row kernel: a thread holds its slices of both y and dy.
func.func @softmax_grad_registers(%y: tensor<4x32768xf32>, %dy: tensor<4x32768xf32>) -> tensor<4x32768xf32> {
  // expected-error @+1 {{schedule warps (16) leave 128 row elements per thread in registers with passes = 1; the limit is 64 (use more warps, or passes = 2)}}
  %0 = attn.softmax_grad %y, %dy, dim = 1 {schedule = #attn.schedule<block_m = 1, block_n = 32768, warps = 16, chip = "sm_90a">} : tensor<4x32768xf32>, tensor<4x32768xf32> -> tensor<4x32768xf32>
  return %0 : tensor<4x32768xf32>
}

// -----

func.func @logsumexp_grad_schedule(%x: tensor<4x8xf32>, %lse: tensor<4xf32>, %d: tensor<4xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{schedule passes does not apply to this op and must be 1, but is 2}}
  %0 = attn.logsumexp_grad %x, %lse, %d, dim = 1 {schedule = #attn.schedule<passes = 2, chip = "host">} : tensor<4x8xf32>, tensor<4xf32>, tensor<4xf32> -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @softmax_grad_bytes_overflow(%y: tensor<4611686018427387904x4xf32>, %dy: tensor<4611686018427387904x4xf32>) -> tensor<4611686018427387904x4xf32> {
  // expected-error @+1 {{operand #0 ('tensor<4611686018427387904x4xf32>') has more than 2^63 - 1 bytes}}
  %0 = attn.softmax_grad %y, %dy, dim = 1 : tensor<4611686018427387904x4xf32>, tensor<4611686018427387904x4xf32> -> tensor<4611686018427387904x4xf32>
  return %0 : tensor<4611686018427387904x4xf32>
}

// -----

func.func @ce_grad_logits_rank(%z: tensor<2x8x100xf32>, %y: tensor<8xi64>, %lse: tensor<8xf32>, %d: tensor<f32>) -> tensor<2x8x100xf32> {
  // expected-error @+1 {{logits must have rank 2 ([N, V]), but has rank 3}}
  %0 = attn.cross_entropy_grad %z, %y, %lse, %d : tensor<2x8x100xf32>, tensor<8xi64>, tensor<8xf32>, tensor<f32> -> tensor<2x8x100xf32>
  return %0 : tensor<2x8x100xf32>
}

// -----

func.func @ce_grad_labels_rank(%z: tensor<8x100xf32>, %y: tensor<8x1xi64>, %lse: tensor<8xf32>, %d: tensor<f32>) -> tensor<8x100xf32> {
  // expected-error @+1 {{labels must have rank 1 ([N]), but has rank 2}}
  %0 = attn.cross_entropy_grad %z, %y, %lse, %d : tensor<8x100xf32>, tensor<8x1xi64>, tensor<8xf32>, tensor<f32> -> tensor<8x100xf32>
  return %0 : tensor<8x100xf32>
}

// -----

func.func @ce_grad_labels_length(%z: tensor<8x100xf32>, %y: tensor<7xi64>, %lse: tensor<8xf32>, %d: tensor<f32>) -> tensor<8x100xf32> {
  // expected-error @+1 {{labels dimension 0 must be 8, but is 7}}
  %0 = attn.cross_entropy_grad %z, %y, %lse, %d : tensor<8x100xf32>, tensor<7xi64>, tensor<8xf32>, tensor<f32> -> tensor<8x100xf32>
  return %0 : tensor<8x100xf32>
}

// -----

func.func @ce_grad_lse_length(%z: tensor<8x100xf32>, %y: tensor<8xi64>, %lse: tensor<4xf32>, %d: tensor<f32>) -> tensor<8x100xf32> {
  // expected-error @+1 {{lse dimension 0 must be 8, but is 4}}
  %0 = attn.cross_entropy_grad %z, %y, %lse, %d : tensor<8x100xf32>, tensor<8xi64>, tensor<4xf32>, tensor<f32> -> tensor<8x100xf32>
  return %0 : tensor<8x100xf32>
}

// -----

func.func @ce_grad_float_labels(%z: tensor<8x100xf32>, %y: tensor<8xf32>, %lse: tensor<8xf32>, %d: tensor<f32>) -> tensor<8x100xf32> {
  // expected-error @+1 {{operand #1 must be ranked tensor of 32-bit signless integer or 64-bit signless integer values}}
  %0 = attn.cross_entropy_grad %z, %y, %lse, %d : tensor<8x100xf32>, tensor<8xf32>, tensor<8xf32>, tensor<f32> -> tensor<8x100xf32>
  return %0 : tensor<8x100xf32>
}

// -----

func.func @ce_grad_label_smoothing(%z: tensor<8x100xf32>, %y: tensor<8xi64>, %lse: tensor<8xf32>, %d: tensor<f32>) -> tensor<8x100xf32> {
  // expected-error @+1 {{label_smoothing must be in [0, 1], but is 1.5}}
  %0 = attn.cross_entropy_grad %z, %y, %lse, %d {label_smoothing = 1.5 : f32} : tensor<8x100xf32>, tensor<8xi64>, tensor<8xf32>, tensor<f32> -> tensor<8x100xf32>
  return %0 : tensor<8x100xf32>
}

// -----

func.func @ce_grad_z_loss(%z: tensor<8x100xf32>, %y: tensor<8xi64>, %lse: tensor<8xf32>, %d: tensor<f32>) -> tensor<8x100xf32> {
  // expected-error @+1 {{z_loss must be finite and non-negative, but is -1}}
  %0 = attn.cross_entropy_grad %z, %y, %lse, %d {z_loss = -1.0 : f32} : tensor<8x100xf32>, tensor<8xi64>, tensor<8xf32>, tensor<f32> -> tensor<8x100xf32>
  return %0 : tensor<8x100xf32>
}

// -----

func.func @ce_grad_softcap(%z: tensor<8x100xf32>, %y: tensor<8xi64>, %lse: tensor<8xf32>, %d: tensor<f32>) -> tensor<8x100xf32> {
  // expected-error @+1 {{softcap must be a finite positive number, but is -3}}
  %0 = attn.cross_entropy_grad %z, %y, %lse, %d {softcap = -3.0 : f32} : tensor<8x100xf32>, tensor<8xi64>, tensor<8xf32>, tensor<f32> -> tensor<8x100xf32>
  return %0 : tensor<8x100xf32>
}

// -----

func.func @ce_grad_ignore_index_i32(%z: tensor<8x100xf32>, %y: tensor<8xi32>, %lse: tensor<8xf32>, %d: tensor<f32>) -> tensor<8x100xf32> {
  // expected-error @+1 {{ignore_index 4294967296 does not fit the i32 labels}}
  %0 = attn.cross_entropy_grad %z, %y, %lse, %d {ignore_index = 4294967296 : i64} : tensor<8x100xf32>, tensor<8xi32>, tensor<8xf32>, tensor<f32> -> tensor<8x100xf32>
  return %0 : tensor<8x100xf32>
}

// -----

func.func @ce_grad_ignore_index_i32_low(%z: tensor<8x100xf32>, %y: tensor<8xi32>, %lse: tensor<8xf32>, %d: tensor<f32>) -> tensor<8x100xf32> {
  // expected-error @+1 {{ignore_index -2147483649 does not fit the i32 labels}}
  %0 = attn.cross_entropy_grad %z, %y, %lse, %d {ignore_index = -2147483649 : i64} : tensor<8x100xf32>, tensor<8xi32>, tensor<8xf32>, tensor<f32> -> tensor<8x100xf32>
  return %0 : tensor<8x100xf32>
}

// -----

func.func @ce_grad_none_scalar(%z: tensor<8x100xf32>, %y: tensor<8xi64>, %lse: tensor<8xf32>, %d: tensor<f32>) -> tensor<8x100xf32> {
  // expected-error @+1 {{grad_loss (reduction = none) must have rank 1, but has rank 0}}
  %0 = attn.cross_entropy_grad %z, %y, %lse, %d {reduction = #attn.reduction<none>} : tensor<8x100xf32>, tensor<8xi64>, tensor<8xf32>, tensor<f32> -> tensor<8x100xf32>
  return %0 : tensor<8x100xf32>
}

// -----

func.func @ce_grad_none_length(%z: tensor<8x100xf32>, %y: tensor<8xi64>, %lse: tensor<8xf32>, %d: tensor<4xf32>) -> tensor<8x100xf32> {
  // expected-error @+1 {{grad_loss (reduction = none) dimension 0 must be 8, but is 4}}
  %0 = attn.cross_entropy_grad %z, %y, %lse, %d {reduction = #attn.reduction<none>} : tensor<8x100xf32>, tensor<8xi64>, tensor<8xf32>, tensor<4xf32> -> tensor<8x100xf32>
  return %0 : tensor<8x100xf32>
}

// -----

func.func @ce_grad_mean_per_token(%z: tensor<8x100xf32>, %y: tensor<8xi64>, %lse: tensor<8xf32>, %d: tensor<8xf32>) -> tensor<8x100xf32> {
  // expected-error @+1 {{grad_loss must be a rank-0 tensor for reduction = mean, but has rank 1}}
  %0 = attn.cross_entropy_grad %z, %y, %lse, %d : tensor<8x100xf32>, tensor<8xi64>, tensor<8xf32>, tensor<8xf32> -> tensor<8x100xf32>
  return %0 : tensor<8x100xf32>
}

// -----

func.func @ce_grad_sum_per_token(%z: tensor<8x100xf32>, %y: tensor<8xi64>, %lse: tensor<8xf32>, %d: tensor<8xf32>) -> tensor<8x100xf32> {
  // expected-error @+1 {{grad_loss must be a rank-0 tensor for reduction = sum, but has rank 1}}
  %0 = attn.cross_entropy_grad %z, %y, %lse, %d {reduction = #attn.reduction<sum>} : tensor<8x100xf32>, tensor<8xi64>, tensor<8xf32>, tensor<8xf32> -> tensor<8x100xf32>
  return %0 : tensor<8x100xf32>
}

// -----

func.func @ce_grad_result_type(%z: tensor<8x100xbf16>, %y: tensor<8xi64>, %lse: tensor<8xf32>, %d: tensor<f32>) -> tensor<8x100xf32> {
  // expected-error @+1 {{grad_logits element type 'f32' must match the logits element type 'bf16'}}
  %0 = attn.cross_entropy_grad %z, %y, %lse, %d : tensor<8x100xbf16>, tensor<8xi64>, tensor<8xf32>, tensor<f32> -> tensor<8x100xf32>
  return %0 : tensor<8x100xf32>
}

// -----

func.func @ce_grad_result_shape(%z: tensor<8x100xf32>, %y: tensor<8xi64>, %lse: tensor<8xf32>, %d: tensor<f32>) -> tensor<8x99xf32> {
  // expected-error @+1 {{grad_logits dimension 1 must be 100, but is 99}}
  %0 = attn.cross_entropy_grad %z, %y, %lse, %d : tensor<8x100xf32>, tensor<8xi64>, tensor<8xf32>, tensor<f32> -> tensor<8x99xf32>
  return %0 : tensor<8x99xf32>
}

// -----

func.func @ce_grad_lse_bf16(%z: tensor<8x100xbf16>, %y: tensor<8xi64>, %lse: tensor<8xbf16>, %d: tensor<f32>) -> tensor<8x100xbf16> {
  // expected-error @+1 {{operand #2 must be ranked tensor of 32-bit float values}}
  %0 = attn.cross_entropy_grad %z, %y, %lse, %d : tensor<8x100xbf16>, tensor<8xi64>, tensor<8xbf16>, tensor<f32> -> tensor<8x100xbf16>
  return %0 : tensor<8x100xbf16>
}

// -----

func.func @ce_grad_schedule(%z: tensor<8x100xf32>, %y: tensor<8xi64>, %lse: tensor<8xf32>, %d: tensor<f32>) -> tensor<8x100xf32> {
  // expected-error @+1 {{schedule split does not apply to this op and must be 1, but is 2}}
  %0 = attn.cross_entropy_grad %z, %y, %lse, %d {schedule = #attn.schedule<split = 2>} : tensor<8x100xf32>, tensor<8xi64>, tensor<8xf32>, tensor<f32> -> tensor<8x100xf32>
  return %0 : tensor<8x100xf32>
}

// -----

func.func @ce_grad_schedule_chip(%z: tensor<8x100xf32>, %y: tensor<8xi64>, %lse: tensor<8xf32>, %d: tensor<f32>) -> tensor<8x100xf32> {
  // expected-error @+1 {{schedule chip 'sm_70' is not one of sm_80, sm_86, sm_89, sm_90, sm_90a, h200-sxm, sm_100a, host}}
  %0 = attn.cross_entropy_grad %z, %y, %lse, %d {schedule = #attn.schedule<chip = "sm_70">} : tensor<8x100xf32>, tensor<8xi64>, tensor<8xf32>, tensor<f32> -> tensor<8x100xf32>
  return %0 : tensor<8x100xf32>
}

// -----

func.func @attention_grad_query_rank(%q: tensor<8x128x64xf16>, %k: tensor<1x8x128x64xf16>, %v: tensor<1x8x128x64xf16>, %o: tensor<1x8x128x64xf16>, %lse: tensor<1x8x128xf32>, %do: tensor<1x8x128x64xf16>) -> tensor<1x8x128x64xf16> {
  // expected-error @+1 {{query must have rank 4 ([B, Hq, M, D]), but has rank 3}}
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do : tensor<8x128x64xf16>, tensor<1x8x128x64xf16>, tensor<1x8x128x64xf16>, tensor<1x8x128x64xf16>, tensor<1x8x128xf32>, tensor<1x8x128x64xf16> -> tensor<8x128x64xf16>, tensor<1x8x128x64xf16>, tensor<1x8x128x64xf16>
  return %dk : tensor<1x8x128x64xf16>
}

// -----

func.func @attention_grad_gqa(%q: tensor<1x6x16x8xf16>, %k: tensor<1x4x16x8xf16>, %v: tensor<1x4x16x8xf16>, %o: tensor<1x6x16x8xf16>, %lse: tensor<1x6x16xf32>, %do: tensor<1x6x16x8xf16>) -> tensor<1x6x16x8xf16> {
  // expected-error @+1 {{query heads (6) must be a multiple of key/value heads (4)}}
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do : tensor<1x6x16x8xf16>, tensor<1x4x16x8xf16>, tensor<1x4x16x8xf16>, tensor<1x6x16x8xf16>, tensor<1x6x16xf32>, tensor<1x6x16x8xf16> -> tensor<1x6x16x8xf16>, tensor<1x4x16x8xf16>, tensor<1x4x16x8xf16>
  return %dq : tensor<1x6x16x8xf16>
}

// -----

func.func @attention_grad_output_shape(%q: tensor<1x2x16x8xf16>, %k: tensor<1x2x16x8xf16>, %v: tensor<1x2x16x4xf16>, %o: tensor<1x2x16x8xf16>, %lse: tensor<1x2x16xf32>, %do: tensor<1x2x16x8xf16>) -> tensor<1x2x16x8xf16> {
  // expected-error @+1 {{output dimension 3 must be 4, but is 8}}
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do : tensor<1x2x16x8xf16>, tensor<1x2x16x8xf16>, tensor<1x2x16x4xf16>, tensor<1x2x16x8xf16>, tensor<1x2x16xf32>, tensor<1x2x16x8xf16> -> tensor<1x2x16x8xf16>, tensor<1x2x16x8xf16>, tensor<1x2x16x4xf16>
  return %dq : tensor<1x2x16x8xf16>
}

// -----

func.func @attention_grad_output_type(%q: tensor<1x2x16x8xf16>, %k: tensor<1x2x16x8xf16>, %v: tensor<1x2x16x8xf16>, %o: tensor<1x2x16x8xf32>, %lse: tensor<1x2x16xf32>, %do: tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf16> {
  // expected-error @+1 {{output element type 'f32' must match the query element type 'f16'}}
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do : tensor<1x2x16x8xf16>, tensor<1x2x16x8xf16>, tensor<1x2x16x8xf16>, tensor<1x2x16x8xf32>, tensor<1x2x16xf32>, tensor<1x2x16x8xf32> -> tensor<1x2x16x8xf16>, tensor<1x2x16x8xf16>, tensor<1x2x16x8xf16>
  return %dq : tensor<1x2x16x8xf16>
}

// -----

func.func @attention_grad_do_shape(%q: tensor<1x2x16x8xf16>, %k: tensor<1x2x16x8xf16>, %v: tensor<1x2x16x8xf16>, %o: tensor<1x2x16x8xf16>, %lse: tensor<1x2x16xf32>, %do: tensor<1x2x15x8xf16>) -> tensor<1x2x16x8xf16> {
  // expected-error @+1 {{grad_output dimension 2 must be 16, but is 15}}
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do : tensor<1x2x16x8xf16>, tensor<1x2x16x8xf16>, tensor<1x2x16x8xf16>, tensor<1x2x16x8xf16>, tensor<1x2x16xf32>, tensor<1x2x15x8xf16> -> tensor<1x2x16x8xf16>, tensor<1x2x16x8xf16>, tensor<1x2x16x8xf16>
  return %dq : tensor<1x2x16x8xf16>
}

// -----

func.func @attention_grad_lse_shape(%q: tensor<1x2x16x8xf16>, %k: tensor<1x2x16x8xf16>, %v: tensor<1x2x16x8xf16>, %o: tensor<1x2x16x8xf16>, %lse: tensor<1x2x8xf32>, %do: tensor<1x2x16x8xf16>) -> tensor<1x2x16x8xf16> {
  // expected-error @+1 {{lse dimension 2 must be 16, but is 8}}
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do : tensor<1x2x16x8xf16>, tensor<1x2x16x8xf16>, tensor<1x2x16x8xf16>, tensor<1x2x16x8xf16>, tensor<1x2x8xf32>, tensor<1x2x16x8xf16> -> tensor<1x2x16x8xf16>, tensor<1x2x16x8xf16>, tensor<1x2x16x8xf16>
  return %dq : tensor<1x2x16x8xf16>
}

// -----

func.func @attention_grad_dk_type(%q: tensor<1x2x16x8xf16>, %k: tensor<1x2x16x8xf16>, %v: tensor<1x2x16x8xf16>, %o: tensor<1x2x16x8xf16>, %lse: tensor<1x2x16xf32>, %do: tensor<1x2x16x8xf16>) -> tensor<1x2x16x8xf16> {
  // expected-error @+1 {{grad_key element type 'f32' must match the key element type 'f16'}}
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do : tensor<1x2x16x8xf16>, tensor<1x2x16x8xf16>, tensor<1x2x16x8xf16>, tensor<1x2x16x8xf16>, tensor<1x2x16xf32>, tensor<1x2x16x8xf16> -> tensor<1x2x16x8xf16>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf16>
  return %dq : tensor<1x2x16x8xf16>
}

// -----

func.func @attention_grad_dq_shape(%q: tensor<1x2x16x8xf16>, %k: tensor<1x2x16x8xf16>, %v: tensor<1x2x16x8xf16>, %o: tensor<1x2x16x8xf16>, %lse: tensor<1x2x16xf32>, %do: tensor<1x2x16x8xf16>) -> tensor<1x2x16x4xf16> {
  // expected-error @+1 {{grad_query dimension 3 must be 8, but is 4}}
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do : tensor<1x2x16x8xf16>, tensor<1x2x16x8xf16>, tensor<1x2x16x8xf16>, tensor<1x2x16x8xf16>, tensor<1x2x16xf32>, tensor<1x2x16x8xf16> -> tensor<1x2x16x4xf16>, tensor<1x2x16x8xf16>, tensor<1x2x16x8xf16>
  return %dq : tensor<1x2x16x4xf16>
}

// -----

func.func @attention_grad_dv_shape(%q: tensor<1x2x16x8xf16>, %k: tensor<1x2x16x8xf16>, %v: tensor<1x2x16x8xf16>, %o: tensor<1x2x16x8xf16>, %lse: tensor<1x2x16xf32>, %do: tensor<1x2x16x8xf16>) -> tensor<1x2x17x8xf16> {
  // expected-error @+1 {{grad_value dimension 2 must be 16, but is 17}}
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do : tensor<1x2x16x8xf16>, tensor<1x2x16x8xf16>, tensor<1x2x16x8xf16>, tensor<1x2x16x8xf16>, tensor<1x2x16xf32>, tensor<1x2x16x8xf16> -> tensor<1x2x16x8xf16>, tensor<1x2x16x8xf16>, tensor<1x2x17x8xf16>
  return %dv : tensor<1x2x17x8xf16>
}

// -----

func.func @attention_grad_window(%q: tensor<1x2x16x8xf16>, %k: tensor<1x2x16x8xf16>, %v: tensor<1x2x16x8xf16>, %o: tensor<1x2x16x8xf16>, %lse: tensor<1x2x16xf32>, %do: tensor<1x2x16x8xf16>) -> tensor<1x2x16x8xf16> {
  // expected-error @+1 {{window sizes must be non-negative, but are [-1, 0]}}
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do {window = array<i64: -1, 0>} : tensor<1x2x16x8xf16>, tensor<1x2x16x8xf16>, tensor<1x2x16x8xf16>, tensor<1x2x16x8xf16>, tensor<1x2x16xf32>, tensor<1x2x16x8xf16> -> tensor<1x2x16x8xf16>, tensor<1x2x16x8xf16>, tensor<1x2x16x8xf16>
  return %dq : tensor<1x2x16x8xf16>
}

// -----

func.func @attention_grad_window_wide(%q: tensor<1x2x16x8xf16>, %k: tensor<1x2x16x8xf16>, %v: tensor<1x2x16x8xf16>, %o: tensor<1x2x16x8xf16>, %lse: tensor<1x2x16xf32>, %do: tensor<1x2x16x8xf16>) -> tensor<1x2x16x8xf16> {
  // expected-error @+1 {{window sizes must be at most 2147483647, but are [0, 2147483648]}}
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do {window = array<i64: 0, 2147483648>} : tensor<1x2x16x8xf16>, tensor<1x2x16x8xf16>, tensor<1x2x16x8xf16>, tensor<1x2x16x8xf16>, tensor<1x2x16xf32>, tensor<1x2x16x8xf16> -> tensor<1x2x16x8xf16>, tensor<1x2x16x8xf16>, tensor<1x2x16x8xf16>
  return %dq : tensor<1x2x16x8xf16>
}

// -----

func.func @attention_grad_window_entries(%q: tensor<1x2x16x8xf16>, %k: tensor<1x2x16x8xf16>, %v: tensor<1x2x16x8xf16>, %o: tensor<1x2x16x8xf16>, %lse: tensor<1x2x16xf32>, %do: tensor<1x2x16x8xf16>) -> tensor<1x2x16x8xf16> {
  // expected-error @+1 {{window must have two entries [left, right], but has 1}}
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do {window = array<i64: 4>} : tensor<1x2x16x8xf16>, tensor<1x2x16x8xf16>, tensor<1x2x16x8xf16>, tensor<1x2x16x8xf16>, tensor<1x2x16xf32>, tensor<1x2x16x8xf16> -> tensor<1x2x16x8xf16>, tensor<1x2x16x8xf16>, tensor<1x2x16x8xf16>
  return %dq : tensor<1x2x16x8xf16>
}

// -----

func.func @attention_grad_softcap(%q: tensor<1x2x16x8xf16>, %k: tensor<1x2x16x8xf16>, %v: tensor<1x2x16x8xf16>, %o: tensor<1x2x16x8xf16>, %lse: tensor<1x2x16xf32>, %do: tensor<1x2x16x8xf16>) -> tensor<1x2x16x8xf16> {
  // expected-error @+1 {{softcap must be a finite positive number, but is 0}}
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do {softcap = 0.0 : f32} : tensor<1x2x16x8xf16>, tensor<1x2x16x8xf16>, tensor<1x2x16x8xf16>, tensor<1x2x16x8xf16>, tensor<1x2x16xf32>, tensor<1x2x16x8xf16> -> tensor<1x2x16x8xf16>, tensor<1x2x16x8xf16>, tensor<1x2x16x8xf16>
  return %dq : tensor<1x2x16x8xf16>
}

// -----

func.func @attention_grad_scale(%q: tensor<1x2x16x8xf16>, %k: tensor<1x2x16x8xf16>, %v: tensor<1x2x16x8xf16>, %o: tensor<1x2x16x8xf16>, %lse: tensor<1x2x16xf32>, %do: tensor<1x2x16x8xf16>) -> tensor<1x2x16x8xf16> {
  // expected-error @+1 {{scale must be finite}}
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do {scale = 0x7F800000 : f32} : tensor<1x2x16x8xf16>, tensor<1x2x16x8xf16>, tensor<1x2x16x8xf16>, tensor<1x2x16x8xf16>, tensor<1x2x16xf32>, tensor<1x2x16x8xf16> -> tensor<1x2x16x8xf16>, tensor<1x2x16x8xf16>, tensor<1x2x16x8xf16>
  return %dq : tensor<1x2x16x8xf16>
}

// -----

func.func @attention_grad_mask_shape(%q: tensor<1x2x16x8xf16>, %k: tensor<1x2x16x8xf16>, %v: tensor<1x2x16x8xf16>, %o: tensor<1x2x16x8xf16>, %lse: tensor<1x2x16xf32>, %do: tensor<1x2x16x8xf16>, %m: tensor<16x15xi1>) -> tensor<1x2x16x8xf16> {
  // expected-error @+1 {{mask dimension 1 must be 16, but is 15}}
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do mask(%m : tensor<16x15xi1>) : tensor<1x2x16x8xf16>, tensor<1x2x16x8xf16>, tensor<1x2x16x8xf16>, tensor<1x2x16x8xf16>, tensor<1x2x16xf32>, tensor<1x2x16x8xf16> -> tensor<1x2x16x8xf16>, tensor<1x2x16x8xf16>, tensor<1x2x16x8xf16>
  return %dq : tensor<1x2x16x8xf16>
}

// -----

func.func @attention_grad_schedule(%q: tensor<1x2x16x8xf16>, %k: tensor<1x2x16x8xf16>, %v: tensor<1x2x16x8xf16>, %o: tensor<1x2x16x8xf16>, %lse: tensor<1x2x16xf32>, %do: tensor<1x2x16x8xf16>) -> tensor<1x2x16x8xf16> {
  // expected-error @+1 {{schedule block_n must be a positive multiple of 16, but is 0}}
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do {schedule = #attn.schedule<block_m = 64>} : tensor<1x2x16x8xf16>, tensor<1x2x16x8xf16>, tensor<1x2x16x8xf16>, tensor<1x2x16x8xf16>, tensor<1x2x16xf32>, tensor<1x2x16x8xf16> -> tensor<1x2x16x8xf16>, tensor<1x2x16x8xf16>, tensor<1x2x16x8xf16>
  return %dq : tensor<1x2x16x8xf16>
}

// -----

func.func @lce_grad_hidden_rank(%h: tensor<2x8x64xf32>, %w: tensor<100x64xf32>, %y: tensor<8xi64>, %lse: tensor<8xf32>, %dl: tensor<f32>) -> tensor<2x8x64xf32> {
  // expected-error @+1 {{hidden must have rank 2 ([N, D]), but has rank 3}}
  %dh, %dw = attn.linear_cross_entropy_grad %h, %w, %y, %lse, %dl : tensor<2x8x64xf32>, tensor<100x64xf32>, tensor<8xi64>, tensor<8xf32>, tensor<f32> -> tensor<2x8x64xf32>, tensor<100x64xf32>
  return %dh : tensor<2x8x64xf32>
}

// -----

func.func @lce_grad_weight_rank(%h: tensor<8x64xf32>, %w: tensor<6400xf32>, %y: tensor<8xi64>, %lse: tensor<8xf32>, %dl: tensor<f32>) -> tensor<8x64xf32> {
  // expected-error @+1 {{weight must have rank 2 ([V, D]), but has rank 1}}
  %dh, %dw = attn.linear_cross_entropy_grad %h, %w, %y, %lse, %dl : tensor<8x64xf32>, tensor<6400xf32>, tensor<8xi64>, tensor<8xf32>, tensor<f32> -> tensor<8x64xf32>, tensor<6400xf32>
  return %dh : tensor<8x64xf32>
}

// -----

func.func @lce_grad_labels_rank(%h: tensor<8x64xf32>, %w: tensor<100x64xf32>, %y: tensor<8x1xi64>, %lse: tensor<8xf32>, %dl: tensor<f32>) -> tensor<8x64xf32> {
  // expected-error @+1 {{labels must have rank 1 ([N]), but has rank 2}}
  %dh, %dw = attn.linear_cross_entropy_grad %h, %w, %y, %lse, %dl : tensor<8x64xf32>, tensor<100x64xf32>, tensor<8x1xi64>, tensor<8xf32>, tensor<f32> -> tensor<8x64xf32>, tensor<100x64xf32>
  return %dh : tensor<8x64xf32>
}

// -----

func.func @lce_grad_weight_type(%h: tensor<8x64xf32>, %w: tensor<100x64xbf16>, %y: tensor<8xi64>, %lse: tensor<8xf32>, %dl: tensor<f32>) -> tensor<8x64xf32> {
  // expected-error @+1 {{weight element type 'bf16' must match the hidden element type 'f32'}}
  %dh, %dw = attn.linear_cross_entropy_grad %h, %w, %y, %lse, %dl : tensor<8x64xf32>, tensor<100x64xbf16>, tensor<8xi64>, tensor<8xf32>, tensor<f32> -> tensor<8x64xf32>, tensor<100x64xbf16>
  return %dh : tensor<8x64xf32>
}

// -----

func.func @lce_grad_weight_dim(%h: tensor<8x64xf32>, %w: tensor<100x32xf32>, %y: tensor<8xi64>, %lse: tensor<8xf32>, %dl: tensor<f32>) -> tensor<8x64xf32> {
  // expected-error @+1 {{weight dimension 1 must be 64, but is 32}}
  %dh, %dw = attn.linear_cross_entropy_grad %h, %w, %y, %lse, %dl : tensor<8x64xf32>, tensor<100x32xf32>, tensor<8xi64>, tensor<8xf32>, tensor<f32> -> tensor<8x64xf32>, tensor<100x32xf32>
  return %dh : tensor<8x64xf32>
}

// -----

func.func @lce_grad_labels_length(%h: tensor<8x64xf32>, %w: tensor<100x64xf32>, %y: tensor<7xi64>, %lse: tensor<8xf32>, %dl: tensor<f32>) -> tensor<8x64xf32> {
  // expected-error @+1 {{labels dimension 0 must be 8, but is 7}}
  %dh, %dw = attn.linear_cross_entropy_grad %h, %w, %y, %lse, %dl : tensor<8x64xf32>, tensor<100x64xf32>, tensor<7xi64>, tensor<8xf32>, tensor<f32> -> tensor<8x64xf32>, tensor<100x64xf32>
  return %dh : tensor<8x64xf32>
}

// -----

func.func @lce_grad_bias_type(%h: tensor<8x64xf32>, %w: tensor<100x64xf32>, %y: tensor<8xi64>, %b: tensor<100xbf16>, %lse: tensor<8xf32>, %dl: tensor<f32>) -> tensor<8x64xf32> {
  // expected-error @+1 {{bias element type 'bf16' must match the hidden element type 'f32'}}
  %dh, %dw, %db = attn.linear_cross_entropy_grad %h, %w, %y bias(%b : tensor<100xbf16>), %lse, %dl : tensor<8x64xf32>, tensor<100x64xf32>, tensor<8xi64>, tensor<8xf32>, tensor<f32> -> tensor<8x64xf32>, tensor<100x64xf32>, tensor<100xbf16>
  return %dh : tensor<8x64xf32>
}

// -----

func.func @lce_grad_bias_length(%h: tensor<8x64xf32>, %w: tensor<100x64xf32>, %y: tensor<8xi64>, %b: tensor<99xf32>, %lse: tensor<8xf32>, %dl: tensor<f32>) -> tensor<8x64xf32> {
  // expected-error @+1 {{bias dimension 0 must be 100, but is 99}}
  %dh, %dw, %db = attn.linear_cross_entropy_grad %h, %w, %y bias(%b : tensor<99xf32>), %lse, %dl : tensor<8x64xf32>, tensor<100x64xf32>, tensor<8xi64>, tensor<8xf32>, tensor<f32> -> tensor<8x64xf32>, tensor<100x64xf32>, tensor<99xf32>
  return %dh : tensor<8x64xf32>
}

// -----

func.func @lce_grad_lse_length(%h: tensor<8x64xf32>, %w: tensor<100x64xf32>, %y: tensor<8xi64>, %lse: tensor<4xf32>, %dl: tensor<f32>) -> tensor<8x64xf32> {
  // expected-error @+1 {{lse dimension 0 must be 8, but is 4}}
  %dh, %dw = attn.linear_cross_entropy_grad %h, %w, %y, %lse, %dl : tensor<8x64xf32>, tensor<100x64xf32>, tensor<8xi64>, tensor<4xf32>, tensor<f32> -> tensor<8x64xf32>, tensor<100x64xf32>
  return %dh : tensor<8x64xf32>
}

// -----

func.func @lce_grad_label_smoothing(%h: tensor<8x64xf32>, %w: tensor<100x64xf32>, %y: tensor<8xi64>, %lse: tensor<8xf32>, %dl: tensor<f32>) -> tensor<8x64xf32> {
  // expected-error @+1 {{label_smoothing must be in [0, 1], but is 1.5}}
  %dh, %dw = attn.linear_cross_entropy_grad %h, %w, %y, %lse, %dl {label_smoothing = 1.5 : f32} : tensor<8x64xf32>, tensor<100x64xf32>, tensor<8xi64>, tensor<8xf32>, tensor<f32> -> tensor<8x64xf32>, tensor<100x64xf32>
  return %dh : tensor<8x64xf32>
}

// -----

func.func @lce_grad_z_loss(%h: tensor<8x64xf32>, %w: tensor<100x64xf32>, %y: tensor<8xi64>, %lse: tensor<8xf32>, %dl: tensor<f32>) -> tensor<8x64xf32> {
  // expected-error @+1 {{z_loss must be finite and non-negative, but is -1}}
  %dh, %dw = attn.linear_cross_entropy_grad %h, %w, %y, %lse, %dl {z_loss = -1.0 : f32} : tensor<8x64xf32>, tensor<100x64xf32>, tensor<8xi64>, tensor<8xf32>, tensor<f32> -> tensor<8x64xf32>, tensor<100x64xf32>
  return %dh : tensor<8x64xf32>
}

// -----

func.func @lce_grad_softcap(%h: tensor<8x64xf32>, %w: tensor<100x64xf32>, %y: tensor<8xi64>, %lse: tensor<8xf32>, %dl: tensor<f32>) -> tensor<8x64xf32> {
  // expected-error @+1 {{softcap must be a finite positive number, but is -3}}
  %dh, %dw = attn.linear_cross_entropy_grad %h, %w, %y, %lse, %dl {softcap = -3.0 : f32} : tensor<8x64xf32>, tensor<100x64xf32>, tensor<8xi64>, tensor<8xf32>, tensor<f32> -> tensor<8x64xf32>, tensor<100x64xf32>
  return %dh : tensor<8x64xf32>
}

// -----

func.func @lce_grad_ignore_index_i32(%h: tensor<8x64xf32>, %w: tensor<100x64xf32>, %y: tensor<8xi32>, %lse: tensor<8xf32>, %dl: tensor<f32>) -> tensor<8x64xf32> {
  // expected-error @+1 {{ignore_index 4294967296 does not fit the i32 labels}}
  %dh, %dw = attn.linear_cross_entropy_grad %h, %w, %y, %lse, %dl {ignore_index = 4294967296 : i64} : tensor<8x64xf32>, tensor<100x64xf32>, tensor<8xi32>, tensor<8xf32>, tensor<f32> -> tensor<8x64xf32>, tensor<100x64xf32>
  return %dh : tensor<8x64xf32>
}

// -----

func.func @lce_grad_ignore_index_i32_low(%h: tensor<8x64xf32>, %w: tensor<100x64xf32>, %y: tensor<8xi32>, %lse: tensor<8xf32>, %dl: tensor<f32>) -> tensor<8x64xf32> {
  // expected-error @+1 {{ignore_index -2147483649 does not fit the i32 labels}}
  %dh, %dw = attn.linear_cross_entropy_grad %h, %w, %y, %lse, %dl {ignore_index = -2147483649 : i64} : tensor<8x64xf32>, tensor<100x64xf32>, tensor<8xi32>, tensor<8xf32>, tensor<f32> -> tensor<8x64xf32>, tensor<100x64xf32>
  return %dh : tensor<8x64xf32>
}

// -----

func.func @lce_grad_none_scalar(%h: tensor<8x64xf32>, %w: tensor<100x64xf32>, %y: tensor<8xi64>, %lse: tensor<8xf32>, %dl: tensor<f32>) -> tensor<8x64xf32> {
  // expected-error @+1 {{grad_loss (reduction = none) must have rank 1, but has rank 0}}
  %dh, %dw = attn.linear_cross_entropy_grad %h, %w, %y, %lse, %dl {reduction = #attn.reduction<none>} : tensor<8x64xf32>, tensor<100x64xf32>, tensor<8xi64>, tensor<8xf32>, tensor<f32> -> tensor<8x64xf32>, tensor<100x64xf32>
  return %dh : tensor<8x64xf32>
}

// -----

func.func @lce_grad_none_length(%h: tensor<8x64xf32>, %w: tensor<100x64xf32>, %y: tensor<8xi64>, %lse: tensor<8xf32>, %dl: tensor<4xf32>) -> tensor<8x64xf32> {
  // expected-error @+1 {{grad_loss (reduction = none) dimension 0 must be 8, but is 4}}
  %dh, %dw = attn.linear_cross_entropy_grad %h, %w, %y, %lse, %dl {reduction = #attn.reduction<none>} : tensor<8x64xf32>, tensor<100x64xf32>, tensor<8xi64>, tensor<8xf32>, tensor<4xf32> -> tensor<8x64xf32>, tensor<100x64xf32>
  return %dh : tensor<8x64xf32>
}

// -----

func.func @lce_grad_sum_per_token(%h: tensor<8x64xf32>, %w: tensor<100x64xf32>, %y: tensor<8xi64>, %lse: tensor<8xf32>, %dl: tensor<8xf32>) -> tensor<8x64xf32> {
  // expected-error @+1 {{grad_loss must be a rank-0 tensor for reduction = sum, but has rank 1}}
  %dh, %dw = attn.linear_cross_entropy_grad %h, %w, %y, %lse, %dl {reduction = #attn.reduction<sum>} : tensor<8x64xf32>, tensor<100x64xf32>, tensor<8xi64>, tensor<8xf32>, tensor<8xf32> -> tensor<8x64xf32>, tensor<100x64xf32>
  return %dh : tensor<8x64xf32>
}

// -----

func.func @lce_grad_bias_without_grad_bias(%h: tensor<8x64xf32>, %w: tensor<100x64xf32>, %y: tensor<8xi64>, %b: tensor<100xf32>, %lse: tensor<8xf32>, %dl: tensor<f32>) -> tensor<8x64xf32> {
  // expected-error @+1 {{grad_bias must be a result exactly when bias is an operand, but the op has a bias and no grad_bias}}
  %dh, %dw = attn.linear_cross_entropy_grad %h, %w, %y bias(%b : tensor<100xf32>), %lse, %dl : tensor<8x64xf32>, tensor<100x64xf32>, tensor<8xi64>, tensor<8xf32>, tensor<f32> -> tensor<8x64xf32>, tensor<100x64xf32>
  return %dh : tensor<8x64xf32>
}

// -----

func.func @lce_grad_grad_bias_without_bias(%h: tensor<8x64xf32>, %w: tensor<100x64xf32>, %y: tensor<8xi64>, %lse: tensor<8xf32>, %dl: tensor<f32>) -> tensor<8x64xf32> {
  // expected-error @+1 {{grad_bias must be a result exactly when bias is an operand, but the op has a grad_bias and no bias}}
  %dh, %dw, %db = attn.linear_cross_entropy_grad %h, %w, %y, %lse, %dl : tensor<8x64xf32>, tensor<100x64xf32>, tensor<8xi64>, tensor<8xf32>, tensor<f32> -> tensor<8x64xf32>, tensor<100x64xf32>, tensor<100xf32>
  return %dh : tensor<8x64xf32>
}

// -----

func.func @lce_grad_grad_hidden_type(%h: tensor<8x64xf32>, %w: tensor<100x64xf32>, %y: tensor<8xi64>, %lse: tensor<8xf32>, %dl: tensor<f32>) -> tensor<8x64xbf16> {
  // expected-error @+1 {{grad_hidden element type 'bf16' must match the hidden element type 'f32'}}
  %dh, %dw = attn.linear_cross_entropy_grad %h, %w, %y, %lse, %dl : tensor<8x64xf32>, tensor<100x64xf32>, tensor<8xi64>, tensor<8xf32>, tensor<f32> -> tensor<8x64xbf16>, tensor<100x64xf32>
  return %dh : tensor<8x64xbf16>
}

// -----

func.func @lce_grad_grad_hidden_shape(%h: tensor<8x64xf32>, %w: tensor<100x64xf32>, %y: tensor<8xi64>, %lse: tensor<8xf32>, %dl: tensor<f32>) -> tensor<8x32xf32> {
  // expected-error @+1 {{grad_hidden dimension 1 must be 64, but is 32}}
  %dh, %dw = attn.linear_cross_entropy_grad %h, %w, %y, %lse, %dl : tensor<8x64xf32>, tensor<100x64xf32>, tensor<8xi64>, tensor<8xf32>, tensor<f32> -> tensor<8x32xf32>, tensor<100x64xf32>
  return %dh : tensor<8x32xf32>
}

// -----

func.func @lce_grad_grad_weight_shape(%h: tensor<8x64xf32>, %w: tensor<100x64xf32>, %y: tensor<8xi64>, %lse: tensor<8xf32>, %dl: tensor<f32>) -> tensor<8x64xf32> {
  // expected-error @+1 {{grad_weight dimension 0 must be 100, but is 99}}
  %dh, %dw = attn.linear_cross_entropy_grad %h, %w, %y, %lse, %dl : tensor<8x64xf32>, tensor<100x64xf32>, tensor<8xi64>, tensor<8xf32>, tensor<f32> -> tensor<8x64xf32>, tensor<99x64xf32>
  return %dh : tensor<8x64xf32>
}

// -----

func.func @lce_grad_grad_bias_type(%h: tensor<8x64xf32>, %w: tensor<100x64xf32>, %y: tensor<8xi64>, %b: tensor<100xf32>, %lse: tensor<8xf32>, %dl: tensor<f32>) -> tensor<8x64xf32> {
  // expected-error @+1 {{grad_bias element type 'f16' must match the bias element type 'f32'}}
  %dh, %dw, %db = attn.linear_cross_entropy_grad %h, %w, %y bias(%b : tensor<100xf32>), %lse, %dl : tensor<8x64xf32>, tensor<100x64xf32>, tensor<8xi64>, tensor<8xf32>, tensor<f32> -> tensor<8x64xf32>, tensor<100x64xf32>, tensor<100xf16>
  return %dh : tensor<8x64xf32>
}

// -----

func.func @lce_grad_grad_bias_shape(%h: tensor<8x64xf32>, %w: tensor<100x64xf32>, %y: tensor<8xi64>, %b: tensor<100xf32>, %lse: tensor<8xf32>, %dl: tensor<f32>) -> tensor<8x64xf32> {
  // expected-error @+1 {{grad_bias dimension 0 must be 100, but is 101}}
  %dh, %dw, %db = attn.linear_cross_entropy_grad %h, %w, %y bias(%b : tensor<100xf32>), %lse, %dl : tensor<8x64xf32>, tensor<100x64xf32>, tensor<8xi64>, tensor<8xf32>, tensor<f32> -> tensor<8x64xf32>, tensor<100x64xf32>, tensor<101xf32>
  return %dh : tensor<8x64xf32>
}

// -----

// linear_cross_entropy_grad's tiles (attn-tile's Cut-Cross-Entropy
// backward): all three positive multiples of 16, or all zero (the
// decomposition); no split, stages or passes.
func.func @lce_grad_schedule(%h: tensor<8x64xf32>, %w: tensor<100x64xf32>, %y: tensor<8xi64>, %lse: tensor<8xf32>, %dl: tensor<f32>) -> tensor<8x64xf32> {
  // expected-error @+1 {{schedule block_n must be a positive multiple of 16, but is 0}}
  %dh, %dw = attn.linear_cross_entropy_grad %h, %w, %y, %lse, %dl {schedule = #attn.schedule<block_m = 64>} : tensor<8x64xf32>, tensor<100x64xf32>, tensor<8xi64>, tensor<8xf32>, tensor<f32> -> tensor<8x64xf32>, tensor<100x64xf32>
  return %dh : tensor<8x64xf32>
}

// -----

func.func @lce_grad_schedule_split(%h: tensor<8x64xf32>, %w: tensor<100x64xf32>, %y: tensor<8xi64>, %lse: tensor<8xf32>, %dl: tensor<f32>) -> tensor<8x64xf32> {
  // expected-error @+1 {{schedule split does not apply to this op and must be 1, but is 2}}
  %dh, %dw = attn.linear_cross_entropy_grad %h, %w, %y, %lse, %dl {schedule = #attn.schedule<block_m = 64, block_n = 64, block_d = 32, split = 2>} : tensor<8x64xf32>, tensor<100x64xf32>, tensor<8xi64>, tensor<8xf32>, tensor<f32> -> tensor<8x64xf32>, tensor<100x64xf32>
  return %dh : tensor<8x64xf32>
}

// -----

func.func @lce_grad_schedule_multiple(%h: tensor<8x64xf32>, %w: tensor<100x64xf32>, %y: tensor<8xi64>, %lse: tensor<8xf32>, %dl: tensor<f32>) -> tensor<8x64xf32> {
  // expected-error @+1 {{schedule block_d must be a positive multiple of 16, but is 24}}
  %dh, %dw = attn.linear_cross_entropy_grad %h, %w, %y, %lse, %dl {schedule = #attn.schedule<block_m = 64, block_n = 64, block_d = 24>} : tensor<8x64xf32>, tensor<100x64xf32>, tensor<8xi64>, tensor<8xf32>, tensor<f32> -> tensor<8x64xf32>, tensor<100x64xf32>
  return %dh : tensor<8x64xf32>
}

// -----

func.func @lce_grad_filter_range(%h: tensor<8x64xf32>, %w: tensor<100x64xf32>, %y: tensor<8xi64>, %lse: tensor<8xf32>, %dl: tensor<f32>) -> tensor<8x64xf32> {
  // expected-error @+1 {{grad_filter must be in (0, 1), but is 1.5}}
  %dh, %dw = attn.linear_cross_entropy_grad %h, %w, %y, %lse, %dl {grad_filter = 1.5 : f32} : tensor<8x64xf32>, tensor<100x64xf32>, tensor<8xi64>, tensor<8xf32>, tensor<f32> -> tensor<8x64xf32>, tensor<100x64xf32>
  return %dh : tensor<8x64xf32>
}

// -----

func.func @lce_grad_filter_zero(%h: tensor<8x64xf32>, %w: tensor<100x64xf32>, %y: tensor<8xi64>, %lse: tensor<8xf32>, %dl: tensor<f32>) -> tensor<8x64xf32> {
  // expected-error @+1 {{grad_filter must be in (0, 1), but is 0}}
  %dh, %dw = attn.linear_cross_entropy_grad %h, %w, %y, %lse, %dl {grad_filter = 0.0 : f32} : tensor<8x64xf32>, tensor<100x64xf32>, tensor<8xi64>, tensor<8xf32>, tensor<f32> -> tensor<8x64xf32>, tensor<100x64xf32>
  return %dh : tensor<8x64xf32>
}

// -----

// The tiled backward does not split the keys.
func.func @attention_grad_split(%q: tensor<1x2x16x16xbf16>, %lse: tensor<1x2x16xf32>) -> tensor<1x2x16x16xbf16> {
  // expected-error @+1 {{schedule split does not apply to this op and must be 1, but is 2}}
  %dq, %dk, %dv = attn.attention_grad %q, %q, %q, %q, %lse, %q {schedule = #attn.schedule<block_m = 16, block_n = 16, stages = 2, split = 2>} : tensor<1x2x16x16xbf16>, tensor<1x2x16x16xbf16>, tensor<1x2x16x16xbf16>, tensor<1x2x16x16xbf16>, tensor<1x2x16xf32>, tensor<1x2x16x16xbf16> -> tensor<1x2x16x16xbf16>, tensor<1x2x16x16xbf16>, tensor<1x2x16x16xbf16>
  return %dq : tensor<1x2x16x16xbf16>
}

// -----

// The elementwise gradient rows read each row once.
func.func @logsumexp_grad_passes(%x: tensor<4x100xf32>, %l: tensor<4xf32>) -> tensor<4x100xf32> {
  // expected-error @+1 {{schedule passes does not apply to this op and must be 1, but is 2}}
  %0 = attn.logsumexp_grad %x, %l, %l, dim = 1 {schedule = #attn.schedule<block_m = 1, passes = 2>} : tensor<4x100xf32>, tensor<4xf32>, tensor<4xf32> -> tensor<4x100xf32>
  return %0 : tensor<4x100xf32>
}
