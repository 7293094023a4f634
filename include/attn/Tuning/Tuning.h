//===- Tuning.h - the schedule space of attn ops and its defaults -*- C++ -*-===//
//
// Tuning policy, apart from the IR: the enumeration of every schedule some
// kernel plan accepts for an (op, shape, chip) triple -- the search space of
// the cost model -- and the hand-written default schedule of each op, a
// member of that space.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_TUNING_TUNING_H
#define ATTN_TUNING_TUNING_H

#include "attn/Dialect/Attn/IR/AttnDialect.h"
#include "attn/Target/Target.h"

#include "mlir/IR/Operation.h"

namespace mlir::attn {

/// Every schedule of `op` on `chip` that passes the structural checks and
/// the plan of the family computing `op` there, in a fixed order: exactly
/// the kernels' space. Knobs a family ignores are held at one canonical
/// value, so that no two entries build the same kernel (docs/Tiling.md).
/// Empty for an unknown chip.
SmallVector<ScheduleAttr> enumerateSchedules(Operation *op, StringRef chip);

/// The schedule used for an op without one: a documented choice per op
/// kind and chip, adjusted to the shape, and always legal (it falls back
/// to the first enumerated schedule).
ScheduleAttr getDefaultSchedule(Operation *op, StringRef chip = "sm_90a");

/// The hand-written choice of getDefaultSchedule before its legality check
/// (the enumeration uses it without recursing).
ScheduleAttr getPreferredSchedule(Operation *op, const ChipInfo &chip);

/// The op's `schedule` attribute, or the default one for sm_90a.
ScheduleAttr getScheduleOrDefault(Operation *op);

/// Whether `schedule` passes the structural checks and its plan, silently.
bool isLegalSchedule(Operation *op, ScheduleAttr schedule);

} // namespace mlir::attn

#endif // ATTN_TUNING_TUNING_H
