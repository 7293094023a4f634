//===- AttnToGPU.cpp - attn ops to tensor-core GPU kernels ----------------===//
//
// attn-map-to-gpu: replaces each attn op that a hand-scheduled GPU kernel
// covers by that kernel, written as gpu.launch ops over the op's buffers
// (bufferization.to_buffer of its operands, fresh allocations for its
// results). Ops it does not cover are left for attn-decompose and the
// simple one-thread-per-element mapping, with a remark saying why.
//
//===----------------------------------------------------------------------===//

#include "AttnToGPU.h"
#include "RowKernels.h"

#include "attn/Conversion/Passes.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Dialect/Attn/IR/Schedule.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <cmath>

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNMAPTOGPU
#include "attn/Conversion/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;

namespace {

/// The buffer of tensor `v`, for kernels to read.
Value readBuffer(OpBuilder &b, Location loc, Value v) {
  auto t = cast<RankedTensorType>(v.getType());
  return bufferization::ToBufferOp::create(
      b, loc, MemRefType::get(t.getShape(), t.getElementType()), v,
      /*read_only=*/true);
}

/// A fresh buffer for a result of type `t`.
Value resultBuffer(OpBuilder &b, Location loc, Type t) {
  auto tensor = cast<RankedTensorType>(t);
  return memref::AllocOp::create(
      b, loc, MemRefType::get(tensor.getShape(), tensor.getElementType()));
}

Value asTensor(OpBuilder &b, Location loc, Value buffer, Type t) {
  return bufferization::ToTensorOp::create(b, loc, t, buffer,
                                           /*restrict=*/true,
                                           /*writable=*/true);
}

/// Why the tensor-core attention kernel cannot compute `op`, or "".
std::string unsupportedAttention(AttentionOp op) {
  auto qType = cast<ShapedType>(op.getQuery().getType());
  std::string why = gpu_kernel::unsupportedOperands(
      {op.getQuery(), op.getKey(), op.getValue()}, /*allowF32=*/false);
  if (!why.empty())
    return why;
  if (op.getMask())
    return "a mask operand";
  int64_t d = qType.getDimSize(3);
  if (cast<ShapedType>(op.getValue().getType()).getDimSize(3) != d)
    return "value head dim differs from the query head dim";
  if (d % 16 != 0 || d > 256)
    return "head dim is not a multiple of 16 up to 256";
  return "";
}

/// Checks that `schedule` is one the tensor-core attention kernel runs.
LogicalResult checkAttentionSchedule(AttentionOp op, ScheduleAttr schedule,
                                     const TargetInfo &target,
                                     gpu_kernel::AttentionKernelSpec &spec) {
  auto fail = [&](const Twine &msg) {
    return op.emitError() << "attn-map-to-gpu: schedule " << schedule << " "
                          << msg;
  };
  spec.blockM = schedule.getBlockM();
  spec.blockN = schedule.getBlockN();
  spec.warps = schedule.getWarps();
  spec.stages = schedule.getStages();
  spec.split = schedule.getSplit();
  if (spec.blockM != 16 * spec.warps && spec.blockM != 32 * spec.warps)
    return fail("needs block_m = 16 x warps or 32 x warps (16 or 32 query "
                "rows per warp)");
  if (spec.blockN % 16 != 0)
    return fail("needs block_n to be a multiple of 16");
  if (spec.stages < 2)
    return fail("needs at least 2 stages (the key/value tiles are "
                "double-buffered)");
  // Warpgroup MMA where the chip has it and the schedule fits its tiles:
  // a warpgroup per 64 query rows, head dims in whole 64-column slabs,
  // block_n up to 256, and stages for the two wgmma groups in flight.
  spec.warpgroupMma = target.hasWarpgroupMma && spec.warps % 4 == 0 &&
                      spec.blockM == 16 * spec.warps &&
                      spec.headDim % 64 == 0 && spec.blockN <= 256 &&
                      spec.stages >= 4;
  int64_t smem = gpu_kernel::attentionSharedBytes(spec);
  if (smem > target.sharedMemoryPerBlock)
    return fail("needs " + Twine(smem) + " bytes of shared memory; " +
                target.chip + " has " + Twine(target.sharedMemoryPerBlock));
  return success();
}

LogicalResult mapAttention(AttentionOp op, const TargetInfo &target) {
  auto qType = cast<ShapedType>(op.getQuery().getType());
  auto kType = cast<ShapedType>(op.getKey().getType());
  gpu_kernel::AttentionKernelSpec spec;
  spec.batch = qType.getDimSize(0);
  spec.qHeads = qType.getDimSize(1);
  spec.queries = qType.getDimSize(2);
  spec.headDim = qType.getDimSize(3);
  spec.kvHeads = kType.getDimSize(1);
  spec.keys = kType.getDimSize(2);
  spec.elementType = qType.getElementType();
  spec.scale = op.getScale() ? op.getScale()->convertToDouble()
                             : 1.0 / std::sqrt(double(spec.headDim));
  if (std::optional<APFloat> cap = op.getSoftcap())
    spec.softcap = cap->convertToDouble();
  spec.causal = op.getCausal();
  if (std::optional<ArrayRef<int64_t>> w = op.getWindow())
    spec.window = std::make_pair((*w)[0], (*w)[1]);
  ScheduleAttr schedule = op->getAttrOfType<ScheduleAttr>("schedule");
  if (!schedule)
    schedule = getDefaultSchedule(op, target.chip);
  if (failed(checkAttentionSchedule(op, schedule, target, spec)))
    return failure();

  OpBuilder b(op);
  Location loc = op.getLoc();
  Value q = readBuffer(b, loc, op.getQuery());
  Value k = readBuffer(b, loc, op.getKey());
  Value v = readBuffer(b, loc, op.getValue());
  Value out = resultBuffer(b, loc, op.getOutput().getType());
  Value lse = op.getLse() ? resultBuffer(b, loc, op.getLse().getType()) : Value();
  gpu_kernel::buildAttention(b, loc, spec, q, k, v, out, lse);
  gpu_kernel::recordKernelSchedule(
      op, schedule,
      spec.warpgroupMma ? "wgmma.m64n" + std::to_string(spec.blockN) + "k16"
                        : "mma.sync.m16n8k16");
  op.getOutput().replaceAllUsesWith(
      asTensor(b, loc, out, op.getOutput().getType()));
  if (lse)
    op.getLse().replaceAllUsesWith(
        asTensor(b, loc, lse, op.getLse().getType()));
  op.erase();
  return success();
}

struct AttnMapToGPUPass
    : public attn::impl::AttnMapToGPUBase<AttnMapToGPUPass> {
  using AttnMapToGPUBase::AttnMapToGPUBase;

  void runOnOperation() override {
    FailureOr<TargetInfo> target = getTargetInfo(chip);
    if (failed(target)) {
      getOperation().emitError()
          << "attn-map-to-gpu: unknown chip '" << chip << "'";
      return signalPassFailure();
    }
    SmallVector<Operation *> ops;
    getOperation().walk([&](Operation *op) {
      if (isa<AttentionOp, SoftmaxOp, LogSoftmaxOp, LogSumExpOp,
              CrossEntropyOp, LinearCrossEntropyOp>(op))
        ops.push_back(op);
    });
    for (Operation *op : ops) {
      LogicalResult result = success();
      if (auto attention = dyn_cast<AttentionOp>(op)) {
        std::string why = unsupportedAttention(attention);
        if (!why.empty()) {
          op->emitRemark() << "attn-map-to-gpu: no tensor-core kernel for "
                              "this attention ("
                           << why << "); it takes the simple GPU mapping";
          continue;
        }
        result = mapAttention(attention, *target);
      } else if (auto lce = dyn_cast<LinearCrossEntropyOp>(op)) {
        std::string why = gpu_kernel::unsupportedLinearCrossEntropy(lce);
        if (!why.empty()) {
          op->emitRemark() << "attn-map-to-gpu: no tensor-core kernel for "
                              "this linear_cross_entropy ("
                           << why << "); it takes the simple GPU mapping";
          continue;
        }
        result = gpu_kernel::mapLinearCrossEntropy(lce, *target);
      } else if (auto ce = dyn_cast<CrossEntropyOp>(op)) {
        std::string why = gpu_kernel::unsupportedCrossEntropy(ce);
        if (!why.empty()) {
          op->emitRemark() << "attn-map-to-gpu: no row kernel for this "
                              "cross-entropy ("
                           << why << "); it takes the simple GPU mapping";
          continue;
        }
        result = gpu_kernel::mapCrossEntropy(ce, *target);
      } else {
        std::string why = gpu_kernel::unsupportedRowOp(op);
        if (!why.empty()) {
          op->emitRemark() << "attn-map-to-gpu: no row kernel for this op ("
                           << why << "); it takes the simple GPU mapping";
          continue;
        }
        result = gpu_kernel::mapRowOp(op, *target);
      }
      if (failed(result))
        return signalPassFailure();
    }
  }
};

} // namespace

void mlir::attn::gpu_kernel::recordKernelSchedule(Operation *op,
                                                  ScheduleAttr schedule,
                                                  StringRef tensorCore) {
  auto func = op->getParentOfType<func::FuncOp>();
  auto spec = func ? func->getAttrOfType<StringAttr>("attn.spec") : nullptr;
  if (!spec)
    return;
  llvm::Expected<llvm::json::Value> parsed = llvm::json::parse(spec.getValue());
  if (!parsed) {
    llvm::consumeError(parsed.takeError());
    return;
  }
  llvm::json::Object *root = parsed->getAsObject();
  llvm::json::Object *described = root ? root->getObject("op") : nullptr;
  if (!described)
    return;
  std::string text;
  llvm::raw_string_ostream os(text);
  os << schedule;
  (*described)["mapping"] = "attn-map-to-gpu";
  (*described)["schedule"] = text;
  if (!tensorCore.empty())
    (*described)["tensor_core"] = tensorCore;
  std::string updated;
  llvm::raw_string_ostream out(updated);
  out << *parsed;
  func->setAttr("attn.spec", StringAttr::get(op->getContext(), updated));
}

std::string mlir::attn::gpu_kernel::unsupportedOperands(ValueRange operands,
                                                       bool allowF32) {
  for (Value v : operands)
    if (!cast<ShapedType>(v.getType()).hasStaticShape())
      return "dynamic shapes";
  for (Value v : operands)
    if (cast<ShapedType>(v.getType()).getNumElements() == 0)
      return "an empty tensor";
  Type et = cast<ShapedType>(operands.front().getType()).getElementType();
  if (et.isBF16() || et.isF16() || (allowF32 && et.isF32()))
    return "";
  return allowF32 ? "element type is not f32, bf16 or f16"
                  : "element type is not bf16 or f16";
}

Value mlir::attn::gpu_kernel::readOperandBuffer(OpBuilder &b, Location loc,
                                                Value tensor) {
  return readBuffer(b, loc, tensor);
}

Value mlir::attn::gpu_kernel::newResultBuffer(OpBuilder &b, Location loc,
                                              Type tensorType) {
  return resultBuffer(b, loc, tensorType);
}

Value mlir::attn::gpu_kernel::bufferAsTensor(OpBuilder &b, Location loc,
                                             Value buffer, Type tensorType) {
  return asTensor(b, loc, buffer, tensorType);
}
