//===- Schedule.h - structural checks of #attn.schedule ----------*- C++ -*-===//
//
// The IR library checks a schedule's structure against its op: fields that
// apply are in range, fields that do not keep their defaults, splits fit
// the tiles, the chip is a known one. Whether a kernel can run the schedule
// is the plans' question (attn/Conversion/AttnToGPU/Plans.h): the verifier
// asks them through SchedulePlannerInterface when they are registered
// (attn::registerAllDialects does). Defaults and enumeration are tuning
// policy (attn/Tuning/Tuning.h).
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_ATTN_IR_SCHEDULE_H
#define ATTN_DIALECT_ATTN_IR_SCHEDULE_H

#include "attn/Dialect/Attn/IR/AttnDialect.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectInterface.h"
#include "mlir/IR/Operation.h"

namespace mlir::attn {

/// The values of a schedule's `pipeline` field: every warp of the block
/// streams K/V tiles with cp.async (the default), or a producer warpgroup
/// issues TMA copies that complete on mbarriers while the other warpgroups
/// compute (attention on sm_90a). With "tma" the computing warpgroups issue
/// their MMAs whenever they are ready (CUTLASS's "cooperative"); with
/// "tma_pingpong" two of them take turns through named barriers, so that
/// one's softmax runs while the other's GEMMs hold the tensor cores
/// (CUTLASS's and FlashAttention-3's "ping-pong").
inline constexpr StringLiteral kPipelineCpAsync = "cp_async";
inline constexpr StringLiteral kPipelineTma = "tma";
inline constexpr StringLiteral kPipelineTmaPingPong = "tma_pingpong";

/// Whether `pipeline` is one of the TMA pipelines.
inline bool isTmaPipeline(StringRef pipeline) {
  return pipeline == kPipelineTma || pipeline == kPipelineTmaPingPong;
}

/// Checks the structure of `schedule` against `op` (its kind, shapes and
/// element types); errors go through `emitError` ("schedule <field> ...").
LogicalResult
verifyScheduleStructure(Operation *op, ScheduleAttr schedule,
                        function_ref<InFlightDiagnostic()> emitError);

/// The structural checks, then the planner's, if one is registered on the
/// attn dialect: what the op verifiers call.
LogicalResult verifySchedule(Operation *op, ScheduleAttr schedule,
                             function_ref<InFlightDiagnostic()> emitError);

/// A dialect interface through which the plans (a library above the IR)
/// tell the op verifier whether a kernel can run a schedule.
class SchedulePlannerInterface
    : public DialectInterface::Base<SchedulePlannerInterface> {
public:
  SchedulePlannerInterface(Dialect *dialect) : Base(dialect) {}

  /// Fails, with a diagnostic naming the field and the limit, when no
  /// kernel of the op's family runs `schedule` on its chip.
  virtual LogicalResult
  verifyPlan(Operation *op, ScheduleAttr schedule,
             function_ref<InFlightDiagnostic()> emitError) const = 0;
};

} // namespace mlir::attn

#endif // ATTN_DIALECT_ATTN_IR_SCHEDULE_H
