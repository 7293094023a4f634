//===- TileAttentionGrad.cpp - the FlashAttention-2 backward, tiled -------===//
//
// attn.attention_grad -> FlashAttention-2's backward in two deterministic
// passes (no atomics), neither holding more than one [block_m, block_n]
// tile of scores:
//   D  = rowsum(dO * O)                                 [B, Hq, M]
//   dQ: scf.forall over (batch, query head, query tile); an scf.for over
//       the key tiles the tile can see (block skipping) recomputes
//       P = exp(t - LSE) from the saved LSE, dP = dO V^T and
//       dS = P (dP - D) (times the softcap's derivative) and accumulates
//       dS K;
//   dK, dV: scf.forall over (batch, KV head, key tile); scf.for loops over
//       the query heads of the group and the query tiles that see the key
//       tile (MaskGeometry::queryTiles) accumulate dS^T Q and P^T dO, so
//       that GQA's sum over the group needs no second pass.
// The same two-pass split as the GPU kernels (attn-map-to-gpu). A schedule
// with all-zero tiles is left to the decomposition.
//
//===----------------------------------------------------------------------===//

#include "TileUtils.h"

#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Dialect/Attn/Utils/MaskGeometry.h"
#include "attn/Tuning/Tuning.h"

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::detail;

namespace {

/// The causal and window masks of `op`, for MaskGeometry.
MaskSpec maskSpecOf(AttentionGradOp op) {
  MaskSpec mask;
  mask.causal = op.getCausal();
  if (std::optional<ArrayRef<int64_t>> w = op.getWindow())
    mask.window = std::make_pair((*w)[0], (*w)[1]);
  return mask;
}

/// Writes the two passes of one attention_grad op.
class GradTiler {
public:
  GradTiler(AttentionGradOp op, GenericBuilder &gb, IndexMath &im, Value scale,
            SmallVector<OpFoldResult> qs, SmallVector<OpFoldResult> ks,
            SmallVector<OpFoldResult> vs, Value delta, int64_t bm, int64_t bn,
            int64_t group, Type elt)
      : op(op), gb(gb), im(im), b(gb.b), loc(op.getLoc()),
        ctx(b.getContext()), one(b.getIndexAttr(1)), zero(b.getIndexAttr(0)),
        scale(scale), qs(std::move(qs)), ks(std::move(ks)), vs(std::move(vs)),
        delta(delta), m(im.v(this->qs[2])), n(im.v(this->ks[2])), bm(bm),
        bn(bn), group(group), elt(elt) {}


  /// The tiles one step of either pass reads: query rows [m0, m0 + mSize)
  /// of head h and keys [n0, n0 + nSize) of its KV head.
  struct TileStep {
    Value b, h, kvHead, m0, n0;
    OpFoldResult mSize, nSize;
  };

  /// P and dS ([mSize, nSize] f32, dS without the scale) of one tile step.
  std::pair<Value, Value> tileGradient(const TileStep &t, Value qTile,
                                       Value kTile, Value vTile,
                                       Value doTile) {
    SmallVector<OpFoldResult> tile = {t.mSize, t.nSize};
    SmallVector<AffineExpr> ij = allDims(ctx, 2), i = dims(ctx, {0});
    auto parallel2 = SmallVector<IteratorType>(2, IteratorType::parallel);

    // Loops (i, j, d): s = q k^T and dp = dO v^T.
    auto contract = [&](Value a, Value bt) {
      return gb.generic({a, bt}, {gb.filled(tile, 0.0)}, 3,
                        {dims(ctx, {0, 2}), dims(ctx, {1, 2}), ij},
                        iteratorsWithReduction(3, {2}), mulAddF32)[0];
    };
    Value scores = contract(qTile, kTile);
    Value dp = contract(doTile, vTile);
    Value lseTile =
        extractTile(b, loc, op.getLse(), {t.b, t.h, t.m0},
                    {one, one, t.mSize}, {2});
    Value deltaTile = extractTile(b, loc, delta, {t.b, t.h, t.m0},
                                  {one, one, t.mSize}, {2});
    Value maskTile;
    if (Value mask = op.getMask()) {
      auto maskType = cast<RankedTensorType>(mask.getType());
      if (maskType.getRank() == 2) {
        maskTile = extractTile(b, loc, mask, {t.m0, t.n0}, tile, {0, 1});
      } else {
        Value mb = maskType.getDimSize(0) == 1 ? im.c(0) : t.b;
        Value mh = maskType.getDimSize(1) == 1 ? im.c(0) : t.h;
        maskTile = extractTile(b, loc, mask, {mb, mh, t.m0, t.n0},
                               {one, one, t.mSize, t.nSize}, {2, 3});
      }
    }

    // rel = key - diagonal = (n0 + j) - (m0 + i + N - M).
    std::optional<double> cap = toDouble(op.getSoftcap());
    bool causal = op.getCausal();
    std::optional<ArrayRef<int64_t>> window = op.getWindow();
    Value diagMinusN0;
    if (causal || window)
      diagMinusN0 = im.sub(
          im.add(t.m0, im.sub(im.v(ks[2]), im.v(qs[2]))), t.n0);
    SmallVector<Value> inputs = {scores, dp, lseTile, deltaTile};
    SmallVector<SmallVector<AffineExpr>> exprs = {ij, ij, i, i};
    if (maskTile) {
      inputs.push_back(maskTile);
      exprs.push_back(ij);
    }
    exprs.push_back(ij);
    exprs.push_back(ij);
    SmallVector<Value> pds = gb.generic(
        inputs, {gb.empty(tile, gb.f32), gb.empty(tile, gb.f32)}, 2, exprs,
        parallel2, [&](OpBuilder &b, Location loc, ValueRange a) {
          Value s = transformScore(b, loc, a[0], scale, cap,
                                   maskTile ? a[4] : Value());
          if (diagMinusN0) {
            Value rel = arith::SubIOp::create(
                b, loc,
                arith::SubIOp::create(b, loc, linalg::IndexOp::create(b, loc, 1),
                                      linalg::IndexOp::create(b, loc, 0)),
                diagMinusN0);
            s = hideOutsideVisible(b, loc, s, rel, causal, window);
          }
          // p = exp(t - lse), 0 where t = -inf (every key of a row that
          // sees none, whose lse is -inf, too).
          Value negInf =
              f32Const(b, loc, -std::numeric_limits<double>::infinity());
          Value hidden =
              arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, s, negInf);
          Value zero = f32Const(b, loc, 0.0);
          Value p = arith::SelectOp::create(
              b, loc, hidden, zero,
              math::ExpOp::create(b, loc, arith::SubFOp::create(b, loc, s, a[2])));
          Value ds = arith::MulFOp::create(
              b, loc, p, arith::SubFOp::create(b, loc, a[1], a[3]));
          if (cap) {
            // 1 - tanh^2 at the scaled raw score.
            Value th = math::TanhOp::create(
                b, loc,
                arith::DivFOp::create(b, loc,
                                      arith::MulFOp::create(b, loc, a[0], scale),
                                      f32Const(b, loc, *cap)));
            ds = arith::MulFOp::create(
                b, loc, ds,
                arith::SubFOp::create(b, loc, f32Const(b, loc, 1.0),
                                      arith::MulFOp::create(b, loc, th, th)));
          }
          linalg::YieldOp::create(b, loc, ValueRange{p, ds});
        });
    return {pds[0], pds[1]};
  }

  /// The [rows, cols] f32 accumulator `acc`, times `factor` (or not), in the
  /// element type `elt`.
  Value finish(Value acc, ArrayRef<OpFoldResult> sizes, Value factor) {
        return gb.generic(
        {acc}, {gb.empty(sizes, elt)}, 2, {allDims(ctx, 2), allDims(ctx, 2)},
        SmallVector<IteratorType>(2, IteratorType::parallel),
        [&](OpBuilder &b, Location loc, ValueRange a) {
          Value r = factor ? arith::MulFOp::create(b, loc, a[0], factor)
                           : a[0];
          linalg::YieldOp::create(b, loc, ValueRange{fromF32(b, loc, r, elt)});
        })[0];
  }

  Value buildQueryGradient() {
    auto forall = scf::ForallOp::create(
        b, loc,
        {qs[0], qs[1], OpFoldResult(im.ceilDiv(m, im.c(bm)))},
        {gb.empty(qs, elt)}, std::nullopt);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(forall.getBody());
    TileStep t;
    t.b = forall.getInductionVars()[0];
    t.h = forall.getInductionVars()[1];
    t.kvHead = im.floorDiv(t.h, im.c(group));
    t.m0 = im.mul(forall.getInductionVars()[2], im.c(bm));
    t.mSize = im.tileSize(qs[2], t.m0, bm);
    Value qTile = extractTile(b, loc, op.getQuery(), {t.b, t.h, t.m0, zero},
                              {one, one, t.mSize, qs[3]}, {2, 3});
    Value doTile =
        extractTile(b, loc, op.getGradOutput(), {t.b, t.h, t.m0, zero},
                    {one, one, t.mSize, vs[3]}, {2, 3});

    // The keys any row of the tile sees; other key tiles are skipped.
    TileIndexMath tm{im, b, loc};
    MaskGeometry<TileIndexMath> geometry(tm, maskSpecOf(op), m, n);
    Value qLast = im.sub(im.add(t.m0, im.v(t.mSize)), im.c(1));
    auto [lo, hi] = geometry.visibleKeys(t.m0, qLast);
    auto [tileFirst, tileEnd] = geometry.keyTiles(t.m0, qLast, bn);
    (void)lo;
    (void)tileEnd;
    SmallVector<OpFoldResult> accSizes = {t.mSize, qs[3]};
    auto loop = scf::ForOp::create(b, loc, im.mul(tileFirst, im.c(bn)), hi,
                                   im.c(bn),
                                   ValueRange{gb.filled(accSizes, 0.0)});
    {
      OpBuilder::InsertionGuard inner(b);
      b.setInsertionPointToStart(loop.getBody());
      t.n0 = loop.getInductionVar();
      t.nSize = im.tileSize(ks[2], t.n0, bn);
      Value kTile = extractTile(b, loc, op.getKey(), {t.b, t.kvHead, t.n0, zero},
                                {one, one, t.nSize, ks[3]}, {2, 3});
      Value vTile =
          extractTile(b, loc, op.getValue(), {t.b, t.kvHead, t.n0, zero},
                      {one, one, t.nSize, vs[3]}, {2, 3});
      Value ds = tileGradient(t, qTile, kTile, vTile, doTile).second;
      // Loops (i, d, j): dq += ds k.
      Value acc = gb.generic(
          {ds, kTile}, {loop.getRegionIterArgs()[0]}, 3,
          {dims(ctx, {0, 2}), dims(ctx, {2, 1}), dims(ctx, {0, 1})},
          iteratorsWithReduction(3, {2}), mulAddF32)[0];
      scf::YieldOp::create(b, loc, ValueRange{acc});
    }
    Value dqTile = finish(loop.getResult(0), accSizes, scale);
    b.setInsertionPointToStart(forall.getTerminator().getBody());
    parallelInsertTile(b, loc, dqTile, forall.getRegionIterArgs()[0],
                       {t.b, t.h, t.m0, zero}, {one, one, t.mSize, qs[3]});
    return forall.getResult(0);
  }

  SmallVector<Value> buildKeyValueGradient() {
    auto forall = scf::ForallOp::create(
        b, loc, {ks[0], ks[1], OpFoldResult(im.ceilDiv(n, im.c(bn)))},
        {gb.empty(ks, elt), gb.empty(vs, elt)}, std::nullopt);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(forall.getBody());
    TileStep t;
    t.b = forall.getInductionVars()[0];
    t.kvHead = forall.getInductionVars()[1];
    t.n0 = im.mul(forall.getInductionVars()[2], im.c(bn));
    t.nSize = im.tileSize(ks[2], t.n0, bn);
    Value kTile = extractTile(b, loc, op.getKey(), {t.b, t.kvHead, t.n0, zero},
                              {one, one, t.nSize, ks[3]}, {2, 3});
    Value vTile = extractTile(b, loc, op.getValue(), {t.b, t.kvHead, t.n0, zero},
                              {one, one, t.nSize, vs[3]}, {2, 3});

    // The queries that see some key of the tile; other query tiles are
    // skipped.
    TileIndexMath tm{im, b, loc};
    MaskGeometry<TileIndexMath> geometry(tm, maskSpecOf(op), m, n);
    Value nLast = im.sub(im.add(t.n0, im.v(t.nSize)), im.c(1));
    auto [qFirst, qEnd] = geometry.visibleQueries(t.n0, nLast);
    Value start = im.mul(im.floorDiv(qFirst, im.c(bm)), im.c(bm));
    SmallVector<OpFoldResult> kSizes = {t.nSize, ks[3]},
                              vSizes = {t.nSize, vs[3]};
    auto heads = scf::ForOp::create(
        b, loc, im.c(0), im.c(group), im.c(1),
        ValueRange{gb.filled(kSizes, 0.0), gb.filled(vSizes, 0.0)});
    {
      OpBuilder::InsertionGuard inHeads(b);
      b.setInsertionPointToStart(heads.getBody());
      t.h = im.add(im.mul(t.kvHead, im.c(group)), heads.getInductionVar());
      auto rows = scf::ForOp::create(b, loc, start, qEnd, im.c(bm),
                                     heads.getRegionIterArgs());
      {
        OpBuilder::InsertionGuard inRows(b);
        b.setInsertionPointToStart(rows.getBody());
        t.m0 = rows.getInductionVar();
        t.mSize = im.tileSize(qs[2], t.m0, bm);
        Value qTile =
            extractTile(b, loc, op.getQuery(), {t.b, t.h, t.m0, zero},
                        {one, one, t.mSize, qs[3]}, {2, 3});
        Value doTile =
            extractTile(b, loc, op.getGradOutput(), {t.b, t.h, t.m0, zero},
                        {one, one, t.mSize, vs[3]}, {2, 3});
        auto [p, ds] = tileGradient(t, qTile, kTile, vTile, doTile);
        // Loops (j, d, i): dk += ds^T q; dv += p^T dO.
        auto accumulate = [&](Value g, Value x, Value acc) {
          return gb.generic(
              {g, x}, {acc}, 3,
              {dims(ctx, {2, 0}), dims(ctx, {2, 1}), dims(ctx, {0, 1})},
              iteratorsWithReduction(3, {2}), mulAddF32)[0];
        };
        ValueRange acc = rows.getRegionIterArgs();
        scf::YieldOp::create(b, loc,
                             ValueRange{accumulate(ds, qTile, acc[0]),
                                        accumulate(p, doTile, acc[1])});
      }
      scf::YieldOp::create(b, loc, rows.getResults());
    }
    Value dkTile = finish(heads.getResult(0), kSizes, scale);
    Value dvTile = finish(heads.getResult(1), vSizes, Value());
    b.setInsertionPointToStart(forall.getTerminator().getBody());
    parallelInsertTile(b, loc, dkTile, forall.getRegionIterArgs()[0],
                       {t.b, t.kvHead, t.n0, zero},
                       {one, one, t.nSize, ks[3]});
    parallelInsertTile(b, loc, dvTile, forall.getRegionIterArgs()[1],
                       {t.b, t.kvHead, t.n0, zero},
                       {one, one, t.nSize, vs[3]});
    return {forall.getResult(0), forall.getResult(1)};
  }

private:
  AttentionGradOp op;
  GenericBuilder &gb;
  IndexMath &im;
  OpBuilder &b;
  Location loc;
  MLIRContext *ctx;
  OpFoldResult one, zero;
  Value scale;
  SmallVector<OpFoldResult> qs, ks, vs;
  Value delta, m, n;
  int64_t bm, bn, group;
  Type elt;
};

struct TileAttentionGrad : OpRewritePattern<AttentionGradOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(AttentionGradOp op,
                                PatternRewriter &rewriter) const override {
    ScheduleAttr schedule = getScheduleOrDefault(op);
    int64_t bm = schedule.getBlockM(), bn = schedule.getBlockN();
    if (bm == 0 || bn == 0)
      return rewriter.notifyMatchFailure(op, "untiled schedule");
    Value q = op.getQuery(), k = op.getKey(), v = op.getValue();
    auto qType = cast<RankedTensorType>(q.getType());
    int64_t hq = qType.getDimSize(1),
            hkv = cast<RankedTensorType>(k.getType()).getDimSize(1);
    if (ShapedType::isDynamic(hq) || ShapedType::isDynamic(hkv))
      return rewriter.notifyMatchFailure(op, "head counts must be static");
    int64_t group = hq / hkv;

    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    GenericBuilder gb(rewriter, loc);
    IndexMath im(rewriter, loc);
    Type elt = qType.getElementType();
    SmallVector<OpFoldResult> qs = tensor::getMixedSizes(rewriter, loc, q);
    SmallVector<OpFoldResult> ks = tensor::getMixedSizes(rewriter, loc, k);
    SmallVector<OpFoldResult> vs = tensor::getMixedSizes(rewriter, loc, v);
    Value scale = attentionScale(rewriter, loc, q, op.getScale());

    // D = rowsum(dO * O): loops (b, h, i, e).
    Value delta =
        gb.generic({op.getGradOutput(), op.getOutput()},
                   {gb.filled({qs[0], qs[1], qs[2]}, 0.0)}, 4,
                   {allDims(ctx, 4), allDims(ctx, 4), dims(ctx, {0, 1, 2})},
                   iteratorsWithReduction(4, {3}), mulAddF32)[0];

    GradTiler tiler(op, gb, im, scale, qs, ks, vs, delta, bm, bn, group, elt);
    Value dq = tiler.buildQueryGradient();
    SmallVector<Value> dkv = tiler.buildKeyValueGradient();
    rewriter.replaceOp(op, {dq, dkv[0], dkv[1]});
    return success();
  }
};

} // namespace

void mlir::attn::detail::populateTileAttentionGradPatterns(
    RewritePatternSet &patterns) {
  patterns.add<TileAttentionGrad>(patterns.getContext());
}
