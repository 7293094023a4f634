//===- AttnToGPU.h - kernels of attn-map-to-gpu ------------------*- C++ -*-===//
//
// What the kernel writers of attn-map-to-gpu take: the static problem and
// the schedule, already checked by the pass. Internal to the conversion.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LIB_CONVERSION_ATTNTOGPU_ATTNTOGPU_H
#define ATTN_LIB_CONVERSION_ATTNTOGPU_ATTNTOGPU_H

#include "mlir/IR/Builders.h"

#include <optional>
#include <utility>

namespace mlir::attn::gpu_kernel {

/// A static attention forward problem (q [B,Hq,M,D], k/v [B,Hkv,N,D], 16-bit
/// elements) and the schedule that maps it: blockM query rows per block
/// (16 per warp), blockN keys per tile, `stages` shared-memory buffers of
/// K/V, `split` blocks over the key tiles of each row tile.
struct AttentionKernelSpec {
  int64_t batch, qHeads, kvHeads, queries, keys, headDim;
  Type elementType;
  double scale;
  std::optional<double> softcap;
  bool causal;
  std::optional<std::pair<int64_t, int64_t>> window;
  int64_t blockM, blockN, warps, stages, split;
  /// sm_90a: QK^T and PV on warpgroup MMA (a warpgroup per 64 query rows),
  /// else mma.sync (a warp per 16 or 32 rows).
  bool warpgroupMma = false;
};

/// Dynamic shared memory of the attention kernel, in bytes.
int64_t attentionSharedBytes(const AttentionKernelSpec &spec);

/// Builds, at the insertion point of a host function, the gpu.launch ops
/// computing attention of memrefs q, k, v into `out` (and `lse` unless
/// null): the main kernel and, for split > 1, the combine kernel with its
/// temporaries.
void buildAttention(OpBuilder &b, Location loc, const AttentionKernelSpec &spec,
                    Value q, Value k, Value v, Value out, Value lse);

} // namespace mlir::attn::gpu_kernel

#endif // ATTN_LIB_CONVERSION_ATTNTOGPU_ATTNTOGPU_H
