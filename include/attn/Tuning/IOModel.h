//===- IOModel.h - bytes moved and FLOPs of tiled and unfused forms -*- C++ -*-===//
//
// An analytic model of the traffic between global memory and the chip, and
// of the arithmetic, of an attn op: as attn-tile tiles it under a schedule,
// and as attn-decompose materializes it. attn-io-report prints it; the cost
// model uses the same figures as features. docs/Tiling.md derives them.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_TUNING_IOMODEL_H
#define ATTN_TUNING_IOMODEL_H

#include "attn/Dialect/Attn/IR/AttnDialect.h"
#include "mlir/IR/Operation.h"

#include <string>

namespace mlir::attn {

/// Global-memory traffic and arithmetic of one form of an op.
struct IOEstimate {
  int64_t bytesRead = 0;
  int64_t bytesWritten = 0;
  /// Multiply-adds count 2; exponentials and other transcendentals are not
  /// counted here but in `transcendentals`.
  int64_t flops = 0;
  int64_t transcendentals = 0;
};

/// The tiled form (under `schedule`) and the decomposed form of `op`.
struct IOReport {
  IOEstimate tiled;
  IOEstimate unfused;
};

/// The estimates for `op` under `schedule` (counted without overflow; empty
/// and huge shapes included), or failure, with the reason in `whyNot`:
/// dynamic shapes, counts beyond int64, or more query tiles under a causal
/// or window mask than the model walks (2^20).
FailureOr<IOReport> estimateIO(Operation *op, ScheduleAttr schedule,
                               std::string *whyNot = nullptr);

} // namespace mlir::attn

#endif // ATTN_TUNING_IOMODEL_H
