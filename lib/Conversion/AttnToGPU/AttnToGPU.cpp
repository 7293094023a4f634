//===- AttnToGPU.cpp - attn ops to tensor-core and row GPU kernels --------===//
//
// attn-map-to-gpu: one rewrite pattern per kernel family replaces each attn
// op that a hand-scheduled kernel computes by that kernel, written as
// gpu.launch ops over the op's buffers (bufferization.to_buffer of its
// operands, fresh allocations for its results). Each pattern asks its
// family's plan (Plans.h) whether the op's schedule runs; the kernel
// builders (Kernels/) only obey the plan. Ops no kernel computes are left
// for attn-decompose and the simple one-thread-per-element mapping, with a
// remark saying why.
//
//===----------------------------------------------------------------------===//

#include "Kernels/Kernels.h"

#include "attn/Conversion/AttnToGPU/AttnToGPU.h"
#include "attn/Conversion/KernelPackage/FunctionSpec.h"
#include "attn/Conversion/Passes.h"
#include "attn/Tuning/Tuning.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/WalkPatternRewriteDriver.h"

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

/// The tensor of a buffer the kernels wrote.
Value asTensor(OpBuilder &b, Location loc, Value buffer, Type t) {
  return bufferization::ToTensorOp::create(b, loc, t, buffer,
                                           /*restrict=*/true,
                                           /*writable=*/true);
}

/// `buffer` viewed as `shape` ([rows, cols] or [rows]) through a reshape
/// the kernel package can follow: leading dims collapse into rows; a rank-0
/// or rank-1 buffer gains a unit dim.
Value reshape(OpBuilder &b, Location loc, Value buffer,
              ArrayRef<int64_t> shape) {
  auto type = cast<MemRefType>(buffer.getType());
  if (type.getShape() == shape)
    return buffer;
  auto target = MemRefType::get(shape, type.getElementType());
  int64_t rank = type.getRank(), targetRank = shape.size();
  if (rank < targetRank) {
    SmallVector<ReassociationIndices> groups;
    if (rank == 1)
      groups.push_back({0, 1});
    return memref::ExpandShapeOp::create(b, loc, target, buffer, groups);
  }
  SmallVector<ReassociationIndices> groups(targetRank);
  for (int64_t d = 0; d < rank; ++d)
    groups[std::max<int64_t>(0, d - (rank - targetRank))].push_back(d);
  return memref::CollapseShapeOp::create(b, loc, target, buffer, groups);
}

/// The schedule `op` runs under on `chip`: its own, or the default. A
/// schedule written for a chip of another ISA is an error.
FailureOr<ScheduleAttr> scheduleFor(Operation *op, const ChipInfo &chip) {
  auto schedule = op->getAttrOfType<ScheduleAttr>("schedule");
  if (!schedule)
    return getDefaultSchedule(op, chip.name);
  const ChipInfo *own = lookupChip(schedule.getChip());
  if (!own || own->isa != chip.isa) {
    op->emitError() << "attn-map-to-gpu: the schedule is for chip '"
                    << schedule.getChip() << "', but the pass compiles for '"
                    << chip.name << "' (" << chip.isa << ")";
    return failure();
  }
  return schedule;
}

/// The pattern of one kernel family: matches the ops the family computes
/// on `chip`, asks the family's plan (`PlanFn`) about the op's schedule,
/// and lets `rewrite` build the kernel the plan describes.
template <typename OpTy, typename PlanT, auto PlanFn>
struct KernelPattern : public OpRewritePattern<OpTy> {
  KernelPattern(MLIRContext *ctx, const ChipInfo &chip)
      : OpRewritePattern<OpTy>(ctx), chip(chip) {}

  /// Replaces `op` by the kernel `plan` describes.
  virtual void rewrite(OpTy op, const PlanT &plan,
                       PatternRewriter &rewriter) const = 0;

  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const final {
    if (getKernelFamily(op, chip) == KernelFamily::Loops)
      return rewriter.notifyMatchFailure(op, "no kernel computes this op");
    FailureOr<ScheduleAttr> schedule = scheduleFor(op, chip);
    if (failed(schedule))
      return failure();
    FailureOr<PlanT> plan = PlanFn(op, *schedule, chip, [&] {
      return op->emitError() << "attn-map-to-gpu: ";
    });
    if (failed(plan))
      return failure();
    recordKernelMapping(op, *schedule, plan->facts.tensorCore());
    rewrite(op, *plan, rewriter);
    return success();
  }

  const ChipInfo &chip;
};

struct AttentionToKernel
    : public KernelPattern<AttentionOp, AttentionPlan, planAttention> {
  using KernelPattern::KernelPattern;

  void rewrite(AttentionOp op, const AttentionPlan &plan,
               PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value q = readBuffer(rewriter, loc, op.getQuery());
    Value k = readBuffer(rewriter, loc, op.getKey());
    Value v = readBuffer(rewriter, loc, op.getValue());
    Value out = resultBuffer(rewriter, loc, op.getOutput().getType());
    Value lse = op.getLse() ? resultBuffer(rewriter, loc, op.getLse().getType())
                            : Value();
    gpu_kernel::buildAttention(rewriter, loc, plan, q, k, v, out, lse);
    SmallVector<Value> results = {
        asTensor(rewriter, loc, out, op.getOutput().getType())};
    if (lse)
      results.push_back(asTensor(rewriter, loc, lse, op.getLse().getType()));
    rewriter.replaceOp(op, results);
  }
};

/// The FlashAttention-2 backward: dQ, then dK and dV.
struct AttentionGradToKernel
    : public KernelPattern<AttentionGradOp, AttentionGradPlan,
                           planAttentionGrad> {
  using KernelPattern::KernelPattern;

  void rewrite(AttentionGradOp op, const AttentionGradPlan &plan,
               PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto read = [&](Value v) { return readBuffer(rewriter, loc, v); };
    SmallVector<Value> grads;
    for (Value r : op->getResults())
      grads.push_back(resultBuffer(rewriter, loc, r.getType()));
    gpu_kernel::buildAttentionGrad(
        rewriter, loc, plan, read(op.getQuery()), read(op.getKey()),
        read(op.getValue()), read(op.getOutput()), read(op.getLse()),
        read(op.getGradOutput()), grads[0], grads[1], grads[2]);
    SmallVector<Value> results;
    for (auto [buffer, r] : llvm::zip(grads, op->getResults()))
      results.push_back(asTensor(rewriter, loc, buffer, r.getType()));
    rewriter.replaceOp(op, results);
  }
};

/// planRows for one op type.
template <typename OpTy>
FailureOr<RowPlan> planRowsOf(OpTy op, ScheduleAttr schedule,
                              const ChipInfo &chip, PlanDiagnostic emitError) {
  return planRows(op, schedule, chip, emitError);
}

/// softmax, log_softmax, logsumexp over the last dim.
template <typename OpTy>
struct SoftmaxRowsToKernel
    : public KernelPattern<OpTy, RowPlan, planRowsOf<OpTy>> {
  using KernelPattern<OpTy, RowPlan, planRowsOf<OpTy>>::KernelPattern;

  void rewrite(OpTy op, const RowPlan &plan,
               PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value in = reshape(rewriter, loc, readBuffer(rewriter, loc, op.getInput()),
                       {plan.rows, plan.cols});
    Type resultType = op.getResult().getType();
    Value outBuffer = resultBuffer(rewriter, loc, resultType);
    Value out = plan.kind == RowResult::LogSumExp
                    ? reshape(rewriter, loc, outBuffer, {plan.rows})
                    : reshape(rewriter, loc, outBuffer,
                              {plan.rows, plan.cols});
    gpu_kernel::buildSoftmaxRows(rewriter, loc, plan, in, out);
    rewriter.replaceOp(op, asTensor(rewriter, loc, outBuffer, resultType));
  }
};

/// softmax_grad and log_softmax_grad over the last dim: the softmax rows'
/// kernel reading y and dy.
template <typename OpTy>
struct SoftmaxGradRowsToKernel
    : public KernelPattern<OpTy, RowPlan, planRowsOf<OpTy>> {
  using KernelPattern<OpTy, RowPlan, planRowsOf<OpTy>>::KernelPattern;

  void rewrite(OpTy op, const RowPlan &plan,
               PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto rows = [&](Value v) {
      return reshape(rewriter, loc, v, {plan.rows, plan.cols});
    };
    Value y = rows(readBuffer(rewriter, loc, op.getOutput()));
    Value dy = rows(readBuffer(rewriter, loc, op.getGradOutput()));
    Type resultType = op.getGradInput().getType();
    Value dxBuffer = resultBuffer(rewriter, loc, resultType);
    gpu_kernel::buildSoftmaxGradRows(rewriter, loc, plan, y, dy,
                                     rows(dxBuffer));
    rewriter.replaceOp(op, asTensor(rewriter, loc, dxBuffer, resultType));
  }
};

/// The per-token losses of a loss op in `rowLoss`, then its reduction into
/// the loss result; replaces the op.
template <typename OpTy>
void finishLoss(PatternRewriter &rewriter, OpTy op, Value labels,
                Value lossBuffer, Value rowLoss, Value lseBuffer,
                int64_t ignoreIndex) {
  Location loc = op.getLoc();
  if (rowLoss != lossBuffer) {
    gpu_kernel::buildLossReduction(rewriter, loc, rowLoss, labels, ignoreIndex,
                                   op.getReduction() == Reduction::mean,
                                   lossBuffer);
    memref::DeallocOp::create(rewriter, loc, rowLoss);
  }
  SmallVector<Value> results = {
      asTensor(rewriter, loc, lossBuffer, op.getLoss().getType())};
  if (lseBuffer)
    results.push_back(
        asTensor(rewriter, loc, lseBuffer, op.getLse().getType()));
  rewriter.replaceOp(op, results);
}

/// Buffers of a loss op's results: the loss, the per-token losses (the loss
/// itself for reduction none), the LSE (or null).
template <typename OpTy>
std::array<Value, 3> lossBuffers(PatternRewriter &rewriter, OpTy op,
                                 int64_t tokens) {
  Location loc = op.getLoc();
  Value loss = resultBuffer(rewriter, loc, op.getLoss().getType());
  Value rowLoss =
      op.getReduction() == Reduction::none
          ? loss
          : memref::AllocOp::create(
                rewriter, loc,
                MemRefType::get({tokens}, rewriter.getF32Type()))
                .getResult();
  Value lse = op.getLse() ? resultBuffer(rewriter, loc, op.getLse().getType())
                          : Value();
  return {loss, rowLoss, lse};
}

struct CrossEntropyToKernel
    : public KernelPattern<CrossEntropyOp, RowPlan,
                           planRowsOf<CrossEntropyOp>> {
  using KernelPattern::KernelPattern;

  void rewrite(CrossEntropyOp op, const RowPlan &plan,
               PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value logits = readBuffer(rewriter, loc, op.getLogits());
    Value labels = readBuffer(rewriter, loc, op.getLabels());
    auto [loss, rowLoss, lse] = lossBuffers(rewriter, op, plan.rows);
    gpu_kernel::buildCrossEntropyRows(rewriter, loc, plan, logits, labels,
                                      rowLoss, lse);
    finishLoss(rewriter, op, labels, loss, rowLoss, lse, plan.ignoreIndex);
  }
};

/// logsumexp_grad over the last dim: the elementwise row kernel.
struct LogSumExpGradToKernel
    : public KernelPattern<LogSumExpGradOp, RowPlan,
                           planRowsOf<LogSumExpGradOp>> {
  using KernelPattern::KernelPattern;

  void rewrite(LogSumExpGradOp op, const RowPlan &plan,
               PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto rowsOf = [&](Value buffer, bool perRow) {
      return perRow ? reshape(rewriter, loc, buffer, {plan.rows})
                    : reshape(rewriter, loc, buffer, {plan.rows, plan.cols});
    };
    Type resultType = op.getGradInput().getType();
    Value dx = resultBuffer(rewriter, loc, resultType);
    gpu_kernel::buildLogSumExpGradRows(
        rewriter, loc, plan,
        rowsOf(readBuffer(rewriter, loc, op.getInput()), false),
        rowsOf(readBuffer(rewriter, loc, op.getOutput()), true),
        rowsOf(readBuffer(rewriter, loc, op.getGradOutput()), true),
        rowsOf(dx, false));
    rewriter.replaceOp(op, asTensor(rewriter, loc, dx, resultType));
  }
};

/// The upstream gradient of each token of a loss with `reduction`: the
/// operand itself, or for the mean a rank-0 buffer that a one-block kernel
/// fills with grad_loss / kept tokens (the caller deallocates it).
std::pair<Value, Value> perTokenUpstream(OpBuilder &b, Location loc,
                                                Value gradLoss, Value labels,
                                                Reduction reduction,
                                                int64_t ignoreIndex) {
  if (reduction != Reduction::mean)
    return {gradLoss, Value()};
  Value mean =
      memref::AllocOp::create(b, loc, MemRefType::get({}, b.getF32Type()));
  gpu_kernel::buildLossReduction(b, loc, Value(), labels, ignoreIndex,
                                 /*mean=*/true, mean, gradLoss);
  return {mean, mean};
}

/// cross_entropy_grad: the elementwise row kernel, after (for the mean) a
/// one-block kernel that divides the loss gradient by the kept tokens.
struct CrossEntropyGradToKernel
    : public KernelPattern<CrossEntropyGradOp, RowPlan,
                           planRowsOf<CrossEntropyGradOp>> {
  using KernelPattern::KernelPattern;

  void rewrite(CrossEntropyGradOp op, const RowPlan &plan,
               PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value labels = readBuffer(rewriter, loc, op.getLabels());
    auto [upstream, perTokenMean] = perTokenUpstream(
        rewriter, loc, readBuffer(rewriter, loc, op.getGradLoss()), labels,
        plan.reduction, plan.ignoreIndex);
    Type resultType = op.getGradLogits().getType();
    Value dz = resultBuffer(rewriter, loc, resultType);
    gpu_kernel::buildCrossEntropyGradRows(
        rewriter, loc, plan, readBuffer(rewriter, loc, op.getLogits()), labels,
        readBuffer(rewriter, loc, op.getLse()), upstream, dz);
    if (perTokenMean)
      memref::DeallocOp::create(rewriter, loc, perTokenMean);
    rewriter.replaceOp(op, asTensor(rewriter, loc, dz, resultType));
  }
};

/// linear_cross_entropy_grad: the chunked tensor-core backward.
struct LinearCrossEntropyGradToKernel
    : public KernelPattern<LinearCrossEntropyGradOp,
                           LinearCrossEntropyGradPlan,
                           planLinearCrossEntropyGrad> {
  using KernelPattern::KernelPattern;

  void rewrite(LinearCrossEntropyGradOp op,
               const LinearCrossEntropyGradPlan &plan,
               PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value labels = readBuffer(rewriter, loc, op.getLabels());
    auto [upstream, temp] =
        perTokenUpstream(rewriter, loc, readBuffer(rewriter, loc, op.getGradLoss()),
                         labels, plan.reduction, plan.ignoreIndex);
    Value bias =
        op.getBias() ? readBuffer(rewriter, loc, op.getBias()) : Value();
    SmallVector<Value> results;
    for (Value r : op->getResults())
      results.push_back(resultBuffer(rewriter, loc, r.getType()));
    gpu_kernel::buildLinearCrossEntropyGrad(
        rewriter, loc, plan, readBuffer(rewriter, loc, op.getHidden()),
        readBuffer(rewriter, loc, op.getWeight()), bias, labels,
        readBuffer(rewriter, loc, op.getLse()), upstream, results[0],
        results[1], bias ? results[2] : Value());
    if (temp)
      memref::DeallocOp::create(rewriter, loc, temp);
    SmallVector<Value> tensors;
    for (auto [buffer, r] : llvm::zip(results, op->getResults()))
      tensors.push_back(asTensor(rewriter, loc, buffer, r.getType()));
    rewriter.replaceOp(op, tensors);
  }
};

struct LinearCrossEntropyToKernel
    : public KernelPattern<LinearCrossEntropyOp, LinearCrossEntropyPlan,
                           planLinearCrossEntropy> {
  using KernelPattern::KernelPattern;

  void rewrite(LinearCrossEntropyOp op, const LinearCrossEntropyPlan &plan,
               PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value hidden = readBuffer(rewriter, loc, op.getHidden());
    Value weight = readBuffer(rewriter, loc, op.getWeight());
    Value bias =
        op.getBias() ? readBuffer(rewriter, loc, op.getBias()) : Value();
    Value labels = readBuffer(rewriter, loc, op.getLabels());
    auto [loss, rowLoss, lse] = lossBuffers(rewriter, op, plan.tokens);
    gpu_kernel::buildLinearCrossEntropy(rewriter, loc, plan, hidden, weight,
                                        bias, labels, rowLoss, lse);
    finishLoss(rewriter, op, labels, loss, rowLoss, lse, plan.ignoreIndex);
  }
};

struct AttnMapToGPUPass
    : public attn::impl::AttnMapToGPUBase<AttnMapToGPUPass> {
  using AttnMapToGPUBase::AttnMapToGPUBase;

  void runOnOperation() override {
    const ChipInfo *target = lookupChip(chip);
    if (!target || !target->isGpu()) {
      getOperation().emitError()
          << "attn-map-to-gpu: unknown GPU chip '" << chip << "' (one of "
          << knownChipNames(/*gpuOnly=*/true) << ")";
      return signalPassFailure();
    }
    // Ops no kernel computes stay for the simple mapping: say why.
    getOperation().walk([&](Operation *op) {
      if (!isa<AttnOpInterface>(op))
        return;
      FailureOr<KernelPlan> plan =
          planKernel(op, getDefaultSchedule(op, target->name), *target);
      if (succeeded(plan) && plan->family() == KernelFamily::Loops)
        op->emitRemark() << "attn-map-to-gpu: no kernel for this "
                         << op->getName().stripDialect() << " ("
                         << plan->whyLoops
                         << "); it takes the simple GPU mapping";
    });
    RewritePatternSet patterns(&getContext());
    populateAttnToGPUPatterns(patterns, *target);
    walkAndApplyPatterns(getOperation(), std::move(patterns));
    // A kernel's op still here was rejected by its plan (diagnosed).
    WalkResult left = getOperation().walk([&](Operation *op) {
      if (isa<AttnOpInterface>(op) &&
          getKernelFamily(op, *target) != KernelFamily::Loops)
        return WalkResult::interrupt();
      return WalkResult::advance();
    });
    if (left.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace

void mlir::attn::populateAttnToGPUPatterns(RewritePatternSet &patterns,
                                           const ChipInfo &chip) {
  MLIRContext *ctx = patterns.getContext();
  patterns.add<AttentionToKernel, AttentionGradToKernel,
               SoftmaxRowsToKernel<SoftmaxOp>,
               SoftmaxRowsToKernel<LogSoftmaxOp>,
               SoftmaxRowsToKernel<LogSumExpOp>,
               SoftmaxGradRowsToKernel<SoftmaxGradOp>,
               SoftmaxGradRowsToKernel<LogSoftmaxGradOp>, LogSumExpGradToKernel,
               CrossEntropyGradToKernel, CrossEntropyToKernel,
               LinearCrossEntropyToKernel, LinearCrossEntropyGradToKernel>(
      ctx, chip);
}
