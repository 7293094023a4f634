//===- Kernels.h - the kernel builders of attn-map-to-gpu --------*- C++ -*-===//
//
// Each builder emits, at the insertion point of a host function, the
// gpu.launch ops of one kernel family over buffers, exactly as its plan
// (attn/Conversion/AttnToGPU/Plans.h) says; none decides legality. The
// pass's patterns (AttnToGPU.cpp) turn ops into buffers and call these.
// Internal to the conversion.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LIB_CONVERSION_ATTNTOGPU_KERNELS_KERNELS_H
#define ATTN_LIB_CONVERSION_ATTNTOGPU_KERNELS_KERNELS_H

#include "attn/Conversion/AttnToGPU/Plans.h"

#include "mlir/IR/Builders.h"

namespace mlir::attn::gpu_kernel {

/// Attention of memrefs q, k, v into `out` (and `lse` unless null): the main
/// kernel and, for split > 1, the split-KV combine with its temporaries.
void buildAttention(OpBuilder &b, Location loc, const AttentionPlan &plan,
                    Value q, Value k, Value v, Value out, Value lse);

/// The FlashAttention-2 backward: the dQ launch (which also writes
/// D = rowsum(dO O) to a scratch buffer), then the dK/dV launch.
void buildAttentionGrad(OpBuilder &b, Location loc,
                        const AttentionGradPlan &plan, Value q, Value k,
                        Value v, Value out, Value lse, Value dout, Value dq,
                        Value dk, Value dv);

/// The softmax-family row kernel of `plan` from `in` [rows, cols] into `out`
/// ([rows, cols], or [rows] for logsumexp).
void buildSoftmaxRows(OpBuilder &b, Location loc, const RowPlan &plan,
                      Value in, Value out);

/// The softmax_grad / log_softmax_grad row kernel of `plan`: from the
/// forward's output `y` and its gradient `dy` ([rows, cols] each) into `dx`.
void buildSoftmaxGradRows(OpBuilder &b, Location loc, const RowPlan &plan,
                          Value y, Value dy, Value dx);

/// The cross-entropy row kernel (one read of each logits row: online
/// normalizer, target logit, logit sum): per-token losses into `rowLoss`
/// [rows] and, unless null, the LSE into `lse` [rows].
void buildCrossEntropyRows(OpBuilder &b, Location loc, const RowPlan &plan,
                           Value logits, Value labels, Value rowLoss,
                           Value lse);

/// The Cut-Cross-Entropy kernel (logits tiles on tensor cores folded in
/// registers, split-V partials) and the per-token combine: per-token losses
/// into `rowLoss` [tokens] and, unless null, the LSE into `lse`.
void buildLinearCrossEntropy(OpBuilder &b, Location loc,
                             const LinearCrossEntropyPlan &plan, Value hidden,
                             Value weight, Value bias, Value labels,
                             Value rowLoss, Value lse);

/// The linear cross-entropy backward, a vocabulary chunk at a time (the
/// host loop and launches LinearCrossEntropyGradPlan describes): from the
/// forward's `lse` and `upstream` (the loss gradient per token [N] for
/// reduction none, else rank 0 and already divided by the kept tokens for
/// the mean) into `gradHidden`, `gradWeight` and, with a `bias`,
/// `gradBias`.
void buildLinearCrossEntropyGrad(OpBuilder &b, Location loc,
                                 const LinearCrossEntropyGradPlan &plan,
                                 Value hidden, Value weight, Value bias,
                                 Value labels, Value lse, Value upstream,
                                 Value gradHidden, Value gradWeight,
                                 Value gradBias);

/// One block sums the per-token losses `rowLoss` [N] into rank-0 `out` and,
/// for the mean, divides by the number of tokens whose label is not
/// `ignoreIndex` (0 when there is none).
/// With a null `rowLoss`, the rank-0 `numerator` stands for the sum: the
/// upstream gradient of each token of a mean loss.
void buildLossReduction(OpBuilder &b, Location loc, Value rowLoss,
                        Value labels, int64_t ignoreIndex, bool mean,
                        Value out, Value numerator = Value());

/// logsumexp_grad over rows: dx = dlse[row] exp(x - lse[row]).
void buildLogSumExpGradRows(OpBuilder &b, Location loc, const RowPlan &plan,
                            Value x, Value lse, Value dlse, Value dx);

/// cross_entropy_grad over rows: each logit's gradient (LossGradElement.h)
/// times `upstream` ([rows] for reduction none, else rank 0: the loss
/// gradient, divided by the kept tokens for mean).
void buildCrossEntropyGradRows(OpBuilder &b, Location loc, const RowPlan &plan,
                               Value logits, Value labels, Value lse,
                               Value upstream, Value dlogits);

} // namespace mlir::attn::gpu_kernel

#endif // ATTN_LIB_CONVERSION_ATTNTOGPU_KERNELS_KERNELS_H
