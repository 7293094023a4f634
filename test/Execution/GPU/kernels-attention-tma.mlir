// The warp-specialized attention forward (schedule pipeline = "tma",
// sm_90a): a producer warpgroup streams K/V tiles with TMA copies that
// complete on mbarriers, the other warpgroups run the warpgroup-MMA key loop
// with more registers (setmaxnreg). Odd sizes (M, N in {1, 17, 113, 1023,
// 4000, 4099}), keys past the end zero-filled by TMA, head dims 64 to 256,
// f16, GQA 4:1 and MQA, causal, window with softcap, split-KV decoding,
// one and two computing warpgroups, 2 to 4 stages, 64- to 256-key tiles
// (176 and 112 too), and "tma_pingpong" (the two computing warpgroups take
// turns at the tensor cores) on the same kinds of problem, blocks with no
// key tile included.
// bench/check_gpu.sh runs every function on the GPU against the float64
// reference (bench/gpu_kernels.list); here lit checks the manifest's tensor
// maps and what makes the kernel what it is: the producer's TMA copies and
// register hand-over, mbarrier waits instead of CTA barriers in the key
// loop, wgmma, and no spills.
// REQUIRES: ptxas
// RUN: rm -rf %t && attn-opt %s --attn-to-cubin="chip=h200-sxm package-dir=%t" -o /dev/null
// RUN: FileCheck %s --input-file=%t/manifest.json
// RUN: FileCheck %s --check-prefix=PTX --input-file=%t/tma_square_1023_causal_d128_kernels.ptx
// RUN: %ptxas -arch=sm_90a -v %t/tma_square_1023_causal_d128_kernels.ptx -o %t/check.cubin 2>&1 | FileCheck %s --check-prefix=PTXAS --implicit-check-not="Performance Loss"
// RUN: FileCheck %s --check-prefix=PP --input-file=%t/tma_pingpong_square_1023_causal_d128_kernels.ptx
// RUN: %ptxas -arch=sm_90a -v %t/tma_pingpong_square_1023_causal_d128_kernels.ptx -o %t/check-pp.cubin 2>&1 | FileCheck %s --check-prefix=PTXAS --implicit-check-not="Performance Loss"
// ptxas runs every wgmma asynchronously (no C7513 note) except where a
// window leaves a tile or two per block: a known gap.
// RUN: %python -c "import json, sys; print(sorted(b['name'] for b in json.load(open(sys.argv[1]))['binaries'] if b['ptxas_warnings']))" %t/manifest.json | FileCheck %s --check-prefix=NOTES --match-full-lines
// NOTES: ['tma_mqa_window_softcap_d64_kernels']
// RUN: %python -c "import json, sys; m = json.load(open(sys.argv[1])); l = [f for f in m['functions'] if f['name'] == 'tma_square_1023_causal_d128'][0]['launches'][0]; print(l['block'], [json.dumps(a, sort_keys=True) for a in l['args']])" %t/manifest.json | FileCheck %s --check-prefix=MAP
// Three warpgroups; K and V as tensor maps of 64-column slabs of 128-key
// tiles, 128-byte swizzled.
// MAP: [384, 1, 1]
// MAP-SAME: {"box": [1, 1, 128, 64], "buffer": {"index": 1, "kind": "arg"}, "dtype": "bf16", "kind": "tensor_map", "l2_promotion": 256, "shape": [1, 2, 1023, 128], "swizzle": 128}
// MAP-SAME: {"box": [1, 1, 128, 64], "buffer": {"index": 2, "kind": "arg"}, "dtype": "bf16", "kind": "tensor_map", "l2_promotion": 256, "shape": [1, 2, 1023, 128], "swizzle": 128}
// PTX: .maxntid 384, 1, 1
// PTX: mbarrier.init.shared.b64
// PTX: setmaxnreg.dec.sync.aligned.u32 24;
// PTX: prefetch.tensormap
// PTX: mbarrier.try_wait.parity.shared.b64
// PTX: mbarrier.arrive.expect_tx.shared.b64
// PTX: cp.async.bulk.tensor.4d.shared::cluster.global.tile.mbarrier::complete_tx::bytes
// PTX: setmaxnreg.inc.sync.aligned.u32 240;
// PTX: mbarrier.try_wait.parity.shared.b64
// PTX: wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16
// PTX: mbarrier.arrive.shared.b64
// PTX-NOT: bar.sync
// PTX: wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16
// PTX: ret;
// PTXAS: 0 bytes spill stores, 0 bytes spill loads
// Ping-pong: warpgroup 1 lets warpgroup 0 begin; each step's MMAs sit
// between a sync on the warpgroup's named barrier and an arrival at the
// other's (ids selected per warpgroup, not branched on).
// PP: .maxntid 384, 1, 1
// PP: setmaxnreg.dec.sync.aligned.u32 24;
// PP: setmaxnreg.inc.sync.aligned.u32 240;
// PP: bar.arrive 1, 256;
// PP: bar.sync {{%r[0-9]+}}, 256;
// PP-NEXT: wgmma.fence.sync.aligned;
// PP: wgmma.commit_group.sync.aligned;
// PP-NOT: wgmma
// PP: bar.arrive {{%r[0-9]+}}, 256;
// Warpgroup 0 takes warpgroup 1's last arrival after its last PV.
// PP: bar.sync 1, 256;
// The loop: the QK^T of tile j and the PV of tile j - 1 in one turn.
// PP: bar.sync {{%r[0-9]+}}, 256;
// PP: wgmma.commit_group.sync.aligned;
// PP: wgmma.commit_group.sync.aligned;
// PP-NOT: wgmma
// PP: bar.arrive {{%r[0-9]+}}, 256;
// CHECK-DAG: "kernel": "tma_square_1_kernel"
// CHECK-DAG: "kernel": "tma_square_17_kernel"
// CHECK-DAG: "kernel": "tma_m113_n1023_d128_kernel"
// CHECK-DAG: "kernel": "tma_square_1023_causal_d128_kernel"
// CHECK-DAG: "kernel": "tma_m1023_n17_causal_d64_kernel"
// CHECK-DAG: "kernel": "tma_m17_n4000_d64_bn160_kernel"
// CHECK-DAG: "kernel": "tma_gqa4_causal_d128_stages4_kernel"
// CHECK-DAG: "kernel": "tma_mqa_window_softcap_d64_kernel"
// CHECK-DAG: "kernel": "tma_one_warpgroup_d256_kernel"
// CHECK-DAG: "kernel": "tma_f16_d192_kernel"
// CHECK-DAG: "kernel": "tma_decode_split4_d128_kernel"
// CHECK-DAG: "kernel": "tma_pingpong_square_1023_causal_d128_kernel"
// CHECK-DAG: "kernel": "tma_pingpong_m1023_n17_causal_d64_kernel"
// CHECK-DAG: "kernel": "tma_pingpong_gqa4_window_softcap_d128_bn176_kernel"
// CHECK-DAG: "kernel": "tma_pingpong_m4000_n4099_d64_bn112_kernel"
// CHECK-DAG: "kernel": "tma_pingpong_d256_kernel"
// CHECK-DAG: "kernel": "tma_m4000_n4099_d128_bn176_kernel"

func.func @tma_square_1(%q: tensor<1x2x1x64xbf16>, %k: tensor<1x2x1x64xbf16>, %v: tensor<1x2x1x64xbf16>) -> (tensor<1x2x1x64xbf16>, tensor<1x2x1xf32>) {
  %o, %l = attn.attention %q, %k, %v {schedule = #attn.schedule<block_m = 128, block_n = 128, warps = 8, stages = 2, pipeline = "tma", chip = "h200-sxm">} : tensor<1x2x1x64xbf16>, tensor<1x2x1x64xbf16>, tensor<1x2x1x64xbf16> -> tensor<1x2x1x64xbf16>, tensor<1x2x1xf32>
  return %o, %l : tensor<1x2x1x64xbf16>, tensor<1x2x1xf32>
}

func.func @tma_square_17(%q: tensor<1x2x17x64xbf16>, %k: tensor<1x2x17x64xbf16>, %v: tensor<1x2x17x64xbf16>) -> (tensor<1x2x17x64xbf16>, tensor<1x2x17xf32>) {
  %o, %l = attn.attention %q, %k, %v {schedule = #attn.schedule<block_m = 128, block_n = 128, warps = 8, stages = 2, pipeline = "tma", chip = "h200-sxm">} : tensor<1x2x17x64xbf16>, tensor<1x2x17x64xbf16>, tensor<1x2x17x64xbf16> -> tensor<1x2x17x64xbf16>, tensor<1x2x17xf32>
  return %o, %l : tensor<1x2x17x64xbf16>, tensor<1x2x17xf32>
}

func.func @tma_m113_n1023_d128(%q: tensor<2x2x113x128xbf16>, %k: tensor<2x2x1023x128xbf16>, %v: tensor<2x2x1023x128xbf16>) -> (tensor<2x2x113x128xbf16>, tensor<2x2x113xf32>) {
  %o, %l = attn.attention %q, %k, %v {schedule = #attn.schedule<block_m = 128, block_n = 64, warps = 8, stages = 2, pipeline = "tma", chip = "h200-sxm">} : tensor<2x2x113x128xbf16>, tensor<2x2x1023x128xbf16>, tensor<2x2x1023x128xbf16> -> tensor<2x2x113x128xbf16>, tensor<2x2x113xf32>
  return %o, %l : tensor<2x2x113x128xbf16>, tensor<2x2x113xf32>
}

func.func @tma_square_1023_causal_d128(%q: tensor<1x2x1023x128xbf16>, %k: tensor<1x2x1023x128xbf16>, %v: tensor<1x2x1023x128xbf16>) -> (tensor<1x2x1023x128xbf16>, tensor<1x2x1023xf32>) {
  %o, %l = attn.attention %q, %k, %v {causal, schedule = #attn.schedule<block_m = 128, block_n = 128, warps = 8, stages = 2, pipeline = "tma", chip = "h200-sxm">} : tensor<1x2x1023x128xbf16>, tensor<1x2x1023x128xbf16>, tensor<1x2x1023x128xbf16> -> tensor<1x2x1023x128xbf16>, tensor<1x2x1023xf32>
  return %o, %l : tensor<1x2x1023x128xbf16>, tensor<1x2x1023xf32>
}

func.func @tma_m1023_n17_causal_d64(%q: tensor<1x2x1023x64xbf16>, %k: tensor<1x2x17x64xbf16>, %v: tensor<1x2x17x64xbf16>) -> (tensor<1x2x1023x64xbf16>, tensor<1x2x1023xf32>) {
  %o, %l = attn.attention %q, %k, %v {causal, schedule = #attn.schedule<block_m = 128, block_n = 64, warps = 8, stages = 3, pipeline = "tma", chip = "h200-sxm">} : tensor<1x2x1023x64xbf16>, tensor<1x2x17x64xbf16>, tensor<1x2x17x64xbf16> -> tensor<1x2x1023x64xbf16>, tensor<1x2x1023xf32>
  return %o, %l : tensor<1x2x1023x64xbf16>, tensor<1x2x1023xf32>
}

func.func @tma_m17_n4000_d64_bn160(%q: tensor<1x2x17x64xbf16>, %k: tensor<1x2x4000x64xbf16>, %v: tensor<1x2x4000x64xbf16>) -> (tensor<1x2x17x64xbf16>, tensor<1x2x17xf32>) {
  %o, %l = attn.attention %q, %k, %v {schedule = #attn.schedule<block_m = 128, block_n = 160, warps = 8, stages = 2, pipeline = "tma", chip = "h200-sxm">} : tensor<1x2x17x64xbf16>, tensor<1x2x4000x64xbf16>, tensor<1x2x4000x64xbf16> -> tensor<1x2x17x64xbf16>, tensor<1x2x17xf32>
  return %o, %l : tensor<1x2x17x64xbf16>, tensor<1x2x17xf32>
}

func.func @tma_gqa4_causal_d128_stages4(%q: tensor<2x8x113x128xbf16>, %k: tensor<2x2x1023x128xbf16>, %v: tensor<2x2x1023x128xbf16>) -> (tensor<2x8x113x128xbf16>, tensor<2x8x113xf32>) {
  %o, %l = attn.attention %q, %k, %v {causal, schedule = #attn.schedule<block_m = 128, block_n = 64, warps = 8, stages = 4, pipeline = "tma", chip = "h200-sxm">} : tensor<2x8x113x128xbf16>, tensor<2x2x1023x128xbf16>, tensor<2x2x1023x128xbf16> -> tensor<2x8x113x128xbf16>, tensor<2x8x113xf32>
  return %o, %l : tensor<2x8x113x128xbf16>, tensor<2x8x113xf32>
}

func.func @tma_mqa_window_softcap_d64(%q: tensor<1x4x113x64xbf16>, %k: tensor<1x1x1023x64xbf16>, %v: tensor<1x1x1023x64xbf16>) -> (tensor<1x4x113x64xbf16>, tensor<1x4x113xf32>) {
  %o, %l = attn.attention %q, %k, %v {window = array<i64: 32, 8>, softcap = 30.0 : f32, schedule = #attn.schedule<block_m = 128, block_n = 128, warps = 8, stages = 2, pipeline = "tma", chip = "h200-sxm">} : tensor<1x4x113x64xbf16>, tensor<1x1x1023x64xbf16>, tensor<1x1x1023x64xbf16> -> tensor<1x4x113x64xbf16>, tensor<1x4x113xf32>
  return %o, %l : tensor<1x4x113x64xbf16>, tensor<1x4x113xf32>
}

func.func @tma_one_warpgroup_d256(%q: tensor<1x2x113x256xbf16>, %k: tensor<1x2x1023x256xbf16>, %v: tensor<1x2x1023x256xbf16>) -> (tensor<1x2x113x256xbf16>, tensor<1x2x113xf32>) {
  %o, %l = attn.attention %q, %k, %v {causal, schedule = #attn.schedule<block_m = 64, block_n = 32, warps = 4, stages = 2, pipeline = "tma", chip = "h200-sxm">} : tensor<1x2x113x256xbf16>, tensor<1x2x1023x256xbf16>, tensor<1x2x1023x256xbf16> -> tensor<1x2x113x256xbf16>, tensor<1x2x113xf32>
  return %o, %l : tensor<1x2x113x256xbf16>, tensor<1x2x113xf32>
}

func.func @tma_f16_d192(%q: tensor<1x2x113x192xf16>, %k: tensor<1x2x1023x192xf16>, %v: tensor<1x2x1023x192xf16>) -> (tensor<1x2x113x192xf16>, tensor<1x2x113xf32>) {
  %o, %l = attn.attention %q, %k, %v {schedule = #attn.schedule<block_m = 128, block_n = 64, warps = 8, stages = 2, pipeline = "tma", chip = "h200-sxm">} : tensor<1x2x113x192xf16>, tensor<1x2x1023x192xf16>, tensor<1x2x1023x192xf16> -> tensor<1x2x113x192xf16>, tensor<1x2x113xf32>
  return %o, %l : tensor<1x2x113x192xf16>, tensor<1x2x113xf32>
}

func.func @tma_decode_split4_d128(%q: tensor<2x8x1x128xbf16>, %k: tensor<2x2x4099x128xbf16>, %v: tensor<2x2x4099x128xbf16>) -> (tensor<2x8x1x128xbf16>, tensor<2x8x1xf32>) {
  %o, %l = attn.attention %q, %k, %v {schedule = #attn.schedule<block_m = 64, block_n = 64, warps = 4, stages = 2, split = 4, pipeline = "tma", chip = "h200-sxm">} : tensor<2x8x1x128xbf16>, tensor<2x2x4099x128xbf16>, tensor<2x2x4099x128xbf16> -> tensor<2x8x1x128xbf16>, tensor<2x8x1xf32>
  return %o, %l : tensor<2x8x1x128xbf16>, tensor<2x8x1xf32>
}

func.func @tma_pingpong_square_1023_causal_d128(%q: tensor<1x2x1023x128xbf16>, %k: tensor<1x2x1023x128xbf16>, %v: tensor<1x2x1023x128xbf16>) -> (tensor<1x2x1023x128xbf16>, tensor<1x2x1023xf32>) {
  %o, %l = attn.attention %q, %k, %v {causal, schedule = #attn.schedule<block_m = 128, block_n = 128, warps = 8, stages = 2, pipeline = "tma_pingpong", chip = "h200-sxm">} : tensor<1x2x1023x128xbf16>, tensor<1x2x1023x128xbf16>, tensor<1x2x1023x128xbf16> -> tensor<1x2x1023x128xbf16>, tensor<1x2x1023xf32>
  return %o, %l : tensor<1x2x1023x128xbf16>, tensor<1x2x1023xf32>
}

func.func @tma_pingpong_m1023_n17_causal_d64(%q: tensor<1x2x1023x64xbf16>, %k: tensor<1x2x17x64xbf16>, %v: tensor<1x2x17x64xbf16>) -> (tensor<1x2x1023x64xbf16>, tensor<1x2x1023xf32>) {
  %o, %l = attn.attention %q, %k, %v {causal, schedule = #attn.schedule<block_m = 128, block_n = 64, warps = 8, stages = 3, pipeline = "tma_pingpong", chip = "h200-sxm">} : tensor<1x2x1023x64xbf16>, tensor<1x2x17x64xbf16>, tensor<1x2x17x64xbf16> -> tensor<1x2x1023x64xbf16>, tensor<1x2x1023xf32>
  return %o, %l : tensor<1x2x1023x64xbf16>, tensor<1x2x1023xf32>
}

func.func @tma_pingpong_gqa4_window_softcap_d128_bn176(%q: tensor<2x8x113x128xbf16>, %k: tensor<2x2x1023x128xbf16>, %v: tensor<2x2x1023x128xbf16>) -> (tensor<2x8x113x128xbf16>, tensor<2x8x113xf32>) {
  %o, %l = attn.attention %q, %k, %v {window = array<i64: 200, 0>, softcap = 30.0 : f32, schedule = #attn.schedule<block_m = 128, block_n = 176, warps = 8, stages = 2, pipeline = "tma_pingpong", chip = "h200-sxm">} : tensor<2x8x113x128xbf16>, tensor<2x2x1023x128xbf16>, tensor<2x2x1023x128xbf16> -> tensor<2x8x113x128xbf16>, tensor<2x8x113xf32>
  return %o, %l : tensor<2x8x113x128xbf16>, tensor<2x8x113xf32>
}

func.func @tma_pingpong_m4000_n4099_d64_bn112(%q: tensor<1x2x4000x64xbf16>, %k: tensor<1x2x4099x64xbf16>, %v: tensor<1x2x4099x64xbf16>) -> (tensor<1x2x4000x64xbf16>, tensor<1x2x4000xf32>) {
  %o, %l = attn.attention %q, %k, %v {schedule = #attn.schedule<block_m = 128, block_n = 112, warps = 8, stages = 3, pipeline = "tma_pingpong", chip = "h200-sxm">} : tensor<1x2x4000x64xbf16>, tensor<1x2x4099x64xbf16>, tensor<1x2x4099x64xbf16> -> tensor<1x2x4000x64xbf16>, tensor<1x2x4000xf32>
  return %o, %l : tensor<1x2x4000x64xbf16>, tensor<1x2x4000xf32>
}

func.func @tma_pingpong_d256(%q: tensor<1x2x113x256xbf16>, %k: tensor<1x2x1023x256xbf16>, %v: tensor<1x2x1023x256xbf16>) -> (tensor<1x2x113x256xbf16>, tensor<1x2x113xf32>) {
  %o, %l = attn.attention %q, %k, %v {schedule = #attn.schedule<block_m = 128, block_n = 64, warps = 8, stages = 2, pipeline = "tma_pingpong", chip = "h200-sxm">} : tensor<1x2x113x256xbf16>, tensor<1x2x1023x256xbf16>, tensor<1x2x1023x256xbf16> -> tensor<1x2x113x256xbf16>, tensor<1x2x113xf32>
  return %o, %l : tensor<1x2x113x256xbf16>, tensor<1x2x113xf32>
}

func.func @tma_m4000_n4099_d128_bn176(%q: tensor<1x2x4000x128xbf16>, %k: tensor<1x2x4099x128xbf16>, %v: tensor<1x2x4099x128xbf16>) -> (tensor<1x2x4000x128xbf16>, tensor<1x2x4000xf32>) {
  %o, %l = attn.attention %q, %k, %v {schedule = #attn.schedule<block_m = 128, block_n = 176, warps = 8, stages = 2, pipeline = "tma", chip = "h200-sxm">} : tensor<1x2x4000x128xbf16>, tensor<1x2x4099x128xbf16>, tensor<1x2x4099x128xbf16> -> tensor<1x2x4000x128xbf16>, tensor<1x2x4000xf32>
  return %o, %l : tensor<1x2x4000x128xbf16>, tensor<1x2x4000xf32>
}
