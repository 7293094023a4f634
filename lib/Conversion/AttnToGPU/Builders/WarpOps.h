//===- WarpOps.h - warp shuffles and cluster exchanges -----------*- C++ -*-===//
//
// Reductions across the lanes of a warp, named barriers between groups of
// warps, and the barrier and distributed shared-memory loads of a
// thread-block cluster (sm_90+). Internal to the AttnToGPU conversion.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LIB_CONVERSION_ATTNTOGPU_BUILDERS_WARPOPS_H
#define ATTN_LIB_CONVERSION_ATTNTOGPU_BUILDERS_WARPOPS_H

#include "KernelBuilder.h"

namespace mlir::attn::gpu_kernel {

/// The butterfly reduction of `v` over the lanes that differ in the bits of
/// `laneMask` (1 | 2 for the four lanes of an mma quad, 31 for a warp).
Value warpReduce(KernelBuilder &kb, Value v, int64_t laneMask, bool isMax);

/// Named barrier `id` (an i32 in 1 .. 15; 0 is the block's barrier) of
/// `threads` threads, a multiple of 32: waits until that many have arrived
/// or synced, this warp included (bar.sync), or only counts this warp's
/// arrival (bar.arrive). Every thread of a warp must take part; the id may
/// differ between warps (no branch needed to pick it).
void namedBarrierSync(KernelBuilder &kb, Value id, int64_t threads);
void namedBarrierArrive(KernelBuilder &kb, Value id, int64_t threads);

/// The barrier of all threads of the cluster, with release/acquire ordering
/// of shared memory across its blocks.
void clusterBarrier(KernelBuilder &kb);

/// The f32 at element `index` of the 1-D f32 shared buffer `smem` of block
/// `rank` of the cluster (distributed shared memory).
Value loadFromClusterBlock(KernelBuilder &kb, Value smem, int64_t index,
                           Value rank);

} // namespace mlir::attn::gpu_kernel

#endif // ATTN_LIB_CONVERSION_ATTNTOGPU_BUILDERS_WARPOPS_H
