//===- Schedule.h - schedules of attn ops and their search space -*- C++ -*-===//
//
// The target limits that bound a schedule, its verification against an op,
// the default schedule, and the enumeration of every legal schedule of an
// (op, shape, target) triple: the search space of the cost model.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_ATTN_IR_SCHEDULE_H
#define ATTN_DIALECT_ATTN_IR_SCHEDULE_H

#include "attn/Dialect/Attn/IR/AttnDialect.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Operation.h"

namespace mlir::attn {

/// The limits of a GPU that bound a schedule.
struct TargetInfo {
  StringRef chip;
  /// Shared memory one block may use, opt-in maximum, in bytes.
  int64_t sharedMemoryPerBlock;
  int64_t maxThreadsPerBlock;
  /// Whether warpgroup MMA (wgmma) exists (sm_90a).
  bool hasWarpgroupMma;
  /// Whether thread-block clusters with distributed shared memory exist
  /// (sm_90 and later).
  bool hasClusters;
};

/// The limits of `chip` (sm_80, sm_86, sm_89, sm_90, sm_90a, sm_100a), or
/// failure for a chip attn-mlir does not know.
FailureOr<TargetInfo> getTargetInfo(StringRef chip);

/// Bytes of shared memory the tiled kernel of `op` holds under `schedule`.
int64_t estimateSharedMemory(Operation *op, ScheduleAttr schedule);

/// Checks `schedule` against `op` (its kind, shapes and element types) and
/// the limits of the schedule's chip; errors go through `emitError`.
LogicalResult verifySchedule(Operation *op, ScheduleAttr schedule,
                             function_ref<InFlightDiagnostic()> emitError);

/// Every legal schedule of `op` on `chip`, over the candidate values of each
/// field (docs/Schedules.md lists them). Empty for an unknown chip.
SmallVector<ScheduleAttr> enumerateSchedules(Operation *op, StringRef chip);

/// The schedule `attn-tile` uses for an op without one: a documented choice
/// per op kind, adjusted to the shape, and always legal (falls back to the
/// first enumerated schedule).
ScheduleAttr getDefaultSchedule(Operation *op, StringRef chip = "sm_90a");

/// The op's `schedule` attribute, or the default one.
ScheduleAttr getScheduleOrDefault(Operation *op);

} // namespace mlir::attn

#endif // ATTN_DIALECT_ATTN_IR_SCHEDULE_H
