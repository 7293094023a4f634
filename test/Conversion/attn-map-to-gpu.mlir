// RUN: attn-opt %s -split-input-file -verify-diagnostics --attn-map-to-gpu | FileCheck %s

// Attention (GQA 4:1, causal, LSE) on sm_90a with head dim 128 on the
// cp.async pipeline (schedule 128 x 64, 8 warps, 5 stages): two warpgroups
// of 64 query rows;
// Q and K/V tiles arrive by cp.async into 128-byte-swizzled slabs past a
// 1024-byte aligned base; the first QK^T (8 wgmma m64n64k16 over the head
// dim, the first without accumulator) is waited for and its softmax runs;
// then step j of the key loop issues the QK^T of tile j, rescales O and
// issues the PV of tile j - 1 as wgmma m64n128k16 with P from registers
// (inline PTX: nvvm.wgmma.mma_async takes A only from shared memory) and V
// transposed, waits for the scores only, and runs tile j's softmax while
// that PV is in flight. Empty asm statements pin the accumulators around
// the waits and keep the in-flight P live, so that ptxas lets the wgmmas
// run asynchronously. The loop carries O (64 f32), the running max, sum and
// O rescale (2 rows each) and the previous tile's P (16 registers). The
// last tile's PV is peeled.
// Causal: block x takes row tile 3 - x (the heaviest tiles start first).
// CHECK-LABEL: func @attention_wgmma
// CHECK: gpu.launch blocks(%[[BX:.+]], %{{.+}}, %{{.+}}) in (%{{.+}} = %c4{{(_[0-9]+)?}}, %{{.+}} = %c2{{(_[0-9]+)?}}, %{{.+}} = %c2{{(_[0-9]+)?}}) threads({{.*}}) in (%{{.+}} = %c256{{(_[0-9]+)?}}, {{.*}}) dynamic_shared_memory_size %c197632_i32
// CHECK: arith.subi %c3{{(_[0-9]+)?}}, %[[BX]] : index
// CHECK: memref.extract_aligned_pointer_as_index
// CHECK: nvgpu.device_async_copy {{.*}} : memref<2x8x100x128xbf16> to memref<16384xbf16, #gpu.address_space<workgroup>>
// CHECK: nvgpu.device_async_copy {{.*}} : memref<2x2x130x128xbf16> to memref<40960xbf16, #gpu.address_space<workgroup>>
// CHECK: nvvm.cp.async.wait.group 3
// CHECK-NEXT: nvvm.fence.proxy {kind = #nvvm.proxy_kind<async.shared>, space = #nvvm.shared_space<cta>}
// CHECK-NEXT: gpu.barrier
// CHECK: scf.if
// CHECK: nvvm.wgmma.fence.aligned
// CHECK: nvvm.wgmma.mma_async {{.*}} <m = 64, n = 64, k = 16>, D[<f32>, <zero>], A[<bf16>, <one>, <row>], B[<bf16>, <one>, <col>]
// CHECK-COUNT-7: nvvm.wgmma.mma_async {{.*}} <m = 64, n = 64, k = 16>, D[<f32>, <one>], A[<bf16>, <one>, <row>], B[<bf16>, <one>, <col>]
// CHECK: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK: llvm.inline_asm has_side_effects asm_dialect = att "", "=f
// CHECK: math.exp2 {{.*}} fastmath<afn>
// CHECK: %{{.+}}:23 = scf.for
// CHECK: nvvm.cp.async.wait.group 2
// CHECK-NEXT: nvvm.fence.proxy
// CHECK-NEXT: gpu.barrier
// CHECK: nvgpu.device_async_copy
// CHECK: nvvm.cp.async.commit.group
// CHECK: nvvm.wgmma.fence.aligned
// CHECK-COUNT-8: nvvm.wgmma.mma_async
// CHECK: nvvm.wgmma.commit.group.sync.aligned
// CHECK: llvm.inline_asm has_side_effects asm_dialect = att "", "=f
// CHECK-NEXT: nvvm.wgmma.fence.aligned
// CHECK: llvm.inline_asm has_side_effects {{.*}}wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {{.*}}, p, 1, 1, 1;
// CHECK: nvvm.wgmma.commit.group.sync.aligned
// CHECK-NEXT: nvvm.wgmma.wait.group.sync.aligned 1
// CHECK: gpu.shuffle  xor
// CHECK: math.exp2 {{.*}} fastmath<afn>
// CHECK: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK: llvm.inline_asm has_side_effects asm_dialect = att "", "r,r,r,r
// CHECK: scf.yield
// CHECK: llvm.inline_asm has_side_effects {{.*}}wgmma.mma_async.sync.aligned.m64n128k16
// CHECK: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK: vector.store {{.*}} : memref<2x8x100x128xbf16>, vector<2xbf16>
// CHECK: gpu.terminator
// CHECK-NOT: attn.attention
func.func @attention_wgmma(%q: tensor<2x8x100x128xbf16>, %k: tensor<2x2x130x128xbf16>, %v: tensor<2x2x130x128xbf16>) -> (tensor<2x8x100x128xbf16>, tensor<2x8x100xf32>) {
  %o, %l = attn.attention %q, %k, %v {causal, schedule = #attn.schedule<block_m = 128, block_n = 64, warps = 8, stages = 5>} : tensor<2x8x100x128xbf16>, tensor<2x2x130x128xbf16>, tensor<2x2x130x128xbf16> -> tensor<2x8x100x128xbf16>, tensor<2x8x100xf32>
  return %o, %l : tensor<2x8x100x128xbf16>, tensor<2x8x100xf32>
}

// -----

// The mma.sync form (sm_80, or a schedule wgmma does not fit; here the
// sm_80 default 128 x 64, 4 warps, 2 stages): the 4 query heads of a kv
// head are packed into 400 rows, 4 blocks of 128 rows (4 warps of 2 x 16
// rows) per (kv head, batch); Q and the first K/V tile arrive by cp.async (zero-filling rows
// past the end); the key loop carries 2 x 8 output tiles x 4 + running max
// and sum (4 rows each) = 72 values; QK^T and PV are m16n8k16 MMAs fed by
// ldmatrix (transposed for V).
// CHECK-LABEL: func @attention_gqa_causal
// CHECK-DAG: %[[Q:.+]] = bufferization.to_buffer %arg0 read_only
// CHECK-DAG: %[[K:.+]] = bufferization.to_buffer %arg1 read_only
// CHECK-DAG: %[[OUT:.+]] = memref.alloc() : memref<2x8x100x64xbf16>
// CHECK-DAG: %[[LSE:.+]] = memref.alloc() : memref<2x8x100xf32>
// CHECK: gpu.launch blocks({{.*}}) in (%{{.+}} = %c4{{(_[0-9]+)?}}, %{{.+}} = %c2{{(_[0-9]+)?}}, %{{.+}} = %c2{{(_[0-9]+)?}}) threads({{.*}}) in (%{{.+}} = %c128{{(_[0-9]+)?}}, {{.*}}) dynamic_shared_memory_size %c55296_i32
// CHECK: gpu.dynamic_shared_memory
// CHECK: nvgpu.device_async_copy %[[Q]][{{.*}}], %{{.+}}[{{.*}}], 8, %{{.+}} {bypassL1} : memref<2x8x100x64xbf16> to memref<128x72xbf16, #gpu.address_space<workgroup>>
// CHECK: nvvm.cp.async.commit.group
// CHECK: nvgpu.device_async_copy %[[K]]
// CHECK: nvvm.cp.async.wait.group 0
// CHECK: gpu.barrier
// CHECK: nvgpu.ldmatrix %{{.+}} {numTiles = 4 : i32, transpose = false} : memref<128x72xbf16, #gpu.address_space<workgroup>> -> vector<4x2xbf16>
// CHECK: %{{.+}}:72 = scf.for
// CHECK: nvgpu.ldmatrix %{{.+}} {numTiles = 4 : i32, transpose = false} : memref<2x64x72xbf16
// CHECK: nvvm.mma.sync {{.*}} multiplicandAPtxType = #nvvm.mma_type<bf16>{{.*}}shape = #nvvm.shape<m = 16, n = 8, k = 16>
// CHECK: scf.if
// CHECK: gpu.shuffle  xor
// CHECK: math.exp2 {{.*}} fastmath<afn>
// CHECK: arith.truncf {{.*}} : vector<2xf32> to vector<2xbf16>
// CHECK: nvgpu.ldmatrix %{{.+}} {numTiles = 4 : i32, transpose = true}
// CHECK: nvvm.mma.sync
// CHECK: scf.yield
// CHECK: vector.store %{{.+}}, %[[OUT]]{{.*}} {alignment = 4 : i64} : memref<2x8x100x64xbf16>, vector<2xbf16>
// CHECK: memref.store %{{.+}}, %[[LSE]]
// CHECK: gpu.terminator
// CHECK: bufferization.to_tensor %[[OUT]] restrict writable
// CHECK: bufferization.to_tensor %[[LSE]] restrict writable
// CHECK-NOT: attn.attention
func.func @attention_gqa_causal(%q: tensor<2x8x100x64xbf16>, %k: tensor<2x2x130x64xbf16>, %v: tensor<2x2x130x64xbf16>) -> (tensor<2x8x100x64xbf16>, tensor<2x8x100xf32>) {
  %o, %l = attn.attention %q, %k, %v {causal, schedule = #attn.schedule<block_m = 128, block_n = 64, warps = 4, stages = 2>} : tensor<2x8x100x64xbf16>, tensor<2x2x130x64xbf16>, tensor<2x2x130x64xbf16> -> tensor<2x8x100x64xbf16>, tensor<2x8x100xf32>
  return %o, %l : tensor<2x8x100x64xbf16>, tensor<2x8x100xf32>
}

// -----

// Decoding (one query row, 4096 keys) on mma.sync (head dim 128 takes the
// TMA pipeline by default: @attention_tma): one warp per block and 8 splits
// of the key tiles; the splits write f32 partial
// outputs and LSEs, and a second kernel merges them.
// CHECK-LABEL: func @decode_split
// CHECK-DAG: %[[PO:.+]] = memref.alloc() : memref<8x1x4x1x128xf32>
// CHECK-DAG: %[[PL:.+]] = memref.alloc() : memref<8x1x4x1xf32>
// CHECK: gpu.launch blocks({{.*}}) in (%{{.+}} = %c1{{(_[0-9]+)?}}, %{{.+}} = %c1{{(_[0-9]+)?}}, %{{.+}} = %c8{{(_[0-9]+)?}}) threads({{.*}}) in (%{{.+}} = %c32{{(_[0-9]+)?}}, {{.*}}) dynamic_shared_memory_size
// CHECK: vector.store %{{.+}}, %[[PO]]{{.*}} : memref<8x1x4x1x128xf32>, vector<2xf32>
// CHECK: memref.store %{{.+}}, %[[PL]]
// CHECK: gpu.launch blocks({{.*}}) in (%{{.+}} = %c2{{(_[0-9]+)?}}, {{.*}}) threads({{.*}}) in (%{{.+}} = %c256{{(_[0-9]+)?}},
// CHECK-COUNT-8: memref.load %[[PL]]
// CHECK: memref.dealloc %[[PO]]
// CHECK: memref.dealloc %[[PL]]
func.func @decode_split(%q: tensor<1x4x1x128xbf16>, %k: tensor<1x1x4096x128xbf16>, %v: tensor<1x1x4096x128xbf16>) -> tensor<1x4x1x128xbf16> {
  %o = attn.attention %q, %k, %v {schedule = #attn.schedule<block_m = 16, block_n = 64, warps = 1, stages = 2, split = 8>} : tensor<1x4x1x128xbf16>, tensor<1x1x4096x128xbf16>, tensor<1x1x4096x128xbf16> -> tensor<1x4x1x128xbf16>
  return %o : tensor<1x4x1x128xbf16>
}

// -----

// A row of 32768 bf16 per block of 16 warps: 8 chunks of 16 bytes per
// thread held in registers (one read), max and sum reduced over the warp by
// shuffles and over the block through 64 bytes of shared memory.
// CHECK-LABEL: func @softmax_one_pass
// CHECK: memref.collapse_shape %{{.+}} {{\[}}[0, 1], [2]] : memref<2x3x32768xbf16> into memref<6x32768xbf16>
// CHECK: gpu.launch blocks({{.*}}) in (%{{.+}} = %c6{{(_[0-9]+)?}}, {{.*}}) threads({{.*}}) in (%{{.+}} = %c512{{(_[0-9]+)?}}, {{.*}}) dynamic_shared_memory_size %c64_i32
// CHECK-COUNT-8: vector.load {{.*}} {alignment = 16 : i64} : memref<6x32768xbf16>, vector<8xbf16>
// CHECK: gpu.shuffle  xor
// CHECK: gpu.barrier
// CHECK-COUNT-8: vector.store {{.*}} {alignment = 16 : i64} : memref<6x32768xbf16>, vector<8xbf16>
// CHECK-NOT: scf.for
// CHECK: gpu.terminator
func.func @softmax_one_pass(%x: tensor<2x3x32768xbf16>) -> tensor<2x3x32768xbf16> {
  %y = attn.softmax %x, dim = 2 : tensor<2x3x32768xbf16> -> tensor<2x3x32768xbf16>
  return %y : tensor<2x3x32768xbf16>
}

// -----

// Rows of 1000 f16 (125 chunks of 8), one per warp: four rows per block, the
// last block guarded, warp shuffles only.
// CHECK-LABEL: func @log_softmax_row_per_warp
// CHECK: gpu.launch blocks({{.*}}) in (%{{.+}} = %c5{{(_[0-9]+)?}}, {{.*}}) threads({{.*}}) in (%{{.+}} = %c128{{(_[0-9]+)?}}, {{.*}})
// CHECK-NOT: dynamic_shared_memory_size
// CHECK: scf.if
// CHECK-COUNT-4: vector<8xf16>
// CHECK-NOT: gpu.barrier
// CHECK: gpu.terminator
func.func @log_softmax_row_per_warp(%x: tensor<17x1000xf16>) -> tensor<17x1000xf16> {
  %y = attn.log_softmax %x, dim = 1 : tensor<17x1000xf16> -> tensor<17x1000xf16>
  return %y : tensor<17x1000xf16>
}

// -----

// A row longer than registers hold takes two passes: the online normalizer
// loop, then a second read that writes; the logsumexp result of a rank-1
// input is a rank-0 buffer seen as [1].
// CHECK-LABEL: func @logsumexp_two_pass
// CHECK: memref.expand_shape %{{.+}} [] output_shape [1] : memref<f32> into memref<1xf32>
// CHECK: gpu.launch
// CHECK: scf.for {{.*}} iter_args
// CHECK: vector.load {{.*}} : memref<1x262144xbf16>, vector<8xbf16>
// CHECK: scf.yield
// CHECK: memref.store {{.*}} : memref<1xf32>
func.func @logsumexp_two_pass(%x: tensor<262144xbf16>) -> tensor<f32> {
  %y = attn.logsumexp %x, dim = 0 : tensor<262144xbf16> -> tensor<f32>
  return %y : tensor<f32>
}

// -----

// Cross-entropy reads each logits row once (online normalizer and logit sum
// over 16-byte loads, four in flight per thread), one thread adds the target
// logit, and a one-block kernel reduces the per-token losses to the mean.
// CHECK-LABEL: func @cross_entropy_mean
// CHECK-DAG: %[[LOSS:.+]] = memref.alloc() : memref<f32>
// CHECK-DAG: %[[ROW:.+]] = memref.alloc() : memref<100xf32>
// CHECK-DAG: %[[LSE:.+]] = memref.alloc() : memref<100xf32>
// CHECK: gpu.launch blocks({{.*}}) in (%{{.+}} = %c100{{(_[0-9]+)?}}, {{.*}}) threads({{.*}}) in (%{{.+}} = %c128{{(_[0-9]+)?}}, {{.*}})
// CHECK: scf.for {{.*}} -> (f32, f32, f32)
// CHECK-COUNT-4: vector.load {{.*}} {alignment = 16 : i64} : memref<100x32000xbf16>, vector<8xbf16>
// CHECK: memref.store %{{.+}}, %[[ROW]]
// CHECK: memref.store %{{.+}}, %[[LSE]]
// CHECK: gpu.launch blocks({{.*}}) in (%{{.+}} = %c1{{(_[0-9]+)?}}, {{.*}}) threads({{.*}}) in (%{{.+}} = %c1024{{(_[0-9]+)?}}, {{.*}})
// CHECK: memref.load %[[ROW]]
// CHECK: memref.store %{{.+}}, %[[LOSS]][] : memref<f32>
// CHECK: memref.dealloc %[[ROW]]
func.func @cross_entropy_mean(%z: tensor<100x32000xbf16>, %y: tensor<100xi64>) -> (tensor<f32>, tensor<100xf32>) {
  %0, %1 = attn.cross_entropy %z, %y {label_smoothing = 0.1 : f32} : tensor<100x32000xbf16>, tensor<100xi64> -> tensor<f32>, tensor<100xf32>
  return %0, %1 : tensor<f32>, tensor<100xf32>
}

// -----

// linear_cross_entropy in the Cut-Cross-Entropy form on sm_90a (the default
// chip) under the cp.async pipeline: 2 token tiles of 128 (2 warpgroups of 64 rows) x 4 vocabulary
// splits, 256-column vocabulary tiles. Per vocabulary tile, a loop over the
// 64-column chunks of the hidden size carries one m64n256 wgmma accumulator
// (128 f32 per thread); the chunks arrive by cp.async into 128-byte-swizzled
// rows (xori), 4 stages of 48 KB past a 1024-byte aligned base, and one
// wgmma group stays in flight. After the chunks, the tile is folded into
// the 2 rows x (max, sum, logit sum, target) state (8 values). Only
// [split, N] partial states reach memory, never [N, V] logits.
// CHECK-LABEL: func @linear_cross_entropy_cce
// CHECK-COUNT-4: memref.alloc() : memref<4x200xf32>
// CHECK: gpu.launch blocks({{.*}}) in (%{{.+}} = %c2{{(_[0-9]+)?}}, %{{.+}} = %c4{{(_[0-9]+)?}}, {{.*}}) threads({{.*}}) in (%{{.+}} = %c256{{(_[0-9]+)?}}, {{.*}}) dynamic_shared_memory_size %c197632_i32
// CHECK: memref.extract_aligned_pointer_as_index
// CHECK: arith.xori
// CHECK: nvgpu.device_async_copy {{.*}} : memref<200x256xbf16> to memref<32768xbf16, #gpu.address_space<workgroup>>
// CHECK: nvgpu.device_async_copy {{.*}} : memref<1000x256xbf16> to memref<65536xbf16, #gpu.address_space<workgroup>>
// CHECK: %{{.+}}:8 = scf.for
// CHECK: llvm.mlir.zero : !llvm.struct<({{(f32, )+}}f32)>
// CHECK: scf.for {{.*}} -> (!llvm.struct
// CHECK: nvvm.cp.async.wait.group 1
// CHECK-NEXT: nvvm.fence.proxy {kind = #nvvm.proxy_kind<async.shared>, space = #nvvm.shared_space<cta>}
// CHECK-NEXT: gpu.barrier
// CHECK: nvvm.wgmma.fence.aligned
// CHECK-COUNT-4: nvvm.wgmma.mma_async {{.*}} <m = 64, n = 256, k = 16>, D[<f32>, <one>], A[<bf16>, <one>, <row>], B[<bf16>, <one>, <col>]
// CHECK: nvvm.wgmma.commit.group.sync.aligned
// CHECK-NEXT: nvvm.wgmma.wait.group.sync.aligned 1
// CHECK: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK: math.exp2
// CHECK: gpu.launch
// CHECK: gpu.launch
// CHECK-NOT: memref<200x1000xf32>
func.func @linear_cross_entropy_cce(%h: tensor<200x256xbf16>, %w: tensor<1000x256xbf16>, %y: tensor<200xi64>) -> tensor<f32> {
  %0 = attn.linear_cross_entropy %h, %w, %y {schedule = #attn.schedule<block_m = 128, block_n = 256, block_d = 64, warps = 8, stages = 4, split = 4>} : tensor<200x256xbf16>, tensor<1000x256xbf16>, tensor<200xi64> -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

// The sm_90a default: the same tiles on the TMA pipeline. Tensor maps of
// 128 x 64 hidden and 256 x 64 weight boxes are made on the host; the block
// has a third warpgroup, the producer, which gives registers up and whose
// first thread waits for a stage's "empty" mbarrier, expects the step's
// 48 KB on its "full" one and issues the two copies; the computing
// warpgroups take registers, wait for "full", run the step's wgmmas and
// release the previous step's stage. No CTA barrier in the loop.
// CHECK-LABEL: func @linear_cross_entropy_cce_tma
// CHECK: nvgpu.tma.create.descriptor {{.*}} box[%c128{{(_[0-9]+)?}}, %c64{{(_[0-9]+)?}}]
// CHECK: nvgpu.tma.create.descriptor {{.*}} box[%c256{{(_[0-9]+)?}}, %c64{{(_[0-9]+)?}}]
// CHECK: gpu.launch blocks({{.*}}) in (%{{.+}} = %c2{{(_[0-9]+)?}}, %{{.+}} = %c4{{(_[0-9]+)?}}, {{.*}}) threads({{.*}}) in (%{{.+}} = %c384{{(_[0-9]+)?}}, {{.*}}) dynamic_shared_memory_size %c197632_i32
// CHECK: nvgpu.mbarrier.init
// CHECK: gpu.barrier
// CHECK: nvvm.setmaxregister  decrease 24
// CHECK: nvgpu.tma.prefetch.descriptor
// CHECK: scf.for
// CHECK: nvgpu.mbarrier.try_wait.parity
// CHECK: nvgpu.mbarrier.arrive.expect_tx {{.*}}, %c49152
// CHECK: nvgpu.tma.async.load
// CHECK: nvgpu.tma.async.load
// CHECK: nvvm.setmaxregister  increase 240
// CHECK: scf.for
// CHECK: scf.for
// CHECK: nvgpu.mbarrier.try_wait.parity
// CHECK-NOT: gpu.barrier
// CHECK-COUNT-4: nvvm.wgmma.mma_async {{.*}} <m = 64, n = 256, k = 16>
// CHECK: nvvm.wgmma.wait.group.sync.aligned 1
// CHECK: nvgpu.mbarrier.arrive
// CHECK: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK: nvgpu.mbarrier.arrive
// CHECK: math.exp2
func.func @linear_cross_entropy_cce_tma(%h: tensor<200x256xbf16>, %w: tensor<1000x256xbf16>, %y: tensor<200xi64>) -> tensor<f32> {
  %0 = attn.linear_cross_entropy %h, %w, %y : tensor<200x256xbf16>, tensor<1000x256xbf16>, tensor<200xi64> -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

// The mma.sync form (sm_80, or a schedule wgmma does not fit: 2 stages): 8
// warps of 16 tokens; one pipelined loop over (vocabulary tile, 64-column
// chunk) carries the 16 x 4 logits accumulators and the 8 state values
// (72); after the last chunk of a tile, an scf.if folds the tile.
// CHECK-LABEL: func @linear_cross_entropy_mma_sync
// CHECK-COUNT-4: memref.alloc() : memref<8x200xf32>
// CHECK: gpu.launch blocks({{.*}}) in (%{{.+}} = %c2{{(_[0-9]+)?}}, %{{.+}} = %c8{{(_[0-9]+)?}}, {{.*}}) threads({{.*}}) in (%{{.+}} = %c256{{(_[0-9]+)?}}, {{.*}}) dynamic_shared_memory_size %c73728_i32
// CHECK: %{{.+}}:72 = scf.for
// CHECK: nvgpu.device_async_copy
// CHECK: nvgpu.ldmatrix {{.*}} -> vector<4x2xbf16>
// CHECK: nvvm.mma.sync
// CHECK: scf.if {{.*}} -> (f32,
// CHECK: math.exp2
// CHECK: gpu.launch
// CHECK: gpu.launch
// CHECK-NOT: nvvm.wgmma
// CHECK-NOT: memref<200x1000xf32>
func.func @linear_cross_entropy_mma_sync(%h: tensor<200x256xbf16>, %w: tensor<1000x256xbf16>, %y: tensor<200xi64>) -> tensor<f32> {
  %0 = attn.linear_cross_entropy %h, %w, %y {schedule = #attn.schedule<block_m = 128, block_n = 128, block_d = 64, warps = 8, stages = 2, split = 8>} : tensor<200x256xbf16>, tensor<1000x256xbf16>, tensor<200xi64> -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

// A row of 65536 spread over a cluster of 2 blocks (schedule split = 2,
// sm_90+): the grid has 2 blocks per row in clusters of 2; each block holds
// its half in registers, reduces max and sum over its warps, publishes them
// in its shared memory and reads both blocks' values through distributed
// shared memory (nvvm.mapa) after a cluster barrier; a last cluster barrier
// keeps every block alive until the others have read it.
// CHECK-LABEL: func @softmax_cluster
// CHECK: gpu.launch clusters({{.*}}) in (%{{.+}} = %c2{{(_[0-9]+)?}}, {{.*}}) blocks({{.*}}) in (%{{.+}} = %c6{{(_[0-9]+)?}}, {{.*}}) threads({{.*}}) in (%{{.+}} = %c512{{(_[0-9]+)?}},
// CHECK-COUNT-2: nvvm.cluster.arrive {aligned}
// CHECK: nvvm.mapa %{{.+}}, %{{.+}} : !llvm.ptr<3> -> !llvm.ptr<7>
// CHECK: nvvm.cluster.arrive {aligned}
// CHECK-NEXT: nvvm.cluster.wait {aligned}
// CHECK: vector.store
func.func @softmax_cluster(%x: tensor<3x65536xbf16>) -> tensor<3x65536xbf16> {
  %y = attn.softmax %x, dim = 1 {schedule = #attn.schedule<block_m = 1, block_n = 32768, warps = 16, split = 2>} : tensor<3x65536xbf16> -> tensor<3x65536xbf16>
  return %y : tensor<3x65536xbf16>
}

// -----

// A cluster of one-warp blocks: the row reduction skips shared memory
// within the block but still goes through the cluster (the tuning runner
// found this path returning each block's partial sum: softmax off by the
// cluster size). The cluster slots start at offset 0 of the 8 bytes.
// CHECK-LABEL: func @softmax_cluster_one_warp
// CHECK: gpu.launch clusters({{.*}}) in (%{{.+}} = %c4{{(_[0-9]+)?}}, {{.*}}) threads({{.*}}) in (%{{.+}} = %c32{{(_[0-9]+)?}},
// CHECK-COUNT-2: nvvm.mapa %{{.+}}, %{{.+}} : !llvm.ptr<3> -> !llvm.ptr<7>
// CHECK: vector.store
func.func @softmax_cluster_one_warp(%x: tensor<16x4096xbf16>) -> tensor<16x4096xbf16> {
  %y = attn.softmax %x, dim = 1 {schedule = #attn.schedule<block_m = 1, block_n = 1024, warps = 1, split = 4>} : tensor<16x4096xbf16> -> tensor<16x4096xbf16>
  return %y : tensor<16x4096xbf16>
}

// -----

// attention_grad (GQA 4:1, causal, head dim 64; the default 64 x 64, 4
// warps, 2 stages) takes the warpgroup-MMA kernels on sm_90a: D =
// rowsum(dO O) gets an f32 scratch buffer; the dQ launch takes
// ceil(4 x 100 / 64) = 7 blocks of packed query rows per KV head and batch,
// Q and dO of the block and two stages of 64-key K and V tiles in
// 128-byte-swizzled rows (2 x 64 x 64 x 2 + 2 x 2 x 64 x 64 x 2 = 49152
// bytes) after a 1024-byte aligned start (50176), and carries dQ (one
// m64n64 accumulator, 32 f32) through the key loop; the dK/dV launch takes
// ceil(130 / 64) = 3 blocks of keys, adds the stages' LSE and D (1024
// bytes), and carries dK and dV. Both recompute the scores on wgmma from
// cp.async tiles.
// CHECK-LABEL: func @attention_grad_gqa_causal
// CHECK: %[[D:.+]] = memref.alloc() : memref<2x8x100xf32>
// CHECK: gpu.launch blocks({{.*}}) in (%{{.+}} = %c7, %{{.+}} = %c2{{(_[0-9]+)?}}, %{{.+}} = %c2{{(_[0-9]+)?}}) threads({{.*}}) in (%{{.+}} = %c128{{(_[0-9]+)?}}, {{.*}}) dynamic_shared_memory_size %c50176_i32
// CHECK: nvgpu.device_async_copy
// CHECK: memref.store %{{.+}}, %[[D]]
// CHECK: scf.for {{.*}} -> (!llvm.struct<(f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32)>) {
// CHECK: nvvm.wgmma.mma_async {{.*}} <m = 64, n = 64, k = 16>
// CHECK-NOT: nvvm.mma.sync
// CHECK: gpu.launch blocks({{.*}}) in (%{{.+}} = %c3{{(_[0-9]+)?}}, %{{.+}} = %c2{{(_[0-9]+)?}}, %{{.+}} = %c2{{(_[0-9]+)?}}) threads({{.*}}) dynamic_shared_memory_size %c51200_i32
// CHECK: memref.load %[[D]]
// CHECK: scf.for
// CHECK: nvvm.wgmma.mma_async
// CHECK-NOT: nvvm.mma.sync
// CHECK: memref.dealloc %[[D]]
// CHECK-NOT: attn.attention_grad
func.func @attention_grad_gqa_causal(%q: tensor<2x8x100x64xbf16>, %k: tensor<2x2x130x64xbf16>, %v: tensor<2x2x130x64xbf16>, %o: tensor<2x8x100x64xbf16>, %l: tensor<2x8x100xf32>, %do: tensor<2x8x100x64xbf16>) -> (tensor<2x8x100x64xbf16>, tensor<2x2x130x64xbf16>, tensor<2x2x130x64xbf16>) {
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %l, %do {causal} : tensor<2x8x100x64xbf16>, tensor<2x2x130x64xbf16>, tensor<2x2x130x64xbf16>, tensor<2x8x100x64xbf16>, tensor<2x8x100xf32>, tensor<2x8x100x64xbf16> -> tensor<2x8x100x64xbf16>, tensor<2x2x130x64xbf16>, tensor<2x2x130x64xbf16>
  return %dq, %dk, %dv : tensor<2x8x100x64xbf16>, tensor<2x2x130x64xbf16>, tensor<2x2x130x64xbf16>
}

// -----

// attention_grad at head dim 256 (beyond the backward kernel's registers)
// takes the simple mapping, with a remark.
// CHECK-LABEL: func @attention_grad_d256
// CHECK: attn.attention_grad
func.func @attention_grad_d256(%q: tensor<1x2x16x256xbf16>, %l: tensor<1x2x16xf32>) -> tensor<1x2x16x256xbf16> {
  // expected-remark @below {{attn-map-to-gpu: no kernel for this attention_grad (head dim is not a multiple of 16 up to 128 (the backward kernel)); it takes the simple GPU mapping}}
  %dq, %dk, %dv = attn.attention_grad %q, %q, %q, %q, %l, %q : tensor<1x2x16x256xbf16>, tensor<1x2x16x256xbf16>, tensor<1x2x16x256xbf16>, tensor<1x2x16x256xbf16>, tensor<1x2x16xf32>, tensor<1x2x16x256xbf16> -> tensor<1x2x16x256xbf16>, tensor<1x2x16x256xbf16>, tensor<1x2x16x256xbf16>
  return %dq : tensor<1x2x16x256xbf16>
}

// -----

// What the kernels do not cover stays for attn-decompose, with a remark.
// CHECK-LABEL: func @not_covered
// CHECK: attn.attention
// CHECK: attn.attention
// CHECK: attn.softmax
func.func @not_covered(%q: tensor<1x2x8x16xf32>, %qb: tensor<1x2x8x16xbf16>, %m: tensor<8x8xi1>, %x: tensor<8x4xf32>)
    -> (tensor<1x2x8x16xf32>, tensor<1x2x8x16xbf16>, tensor<8x4xf32>) {
  // expected-remark @below {{attn-map-to-gpu: no kernel for this attention (element type is not bf16 or f16); it takes the simple GPU mapping}}
  %0 = attn.attention %q, %q, %q : tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32> -> tensor<1x2x8x16xf32>
  // expected-remark @below {{(a mask operand)}}
  %1 = attn.attention %qb, %qb, %qb mask(%m : tensor<8x8xi1>) : tensor<1x2x8x16xbf16>, tensor<1x2x8x16xbf16>, tensor<1x2x8x16xbf16> -> tensor<1x2x8x16xbf16>
  // expected-remark @below {{attn-map-to-gpu: no kernel for this softmax (the reduced dim is not the last one)}}
  %2 = attn.softmax %x, dim = 0 : tensor<8x4xf32> -> tensor<8x4xf32>
  return %0, %1, %2 : tensor<1x2x8x16xf32>, tensor<1x2x8x16xbf16>, tensor<8x4xf32>
}

// -----

// An empty tensor is left to the decomposition (which writes nothing).
// CHECK-LABEL: func @empty_rows
// CHECK: attn.softmax
func.func @empty_rows(%x: tensor<0x8xbf16>) -> tensor<0x8xbf16> {
  // expected-remark @below {{attn-map-to-gpu: no kernel for this softmax (an empty tensor)}}
  %y = attn.softmax %x, dim = 1 : tensor<0x8xbf16> -> tensor<0x8xbf16>
  return %y : tensor<0x8xbf16>
}

// -----

// Attention on sm_90a at head dim 128 takes the TMA pipeline with ping-pong
// by default (128 x 128 tiles, 8 computing warps, 2 stages): the host makes
// a tensor map of K and of V (64-column slabs of 128-key tiles, 128-byte
// swizzled, rows past the end zero-filled) and passes each as a pointer;
// the launch has a producer warpgroup more (384 threads). Thread 0
// initializes the 8 mbarriers; the producer drops to 24 registers and one
// of its threads waits on a stage's empty barrier, arms its full barrier
// with the tile's bytes and issues the copies; the computing warpgroups
// raise theirs to 240, wait on full barriers, with no CTA barrier in the
// key loop, and take turns at the tensor cores through named barriers
// (warpgroup 1 arrives at 1 to let warpgroup 0 begin; each turn syncs on
// the warpgroup's own barrier and arrives at the other's). The first MMA
// of each QK^T ignores its accumulator (D scale zero).
// CHECK-LABEL: func @attention_tma
// CHECK: %[[KM:.+]] = nvgpu.tma.create.descriptor %{{.+}} box[%c1{{.*}}, %c1{{.*}}, %c128{{.*}}, %c64{{.*}}] : memref<*xbf16> -> <tensor = memref<1x1x128x64xbf16, #gpu.address_space<workgroup>>, swizzle = swizzle_128b, l2promo = l2promo_256b, oob = zero, interleave = none>
// CHECK: %[[KP:.+]] = builtin.unrealized_conversion_cast %[[KM]] {{.*}} to !llvm.ptr
// CHECK: nvgpu.tma.create.descriptor
// CHECK: gpu.launch {{.*}} threads({{.*}}) in (%{{.+}} = %c384{{(_[0-9]+)?}}, {{.*}})
// CHECK: nvgpu.mbarrier.create -> <memorySpace = #gpu.address_space<workgroup>, num_barriers = 8>
// CHECK: nvgpu.mbarrier.init
// CHECK: nvvm.fence.mbarrier.init
// CHECK: gpu.barrier
// CHECK: nvvm.setmaxregister decrease 24
// CHECK: llvm.ptrtoint %[[KP]]
// CHECK: nvgpu.tma.prefetch.descriptor
// CHECK: scf.for
// CHECK: nvgpu.mbarrier.try_wait.parity
// CHECK: nvgpu.mbarrier.arrive.expect_tx %{{.+}}[%{{.+}}], %c32768
// CHECK-COUNT-2: nvgpu.tma.async.load
// CHECK: nvvm.setmaxregister increase 240
// CHECK: nvvm.barrier.arrive id = %c1_i32{{.*}} number_of_threads = %c256_i32
// CHECK: nvvm.barrier id = %[[MINE:.+]] number_of_threads = %c256_i32
// CHECK: nvvm.wgmma.mma_async {{.*}} D[<f32>, <zero>]
// CHECK: nvvm.barrier.arrive id = %[[OTHER:[^ ]+]] number_of_threads
// CHECK: nvgpu.mbarrier.try_wait.parity
// CHECK: nvvm.bar.warp.sync
// CHECK: nvvm.wgmma.mma_async
// CHECK-NOT: gpu.barrier
// CHECK: nvgpu.mbarrier.arrive
func.func @attention_tma(%q: tensor<1x2x300x128xbf16>, %k: tensor<1x2x300x128xbf16>, %v: tensor<1x2x300x128xbf16>) -> tensor<1x2x300x128xbf16> {
  %o = attn.attention %q, %k, %v : tensor<1x2x300x128xbf16>, tensor<1x2x300x128xbf16>, tensor<1x2x300x128xbf16> -> tensor<1x2x300x128xbf16>
  return %o : tensor<1x2x300x128xbf16>
}
