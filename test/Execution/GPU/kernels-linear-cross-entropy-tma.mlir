// The warp-specialized Cut-Cross-Entropy forward (linear_cross_entropy
// with schedule pipeline = "tma", sm_90a): a producer warpgroup streams each
// step's hidden and weight chunks (64-column, 128-byte swizzled slabs) with
// TMA copies that complete on mbarriers; the other warpgroups run the wgmma
// loop and fold each logits tile into the rows' running state, releasing a
// stage once the wgmma group that read it has completed. Odd sizes (N in
// {1, 17, 33, 113, 300, 1023, 4000}, V in {17, 517, 1000, 1001, 4099, 8191,
// 20000, 32003}: rows past the tokens and the vocabulary zero-filled by
// TMA), hidden sizes 64 to 2304, f16 and bf16, i32 and i64 labels, bias,
// every attribute, every reduction, LSE, split-V, one and two computing
// warpgroups, 2 to 4 stages, 32- to 256-column tiles.
// bench/check_gpu.sh runs every function on the GPU against the float64
// reference with the attn-run options above it (utils/gen_gpu_kernel_check.py
// copies them to bench/gpu_kernels.list); here lit checks the manifest's tensor
// maps and what makes the kernel what it is: the producer's TMA copies and
// register hand-over, mbarrier waits instead of CTA barriers in the loop,
// wgmma, and no spills.
// REQUIRES: ptxas
// RUN: rm -rf %t && attn-opt %s --attn-to-cubin="chip=h200-sxm package-dir=%t" -o /dev/null
// RUN: FileCheck %s --input-file=%t/manifest.json
// RUN: FileCheck %s --check-prefix=PTX --input-file=%t/tma_sum_all_attributes_d256_v32003_kernels.ptx
// RUN: FileCheck %s --check-prefix=PTX-LAST --input-file=%t/tma_sum_all_attributes_d256_v32003_kernels.ptx
// RUN: %ptxas -arch=sm_90a -v %t/tma_sum_all_attributes_d256_v32003_kernels.ptx -o %t/check.cubin 2>&1 | FileCheck %s --check-prefix=PTXAS --implicit-check-not="Performance Loss"
// RUN: %ptxas -arch=sm_90a -v %t/tma_mean_n4000_v20000_d128_split3_kernels.ptx -o %t/check2.cubin 2>&1 | FileCheck %s --check-prefix=PTXAS --implicit-check-not="Performance Loss"
// No binary has a ptxas note (C7513: every wgmma serialized).
// RUN: %python -c "import json, sys; print(sorted(b['name'] for b in json.load(open(sys.argv[1]))['binaries'] if b['ptxas_warnings']))" %t/manifest.json | FileCheck %s --check-prefix=NOTES --match-full-lines
// NOTES: []
// RUN: %python -c "import json, sys; m = json.load(open(sys.argv[1])); l = [f for f in m['functions'] if f['name'] == 'tma_sum_all_attributes_d256_v32003'][0]['launches'][0]; print(l['block'], l['grid'], [json.dumps(a, sort_keys=True) for a in l['args'][:2]])" %t/manifest.json | FileCheck %s --check-prefix=MAP
// Three warpgroups, a block per (128-token tile, split); hidden and weight
// as tensor maps of 64-column slabs of 128 and 256 rows, 128-byte swizzled.
// MAP: [384, 1, 1] [3, 5, 1]
// MAP-SAME: {"box": [128, 64], "buffer": {"index": 0, "kind": "arg"}, "dtype": "bf16", "kind": "tensor_map", "l2_promotion": 256, "shape": [300, 256], "swizzle": 128}
// MAP-SAME: {"box": [256, 64], "buffer": {"index": 1, "kind": "arg"}, "dtype": "bf16", "kind": "tensor_map", "l2_promotion": 256, "shape": [32003, 256], "swizzle": 128}
// The producer gives registers up, prefetches the maps and, per step,
// waits for the stage's release, expects its bytes and issues two copies;
// the computing warpgroups wait for a stage, run four m64n256k16 wgmmas,
// and release the stage of the previous step's group.
// The stage buffers live in the launch's dynamic shared memory, an extern
// array after the static mbarriers (attn-extern-dynamic-shared).
// PTX: .extern .shared .align 16 .b8 __dynamic_shmem__0[];
// PTX: .maxntid 384, 1, 1
// PTX: mbarrier.init.shared.b64
// PTX: setmaxnreg.dec.sync.aligned.u32 24;
// PTX: prefetch.tensormap
// PTX: mbarrier.try_wait.parity.shared.b64
// PTX: mbarrier.arrive.expect_tx.shared.b64
// PTX: cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes
// PTX: cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes
// PTX: setmaxnreg.inc.sync.aligned.u32 240;
// PTX: mbarrier.try_wait.parity.shared.b64
// PTX-NOT: bar.sync
// PTX: wgmma.mma_async.sync.aligned.m64n256k16.f32.bf16.bf16
// PTX: wgmma.mma_async.sync.aligned.m64n256k16.f32.bf16.bf16
// PTX: wgmma.mma_async.sync.aligned.m64n256k16.f32.bf16.bf16
// PTX: wgmma.mma_async.sync.aligned.m64n256k16.f32.bf16.bf16
// PTX-NOT: wgmma.mma_async
// PTX: wgmma.wait_group.sync.aligned 1;
// PTX: mbarrier.arrive.shared.b64
// PTX: ret;
// After a tile's last chunk: the last group's wait, then its stage's
// release, before the fold.
// PTX-LAST: wgmma.wait_group.sync.aligned 0;
// PTX-LAST: mbarrier.arrive.shared.b64
// PTXAS: 0 bytes spill stores, 0 bytes spill loads
// CHECK-DAG: "kernel": "tma_mean_d64_v1000_kernel"
// CHECK-DAG: "kernel": "tma_none_lse_f16_bias_d128_v4099_kernel"
// CHECK-DAG: "kernel": "tma_sum_all_attributes_d256_v32003_kernel"
// CHECK-DAG: "kernel": "tma_mean_d2304_one_token_kernel"
// CHECK-DAG: "kernel": "tma_mean_d64_all_ignored_kernel"
// CHECK-DAG: "kernel": "tma_none_lse_bn64_f16_d192_v17_kernel"
// CHECK-DAG: "kernel": "tma_mean_n4000_v20000_d128_split3_kernel"
// CHECK-DAG: "kernel": "tma_sum_bn32_d64_v1001_kernel"

// attn-run: --tolerance 1e-5
func.func @tma_mean_d64_v1000(%h: tensor<113x64xbf16>, %w: tensor<1000x64xbf16>, %y: tensor<113xi64>) -> tensor<f32> {
  %r0 = attn.linear_cross_entropy %h, %w, %y {schedule = #attn.schedule<block_m = 128, block_n = 256, block_d = 64, warps = 8, stages = 2, pipeline = "tma">} : tensor<113x64xbf16>, tensor<1000x64xbf16>, tensor<113xi64> -> tensor<f32>
  return %r0 : tensor<f32>
}

// attn-run: --tolerance 1e-5
func.func @tma_none_lse_f16_bias_d128_v4099(%h: tensor<17x128xf16>, %w: tensor<4099x128xf16>, %y: tensor<17xi32>, %b: tensor<4099xf16>) -> (tensor<17xf32>, tensor<17xf32>) {
  %r0, %r1 = attn.linear_cross_entropy %h, %w, %y bias(%b : tensor<4099xf16>) {reduction = #attn.reduction<none>, schedule = #attn.schedule<block_m = 64, block_n = 128, block_d = 64, warps = 4, stages = 3, pipeline = "tma">} : tensor<17x128xf16>, tensor<4099x128xf16>, tensor<17xi32> -> tensor<17xf32>, tensor<17xf32>
  return %r0, %r1 : tensor<17xf32>, tensor<17xf32>
}

// attn-run: --input-scale 0.5 --tolerance 1e-5
func.func @tma_sum_all_attributes_d256_v32003(%h: tensor<300x256xbf16>, %w: tensor<32003x256xbf16>, %y: tensor<300xi64>, %b: tensor<32003xbf16>) -> tensor<f32> {
  %r0 = attn.linear_cross_entropy %h, %w, %y bias(%b : tensor<32003xbf16>) {label_smoothing = 0.1 : f32, z_loss = 1.0e-4 : f32, softcap = 15.0 : f32, ignore_index = 3 : i64, reduction = #attn.reduction<sum>, schedule = #attn.schedule<block_m = 128, block_n = 256, block_d = 64, warps = 8, stages = 4, split = 5, pipeline = "tma">} : tensor<300x256xbf16>, tensor<32003x256xbf16>, tensor<300xi64> -> tensor<f32>
  return %r0 : tensor<f32>
}

// attn-run: --ignore-fraction 0 --tolerance 1e-5
func.func @tma_mean_d2304_one_token(%h: tensor<1x2304xbf16>, %w: tensor<8191x2304xbf16>, %y: tensor<1xi64>) -> tensor<f32> {
  %r0 = attn.linear_cross_entropy %h, %w, %y {schedule = #attn.schedule<block_m = 128, block_n = 192, block_d = 64, warps = 8, stages = 4, split = 8, pipeline = "tma">} : tensor<1x2304xbf16>, tensor<8191x2304xbf16>, tensor<1xi64> -> tensor<f32>
  return %r0 : tensor<f32>
}

// attn-run: --ignore-fraction 1 --tolerance 1e-5
func.func @tma_mean_d64_all_ignored(%h: tensor<33x64xbf16>, %w: tensor<517x64xbf16>, %y: tensor<33xi64>) -> tensor<f32> {
  %r0 = attn.linear_cross_entropy %h, %w, %y {schedule = #attn.schedule<block_m = 64, block_n = 64, block_d = 64, warps = 4, stages = 2, pipeline = "tma">} : tensor<33x64xbf16>, tensor<517x64xbf16>, tensor<33xi64> -> tensor<f32>
  return %r0 : tensor<f32>
}

// attn-run: --tolerance 1e-5
func.func @tma_none_lse_bn64_f16_d192_v17(%h: tensor<1023x192xf16>, %w: tensor<17x192xf16>, %y: tensor<1023xi32>, %b: tensor<17xf16>) -> (tensor<1023xf32>, tensor<1023xf32>) {
  %r0, %r1 = attn.linear_cross_entropy %h, %w, %y bias(%b : tensor<17xf16>) {reduction = #attn.reduction<none>, schedule = #attn.schedule<block_m = 64, block_n = 64, block_d = 64, warps = 4, stages = 2, pipeline = "tma">} : tensor<1023x192xf16>, tensor<17x192xf16>, tensor<1023xi32> -> tensor<1023xf32>, tensor<1023xf32>
  return %r0, %r1 : tensor<1023xf32>, tensor<1023xf32>
}

// attn-run: --tolerance 1e-5
func.func @tma_mean_n4000_v20000_d128_split3(%h: tensor<4000x128xbf16>, %w: tensor<20000x128xbf16>, %y: tensor<4000xi64>) -> tensor<f32> {
  %r0 = attn.linear_cross_entropy %h, %w, %y {schedule = #attn.schedule<block_m = 128, block_n = 256, block_d = 64, warps = 8, stages = 4, split = 3, pipeline = "tma">} : tensor<4000x128xbf16>, tensor<20000x128xbf16>, tensor<4000xi64> -> tensor<f32>
  return %r0 : tensor<f32>
}

// attn-run: --tolerance 1e-5
func.func @tma_sum_bn32_d64_v1001(%h: tensor<1023x64xbf16>, %w: tensor<1001x64xbf16>, %y: tensor<1023xi32>) -> tensor<f32> {
  %r0 = attn.linear_cross_entropy %h, %w, %y {ignore_index = 0 : i64, reduction = #attn.reduction<sum>, schedule = #attn.schedule<block_m = 128, block_n = 32, block_d = 64, warps = 8, stages = 3, pipeline = "tma">} : tensor<1023x64xbf16>, tensor<1001x64xbf16>, tensor<1023xi32> -> tensor<f32>
  return %r0 : tensor<f32>
}
