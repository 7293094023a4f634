//===- GenericBuilder.h - linalg.generic helpers of the attn rewrites -----===//
//
// Builders shared by attn-decompose and attn-tile: f32 constants and fills,
// linalg.generic from indexing expressions, and the scalar pieces of the
// softmax math (safe max, soft-capping). Internal to the Transforms library.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LIB_DIALECT_ATTN_TRANSFORMS_GENERICBUILDER_H
#define ATTN_LIB_DIALECT_ATTN_TRANSFORMS_GENERICBUILDER_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <cmath>
#include <limits>

namespace mlir::attn::detail {

using utils::IteratorType;
using BodyBuilder = function_ref<void(OpBuilder &, Location, ValueRange)>;

/// Small builder for the linalg.generic ops of one decomposition. All
/// intermediate tensors are f32.
class GenericBuilder {
public:
  GenericBuilder(OpBuilder &b, Location loc)
      : b(b), loc(loc), f32(b.getF32Type()) {}

  /// An f32 constant.
  Value f32Const(double v) {
    return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v));
  }

  /// A tensor of `sizes` f32 elements filled with `value`.
  Value filled(ArrayRef<OpFoldResult> sizes, double value) {
    Value empty = tensor::EmptyOp::create(b, loc, sizes, f32);
    return linalg::FillOp::create(b, loc, ValueRange{f32Const(value)},
                                  ValueRange{empty})
        .getResult(0);
  }

  /// An uninitialized tensor of `sizes` elements of type `elementType`.
  Value empty(ArrayRef<OpFoldResult> sizes, Type elementType) {
    return tensor::EmptyOp::create(b, loc, sizes, elementType);
  }

  /// A linalg.generic over `numLoops` loops; `exprs` holds the indexing
  /// expressions of each input, then each output.
  SmallVector<Value> generic(ValueRange inputs, ValueRange outputs,
                             unsigned numLoops,
                             ArrayRef<SmallVector<AffineExpr>> exprs,
                             ArrayRef<IteratorType> iterators,
                             BodyBuilder body) {
    SmallVector<AffineMap> maps;
    for (const SmallVector<AffineExpr> &e : exprs)
      maps.push_back(AffineMap::get(numLoops, 0, e, b.getContext()));
    SmallVector<Type> resultTypes;
    for (Value out : outputs)
      resultTypes.push_back(out.getType());
    auto op = linalg::GenericOp::create(b, loc, resultTypes, inputs, outputs,
                                        maps, iterators, body);
    return SmallVector<Value>(op.getResults());
  }

  OpBuilder &b;
  Location loc;
  Type f32;
};

/// Extends a scalar to f32 inside a generic body.
inline Value toF32(OpBuilder &b, Location loc, Value v) {
  Type f32 = b.getF32Type();
  if (v.getType() == f32)
    return v;
  return arith::ExtFOp::create(b, loc, f32, v);
}

/// Converts an f32 scalar to `type` inside a generic body.
inline Value fromF32(OpBuilder &b, Location loc, Value v, Type type) {
  if (type == v.getType())
    return v;
  return arith::TruncFOp::create(b, loc, type, v);
}

inline Value f32Const(OpBuilder &b, Location loc, double v) {
  return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v));
}

/// `max` with -inf replaced by 0, so that `x - max` stays finite (or -inf)
/// for a row whose entries are all -inf.
inline Value safeMax(OpBuilder &b, Location loc, Value max) {
  Value negInf = f32Const(b, loc, -std::numeric_limits<double>::infinity());
  Value isNegInf =
      arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, max, negInf);
  return arith::SelectOp::create(b, loc, isNegInf, f32Const(b, loc, 0.0), max);
}

/// An optional f32 attribute's value as a double.
inline std::optional<double> toDouble(std::optional<APFloat> value) {
  if (!value)
    return std::nullopt;
  return value->convertToDouble();
}

/// `c * tanh(x / c)`.
inline Value softcap(OpBuilder &b, Location loc, Value x, double cap) {
  Value c = f32Const(b, loc, cap);
  Value t = math::TanhOp::create(b, loc, arith::DivFOp::create(b, loc, x, c));
  return arith::MulFOp::create(b, loc, c, t);
}

inline SmallVector<AffineExpr> dims(MLIRContext *ctx, ArrayRef<unsigned> positions) {
  SmallVector<AffineExpr> exprs;
  for (unsigned p : positions)
    exprs.push_back(getAffineDimExpr(p, ctx));
  return exprs;
}

inline SmallVector<AffineExpr> allDims(MLIRContext *ctx, unsigned n) {
  SmallVector<AffineExpr> exprs;
  for (unsigned i = 0; i < n; ++i)
    exprs.push_back(getAffineDimExpr(i, ctx));
  return exprs;
}

inline SmallVector<AffineExpr> allDimsBut(MLIRContext *ctx, unsigned n,
                                   unsigned skip) {
  SmallVector<AffineExpr> exprs;
  for (unsigned i = 0; i < n; ++i)
    if (i != skip)
      exprs.push_back(getAffineDimExpr(i, ctx));
  return exprs;
}

inline SmallVector<IteratorType> iteratorsWithReduction(unsigned n,
                                                 ArrayRef<unsigned> reduced) {
  SmallVector<IteratorType> its(n, IteratorType::parallel);
  for (unsigned r : reduced)
    its[r] = IteratorType::reduction;
  return its;
}

/// The scale of an attention op as an f32 value: the attribute, or
/// 1/sqrt(D), computed at run time when the head dim D is dynamic.
inline Value attentionScale(OpBuilder &b, Location loc, Value query,
                            std::optional<APFloat> scaleAttr) {
  if (scaleAttr)
    return f32Const(b, loc, scaleAttr->convertToDouble());
  int64_t d = cast<ShapedType>(query.getType()).getDimSize(3);
  if (!ShapedType::isDynamic(d))
    return f32Const(b, loc, d == 0 ? 1.0 : 1.0 / std::sqrt(double(d)));
  Value dim = tensor::DimOp::create(b, loc, query, 3);
  Value dimF = arith::UIToFPOp::create(
      b, loc, b.getF32Type(),
      arith::IndexCastUIOp::create(b, loc, b.getI64Type(), dim));
  return arith::DivFOp::create(b, loc, f32Const(b, loc, 1.0),
                               math::SqrtOp::create(b, loc, dimF));
}

/// The score transform of attention on one score `s` (natural-log units):
/// times `scale`, soft-capped, then the mask operand's element `maskValue`
/// (added if float; -inf where an i1 mask is false). Null `maskValue`: no
/// mask operand.
inline Value transformScore(OpBuilder &b, Location loc, Value s, Value scale,
                            std::optional<double> cap, Value maskValue) {
  s = arith::MulFOp::create(b, loc, s, scale);
  if (cap)
    s = softcap(b, loc, s, *cap);
  if (!maskValue)
    return s;
  if (maskValue.getType().isInteger(1))
    return arith::SelectOp::create(
        b, loc, maskValue, s,
        f32Const(b, loc, -std::numeric_limits<double>::infinity()));
  return arith::AddFOp::create(b, loc, s, toF32(b, loc, maskValue));
}

/// `s`, or -inf where the causal and window masks hide the key: `rel` is
/// the key index minus the row's diagonal i + (N - M) (an index value).
inline Value hideOutsideVisible(OpBuilder &b, Location loc, Value s, Value rel,
                                bool causal,
                                std::optional<ArrayRef<int64_t>> window) {
  Value negInf = f32Const(b, loc, -std::numeric_limits<double>::infinity());
  auto hide = [&](arith::CmpIPredicate pred, int64_t bound) {
    Value c = arith::CmpIOp::create(
        b, loc, pred, rel, arith::ConstantIndexOp::create(b, loc, bound));
    s = arith::SelectOp::create(b, loc, c, negInf, s);
  };
  if (causal)
    hide(arith::CmpIPredicate::sgt, 0);
  if (window) {
    hide(arith::CmpIPredicate::slt, -(*window)[0]);
    hide(arith::CmpIPredicate::sgt, (*window)[1]);
  }
  return s;
}

/// Applies scale, softcap, the mask operand, causal and window masks to the
/// [B, Hkv, G, M, N] scores of attention or its gradient (`op`) in one
/// elementwise generic.
template <typename AttentionOpTy>
Value applyScaleAndMasks(OpBuilder &rewriter, GenericBuilder &gb,
                         AttentionOpTy op, Value scores,
                         ArrayRef<OpFoldResult> sSizes, int64_t group) {
  MLIRContext *ctx = rewriter.getContext();
  Location loc = op.getLoc();
  Value scale = attentionScale(rewriter, op.getLoc(), op.getQuery(),
                               op.getScale());
  std::optional<double> cap = toDouble(op.getSoftcap());
  bool causal = op.getCausal();
  std::optional<ArrayRef<int64_t>> window = op.getWindow();
  Value mask = op.getMask();

  SmallVector<Value> inputs = {scores};
  SmallVector<SmallVector<AffineExpr>> exprs = {allDims(ctx, 5)};
  if (mask) {
    auto maskType = cast<RankedTensorType>(mask.getType());
    SmallVector<AffineExpr> maskExprs;
    AffineExpr d0 = getAffineDimExpr(0, ctx), d1 = getAffineDimExpr(1, ctx),
               d2 = getAffineDimExpr(2, ctx);
    if (maskType.getRank() == 4) {
      AffineExpr zero = getAffineConstantExpr(0, ctx);
      maskExprs.push_back(maskType.getDimSize(0) == 1 ? zero : d0);
      maskExprs.push_back(maskType.getDimSize(1) == 1 ? zero
                                                      : d1 * group + d2);
    }
    maskExprs.push_back(getAffineDimExpr(3, ctx));
    maskExprs.push_back(getAffineDimExpr(4, ctx));
    inputs.push_back(mask);
    exprs.push_back(maskExprs);
  }
  exprs.push_back(allDims(ctx, 5));

  // Keys visible to query i lie on the diagonal j = i + (N - M).
  Value diagOffset;
  if (causal || window) {
    Value mIdx = getValueOrCreateConstantIndexOp(rewriter, loc, sSizes[3]);
    Value nIdx = getValueOrCreateConstantIndexOp(rewriter, loc, sSizes[4]);
    diagOffset = arith::SubIOp::create(rewriter, loc, nIdx, mIdx);
  }

  return gb.generic(
      inputs, {gb.empty(sSizes, gb.f32)}, 5, exprs,
      SmallVector<IteratorType>(5, IteratorType::parallel),
      [&](OpBuilder &b, Location loc, ValueRange args) {
        Value s = transformScore(b, loc, args[0], scale, cap,
                                 mask ? args[1] : Value());
        if (diagOffset) {
          // rel = j - (i + (N - M)).
          Value i = linalg::IndexOp::create(b, loc, 3);
          Value j = linalg::IndexOp::create(b, loc, 4);
          Value rel = arith::SubIOp::create(
              b, loc, j, arith::AddIOp::create(b, loc, i, diagOffset));
          s = hideOutsideVisible(b, loc, s, rel, causal, window);
        }
        linalg::YieldOp::create(b, loc, ValueRange{s});
      })[0];
}

/// softmax (exp(x - max) / sum) or, with `log`, log_softmax
/// (x - max - log sum) of one f32 element, given the row's max (raw or
/// safe) and sum of exp(x - max).
inline Value softmaxElement(OpBuilder &b, Location loc, Value x, Value max,
                            Value sum, bool log) {
  Value shifted = arith::SubFOp::create(b, loc, x, safeMax(b, loc, max));
  if (log)
    return arith::SubFOp::create(b, loc, shifted,
                                 math::LogOp::create(b, loc, sum));
  return arith::DivFOp::create(b, loc, math::ExpOp::create(b, loc, shifted),
                               sum);
}

/// Index arithmetic on values, folded when the operands are constants.
class IndexMath {
public:
  IndexMath(OpBuilder &b, Location loc) : b(b), loc(loc) {}
  Value c(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value v(OpFoldResult r) { return getValueOrCreateConstantIndexOp(b, loc, r); }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value sub(Value x, Value y) { return arith::SubIOp::create(b, loc, x, y); }
  Value mul(Value x, Value y) { return arith::MulIOp::create(b, loc, x, y); }
  Value min(Value x, Value y) { return arith::MinSIOp::create(b, loc, x, y); }
  Value max(Value x, Value y) { return arith::MaxSIOp::create(b, loc, x, y); }
  Value floorDiv(Value x, Value y) {
    return arith::FloorDivSIOp::create(b, loc, x, y);
  }
  Value ceilDiv(Value x, Value y) {
    return arith::CeilDivSIOp::create(b, loc, x, y);
  }
  Value lt(Value x, Value y) {
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, x, y);
  }
  Value gt(Value x, Value y) {
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sgt, x, y);
  }
  Value orI(Value x, Value y) { return arith::OrIOp::create(b, loc, x, y); }

  /// The size of the tile of `block` elements starting at `start` of a dim
  /// of `total` elements: the constant `block` when `total` is a static
  /// multiple of it (every tile is full), else min(block, total - start).
  OpFoldResult tileSize(OpFoldResult total, Value start, int64_t block) {
    std::optional<int64_t> t = getConstantIntValue(total);
    if (t && *t % block == 0)
      return b.getIndexAttr(block);
    return min(c(block), sub(v(total), start));
  }

private:
  OpBuilder &b;
  Location loc;
};

/// MaskGeometry's arithmetic on tensor-level index IR
/// (attn/Dialect/Attn/Utils/MaskGeometry.h).
struct TileIndexMath {
  using Value = mlir::Value;
  using Pred = mlir::Value;
  IndexMath &im;
  OpBuilder &b;
  Location loc;

  Value c(int64_t v) { return im.c(v); }
  Value add(Value x, Value y) { return im.add(x, y); }
  Value sub(Value x, Value y) { return im.sub(x, y); }
  Value mul(Value x, Value y) { return im.mul(x, y); }
  Value min(Value x, Value y) { return im.min(x, y); }
  Value max(Value x, Value y) { return im.max(x, y); }
  Value floorDiv(Value x, int64_t y) { return im.floorDiv(x, im.c(y)); }
  Value ceilDiv(Value x, int64_t y) { return im.ceilDiv(x, im.c(y)); }
  Pred lt(Value x, Value y) { return im.lt(x, y); }
  Pred le(Value x, Value y) {
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sle, x, y);
  }
  Pred orI(Pred x, Pred y) { return im.orI(x, y); }
  Pred andI(Pred x, Pred y) { return arith::AndIOp::create(b, loc, x, y); }
  Pred never() { return arith::ConstantIntOp::create(b, loc, 0, 1); }
};

/// The body of `acc += a * b` in f32 (a and b of any float type): the
/// contractions of the decompositions and of the tiled forms.
inline void mulAddF32(OpBuilder &b, Location loc, ValueRange args) {
  Value prod = arith::MulFOp::create(b, loc, toF32(b, loc, args[0]),
                                     toF32(b, loc, args[1]));
  linalg::YieldOp::create(
      b, loc, ValueRange{arith::AddFOp::create(b, loc, args[2], prod)});
}

/// The f32 tensor `acc` of `sizes` converted to element type `elt` (itself
/// when `elt` is f32): where an f32 accumulator is written back.
inline Value castElements(GenericBuilder &gb, Value acc,
                          ArrayRef<OpFoldResult> sizes, Type elt) {
  if (elt == gb.f32)
    return acc;
  unsigned rank = sizes.size();
  MLIRContext *ctx = gb.b.getContext();
  return gb.generic({acc}, {gb.empty(sizes, elt)}, rank,
                    {allDims(ctx, rank), allDims(ctx, rank)},
                    SmallVector<IteratorType>(rank, IteratorType::parallel),
                    [&](OpBuilder &b, Location loc, ValueRange args) {
                      linalg::YieldOp::create(
                          b, loc, ValueRange{fromF32(b, loc, args[0], elt)});
                    })[0];
}

/// `logits` [rows, cols] f32 plus `bias` [cols] (any float type) broadcast
/// over the rows; `logits` itself without a bias.
inline Value addBiasF32(GenericBuilder &gb, Value logits, Value bias,
                        ArrayRef<OpFoldResult> sizes) {
  if (!bias)
    return logits;
  MLIRContext *ctx = gb.b.getContext();
  return gb.generic({logits, bias}, {gb.empty(sizes, gb.f32)}, 2,
                    {allDims(ctx, 2), dims(ctx, {1}), allDims(ctx, 2)},
                    SmallVector<IteratorType>(2, IteratorType::parallel),
                    [](OpBuilder &b, Location loc, ValueRange args) {
                      linalg::YieldOp::create(
                          b, loc,
                          ValueRange{arith::AddFOp::create(
                              b, loc, args[0], toF32(b, loc, args[1]))});
                    })[0];
}

/// The materialized logits hidden @ weight^T (+ bias), [rows, cols] f32:
/// the decompositions of linear_cross_entropy and of its gradient.
inline Value buildLinearLogits(GenericBuilder &gb, Value hidden, Value weight,
                               Value bias, OpFoldResult rows,
                               OpFoldResult cols) {
  MLIRContext *ctx = gb.b.getContext();
  // Loops (n, v, d).
  Value logits =
      gb.generic({hidden, weight}, {gb.filled({rows, cols}, 0.0)}, 3,
                 {dims(ctx, {0, 2}), dims(ctx, {1, 2}), dims(ctx, {0, 1})},
                 iteratorsWithReduction(3, {2}), mulAddF32)[0];
  return addBiasF32(gb, logits, bias, {rows, cols});
}

} // namespace mlir::attn::detail

#endif // ATTN_LIB_DIALECT_ATTN_TRANSFORMS_GENERICBUILDER_H
