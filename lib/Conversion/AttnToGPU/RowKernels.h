//===- RowKernels.h - softmax-family kernels of attn-map-to-gpu -*- C++ -*-===//
//
// The row kernels (softmax, log_softmax, logsumexp over the last dim;
// cross-entropy on materialized logits) and the
// buffer plumbing that attn-map-to-gpu's op rewrites share. Internal to the
// conversion.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LIB_CONVERSION_ATTNTOGPU_ROWKERNELS_H
#define ATTN_LIB_CONVERSION_ATTNTOGPU_ROWKERNELS_H

#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Dialect/Attn/IR/Schedule.h"

#include "mlir/IR/Builders.h"

#include <string>

namespace mlir::attn::gpu_kernel {

/// Why no row kernel computes `op` (a softmax-family op), or "".
std::string unsupportedRowOp(Operation *op);

/// Replaces softmax-family `op` by its row kernel; errors on a schedule the
/// kernel cannot run.
LogicalResult mapRowOp(Operation *op, const TargetInfo &target);

/// Why no row kernel computes cross-entropy `op`, or "".
std::string unsupportedCrossEntropy(CrossEntropyOp op);

/// Replaces `op` by the cross-entropy row kernel (one read of each logits
/// row: online normalizer, target logit, logit sum) and, for sum and mean,
/// a one-block reduction of the per-token losses.
LogicalResult mapCrossEntropy(CrossEntropyOp op, const TargetInfo &target);

/// One block sums the per-token losses `rowLoss` [N] into rank-0 `out` and,
/// for the mean, divides by the number of tokens whose label is not
/// `ignoreIndex` (0 when there is none).
void launchLossReduction(OpBuilder &b, Location loc, Value rowLoss,
                         Value labels, int64_t ignoreIndex, bool mean,
                         Value out);

/// Why the Cut-Cross-Entropy kernel cannot compute `op`, or "".
std::string unsupportedLinearCrossEntropy(LinearCrossEntropyOp op);

/// Replaces `op` by the Cut-Cross-Entropy kernel (logits tiles on tensor
/// cores folded in registers, split-V partials), the per-token combine and,
/// for sum and mean, the loss reduction.
LogicalResult mapLinearCrossEntropy(LinearCrossEntropyOp op,
                                    const TargetInfo &target);

/// Records in the enclosing function's `attn.spec` (when it has one) that
/// `op` was mapped by attn-map-to-gpu under `schedule` (and, for tensor-core
/// kernels, which MMA instruction `tensorCore` they use); the kernel package
/// manifest carries it to the runtime and the benchmarks.
void recordKernelSchedule(Operation *op, ScheduleAttr schedule,
                          StringRef tensorCore = "");

/// The read-only buffer of operand tensor `tensor`.
Value readOperandBuffer(OpBuilder &b, Location loc, Value tensor);

/// Why no attn-map-to-gpu kernel takes tensors `operands`, or "": dynamic
/// shapes, an empty tensor, or an element type (that of the first operand)
/// other than bf16/f16, or f32 too when `allowF32`.
std::string unsupportedOperands(ValueRange operands, bool allowF32);
/// A fresh buffer for a result of `tensorType`.
Value newResultBuffer(OpBuilder &b, Location loc, Type tensorType);
/// The tensor of a buffer the kernels wrote.
Value bufferAsTensor(OpBuilder &b, Location loc, Value buffer, Type tensorType);

} // namespace mlir::attn::gpu_kernel

#endif // ATTN_LIB_CONVERSION_ATTNTOGPU_ROWKERNELS_H
