//===- Features.h - what the cost model knows of a candidate -----*- C++ -*-===//
//
// One function computes the features of an (op, shape, schedule, target)
// candidate: the schedule's knobs, the shape, the kernel plan's launch facts
// (shared memory, threads, blocks per SM, MMA kind), waves and tail on the
// target's SMs, the IO model's bytes and FLOPs, arithmetic intensity and
// the roofline time against the target's measured ceilings, log-scaled.
// `attn-tune generate` writes them into the dataset and the training script
// reads them from there; `attn-select-schedule` computes them again for the
// model. Nothing else computes them (docs/CostModel.md lists each).
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_COSTMODEL_FEATURES_H
#define ATTN_COSTMODEL_FEATURES_H

#include "attn/Dialect/Attn/IR/AttnDialect.h"
#include "attn/Target/Target.h"

#include "mlir/IR/Operation.h"

#include <string>

namespace mlir::attn {

/// Bumped whenever a feature is added, removed, reordered or redefined: a
/// model records the version it was trained on and is refused otherwise.
/// Version 2 added op_attention_grad and the pipeline (pipeline_tma,
/// pipeline_pingpong); version 3 the other gradient ops' one-hots.
constexpr int64_t kFeatureVersion = 3;

/// The names of the features, in the order computeFeatures returns them.
ArrayRef<StringRef> getFeatureNames();

/// The features of `op` under `schedule` on `chip`, in getFeatureNames()
/// order. Fails (with the reason in `whyNot`) when the schedule has no
/// plan on the chip or the IO model has no estimate (dynamic shapes).
FailureOr<SmallVector<double>> computeFeatures(Operation *op,
                                               ScheduleAttr schedule,
                                               const ChipInfo &chip,
                                               std::string *whyNot = nullptr);

/// The roofline time in microseconds of `op` under `schedule` on `chip`
/// (bytes over the measured copy bandwidth, FLOPs over the measured bf16
/// matmul rate on tensor cores or a sixteenth of it without): the analytic
/// model, and the `roofline_us` feature before its log.
FailureOr<double> rooflineMicroseconds(Operation *op, ScheduleAttr schedule,
                                       const ChipInfo &chip,
                                       std::string *whyNot = nullptr);

} // namespace mlir::attn

#endif // ATTN_COSTMODEL_FEATURES_H
