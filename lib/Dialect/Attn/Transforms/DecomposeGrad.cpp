//===- DecomposeGrad.cpp - attn gradient ops to materialized linalg -------===//
//
// The reference lowering of the gradient ops of the softmax family, of
// cross-entropy, linear cross-entropy and attention, part of
// attn-decompose: each linalg.generic is one line of the op's derivative
// (AttnOps.td), in f32, from the values the forward pass saved (its output,
// or its log-sum-exp), so no forward statistic is recomputed.
//
//===----------------------------------------------------------------------===//

#include "DecomposeGrad.h"

#include "GenericBuilder.h"
#include "LossMath.h"

#include "attn/Dialect/Attn/IR/AttnOps.h"

#include "mlir/IR/PatternMatch.h"

#include <limits>

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::detail;

namespace {

/// sum_j a_j (or sum_j a_j * b_j with `b`) over dimension `dim` of `a`, in
/// f32, without that dimension.
Value reduceRows(GenericBuilder &gb, Value a, Value b, unsigned rank,
                 unsigned dim, ArrayRef<OpFoldResult> reducedSizes) {
  MLIRContext *ctx = gb.b.getContext();
  SmallVector<Value> inputs = {a};
  SmallVector<SmallVector<AffineExpr>> exprs = {allDims(ctx, rank)};
  if (b) {
    inputs.push_back(b);
    exprs.push_back(allDims(ctx, rank));
  }
  exprs.push_back(allDimsBut(ctx, rank, dim));
  bool product = bool(b);
  return gb.generic(inputs, {gb.filled(reducedSizes, 0.0)}, rank, exprs,
                    iteratorsWithReduction(rank, {dim}),
                    [product](OpBuilder &b, Location loc, ValueRange args) {
                      Value term = toF32(b, loc, args[0]);
                      if (product)
                        term = arith::MulFOp::create(b, loc, term,
                                                     toF32(b, loc, args[1]));
                      linalg::YieldOp::create(
                          b, loc,
                          ValueRange{arith::AddFOp::create(
                              b, loc, args.back(), term)});
                    })[0];
}

enum class SoftmaxGradKind { softmax, logSoftmax };

/// softmax_grad: dx = y * (dy - sum_j y_j dy_j).
/// log_softmax_grad: dx = dy - exp(y) * sum_j dy_j.
template <typename OpTy, SoftmaxGradKind kind>
struct DecomposeSoftmaxGrad : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;

  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    GenericBuilder gb(rewriter, loc);
    Value y = op.getOutput(), dy = op.getGradOutput();
    auto type = cast<RankedTensorType>(y.getType());
    unsigned rank = type.getRank();
    unsigned dim = op.getDim();
    SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(rewriter, loc, y);
    SmallVector<OpFoldResult> reducedSizes = sizes;
    reducedSizes.erase(reducedSizes.begin() + dim);

    constexpr bool isSoftmax = kind == SoftmaxGradKind::softmax;
    Value rowSum = reduceRows(gb, isSoftmax ? y : dy, isSoftmax ? dy : Value(),
                              rank, dim, reducedSizes);
    SmallVector<AffineExpr> full = allDims(ctx, rank);
    SmallVector<AffineExpr> reduced = allDimsBut(ctx, rank, dim);
    Type elt = type.getElementType();
    Value dx = gb.generic(
        {y, dy, rowSum}, {gb.empty(sizes, elt)}, rank,
        {full, full, reduced, full},
        SmallVector<IteratorType>(rank, IteratorType::parallel),
        [elt](OpBuilder &b, Location loc, ValueRange args) {
          Value yv = toF32(b, loc, args[0]);
          Value dyv = toF32(b, loc, args[1]);
          Value r;
          if constexpr (isSoftmax)
            r = arith::MulFOp::create(
                b, loc, yv, arith::SubFOp::create(b, loc, dyv, args[2]));
          else
            r = arith::SubFOp::create(
                b, loc, dyv,
                arith::MulFOp::create(b, loc, math::ExpOp::create(b, loc, yv),
                                      args[2]));
          linalg::YieldOp::create(b, loc, ValueRange{fromF32(b, loc, r, elt)});
        })[0];
    rewriter.replaceOp(op, dx);
    return success();
  }
};

/// logsumexp_grad: dx = dlse * exp(x - lse), and 0 where x = -inf.
struct DecomposeLogSumExpGrad : OpRewritePattern<LogSumExpGradOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(LogSumExpGradOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    GenericBuilder gb(rewriter, loc);
    Value x = op.getInput();
    RankedTensorType type = op.getInput().getType();
    unsigned rank = type.getRank();
    unsigned dim = op.getDim();
    SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(rewriter, loc, x);
    SmallVector<AffineExpr> full = allDims(ctx, rank);
    SmallVector<AffineExpr> reduced = allDimsBut(ctx, rank, dim);
    Type elt = type.getElementType();
    Value dx = gb.generic(
        {x, op.getOutput(), op.getGradOutput()}, {gb.empty(sizes, elt)}, rank,
        {full, reduced, reduced, full},
        SmallVector<IteratorType>(rank, IteratorType::parallel),
        [elt](OpBuilder &b, Location loc, ValueRange args) {
          Value xv = toF32(b, loc, args[0]);
          Value p = math::ExpOp::create(
              b, loc, arith::SubFOp::create(b, loc, xv, args[1]));
          Value r = arith::MulFOp::create(b, loc, args[2], p);
          Value massless = arith::CmpFOp::create(
              b, loc, arith::CmpFPredicate::OEQ, xv,
              f32Const(b, loc, -std::numeric_limits<double>::infinity()));
          r = arith::SelectOp::create(b, loc, massless, f32Const(b, loc, 0.0),
                                      r);
          linalg::YieldOp::create(b, loc, ValueRange{fromF32(b, loc, r, elt)});
        })[0];
    rewriter.replaceOp(op, dx);
    return success();
  }
};

/// cross_entropy_grad: per element, the derivative of the per-token loss
/// with respect to the (soft-capped) logit, times the softcap's derivative,
/// times the token's upstream gradient (grad_loss[n], grad_loss, or
/// grad_loss / count for mean), and 0 for ignored tokens
/// (buildLossGradElement, shared with the tiled linear cross-entropy
/// gradient).
struct DecomposeCrossEntropyGrad : OpRewritePattern<CrossEntropyGradOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(CrossEntropyGradOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    GenericBuilder gb(rewriter, loc);
    Value logits = op.getLogits(), labels = op.getLabels();
    SmallVector<OpFoldResult> sizes =
        tensor::getMixedSizes(rewriter, loc, logits);
    TokenUpstream upstream =
        buildTokenUpstream(gb, op.getGradLoss(), labels, op.getReduction(),
                           op.getIgnoreIndex());
    LossGradSpec spec = getLossGradSpec(op, rewriter, loc, sizes[1]);
    Type elt = op.getLogits().getType().getElementType();
    Value grad = buildLossGradTile(gb, spec, logits, labels, op.getLse(),
                                   upstream, sizes, Value(), elt);
    rewriter.replaceOp(op, grad);
    return success();
  }
};

/// linear_cross_entropy_grad: the logits h W^T (+ bias) in f32, their
/// gradient by cross_entropy_grad's element rule with the same attributes
/// (and grad_filter), then dh = dlogits W, dW = dlogits^T h and dbias = the
/// column sums of dlogits.
struct DecomposeLinearCrossEntropyGrad
    : OpRewritePattern<LinearCrossEntropyGradOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(LinearCrossEntropyGradOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    GenericBuilder gb(rewriter, loc);
    Value h = op.getHidden(), w = op.getWeight();
    SmallVector<OpFoldResult> hSizes = tensor::getMixedSizes(rewriter, loc, h);
    SmallVector<OpFoldResult> wSizes = tensor::getMixedSizes(rewriter, loc, w);
    OpFoldResult n = hSizes[0], v = wSizes[0], d = hSizes[1];
    // logits = h W^T, plus the bias, as the forward.
    Value logits = buildLinearLogits(gb, h, w, op.getBias(), n, v);
    // Its gradient by cross_entropy_grad's element rule (with grad_filter).
    TokenUpstream upstream =
        buildTokenUpstream(gb, op.getGradLoss(), op.getLabels(),
                           op.getReduction(), op.getIgnoreIndex());
    Value dLogits = buildLossGradTile(
        gb, getLossGradSpec(op, rewriter, loc, v), logits, op.getLabels(),
        op.getLse(), upstream, {n, v}, Value(), gb.f32);

    // Loops (n, d, v): dh = dlogits W. Loops (v, d, n): dW = dlogits^T h.
    Value dhAcc = gb.generic(
        {dLogits, w}, {gb.filled({n, d}, 0.0)}, 3,
        {dims(ctx, {0, 2}), dims(ctx, {2, 1}), dims(ctx, {0, 1})},
        iteratorsWithReduction(3, {2}), mulAddF32)[0];
    Value dwAcc = gb.generic(
        {dLogits, h}, {gb.filled({v, d}, 0.0)}, 3,
        {dims(ctx, {2, 0}), dims(ctx, {2, 1}), dims(ctx, {0, 1})},
        iteratorsWithReduction(3, {2}), mulAddF32)[0];

    // Write back in the operands' element type.
    Type elt = op.getHidden().getType().getElementType();
    auto finish = [&](Value acc, ArrayRef<OpFoldResult> sizes) {
      return castElements(gb, acc, sizes, elt);
    };
    SmallVector<Value> results = {finish(dhAcc, {n, d}),
                                  finish(dwAcc, {v, d})};
    if (op.getGradBias()) {
      // Loops (v, n): dbias = sum_n dlogits.
      Value dbAcc = gb.generic(
          {dLogits}, {gb.filled({v}, 0.0)}, 2,
          {dims(ctx, {1, 0}), dims(ctx, {0})}, iteratorsWithReduction(2, {1}),
          [](OpBuilder &b, Location loc, ValueRange args) {
            linalg::YieldOp::create(
                b, loc,
                ValueRange{arith::AddFOp::create(b, loc, args[1], args[0])});
          })[0];
      results.push_back(finish(dbAcc, {v}));
    }
    rewriter.replaceOp(op, results);
    return success();
  }
};

/// attention_grad: FlashAttention-2's backward on materialized tensors.
/// The G query heads that share a key/value head are a loop of their own
/// ([B, Hkv, G, M, .] views), so that dk and dv sum over them in the same
/// generic that sums over the query rows.
struct DecomposeAttentionGrad : OpRewritePattern<AttentionGradOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(AttentionGradOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    GenericBuilder gb(rewriter, loc);
    Value q = op.getQuery(), k = op.getKey(), v = op.getValue();
    RankedTensorType qType = op.getQuery().getType();
    int64_t hqStatic = qType.getDimSize(1);
    int64_t hkvStatic = op.getKey().getType().getDimSize(1);
    if (ShapedType::isDynamic(hqStatic) || ShapedType::isDynamic(hkvStatic))
      return rewriter.notifyMatchFailure(
          op, "head counts must be static to form the GQA groups");
    int64_t group = hqStatic / hkvStatic;

    SmallVector<OpFoldResult> qSizes = tensor::getMixedSizes(rewriter, loc, q);
    SmallVector<OpFoldResult> kSizes = tensor::getMixedSizes(rewriter, loc, k);
    SmallVector<OpFoldResult> vSizes = tensor::getMixedSizes(rewriter, loc, v);
    OpFoldResult b = qSizes[0], m = qSizes[2], d = qSizes[3], n = kSizes[2],
                 dv = vSizes[3];
    OpFoldResult hkv = rewriter.getIndexAttr(hkvStatic);
    OpFoldResult g = rewriter.getIndexAttr(group);

    // [B, Hq, M, X] -> [B, Hkv, G, M, X]; lse [B, Hq, M] -> [B, Hkv, G, M].
    SmallVector<ReassociationIndices> headSplit = {{0}, {1, 2}, {3}, {4}};
    auto splitHeads = [&](Value t) -> Value {
      auto type = cast<RankedTensorType>(t.getType());
      SmallVector<int64_t> shape = {type.getDimSize(0), hkvStatic, group,
                                    type.getDimSize(2), type.getDimSize(3)};
      return tensor::ExpandShapeOp::create(
          rewriter, loc, RankedTensorType::get(shape, type.getElementType()),
          t, headSplit,
          SmallVector<OpFoldResult>{b, hkv, g, m,
                                    tensor::getMixedSize(rewriter, loc, t, 3)});
    };
    Value q5 = splitHeads(q), o5 = splitHeads(op.getOutput()),
          do5 = splitHeads(op.getGradOutput());
    SmallVector<ReassociationIndices> rowSplit = {{0}, {1, 2}, {3}};
    RankedTensorType lseType = op.getLse().getType();
    Value lse4 = tensor::ExpandShapeOp::create(
        rewriter, loc,
        RankedTensorType::get({lseType.getDimSize(0), hkvStatic, group,
                               lseType.getDimSize(2)},
                              gb.f32),
        op.getLse(), rowSplit, SmallVector<OpFoldResult>{b, hkv, g, m});

    SmallVector<AffineExpr> s5 = allDims(ctx, 5), row4 = dims(ctx, {0, 1, 2, 3});
    auto parallel5 = SmallVector<IteratorType>(5, IteratorType::parallel);
    SmallVector<OpFoldResult> sSizes = {b, hkv, g, m, n};

    // Loops (b, h, g, i, j, d): s = q . k, then the forward's transform
    // (scale, softcap, masks) into t.
    Value scores = gb.generic({q5, k}, {gb.filled(sSizes, 0.0)}, 6,
                              {dims(ctx, {0, 1, 2, 3, 5}),
                               dims(ctx, {0, 1, 4, 5}), s5},
                              iteratorsWithReduction(6, {5}), mulAddF32)[0];
    Value t = applyScaleAndMasks(rewriter, gb, op, scores, sSizes, group);

    // p = exp(t - lse), 0 where t = -inf (also every key of a row that
    // sees none, whose lse is -inf).
    Value p = gb.generic(
        {t, lse4}, {gb.empty(sSizes, gb.f32)}, 5, {s5, row4, s5}, parallel5,
        [](OpBuilder &b, Location loc, ValueRange args) {
          Value hidden = arith::CmpFOp::create(
              b, loc, arith::CmpFPredicate::OEQ, args[0],
              f32Const(b, loc, -std::numeric_limits<double>::infinity()));
          Value e = math::ExpOp::create(
              b, loc, arith::SubFOp::create(b, loc, args[0], args[1]));
          linalg::YieldOp::create(
              b, loc,
              ValueRange{arith::SelectOp::create(b, loc, hidden,
                                                 f32Const(b, loc, 0.0), e)});
        })[0];

    // Loops (b, h, j, e, g, i): dv = sum_{g, i} p * do.
    SmallVector<OpFoldResult> dvSizes = {b, hkv, n, dv};
    Value dvAcc = gb.generic({p, do5}, {gb.filled(dvSizes, 0.0)}, 6,
                             {dims(ctx, {0, 1, 4, 5, 2}),
                              dims(ctx, {0, 1, 4, 5, 3}), allDims(ctx, 4)},
                             iteratorsWithReduction(6, {4, 5}), mulAddF32)[0];

    // Loops (b, h, g, i, j, e): dp = do . v. Loops (b, h, g, i, e):
    // D = do . out.
    Value dp = gb.generic({do5, v}, {gb.filled(sSizes, 0.0)}, 6,
                          {dims(ctx, {0, 1, 2, 3, 5}), dims(ctx, {0, 1, 4, 5}),
                           s5},
                          iteratorsWithReduction(6, {5}), mulAddF32)[0];
    Value delta = gb.generic({do5, o5}, {gb.filled({b, hkv, g, m}, 0.0)}, 5,
                             {s5, s5, row4}, iteratorsWithReduction(5, {4}),
                             mulAddF32)[0];

    // ds = p (dp - D), times the softcap's derivative 1 - tanh^2(s / cap)
    // at the scaled score s.
    Value scale = attentionScale(rewriter, loc, q, op.getScale());
    std::optional<double> cap = toDouble(op.getSoftcap());
    SmallVector<Value> dsInputs = {p, dp, delta};
    SmallVector<SmallVector<AffineExpr>> dsExprs = {s5, s5, row4};
    if (cap) {
      dsInputs.push_back(scores);
      dsExprs.push_back(s5);
    }
    dsExprs.push_back(s5);
    Value ds = gb.generic(
        dsInputs, {gb.empty(sSizes, gb.f32)}, 5, dsExprs, parallel5,
        [&](OpBuilder &b, Location loc, ValueRange args) {
          Value r = arith::MulFOp::create(
              b, loc, args[0], arith::SubFOp::create(b, loc, args[1], args[2]));
          if (cap) {
            Value s = arith::MulFOp::create(b, loc, args[3], scale);
            Value th = math::TanhOp::create(
                b, loc, arith::DivFOp::create(b, loc, s, f32Const(b, loc, *cap)));
            r = arith::MulFOp::create(
                b, loc, r,
                arith::SubFOp::create(b, loc, f32Const(b, loc, 1.0),
                                      arith::MulFOp::create(b, loc, th, th)));
          }
          linalg::YieldOp::create(b, loc, ValueRange{r});
        })[0];

    // Loops (b, h, g, i, d, j): dq = sum_j ds * k. Loops (b, h, j, d, g, i):
    // dk = sum_{g, i} ds * q. Both times the scale below.
    SmallVector<OpFoldResult> q5Sizes = {b, hkv, g, m, d};
    Value dqAcc = gb.generic({ds, k}, {gb.filled(q5Sizes, 0.0)}, 6,
                             {dims(ctx, {0, 1, 2, 3, 5}),
                              dims(ctx, {0, 1, 5, 4}), s5},
                             iteratorsWithReduction(6, {5}), mulAddF32)[0];
    SmallVector<OpFoldResult> dkSizes = {b, hkv, n, d};
    Value dkAcc = gb.generic({ds, q5}, {gb.filled(dkSizes, 0.0)}, 6,
                             {dims(ctx, {0, 1, 4, 5, 2}),
                              dims(ctx, {0, 1, 4, 5, 3}), allDims(ctx, 4)},
                             iteratorsWithReduction(6, {4, 5}), mulAddF32)[0];

    // Scale (dq, dk) and write back in the operands' element type.
    Type elt = qType.getElementType();
    auto finish = [&](Value acc, ArrayRef<OpFoldResult> sizes,
                      Value factor) -> Value {
      unsigned rank = sizes.size();
      return gb.generic(
          {acc}, {gb.empty(sizes, elt)}, rank,
          {allDims(ctx, rank), allDims(ctx, rank)},
          SmallVector<IteratorType>(rank, IteratorType::parallel),
          [&](OpBuilder &b, Location loc, ValueRange args) {
            Value r = args[0];
            if (factor)
              r = arith::MulFOp::create(b, loc, r, factor);
            linalg::YieldOp::create(b, loc,
                                    ValueRange{fromF32(b, loc, r, elt)});
          })[0];
    };
    Value dq = tensor::CollapseShapeOp::create(
        rewriter, loc, op.getGradQuery().getType(),
        finish(dqAcc, q5Sizes, scale), headSplit);
    rewriter.replaceOp(op, {dq, finish(dkAcc, dkSizes, scale),
                            finish(dvAcc, dvSizes, Value())});
    return success();
  }
};

} // namespace

void mlir::attn::detail::populateDecomposeGradPatterns(
    RewritePatternSet &patterns) {
  patterns.add<
      DecomposeSoftmaxGrad<SoftmaxGradOp, SoftmaxGradKind::softmax>,
      DecomposeSoftmaxGrad<LogSoftmaxGradOp, SoftmaxGradKind::logSoftmax>,
      DecomposeLogSumExpGrad, DecomposeCrossEntropyGrad,
      DecomposeLinearCrossEntropyGrad, DecomposeAttentionGrad>(
      patterns.getContext());
}
