//===- TileUtils.cpp - shared pieces of the attn-tile rewrites ------------===//

#include "TileUtils.h"

using namespace mlir;
using namespace mlir::attn::detail;

Value mlir::attn::detail::extractTile(OpBuilder &b, Location loc, Value source,
                                      ArrayRef<OpFoldResult> offsets,
                                      ArrayRef<OpFoldResult> sizes,
                                      ArrayRef<unsigned> kept) {
  auto type = cast<RankedTensorType>(source.getType());
  SmallVector<int64_t> shape;
  for (unsigned d : kept) {
    std::optional<int64_t> size = getConstantIntValue(sizes[d]);
    shape.push_back(size ? *size : ShapedType::kDynamic);
  }
  SmallVector<OpFoldResult> strides(sizes.size(), b.getIndexAttr(1));
  return tensor::ExtractSliceOp::create(
      b, loc, RankedTensorType::get(shape, type.getElementType()), source,
      offsets, sizes, strides);
}

void mlir::attn::detail::parallelInsertTile(OpBuilder &b, Location loc,
                                            Value tile, Value dest,
                                            ArrayRef<OpFoldResult> offsets,
                                            ArrayRef<OpFoldResult> sizes) {
  SmallVector<OpFoldResult> strides(sizes.size(), b.getIndexAttr(1));
  tensor::ParallelInsertSliceOp::create(b, loc, tile, dest, offsets, sizes,
                                        strides);
}

OnlineSoftmaxState mlir::attn::detail::foldTile(
    GenericBuilder &gb, OnlineSoftmaxState state, Value x,
    ArrayRef<OpFoldResult> tileSizes, bool base2, Value *alpha,
    Value *probabilities) {
  MLIRContext *ctx = gb.b.getContext();
  SmallVector<OpFoldResult> rows = {tileSizes[0]};
  SmallVector<AffineExpr> rc = allDims(ctx, 2), r = dims(ctx, {0}),
                          r1 = allDims(ctx, 1);
  auto exp = [base2](OpBuilder &b, Location loc, Value v) -> Value {
    if (base2)
      return math::Exp2Op::create(b, loc, v);
    return math::ExpOp::create(b, loc, v);
  };
  // New max: max(old max, row max of the tile).
  Value newMax = gb.generic({x}, {state.max}, 2, {rc, r},
                            iteratorsWithReduction(2, {1}),
                            [](OpBuilder &b, Location loc, ValueRange a) {
                              linalg::YieldOp::create(
                                  b, loc,
                                  ValueRange{arith::MaximumFOp::create(
                                      b, loc, a[0], a[1])});
                            })[0];
  // alpha = exp(old max - safe new max): 0 when the old max is -inf.
  Value scale = gb.generic(
      {state.max, newMax}, {gb.empty(rows, gb.f32)}, 1, {r1, r1, r1},
      {IteratorType::parallel}, [&](OpBuilder &b, Location loc, ValueRange a) {
        Value d = arith::SubFOp::create(b, loc, a[0], safeMax(b, loc, a[1]));
        linalg::YieldOp::create(b, loc, ValueRange{exp(b, loc, d)});
      })[0];
  // p = exp(x - safe new max), summed into sum * alpha.
  Value p = gb.generic({x, newMax}, {gb.empty(tileSizes, gb.f32)}, 2,
                       {rc, r, rc},
                       {IteratorType::parallel, IteratorType::parallel},
                       [&](OpBuilder &b, Location loc, ValueRange a) {
                         Value d = arith::SubFOp::create(
                             b, loc, a[0], safeMax(b, loc, a[1]));
                         linalg::YieldOp::create(b, loc,
                                                 ValueRange{exp(b, loc, d)});
                       })[0];
  Value rescaled =
      gb.generic({state.sum, scale}, {gb.empty(rows, gb.f32)}, 1, {r1, r1, r1},
                 {IteratorType::parallel},
                 [](OpBuilder &b, Location loc, ValueRange a) {
                   linalg::YieldOp::create(
                       b, loc,
                       ValueRange{arith::MulFOp::create(b, loc, a[0], a[1])});
                 })[0];
  Value newSum = gb.generic({p}, {rescaled}, 2, {rc, r},
                            iteratorsWithReduction(2, {1}),
                            [](OpBuilder &b, Location loc, ValueRange a) {
                              linalg::YieldOp::create(
                                  b, loc,
                                  ValueRange{arith::AddFOp::create(b, loc, a[0],
                                                                   a[1])});
                            })[0];
  if (alpha)
    *alpha = scale;
  if (probabilities)
    *probabilities = p;
  return {newMax, newSum};
}
