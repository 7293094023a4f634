//===- Decompose.cpp - attn ops to materialized linalg --------------------===//
//
// The reference lowering of every attn op: upstream linalg.generic ops over
// f32 tensors that materialize every intermediate (scores, exponentials,
// logits). It defines what each op computes and is the unfused baseline.
//
//===----------------------------------------------------------------------===//

#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Dialect/Attn/Transforms/Passes.h"

#include "DecomposeGrad.h"
#include "GenericBuilder.h"
#include "LossMath.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <limits>

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNDECOMPOSE
#include "attn/Dialect/Attn/Transforms/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::detail;

using utils::IteratorType;

namespace {

/// The row statistics of a softmax over the last loop `red` of `x`'s loops:
/// the safe maximum and the sum of exp(x - max), both without dim `red`.
struct RowStats {
  Value max;    // safe max (0 where the row is all -inf)
  Value sumExp; // sum_j exp(x_j - max)
};

RowStats computeRowStats(GenericBuilder &gb, Value x, unsigned rank,
                         unsigned red, ArrayRef<OpFoldResult> reducedSizes) {
  MLIRContext *ctx = gb.b.getContext();
  double negInf = -std::numeric_limits<double>::infinity();
  SmallVector<AffineExpr> full = allDims(ctx, rank);
  SmallVector<AffineExpr> reduced = allDimsBut(ctx, rank, red);
  auto its = iteratorsWithReduction(rank, {red});
  Value max =
      gb.generic({x}, {gb.filled(reducedSizes, negInf)}, rank, {full, reduced},
                 its, [](OpBuilder &b, Location loc, ValueRange args) {
                   Value v = toF32(b, loc, args[0]);
                   linalg::YieldOp::create(
                       b, loc, ValueRange{arith::MaximumFOp::create(
                                   b, loc, v, args[1])});
                 })[0];
  Value sum = gb.generic(
      {x, max}, {gb.filled(reducedSizes, 0.0)}, rank, {full, reduced, reduced},
      its, [](OpBuilder &b, Location loc, ValueRange args) {
        Value v = toF32(b, loc, args[0]);
        Value m = safeMax(b, loc, args[1]);
        Value e = math::ExpOp::create(b, loc,
                                      arith::SubFOp::create(b, loc, v, m));
        linalg::YieldOp::create(
            b, loc, ValueRange{arith::AddFOp::create(b, loc, args[2], e)});
      })[0];
  // Store the safe max so that consumers need not re-derive it.
  Value safe = gb.generic({max}, {gb.empty(reducedSizes, gb.f32)}, rank - 1,
                          {allDims(ctx, rank - 1), allDims(ctx, rank - 1)},
                          SmallVector<IteratorType>(rank - 1,
                                                    IteratorType::parallel),
                          [](OpBuilder &b, Location loc, ValueRange args) {
                            linalg::YieldOp::create(
                                b, loc, ValueRange{safeMax(b, loc, args[0])});
                          })[0];
  return {safe, sum};
}

SmallVector<OpFoldResult> sizesWithout(SmallVector<OpFoldResult> sizes,
                                       unsigned skip) {
  sizes.erase(sizes.begin() + skip);
  return sizes;
}

//===----------------------------------------------------------------------===//
// Softmax family
//===----------------------------------------------------------------------===//

enum class SoftmaxKind { softmax, logSoftmax, logSumExp };

template <typename OpTy, SoftmaxKind kind>
struct DecomposeSoftmaxFamily : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;

  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    GenericBuilder gb(rewriter, loc);
    MLIRContext *ctx = rewriter.getContext();
    Value x = op.getInput();
    auto type = cast<RankedTensorType>(x.getType());
    unsigned rank = type.getRank();
    unsigned dim = op.getDim();
    SmallVector<OpFoldResult> sizes =
        tensor::getMixedSizes(rewriter, loc, x);
    SmallVector<OpFoldResult> reducedSizes = sizesWithout(sizes, dim);
    RowStats stats = computeRowStats(gb, x, rank, dim, reducedSizes);

    SmallVector<AffineExpr> full = allDims(ctx, rank);
    SmallVector<AffineExpr> reduced = allDimsBut(ctx, rank, dim);
    Value result;
    if constexpr (kind == SoftmaxKind::logSumExp) {
      unsigned r = rank - 1;
      result = gb.generic(
          {stats.max, stats.sumExp}, {gb.empty(reducedSizes, gb.f32)}, r,
          {allDims(ctx, r), allDims(ctx, r), allDims(ctx, r)},
          SmallVector<IteratorType>(r, IteratorType::parallel),
          [](OpBuilder &b, Location loc, ValueRange args) {
            Value lse = arith::AddFOp::create(
                b, loc, args[0], math::LogOp::create(b, loc, args[1]));
            linalg::YieldOp::create(b, loc, ValueRange{lse});
          })[0];
    } else {
      Type elt = type.getElementType();
      result = gb.generic(
          {x, stats.max, stats.sumExp}, {gb.empty(sizes, elt)}, rank,
          {full, reduced, reduced, full},
          SmallVector<IteratorType>(rank, IteratorType::parallel),
          [elt](OpBuilder &b, Location loc, ValueRange args) {
            Value r = softmaxElement(b, loc, toF32(b, loc, args[0]), args[1],
                                     args[2],
                                     kind == SoftmaxKind::logSoftmax);
            linalg::YieldOp::create(b, loc,
                                    ValueRange{fromF32(b, loc, r, elt)});
          })[0];
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Attention
//===----------------------------------------------------------------------===//

struct DecomposeAttention : OpRewritePattern<AttentionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(AttentionOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    GenericBuilder gb(rewriter, loc);
    auto q = op.getQuery(), k = op.getKey(), v = op.getValue();
    RankedTensorType qType = q.getType();
    Type elt = qType.getElementType();
    int64_t hqStatic = qType.getDimSize(1);
    int64_t hkvStatic = k.getType().getDimSize(1);
    if (ShapedType::isDynamic(hqStatic) || ShapedType::isDynamic(hkvStatic))
      return rewriter.notifyMatchFailure(
          op, "head counts must be static to form the GQA groups");
    int64_t group = hqStatic / hkvStatic;

    SmallVector<OpFoldResult> qSizes = tensor::getMixedSizes(rewriter, loc, q);
    SmallVector<OpFoldResult> kSizes = tensor::getMixedSizes(rewriter, loc, k);
    SmallVector<OpFoldResult> vSizes = tensor::getMixedSizes(rewriter, loc, v);
    OpFoldResult b = qSizes[0], m = qSizes[2], n = kSizes[2], dv = vSizes[3];
    OpFoldResult hkv = rewriter.getIndexAttr(hkvStatic);
    OpFoldResult g = rewriter.getIndexAttr(group);

    // q : [B, Hq, M, D] -> [B, Hkv, G, M, D]: the G query heads that share a
    // key/value head become a loop of their own, so K and V are never copied.
    SmallVector<ReassociationIndices> headSplit = {{0}, {1, 2}, {3}, {4}};
    SmallVector<int64_t> q5Shape = {qType.getDimSize(0), hkvStatic, group,
                                    qType.getDimSize(2), qType.getDimSize(3)};
    Value q5 = tensor::ExpandShapeOp::create(
        rewriter, loc, RankedTensorType::get(q5Shape, elt), q, headSplit,
        SmallVector<OpFoldResult>{b, hkv, g, m, qSizes[3]});

    // Loops (b, h, g, i, j, d): scores[b,h,g,i,j] = sum_d q[b,h,g,i,d] k[b,h,j,d].
    SmallVector<OpFoldResult> sSizes = {b, hkv, g, m, n};
    Value scores =
        gb.generic({q5, k}, {gb.filled(sSizes, 0.0)}, 6,
                   {dims(ctx, {0, 1, 2, 3, 5}), dims(ctx, {0, 1, 4, 5}),
                    dims(ctx, {0, 1, 2, 3, 4})},
                   iteratorsWithReduction(6, {5}),
                   [](OpBuilder &b, Location loc, ValueRange args) {
                     Value prod = arith::MulFOp::create(
                         b, loc, toF32(b, loc, args[0]), toF32(b, loc, args[1]));
                     linalg::YieldOp::create(
                         b, loc,
                         ValueRange{arith::AddFOp::create(b, loc, args[2], prod)});
                   })[0];

    scores = applyScaleAndMasks(rewriter, gb, op, scores, sSizes, group);

    // Row statistics over j, then P = exp(s - max) materialized.
    RowStats stats = computeRowStats(gb, scores, 5, 4, {b, hkv, g, m});
    SmallVector<AffineExpr> s5 = allDims(ctx, 5);
    SmallVector<AffineExpr> row4 = dims(ctx, {0, 1, 2, 3});
    Value p = gb.generic(
        {scores, stats.max}, {gb.empty(sSizes, gb.f32)}, 5, {s5, row4, s5},
        SmallVector<IteratorType>(5, IteratorType::parallel),
        [](OpBuilder &b, Location loc, ValueRange args) {
          Value e = math::ExpOp::create(
              b, loc, arith::SubFOp::create(b, loc, args[0], args[1]));
          linalg::YieldOp::create(b, loc, ValueRange{e});
        })[0];

    // Loops (b, h, g, i, e, j): acc[b,h,g,i,e] = sum_j p[b,h,g,i,j] v[b,h,j,e].
    SmallVector<OpFoldResult> oSizes = {b, hkv, g, m, dv};
    Value acc =
        gb.generic({p, v}, {gb.filled(oSizes, 0.0)}, 6,
                   {dims(ctx, {0, 1, 2, 3, 5}), dims(ctx, {0, 1, 5, 4}),
                    dims(ctx, {0, 1, 2, 3, 4})},
                   iteratorsWithReduction(6, {5}),
                   [](OpBuilder &b, Location loc, ValueRange args) {
                     Value prod = arith::MulFOp::create(
                         b, loc, args[0], toF32(b, loc, args[1]));
                     linalg::YieldOp::create(
                         b, loc,
                         ValueRange{arith::AddFOp::create(b, loc, args[2], prod)});
                   })[0];

    // out = acc / sum, and 0 for a row with no visible key (sum == 0).
    Value out5 = gb.generic(
        {acc, stats.sumExp}, {gb.empty(oSizes, elt)}, 5, {s5, row4, s5},
        SmallVector<IteratorType>(5, IteratorType::parallel),
        [elt](OpBuilder &b, Location loc, ValueRange args) {
          Value zero = f32Const(b, loc, 0.0);
          Value empty = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ,
                                              args[1], zero);
          Value div = arith::DivFOp::create(b, loc, args[0], args[1]);
          Value r = arith::SelectOp::create(b, loc, empty, zero, div);
          linalg::YieldOp::create(b, loc, ValueRange{fromF32(b, loc, r, elt)});
        })[0];
    SmallVector<Value> results = {tensor::CollapseShapeOp::create(
        rewriter, loc, op.getOutput().getType(), out5, headSplit)};

    if (op.getLse()) {
      // lse = max + log(sum); a fully masked row has max 0 and sum 0: -inf.
      Value lse4 = gb.generic(
          {stats.max, stats.sumExp}, {gb.empty({b, hkv, g, m}, gb.f32)}, 4,
          {allDims(ctx, 4), allDims(ctx, 4), allDims(ctx, 4)},
          SmallVector<IteratorType>(4, IteratorType::parallel),
          [](OpBuilder &b, Location loc, ValueRange args) {
            Value lse = arith::AddFOp::create(
                b, loc, args[0], math::LogOp::create(b, loc, args[1]));
            linalg::YieldOp::create(b, loc, ValueRange{lse});
          })[0];
      SmallVector<ReassociationIndices> lseSplit = {{0}, {1, 2}, {3}};
      results.push_back(tensor::CollapseShapeOp::create(
          rewriter, loc, op.getLse().getType(), lse4, lseSplit));
    }
    rewriter.replaceOp(op, results);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Cross-entropy
//===----------------------------------------------------------------------===//

struct DecomposeCrossEntropy : OpRewritePattern<CrossEntropyOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(CrossEntropyOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    GenericBuilder gb(rewriter, loc);
    Value logits = op.getLogits(), labels = op.getLabels();
    SmallVector<OpFoldResult> sizes =
        tensor::getMixedSizes(rewriter, loc, logits);
    SmallVector<OpFoldResult> rows = {sizes[0]};
    SmallVector<AffineExpr> nv = allDims(ctx, 2), n = dims(ctx, {0});
    auto parallel2 = SmallVector<IteratorType>(2, IteratorType::parallel);
    auto parallel1 = SmallVector<IteratorType>(1, IteratorType::parallel);

    // z = softcap(logits) in f32, materialized.
    std::optional<double> cap = toDouble(op.getSoftcap());
    Value z = gb.generic({logits}, {gb.empty(sizes, gb.f32)}, 2, {nv, nv},
                         parallel2,
                         [&](OpBuilder &b, Location loc, ValueRange args) {
                           Value v = toF32(b, loc, args[0]);
                           if (cap)
                             v = softcap(b, loc, v, *cap);
                           linalg::YieldOp::create(b, loc, ValueRange{v});
                         })[0];

    RowStats stats = computeRowStats(gb, z, 2, 1, rows);

    // The target logit and the row sum of z, by one reduction over v.
    SmallVector<Value> gathered = gb.generic(
        {z, labels}, {gb.filled(rows, 0.0), gb.filled(rows, 0.0)}, 2,
        {nv, n, n, n}, iteratorsWithReduction(2, {1}),
        [](OpBuilder &b, Location loc, ValueRange args) {
          Value col = arith::IndexCastOp::create(
              b, loc, args[1].getType(), linalg::IndexOp::create(b, loc, 1));
          Value hit = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                            col, args[1]);
          Value picked = arith::SelectOp::create(b, loc, hit, args[0],
                                                 f32Const(b, loc, 0.0));
          linalg::YieldOp::create(
              b, loc,
              ValueRange{arith::AddFOp::create(b, loc, args[2], picked),
                         arith::AddFOp::create(b, loc, args[3], args[0])});
        });

    // Per-token loss and lse.
    replaceLossOp(rewriter, op, gb, stats.max, stats.sumExp, gathered[0],
                  gathered[1], sizes[1], rows);
    return success();
  }
};

/// linear_cross_entropy = cross_entropy(hidden @ weight^T + bias): the
/// logits are materialized in f32 and handed to cross_entropy.
struct DecomposeLinearCrossEntropy : OpRewritePattern<LinearCrossEntropyOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(LinearCrossEntropyOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    GenericBuilder gb(rewriter, loc);
    Value h = op.getHidden(), w = op.getWeight();
    SmallVector<OpFoldResult> hSizes = tensor::getMixedSizes(rewriter, loc, h);
    SmallVector<OpFoldResult> wSizes = tensor::getMixedSizes(rewriter, loc, w);
    Value logits = buildLinearLogits(gb, h, w, op.getBias(), hSizes[0],
                                     wSizes[0]);
    auto ce = CrossEntropyOp::create(
        rewriter, loc, op->getResultTypes(), logits, op.getLabels(),
        op.getIgnoreIndexAttr(), op.getLabelSmoothingAttr(), op.getZLossAttr(),
        op.getSoftcapAttr(), op.getReductionAttr(), /*schedule=*/nullptr);
    rewriter.replaceOp(op, ce->getResults());
    return success();
  }
};

/// linalg's aggregated ops on tensors (today linalg.softmax, which frontends
/// emit when attn-fuse did not raise them): their own decomposition into
/// linalg.generic. The bufferized pipelines have no lowering for them: left
/// alone, attn-to-llvm kept a linalg.softmax on memrefs in its "LLVM"
/// output and attn-to-cubin failed in LLVM translation (found by attn-fuzz).
struct DecomposeLinalgAggregate
    : OpInterfaceRewritePattern<linalg::AggregatedOpInterface> {
  using OpInterfaceRewritePattern::OpInterfaceRewritePattern;

  LogicalResult matchAndRewrite(linalg::AggregatedOpInterface op,
                                PatternRewriter &rewriter) const override {
    if (!llvm::all_of(op->getResultTypes(), llvm::IsaPred<RankedTensorType>) ||
        op->getNumResults() == 0)
      return rewriter.notifyMatchFailure(op, "not on tensors");
    FailureOr<SmallVector<Value>> values = op.decomposeOperation(rewriter);
    if (failed(values))
      return rewriter.notifyMatchFailure(op, "no decomposition");
    rewriter.replaceOp(op, *values);
    return success();
  }
};

struct AttnDecomposePass
    : public attn::impl::AttnDecomposeBase<AttnDecomposePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateAttnDecomposePatterns(patterns);
    patterns.add<DecomposeLinalgAggregate>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
    // Any attn op left behind could not be decomposed: say which, and why.
    WalkResult r = getOperation()->walk([](Operation *op) {
      if (isa<AttnOpInterface>(op)) {
        op->emitError("attn-decompose could not lower this op (the head "
                      "counts of attention must be static)");
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    if (r.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace

void mlir::attn::populateAttnDecomposePatterns(RewritePatternSet &patterns) {
  patterns.add<DecomposeSoftmaxFamily<SoftmaxOp, SoftmaxKind::softmax>,
               DecomposeSoftmaxFamily<LogSoftmaxOp, SoftmaxKind::logSoftmax>,
               DecomposeSoftmaxFamily<LogSumExpOp, SoftmaxKind::logSumExp>,
               DecomposeAttention, DecomposeCrossEntropy,
               DecomposeLinearCrossEntropy>(patterns.getContext());
  detail::populateDecomposeGradPatterns(patterns);
}
