// REQUIRES: ptxas
// The attn-map-to-gpu kernels assemble for sm_90a and sm_80. On sm_90a,
// attention and linear cross-entropy take warpgroup MMA (wgmma, with the
// async-proxy fence after cp.async; PV with P from registers; attention's
// K/V arrive by TMA, its default pipeline at head dim 128 with ping-pong
// between the computing warpgroups and 160-key tiles, causal here); on sm_80
// they take mma.sync + ldmatrix; the row kernels are the same on both. The
// PTX holds the tensor-core and async-copy instructions, and kernels=0
// gives the simple mapping instead.
// RUN: rm -rf %t && attn-opt %s --attn-to-cubin="chip=sm_90a package-dir=%t/sm90a" -o /dev/null
// RUN: attn-opt %s --attn-to-cubin="chip=sm_80 package-dir=%t/sm80" -o /dev/null
// RUN: FileCheck %s --check-prefix=ATT90 --input-file=%t/sm90a/attention_kernels.ptx
// RUN: FileCheck %s --check-prefix=PTX --input-file=%t/sm80/attention_kernels.ptx
// RUN: FileCheck %s --check-prefix=LCE --input-file=%t/sm80/lce_kernels.ptx
// RUN: FileCheck %s --check-prefix=LCE90 --input-file=%t/sm90a/lce_kernels.ptx
// RUN: FileCheck %s --check-prefix=SPEC80 --input-file=%t/sm80/manifest.json
// RUN: FileCheck %s --check-prefix=ROWS --input-file=%t/sm90a/softmax_kernels.ptx
// RUN: FileCheck %s --check-prefix=MANIFEST --input-file=%t/sm90a/manifest.json
// RUN: FileCheck %s --check-prefix=SPEC --input-file=%t/sm90a/manifest.json
// RUN: attn-opt %s --attn-to-cubin="kernels=0 package-dir=%t/simple" -o /dev/null
// RUN: FileCheck %s --check-prefix=SIMPLE --input-file=%t/simple/attention_kernels.ptx

// PTX: .target sm_80
// PTX: cp.async.cg.shared.global
// PTX-DAG: ldmatrix.sync.aligned.m8n8.x4.shared.b16
// PTX-DAG: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// PTX-DAG: ex2.approx
// PTX-DAG: ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16
// ATT90: .target sm_90a
// ATT90: cp.async.cg.shared.global
// ATT90: fence.proxy.async.shared::cta
// ATT90: cp.async.bulk.tensor.4d.shared::cluster.global.tile.mbarrier::complete_tx::bytes
// ATT90: setmaxnreg.inc.sync.aligned.u32 240;
// ATT90: bar.sync {{%r[0-9]+}}, 256;
// ATT90: wgmma.mma_async.sync.aligned.m64n160k16.f32.bf16.bf16
// ATT90: ex2.approx
// ATT90: bar.sync {{%r[0-9]+}}, 256;
// ATT90: wgmma.mma_async.sync.aligned.m64n160k16.f32.bf16.bf16
// ATT90: wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {{.*}}, {%r{{[0-9]+}}, %r{{[0-9]+}}, %r{{[0-9]+}}, %r{{[0-9]+}}}, %rd{{[0-9]+}}, p, 1, 1, 1;
// ATT90: wgmma.wait_group.sync.aligned 1;
// ATT90-NEXT: // begin inline asm
// ATT90-NEXT: // end inline asm
// ATT90-NEXT: mbarrier.arrive.shared.b64
// ATT90-NOT: mma.sync
// LCE: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// LCE-NOT: wgmma
// LCE90: .target sm_90a
// LCE90: .maxntid 384, 1, 1
// LCE90: cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes
// LCE90: mbarrier.try_wait.parity.shared.b64
// LCE90: wgmma.fence.sync.aligned
// LCE90: wgmma.mma_async.sync.aligned.m64n256k16.f32.bf16.bf16
// LCE90: wgmma.commit_group.sync.aligned
// LCE90: wgmma.wait_group.sync.aligned 1
// LCE90: mbarrier.arrive.shared.b64
// ROWS: ld.global.v4.b32
// ROWS: shfl.sync.bfly.b32
// ROWS: st.global.v4.b32
// SIMPLE-NOT: mma.sync
// SIMPLE-NOT: ldmatrix

// The manifest says which functions run attn-map-to-gpu's kernels, and
// under which schedule (the defaults here; LCE with its split-V).
// SPEC: "mapping": "attn-map-to-gpu",
// SPEC: "schedule": "#attn.schedule<block_m = 128, block_n = 160, warps = 8, stages = 2, pipeline = \"tma_pingpong\">"
// SPEC-NEXT: "tensor_core": "wgmma.m64n160k16"
// SPEC: "mapping": "attn-map-to-gpu",
// SPEC: "schedule": "#attn.schedule<block_m = 1, block_n = 4096>"
// SPEC: "mapping": "attn-map-to-gpu",
// SPEC: "schedule": "#attn.schedule<block_m = 128, block_n = 256, block_d = 64, warps = 8, stages = 4, split = 4, pipeline = \"tma\">"
// SPEC-NEXT: "tensor_core": "wgmma.m64n256k16"
// SPEC80: "mapping": "attn-map-to-gpu",
// SPEC80: "tensor_core": "mma.sync.m16n8k16"
// SPEC80: "mapping": "attn-map-to-gpu",
// SPEC80: "mapping": "attn-map-to-gpu",
// SPEC80: "schedule": "#attn.schedule<block_m = 128, block_n = 128, block_d = 64, warps = 8, stages = 2, split = 8, chip = \"sm_80\">"
// SPEC80-NEXT: "tensor_core": "mma.sync.m16n8k16"

// No spills in the attention and LCE kernels (ptxas -v in the manifest).
// MANIFEST: "name": "attention_kernel",
// MANIFEST-NEXT: "registers": {{[0-9]+}},
// MANIFEST-NEXT: "shared_bytes": {{[0-9]+}},
// MANIFEST-NEXT: "spill_bytes": 0,
// MANIFEST: "name": "lce_kernel",
// MANIFEST-NEXT: "registers": {{[0-9]+}},
// MANIFEST-NEXT: "shared_bytes": {{[0-9]+}},
// MANIFEST-NEXT: "spill_bytes": 0,

func.func @attention(%q: tensor<2x8x1000x128xbf16>, %k: tensor<2x2x1000x128xbf16>, %v: tensor<2x2x1000x128xbf16>) -> tensor<2x8x1000x128xbf16> {
  %o = attn.attention %q, %k, %v {causal} : tensor<2x8x1000x128xbf16>, tensor<2x2x1000x128xbf16>, tensor<2x2x1000x128xbf16> -> tensor<2x8x1000x128xbf16>
  return %o : tensor<2x8x1000x128xbf16>
}

func.func @softmax(%x: tensor<64x4096xbf16>) -> tensor<64x4096xbf16> {
  %y = attn.softmax %x, dim = 1 : tensor<64x4096xbf16> -> tensor<64x4096xbf16>
  return %y : tensor<64x4096xbf16>
}

func.func @lce(%h: tensor<64x256xbf16>, %w: tensor<1000x256xbf16>, %y: tensor<64xi64>) -> tensor<f32> {
  %0 = attn.linear_cross_entropy %h, %w, %y : tensor<64x256xbf16>, tensor<1000x256xbf16>, tensor<64xi64> -> tensor<f32>
  return %0 : tensor<f32>
}
