//===- LossMath.h - the per-token cross-entropy and its reduction -*- C++ -*-===//
//
// The part of the cross-entropy definition shared by attn-decompose and
// attn-tile: per-token loss and lse from the row statistics, and the
// reduction over tokens. Internal to the Transforms library.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LIB_DIALECT_ATTN_TRANSFORMS_LOSSMATH_H
#define ATTN_LIB_DIALECT_ATTN_TRANSFORMS_LOSSMATH_H

#include "GenericBuilder.h"

#include "attn/Dialect/Attn/IR/AttnDialect.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Dialect/Attn/Utils/LossGradElement.h"
#include "mlir/IR/PatternMatch.h"

#include <type_traits>

namespace mlir::attn::detail {

/// The attributes of a loss op that the per-token formula reads.
struct LossAttributes {
  double labelSmoothing;
  double zLoss;
  int64_t ignoreIndex;
};

/// Per-token loss and lse ([rows] f32 each) from the row max (raw or
/// safe), the sum of exp(z - max), the target logit, the sum of the logits
/// and the labels: lse - (1 - eps) z_y - eps mean(z) + z_loss lse^2, and 0
/// for ignored tokens. `vocab` is V as an f32 value.
inline SmallVector<Value> buildPerTokenLoss(GenericBuilder &gb, Value max,
                                            Value sumExp, Value target,
                                            Value logitSum, Value labels,
                                            Value vocab,
                                            ArrayRef<OpFoldResult> rows,
                                            LossAttributes attrs) {
  MLIRContext *ctx = gb.b.getContext();
  double eps = attrs.labelSmoothing, zLoss = attrs.zLoss;
  int64_t ignoreIndex = attrs.ignoreIndex;
  Value vocabF = vocab;
  SmallVector<AffineExpr> r = allDims(ctx, 1);
  SmallVector<Value> perToken = gb.generic(
      {max, sumExp, target, logitSum, labels},
      {gb.empty(rows, gb.f32), gb.empty(rows, gb.f32)}, 1,
      {r, r, r, r, r, r, r}, {IteratorType::parallel},
      [&](OpBuilder &b, Location loc, ValueRange a) {
        Value lse = arith::AddFOp::create(b, loc, safeMax(b, loc, a[0]),
                                          math::LogOp::create(b, loc, a[1]));
        Value loss = arith::SubFOp::create(
            b, loc, lse,
            arith::MulFOp::create(b, loc, f32Const(b, loc, 1.0 - eps), a[2]));
        if (eps != 0.0)
          loss = arith::SubFOp::create(
              b, loc, loss,
              arith::MulFOp::create(b, loc, f32Const(b, loc, eps),
                                    arith::DivFOp::create(b, loc, a[3], vocabF)));
        if (zLoss != 0.0)
          loss = arith::AddFOp::create(
              b, loc, loss,
              arith::MulFOp::create(b, loc, f32Const(b, loc, zLoss),
                                    arith::MulFOp::create(b, loc, lse, lse)));
        Value ignored = arith::CmpIOp::create(
            b, loc, arith::CmpIPredicate::eq, a[4],
            arith::ConstantOp::create(
                b, loc, b.getIntegerAttr(a[4].getType(), ignoreIndex)));
        loss = arith::SelectOp::create(b, loc, ignored, f32Const(b, loc, 0.0),
                                       loss);
        linalg::YieldOp::create(b, loc, ValueRange{loss, lse});
      });
  return perToken;
}

/// The rank-0 f32 tensor `value / count`, or 0 when `count` is 0 (the
/// mean over non-ignored tokens when every token is ignored).
inline Value buildDivideOrZero(GenericBuilder &gb, Value value, Value count) {
  return gb.generic({value, count}, {gb.empty({}, gb.f32)}, 0, {{}, {}, {}},
                    {}, [](OpBuilder &b, Location loc, ValueRange a) {
                      Value zero = f32Const(b, loc, 0.0);
                      Value none = arith::CmpFOp::create(
                          b, loc, arith::CmpFPredicate::OEQ, a[1], zero);
                      linalg::YieldOp::create(
                          b, loc,
                          ValueRange{arith::SelectOp::create(
                              b, loc, none, zero,
                              arith::DivFOp::create(b, loc, a[0], a[1]))});
                    })[0];
}

/// The token reduction of per-token `loss` [N]: itself for none, the sum,
/// or the mean over non-ignored tokens (0 when every token is ignored).
inline Value buildTokenReduction(GenericBuilder &gb, Value loss, Value labels,
                                 Reduction reduction, int64_t ignoreIndex) {
  MLIRContext *ctx = gb.b.getContext();
  SmallVector<AffineExpr> r = allDims(ctx, 1);
  if (reduction != Reduction::none) {
    Value zero = gb.filled({}, 0.0);
    SmallVector<Value> totals = gb.generic(
        {loss, labels}, {zero, zero}, 1, {r, r, {}, {}},
        iteratorsWithReduction(1, {0}),
        [&](OpBuilder &b, Location loc, ValueRange a) {
          Value ignored = arith::CmpIOp::create(
              b, loc, arith::CmpIPredicate::eq, a[1],
              arith::ConstantOp::create(
                  b, loc, b.getIntegerAttr(a[1].getType(), ignoreIndex)));
          Value counted = arith::SelectOp::create(
              b, loc, ignored, f32Const(b, loc, 0.0), f32Const(b, loc, 1.0));
          linalg::YieldOp::create(
              b, loc,
              ValueRange{arith::AddFOp::create(b, loc, a[2], a[0]),
                         arith::AddFOp::create(b, loc, a[3], counted)});
        });
    loss = totals[0];
    if (reduction == Reduction::mean)
      loss = buildDivideOrZero(gb, totals[0], totals[1]);
  }
  return loss;
}

/// V (an index size) as an f32 value, for the smoothing mean.
inline Value vocabAsF32(OpBuilder &b, Location loc, OpFoldResult vocab) {
  Value v = getValueOrCreateConstantIndexOp(b, loc, vocab);
  return arith::SIToFPOp::create(
      b, loc, b.getF32Type(),
      arith::IndexCastOp::create(b, loc, b.getI64Type(), v));
}

/// Replaces loss op `op` by its definition on the per-row statistics over
/// all `rows` tokens: the per-token loss and lse, then the token reduction.
template <typename LossOp>
void replaceLossOp(PatternRewriter &rewriter, LossOp op, GenericBuilder &gb,
                   Value max, Value sumExp, Value target, Value logitSum,
                   OpFoldResult vocab, ArrayRef<OpFoldResult> rows) {
  int64_t ignoreIndex = static_cast<int64_t>(op.getIgnoreIndex());
  LossAttributes attrs = {op.getLabelSmoothing().convertToDouble(),
                          op.getZLoss().convertToDouble(), ignoreIndex};
  Value labels = op.getLabels();
  SmallVector<Value> perToken = buildPerTokenLoss(
      gb, max, sumExp, target, logitSum, labels,
      vocabAsF32(rewriter, op.getLoc(), vocab), rows, attrs);
  SmallVector<Value> results = {buildTokenReduction(
      gb, perToken[0], labels, op.getReduction(), ignoreIndex)};
  if (op.getLse())
    results.push_back(perToken[1]);
  rewriter.replaceOp(op, results);
}

/// The upstream gradient of each token of a loss gradient op: `gradLoss`
/// ([N]) for none, the scalar for sum, and for mean the scalar over the
/// count of non-ignored tokens (0 when there is none: no gradient at all).
/// `perToken` says whether the result is indexed by the token.
struct TokenUpstream {
  Value value;
  bool perToken;
};
inline TokenUpstream buildTokenUpstream(GenericBuilder &gb, Value gradLoss,
                                        Value labels, Reduction reduction,
                                        int64_t ignoreIndex) {
  if (reduction == Reduction::none)
    return {gradLoss, true};
  if (reduction == Reduction::sum)
    return {gradLoss, false};
  MLIRContext *ctx = gb.b.getContext();
  SmallVector<AffineExpr> r = allDims(ctx, 1);
  Value count =
      gb.generic({labels}, {gb.filled({}, 0.0)}, 1, {r, {}},
                 iteratorsWithReduction(1, {0}),
                 [&](OpBuilder &b, Location loc, ValueRange a) {
                   Value counted = arith::SelectOp::create(
                       b, loc, isIgnoredLabel(b, loc, a[0], ignoreIndex),
                       f32Const(b, loc, 0.0), f32Const(b, loc, 1.0));
                   linalg::YieldOp::create(
                       b, loc,
                       ValueRange{arith::AddFOp::create(b, loc, a[1], counted)});
                 })[0];
  return {buildDivideOrZero(gb, gradLoss, count), false};
}

/// The LossGradSpec of a loss gradient op with V classes.
template <typename GradOp>
LossGradSpec getLossGradSpec(GradOp op, OpBuilder &b, Location loc,
                             OpFoldResult vocab) {
  LossGradSpec spec{static_cast<int64_t>(op.getIgnoreIndex()),
                    op.getLabelSmoothing().convertToDouble(),
                    op.getZLoss().convertToDouble(), toDouble(op.getSoftcap()),
                    Value()};
  if constexpr (std::is_same_v<GradOp, LinearCrossEntropyGradOp>)
    spec.filter = toDouble(op.getGradFilter());
  if (spec.labelSmoothing != 0.0)
    spec.smoothingOverV = arith::DivFOp::create(
        b, loc, f32Const(b, loc, spec.labelSmoothing),
        vocabAsF32(b, loc, vocab));
  return spec;
}

/// The gradient of a [rows, cols] tile of logits (any float type) of a
/// loss: buildLossGradElement per element, with the rows' labels, LSE and
/// upstream gradient, columns counted from `column0` (null: 0), in `elt`.
inline Value buildLossGradTile(GenericBuilder &gb, const LossGradSpec &spec,
                               Value logits, Value labels, Value lse,
                               TokenUpstream upstream,
                               ArrayRef<OpFoldResult> sizes, Value column0,
                               Type elt) {
  MLIRContext *ctx = gb.b.getContext();
  SmallVector<AffineExpr> nv = allDims(ctx, 2), n = dims(ctx, {0});
  return gb.generic(
      {logits, labels, lse, upstream.value}, {gb.empty(sizes, elt)}, 2,
      {nv, n, n, upstream.perToken ? n : SmallVector<AffineExpr>{}, nv},
      SmallVector<IteratorType>(2, IteratorType::parallel),
      [&](OpBuilder &b, Location loc, ValueRange a) {
        Value col = linalg::IndexOp::create(b, loc, 1);
        if (column0)
          col = arith::AddIOp::create(b, loc, col, column0);
        Value column = arith::IndexCastOp::create(b, loc, a[1].getType(), col);
        Value d = buildLossGradElement(b, loc, spec, toF32(b, loc, a[0]), a[1],
                                       column, a[2], a[3]);
        linalg::YieldOp::create(b, loc, ValueRange{fromF32(b, loc, d, elt)});
      })[0];
}

} // namespace mlir::attn::detail

#endif // ATTN_LIB_DIALECT_ATTN_TRANSFORMS_LOSSMATH_H
