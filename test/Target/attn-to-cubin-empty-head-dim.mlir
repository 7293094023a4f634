// An empty head dim (D = 0) has no scores to scale: the default scale is 1,
// not 1/sqrt(0) = inf, which made the manifest invalid JSON ("scale": inf;
// found by attn-fuzz from kernels-grad-attention.mlir).
// RUN: rm -rf %t && attn-opt %s --attn-to-cubin="chip=sm_90a package-dir=%t assemble=0" -o /dev/null 2>/dev/null
// RUN: %python -c "import json, sys; m = json.load(open(sys.argv[1])); print([f['op']['attributes']['scale'] for f in m['functions']])" %t/manifest.json | FileCheck %s
// CHECK: [1, 1]
func.func @attention_grad_d0(%q: tensor<1x2x1x0xbf16>, %o: tensor<1x2x1x4xbf16>, %v: tensor<1x2x1x4xbf16>, %lse: tensor<1x2x1xf32>)
    -> (tensor<1x2x1x0xbf16>, tensor<1x2x1x0xbf16>, tensor<1x2x1x4xbf16>) {
  %dq, %dk, %dv = attn.attention_grad %q, %q, %v, %o, %lse, %o
      : tensor<1x2x1x0xbf16>, tensor<1x2x1x0xbf16>, tensor<1x2x1x4xbf16>, tensor<1x2x1x4xbf16>, tensor<1x2x1xf32>, tensor<1x2x1x4xbf16> -> tensor<1x2x1x0xbf16>, tensor<1x2x1x0xbf16>, tensor<1x2x1x4xbf16>
  return %dq, %dk, %dv : tensor<1x2x1x0xbf16>, tensor<1x2x1x0xbf16>, tensor<1x2x1x4xbf16>
}
func.func @attention_d0(%q: tensor<1x2x3x0xbf16>, %v: tensor<1x2x3x4xbf16>) -> tensor<1x2x3x4xbf16> {
  %o = attn.attention %q, %q, %v : tensor<1x2x3x0xbf16>, tensor<1x2x3x0xbf16>, tensor<1x2x3x4xbf16> -> tensor<1x2x3x4xbf16>
  return %o : tensor<1x2x3x4xbf16>
}
