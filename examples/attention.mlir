// Grouped-query causal attention (8 query heads sharing 2 key/value heads)
// with a sliding window, softcapping and the log-sum-exp output, in bf16.
// Compile to a GPU kernel package:
//   attn-opt examples/attention.mlir --attn-to-cubin="chip=sm_90a package-dir=pkg"
// and run it (GPU: attn-run pkg; CPU: attn-run examples/attention.mlir --device cpu).
func.func @attention(%q: tensor<2x8x77x64xbf16>, %k: tensor<2x2x93x64xbf16>,
                     %v: tensor<2x2x93x64xbf16>)
    -> (tensor<2x8x77x64xbf16>, tensor<2x8x77xf32>) {
  %o, %lse = attn.attention %q, %k, %v {causal, window = array<i64: 48, 0>, softcap = 30.0 : f32}
      : tensor<2x8x77x64xbf16>, tensor<2x2x93x64xbf16>, tensor<2x2x93x64xbf16>
      -> tensor<2x8x77x64xbf16>, tensor<2x8x77xf32>
  return %o, %lse : tensor<2x8x77x64xbf16>, tensor<2x8x77xf32>
}
