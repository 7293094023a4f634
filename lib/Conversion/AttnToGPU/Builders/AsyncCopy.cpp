//===- AsyncCopy.cpp - the cp.async multi-stage pipeline ------------------===//

#include "AsyncCopy.h"
#include "Wgmma.h"

using namespace mlir;
using namespace mlir::attn::gpu_kernel;

void mlir::attn::gpu_kernel::asyncCopy(KernelBuilder &kb, Value dst,
                                       ValueRange dstIndices, Value src,
                                       ValueRange srcIndices, int64_t elements,
                                       Value validElements) {
  OpBuilder &b = kb.builder();
  nvgpu::DeviceAsyncCopyOp::create(
      b, kb.location(), nvgpu::DeviceAsyncTokenType::get(b.getContext()), dst,
      dstIndices, src, srcIndices, b.getIndexAttr(elements), validElements,
      b.getUnitAttr());
}

void mlir::attn::gpu_kernel::asyncCommit(KernelBuilder &kb) {
  NVVM::CpAsyncCommitGroupOp::create(kb.builder(), kb.location());
}

void mlir::attn::gpu_kernel::asyncWait(KernelBuilder &kb,
                                       int64_t pendingGroups) {
  NVVM::CpAsyncWaitGroupOp::create(kb.builder(), kb.location(), pendingGroups);
}

void CpAsyncPipeline::prologue(Value total, StageLoader load) {
  for (int64_t p = 0; p + 1 < stages; ++p) {
    kb.ifThen(kb.lt(kb.idx(p), total),
              [&](KernelBuilder &kb) { load(kb, kb.idx(p), kb.idx(p)); });
    asyncCommit(kb);
  }
}

Value CpAsyncPipeline::step(Value it, Value total, StageLoader load) {
  asyncWait(kb, stages - 2);
  if (asyncProxyReads)
    fenceProxyAsync(kb);
  kb.barrier();
  Value ahead = kb.add(it, stages - 1);
  kb.ifThen(kb.lt(ahead, total), [&](KernelBuilder &kb) {
    load(kb, ahead, kb.rem(ahead, stages));
  });
  asyncCommit(kb);
  return kb.rem(it, stages);
}
