func.func @softmax_r64_c1000(%x: tensor<64x1000xbf16>) -> tensor<64x1000xbf16> {
  %r = attn.softmax %x, dim = 1 : tensor<64x1000xbf16> -> tensor<64x1000xbf16>
  return %r : tensor<64x1000xbf16>
}
func.func @dynamic(%x: tensor<?x1000xbf16>) -> tensor<?x1000xbf16> {
  %r = attn.softmax %x, dim = 1 : tensor<?x1000xbf16> -> tensor<?x1000xbf16>
  return %r : tensor<?x1000xbf16>
}
