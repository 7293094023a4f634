//===- WarpOps.cpp - warp shuffles and cluster exchanges ------------------===//

#include "WarpOps.h"

using namespace mlir;
using namespace mlir::attn::gpu_kernel;

Value mlir::attn::gpu_kernel::warpReduce(KernelBuilder &kb, Value v,
                                         int64_t laneMask, bool isMax) {
  for (int64_t bit = 1; bit < 32; bit <<= 1) {
    if (!(laneMask & bit))
      continue;
    auto shfl = gpu::ShuffleOp::create(kb.builder(), kb.location(), v, bit, 32,
                                       gpu::ShuffleMode::XOR);
    v = isMax ? kb.maxF(v, shfl.getShuffleResult())
              : kb.addF(v, shfl.getShuffleResult());
  }
  return v;
}

void mlir::attn::gpu_kernel::namedBarrierSync(KernelBuilder &kb, Value id,
                                              int64_t threads) {
  assert(threads % 32 == 0 && "a named barrier counts whole warps");
  NVVM::BarrierOp::create(kb.builder(), kb.location(), /*res=*/Type(), id,
                          kb.i32(threads), /*reductionOp=*/nullptr,
                          /*reductionPredicate=*/Value());
}

void mlir::attn::gpu_kernel::namedBarrierArrive(KernelBuilder &kb, Value id,
                                                int64_t threads) {
  assert(threads % 32 == 0 && "a named barrier counts whole warps");
  NVVM::BarrierArriveOp::create(kb.builder(), kb.location(), id,
                                kb.i32(threads));
}

void mlir::attn::gpu_kernel::clusterBarrier(KernelBuilder &kb) {
  OpBuilder &b = kb.builder();
  NVVM::ClusterArriveOp::create(b, kb.location(), b.getUnitAttr());
  NVVM::ClusterWaitOp::create(b, kb.location(), b.getUnitAttr());
}

Value mlir::attn::gpu_kernel::loadFromClusterBlock(KernelBuilder &kb,
                                                   Value smem, int64_t index,
                                                   Value rank) {
  OpBuilder &b = kb.builder();
  Location loc = kb.location();
  MLIRContext *ctx = b.getContext();
  Value addr = kb.add(kb.sharedAddress(smem), 4 * index);
  Value i64 = arith::IndexCastUIOp::create(b, loc, b.getI64Type(), addr);
  Value local =
      LLVM::IntToPtrOp::create(b, loc, LLVM::LLVMPointerType::get(ctx, 3), i64);
  Value rank32 = arith::IndexCastUIOp::create(b, loc, b.getI32Type(), rank);
  Value remote = NVVM::MapaOp::create(
      b, loc, LLVM::LLVMPointerType::get(ctx, 7), local, rank32);
  return LLVM::LoadOp::create(b, loc, b.getF32Type(), remote);
}
