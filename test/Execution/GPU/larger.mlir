// Larger shapes for the GPU check (bench/check_gpu.sh runs them on the GPU
// against the float64 reference). Too slow for the CPU JIT in CI, so lit
// checks that they compile to an sm_90a package.
// REQUIRES: ptxas
// RUN: rm -rf %t && attn-opt %s --attn-to-cubin="chip=sm_90a package-dir=%t" -o /dev/null
// RUN: FileCheck %s --input-file=%t/manifest.json
// CHECK-DAG: "name": "attention_bf16_300x333"
// CHECK-DAG: "name": "cross_entropy_1000x32003"
// CHECK-DAG: "name": "softmax_4096x4097"

func.func @attention_bf16_300x333(%q: tensor<2x8x300x64xbf16>, %k: tensor<2x2x333x64xbf16>, %v: tensor<2x2x333x64xbf16>)
    -> (tensor<2x8x300x64xbf16>, tensor<2x8x300xf32>) {
  %o, %lse = attn.attention %q, %k, %v {causal} : tensor<2x8x300x64xbf16>, tensor<2x2x333x64xbf16>, tensor<2x2x333x64xbf16> -> tensor<2x8x300x64xbf16>, tensor<2x8x300xf32>
  return %o, %lse : tensor<2x8x300x64xbf16>, tensor<2x8x300xf32>
}
func.func @cross_entropy_1000x32003(%z: tensor<1000x32003xbf16>, %y: tensor<1000xi64>) -> (tensor<f32>, tensor<1000xf32>) {
  %0, %1 = attn.cross_entropy %z, %y {label_smoothing = 0.1 : f32, z_loss = 1.0e-4 : f32} : tensor<1000x32003xbf16>, tensor<1000xi64> -> tensor<f32>, tensor<1000xf32>
  return %0, %1 : tensor<f32>, tensor<1000xf32>
}
func.func @softmax_4096x4097(%x: tensor<4096x4097xbf16>) -> tensor<4096x4097xbf16> {
  %0 = attn.softmax %x, dim = 1 : tensor<4096x4097xbf16> -> tensor<4096x4097xbf16>
  return %0 : tensor<4096x4097xbf16>
}
