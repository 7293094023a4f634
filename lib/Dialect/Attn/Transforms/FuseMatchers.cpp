//===- FuseMatchers.cpp - recognizers for unfused frontend IR -------------===//
//
// Structural matchers for the forms that tosa-to-linalg and torch-mlir emit:
// reductions, contractions, transposes and the softmax chains. They look only
// at what the IR computes (indexing maps, iterator types, body ops), so a
// generic, a named op and linalg.reduce are recognized alike.
//
//===----------------------------------------------------------------------===//

#include "FuseMatchers.h"

#include "attn/Dialect/Attn/IR/AttnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::fuse;

using utils::IteratorType;

std::optional<APFloat> fuse::matchSplatFloat(Value v) {
  if (auto fill = v.getDefiningOp<linalg::FillOp>())
    return matchSplatFloat(fill.getInputs()[0]);
  Attribute attr;
  if (!matchPattern(v, m_Constant(&attr)))
    return std::nullopt;
  if (auto f = dyn_cast<FloatAttr>(attr))
    return f.getValue();
  if (auto splat = dyn_cast<SplatElementsAttr>(attr))
    if (isa<FloatType>(splat.getElementType()))
      return splat.getSplatValue<APFloat>();
  return std::nullopt;
}

OpOperand *fuse::inputOperandOf(linalg::LinalgOp op, Value v) {
  auto arg = dyn_cast<BlockArgument>(v);
  if (!arg || arg.getOwner() != op.getBlock() ||
      arg.getArgNumber() >= static_cast<unsigned>(op.getNumDpsInputs()))
    return nullptr;
  return op.getDpsInputOperand(arg.getArgNumber());
}

std::optional<APFloat> fuse::matchBodyConstant(linalg::LinalgOp op, Value v) {
  if (OpOperand *operand = inputOperandOf(op, v))
    return matchSplatFloat(operand->get());
  if (isa<BlockArgument>(v))
    return std::nullopt;
  return matchSplatFloat(v);
}

/// True if `op` computes on tensors with one init and one result.
static bool isSingleResultTensorOp(linalg::LinalgOp op) {
  return op && op.hasPureTensorSemantics() && op.getNumDpsInits() == 1 &&
         op->getNumResults() == 1;
}

Value fuse::elementwiseYield(linalg::LinalgOp op) {
  if (!isSingleResultTensorOp(op) ||
      op.getNumParallelLoops() != op.getNumLoops() ||
      !op.getMatchingIndexingMap(op.getDpsInitOperand(0)).isIdentity())
    return {};
  return op.getBlock()->getTerminator()->getOperand(0);
}

std::optional<unsigned> fuse::rowMapDim(AffineMap map, unsigned rank) {
  if (map.getNumDims() != rank || map.getNumSymbols() != 0 || rank == 0)
    return std::nullopt;
  ArrayRef<AffineExpr> results = map.getResults();
  if (results.size() + 1 == rank) {
    // All loops but one, in order.
    std::optional<unsigned> skipped;
    unsigned next = 0;
    for (AffineExpr e : results) {
      auto d = dyn_cast<AffineDimExpr>(e);
      if (!d)
        return std::nullopt;
      if (d.getPosition() == next + 1 && !skipped) {
        skipped = next;
        ++next;
      }
      if (d.getPosition() != next)
        return std::nullopt;
      ++next;
    }
    return skipped ? skipped : std::optional<unsigned>(rank - 1);
  }
  if (results.size() != rank)
    return std::nullopt;
  // All loops, one replaced by the constant 0 (a kept unit dim).
  std::optional<unsigned> zero;
  for (auto [i, e] : llvm::enumerate(results)) {
    if (auto c = dyn_cast<AffineConstantExpr>(e); c && c.getValue() == 0 &&
                                                   !zero) {
      zero = i;
      continue;
    }
    auto d = dyn_cast<AffineDimExpr>(e);
    if (!d || d.getPosition() != i)
      return std::nullopt;
  }
  return zero;
}

Value fuse::stripUnitExpand(Value v, SmallVectorImpl<Operation *> &ops) {
  auto expand = v.getDefiningOp<tensor::ExpandShapeOp>();
  if (!expand)
    return v;
  RankedTensorType src = expand.getSrcType(), dst = expand.getResultType();
  if (dst.getRank() != src.getRank() + 1 || !dst.hasStaticShape())
    return v;
  // The result must be the source with one unit dim inserted.
  ArrayRef<int64_t> s = src.getShape(), d = dst.getShape();
  for (unsigned i = 0; i < d.size(); ++i) {
    if (d[i] != 1)
      continue;
    SmallVector<int64_t> without(d);
    without.erase(without.begin() + i);
    if (ArrayRef<int64_t>(without) == s) {
      ops.push_back(expand);
      return expand.getSrc();
    }
  }
  return v;
}

/// True if `init` holds the neutral element of `kind`: -inf or the lowest
/// finite value for max, 0 for sum.
static bool isNeutralInit(Value init, Combiner kind) {
  std::optional<APFloat> neutral = matchSplatFloat(init);
  if (!neutral)
    return false;
  if (kind == Combiner::max)
    return neutral->isNegative() &&
           (neutral->isInfinity() || neutral->isLargest());
  return neutral->isZero();
}

std::optional<ReductionMatch> fuse::matchReduction(Value v, Combiner kind) {
  auto op = v.getDefiningOp<linalg::LinalgOp>();
  if (!isSingleResultTensorOp(op) || op.getNumDpsInputs() != 1 ||
      op.getNumReductionLoops() != 1)
    return std::nullopt;
  unsigned rank = op.getNumLoops();
  OpOperand *in = op.getDpsInputOperand(0);
  OpOperand *init = op.getDpsInitOperand(0);
  if (!op.getMatchingIndexingMap(in).isIdentity())
    return std::nullopt;
  std::optional<unsigned> dim =
      rowMapDim(op.getMatchingIndexingMap(init), rank);
  if (!dim || op.getIteratorTypesArray()[*dim] != IteratorType::reduction)
    return std::nullopt;

  // The body combines the input and the accumulator, in either order.
  Value yielded = op.getBlock()->getTerminator()->getOperand(0);
  Operation *combine = yielded.getDefiningOp();
  if (!combine || combine->getNumOperands() != 2 ||
      combine->getBlock() != op.getBlock())
    return std::nullopt;
  bool isMax = isa<arith::MaximumFOp, arith::MaxNumFOp>(combine);
  bool isSum = isa<arith::AddFOp>(combine);
  if ((kind == Combiner::max && !isMax) || (kind == Combiner::sum && !isSum))
    return std::nullopt;
  Value a = op.getMatchingBlockArgument(in);
  Value acc = op.getMatchingBlockArgument(init);
  Value l = combine->getOperand(0), r = combine->getOperand(1);
  if (!((l == a && r == acc) || (l == acc && r == a)))
    return std::nullopt;

  if (!isNeutralInit(init->get(), kind))
    return std::nullopt;
  return ReductionMatch{in->get(), *dim, op};
}

/// True if `v` is `exp(a - sub)` computed in `body`, with `isA(a)`.
static bool isExpOfDifference(Value v, Block *body,
                              llvm::function_ref<bool(Value)> isA, Value sub) {
  auto exp = v.getDefiningOp<math::ExpOp>();
  auto diff = exp ? exp.getOperand().getDefiningOp<arith::SubFOp>() : nullptr;
  return diff && exp->getBlock() == body && diff->getBlock() == body &&
         isA(diff.getLhs()) && diff.getRhs() == sub;
}

/// True if `mNew` and `sNew` are the online update of the accumulators
/// `mOld` and `sOld` by an element `x` (`isX`): m' = max(m, x) and
/// s' = s * exp(m - m') + exp(x - m'), the operands of max, mulf and addf
/// in either order.
static bool isOnlineUpdate(Block *body, llvm::function_ref<bool(Value)> isX,
                           Value mOld, Value sOld, Value mNew, Value sNew) {
  Operation *max = mNew.getDefiningOp();
  if (!max || max->getBlock() != body ||
      !isa<arith::MaximumFOp, arith::MaxNumFOp>(max))
    return false;
  Value l = max->getOperand(0), r = max->getOperand(1);
  if (!((l == mOld && isX(r)) || (r == mOld && isX(l))))
    return false;
  auto add = sNew.getDefiningOp<arith::AddFOp>();
  if (!add || add->getBlock() != body)
    return false;
  auto isMOld = [&](Value v) { return v == mOld; };
  auto isRescaled = [&](Value v) {
    auto mul = v.getDefiningOp<arith::MulFOp>();
    if (!mul || mul->getBlock() != body)
      return false;
    return (mul.getLhs() == sOld &&
            isExpOfDifference(mul.getRhs(), body, isMOld, mNew)) ||
           (mul.getRhs() == sOld &&
            isExpOfDifference(mul.getLhs(), body, isMOld, mNew));
  };
  auto isFresh = [&](Value v) { return isExpOfDifference(v, body, isX, mNew); };
  return (isRescaled(add.getLhs()) && isFresh(add.getRhs())) ||
         (isRescaled(add.getRhs()) && isFresh(add.getLhs()));
}

std::optional<OnlineMaxSumExpMatch>
fuse::matchOnlineMaxSumExp(Operation *operation) {
  auto op = dyn_cast_or_null<linalg::LinalgOp>(operation);
  if (!op || !op.hasPureTensorSemantics() || op.getNumDpsInits() != 2 ||
      op->getNumResults() != 2 || op.getNumDpsInputs() < 1 ||
      op.getNumReductionLoops() != 1)
    return std::nullopt;
  // Every input is the same tensor, read whole (linalg.reduce takes one
  // input per init).
  Value input = op.getDpsInputOperand(0)->get();
  for (OpOperand *in : op.getDpsInputOperands())
    if (in->get() != input || !op.getMatchingIndexingMap(in).isIdentity())
      return std::nullopt;
  AffineMap rowMap = op.getMatchingIndexingMap(op.getDpsInitOperand(0));
  if (op.getMatchingIndexingMap(op.getDpsInitOperand(1)) != rowMap)
    return std::nullopt;
  std::optional<unsigned> dim = rowMapDim(rowMap, op.getNumLoops());
  if (!dim || op.getIteratorTypesArray()[*dim] != IteratorType::reduction)
    return std::nullopt;

  Block *body = op.getBlock();
  Operation *yield = body->getTerminator();
  auto isX = [&](Value v) { return inputOperandOf(op, v) != nullptr; };
  for (unsigned m : {0u, 1u}) {
    unsigned s = 1 - m;
    OpOperand *mInit = op.getDpsInitOperand(m);
    OpOperand *sInit = op.getDpsInitOperand(s);
    if (!isOnlineUpdate(body, isX, op.getMatchingBlockArgument(mInit),
                        op.getMatchingBlockArgument(sInit),
                        yield->getOperand(m), yield->getOperand(s)))
      continue;
    if (!isNeutralInit(mInit->get(), Combiner::max) ||
        !isNeutralInit(sInit->get(), Combiner::sum))
      return std::nullopt;
    return OnlineMaxSumExpMatch{input, *dim, op, op->getResult(m),
                                op->getResult(s)};
  }
  return std::nullopt;
}

/// The map `(d0, .., dn) -> (exprs)` over `numLoops` loops.
static AffineMap mapOf(unsigned numLoops, ArrayRef<unsigned> dims,
                       MLIRContext *ctx) {
  SmallVector<AffineExpr> exprs;
  for (unsigned d : dims)
    exprs.push_back(getAffineDimExpr(d, ctx));
  return AffineMap::get(numLoops, 0, exprs, ctx);
}

std::optional<ContractionMatch> fuse::matchContraction(Value v) {
  auto op = v.getDefiningOp<linalg::LinalgOp>();
  if (!isSingleResultTensorOp(op) || op.getNumDpsInputs() != 2 ||
      !linalg::isaContractionOpInterface(op))
    return std::nullopt;
  FailureOr<linalg::ContractionDimensions> dims =
      linalg::inferContractionDims(op);
  if (failed(dims) || dims->m.size() != 1 || dims->n.size() != 1 ||
      dims->k.size() != 1 || dims->batch.size() > 2)
    return std::nullopt;

  // The maps must be exactly [batch.., m, k] x [batch.., k|n, n|k] ->
  // [batch.., m, n]: no broadcast, no permuted batch dims.
  MLIRContext *ctx = op.getContext();
  unsigned numLoops = op.getNumLoops();
  SmallVector<unsigned> batch(dims->batch.begin(), dims->batch.end());
  unsigned m = dims->m[0], n = dims->n[0], k = dims->k[0];
  auto withBatch = [&](ArrayRef<unsigned> inner) {
    SmallVector<unsigned> all(batch);
    all.append(inner.begin(), inner.end());
    return mapOf(numLoops, all, ctx);
  };
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  if (maps[0] != withBatch({m, k}) || maps[2] != withBatch({m, n}))
    return std::nullopt;
  bool transposed;
  if (maps[1] == withBatch({k, n}))
    transposed = false;
  else if (maps[1] == withBatch({n, k}))
    transposed = true;
  else
    return std::nullopt;

  // One float element type throughout (no casts in the body), and a zero
  // accumulator: a non-zero init would be added to the product.
  Type elt = getElementTypeOrSelf(v.getType());
  Value lhs = op.getDpsInputOperand(0)->get();
  Value rhs = op.getDpsInputOperand(1)->get();
  if (!isa<FloatType>(elt) || getElementTypeOrSelf(lhs.getType()) != elt ||
      getElementTypeOrSelf(rhs.getType()) != elt)
    return std::nullopt;
  std::optional<APFloat> init = matchSplatFloat(op.getDpsInitOperand(0)->get());
  if (!init || !init->isZero())
    return std::nullopt;
  return ContractionMatch{op, lhs, rhs, transposed,
                          static_cast<unsigned>(batch.size())};
}

Value fuse::stripInnerTranspose(Value v) {
  auto op = v.getDefiningOp<linalg::LinalgOp>();
  if (!op || op.getNumDpsInputs() != 1 || !elementwiseYield(op))
    return {};
  OpOperand *in = op.getDpsInputOperand(0);
  unsigned rank = op.getNumLoops();
  if (rank < 2)
    return {};
  SmallVector<unsigned> perm;
  for (unsigned i = 0; i < rank; ++i)
    perm.push_back(i);
  std::swap(perm[rank - 2], perm[rank - 1]);
  if (op.getMatchingIndexingMap(in) != mapOf(rank, perm, op.getContext()) ||
      elementwiseYield(op) != op.getMatchingBlockArgument(in))
    return {};
  return in->get();
}

Value fuse::createInnerTranspose(OpBuilder &b, Location loc, Value v) {
  auto type = cast<RankedTensorType>(v.getType());
  int64_t rank = type.getRank();
  SmallVector<int64_t> perm = llvm::to_vector(llvm::seq<int64_t>(0, rank));
  std::swap(perm[rank - 2], perm[rank - 1]);
  SmallVector<int64_t> shape(type.getShape());
  std::swap(shape[rank - 2], shape[rank - 1]);
  Value init = tensor::EmptyOp::create(b, loc, shape, type.getElementType());
  return linalg::TransposeOp::create(b, loc, v, init, perm)->getResult(0);
}

bool fuse::usersWithin(Value v, ArrayRef<Operation *> ops) {
  return llvm::all_of(v.getUsers(),
                      [&](Operation *user) { return llvm::is_contained(ops, user); });
}

//===----------------------------------------------------------------------===//
// Softmax chains
//===----------------------------------------------------------------------===//

namespace {

/// An elementwise op whose body yields `combine(a, b)`, with `a` read with
/// the identity map and `b` with a per-row map: the operands and reduced dim.
struct RowBroadcast {
  Value full;  // the [.., d, ..] operand
  Value row;   // the per-row operand (reduced dim dropped or unit)
  unsigned dim;
};

} // namespace

/// Matches `a` and `b` (scalars in `op`'s body) as an identity-mapped input
/// and a row-mapped input of `op`.
static std::optional<RowBroadcast> matchRowOperands(linalg::LinalgOp op,
                                                    Value a, Value b) {
  OpOperand *full = inputOperandOf(op, a);
  OpOperand *row = inputOperandOf(op, b);
  if (!full || !row || full == row ||
      !op.getMatchingIndexingMap(full).isIdentity())
    return std::nullopt;
  std::optional<unsigned> dim =
      rowMapDim(op.getMatchingIndexingMap(row), op.getNumLoops());
  if (!dim)
    return std::nullopt;
  return RowBroadcast{full->get(), row->get(), *dim};
}

/// Matches `row` (read per row over `dim`) as a max reduction of `x` over
/// `dim`, used only by `consumer`; records the ops.
static bool matchRowMax(Value row, Value x, unsigned dim, Operation *consumer,
                        SmallVectorImpl<Operation *> &ops) {
  if (!row.hasOneUse() || *row.getUsers().begin() != consumer)
    return false;
  Value m = stripUnitExpand(row, ops);
  if (m != row && !m.hasOneUse())
    return false;
  std::optional<ReductionMatch> max = matchReduction(m, Combiner::max);
  if (!max || max->input != x || max->dim != dim)
    return false;
  ops.push_back(max->op);
  return true;
}

/// Matches `v` as an elementwise `x - max_dim(x)`: returns x.
static Value matchShifted(Value v, unsigned dim,
                          SmallVectorImpl<Operation *> &ops) {
  auto op = v.getDefiningOp<linalg::LinalgOp>();
  Value y = op ? elementwiseYield(op) : Value();
  auto sub = y ? y.getDefiningOp<arith::SubFOp>() : nullptr;
  if (!sub)
    return {};
  std::optional<RowBroadcast> rb =
      matchRowOperands(op, sub.getLhs(), sub.getRhs());
  if (!rb || rb->dim != dim || !matchRowMax(rb->row, rb->full, dim, op, ops))
    return {};
  ops.push_back(op);
  return rb->full;
}

/// Matches the row sum of `e` over `dim`, read per row by `consumer`.
static bool matchRowSum(Value row, Value e, unsigned dim, Operation *consumer,
                        SmallVectorImpl<Operation *> &ops) {
  if (!row.hasOneUse() || *row.getUsers().begin() != consumer)
    return false;
  Value s = stripUnitExpand(row, ops);
  if (s != row && !s.hasOneUse())
    return false;
  std::optional<ReductionMatch> sum = matchReduction(s, Combiner::sum);
  if (!sum || sum->input != e || sum->dim != dim)
    return false;
  ops.push_back(sum->op);
  return true;
}

std::optional<SoftmaxMatch> fuse::matchSoftmax(Value result) {
  if (auto op = result.getDefiningOp<SoftmaxOp>())
    return SoftmaxMatch{op.getInput(), static_cast<unsigned>(op.getDim()),
                        {op}};
  if (auto op = result.getDefiningOp<linalg::SoftmaxOp>()) {
    if (op.getInput().getType() != result.getType())
      return std::nullopt;
    return SoftmaxMatch{op.getInput(),
                        static_cast<unsigned>(op.getDimension()), {op}};
  }

  // div: e / sum_dim(e).
  auto div = result.getDefiningOp<linalg::LinalgOp>();
  Value y = div ? elementwiseYield(div) : Value();
  auto divf = y ? y.getDefiningOp<arith::DivFOp>() : nullptr;
  if (!divf)
    return std::nullopt;
  std::optional<RowBroadcast> rb =
      matchRowOperands(div, divf.getLhs(), divf.getRhs());
  if (!rb)
    return std::nullopt;
  SoftmaxMatch match;
  match.dim = rb->dim;
  match.ops.push_back(div);
  Value e = rb->full;
  if (!matchRowSum(rb->row, e, rb->dim, div, match.ops))
    return std::nullopt;
  Operation *sumOp = match.ops.back();
  if (!usersWithin(e, {div, sumOp}))
    return std::nullopt;

  // e = exp(x - max): one generic, or an exp of the shifted tensor.
  auto expOp = e.getDefiningOp<linalg::LinalgOp>();
  Value ey = expOp ? elementwiseYield(expOp) : Value();
  auto exp = ey ? ey.getDefiningOp<math::ExpOp>() : nullptr;
  if (!exp)
    return std::nullopt;
  match.ops.push_back(expOp);
  if (auto sub = exp.getOperand().getDefiningOp<arith::SubFOp>();
      sub && sub->getBlock() == expOp.getBlock()) {
    std::optional<RowBroadcast> shifted =
        matchRowOperands(expOp, sub.getLhs(), sub.getRhs());
    if (!shifted || shifted->dim != rb->dim ||
        !matchRowMax(shifted->row, shifted->full, rb->dim, expOp, match.ops))
      return std::nullopt;
    match.input = shifted->full;
  } else {
    OpOperand *in = inputOperandOf(expOp, exp.getOperand());
    if (!in || expOp.getNumDpsInputs() != 1 ||
        !expOp.getMatchingIndexingMap(in).isIdentity() ||
        !in->get().hasOneUse())
      return std::nullopt;
    match.input = matchShifted(in->get(), rb->dim, match.ops);
    if (!match.input)
      return std::nullopt;
  }
  if (match.input.getType() != result.getType())
    return std::nullopt;
  return match;
}

std::optional<SoftmaxMatch> fuse::matchLogSoftmax(Value result) {
  if (auto op = result.getDefiningOp<LogSoftmaxOp>())
    return SoftmaxMatch{op.getInput(), static_cast<unsigned>(op.getDim()),
                        {op}};

  // root: shifted - log(sum_dim(exp(shifted))), the log in this body or in
  // a generic of its own.
  auto root = result.getDefiningOp<linalg::LinalgOp>();
  Value y = root ? elementwiseYield(root) : Value();
  auto subf = y ? y.getDefiningOp<arith::SubFOp>() : nullptr;
  if (!subf)
    return std::nullopt;
  SoftmaxMatch match;
  match.ops.push_back(root);
  std::optional<RowBroadcast> rb;
  Value sumRow;
  if (auto log = subf.getRhs().getDefiningOp<math::LogOp>();
      log && log->getBlock() == root.getBlock()) {
    rb = matchRowOperands(root, subf.getLhs(), log.getOperand());
    if (!rb || !rb->row.hasOneUse())
      return std::nullopt;
    sumRow = stripUnitExpand(rb->row, match.ops);
  } else {
    rb = matchRowOperands(root, subf.getLhs(), subf.getRhs());
    if (!rb || !rb->row.hasOneUse())
      return std::nullopt;
    Value logRow = stripUnitExpand(rb->row, match.ops);
    auto logOp = logRow.getDefiningOp<linalg::LinalgOp>();
    Value ly = logOp ? elementwiseYield(logOp) : Value();
    auto logf = ly ? ly.getDefiningOp<math::LogOp>() : nullptr;
    OpOperand *in = logf ? inputOperandOf(logOp, logf.getOperand()) : nullptr;
    if (!in || logOp.getNumDpsInputs() != 1 || !logRow.hasOneUse() ||
        !logOp.getMatchingIndexingMap(in).isIdentity() ||
        in->get().getType() != logRow.getType())
      return std::nullopt;
    match.ops.push_back(logOp);
    sumRow = in->get();
  }
  unsigned dim = rb->dim;
  match.dim = dim;
  Value shifted = rb->full;

  // sum_dim(exp(shifted)): the sum is read only by the log.
  if (!sumRow.hasOneUse())
    return std::nullopt;
  std::optional<ReductionMatch> sum = matchReduction(sumRow, Combiner::sum);
  if (!sum || sum->dim != dim || !sum->input.hasOneUse())
    return std::nullopt;
  match.ops.push_back(sum->op);
  auto expOp = sum->input.getDefiningOp<linalg::LinalgOp>();
  Value ey = expOp ? elementwiseYield(expOp) : Value();
  auto exp = ey ? ey.getDefiningOp<math::ExpOp>() : nullptr;
  OpOperand *in = exp ? inputOperandOf(expOp, exp.getOperand()) : nullptr;
  if (!in || expOp.getNumDpsInputs() != 1 || in->get() != shifted ||
      !expOp.getMatchingIndexingMap(in).isIdentity())
    return std::nullopt;
  match.ops.push_back(expOp);
  if (!usersWithin(shifted, {root, expOp}))
    return std::nullopt;
  match.input = matchShifted(shifted, dim, match.ops);
  if (!match.input || match.input.getType() != result.getType())
    return std::nullopt;
  return match;
}
