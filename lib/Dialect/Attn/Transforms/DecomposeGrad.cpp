//===- DecomposeGrad.cpp - attn gradient ops to materialized linalg -------===//
//
// The reference lowering of the gradient ops of the softmax family and of
// cross-entropy, part of attn-decompose: each linalg.generic is one line of
// the op's derivative (AttnOps.td), in f32, from the values the forward pass
// saved (its output, or its log-sum-exp), so no forward statistic is
// recomputed.
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

/// Whether `label` (a scalar in a generic body) is `ignoreIndex`.
Value isIgnored(OpBuilder &b, Location loc, Value label, int64_t ignoreIndex) {
  return arith::CmpIOp::create(
      b, loc, arith::CmpIPredicate::eq, label,
      arith::ConstantOp::create(
          b, loc, b.getIntegerAttr(label.getType(), ignoreIndex)));
}

/// cross_entropy_grad: per element, the derivative of the per-token loss
/// with respect to the (soft-capped) logit, times the softcap's derivative,
/// times the token's upstream gradient (grad_loss[n], grad_loss, or
/// grad_loss / count for mean), and 0 for ignored tokens.
struct DecomposeCrossEntropyGrad : OpRewritePattern<CrossEntropyGradOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(CrossEntropyGradOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    GenericBuilder gb(rewriter, loc);
    Value logits = op.getLogits(), labels = op.getLabels();
    SmallVector<OpFoldResult> sizes =
        tensor::getMixedSizes(rewriter, loc, logits);
    int64_t ignoreIndex = op.getIgnoreIndex();
    double eps = op.getLabelSmoothing().convertToDouble();
    double zLoss = op.getZLoss().convertToDouble();
    std::optional<double> cap = toDouble(op.getSoftcap());
    SmallVector<AffineExpr> nv = allDims(ctx, 2), n = dims(ctx, {0});

    // The upstream gradient of each token: grad_loss[n] for none, the
    // scalar for sum, and for mean the scalar over the count of
    // non-ignored tokens (0 when there is none: no gradient at all).
    Value upstream = op.getGradLoss();
    SmallVector<AffineExpr> upstreamExprs;
    if (op.getReduction() == Reduction::none)
      upstreamExprs = n;
    if (op.getReduction() == Reduction::mean) {
      SmallVector<AffineExpr> r = allDims(ctx, 1);
      Value count = gb.generic(
          {labels}, {gb.filled({}, 0.0)}, 1, {r, {}},
          iteratorsWithReduction(1, {0}),
          [&](OpBuilder &b, Location loc, ValueRange a) {
            Value counted = arith::SelectOp::create(
                b, loc, isIgnored(b, loc, a[0], ignoreIndex),
                f32Const(b, loc, 0.0), f32Const(b, loc, 1.0));
            linalg::YieldOp::create(
                b, loc, ValueRange{arith::AddFOp::create(b, loc, a[1],
                                                         counted)});
          })[0];
      upstream = gb.generic(
          {upstream, count}, {gb.empty({}, gb.f32)}, 0, {{}, {}, {}}, {},
          [](OpBuilder &b, Location loc, ValueRange a) {
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

    // eps / V, the smoothing term every class shares.
    Value smoothing;
    if (eps != 0.0)
      smoothing = arith::DivFOp::create(rewriter, loc, gb.f32Const(eps),
                                        vocabAsF32(rewriter, loc, sizes[1]));
    Type elt = op.getLogits().getType().getElementType();
    Value grad = gb.generic(
        {logits, labels, op.getLse(), upstream}, {gb.empty(sizes, elt)}, 2,
        {nv, n, n, upstreamExprs, nv},
        SmallVector<IteratorType>(2, IteratorType::parallel),
        [&](OpBuilder &b, Location loc, ValueRange a) {
          Value z = toF32(b, loc, a[0]);
          if (cap)
            z = softcap(b, loc, z, *cap);
          Value lse = a[2];
          // d loss / d z_v = p_v (1 + 2 z_loss lse) - (1 - eps) [v == y]
          //                  - eps / V.
          Value d = math::ExpOp::create(b, loc,
                                        arith::SubFOp::create(b, loc, z, lse));
          if (zLoss != 0.0) {
            Value factor = arith::AddFOp::create(
                b, loc, f32Const(b, loc, 1.0),
                arith::MulFOp::create(b, loc, f32Const(b, loc, 2.0 * zLoss),
                                      lse));
            d = arith::MulFOp::create(b, loc, d, factor);
          }
          if (eps != 1.0) {
            Value col = arith::IndexCastOp::create(
                b, loc, a[1].getType(), linalg::IndexOp::create(b, loc, 1));
            Value hit = arith::CmpIOp::create(
                b, loc, arith::CmpIPredicate::eq, col, a[1]);
            d = arith::SubFOp::create(
                b, loc, d,
                arith::SelectOp::create(b, loc, hit,
                                        f32Const(b, loc, 1.0 - eps),
                                        f32Const(b, loc, 0.0)));
          }
          if (smoothing)
            d = arith::SubFOp::create(b, loc, d, smoothing);
          // d z / d logits = 1 - tanh^2 = 1 - (z / cap)^2.
          if (cap) {
            Value t =
                arith::DivFOp::create(b, loc, z, f32Const(b, loc, *cap));
            d = arith::MulFOp::create(
                b, loc, d,
                arith::SubFOp::create(b, loc, f32Const(b, loc, 1.0),
                                      arith::MulFOp::create(b, loc, t, t)));
          }
          d = arith::MulFOp::create(b, loc, d, a[3]);
          d = arith::SelectOp::create(b, loc,
                                      isIgnored(b, loc, a[1], ignoreIndex),
                                      f32Const(b, loc, 0.0), d);
          linalg::YieldOp::create(b, loc, ValueRange{fromF32(b, loc, d, elt)});
        })[0];
    rewriter.replaceOp(op, grad);
    return success();
  }
};

} // namespace

void mlir::attn::detail::populateDecomposeGradPatterns(
    RewritePatternSet &patterns) {
  patterns.add<
      DecomposeSoftmaxGrad<SoftmaxGradOp, SoftmaxGradKind::softmax>,
      DecomposeSoftmaxGrad<LogSoftmaxGradOp, SoftmaxGradKind::logSoftmax>,
      DecomposeLogSumExpGrad, DecomposeCrossEntropyGrad>(
      patterns.getContext());
}
