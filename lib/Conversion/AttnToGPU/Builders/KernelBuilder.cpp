//===- KernelBuilder.cpp - the launch of an attn GPU kernel ---------------===//

#include "KernelBuilder.h"

using namespace mlir;
using namespace mlir::attn::gpu_kernel;

void mlir::attn::gpu_kernel::buildLaunch(
    OpBuilder &b, Location loc, std::array<int64_t, 3> blocks, int64_t threads,
    int64_t smemBytes, function_ref<void(gpu::LaunchOp, KernelBuilder &)> body,
    int64_t cluster) {
  KernelBuilder host(b, loc);
  Value smem = smemBytes ? arith::ConstantIntOp::create(b, loc, smemBytes, 32)
                               .getResult()
                         : Value();
  Value cx, cy, cz;
  if (cluster > 1) {
    cx = host.idx(cluster);
    cy = cz = host.idx(1);
  }
  auto op = gpu::LaunchOp::create(
      b, loc, host.idx(blocks[0]), host.idx(blocks[1]), host.idx(blocks[2]),
      host.idx(threads), host.idx(1), host.idx(1), smem,
      /*asyncTokenType=*/nullptr, /*asyncDependencies=*/{},
      /*workgroupAttributions=*/{}, /*privateAttributions=*/{}, cx, cy, cz);
  // The builder adds the 12 block/thread id and size arguments only; a
  // launch in clusters also has the cluster ids and sizes.
  if (cluster > 1)
    for (int64_t i = 0; i < 6; ++i)
      op.getBody().front().insertArgument(12 + i, b.getIndexType(), loc);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToEnd(&op.getBody().front());
  gpu::TerminatorOp::create(b, loc);
  b.setInsertionPoint(op.getBody().front().getTerminator());
  KernelBuilder kb(b, loc);
  body(op, kb);
}
