//===- AsyncCopy.h - the cp.async multi-stage pipeline -----------*- C++ -*-===//
//
// Global-to-shared copies that complete asynchronously (cp.async, sm_80+)
// and the software pipeline the kernels stream K/V and weight tiles
// through: `stages` shared-memory buffers, loads issued stages - 1 steps
// ahead, commit groups counted uniformly. A TMA + mbarrier pipeline is to
// live beside this one with the same prologue/step shape. Internal to the
// AttnToGPU conversion.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LIB_CONVERSION_ATTNTOGPU_BUILDERS_ASYNCCOPY_H
#define ATTN_LIB_CONVERSION_ATTNTOGPU_BUILDERS_ASYNCCOPY_H

#include "KernelBuilder.h"

namespace mlir::attn::gpu_kernel {

/// One 16-byte cp.async of `elements` elements from global memory into
/// shared memory; `validElements` (0 or `elements`) of them are read, the
/// rest of the 16 bytes are zero-filled.
void asyncCopy(KernelBuilder &kb, Value dst, ValueRange dstIndices, Value src,
               ValueRange srcIndices, int64_t elements, Value validElements);
void asyncCommit(KernelBuilder &kb);
void asyncWait(KernelBuilder &kb, int64_t pendingGroups);

/// The multi-stage cp.async pipeline over `total` steps, each loading one
/// shared-memory stage with `load(builder, step, stage)`.
class CpAsyncPipeline {
public:
  using StageLoader = function_ref<void(KernelBuilder &, Value, Value)>;

  /// With `asyncProxyReads`, the stages are read by the async proxy
  /// (wgmma operands): each step fences the landed copies into it before
  /// its barrier.
  CpAsyncPipeline(KernelBuilder &kb, int64_t stages,
                  bool asyncProxyReads = false)
      : kb(kb), stages(stages), asyncProxyReads(asyncProxyReads) {}

  /// Issues steps 0 .. stages - 2, one commit group each (empty groups keep
  /// the count uniform).
  void prologue(Value total, StageLoader load);

  /// The head of step `it`: its stage has landed for every thread and every
  /// warp is done with the stage that step it + stages - 1 overwrites,
  /// which is then issued. Returns the stage of step `it`.
  Value step(Value it, Value total, StageLoader load);

private:
  KernelBuilder &kb;
  int64_t stages;
  bool asyncProxyReads;
};

} // namespace mlir::attn::gpu_kernel

#endif // ATTN_LIB_CONVERSION_ATTNTOGPU_BUILDERS_ASYNCCOPY_H
