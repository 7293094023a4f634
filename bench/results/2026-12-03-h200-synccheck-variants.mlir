func.func @a_w4_f16_bias(%h: tensor<17x128xf16>, %w: tensor<4099x128xf16>, %y: tensor<17xi32>, %b: tensor<4099xf16>) -> (tensor<17xf32>, tensor<17xf32>) {
  %r0, %r1 = attn.linear_cross_entropy %h, %w, %y bias(%b : tensor<4099xf16>) {reduction = #attn.reduction<none>, schedule = #attn.schedule<block_m = 64, block_n = 128, block_d = 64, warps = 4, stages = 3, pipeline = "tma">} : tensor<17x128xf16>, tensor<4099x128xf16>, tensor<17xi32> -> tensor<17xf32>, tensor<17xf32>
  return %r0, %r1 : tensor<17xf32>, tensor<17xf32>
}

func.func @b_w8_f16_bias(%h: tensor<17x128xf16>, %w: tensor<4099x128xf16>, %y: tensor<17xi32>, %b: tensor<4099xf16>) -> (tensor<17xf32>, tensor<17xf32>) {
  %r0, %r1 = attn.linear_cross_entropy %h, %w, %y bias(%b : tensor<4099xf16>) {reduction = #attn.reduction<none>, schedule = #attn.schedule<block_m = 128, block_n = 128, block_d = 64, warps = 8, stages = 3, pipeline = "tma">} : tensor<17x128xf16>, tensor<4099x128xf16>, tensor<17xi32> -> tensor<17xf32>, tensor<17xf32>
  return %r0, %r1 : tensor<17xf32>, tensor<17xf32>
}

func.func @c_w4_bf16_nobias_mean(%h: tensor<17x128xbf16>, %w: tensor<4099x128xbf16>, %y: tensor<17xi64>) -> tensor<f32> {
  %r0 = attn.linear_cross_entropy %h, %w, %y {schedule = #attn.schedule<block_m = 64, block_n = 128, block_d = 64, warps = 4, stages = 3, pipeline = "tma">} : tensor<17x128xbf16>, tensor<4099x128xbf16>, tensor<17xi64> -> tensor<f32>
  return %r0 : tensor<f32>
}

func.func @d_w4_f16_bias_bn256(%h: tensor<17x128xf16>, %w: tensor<4099x128xf16>, %y: tensor<17xi32>, %b: tensor<4099xf16>) -> (tensor<17xf32>, tensor<17xf32>) {
  %r0, %r1 = attn.linear_cross_entropy %h, %w, %y bias(%b : tensor<4099xf16>) {reduction = #attn.reduction<none>, schedule = #attn.schedule<block_m = 64, block_n = 256, block_d = 64, warps = 4, stages = 3, pipeline = "tma">} : tensor<17x128xf16>, tensor<4099x128xf16>, tensor<17xi32> -> tensor<17xf32>, tensor<17xf32>
  return %r0, %r1 : tensor<17xf32>, tensor<17xf32>
}

func.func @e_w4_f16_bias_st2(%h: tensor<17x128xf16>, %w: tensor<4099x128xf16>, %y: tensor<17xi32>, %b: tensor<4099xf16>) -> (tensor<17xf32>, tensor<17xf32>) {
  %r0, %r1 = attn.linear_cross_entropy %h, %w, %y bias(%b : tensor<4099xf16>) {reduction = #attn.reduction<none>, schedule = #attn.schedule<block_m = 64, block_n = 128, block_d = 64, warps = 4, stages = 2, pipeline = "tma">} : tensor<17x128xf16>, tensor<4099x128xf16>, tensor<17xi32> -> tensor<17xf32>, tensor<17xf32>
  return %r0, %r1 : tensor<17xf32>, tensor<17xf32>
}

func.func @f_w4_f16_bias_n128(%h: tensor<128x128xf16>, %w: tensor<4099x128xf16>, %y: tensor<128xi32>, %b: tensor<4099xf16>) -> (tensor<128xf32>, tensor<128xf32>) {
  %r0, %r1 = attn.linear_cross_entropy %h, %w, %y bias(%b : tensor<4099xf16>) {reduction = #attn.reduction<none>, schedule = #attn.schedule<block_m = 64, block_n = 128, block_d = 64, warps = 4, stages = 3, pipeline = "tma">} : tensor<128x128xf16>, tensor<4099x128xf16>, tensor<128xi32> -> tensor<128xf32>, tensor<128xf32>
  return %r0, %r1 : tensor<128xf32>, tensor<128xf32>
}

func.func @g_w4_bf16_d64_v1000(%h: tensor<113x64xbf16>, %w: tensor<1000x64xbf16>, %y: tensor<113xi64>) -> tensor<f32> {
  %r0 = attn.linear_cross_entropy %h, %w, %y {schedule = #attn.schedule<block_m = 64, block_n = 256, block_d = 64, warps = 4, stages = 2, pipeline = "tma">} : tensor<113x64xbf16>, tensor<1000x64xbf16>, tensor<113xi64> -> tensor<f32>
  return %r0 : tensor<f32>
}

func.func @h_w8_bf16_d128_v4099_mean(%h: tensor<17x128xbf16>, %w: tensor<4099x128xbf16>, %y: tensor<17xi64>) -> tensor<f32> {
  %r0 = attn.linear_cross_entropy %h, %w, %y {schedule = #attn.schedule<block_m = 128, block_n = 128, block_d = 64, warps = 8, stages = 3, pipeline = "tma">} : tensor<17x128xbf16>, tensor<4099x128xbf16>, tensor<17xi64> -> tensor<f32>
  return %r0 : tensor<f32>
}
func.func @i_f16_bias_mean_i64(%h: tensor<17x128xf16>, %w: tensor<4099x128xf16>, %y: tensor<17xi64>, %b: tensor<4099xf16>) -> tensor<f32> {
  %r0 = attn.linear_cross_entropy %h, %w, %y bias(%b : tensor<4099xf16>) {schedule = #attn.schedule<block_m = 64, block_n = 128, block_d = 64, warps = 4, stages = 3, pipeline = "tma">} : tensor<17x128xf16>, tensor<4099x128xf16>, tensor<17xi64> -> tensor<f32>
  return %r0 : tensor<f32>
}

func.func @j_bf16_bias_none_i32(%h: tensor<17x128xbf16>, %w: tensor<4099x128xbf16>, %y: tensor<17xi32>, %b: tensor<4099xbf16>) -> (tensor<17xf32>, tensor<17xf32>) {
  %r0, %r1 = attn.linear_cross_entropy %h, %w, %y bias(%b : tensor<4099xbf16>) {reduction = #attn.reduction<none>, schedule = #attn.schedule<block_m = 64, block_n = 128, block_d = 64, warps = 4, stages = 3, pipeline = "tma">} : tensor<17x128xbf16>, tensor<4099x128xbf16>, tensor<17xi32> -> tensor<17xf32>, tensor<17xf32>
  return %r0, %r1 : tensor<17xf32>, tensor<17xf32>
}

func.func @k_f16_nobias_none_i32(%h: tensor<17x128xf16>, %w: tensor<4099x128xf16>, %y: tensor<17xi32>) -> (tensor<17xf32>, tensor<17xf32>) {
  %r0, %r1 = attn.linear_cross_entropy %h, %w, %y {reduction = #attn.reduction<none>, schedule = #attn.schedule<block_m = 64, block_n = 128, block_d = 64, warps = 4, stages = 3, pipeline = "tma">} : tensor<17x128xf16>, tensor<4099x128xf16>, tensor<17xi32> -> tensor<17xf32>, tensor<17xf32>
  return %r0, %r1 : tensor<17xf32>, tensor<17xf32>
}

func.func @l_bf16_nobias_none_i32(%h: tensor<17x128xbf16>, %w: tensor<4099x128xbf16>, %y: tensor<17xi32>) -> (tensor<17xf32>, tensor<17xf32>) {
  %r0, %r1 = attn.linear_cross_entropy %h, %w, %y {reduction = #attn.reduction<none>, schedule = #attn.schedule<block_m = 64, block_n = 128, block_d = 64, warps = 4, stages = 3, pipeline = "tma">} : tensor<17x128xbf16>, tensor<4099x128xbf16>, tensor<17xi32> -> tensor<17xf32>, tensor<17xf32>
  return %r0, %r1 : tensor<17xf32>, tensor<17xf32>
}

func.func @m_bf16_bias_mean_i64(%h: tensor<17x128xbf16>, %w: tensor<4099x128xbf16>, %y: tensor<17xi64>, %b: tensor<4099xbf16>) -> tensor<f32> {
  %r0 = attn.linear_cross_entropy %h, %w, %y bias(%b : tensor<4099xbf16>) {schedule = #attn.schedule<block_m = 64, block_n = 128, block_d = 64, warps = 4, stages = 3, pipeline = "tma">} : tensor<17x128xbf16>, tensor<4099x128xbf16>, tensor<17xi64> -> tensor<f32>
  return %r0 : tensor<f32>
}
func.func @n_bf16_none_i64(%h: tensor<17x128xbf16>, %w: tensor<4099x128xbf16>, %y: tensor<17xi64>) -> (tensor<17xf32>, tensor<17xf32>) {
  %r0, %r1 = attn.linear_cross_entropy %h, %w, %y {reduction = #attn.reduction<none>, schedule = #attn.schedule<block_m = 64, block_n = 128, block_d = 64, warps = 4, stages = 3, pipeline = "tma">} : tensor<17x128xbf16>, tensor<4099x128xbf16>, tensor<17xi64> -> tensor<17xf32>, tensor<17xf32>
  return %r0, %r1 : tensor<17xf32>, tensor<17xf32>
}
func.func @o_bf16_mean_i32(%h: tensor<17x128xbf16>, %w: tensor<4099x128xbf16>, %y: tensor<17xi32>) -> tensor<f32> {
  %r0 = attn.linear_cross_entropy %h, %w, %y {schedule = #attn.schedule<block_m = 64, block_n = 128, block_d = 64, warps = 4, stages = 3, pipeline = "tma">} : tensor<17x128xbf16>, tensor<4099x128xbf16>, tensor<17xi32> -> tensor<f32>
  return %r0 : tensor<f32>
}
func.func @p_bf16_none_i32_cpasync(%h: tensor<17x128xbf16>, %w: tensor<4099x128xbf16>, %y: tensor<17xi32>) -> (tensor<17xf32>, tensor<17xf32>) {
  %r0, %r1 = attn.linear_cross_entropy %h, %w, %y {reduction = #attn.reduction<none>, schedule = #attn.schedule<block_m = 64, block_n = 128, block_d = 64, warps = 4, stages = 3>} : tensor<17x128xbf16>, tensor<4099x128xbf16>, tensor<17xi32> -> tensor<17xf32>, tensor<17xf32>
  return %r0, %r1 : tensor<17xf32>, tensor<17xf32>
}
