//===- KernelPlan.cpp - the plan of any attn op, and the verifier hook ----===//

#include "PlanChecks.h"

#include "attn/Dialect/Attn/IR/Schedule.h"

#include "mlir/IR/DialectRegistry.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::plan_detail;

StringRef mlir::attn::stringifyKernelFamily(KernelFamily family) {
  switch (family) {
  case KernelFamily::Attention:
    return "attention";
  case KernelFamily::AttentionGrad:
    return "attention-grad";
  case KernelFamily::SoftmaxRows:
    return "softmax-rows";
  case KernelFamily::CrossEntropyRows:
    return "cross-entropy-rows";
  case KernelFamily::LinearCrossEntropy:
    return "linear-cross-entropy";
  case KernelFamily::LinearCrossEntropyGrad:
    return "linear-cross-entropy-grad";
  case KernelFamily::Loops:
    return "loops";
  }
  llvm_unreachable("unknown kernel family");
}

std::string LaunchFacts::tensorCore() const {
  switch (mma) {
  case MmaKind::Wgmma:
    return "wgmma.m64n" + std::to_string(mmaN) + "k16";
  case MmaKind::MmaSync:
    return "mma.sync.m16n8k16";
  case MmaKind::None:
    return "";
  }
  llvm_unreachable("unknown MMA kind");
}

std::string plan_detail::unsupportedOperands(ValueRange operands,
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

std::string plan_detail::unsupportedAttentionOperands(ValueRange operands,
                                                     Value mask,
                                                     int64_t maxHeadDim) {
  std::string why = unsupportedOperands(operands, /*allowF32=*/false);
  if (!why.empty())
    return why;
  if (mask)
    return "a mask operand";
  int64_t d = cast<ShapedType>(operands[0].getType()).getDimSize(3);
  if (cast<ShapedType>(operands[2].getType()).getDimSize(3) != d)
    return "value head dim differs from the query head dim";
  if (d % 16 != 0 || d > maxHeadDim)
    return "head dim is not a multiple of 16 up to " +
           std::to_string(maxHeadDim);
  return "";
}

/// The family of hand-scheduled kernels for the kind of `op`, whatever its
/// operands: the one place that maps op kinds to families.
static KernelFamily familyOfKind(Operation *op) {
  return llvm::TypeSwitch<Operation *, KernelFamily>(op)
      .Case([](AttentionOp) { return KernelFamily::Attention; })
      .Case([](AttentionGradOp) { return KernelFamily::AttentionGrad; })
      .Case([](LinearCrossEntropyOp) {
        return KernelFamily::LinearCrossEntropy;
      })
      .Case([](LinearCrossEntropyGradOp) {
        return KernelFamily::LinearCrossEntropyGrad;
      })
      .Case<CrossEntropyOp, CrossEntropyGradOp>(
          [](Operation *) { return KernelFamily::CrossEntropyRows; })
      .Case<SoftmaxOp, LogSoftmaxOp, LogSumExpOp, SoftmaxGradOp,
            LogSoftmaxGradOp, LogSumExpGradOp>(
          [](Operation *) { return KernelFamily::SoftmaxRows; })
      .Default([](Operation *) { return KernelFamily::Loops; });
}

/// Why no hand-scheduled kernel computes `op` on a GPU, or "".
static std::string unsupportedKernel(Operation *op) {
  switch (familyOfKind(op)) {
  case KernelFamily::Attention:
    return unsupportedAttention(cast<AttentionOp>(op));
  case KernelFamily::AttentionGrad:
    return unsupportedAttentionGrad(cast<AttentionGradOp>(op));
  case KernelFamily::LinearCrossEntropy:
    return unsupportedLinearCrossEntropy(cast<LinearCrossEntropyOp>(op));
  case KernelFamily::LinearCrossEntropyGrad:
    return unsupportedLinearCrossEntropyGrad(
        cast<LinearCrossEntropyGradOp>(op));
  case KernelFamily::SoftmaxRows:
  case KernelFamily::CrossEntropyRows:
    return unsupportedRows(op);
  case KernelFamily::Loops:
    return "not an op of a kernel family";
  }
  llvm_unreachable("unknown kernel family");
}

KernelFamily mlir::attn::getKernelFamily(Operation *op, const ChipInfo &chip) {
  if (!chip.isGpu() || !unsupportedKernel(op).empty())
    return KernelFamily::Loops;
  return familyOfKind(op);
}

/// Wraps a family's plan into a KernelPlan.
template <typename PlanT>
static FailureOr<KernelPlan> wrap(FailureOr<PlanT> plan) {
  if (failed(plan))
    return failure();
  KernelPlan k;
  k.facts = plan->facts;
  k.detail = std::move(*plan);
  return k;
}

FailureOr<KernelPlan> mlir::attn::planKernel(Operation *op,
                                             ScheduleAttr schedule,
                                             const ChipInfo &chip,
                                             PlanDiagnostic emitError) {
  std::string why =
      chip.isGpu() ? unsupportedKernel(op) : std::string("the host CPU");
  if (!why.empty()) {
    // attn-tile's loops, or the decomposition on the simple GPU mapping:
    // any structurally valid schedule (the IR verifier's checks) runs.
    KernelPlan k;
    k.facts.family = KernelFamily::Loops;
    k.whyLoops = why;
    return k;
  }
  switch (familyOfKind(op)) {
  case KernelFamily::Attention:
    return wrap(
        planAttention(cast<AttentionOp>(op), schedule, chip, emitError));
  case KernelFamily::AttentionGrad:
    return wrap(planAttentionGrad(cast<AttentionGradOp>(op), schedule, chip,
                                  emitError));
  case KernelFamily::LinearCrossEntropy:
    return wrap(planLinearCrossEntropy(cast<LinearCrossEntropyOp>(op),
                                       schedule, chip, emitError));
  case KernelFamily::LinearCrossEntropyGrad:
    return wrap(planLinearCrossEntropyGrad(cast<LinearCrossEntropyGradOp>(op),
                                           schedule, chip, emitError));
  case KernelFamily::SoftmaxRows:
  case KernelFamily::CrossEntropyRows:
    return wrap(planRows(op, schedule, chip, emitError));
  case KernelFamily::Loops:
    break;
  }
  llvm_unreachable("unsupportedKernel rejects ops of no family");
}

FailureOr<KernelPlan> mlir::attn::planKernel(Operation *op,
                                             ScheduleAttr schedule,
                                             PlanDiagnostic emitError) {
  const ChipInfo *chip = lookupChip(schedule.getChip());
  if (!chip) {
    if (emitError)
      emitError() << "schedule chip '" << schedule.getChip()
                  << "' is not one of " << knownChipNames();
    return failure();
  }
  return planKernel(op, schedule, *chip, emitError);
}

namespace {
/// The attn dialect's verifier asks the plans whether a schedule runs.
struct KernelPlanner : public SchedulePlannerInterface {
  using SchedulePlannerInterface::SchedulePlannerInterface;

  LogicalResult
  verifyPlan(Operation *op, ScheduleAttr schedule,
             function_ref<InFlightDiagnostic()> emitError) const override {
    return failure(failed(planKernel(op, schedule, emitError)));
  }
};
} // namespace

void mlir::attn::registerKernelPlanner(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *, AttnDialect *dialect) {
    dialect->addInterfaces<KernelPlanner>();
  });
}
