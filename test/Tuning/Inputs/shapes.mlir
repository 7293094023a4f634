// Several shapes of every op, for the enumeration tests (attn-tune-list.test,
// test/Target/attn-tune-pinned.test).

func.func @attention_d64(%q: tensor<2x8x512x64xbf16>, %k: tensor<2x8x512x64xbf16>, %v: tensor<2x8x512x64xbf16>) -> tensor<2x8x512x64xbf16> {
  %o = attn.attention %q, %k, %v : tensor<2x8x512x64xbf16>, tensor<2x8x512x64xbf16>, tensor<2x8x512x64xbf16> -> tensor<2x8x512x64xbf16>
  return %o : tensor<2x8x512x64xbf16>
}

func.func @attention_d128_causal_gqa(%q: tensor<1x8x1000x128xbf16>, %k: tensor<1x2x1000x128xbf16>, %v: tensor<1x2x1000x128xbf16>) -> (tensor<1x8x1000x128xbf16>, tensor<1x8x1000xf32>) {
  %o, %lse = attn.attention %q, %k, %v {causal} : tensor<1x8x1000x128xbf16>, tensor<1x2x1000x128xbf16>, tensor<1x2x1000x128xbf16> -> tensor<1x8x1000x128xbf16>, tensor<1x8x1000xf32>
  return %o, %lse : tensor<1x8x1000x128xbf16>, tensor<1x8x1000xf32>
}

func.func @attention_d256_window(%q: tensor<1x4x300x256xf16>, %k: tensor<1x4x300x256xf16>, %v: tensor<1x4x300x256xf16>) -> tensor<1x4x300x256xf16> {
  %o = attn.attention %q, %k, %v {window = array<i64: 64, 0>} : tensor<1x4x300x256xf16>, tensor<1x4x300x256xf16>, tensor<1x4x300x256xf16> -> tensor<1x4x300x256xf16>
  return %o : tensor<1x4x300x256xf16>
}

func.func @decode(%q: tensor<2x32x1x128xbf16>, %k: tensor<2x8x4096x128xbf16>, %v: tensor<2x8x4096x128xbf16>) -> tensor<2x32x1x128xbf16> {
  %o = attn.attention %q, %k, %v : tensor<2x32x1x128xbf16>, tensor<2x8x4096x128xbf16>, tensor<2x8x4096x128xbf16> -> tensor<2x32x1x128xbf16>
  return %o : tensor<2x32x1x128xbf16>
}

func.func @attention_f32(%q: tensor<1x2x64x32xf32>) -> tensor<1x2x64x32xf32> {
  %o = attn.attention %q, %q, %q : tensor<1x2x64x32xf32>, tensor<1x2x64x32xf32>, tensor<1x2x64x32xf32> -> tensor<1x2x64x32xf32>
  return %o : tensor<1x2x64x32xf32>
}

func.func @softmax_short(%x: tensor<64x1000xbf16>) -> tensor<64x1000xbf16> {
  %y = attn.softmax %x, dim = 1 : tensor<64x1000xbf16> -> tensor<64x1000xbf16>
  return %y : tensor<64x1000xbf16>
}

func.func @log_softmax_long(%x: tensor<8x65536xf32>) -> tensor<8x65536xf32> {
  %y = attn.log_softmax %x, dim = 1 : tensor<8x65536xf32> -> tensor<8x65536xf32>
  return %y : tensor<8x65536xf32>
}

func.func @logsumexp(%x: tensor<4x16x4096xf16>) -> tensor<4x16xf32> {
  %y = attn.logsumexp %x, dim = 2 : tensor<4x16x4096xf16> -> tensor<4x16xf32>
  return %y : tensor<4x16xf32>
}

func.func @cross_entropy(%z: tensor<256x32000xbf16>, %y: tensor<256xi64>) -> tensor<f32> {
  %l = attn.cross_entropy %z, %y : tensor<256x32000xbf16>, tensor<256xi64> -> tensor<f32>
  return %l : tensor<f32>
}

func.func @linear_cross_entropy(%h: tensor<512x2304xbf16>, %w: tensor<32000x2304xbf16>, %y: tensor<512xi64>) -> tensor<512xf32> {
  %l = attn.linear_cross_entropy %h, %w, %y {reduction = #attn.reduction<none>} : tensor<512x2304xbf16>, tensor<32000x2304xbf16>, tensor<512xi64> -> tensor<512xf32>
  return %l : tensor<512xf32>
}

func.func @linear_cross_entropy_d80(%h: tensor<100x80xf16>, %w: tensor<1000x80xf16>, %y: tensor<100xi32>) -> tensor<f32> {
  %l = attn.linear_cross_entropy %h, %w, %y : tensor<100x80xf16>, tensor<1000x80xf16>, tensor<100xi32> -> tensor<f32>
  return %l : tensor<f32>
}
