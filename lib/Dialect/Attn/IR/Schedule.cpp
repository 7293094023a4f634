//===- Schedule.cpp - structural checks of #attn.schedule -----------------===//

#include "attn/Dialect/Attn/IR/Schedule.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Dialect/Attn/Utils/StaticShape.h"
#include "attn/Target/Target.h"

#include "mlir/IR/BuiltinTypes.h"

using namespace mlir;
using namespace mlir::attn;

namespace {
/// Collects the schedule checks of one op, so that each reads as a line.
class ScheduleChecker {
public:
  ScheduleChecker(ScheduleAttr s, function_ref<InFlightDiagnostic()> emitError)
      : s(s), emitError(emitError) {}

  /// Fails with "schedule <field> <message>" unless `ok`.
  LogicalResult require(bool ok, StringRef field, const Twine &message) {
    if (ok)
      return success();
    emitError() << "schedule " << field << " " << message;
    return failure();
  }

  LogicalResult positiveMultiple(StringRef field, int64_t value,
                                 int64_t multiple) {
    return require(value > 0 && value % multiple == 0, field,
                   "must be a positive multiple of " + Twine(multiple) +
                       ", but is " + Twine(value));
  }

  LogicalResult unused(StringRef field, int64_t value, int64_t def) {
    return require(value == def, field,
                   "does not apply to this op and must be " + Twine(def) +
                       ", but is " + Twine(value));
  }

  ScheduleAttr s;
  function_ref<InFlightDiagnostic()> emitError;
};
} // namespace

LogicalResult mlir::attn::verifyScheduleStructure(
    Operation *op, ScheduleAttr s,
    function_ref<InFlightDiagnostic()> emitError) {
  if (!lookupChip(s.getChip()))
    return emitError() << "schedule chip '" << s.getChip()
                       << "' is not one of " << knownChipNames();
  ScheduleChecker c(s, emitError);
  const ChipInfo *chip = lookupChip(s.getChip());
  int64_t warps = s.getWarps();
  if (failed(c.require(llvm::is_contained({1, 2, 4, 8, 16}, warps), "warps",
                       "must be 1, 2, 4, 8 or 16, but is " + Twine(warps))) ||
      failed(c.require(s.getStages() >= 1 && s.getStages() <= 8, "stages",
                       "must be in [1, 8], but is " + Twine(s.getStages()))) ||
      failed(c.require(s.getSplit() >= 1, "split",
                       "must be >= 1, but is " + Twine(s.getSplit()))) ||
      failed(c.require(s.getPipeline() == kPipelineCpAsync ||
                           isTmaPipeline(s.getPipeline()),
                       "pipeline",
                       "must be \"" + Twine(kPipelineCpAsync) + "\", \"" +
                           kPipelineTma + "\" or \"" + kPipelineTmaPingPong +
                           "\", but is \"" + s.getPipeline() + "\"")) ||
      failed(c.require(isa<AttentionOp, LinearCrossEntropyOp, LinearCrossEntropyGradOp>(
                           op) ||
                           s.getPipeline() == kPipelineCpAsync,
                       "pipeline",
                       "\"" + Twine(s.getPipeline()) +
                           "\" does not apply to this op and must be \"" +
                           kPipelineCpAsync + "\"")) ||
      // On a chip without TMA no family would read the field (the host
      // loops ignore it): reject it rather than accept it silently.
      failed(c.require(!isTmaPipeline(s.getPipeline()) ||
                           chip->hasWarpgroupMma,
                       "pipeline",
                       "\"" + Twine(s.getPipeline()) +
                           "\" needs sm_90a's TMA and warpgroup MMA; " +
                           chip->name + " has neither")))
    return failure();

  auto attnOp = dyn_cast<AttnOpInterface>(op);
  if (!attnOp)
    return emitError() << "schedule is not supported on this op";
  return attnOp.verifyScheduleStructure(s, emitError);
}

//===----------------------------------------------------------------------===//
// Per-op structure (AttnOpInterface::verifyScheduleStructure)
//===----------------------------------------------------------------------===//

LogicalResult AttentionOp::verifyScheduleStructure(
    ScheduleAttr s, function_ref<InFlightDiagnostic()> emitError) {
  ScheduleChecker c(s, emitError);
  int64_t n = staticDimOr(getKey(), 2, 0);
  if (failed(c.positiveMultiple("block_m", s.getBlockM(), 16)) ||
      failed(c.positiveMultiple("block_n", s.getBlockN(), 16)) ||
      failed(c.unused("block_d", s.getBlockD(), 0)) ||
      failed(c.unused("passes", s.getPasses(), 1)))
    return failure();
  if (n > 0)
    return c.require(s.getSplit() <= ceilDiv(n, s.getBlockN()), "split",
                     "(" + Twine(s.getSplit()) +
                         ") exceeds the number of key tiles (" +
                         Twine(ceilDiv(n, s.getBlockN())) + ")");
  return success();
}

/// The softmax family: rows of block_n columns; split > 1 spreads the row
/// over a cluster of `split` blocks (one read, the row held on chip).
static LogicalResult verifyRowSchedule(Value input, int64_t dim,
                                       ScheduleAttr s,
                                       function_ref<InFlightDiagnostic()> emit) {
  ScheduleChecker c(s, emit);
  int64_t row = staticDimOr(input, dim, 0);
  if (failed(c.require(s.getBlockM() > 0, "block_m", "must be positive")) ||
      failed(c.require(s.getBlockN() > 0, "block_n", "must be positive")) ||
      failed(c.require(s.getPasses() == 1 || s.getPasses() == 2, "passes",
                       "must be 1 or 2, but is " + Twine(s.getPasses()))) ||
      failed(c.unused("block_d", s.getBlockD(), 0)) ||
      failed(c.unused("stages", s.getStages(), 1)))
    return failure();
  int64_t split = s.getSplit();
  if (split > 1 &&
      (failed(c.require(llvm::is_contained({2, 4, 8}, split), "split",
                        "(blocks per row, a cluster) must be 1, 2, 4 or 8, "
                        "but is " + Twine(split))) ||
       failed(c.require(s.getPasses() == 1 && s.getBlockM() == 1, "split",
                        "> 1 needs passes = 1 and block_m = 1"))))
    return failure();
  return c.require(s.getPasses() == 2 || row == 0 ||
                       s.getBlockN() * split >= row,
                   "passes",
                   "= 1 needs the whole row (" + Twine(row) +
                       ") in one tile, but block_n is " +
                       Twine(s.getBlockN()) +
                       (split > 1 ? " x split " + Twine(split) : Twine("")));
}

LogicalResult SoftmaxOp::verifyScheduleStructure(
    ScheduleAttr s, function_ref<InFlightDiagnostic()> emitError) {
  return verifyRowSchedule(getInput(), getDim(), s, emitError);
}

LogicalResult LogSoftmaxOp::verifyScheduleStructure(
    ScheduleAttr s, function_ref<InFlightDiagnostic()> emitError) {
  return verifyRowSchedule(getInput(), getDim(), s, emitError);
}

LogicalResult LogSumExpOp::verifyScheduleStructure(
    ScheduleAttr s, function_ref<InFlightDiagnostic()> emitError) {
  return verifyRowSchedule(getInput(), getDim(), s, emitError);
}

LogicalResult CrossEntropyOp::verifyScheduleStructure(
    ScheduleAttr s, function_ref<InFlightDiagnostic()> emitError) {
  ScheduleChecker c(s, emitError);
  int64_t v = staticDimOr(getLogits(), 1, 0);
  if (failed(c.require(s.getBlockM() > 0, "block_m", "must be positive")) ||
      failed(c.require(s.getBlockN() > 0, "block_n", "must be positive")) ||
      failed(c.unused("block_d", s.getBlockD(), 0)) ||
      failed(c.unused("passes", s.getPasses(), 1)) ||
      failed(c.unused("stages", s.getStages(), 1)))
    return failure();
  return c.require(v == 0 || s.getSplit() <= ceilDiv(v, s.getBlockN()),
                   "split", "exceeds the number of vocabulary tiles");
}

LogicalResult LinearCrossEntropyOp::verifyScheduleStructure(
    ScheduleAttr s, function_ref<InFlightDiagnostic()> emitError) {
  ScheduleChecker c(s, emitError);
  int64_t v = staticDimOr(getWeight(), 0, 0);
  if (failed(c.positiveMultiple("block_m", s.getBlockM(), 16)) ||
      failed(c.positiveMultiple("block_n", s.getBlockN(), 16)) ||
      failed(c.positiveMultiple("block_d", s.getBlockD(), 16)) ||
      failed(c.unused("passes", s.getPasses(), 1)))
    return failure();
  return c.require(v == 0 || s.getSplit() <= ceilDiv(v, s.getBlockN()),
                   "split", "exceeds the number of vocabulary tiles");
}

/// logsumexp_grad, cross_entropy_grad and attention_grad (and
/// linear_cross_entropy_grad on a GPU) have no tiled form and no GPU kernel
/// yet: the
/// decomposition computes them and reads no schedule, so every field but
/// the warps and the chip keeps its default.
static LogicalResult
verifyUntiledSchedule(ScheduleAttr s,
                      function_ref<InFlightDiagnostic()> emitError) {
  ScheduleChecker c(s, emitError);
  return success(succeeded(c.unused("block_m", s.getBlockM(), 0)) &&
                 succeeded(c.unused("block_n", s.getBlockN(), 0)) &&
                 succeeded(c.unused("block_d", s.getBlockD(), 0)) &&
                 succeeded(c.unused("stages", s.getStages(), 1)) &&
                 succeeded(c.unused("split", s.getSplit(), 1)) &&
                 succeeded(c.unused("passes", s.getPasses(), 1)));
}

/// softmax_grad and log_softmax_grad run the softmax family's row kernels
/// (over the rows of y and dy): the same fields apply.
LogicalResult SoftmaxGradOp::verifyScheduleStructure(
    ScheduleAttr s, function_ref<InFlightDiagnostic()> emitError) {
  return verifyRowSchedule(getOutput(), getDim(), s, emitError);
}

LogicalResult LogSoftmaxGradOp::verifyScheduleStructure(
    ScheduleAttr s, function_ref<InFlightDiagnostic()> emitError) {
  return verifyRowSchedule(getOutput(), getDim(), s, emitError);
}

/// logsumexp_grad and cross_entropy_grad: the GPU's elementwise row kernel
/// streams block_m rows per block (1, or one per warp); block_m = 0 is the
/// decomposition (the host, and ops no kernel takes).
static LogicalResult
verifyElementwiseRowSchedule(ScheduleAttr s,
                             function_ref<InFlightDiagnostic()> emitError) {
  if (s.getBlockM() == 0)
    return verifyUntiledSchedule(s, emitError);
  ScheduleChecker c(s, emitError);
  return success(succeeded(c.require(s.getBlockM() > 0, "block_m",
                                     "must be positive")) &&
                 succeeded(c.unused("block_n", s.getBlockN(), 0)) &&
                 succeeded(c.unused("block_d", s.getBlockD(), 0)) &&
                 succeeded(c.unused("stages", s.getStages(), 1)) &&
                 succeeded(c.unused("split", s.getSplit(), 1)) &&
                 succeeded(c.unused("passes", s.getPasses(), 1)));
}

LogicalResult LogSumExpGradOp::verifyScheduleStructure(
    ScheduleAttr s, function_ref<InFlightDiagnostic()> emitError) {
  return verifyElementwiseRowSchedule(s, emitError);
}

/// attention_grad: the GPU backward kernels read block_m queries (a dK/dV
/// tile) and block_n keys (a dQ tile); all-zero tiles are the
/// decomposition (the host, and ops no kernel takes).
LogicalResult AttentionGradOp::verifyScheduleStructure(
    ScheduleAttr s, function_ref<InFlightDiagnostic()> emitError) {
  if (s.getBlockM() == 0 && s.getBlockN() == 0)
    return verifyUntiledSchedule(s, emitError);
  ScheduleChecker c(s, emitError);
  return success(succeeded(c.positiveMultiple("block_m", s.getBlockM(), 16)) &&
                 succeeded(c.positiveMultiple("block_n", s.getBlockN(), 16)) &&
                 succeeded(c.unused("block_d", s.getBlockD(), 0)) &&
                 succeeded(c.unused("split", s.getSplit(), 1)) &&
                 succeeded(c.unused("passes", s.getPasses(), 1)));
}

LogicalResult CrossEntropyGradOp::verifyScheduleStructure(
    ScheduleAttr s, function_ref<InFlightDiagnostic()> emitError) {
  return verifyElementwiseRowSchedule(s, emitError);
}

/// linear_cross_entropy_grad: attn-tile's Cut-Cross-Entropy backward
/// reads block_m tokens x block_n classes, contracted block_d at a time
/// (the host); the GPU kernels read the same fields as their product tiles,
/// and warps and stages (their plan checks those); all-zero tiles are the
/// decomposition, which reads no schedule (the GPU's simple mapping).
LogicalResult LinearCrossEntropyGradOp::verifyScheduleStructure(
    ScheduleAttr s, function_ref<InFlightDiagnostic()> emitError) {
  if (s.getBlockM() == 0 && s.getBlockN() == 0 && s.getBlockD() == 0)
    return verifyUntiledSchedule(s, emitError);
  ScheduleChecker c(s, emitError);
  return success(
      succeeded(c.positiveMultiple("block_m", s.getBlockM(), 16)) &&
      succeeded(c.positiveMultiple("block_n", s.getBlockN(), 16)) &&
      succeeded(c.positiveMultiple("block_d", s.getBlockD(), 16)) &&
      succeeded(c.unused("split", s.getSplit(), 1)) &&
      succeeded(c.unused("passes", s.getPasses(), 1)));
}

LogicalResult
mlir::attn::verifySchedule(Operation *op, ScheduleAttr s,
                           function_ref<InFlightDiagnostic()> emitError) {
  if (failed(verifyScheduleStructure(op, s, emitError)))
    return failure();
  if (auto *planner =
          op->getDialect()
              ->getRegisteredInterface<SchedulePlannerInterface>())
    return planner->verifyPlan(op, s, emitError);
  return success();
}
