//===- RowPlan.cpp - which schedules the row kernels run ------------------===//
//
// Softmax-family (and softmax / log_softmax gradient) and cross-entropy
// row kernels read each row in one block
// (block_m = 1) or one warp (block_m = warps), with 16-byte accesses when
// the row length allows. With passes = 1 a thread keeps its slice of the
// row in registers; split > 1 spreads the row over a cluster of blocks.
// The row kernels read whole rows: block_n only bounds the one-pass form.
//
//===----------------------------------------------------------------------===//

#include "PlanChecks.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::plan_detail;

/// The input and kind of a row op, or a null input for other ops.
static std::pair<Value, RowResult> rowOperand(Operation *op) {
  return llvm::TypeSwitch<Operation *, std::pair<Value, RowResult>>(op)
      .Case([](SoftmaxOp o) {
        return std::make_pair(o.getInput(), RowResult::Softmax);
      })
      .Case([](LogSoftmaxOp o) {
        return std::make_pair(o.getInput(), RowResult::LogSoftmax);
      })
      .Case([](LogSumExpOp o) {
        return std::make_pair(o.getInput(), RowResult::LogSumExp);
      })
      .Case([](CrossEntropyOp o) {
        return std::make_pair(o.getLogits(), RowResult::CrossEntropy);
      })
      .Case([](SoftmaxGradOp o) {
        return std::make_pair(o.getOutput(), RowResult::SoftmaxGrad);
      })
      .Case([](LogSoftmaxGradOp o) {
        return std::make_pair(o.getOutput(), RowResult::LogSoftmaxGrad);
      })
      .Case([](LogSumExpGradOp o) {
        return std::make_pair(o.getInput(), RowResult::LogSumExpGrad);
      })
      .Case([](CrossEntropyGradOp o) {
        return std::make_pair(o.getLogits(), RowResult::CrossEntropyGrad);
      })
      .Default([](Operation *) {
        return std::make_pair(Value(), RowResult::Softmax);
      });
}

/// Reads the attributes of cross_entropy or cross_entropy_grad.
template <typename OpT> static void readLossAttributes(OpT op, RowPlan &p) {
  p.reduction = op.getReduction();
  p.ignoreIndex = op.getIgnoreIndex();
  p.labelSmoothing = op.getLabelSmoothing().convertToDouble();
  p.zLoss = op.getZLoss().convertToDouble();
  if (std::optional<APFloat> cap = op.getSoftcap())
    p.softcap = cap->convertToDouble();
}

static int64_t reducedDim(Operation *op) {
  return llvm::TypeSwitch<Operation *, int64_t>(op)
      .Case<SoftmaxOp, LogSoftmaxOp, LogSumExpOp, SoftmaxGradOp,
            LogSoftmaxGradOp, LogSumExpGradOp>(
          [](auto o) { return static_cast<int64_t>(o.getDim()); })
      .Default([](Operation *op) {
        return cast<ShapedType>(op->getOperand(0).getType()).getRank() - 1;
      });
}

std::string mlir::attn::unsupportedRows(Operation *op) {
  Value input = rowOperand(op).first;
  if (!input)
    return "not a row op";
  std::string why = unsupportedOperands(input, /*allowF32=*/true);
  if (!why.empty())
    return why;
  if (reducedDim(op) != cast<ShapedType>(input.getType()).getRank() - 1)
    return "the reduced dim is not the last one";
  return "";
}

FailureOr<RowPlan> mlir::attn::planRows(Operation *op, ScheduleAttr schedule,
                                        const ChipInfo &chip,
                                        PlanDiagnostic emitError) {
  auto [input, kind] = rowOperand(op);
  auto type = cast<ShapedType>(input.getType());
  RowPlan p;
  p.kind = kind;
  p.cols = type.getShape().back();
  p.rows = type.getNumElements() / std::max<int64_t>(p.cols, 1);
  p.inputType = type.getElementType();
  bool crossEntropy =
      kind == RowResult::CrossEntropy || kind == RowResult::CrossEntropyGrad;
  p.outputType = kind == RowResult::CrossEntropy
                     ? Float32Type::get(op->getContext())
                     : cast<ShapedType>(op->getResult(0).getType())
                           .getElementType();
  int64_t bytes = p.inputType.getIntOrFloatBitWidth() / 8;
  p.width = p.cols % (16 / bytes) == 0 ? 16 / bytes : 1;
  p.rowsPerBlock = schedule.getBlockM();
  p.warps = schedule.getWarps();
  p.passes = schedule.getPasses();
  if (auto ce = dyn_cast<CrossEntropyOp>(op))
    readLossAttributes(ce, p);
  else if (auto grad = dyn_cast<CrossEntropyGradOp>(op))
    readLossAttributes(grad, p);
  else
    p.cluster = schedule.getSplit();

  PlanChecker c(chip, emitError);
  if (failed(c.require(p.rowsPerBlock == 1 || p.rowsPerBlock == p.warps,
                       "block_m",
                       "(" + Twine(p.rowsPerBlock) +
                           ") must be 1 (a row per block) or warps (" +
                           Twine(p.warps) + ", a row per warp)")))
    return failure();
  if (isElementwiseRow(kind) &&
      failed(c.require(p.cluster == 1 && p.passes == 1, "split",
                       "(" + Twine(p.cluster) + ") and passes (" +
                           Twine(p.passes) +
                           ") must be 1: the gradient is elementwise over "
                           "each row, which one block or warp streams")))
    return failure();
  if (kind == RowResult::CrossEntropy &&
      failed(c.require(schedule.getSplit() == 1, "split",
                       "(" + Twine(schedule.getSplit()) +
                           ") must be 1: the cross-entropy row kernel reads "
                           "each row in one block (split-V is a tiled-loops "
                           "schedule)")))
    return failure();
  if (p.cluster > 1 &&
      failed(c.require(chip.hasClusters(), "split",
                       "(" + Twine(p.cluster) +
                           ") spreads a row over a cluster of blocks; " +
                           chip.name + " has no clusters")))
    return failure();
  int64_t rowsHeld = isGradientRow(kind) ? 2 : 1;
  bool holdsRow = !crossEntropy && !isElementwiseRow(kind) && p.passes == 1;
  if (holdsRow &&
      failed(c.require(rowsHeld * p.slots() * p.width <=
                           kMaxRowElementsPerThread,
                       "warps",
                       "(" + Twine(p.warps) + ") leave " +
                           Twine(rowsHeld * p.slots() * p.width) +
                           " row elements per thread in registers with "
                           "passes = 1; the limit is " +
                           Twine(kMaxRowElementsPerThread) +
                           " (use more warps, or passes = 2)")))
    return failure();

  LaunchFacts &f = p.facts;
  f.family = crossEntropy ? KernelFamily::CrossEntropyRows
                         : KernelFamily::SoftmaxRows;
  f.threads = p.threads();
  f.grid = {saturatingMul(ceilDiv(p.rows, p.rowsPerBlock), p.cluster), 1, 1};
  f.cluster = p.cluster;
  f.sharedBytes = p.sharedBytes();
  f.accumulatorRegisters = holdsRow ? rowsHeld * p.slots() * p.width : 0;
  if (failed(c.finishLaunch(f)))
    return failure();
  return p;
}
