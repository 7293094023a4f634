// One static op, for the pipelines' model option.
func.func @softmax(%x: tensor<64x1000xbf16>) -> tensor<64x1000xbf16> {
  %r = attn.softmax %x, dim = 1 : tensor<64x1000xbf16> -> tensor<64x1000xbf16>
  return %r : tensor<64x1000xbf16>
}
