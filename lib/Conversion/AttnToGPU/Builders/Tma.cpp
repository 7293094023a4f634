//===- Tma.cpp - TMA copies, mbarriers and warp specialization -------------===//

#include "Tma.h"

using namespace mlir;
using namespace mlir::attn::gpu_kernel;

nvgpu::TensorMapDescriptorType
mlir::attn::gpu_kernel::tensorMapType(MLIRContext *ctx, ArrayRef<int64_t> box,
                                      Type elementType) {
  auto shared = MemRefType::get(box, elementType, MemRefLayoutAttrInterface(),
                                workgroupSpace(ctx));
  return nvgpu::TensorMapDescriptorType::get(
      ctx, shared, nvgpu::TensorMapSwizzleKind::SWIZZLE_128B,
      nvgpu::TensorMapL2PromoKind::L2PROMO_256B,
      nvgpu::TensorMapOOBKind::OOB_ZERO,
      nvgpu::TensorMapInterleaveKind::INTERLEAVE_NONE);
}

Value mlir::attn::gpu_kernel::createTensorMap(OpBuilder &b, Location loc,
                                              Value tensor,
                                              ArrayRef<int64_t> box) {
  auto type = cast<MemRefType>(tensor.getType());
  Value unranked = memref::CastOp::create(
      b, loc, UnrankedMemRefType::get(type.getElementType(), Attribute()),
      tensor);
  SmallVector<Value> boxValues;
  for (int64_t d : box)
    boxValues.push_back(arith::ConstantIndexOp::create(b, loc, d));
  Value map = nvgpu::TmaCreateDescriptorOp::create(
      b, loc, tensorMapType(b.getContext(), box, type.getElementType()),
      unranked, boxValues);
  // Kernels take the map as a plain pointer: gpu-to-nvvm does not convert
  // the descriptor type in a kernel's signature.
  return UnrealizedConversionCastOp::create(
             b, loc, LLVM::LLVMPointerType::get(b.getContext()), map)
      .getResult(0);
}

Value mlir::attn::gpu_kernel::tensorMapInKernel(KernelBuilder &kb,
                                                Value pointer,
                                                ArrayRef<int64_t> box,
                                                Type elementType) {
  OpBuilder &b = kb.builder();
  Location loc = kb.location();
  // Through an integer, so that canonicalization does not fold this cast
  // into the host's (which would make the descriptor type a kernel
  // parameter again).
  Value address = LLVM::PtrToIntOp::create(b, loc, b.getI64Type(), pointer);
  Value kernelPointer = LLVM::IntToPtrOp::create(
      b, loc, LLVM::LLVMPointerType::get(b.getContext()), address);
  return UnrealizedConversionCastOp::create(
             b, loc, tensorMapType(b.getContext(), box, elementType),
             kernelPointer)
      .getResult(0);
}

static nvgpu::MBarrierGroupType groupType(MLIRContext *ctx, int64_t count) {
  return nvgpu::MBarrierGroupType::get(ctx, workgroupSpace(ctx), count);
}

Mbarriers::Mbarriers(KernelBuilder &kb, int64_t count) {
  OpBuilder &b = kb.builder();
  group = nvgpu::MBarrierCreateOp::create(
      b, kb.location(), groupType(b.getContext(), count));
}

void Mbarriers::init(KernelBuilder &kb, Value index, int64_t arrivals) {
  nvgpu::MBarrierInitOp::create(kb.builder(), kb.location(), group,
                                kb.idx(arrivals), index, Value());
}

void Mbarriers::arriveExpectBytes(KernelBuilder &kb, Value index,
                                  int64_t bytes) {
  nvgpu::MBarrierArriveExpectTxOp::create(kb.builder(), kb.location(), group,
                                          kb.idx(bytes), index, Value());
}

void Mbarriers::arrive(KernelBuilder &kb, Value index) {
  OpBuilder &b = kb.builder();
  nvgpu::MBarrierArriveOp::create(
      b, kb.location(), nvgpu::MBarrierTokenType::get(b.getContext()), group,
      index);
}

void Mbarriers::wait(KernelBuilder &kb, Value index, Value parity,
                     bool reconverge) {
  OpBuilder &b = kb.builder();
  Value bit = arith::IndexCastUIOp::create(b, kb.location(), b.getI1Type(),
                                           parity);
  // The lowering retries try_wait until the phase completes; the tick count
  // is each try's suspend-time hint.
  nvgpu::MBarrierTryWaitParityOp::create(b, kb.location(), group, bit,
                                         kb.idx(10000000), index);
  if (reconverge)
    NVVM::SyncWarpOp::create(b, kb.location(), kb.i32(-1));
}

void Mbarriers::fenceInit(KernelBuilder &kb) {
  NVVM::FenceMbarrierInitOp::create(kb.builder(), kb.location());
}

Mbarriers mlir::attn::gpu_kernel::fullEmptyBarriers(KernelBuilder &kb,
                                                    Value tid, int64_t stages,
                                                    int64_t consumers) {
  Mbarriers bars(kb, 2 * stages);
  kb.ifThen(kb.eqI(tid, 0), [&](KernelBuilder &kb) {
    for (int64_t st = 0; st < stages; ++st) {
      bars.init(kb, kb.idx(st), 1);
      bars.init(kb, kb.idx(stages + st), consumers);
    }
    bars.fenceInit(kb);
  });
  kb.barrier();
  return bars;
}

void Mbarriers::load(KernelBuilder &kb, Value map, ValueRange coordinates,
                     Value index, Value dst) {
  nvgpu::TmaAsyncLoadOp::create(kb.builder(), kb.location(), dst, group, map,
                                coordinates, index, /*multicastMask=*/Value(),
                                /*predicate=*/Value());
}

void mlir::attn::gpu_kernel::prefetchTensorMap(KernelBuilder &kb, Value map) {
  nvgpu::TmaPrefetchOp::create(kb.builder(), kb.location(), map, Value());
}

void mlir::attn::gpu_kernel::setMaxRegisters(KernelBuilder &kb, int64_t count,
                                             bool increase) {
  NVVM::SetMaxRegisterOp::create(
      kb.builder(), kb.location(), count,
      increase ? NVVM::SetMaxRegisterAction::increase
               : NVVM::SetMaxRegisterAction::decrease);
}
