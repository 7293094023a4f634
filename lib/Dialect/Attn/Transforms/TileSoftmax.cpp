//===- TileSoftmax.cpp - softmax family with the online normalizer --------===//
//
// attn.softmax / log_softmax / logsumexp -> scf.forall over blocks of rows.
// With one pass (the whole row fits the schedule's tile) each row tile is
// read once: its max, sum and output come from the same tile. With two
// passes, the first streams column tiles through the online normalizer
// (running max and rescaled sum, one read), the second writes the output.
// exp(x) exists only as a tile.
//
// The rows are the reduced dim made last: other dims are collapsed into one
// row dim; a reduced dim that is not last is first transposed to last (a
// copy: documented in docs/Tiling.md).
//
//===----------------------------------------------------------------------===//

#include "TileUtils.h"

#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Tuning/Tuning.h"

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::detail;

namespace {

enum class Kind { softmax, logSoftmax, logSumExp };

/// Moves dim `d` of `x` to the last position (linalg.transpose) if needed.
Value moveDimLast(OpBuilder &b, Location loc, Value x, int64_t d,
                  SmallVector<int64_t> &perm) {
  auto type = cast<RankedTensorType>(x.getType());
  int64_t r = type.getRank();
  perm.clear();
  for (int64_t i = 0; i < r; ++i)
    if (i != d)
      perm.push_back(i);
  perm.push_back(d);
  if (d == r - 1)
    return x;
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, x);
  SmallVector<OpFoldResult> permuted;
  for (int64_t p : perm)
    permuted.push_back(sizes[p]);
  Value init = tensor::EmptyOp::create(b, loc, permuted, type.getElementType());
  return linalg::TransposeOp::create(b, loc, x, init, perm).getResult()[0];
}

template <typename OpTy, Kind kind>
struct TileSoftmaxFamily : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;

  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    GenericBuilder gb(rewriter, loc);
    IndexMath im(rewriter, loc);
    MLIRContext *ctx = rewriter.getContext();
    ScheduleAttr schedule = getScheduleOrDefault(op);
    auto inType = op.getInput().getType();
    Type elt = inType.getElementType();
    int64_t rank = inType.getRank();

    // View the input as [rows, cols] with the reduced dim last.
    SmallVector<int64_t> perm;
    Value x = moveDimLast(rewriter, loc, op.getInput(), op.getDim(), perm);
    auto xType = cast<RankedTensorType>(x.getType());
    Value x2;
    if (rank == 1) {
      x2 = tensor::ExpandShapeOp::create(
          rewriter, loc,
          RankedTensorType::get({1, xType.getDimSize(0)}, elt), x,
          SmallVector<ReassociationIndices>{{0, 1}},
          SmallVector<OpFoldResult>{rewriter.getIndexAttr(1),
                                    tensor::getMixedSize(rewriter, loc, x, 0)});
    } else {
      ReassociationIndices rowsGroup;
      for (int64_t i = 0; i < rank - 1; ++i)
        rowsGroup.push_back(i);
      x2 = tensor::CollapseShapeOp::create(
          rewriter, loc, x,
          SmallVector<ReassociationIndices>{rowsGroup, {rank - 1}});
    }
    SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(rewriter, loc, x2);
    Value rowsV = im.v(sizes[0]), cols = im.v(sizes[1]);
    Value blockM = im.c(schedule.getBlockM());
    Value blockN = im.c(schedule.getBlockN());
    bool onePass = schedule.getPasses() == 1;

    Value init = kind == Kind::logSumExp ? gb.empty({sizes[0]}, gb.f32)
                                         : gb.empty(sizes, elt);
    auto forall = scf::ForallOp::create(
        rewriter, loc, {OpFoldResult(im.ceilDiv(rowsV, blockM))}, {init},
        std::nullopt);
    OpBuilder::InsertionGuard guard(rewriter);
    rewriter.setInsertionPointToStart(forall.getBody());
    Value r0 = im.mul(forall.getInductionVars()[0], blockM);
    OpFoldResult rSize = im.tileSize(sizes[0], r0, schedule.getBlockM());
    OpFoldResult zero = rewriter.getIndexAttr(0);
    SmallVector<OpFoldResult> rowSizes = {rSize};
    double negInf = -std::numeric_limits<double>::infinity();

    // Pass 1 (or the only pass): the online normalizer over column tiles.
    Value wholeRow;
    OnlineSoftmaxState state = {gb.filled(rowSizes, negInf),
                                gb.filled(rowSizes, 0.0)};
    if (onePass) {
      wholeRow = extractTile(rewriter, loc, x2, {r0, zero}, {rSize, sizes[1]},
                             {0, 1});
      Value f = toF32Tile(gb, wholeRow, {rSize, sizes[1]});
      state = foldTile(gb, state, f, {rSize, sizes[1]}, false, nullptr, nullptr);
    } else {
      auto loop = scf::ForOp::create(rewriter, loc, im.c(0), cols, blockN,
                                     ValueRange{state.max, state.sum});
      rewriter.setInsertionPointToStart(loop.getBody());
      Value c0 = loop.getInductionVar();
      OpFoldResult cSize = im.tileSize(sizes[1], c0, schedule.getBlockN());
      Value t = extractTile(rewriter, loc, x2, {r0, c0}, {rSize, cSize}, {0, 1});
      Value f = toF32Tile(gb, t, {rSize, cSize});
      OnlineSoftmaxState next =
          foldTile(gb,
                   {loop.getRegionIterArgs()[0], loop.getRegionIterArgs()[1]},
                   f, {rSize, cSize}, false, nullptr, nullptr);
      scf::YieldOp::create(rewriter, loc, ValueRange{next.max, next.sum});
      rewriter.setInsertionPointAfter(loop);
      state = {loop.getResult(0), loop.getResult(1)};
    }

    Value result;
    SmallVector<OpFoldResult> resultOffsets, resultSizes;
    if constexpr (kind == Kind::logSumExp) {
      result = gb.generic({state.max, state.sum}, {gb.empty(rowSizes, gb.f32)},
                          1, {allDims(ctx, 1), allDims(ctx, 1), allDims(ctx, 1)},
                          {IteratorType::parallel},
                          [](OpBuilder &b, Location loc, ValueRange a) {
                            Value l = arith::AddFOp::create(
                                b, loc, safeMax(b, loc, a[0]),
                                math::LogOp::create(b, loc, a[1]));
                            linalg::YieldOp::create(b, loc, ValueRange{l});
                          })[0];
      resultOffsets = {r0};
      resultSizes = {rSize};
    } else {
      // The output, tile by tile (one pass: from the tile already read).
      auto writeTile = [&](Value t, ArrayRef<OpFoldResult> tile) {
        return gb.generic(
            {t, state.max, state.sum}, {gb.empty(tile, elt)}, 2,
            {allDims(ctx, 2), dims(ctx, {0}), dims(ctx, {0}), allDims(ctx, 2)},
            {IteratorType::parallel, IteratorType::parallel},
            [elt](OpBuilder &b, Location loc, ValueRange a) {
              Value r = softmaxElement(b, loc, toF32(b, loc, a[0]), a[1], a[2],
                                       kind == Kind::logSoftmax);
              linalg::YieldOp::create(b, loc, ValueRange{fromF32(b, loc, r, elt)});
            })[0];
      };
      if (onePass) {
        result = writeTile(wholeRow, {rSize, sizes[1]});
      } else {
        Value rowBlock = gb.empty({rSize, sizes[1]}, elt);
        auto loop = scf::ForOp::create(rewriter, loc, im.c(0), cols, blockN,
                                       ValueRange{rowBlock});
        rewriter.setInsertionPointToStart(loop.getBody());
        Value c0 = loop.getInductionVar();
        OpFoldResult cSize = im.tileSize(sizes[1], c0, schedule.getBlockN());
        Value t =
            extractTile(rewriter, loc, x2, {r0, c0}, {rSize, cSize}, {0, 1});
        Value out = writeTile(t, {rSize, cSize});
        SmallVector<OpFoldResult> unit(2, rewriter.getIndexAttr(1));
        Value updated = tensor::InsertSliceOp::create(
            rewriter, loc, out, loop.getRegionIterArgs()[0],
            SmallVector<OpFoldResult>{zero, c0},
            SmallVector<OpFoldResult>{rSize, cSize}, unit);
        scf::YieldOp::create(rewriter, loc, ValueRange{updated});
        rewriter.setInsertionPointAfter(loop);
        result = loop.getResult(0);
      }
      resultOffsets = {r0, zero};
      resultSizes = {rSize, sizes[1]};
    }
    rewriter.setInsertionPointToStart(forall.getTerminator().getBody());
    parallelInsertTile(rewriter, loc, result, forall.getRegionIterArgs()[0],
                       resultOffsets, resultSizes);
    rewriter.setInsertionPointAfter(forall);

    // Back to the op's shape.
    Value y = forall.getResult(0);
    if constexpr (kind == Kind::logSumExp) {
      auto outType = op.getResult().getType();
      if (rank == 1)
        y = tensor::CollapseShapeOp::create(rewriter, loc, outType, y,
                                            SmallVector<ReassociationIndices>{});
      else if (rank > 2)
        y = expandRows(rewriter, loc, y, outType, x, perm, rank - 1);
      // Rows are the non-reduced dims in order: no transpose needed.
    } else {
      if (rank == 1) {
        y = tensor::CollapseShapeOp::create(
            rewriter, loc, op.getInput().getType(), y,
            SmallVector<ReassociationIndices>{{0, 1}});
      } else {
        y = expandRows(rewriter, loc, y, xType, x, perm, rank);
        if (static_cast<int64_t>(op.getDim()) != rank - 1) {
          SmallVector<int64_t> inverse(rank);
          for (int64_t i = 0; i < rank; ++i)
            inverse[perm[i]] = i;
          Value init = tensor::EmptyOp::create(
              rewriter, loc, tensor::getMixedSizes(rewriter, loc, op.getInput()),
              elt);
          y = linalg::TransposeOp::create(rewriter, loc, y, init, inverse)
                  .getResult()[0];
        }
      }
    }
    rewriter.replaceOp(op, y);
    return success();
  }

  /// The tile in f32 (a no-op for f32 inputs).
  static Value toF32Tile(GenericBuilder &gb, Value t,
                         ArrayRef<OpFoldResult> tile) {
    if (cast<RankedTensorType>(t.getType()).getElementType().isF32())
      return t;
    MLIRContext *ctx = gb.b.getContext();
    return gb.generic({t}, {gb.empty(tile, gb.f32)}, 2,
                      {allDims(ctx, 2), allDims(ctx, 2)},
                      {IteratorType::parallel, IteratorType::parallel},
                      [](OpBuilder &b, Location loc, ValueRange a) {
                        linalg::YieldOp::create(b, loc,
                                                ValueRange{toF32(b, loc, a[0])});
                      })[0];
  }

  /// Expands the collapsed row dim of `y` back to the `rows` leading dims of
  /// `shapeSource` (a value whose leading dims are the rows).
  static Value expandRows(PatternRewriter &rewriter, Location loc, Value y,
                          RankedTensorType resultType, Value shapeSource,
                          ArrayRef<int64_t>, int64_t resultRank) {
    auto yType = cast<RankedTensorType>(y.getType());
    int64_t rowDims = yType.getRank() == 1 ? resultRank : resultRank - 1;
    ReassociationIndices rowsGroup;
    for (int64_t i = 0; i < rowDims; ++i)
      rowsGroup.push_back(i);
    SmallVector<ReassociationIndices> reassociation = {rowsGroup};
    SmallVector<OpFoldResult> outShape;
    auto srcType = cast<RankedTensorType>(shapeSource.getType());
    SmallVector<int64_t> shape;
    for (int64_t i = 0; i < rowDims; ++i) {
      outShape.push_back(tensor::getMixedSize(rewriter, loc, shapeSource, i));
      shape.push_back(srcType.getDimSize(i));
    }
    if (yType.getRank() == 2) {
      reassociation.push_back({rowDims});
      outShape.push_back(tensor::getMixedSize(rewriter, loc, y, 1));
      shape.push_back(yType.getDimSize(1));
    }
    auto outType = RankedTensorType::get(shape, resultType.getElementType());
    // An expand_shape with two dynamic sizes in one group crashes upstream
    // expand-strided-metadata (LLVM 22) on the CPU path; a reshape by a
    // shape tensor says the same thing and lowers through memref.reshape.
    if (llvm::count_if(ArrayRef<int64_t>(shape).take_front(rowDims),
                       ShapedType::isDynamic) > 1) {
      SmallVector<Value> dims;
      for (OpFoldResult size : outShape)
        dims.push_back(getValueOrCreateConstantIndexOp(rewriter, loc, size));
      Value shapeTensor = tensor::FromElementsOp::create(rewriter, loc, dims);
      return tensor::ReshapeOp::create(rewriter, loc, outType, y, shapeTensor);
    }
    return tensor::ExpandShapeOp::create(rewriter, loc, outType, y,
                                         reassociation, outShape);
  }
};

} // namespace

void mlir::attn::detail::populateTileSoftmaxPatterns(
    RewritePatternSet &patterns) {
  patterns.add<TileSoftmaxFamily<SoftmaxOp, Kind::softmax>,
               TileSoftmaxFamily<LogSoftmaxOp, Kind::logSoftmax>,
               TileSoftmaxFamily<LogSumExpOp, Kind::logSumExp>>(
      patterns.getContext());
}
