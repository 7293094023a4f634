// The FlashAttention-2 backward kernels of attn-map-to-gpu (attn.attention_grad:
// a dQ launch over query blocks, then a dK/dV launch over key blocks; on
// sm_90a warpgroup MMA for whole warpgroups and head dims of whole 64-column
// slabs, else mma.sync): odd sizes M, N in {1, 17, 113, 239, 1023}, head dims
// 64/80/128, GQA 4:1 and 8:1, MQA, causal with fully masked query rows
// (M > N, bottom-right), windows, softcap, scale, f16, and pinned schedules
// (1, 2, 4, 8 warps; 16- to 128-row tiles; 3 stages). bench/check_gpu.sh runs
// them on the GPU against the float64 reference (bench/gpu_check.list); here
// lit checks that each compiles to an sm_90a package through the backward
// kernels (no simple-mapping remark).
// REQUIRES: ptxas
// RUN: rm -rf %t && attn-opt %s --attn-to-cubin="chip=h200-sxm package-dir=%t" -o /dev/null 2>&1 | FileCheck %s --check-prefix=REMARK --allow-empty
// RUN: FileCheck %s --input-file=%t/manifest.json
// REMARK-NOT: simple GPU mapping
// REMARK-NOT: Potential Performance Loss
// What makes the launches fast, in the PTX of the head-dim-128 causal case
// (the default schedule, warpgroup MMA): two entries (dQ, then dK/dV),
// cp.async tiles fenced into the async proxy, the score products S = Q K^T,
// dP = dO V^T (and transposed) as m64n64 wgmma from shared memory, the
// accumulating products dQ += dS K, dV += P^T dO, dK += dS^T Q as m64n128
// wgmma with P and dS from registers, exp2 on the special-function unit;
// ptxas spills nothing.
// RUN: FileCheck %s --check-prefix=PTX --input-file=%t/square_1023_causal_d128_kernels.ptx
// RUN: %ptxas -arch=sm_90a -v %t/square_1023_causal_d128_kernels.ptx -o %t/check.cubin 2>&1 | FileCheck %s --check-prefix=PTXAS
// PTX: .entry square_1023_causal_d128_kernel(
// PTX-DAG: cp.async.cg.shared.global
// PTX-DAG: fence.proxy.async.shared::cta
// PTX-DAG: wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16
// PTX-DAG: wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {{.*}}, {{{.*}}}, %rd{{[0-9]+}}, p, 1, 1, 1;
// PTX-DAG: ex2.approx.f32
// PTX: .entry square_1023_causal_d128_kernel_0(
// PTX-DAG: cp.async.cg.shared.global
// PTX-DAG: wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16
// PTX-DAG: wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16
// PTX-DAG: ex2.approx.f32
// PTXAS-NOT: bytes spill stores, [1-9]
// PTXAS: 0 bytes spill stores, 0 bytes spill loads
// PTXAS-NOT: bytes spill stores, [1-9]
// PTXAS: 0 bytes spill stores, 0 bytes spill loads
// A schedule of one warp (not a warpgroup) runs mma.sync: ldmatrix
// (transposed for the second operand of the accumulating products) and
// m16n8k16, no wgmma.
// RUN: FileCheck %s --check-prefix=MMASYNC --input-file=%t/w1_bm16_bn32_window_mqa_d128_kernels.ptx
// MMASYNC-NOT: wgmma
// MMASYNC-DAG: ldmatrix.sync.aligned.m8n8.x4.shared.b16
// MMASYNC-DAG: ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16
// MMASYNC-DAG: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// MMASYNC-NOT: wgmma
// CHECK-DAG: "kernel": "square_1_kernel"
// CHECK-DAG: "kernel": "square_17_kernel"
// CHECK-DAG: "kernel": "m113_n1023_kernel"
// CHECK-DAG: "kernel": "m1023_n113_causal_masked_rows_kernel"
// CHECK-DAG: "kernel": "square_1023_causal_d128_kernel"
// CHECK-DAG: "kernel": "d80_causal_kernel"
// CHECK-DAG: "kernel": "gqa4_causal_d128_kernel"
// CHECK-DAG: "kernel": "mqa_m113_n1023_kernel"
// CHECK-DAG: "kernel": "window_softcap_kernel"
// CHECK-DAG: "kernel": "causal_window_gqa_d128_kernel"
// CHECK-DAG: "kernel": "f16_scale_kernel"
// CHECK-DAG: "kernel": "w2_bm32_bn128_s3_gqa_causal_kernel"
// CHECK-DAG: "kernel": "w8_bm128_bn16_d64_kernel"
// CHECK-DAG: "kernel": "w1_bm16_bn32_window_mqa_d128_kernel"
// CHECK-DAG: "kernel": "w8_bn128_gqa8_causal_d128_kernel"
// CHECK-DAG: "kernel": "w4_s3_causal_window_masked_rows_kernel"
// CHECK-DAG: "mapping": "attn-map-to-gpu"

func.func @square_1(%q: tensor<1x2x1x64xbf16>, %k: tensor<1x2x1x64xbf16>, %v: tensor<1x2x1x64xbf16>, %o: tensor<1x2x1x64xbf16>, %lse: tensor<1x2x1xf32>, %do: tensor<1x2x1x64xbf16>) -> (tensor<1x2x1x64xbf16>, tensor<1x2x1x64xbf16>, tensor<1x2x1x64xbf16>) {
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do
      : tensor<1x2x1x64xbf16>, tensor<1x2x1x64xbf16>, tensor<1x2x1x64xbf16>, tensor<1x2x1x64xbf16>, tensor<1x2x1xf32>, tensor<1x2x1x64xbf16> -> tensor<1x2x1x64xbf16>, tensor<1x2x1x64xbf16>, tensor<1x2x1x64xbf16>
  return %dq, %dk, %dv : tensor<1x2x1x64xbf16>, tensor<1x2x1x64xbf16>, tensor<1x2x1x64xbf16>
}
func.func @square_17(%q: tensor<1x2x17x64xbf16>, %k: tensor<1x2x17x64xbf16>, %v: tensor<1x2x17x64xbf16>, %o: tensor<1x2x17x64xbf16>, %lse: tensor<1x2x17xf32>, %do: tensor<1x2x17x64xbf16>) -> (tensor<1x2x17x64xbf16>, tensor<1x2x17x64xbf16>, tensor<1x2x17x64xbf16>) {
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do
      : tensor<1x2x17x64xbf16>, tensor<1x2x17x64xbf16>, tensor<1x2x17x64xbf16>, tensor<1x2x17x64xbf16>, tensor<1x2x17xf32>, tensor<1x2x17x64xbf16> -> tensor<1x2x17x64xbf16>, tensor<1x2x17x64xbf16>, tensor<1x2x17x64xbf16>
  return %dq, %dk, %dv : tensor<1x2x17x64xbf16>, tensor<1x2x17x64xbf16>, tensor<1x2x17x64xbf16>
}
func.func @m113_n1023(%q: tensor<1x2x113x64xbf16>, %k: tensor<1x2x1023x64xbf16>, %v: tensor<1x2x1023x64xbf16>, %o: tensor<1x2x113x64xbf16>, %lse: tensor<1x2x113xf32>, %do: tensor<1x2x113x64xbf16>) -> (tensor<1x2x113x64xbf16>, tensor<1x2x1023x64xbf16>, tensor<1x2x1023x64xbf16>) {
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do
      : tensor<1x2x113x64xbf16>, tensor<1x2x1023x64xbf16>, tensor<1x2x1023x64xbf16>, tensor<1x2x113x64xbf16>, tensor<1x2x113xf32>, tensor<1x2x113x64xbf16> -> tensor<1x2x113x64xbf16>, tensor<1x2x1023x64xbf16>, tensor<1x2x1023x64xbf16>
  return %dq, %dk, %dv : tensor<1x2x113x64xbf16>, tensor<1x2x1023x64xbf16>, tensor<1x2x1023x64xbf16>
}
func.func @m1023_n113_causal_masked_rows(%q: tensor<1x2x1023x128xbf16>, %k: tensor<1x2x113x128xbf16>, %v: tensor<1x2x113x128xbf16>, %o: tensor<1x2x1023x128xbf16>, %lse: tensor<1x2x1023xf32>, %do: tensor<1x2x1023x128xbf16>) -> (tensor<1x2x1023x128xbf16>, tensor<1x2x113x128xbf16>, tensor<1x2x113x128xbf16>) {
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do {causal}
      : tensor<1x2x1023x128xbf16>, tensor<1x2x113x128xbf16>, tensor<1x2x113x128xbf16>, tensor<1x2x1023x128xbf16>, tensor<1x2x1023xf32>, tensor<1x2x1023x128xbf16> -> tensor<1x2x1023x128xbf16>, tensor<1x2x113x128xbf16>, tensor<1x2x113x128xbf16>
  return %dq, %dk, %dv : tensor<1x2x1023x128xbf16>, tensor<1x2x113x128xbf16>, tensor<1x2x113x128xbf16>
}
func.func @square_1023_causal_d128(%q: tensor<1x2x1023x128xbf16>, %k: tensor<1x2x1023x128xbf16>, %v: tensor<1x2x1023x128xbf16>, %o: tensor<1x2x1023x128xbf16>, %lse: tensor<1x2x1023xf32>, %do: tensor<1x2x1023x128xbf16>) -> (tensor<1x2x1023x128xbf16>, tensor<1x2x1023x128xbf16>, tensor<1x2x1023x128xbf16>) {
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do {causal}
      : tensor<1x2x1023x128xbf16>, tensor<1x2x1023x128xbf16>, tensor<1x2x1023x128xbf16>, tensor<1x2x1023x128xbf16>, tensor<1x2x1023xf32>, tensor<1x2x1023x128xbf16> -> tensor<1x2x1023x128xbf16>, tensor<1x2x1023x128xbf16>, tensor<1x2x1023x128xbf16>
  return %dq, %dk, %dv : tensor<1x2x1023x128xbf16>, tensor<1x2x1023x128xbf16>, tensor<1x2x1023x128xbf16>
}
func.func @d80_causal(%q: tensor<1x2x113x80xbf16>, %k: tensor<1x2x1023x80xbf16>, %v: tensor<1x2x1023x80xbf16>, %o: tensor<1x2x113x80xbf16>, %lse: tensor<1x2x113xf32>, %do: tensor<1x2x113x80xbf16>) -> (tensor<1x2x113x80xbf16>, tensor<1x2x1023x80xbf16>, tensor<1x2x1023x80xbf16>) {
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do {causal}
      : tensor<1x2x113x80xbf16>, tensor<1x2x1023x80xbf16>, tensor<1x2x1023x80xbf16>, tensor<1x2x113x80xbf16>, tensor<1x2x113xf32>, tensor<1x2x113x80xbf16> -> tensor<1x2x113x80xbf16>, tensor<1x2x1023x80xbf16>, tensor<1x2x1023x80xbf16>
  return %dq, %dk, %dv : tensor<1x2x113x80xbf16>, tensor<1x2x1023x80xbf16>, tensor<1x2x1023x80xbf16>
}
func.func @gqa4_causal_d128(%q: tensor<2x8x113x128xbf16>, %k: tensor<2x2x113x128xbf16>, %v: tensor<2x2x113x128xbf16>, %o: tensor<2x8x113x128xbf16>, %lse: tensor<2x8x113xf32>, %do: tensor<2x8x113x128xbf16>) -> (tensor<2x8x113x128xbf16>, tensor<2x2x113x128xbf16>, tensor<2x2x113x128xbf16>) {
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do {causal}
      : tensor<2x8x113x128xbf16>, tensor<2x2x113x128xbf16>, tensor<2x2x113x128xbf16>, tensor<2x8x113x128xbf16>, tensor<2x8x113xf32>, tensor<2x8x113x128xbf16> -> tensor<2x8x113x128xbf16>, tensor<2x2x113x128xbf16>, tensor<2x2x113x128xbf16>
  return %dq, %dk, %dv : tensor<2x8x113x128xbf16>, tensor<2x2x113x128xbf16>, tensor<2x2x113x128xbf16>
}
func.func @mqa_m113_n1023(%q: tensor<1x4x113x64xbf16>, %k: tensor<1x1x1023x64xbf16>, %v: tensor<1x1x1023x64xbf16>, %o: tensor<1x4x113x64xbf16>, %lse: tensor<1x4x113xf32>, %do: tensor<1x4x113x64xbf16>) -> (tensor<1x4x113x64xbf16>, tensor<1x1x1023x64xbf16>, tensor<1x1x1023x64xbf16>) {
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do
      : tensor<1x4x113x64xbf16>, tensor<1x1x1023x64xbf16>, tensor<1x1x1023x64xbf16>, tensor<1x4x113x64xbf16>, tensor<1x4x113xf32>, tensor<1x4x113x64xbf16> -> tensor<1x4x113x64xbf16>, tensor<1x1x1023x64xbf16>, tensor<1x1x1023x64xbf16>
  return %dq, %dk, %dv : tensor<1x4x113x64xbf16>, tensor<1x1x1023x64xbf16>, tensor<1x1x1023x64xbf16>
}
func.func @window_softcap(%q: tensor<1x2x113x64xbf16>, %k: tensor<1x2x1023x64xbf16>, %v: tensor<1x2x1023x64xbf16>, %o: tensor<1x2x113x64xbf16>, %lse: tensor<1x2x113xf32>, %do: tensor<1x2x113x64xbf16>) -> (tensor<1x2x113x64xbf16>, tensor<1x2x1023x64xbf16>, tensor<1x2x1023x64xbf16>) {
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do {window = array<i64: 32, 8>, softcap = 30.0 : f32}
      : tensor<1x2x113x64xbf16>, tensor<1x2x1023x64xbf16>, tensor<1x2x1023x64xbf16>, tensor<1x2x113x64xbf16>, tensor<1x2x113xf32>, tensor<1x2x113x64xbf16> -> tensor<1x2x113x64xbf16>, tensor<1x2x1023x64xbf16>, tensor<1x2x1023x64xbf16>
  return %dq, %dk, %dv : tensor<1x2x113x64xbf16>, tensor<1x2x1023x64xbf16>, tensor<1x2x1023x64xbf16>
}
func.func @causal_window_gqa_d128(%q: tensor<1x4x1023x128xbf16>, %k: tensor<1x2x1023x128xbf16>, %v: tensor<1x2x1023x128xbf16>, %o: tensor<1x4x1023x128xbf16>, %lse: tensor<1x4x1023xf32>, %do: tensor<1x4x1023x128xbf16>) -> (tensor<1x4x1023x128xbf16>, tensor<1x2x1023x128xbf16>, tensor<1x2x1023x128xbf16>) {
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do {causal, window = array<i64: 100, 0>}
      : tensor<1x4x1023x128xbf16>, tensor<1x2x1023x128xbf16>, tensor<1x2x1023x128xbf16>, tensor<1x4x1023x128xbf16>, tensor<1x4x1023xf32>, tensor<1x4x1023x128xbf16> -> tensor<1x4x1023x128xbf16>, tensor<1x2x1023x128xbf16>, tensor<1x2x1023x128xbf16>
  return %dq, %dk, %dv : tensor<1x4x1023x128xbf16>, tensor<1x2x1023x128xbf16>, tensor<1x2x1023x128xbf16>
}
func.func @f16_scale(%q: tensor<2x2x113x64xf16>, %k: tensor<2x2x113x64xf16>, %v: tensor<2x2x113x64xf16>, %o: tensor<2x2x113x64xf16>, %lse: tensor<2x2x113xf32>, %do: tensor<2x2x113x64xf16>) -> (tensor<2x2x113x64xf16>, tensor<2x2x113x64xf16>, tensor<2x2x113x64xf16>) {
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do {scale = 0.5 : f32}
      : tensor<2x2x113x64xf16>, tensor<2x2x113x64xf16>, tensor<2x2x113x64xf16>, tensor<2x2x113x64xf16>, tensor<2x2x113xf32>, tensor<2x2x113x64xf16> -> tensor<2x2x113x64xf16>, tensor<2x2x113x64xf16>, tensor<2x2x113x64xf16>
  return %dq, %dk, %dv : tensor<2x2x113x64xf16>, tensor<2x2x113x64xf16>, tensor<2x2x113x64xf16>
}
func.func @w2_bm32_bn128_s3_gqa_causal(%q: tensor<1x4x1023x64xbf16>, %k: tensor<1x2x113x64xbf16>, %v: tensor<1x2x113x64xbf16>, %o: tensor<1x4x1023x64xbf16>, %lse: tensor<1x4x1023xf32>, %do: tensor<1x4x1023x64xbf16>) -> (tensor<1x4x1023x64xbf16>, tensor<1x2x113x64xbf16>, tensor<1x2x113x64xbf16>) {
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do {causal, schedule = #attn.schedule<block_m = 32, block_n = 128, warps = 2, stages = 3>}
      : tensor<1x4x1023x64xbf16>, tensor<1x2x113x64xbf16>, tensor<1x2x113x64xbf16>, tensor<1x4x1023x64xbf16>, tensor<1x4x1023xf32>, tensor<1x4x1023x64xbf16> -> tensor<1x4x1023x64xbf16>, tensor<1x2x113x64xbf16>, tensor<1x2x113x64xbf16>
  return %dq, %dk, %dv : tensor<1x4x1023x64xbf16>, tensor<1x2x113x64xbf16>, tensor<1x2x113x64xbf16>
}
func.func @w8_bm128_bn16_d64(%q: tensor<1x2x113x64xbf16>, %k: tensor<1x2x1023x64xbf16>, %v: tensor<1x2x1023x64xbf16>, %o: tensor<1x2x113x64xbf16>, %lse: tensor<1x2x113xf32>, %do: tensor<1x2x113x64xbf16>) -> (tensor<1x2x113x64xbf16>, tensor<1x2x1023x64xbf16>, tensor<1x2x1023x64xbf16>) {
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do {schedule = #attn.schedule<block_m = 128, block_n = 16, warps = 8, stages = 2>}
      : tensor<1x2x113x64xbf16>, tensor<1x2x1023x64xbf16>, tensor<1x2x1023x64xbf16>, tensor<1x2x113x64xbf16>, tensor<1x2x113xf32>, tensor<1x2x113x64xbf16> -> tensor<1x2x113x64xbf16>, tensor<1x2x1023x64xbf16>, tensor<1x2x1023x64xbf16>
  return %dq, %dk, %dv : tensor<1x2x113x64xbf16>, tensor<1x2x1023x64xbf16>, tensor<1x2x1023x64xbf16>
}
func.func @w1_bm16_bn32_window_mqa_d128(%q: tensor<2x2x17x128xbf16>, %k: tensor<2x1x1023x128xbf16>, %v: tensor<2x1x1023x128xbf16>, %o: tensor<2x2x17x128xbf16>, %lse: tensor<2x2x17xf32>, %do: tensor<2x2x17x128xbf16>) -> (tensor<2x2x17x128xbf16>, tensor<2x1x1023x128xbf16>, tensor<2x1x1023x128xbf16>) {
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do {window = array<i64: 40, 40>, schedule = #attn.schedule<block_m = 16, block_n = 32, warps = 1, stages = 2>}
      : tensor<2x2x17x128xbf16>, tensor<2x1x1023x128xbf16>, tensor<2x1x1023x128xbf16>, tensor<2x2x17x128xbf16>, tensor<2x2x17xf32>, tensor<2x2x17x128xbf16> -> tensor<2x2x17x128xbf16>, tensor<2x1x1023x128xbf16>, tensor<2x1x1023x128xbf16>
  return %dq, %dk, %dv : tensor<2x2x17x128xbf16>, tensor<2x1x1023x128xbf16>, tensor<2x1x1023x128xbf16>
}
// Two warpgroups, 128-key dQ tiles: GQA 8:1, causal, odd query count.
func.func @w8_bn128_gqa8_causal_d128(%q: tensor<1x16x239x128xbf16>, %k: tensor<1x2x1023x128xbf16>, %v: tensor<1x2x1023x128xbf16>, %o: tensor<1x16x239x128xbf16>, %lse: tensor<1x16x239xf32>, %do: tensor<1x16x239x128xbf16>) -> (tensor<1x16x239x128xbf16>, tensor<1x2x1023x128xbf16>, tensor<1x2x1023x128xbf16>) {
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do {causal, schedule = #attn.schedule<block_m = 64, block_n = 128, warps = 8, stages = 2>}
      : tensor<1x16x239x128xbf16>, tensor<1x2x1023x128xbf16>, tensor<1x2x1023x128xbf16>, tensor<1x16x239x128xbf16>, tensor<1x16x239xf32>, tensor<1x16x239x128xbf16> -> tensor<1x16x239x128xbf16>, tensor<1x2x1023x128xbf16>, tensor<1x2x1023x128xbf16>
  return %dq, %dk, %dv : tensor<1x16x239x128xbf16>, tensor<1x2x1023x128xbf16>, tensor<1x2x1023x128xbf16>
}
// One warpgroup, 3 stages: causal window with M > N (fully masked rows).
func.func @w4_s3_causal_window_masked_rows(%q: tensor<1x2x1023x64xbf16>, %k: tensor<1x2x17x64xbf16>, %v: tensor<1x2x17x64xbf16>, %o: tensor<1x2x1023x64xbf16>, %lse: tensor<1x2x1023xf32>, %do: tensor<1x2x1023x64xbf16>) -> (tensor<1x2x1023x64xbf16>, tensor<1x2x17x64xbf16>, tensor<1x2x17x64xbf16>) {
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do {causal, window = array<i64: 8, 0>, schedule = #attn.schedule<block_m = 64, block_n = 64, warps = 4, stages = 3>}
      : tensor<1x2x1023x64xbf16>, tensor<1x2x17x64xbf16>, tensor<1x2x17x64xbf16>, tensor<1x2x1023x64xbf16>, tensor<1x2x1023xf32>, tensor<1x2x1023x64xbf16> -> tensor<1x2x1023x64xbf16>, tensor<1x2x17x64xbf16>, tensor<1x2x17x64xbf16>
  return %dq, %dk, %dv : tensor<1x2x1023x64xbf16>, tensor<1x2x17x64xbf16>, tensor<1x2x17x64xbf16>
}
