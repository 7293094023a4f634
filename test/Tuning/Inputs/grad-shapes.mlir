// Gradient ops of every kernel family that takes them, for attn-tune pin
// (test/Target/attn-tune-pinned.test): attention_grad (GQA, causal, ragged
// M and N), the elementwise rows (cross_entropy_grad, logsumexp_grad) and
// the softmax rows (softmax_grad), and the chunked linear cross-entropy
// backward (linear_cross_entropy_grad, bias, filter, two chunks).
func.func @attention_grad(%q: tensor<1x4x77x64xbf16>, %k: tensor<1x2x130x64xbf16>, %o: tensor<1x4x77x64xbf16>, %lse: tensor<1x4x77xf32>) -> tensor<1x4x77x64xbf16> {
  %dq, %dk, %dv = attn.attention_grad %q, %k, %k, %o, %lse, %o {causal} : tensor<1x4x77x64xbf16>, tensor<1x2x130x64xbf16>, tensor<1x2x130x64xbf16>, tensor<1x4x77x64xbf16>, tensor<1x4x77xf32>, tensor<1x4x77x64xbf16> -> tensor<1x4x77x64xbf16>, tensor<1x2x130x64xbf16>, tensor<1x2x130x64xbf16>
  return %dq : tensor<1x4x77x64xbf16>
}
func.func @cross_entropy_grad(%z: tensor<9x1001xbf16>, %y: tensor<9xi64>, %lse: tensor<9xf32>, %dl: tensor<f32>) -> tensor<9x1001xbf16> {
  %0 = attn.cross_entropy_grad %z, %y, %lse, %dl : tensor<9x1001xbf16>, tensor<9xi64>, tensor<9xf32>, tensor<f32> -> tensor<9x1001xbf16>
  return %0 : tensor<9x1001xbf16>
}
func.func @logsumexp_grad(%x: tensor<5x4096xf16>, %l: tensor<5xf32>) -> tensor<5x4096xf16> {
  %0 = attn.logsumexp_grad %x, %l, %l, dim = 1 : tensor<5x4096xf16>, tensor<5xf32>, tensor<5xf32> -> tensor<5x4096xf16>
  return %0 : tensor<5x4096xf16>
}
func.func @softmax_grad(%y: tensor<5x40000xbf16>) -> tensor<5x40000xbf16> {
  %0 = attn.softmax_grad %y, %y, dim = 1 : tensor<5x40000xbf16>, tensor<5x40000xbf16> -> tensor<5x40000xbf16>
  return %0 : tensor<5x40000xbf16>
}
func.func @linear_cross_entropy_grad(%h: tensor<600x64xbf16>, %w: tensor<60000x64xbf16>, %b: tensor<60000xbf16>, %y: tensor<600xi64>, %lse: tensor<600xf32>, %dl: tensor<f32>) -> tensor<60000x64xbf16> {
  %dh, %dw, %db = attn.linear_cross_entropy_grad %h, %w, %y bias(%b : tensor<60000xbf16>), %lse, %dl {grad_filter = 2.44140625E-4 : f32} : tensor<600x64xbf16>, tensor<60000x64xbf16>, tensor<600xi64>, tensor<600xf32>, tensor<f32> -> tensor<600x64xbf16>, tensor<60000x64xbf16>, tensor<60000xbf16>
  return %dw : tensor<60000x64xbf16>
}
