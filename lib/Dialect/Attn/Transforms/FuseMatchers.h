//===- FuseMatchers.h - recognizers for unfused frontend IR -----*- C++ -*-===//
//
// The structural matchers shared by the attn-fuse patterns: they recognize
// the linalg forms that tosa-to-linalg and torch-mlir emit for reductions,
// elementwise steps, contractions and softmax chains, walking from a value
// up to its producers. Every matcher is exact: it returns nothing unless the
// IR computes precisely the stated function.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LIB_DIALECT_ATTN_TRANSFORMS_FUSEMATCHERS_H
#define ATTN_LIB_DIALECT_ATTN_TRANSFORMS_FUSEMATCHERS_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/PatternMatch.h"

#include <optional>

namespace mlir::attn::fuse {

/// The value of a float scalar constant, of a splat float tensor constant,
/// or of a `linalg.fill` of a float scalar constant.
std::optional<APFloat> matchSplatFloat(Value v);

/// The value a scalar operand of `op`'s body stands for: a scalar constant
/// (inside or outside the body), or the splat value of the input tensor a
/// block argument reads.
std::optional<APFloat> matchBodyConstant(linalg::LinalgOp op, Value v);

/// If `op` is elementwise over tensors (all loops parallel, one init with
/// the identity map, one result), the value its body yields; else null.
Value elementwiseYield(linalg::LinalgOp op);

/// The input operand of `op` whose block argument is `v`, or null.
OpOperand *inputOperandOf(linalg::LinalgOp op, Value v);

/// The reduced dim `d` if `map` (over `rank` loops) reads a per-row
/// statistic: all loops but `d` in order, or all loops with `d` replaced by
/// the constant 0 (a kept unit dim).
std::optional<unsigned> rowMapDim(AffineMap map, unsigned rank);

/// `v` with a `tensor.expand_shape` that only re-inserts the reduced unit dim
/// looked through (recorded in `ops`); `v` itself otherwise.
Value stripUnitExpand(Value v, SmallVectorImpl<Operation *> &ops);

enum class Combiner { max, sum };

/// A single-dim reduction `out[..] = combine_d(in[.., d, ..])` whose init is
/// the neutral element (-inf or the lowest finite value for max, 0 for sum).
struct ReductionMatch {
  Value input;
  unsigned dim;
  Operation *op;
};
std::optional<ReductionMatch> matchReduction(Value v, Combiner kind);

/// The row max `max` and the row sum `sum` of exp(x - max) of `input` over
/// `dim`, computed in one op with two results (a linalg.generic, or a
/// linalg.reduce over copies of the input) by the online update
///   m' = max(m, x),  s' = s * exp(m - m') + exp(x - m')
/// from m = -inf (or the lowest finite value) and s = 0.
struct OnlineMaxSumExpMatch {
  Value input;
  unsigned dim;
  Operation *op;
  Value max, sum;
};
std::optional<OnlineMaxSumExpMatch> matchOnlineMaxSumExp(Operation *op);

/// A contraction `out = lhs . rhs` over tensors with 0 to 2 batch dims,
/// accumulated into a zero-filled init, all in one float element type.
/// `lhs` is [batch.., M, K]; `rhs` is [batch.., K, N], or [batch.., N, K]
/// when `rhsTransposed`.
struct ContractionMatch {
  Operation *op;
  Value lhs, rhs;
  bool rhsTransposed;
  unsigned numBatch;
};
std::optional<ContractionMatch> matchContraction(Value v);

/// The source of `v` if `v` is a transpose (linalg.transpose or a copying
/// generic) that swaps the two innermost dims; null otherwise.
Value stripInnerTranspose(Value v);

/// `v` (static shape, rank >= 2) with its two innermost dims swapped by a
/// new linalg.transpose: the layout change a raise inserts where the attn op
/// wants the other order.
Value createInnerTranspose(OpBuilder &b, Location loc, Value v);

/// A softmax-family computation `result = f(input)` reduced over `dim`, with
/// the ops it consists of. `input` may have other users; every intermediate
/// is used only inside `ops`.
struct SoftmaxMatch {
  Value input;
  unsigned dim;
  SmallVector<Operation *> ops;
};

/// `attn.softmax`, `linalg.softmax`, or the chain max / x - max / exp / sum
/// / div (sub and exp possibly in one generic).
std::optional<SoftmaxMatch> matchSoftmax(Value result);

/// `attn.log_softmax`, or the chain max / x - max / exp / sum / log /
/// (x - max) - log (log possibly in the last generic).
std::optional<SoftmaxMatch> matchLogSoftmax(Value result);

/// True if every user of `v` is one of `ops`.
bool usersWithin(Value v, ArrayRef<Operation *> ops);

void populateFuseSoftmaxPatterns(RewritePatternSet &patterns);
void populateFuseAttentionPatterns(RewritePatternSet &patterns);
void populateFuseLossPatterns(RewritePatternSet &patterns);

} // namespace mlir::attn::fuse

#endif // ATTN_LIB_DIALECT_ATTN_TRANSFORMS_FUSEMATCHERS_H
