//===- TileLosses.cpp - one-pass cross-entropy, Cut-Cross-Entropy ---------===//
//
// attn.cross_entropy -> scf.forall over token blocks, each streaming the
// vocabulary in tiles once: the online log-sum-exp, the target logit, the
// sum of logits (label smoothing) and then z-loss come from that one pass.
//
// attn.linear_cross_entropy -> the same, where each [block_m, block_n]
// logits tile is computed from a hidden tile and a weight tile (contracted
// block_d columns at a time) and folded into the running state at once: no
// [N, V] buffer exists at any point (Cut Cross-Entropy).
//
// attn.linear_cross_entropy_grad -> Cut Cross-Entropy's backward: the
// logits tiles recomputed, their gradient formed tile by tile, dh, dW and
// dbias accumulated in f32; again no [N, V] buffer.
//
//===----------------------------------------------------------------------===//

#include "LossMath.h"
#include "TileUtils.h"

#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Tuning/Tuning.h"

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::detail;

namespace {

/// What one pass over a row's logits accumulates.
struct LossState {
  OnlineSoftmaxState softmax;
  Value target; // the label's logit (0 until its tile is seen)
  Value sum;    // the sum of the logits, for label smoothing
};

/// Common driver of the two loss ops: the forall over token blocks, the
/// loop over vocabulary tiles, the per-token loss and the reduction.
/// `logitsTile(n0, nSize, v0, vSize)` builds one f32 logits tile (before
/// soft-capping).
template <typename LossOp>
LogicalResult
tileLoss(LossOp op, PatternRewriter &rewriter, OpFoldResult numTokens,
         OpFoldResult vocab,
         function_ref<Value(Value, OpFoldResult, Value, OpFoldResult)> logitsTile) {
  Location loc = op.getLoc();
  GenericBuilder gb(rewriter, loc);
  IndexMath im(rewriter, loc);
  MLIRContext *ctx = rewriter.getContext();
  ScheduleAttr schedule = getScheduleOrDefault(op);
  int64_t split = schedule.getSplit();
  Value labels = op.getLabels();
  Value nV = im.v(numTokens), vV = im.v(vocab);
  Value blockM = im.c(schedule.getBlockM()), blockN = im.c(schedule.getBlockN());
  std::optional<double> cap = toDouble(op.getSoftcap());

  // Parallel over (vocabulary split, token block); each writes its partial
  // state (max, sum of exp, target logit, logit sum), [split, N] each. With
  // split-V several blocks share a row's vocabulary and the combine below
  // merges them; with split = 1 it is a no-op reduction over one split.
  OpFoldResult splits = rewriter.getIndexAttr(split);
  SmallVector<Value> inits;
  for (int i = 0; i < 4; ++i)
    inits.push_back(gb.empty({splits, numTokens}, gb.f32));
  auto forall = scf::ForallOp::create(
      rewriter, loc, {splits, OpFoldResult(im.ceilDiv(nV, blockM))}, inits,
      std::nullopt);
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPointToStart(forall.getBody());
  Value splitIdx = forall.getInductionVars()[0];
  Value n0 = im.mul(forall.getInductionVars()[1], blockM);
  OpFoldResult nSize = im.tileSize(numTokens, n0, schedule.getBlockM());
  SmallVector<OpFoldResult> rows = {nSize};
  Value labelTile = extractTile(rewriter, loc, labels, {n0}, {nSize}, {0});
  double negInf = -std::numeric_limits<double>::infinity();

  SmallVector<Value> iterInit = {gb.filled(rows, negInf), gb.filled(rows, 0.0),
                                 gb.filled(rows, 0.0), gb.filled(rows, 0.0)};
  // This split's run of ceil(tiles / split) vocabulary tiles.
  Value chunk = im.mul(im.ceilDiv(im.ceilDiv(vV, blockN), im.c(split)), blockN);
  Value vStart = im.mul(splitIdx, chunk);
  Value vEnd = im.min(vV, im.add(vStart, chunk));
  auto loop = scf::ForOp::create(rewriter, loc, vStart, vEnd, blockN, iterInit);
  rewriter.setInsertionPointToStart(loop.getBody());
  {
    Value v0 = loop.getInductionVar();
    OpFoldResult vSize = im.tileSize(vocab, v0, schedule.getBlockN());
    SmallVector<OpFoldResult> tile = {nSize, vSize};
    Value z = logitsTile(n0, nSize, v0, vSize);
    if (cap)
      z = gb.generic({z}, {gb.empty(tile, gb.f32)}, 2,
                     {allDims(ctx, 2), allDims(ctx, 2)},
                     {IteratorType::parallel, IteratorType::parallel},
                     [&](OpBuilder &b, Location loc, ValueRange a) {
                       linalg::YieldOp::create(
                           b, loc, ValueRange{softcap(b, loc, a[0], *cap)});
                     })[0];
    ValueRange carried = loop.getRegionIterArgs();
    OnlineSoftmaxState next = foldTile(gb, {carried[0], carried[1]}, z, tile,
                                       /*base2=*/false, nullptr, nullptr);
    // The target logit (the label's column, if it is in this tile) and the
    // sum of the logits.
    SmallVector<Value> picked = gb.generic(
        {z, labelTile}, {carried[2], carried[3]}, 2,
        {allDims(ctx, 2), dims(ctx, {0}), dims(ctx, {0}), dims(ctx, {0})},
        iteratorsWithReduction(2, {1}),
        [&](OpBuilder &b, Location loc, ValueRange a) {
          Value col = arith::AddIOp::create(
              b, loc, linalg::IndexOp::create(b, loc, 1), v0);
          Value colI = arith::IndexCastOp::create(b, loc, a[1].getType(), col);
          Value hit = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                            colI, a[1]);
          Value t = arith::SelectOp::create(b, loc, hit, a[0],
                                            f32Const(b, loc, 0.0));
          linalg::YieldOp::create(
              b, loc,
              ValueRange{arith::AddFOp::create(b, loc, a[2], t),
                         arith::AddFOp::create(b, loc, a[3], a[0])});
        });
    scf::YieldOp::create(rewriter, loc,
                         ValueRange{next.max, next.sum, picked[0], picked[1]});
  }
  rewriter.setInsertionPointAfter(loop);

  rewriter.setInsertionPointToStart(forall.getTerminator().getBody());
  for (unsigned i = 0; i < 4; ++i)
    parallelInsertTile(rewriter, loc, loop.getResult(i),
                       forall.getRegionIterArgs()[i], {splitIdx, n0},
                       {rewriter.getIndexAttr(1), nSize});
  rewriter.setInsertionPointAfter(forall);

  // Combine the splits: max over splits, sums rescaled to it, target and
  // logit sums added. Loops (n, s).
  SmallVector<OpFoldResult> tokens = {numTokens};
  SmallVector<AffineExpr> sn = dims(ctx, {1, 0}), n = dims(ctx, {0});
  SmallVector<Value> state = gb.generic(
      forall.getResults(),
      {gb.filled(tokens, negInf), gb.filled(tokens, 0.0),
       gb.filled(tokens, 0.0), gb.filled(tokens, 0.0)},
      2, {sn, sn, sn, sn, n, n, n, n}, iteratorsWithReduction(2, {1}),
      [](OpBuilder &b, Location loc, ValueRange a) {
        Value m = arith::MaximumFOp::create(b, loc, a[4], a[0]);
        Value safe = safeMax(b, loc, m);
        auto rescale = [&](Value sum, Value max) {
          return arith::MulFOp::create(
              b, loc, sum,
              math::ExpOp::create(b, loc,
                                  arith::SubFOp::create(b, loc, max, safe)));
        };
        Value l = arith::AddFOp::create(b, loc, rescale(a[5], a[4]),
                                        rescale(a[1], a[0]));
        linalg::YieldOp::create(
            b, loc,
            ValueRange{m, l, arith::AddFOp::create(b, loc, a[6], a[2]),
                       arith::AddFOp::create(b, loc, a[7], a[3])});
      });

  // Per-token loss and lse, as in the op's definition, and the reduction.
  replaceLossOp(rewriter, op, gb, state[0], state[1], state[2], state[3],
                vocab, tokens);
  return success();
}

struct TileCrossEntropy : OpRewritePattern<CrossEntropyOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(CrossEntropyOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value logits = op.getLogits();
    SmallVector<OpFoldResult> sizes =
        tensor::getMixedSizes(rewriter, loc, logits);
    return tileLoss(op, rewriter, sizes[0], sizes[1],
                    [&](Value n0, OpFoldResult nSize, Value v0, OpFoldResult vSize) {
                      GenericBuilder gb(rewriter, loc);
                      MLIRContext *ctx = rewriter.getContext();
                      Value t = extractTile(rewriter, loc, logits, {n0, v0},
                                            {nSize, vSize}, {0, 1});
                      return gb.generic(
                          {t}, {gb.empty({nSize, vSize}, gb.f32)}, 2,
                          {allDims(ctx, 2), allDims(ctx, 2)},
                          {IteratorType::parallel, IteratorType::parallel},
                          [](OpBuilder &b, Location loc, ValueRange a) {
                            linalg::YieldOp::create(
                                b, loc, ValueRange{toF32(b, loc, a[0])});
                          })[0];
                    });
  }
};

/// One [nSize, vSize] f32 tile of hidden @ weight^T (+ bias), contracted
/// block_d columns at a time: the forward's and the backward's tiles.
Value buildLinearLogitsTile(PatternRewriter &rewriter, Location loc,
                            Value hidden, Value weight, Value bias,
                            OpFoldResult hiddenSize, int64_t blockD, Value n0,
                            OpFoldResult nSize, Value v0, OpFoldResult vSize) {
  GenericBuilder gb(rewriter, loc);
  IndexMath im(rewriter, loc);
  MLIRContext *ctx = rewriter.getContext();
  SmallVector<OpFoldResult> tile = {nSize, vSize};
  // logits tile = sum over block_d chunks of h[n0.., d0..] w[v0.., d0..]^T.
  Value d = im.v(hiddenSize), bd = im.c(blockD);
  auto dLoop = scf::ForOp::create(rewriter, loc, im.c(0), d, bd,
                                  ValueRange{gb.filled(tile, 0.0)});
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPointToStart(dLoop.getBody());
  Value d0 = dLoop.getInductionVar();
  OpFoldResult dSize = im.tileSize(hiddenSize, d0, blockD);
  Value hTile =
      extractTile(rewriter, loc, hidden, {n0, d0}, {nSize, dSize}, {0, 1});
  Value wTile =
      extractTile(rewriter, loc, weight, {v0, d0}, {vSize, dSize}, {0, 1});
  Value acc = gb.generic(
      {hTile, wTile}, {dLoop.getRegionIterArgs()[0]}, 3,
      {dims(ctx, {0, 2}), dims(ctx, {1, 2}), dims(ctx, {0, 1})},
      iteratorsWithReduction(3, {2}), mulAddF32)[0];
  scf::YieldOp::create(rewriter, loc, ValueRange{acc});
  rewriter.setInsertionPointAfter(dLoop);
  return addBiasF32(gb, dLoop.getResult(0),
                    bias ? extractTile(rewriter, loc, bias, {v0}, {vSize}, {0})
                         : Value(),
                    tile);
}

struct TileLinearCrossEntropy : OpRewritePattern<LinearCrossEntropyOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LinearCrossEntropyOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value hidden = op.getHidden(), weight = op.getWeight(), bias = op.getBias();
    SmallVector<OpFoldResult> hs = tensor::getMixedSizes(rewriter, loc, hidden);
    SmallVector<OpFoldResult> ws = tensor::getMixedSizes(rewriter, loc, weight);
    int64_t blockD = getScheduleOrDefault(op).getBlockD();
    return tileLoss(
        op, rewriter, hs[0], ws[0],
        [&](Value n0, OpFoldResult nSize, Value v0, OpFoldResult vSize) {
          return buildLinearLogitsTile(rewriter, loc, hidden, weight, bias,
                                       hs[1], blockD, n0, nSize, v0, vSize);
        });
  }
};

/// linear_cross_entropy_grad -> the Cut-Cross-Entropy backward in two
/// deterministic passes (no atomics), neither holding more than one
/// [block_m, block_n] logits tile:
///   dh: a forall over token blocks; each streams the vocabulary tiles,
///       recomputes the logits tile as the forward does, forms its gradient
///       (buildLossGradElement, the formula of cross_entropy_grad) and
///       accumulates gz @ W_tile into an f32 [block_m, D] tile;
///   dW (and dbias): a forall over vocabulary blocks; each streams the
///       token tiles and accumulates gz^T @ h_tile (and the column sums).
/// The logits are computed twice in all (once per pass). A schedule with
/// all-zero tiles (the GPU's canonical one) is left to the decomposition.
struct TileLinearCrossEntropyGrad
    : OpRewritePattern<LinearCrossEntropyGradOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LinearCrossEntropyGradOp op,
                                PatternRewriter &rewriter) const override {
    ScheduleAttr schedule = getScheduleOrDefault(op);
    if (schedule.getBlockM() == 0)
      return failure();
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    GenericBuilder gb(rewriter, loc);
    IndexMath im(rewriter, loc);
    Value hidden = op.getHidden(), weight = op.getWeight(), bias = op.getBias();
    Value labels = op.getLabels(), lse = op.getLse();
    SmallVector<OpFoldResult> hs = tensor::getMixedSizes(rewriter, loc, hidden);
    SmallVector<OpFoldResult> ws = tensor::getMixedSizes(rewriter, loc, weight);
    OpFoldResult numTokens = hs[0], hiddenSize = hs[1], vocab = ws[0];
    int64_t bm = schedule.getBlockM(), bn = schedule.getBlockN();
    int64_t blockD = schedule.getBlockD();
    Type elt = op.getHidden().getType().getElementType();
    TokenUpstream upstream =
        buildTokenUpstream(gb, op.getGradLoss(), labels, op.getReduction(),
                           op.getIgnoreIndex());
    LossGradSpec spec = getLossGradSpec(op, rewriter, loc, vocab);
    SmallVector<AffineExpr> nv = allDims(ctx, 2);

    // The gradient of one logits tile [nSize, vSize], f32.
    auto gradTile = [&](Value n0, OpFoldResult nSize, Value v0,
                        OpFoldResult vSize) -> Value {
      Value z = buildLinearLogitsTile(rewriter, loc, hidden, weight, bias,
                                      hiddenSize, blockD, n0, nSize, v0, vSize);
      Value labelTile = extractTile(rewriter, loc, labels, {n0}, {nSize}, {0});
      Value lseTile = extractTile(rewriter, loc, lse, {n0}, {nSize}, {0});
      Value upTile = upstream.perToken
                         ? extractTile(rewriter, loc, upstream.value, {n0},
                                       {nSize}, {0})
                         : upstream.value;
      return buildLossGradTile(gb, spec, z, labelTile, lseTile,
                               {upTile, upstream.perToken}, {nSize, vSize},
                               v0, gb.f32);
    };
    auto toElt = [&](Value acc, ArrayRef<OpFoldResult> sizes) {
      return castElements(gb, acc, sizes, elt);
    };
    // Gradient filtering: a tile whose gradient elements were all filtered
    // to 0 skips its products (`update`), and the accumulators pass on.
    auto unlessFiltered = [&](Value gz,
                              function_ref<SmallVector<Value>()> update,
                              ValueRange accs) -> SmallVector<Value> {
      if (!spec.filter)
        return update();
      Value largest = gb.generic(
          {gz}, {gb.filled({}, 0.0)}, 2, {nv, {}},
          iteratorsWithReduction(2, {0, 1}),
          [](OpBuilder &b, Location loc, ValueRange a) {
            linalg::YieldOp::create(
                b, loc,
                ValueRange{arith::MaximumFOp::create(
                    b, loc, a[1], math::AbsFOp::create(b, loc, a[0]))});
          })[0];
      Value live = arith::CmpFOp::create(
          rewriter, loc, arith::CmpFPredicate::OGT,
          tensor::ExtractOp::create(rewriter, loc, largest, ValueRange{}),
          f32Const(rewriter, loc, 0.0));
      auto ifOp = scf::IfOp::create(
          rewriter, loc, live,
          [&](OpBuilder &, Location) {
            scf::YieldOp::create(rewriter, loc, update());
          },
          [&](OpBuilder &, Location) {
            scf::YieldOp::create(rewriter, loc, accs);
          });
      return SmallVector<Value>(ifOp.getResults());
    };
    OpFoldResult zero = rewriter.getIndexAttr(0);

    // dh: parallel over token blocks, streaming the vocabulary.
    Value dh;
    {
      auto forall = scf::ForallOp::create(
          rewriter, loc, {OpFoldResult(im.ceilDiv(im.v(numTokens), im.c(bm)))},
          {gb.empty({numTokens, hiddenSize}, elt)}, std::nullopt);
      OpBuilder::InsertionGuard guard(rewriter);
      rewriter.setInsertionPointToStart(forall.getBody());
      Value n0 = im.mul(forall.getInductionVars()[0], im.c(bm));
      OpFoldResult nSize = im.tileSize(numTokens, n0, bm);
      auto loop = scf::ForOp::create(
          rewriter, loc, im.c(0), im.v(vocab), im.c(bn),
          ValueRange{gb.filled({nSize, hiddenSize}, 0.0)});
      rewriter.setInsertionPointToStart(loop.getBody());
      Value v0 = loop.getInductionVar();
      OpFoldResult vSize = im.tileSize(vocab, v0, bn);
      Value gz = gradTile(n0, nSize, v0, vSize);
      Value wTile = extractTile(rewriter, loc, weight, {v0, zero},
                                {vSize, hiddenSize}, {0, 1});
      // Loops (n, d, v): dh += gz W.
      SmallVector<Value> acc = unlessFiltered(
          gz,
          [&]() -> SmallVector<Value> {
            return {gb.generic({gz, wTile}, {loop.getRegionIterArgs()[0]}, 3,
                               {dims(ctx, {0, 2}), dims(ctx, {2, 1}),
                                dims(ctx, {0, 1})},
                               iteratorsWithReduction(3, {2}),
                               mulAddF32)[0]};
          },
          loop.getRegionIterArgs());
      scf::YieldOp::create(rewriter, loc, acc);
      rewriter.setInsertionPointAfter(loop);
      Value tile = toElt(loop.getResult(0), {nSize, hiddenSize});
      rewriter.setInsertionPointToStart(forall.getTerminator().getBody());
      parallelInsertTile(rewriter, loc, tile, forall.getRegionIterArgs()[0],
                         {n0, zero}, {nSize, hiddenSize});
      dh = forall.getResult(0);
    }

    // dW (and dbias): parallel over vocabulary blocks, streaming the tokens.
    SmallVector<Value> results = {dh};
    {
      SmallVector<Value> outs = {gb.empty({vocab, hiddenSize}, elt)};
      if (bias)
        outs.push_back(gb.empty({vocab}, elt));
      auto forall = scf::ForallOp::create(
          rewriter, loc, {OpFoldResult(im.ceilDiv(im.v(vocab), im.c(bn)))},
          outs, std::nullopt);
      OpBuilder::InsertionGuard guard(rewriter);
      rewriter.setInsertionPointToStart(forall.getBody());
      Value v0 = im.mul(forall.getInductionVars()[0], im.c(bn));
      OpFoldResult vSize = im.tileSize(vocab, v0, bn);
      SmallVector<Value> init = {gb.filled({vSize, hiddenSize}, 0.0)};
      if (bias)
        init.push_back(gb.filled({vSize}, 0.0));
      auto loop = scf::ForOp::create(rewriter, loc, im.c(0), im.v(numTokens),
                                     im.c(bm), init);
      rewriter.setInsertionPointToStart(loop.getBody());
      Value n0 = loop.getInductionVar();
      OpFoldResult nSize = im.tileSize(numTokens, n0, bm);
      Value gz = gradTile(n0, nSize, v0, vSize);
      Value hTile = extractTile(rewriter, loc, hidden, {n0, zero},
                                {nSize, hiddenSize}, {0, 1});
      auto products = [&]() {
        // Loops (v, d, n): dW += gz^T h.
        SmallVector<Value> next = {gb.generic(
            {gz, hTile}, {loop.getRegionIterArgs()[0]}, 3,
            {dims(ctx, {2, 0}), dims(ctx, {2, 1}), dims(ctx, {0, 1})},
            iteratorsWithReduction(3, {2}), mulAddF32)[0]};
        if (bias)
          // Loops (v, n): dbias += the column sums of gz.
          next.push_back(gb.generic(
              {gz}, {loop.getRegionIterArgs()[1]}, 2,
              {dims(ctx, {1, 0}), dims(ctx, {0})},
              iteratorsWithReduction(2, {1}),
              [](OpBuilder &b, Location loc, ValueRange a) {
                linalg::YieldOp::create(
                    b, loc,
                    ValueRange{arith::AddFOp::create(b, loc, a[1], a[0])});
              })[0]);
        return next;
      };
      scf::YieldOp::create(
          rewriter, loc,
          unlessFiltered(gz, products, loop.getRegionIterArgs()));
      rewriter.setInsertionPointAfter(loop);
      SmallVector<Value> tiles = {
          toElt(loop.getResult(0), {vSize, hiddenSize})};
      if (bias)
        tiles.push_back(toElt(loop.getResult(1), {vSize}));
      rewriter.setInsertionPointToStart(forall.getTerminator().getBody());
      parallelInsertTile(rewriter, loc, tiles[0],
                         forall.getRegionIterArgs()[0], {v0, zero},
                         {vSize, hiddenSize});
      if (bias)
        parallelInsertTile(rewriter, loc, tiles[1],
                           forall.getRegionIterArgs()[1], {v0}, {vSize});
      results.append(forall.getResults().begin(), forall.getResults().end());
    }
    rewriter.replaceOp(op, results);
    return success();
  }
};

} // namespace

void mlir::attn::detail::populateTileLossPatterns(RewritePatternSet &patterns) {
  patterns.add<TileCrossEntropy, TileLinearCrossEntropy,
               TileLinearCrossEntropyGrad>(patterns.getContext());
}
