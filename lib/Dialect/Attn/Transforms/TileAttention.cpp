//===- TileAttention.cpp - attention in the FlashAttention-2 form ---------===//
//
// attn.attention -> scf.forall over (batch, query head, query tile), and in
// each an scf.for over the key tiles that can be visible to the query tile,
// carrying the output accumulator and the online-softmax row max and sum.
// Scores and probabilities exist only as [block_m, block_n] tiles.
//
//===----------------------------------------------------------------------===//

#include "TileUtils.h"

#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Dialect/Attn/Utils/MaskGeometry.h"
#include "attn/Tuning/Tuning.h"

#include <cmath>

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::detail;

namespace {

constexpr double kLog2e = 1.4426950408889634;
constexpr double kLn2 = 0.6931471805599453;

struct TileAttention : OpRewritePattern<AttentionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(AttentionOp op,
                                PatternRewriter &rewriter) const override {
    auto q = op.getQuery(), k = op.getKey(), v = op.getValue();
    int64_t hq = q.getType().getDimSize(1), hkv = k.getType().getDimSize(1);
    if (ShapedType::isDynamic(hq) || ShapedType::isDynamic(hkv))
      return rewriter.notifyMatchFailure(op, "head counts must be static");
    ScheduleAttr schedule = getScheduleOrDefault(op);
    // Split-KV (flash-decoding): `split` blocks share the key range of each
    // query tile and write a partial output and LSE each; a combine step
    // merges them.
    int64_t split = schedule.getSplit();
    bool splitKV = split > 1;

    Location loc = op.getLoc();
    GenericBuilder gb(rewriter, loc);
    IndexMath im(rewriter, loc);
    Type elt = q.getType().getElementType();
    SmallVector<OpFoldResult> qs = tensor::getMixedSizes(rewriter, loc, q);
    SmallVector<OpFoldResult> ks = tensor::getMixedSizes(rewriter, loc, k);
    SmallVector<OpFoldResult> vs = tensor::getMixedSizes(rewriter, loc, v);
    Value m = im.v(qs[2]), n = im.v(ks[2]);
    Value blockM = im.c(schedule.getBlockM()),
          blockN = im.c(schedule.getBlockN());

    // Outputs: the op's (output, lse), or with split-KV the f32 partials
    // [split, B, Hq, M, Dv] and [split, B, Hq, M].
    SmallVector<OpFoldResult> lead;
    if (splitKV)
      lead.push_back(rewriter.getIndexAttr(split));
    auto withLead = [&](ArrayRef<OpFoldResult> rest) {
      SmallVector<OpFoldResult> r(lead);
      r.append(rest.begin(), rest.end());
      return r;
    };
    Type outElt = splitKV ? gb.f32 : elt;
    bool wantLse = splitKV || op.getLse();
    SmallVector<Value> inits = {
        gb.empty(withLead({qs[0], qs[1], qs[2], vs[3]}), outElt)};
    if (wantLse)
      inits.push_back(gb.empty(withLead({qs[0], qs[1], qs[2]}), gb.f32));
    SmallVector<OpFoldResult> grid =
        withLead({qs[0], qs[1], OpFoldResult(im.ceilDiv(m, blockM))});
    auto forall =
        scf::ForallOp::create(rewriter, loc, grid, inits, std::nullopt);

    OpBuilder::InsertionGuard guard(rewriter);
    rewriter.setInsertionPointToStart(forall.getBody());
    SmallVector<Value> allIvs = forall.getInductionVars();
    ArrayRef<Value> ivs = ArrayRef<Value>(allIvs).drop_front(lead.size());
    Value splitIdx = splitKV ? allIvs[0] : Value();
    Value bIdx = ivs[0], hIdx = ivs[1];
    Value m0 = im.mul(ivs[2], blockM);
    OpFoldResult mSizeF = im.tileSize(qs[2], m0, schedule.getBlockM());
    Value mSize = im.v(mSizeF);
    Value kvHead = im.floorDiv(hIdx, im.c(hq / hkv));
    OpFoldResult one = rewriter.getIndexAttr(1), zero = rewriter.getIndexAttr(0);

    Value qTile = extractTile(rewriter, loc, q, {bIdx, hIdx, m0, zero},
                              {one, one, mSizeF, qs[3]}, {2, 3});

    // The key range [lo, hi) any row of this query tile can see; key tiles
    // outside it are never loaded (block skipping).
    TileIndexMath tm{im, rewriter, loc};
    MaskGeometry<TileIndexMath> geometry(tm, op.getMaskSpec(), m, n);
    Value qLast = im.add(m0, im.sub(mSize, im.c(1)));
    Value diag0 = geometry.diagonal(m0); // diagonal of the first row
    auto [lo, hi] = geometry.visibleKeys(m0, qLast);
    auto [tileFirst, tileEnd] =
        geometry.keyTiles(m0, qLast, schedule.getBlockN());
    Value loAligned = im.mul(tileFirst, blockN);

    SmallVector<OpFoldResult> rows = {mSizeF};
    SmallVector<OpFoldResult> accSizes = {mSizeF, vs[3]};
    double negInf = -std::numeric_limits<double>::infinity();
    SmallVector<Value> iterInit = {gb.filled(accSizes, 0.0),
                                   gb.filled(rows, negInf),
                                   gb.filled(rows, 0.0)};
    Value start = loAligned, end = hi;
    if (splitKV) {
      // This block's share: a contiguous run of ceil(tiles / split) tiles.
      auto [runFirst, runEnd] =
          geometry.splitRun(tileFirst, tileEnd, splitIdx, split);
      start = im.mul(runFirst, blockN);
      end = im.min(hi, im.mul(runEnd, blockN));
    }
    auto loop = scf::ForOp::create(rewriter, loc, start, end, blockN,
                                   iterInit);
    rewriter.setInsertionPointToStart(loop.getBody());
    {
      Value n0 = loop.getInductionVar();
      Value acc = loop.getRegionIterArgs()[0];
      OnlineSoftmaxState state = {loop.getRegionIterArgs()[1],
                                  loop.getRegionIterArgs()[2]};
      OpFoldResult nSizeF = im.tileSize(ks[2], n0, schedule.getBlockN());
      Value nSize = im.v(nSizeF);
      SmallVector<OpFoldResult> tile = {mSizeF, nSizeF};
      Value kTile = extractTile(rewriter, loc, k, {bIdx, kvHead, n0, zero},
                                {one, one, nSizeF, ks[3]}, {2, 3});
      Value vTile = extractTile(rewriter, loc, v, {bIdx, kvHead, n0, zero},
                                {one, one, nSizeF, vs[3]}, {2, 3});
      Value maskTile;
      if (Value mask = op.getMask()) {
        auto maskType = cast<RankedTensorType>(mask.getType());
        if (maskType.getRank() == 2) {
          maskTile = extractTile(rewriter, loc, mask, {m0, n0}, {mSizeF, nSizeF},
                                 {0, 1});
        } else {
          Value mb = maskType.getDimSize(0) == 1 ? im.c(0) : bIdx;
          Value mh = maskType.getDimSize(1) == 1 ? im.c(0) : hIdx;
          maskTile = extractTile(rewriter, loc, mask, {mb, mh, m0, n0},
                                 {one, one, mSizeF, nSizeF}, {2, 3});
        }
      }

      // s = q k^T over the tile, in f32.
      MLIRContext *ctx = rewriter.getContext();
      Value scores =
          gb.generic({qTile, kTile}, {gb.filled(tile, 0.0)}, 3,
                     {dims(ctx, {0, 2}), dims(ctx, {1, 2}), dims(ctx, {0, 1})},
                     iteratorsWithReduction(3, {2}),
                     [](OpBuilder &b, Location loc, ValueRange a) {
                       Value p = arith::MulFOp::create(b, loc, toF32(b, loc, a[0]),
                                                       toF32(b, loc, a[1]));
                       linalg::YieldOp::create(
                           b, loc, ValueRange{arith::AddFOp::create(b, loc, a[2], p)});
                     })[0];

      // Scale (log2(e) folded in), softcap and the mask operand apply to
      // every tile; causal and window masks only where the tile crosses the
      // boundary of the visible region.
      Value lastKey = im.sub(im.add(n0, nSize), im.c(1));
      Value boundary = geometry.crossesBoundary(m0, qLast, n0, lastKey);
      auto scaled = [&](bool masked) {
        return buildScaledScores(rewriter, gb, op, scores, maskTile, tile,
                                 masked ? im.sub(diag0, n0)
                                        : Value());
      };
      Value logits;
      if (op.getMaskSpec().masksKeys()) {
        auto ifOp = scf::IfOp::create(
            rewriter, loc, boundary,
            [&](OpBuilder &, Location) {
              scf::YieldOp::create(rewriter, loc, scaled(true));
            },
            [&](OpBuilder &, Location) {
              scf::YieldOp::create(rewriter, loc, scaled(false));
            });
        logits = ifOp.getResult(0);
      } else {
        logits = scaled(false);
      }

      Value alpha, p;
      OnlineSoftmaxState next =
          foldTile(gb, state, logits, tile, /*base2=*/true, &alpha, &p);
      // acc = alpha * acc + p v.
      Value rescaled = gb.generic(
          {acc, alpha}, {gb.empty(accSizes, gb.f32)}, 2,
          {allDims(ctx, 2), dims(ctx, {0}), allDims(ctx, 2)},
          {IteratorType::parallel, IteratorType::parallel},
          [](OpBuilder &b, Location loc, ValueRange a) {
            linalg::YieldOp::create(
                b, loc, ValueRange{arith::MulFOp::create(b, loc, a[0], a[1])});
          })[0];
      Value newAcc =
          gb.generic({p, vTile}, {rescaled}, 3,
                     {dims(ctx, {0, 2}), dims(ctx, {2, 1}), dims(ctx, {0, 1})},
                     iteratorsWithReduction(3, {2}),
                     [](OpBuilder &b, Location loc, ValueRange a) {
                       Value prod = arith::MulFOp::create(b, loc, a[0],
                                                          toF32(b, loc, a[1]));
                       linalg::YieldOp::create(
                           b, loc,
                           ValueRange{arith::AddFOp::create(b, loc, a[2], prod)});
                     })[0];
      scf::YieldOp::create(rewriter, loc,
                           ValueRange{newAcc, next.max, next.sum});
    }
    rewriter.setInsertionPointAfter(loop);

    // out = acc / sum (0 for a row that saw no key); lse = ln 2 * (max + log2 sum).
    MLIRContext *ctx = rewriter.getContext();
    Value acc = loop.getResult(0), max = loop.getResult(1),
          sum = loop.getResult(2);
    Value outTile = gb.generic(
        {acc, sum}, {gb.empty(accSizes, outElt)}, 2,
        {allDims(ctx, 2), dims(ctx, {0}), allDims(ctx, 2)},
        {IteratorType::parallel, IteratorType::parallel},
        [elt = outElt](OpBuilder &b, Location loc, ValueRange a) {
          Value zero = f32Const(b, loc, 0.0);
          Value none =
              arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, a[1], zero);
          Value r = arith::SelectOp::create(
              b, loc, none, zero, arith::DivFOp::create(b, loc, a[0], a[1]));
          linalg::YieldOp::create(b, loc, ValueRange{fromF32(b, loc, r, elt)});
        })[0];
    Value lseTile;
    if (wantLse)
      lseTile = gb.generic(
          {max, sum}, {gb.empty(rows, gb.f32)}, 1,
          {allDims(ctx, 1), allDims(ctx, 1), allDims(ctx, 1)},
          {IteratorType::parallel}, [](OpBuilder &b, Location loc, ValueRange a) {
            Value l = arith::AddFOp::create(b, loc, safeMax(b, loc, a[0]),
                                            math::Log2Op::create(b, loc, a[1]));
            linalg::YieldOp::create(
                b, loc,
                ValueRange{arith::MulFOp::create(b, loc, l,
                                                 f32Const(b, loc, kLn2))});
          })[0];

    rewriter.setInsertionPointToStart(forall.getTerminator().getBody());
    ValueRange outs = forall.getRegionIterArgs();
    SmallVector<OpFoldResult> leadOffset, leadSize;
    if (splitKV) {
      leadOffset.push_back(splitIdx);
      leadSize.push_back(one);
    }
    auto cat = [](SmallVector<OpFoldResult> a, ArrayRef<OpFoldResult> b) {
      a.append(b.begin(), b.end());
      return a;
    };
    parallelInsertTile(rewriter, loc, outTile, outs[0],
                       cat(leadOffset, {bIdx, hIdx, m0, zero}),
                       cat(leadSize, {one, one, mSizeF, vs[3]}));
    if (lseTile)
      parallelInsertTile(rewriter, loc, lseTile, outs[1],
                         cat(leadOffset, {bIdx, hIdx, m0}),
                         cat(leadSize, {one, one, mSizeF}));
    rewriter.setInsertionPointAfter(forall);
    if (!splitKV) {
      rewriter.replaceOp(op, forall.getResults());
      return success();
    }
    rewriter.replaceOp(op, combineSplits(gb, op, forall.getResult(0),
                                         forall.getResult(1), qs, vs[3], elt));
    return success();
  }

  /// The flash-decoding combine: lse = log sum_s exp(lse_s) (a max-shifted
  /// reduction over the splits), out = sum_s exp(lse_s - lse) out_s, 0 for a
  /// row that no split saw a key of.
  static SmallVector<Value> combineSplits(GenericBuilder &gb, AttentionOp op,
                                          Value partialOut, Value partialLse,
                                          ArrayRef<OpFoldResult> qs,
                                          OpFoldResult dv, Type elt) {
    MLIRContext *ctx = gb.b.getContext();
    double negInf = -std::numeric_limits<double>::infinity();
    SmallVector<OpFoldResult> rowSizes = {qs[0], qs[1], qs[2]};
    // Loops (b, h, i, s).
    SmallVector<Value> stats = gb.generic(
        {partialLse}, {gb.filled(rowSizes, negInf), gb.filled(rowSizes, 0.0)},
        4, {dims(ctx, {3, 0, 1, 2}), dims(ctx, {0, 1, 2}), dims(ctx, {0, 1, 2})},
        iteratorsWithReduction(4, {3}),
        [](OpBuilder &b, Location loc, ValueRange a) {
          Value m = arith::MaximumFOp::create(b, loc, a[1], a[0]);
          Value safe = safeMax(b, loc, m);
          Value rescaled = arith::MulFOp::create(
              b, loc, a[2],
              math::ExpOp::create(b, loc,
                                  arith::SubFOp::create(b, loc, a[1], safe)));
          Value term = math::ExpOp::create(
              b, loc, arith::SubFOp::create(b, loc, a[0], safe));
          linalg::YieldOp::create(
              b, loc,
              ValueRange{m, arith::AddFOp::create(b, loc, rescaled, term)});
        });
    Value lse = gb.generic(
        {stats[0], stats[1]}, {gb.empty(rowSizes, gb.f32)}, 3,
        {allDims(ctx, 3), allDims(ctx, 3), allDims(ctx, 3)},
        SmallVector<IteratorType>(3, IteratorType::parallel),
        [](OpBuilder &b, Location loc, ValueRange a) {
          linalg::YieldOp::create(
              b, loc,
              ValueRange{arith::AddFOp::create(
                  b, loc, safeMax(b, loc, a[0]),
                  math::LogOp::create(b, loc, a[1]))});
        })[0];
    // Loops (b, h, i, e, s).
    SmallVector<OpFoldResult> outSizes = {qs[0], qs[1], qs[2], dv};
    Value sum = gb.generic(
        {partialOut, partialLse, lse}, {gb.filled(outSizes, 0.0)}, 5,
        {dims(ctx, {4, 0, 1, 2, 3}), dims(ctx, {4, 0, 1, 2}),
         dims(ctx, {0, 1, 2}), dims(ctx, {0, 1, 2, 3})},
        iteratorsWithReduction(5, {4}),
        [](OpBuilder &b, Location loc, ValueRange a) {
          // A row that saw no key has lse = -inf: weight 0, not NaN.
          Value w = math::ExpOp::create(
              b, loc, arith::SubFOp::create(b, loc, a[1], safeMax(b, loc, a[2])));
          Value term = arith::MulFOp::create(b, loc, w, a[0]);
          linalg::YieldOp::create(
              b, loc, ValueRange{arith::AddFOp::create(b, loc, a[3], term)});
        })[0];
    Value out = gb.generic(
        {sum}, {gb.empty(outSizes, elt)}, 4, {allDims(ctx, 4), allDims(ctx, 4)},
        SmallVector<IteratorType>(4, IteratorType::parallel),
        [elt](OpBuilder &b, Location loc, ValueRange a) {
          linalg::YieldOp::create(b, loc,
                                  ValueRange{fromF32(b, loc, a[0], elt)});
        })[0];
    SmallVector<Value> results = {out};
    if (op.getLse())
      results.push_back(lse);
    return results;
  }

  /// The scores of one tile in log2 units: scale * log2(e) * s, with
  /// softcap and the mask operand applied; when `rowMinusCol` is set (the
  /// offset that turns local (i, j) into "key index - diagonal"), also the
  /// causal and window masks.
  static Value buildScaledScores(PatternRewriter &rewriter, GenericBuilder &gb,
                                 AttentionOp op, Value scores, Value maskTile,
                                 ArrayRef<OpFoldResult> tile,
                                 Value diagMinusN0) {
    MLIRContext *ctx = rewriter.getContext();
    Value scale = attentionScale(rewriter, op.getLoc(), op.getQuery(),
                                 op.getScale());
    std::optional<double> cap = toDouble(op.getSoftcap());
    bool causal = op.getCausal();
    std::optional<ArrayRef<int64_t>> window = op.getWindow();
    SmallVector<Value> inputs = {scores};
    SmallVector<SmallVector<AffineExpr>> exprs = {allDims(ctx, 2)};
    if (maskTile) {
      inputs.push_back(maskTile);
      exprs.push_back(allDims(ctx, 2));
    }
    exprs.push_back(allDims(ctx, 2));
    return gb.generic(
        inputs, {gb.empty(tile, gb.f32)}, 2, exprs,
        {IteratorType::parallel, IteratorType::parallel},
        [&](OpBuilder &b, Location loc, ValueRange a) {
          Value s = transformScore(b, loc, a[0], scale, cap,
                                   maskTile ? a[1] : Value());
          s = arith::MulFOp::create(b, loc, s, f32Const(b, loc, kLog2e));
          if (diagMinusN0) {
            // Key j of row i of the tile is key n0 + j of row m0 + i, whose
            // diagonal is m0 + i + (N - M): rel = (j - i) - diagMinusN0.
            Value i = linalg::IndexOp::create(b, loc, 0);
            Value j = linalg::IndexOp::create(b, loc, 1);
            Value rel = arith::SubIOp::create(
                b, loc, arith::SubIOp::create(b, loc, j, i), diagMinusN0);
            s = hideOutsideVisible(b, loc, s, rel, causal, window);
          }
          linalg::YieldOp::create(b, loc, ValueRange{s});
        })[0];
  }
};

} // namespace

void mlir::attn::detail::populateTileAttentionPatterns(
    RewritePatternSet &patterns) {
  patterns.add<TileAttention>(patterns.getContext());
}
