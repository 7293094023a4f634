// attn-grad on a causal attention block with an LM-head loss: the pass adds
// @block_grad, returning the loss and its gradients with respect to q, k,
// v and the LM head's weight, all on attn gradient ops. Compile both to a
// kernel package with
//
//   attn-opt examples/attn-grad/block.mlir --attn-grad \
//     --attn-to-cubin="chip=h200-sxm package-dir=build/block" -o /dev/null
//
// python/tests/gpu_ops.py runs @block_grad on the GPU and checks it against
// torch.autograd of the same computation.
func.func @block(%q: tensor<2x4x128x64xbf16>, %k: tensor<2x4x128x64xbf16>,
                 %v: tensor<2x4x128x64xbf16>, %w: tensor<1000x256xbf16>,
                 %y: tensor<256xi64>) -> tensor<f32>
    attributes {attn.grad = array<i64: 0, 1, 2, 3>} {
  %o = attn.attention %q, %k, %v {causal}
      : tensor<2x4x128x64xbf16>, tensor<2x4x128x64xbf16>,
        tensor<2x4x128x64xbf16> -> tensor<2x4x128x64xbf16>
  // [B, H, T, D] -> [B, T, H, D] -> [B*T, H*D]
  %e = tensor.empty() : tensor<2x128x4x64xbf16>
  %t = linalg.transpose ins(%o : tensor<2x4x128x64xbf16>)
      outs(%e : tensor<2x128x4x64xbf16>) permutation = [0, 2, 1, 3]
  %h = tensor.collapse_shape %t [[0, 1], [2, 3]]
      : tensor<2x128x4x64xbf16> into tensor<256x256xbf16>
  %l = attn.linear_cross_entropy %h, %w, %y
      : tensor<256x256xbf16>, tensor<1000x256xbf16>, tensor<256xi64>
      -> tensor<f32>
  return %l : tensor<f32>
}
