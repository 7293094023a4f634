// Input of linalg-softmax.mlir: a public function whose body is a
// linalg.softmax, compiled by attn-to-cubin (simple GPU mapping).
func.func @softmax_last(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %e = tensor.empty() : tensor<2x3xf32>
  %p = linalg.softmax dimension(1) ins(%x : tensor<2x3xf32>) outs(%e : tensor<2x3xf32>) -> tensor<2x3xf32>
  return %p : tensor<2x3xf32>
}
