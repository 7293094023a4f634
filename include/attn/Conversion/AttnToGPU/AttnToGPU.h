//===- AttnToGPU.h - attn ops to hand-scheduled GPU kernels ------*- C++ -*-===//

#ifndef ATTN_CONVERSION_ATTNTOGPU_ATTNTOGPU_H
#define ATTN_CONVERSION_ATTNTOGPU_ATTNTOGPU_H

#include "attn/Target/Target.h"

#include "mlir/IR/PatternMatch.h"

namespace mlir::attn {

/// The patterns of attn-map-to-gpu, one per kernel family: each replaces an
/// attn op its family computes on `chip` by gpu.launch ops over the op's
/// buffers, under the op's schedule (or the default for `chip`), and fails
/// with an error when the family's plan rejects the schedule. Ops no
/// family computes do not match. `chip` must outlive the patterns.
void populateAttnToGPUPatterns(RewritePatternSet &patterns,
                               const ChipInfo &chip);

} // namespace mlir::attn

#endif // ATTN_CONVERSION_ATTNTOGPU_ATTNTOGPU_H
