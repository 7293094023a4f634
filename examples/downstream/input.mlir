func.func @logsumexp(%x: tensor<4x1000xbf16>) -> tensor<4xf32> {
  %0 = attn.logsumexp %x, dim = 1 : tensor<4x1000xbf16> -> tensor<4xf32>
  return %0 : tensor<4xf32>
}
