//===- FuseAttention.cpp - raise unfused attention into attn.attention ----===//
//
// Recognizes (batch_)matmul(Q, K^T) -> [scale] -> [additive mask] ->
// [causal select] -> softmax over the keys -> (batch_)matmul(., V), rooted at
// the second matmul, and replaces it with one attn.attention. K^T may be a
// transpose of K or K kept as [.., D, N] (then a linalg.transpose is
// inserted); rank-2 and rank-3 ([B*H, M, D]) forms are viewed as rank 4.
//
//===----------------------------------------------------------------------===//

#include "FuseMatchers.h"

#include "attn/Dialect/Attn/IR/AttnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"

#include <cmath>

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::fuse;

namespace {

/// `loop(dim) + offset` inside a linalg body.
struct IndexExpr {
  unsigned dim;
  int64_t offset;
};

/// A causal-style triangle over the query loop i and the key loop j: the
/// predicate is true exactly where `j - i > offset` (when `trueAbove`) or
/// exactly where `j - i <= offset` (otherwise).
struct Triangle {
  bool trueAbove;
  int64_t offset;
};

/// What the elementwise steps between the two matmuls apply to the scores.
struct ScoreSteps {
  ContractionMatch qk;
  std::optional<double> scale;
  Value mask;
  AffineMap maskMap;
  std::optional<int64_t> causalOffset; // -inf where j - i > offset
};

} // namespace

static std::optional<IndexExpr> matchIndexExpr(Value v) {
  if (auto cast = v.getDefiningOp<arith::IndexCastOp>())
    return matchIndexExpr(cast.getIn());
  if (auto cast = v.getDefiningOp<arith::IndexCastUIOp>())
    return matchIndexExpr(cast.getIn());
  if (auto index = v.getDefiningOp<linalg::IndexOp>())
    return IndexExpr{static_cast<unsigned>(index.getDim()), 0};
  APInt c;
  if (auto add = v.getDefiningOp<arith::AddIOp>()) {
    Value other;
    if (matchPattern(add.getRhs(), m_ConstantInt(&c)))
      other = add.getLhs();
    else if (matchPattern(add.getLhs(), m_ConstantInt(&c)))
      other = add.getRhs();
    std::optional<IndexExpr> e = other ? matchIndexExpr(other) : std::nullopt;
    if (e)
      return IndexExpr{e->dim, e->offset + c.getSExtValue()};
  }
  if (auto sub = v.getDefiningOp<arith::SubIOp>();
      sub && matchPattern(sub.getRhs(), m_ConstantInt(&c)))
    if (std::optional<IndexExpr> e = matchIndexExpr(sub.getLhs()))
      return IndexExpr{e->dim, e->offset - c.getSExtValue()};
  return std::nullopt;
}

/// The predicate `b P a` for `a P b`.
static arith::CmpIPredicate swapOperands(arith::CmpIPredicate p) {
  using P = arith::CmpIPredicate;
  switch (p) {
  case P::sgt:
    return P::slt;
  case P::sge:
    return P::sle;
  case P::slt:
    return P::sgt;
  case P::sle:
    return P::sge;
  default:
    return p;
  }
}

/// Matches `cond` as a comparison of the loop indices i (`iDim`) and j
/// (`jDim`) plus constants.
static std::optional<Triangle> matchTriangle(Value cond, unsigned iDim,
                                             unsigned jDim) {
  using P = arith::CmpIPredicate;
  auto cmp = cond.getDefiningOp<arith::CmpIOp>();
  if (!cmp)
    return std::nullopt;
  std::optional<IndexExpr> a = matchIndexExpr(cmp.getLhs());
  std::optional<IndexExpr> b = matchIndexExpr(cmp.getRhs());
  if (!a || !b)
    return std::nullopt;
  P pred = cmp.getPredicate();
  // Unsigned order equals signed order for bare (non-negative) indices.
  static const std::pair<P, P> unsignedToSigned[] = {
      {P::ugt, P::sgt}, {P::uge, P::sge}, {P::ult, P::slt}, {P::ule, P::sle}};
  for (auto [u, s] : unsignedToSigned) {
    if (pred != u)
      continue;
    if (a->offset != 0 || b->offset != 0)
      return std::nullopt;
    pred = s;
  }
  // Normalize to `j - i pred c`.
  int64_t c;
  if (a->dim == jDim && b->dim == iDim) {
    c = b->offset - a->offset;
  } else if (a->dim == iDim && b->dim == jDim) {
    c = a->offset - b->offset;
    pred = swapOperands(pred);
  } else {
    return std::nullopt;
  }
  switch (pred) {
  case P::sgt:
    return Triangle{true, c};
  case P::sge:
    return Triangle{true, c - 1};
  case P::slt:
    return Triangle{false, c - 1};
  case P::sle:
    return Triangle{false, c};
  default:
    return std::nullopt;
  }
}

/// Matches an i1 tensor computed from linalg.index alone, read through
/// `map` by an op with `rank` loops whose last two are (i, j).
static std::optional<Triangle> matchTriangleTensor(Value tri, AffineMap map,
                                                   unsigned rank) {
  auto op = tri.getDefiningOp<linalg::LinalgOp>();
  Value cond = op ? elementwiseYield(op) : Value();
  if (!cond)
    return std::nullopt;
  unsigned t = op.getNumLoops();
  if (t < 2 || t > rank ||
      map != AffineMap::getMinorIdentityMap(rank, t, map.getContext()))
    return std::nullopt;
  return matchTriangle(cond, t - 2, t - 1);
}

static bool isNegInf(std::optional<APFloat> v) {
  return v && v->isInfinity() && v->isNegative();
}

/// Matches `s` as the scores with -inf selected on the triangle above a
/// diagonal; returns the unmasked scores and sets `offset`.
static Value matchCausalStep(Value s, unsigned rank, int64_t &offset) {
  Value prev;
  bool negInfWhenTrue;
  std::optional<Triangle> tri;
  if (auto sel = s.getDefiningOp<arith::SelectOp>()) {
    // A select on whole tensors: the condition is a triangle tensor.
    if (!isa<RankedTensorType>(sel.getCondition().getType()))
      return {};
    negInfWhenTrue = isNegInf(matchSplatFloat(sel.getTrueValue()));
    if (!negInfWhenTrue && !isNegInf(matchSplatFloat(sel.getFalseValue())))
      return {};
    prev = negInfWhenTrue ? sel.getFalseValue() : sel.getTrueValue();
    tri = matchTriangleTensor(
        sel.getCondition(),
        AffineMap::getMultiDimIdentityMap(rank, s.getContext()), rank);
  } else {
    auto op = s.getDefiningOp<linalg::LinalgOp>();
    Value y = op ? elementwiseYield(op) : Value();
    auto bodySel = y ? y.getDefiningOp<arith::SelectOp>() : nullptr;
    if (!bodySel || op.getNumLoops() != rank)
      return {};
    negInfWhenTrue = isNegInf(matchBodyConstant(op, bodySel.getTrueValue()));
    if (!negInfWhenTrue &&
        !isNegInf(matchBodyConstant(op, bodySel.getFalseValue())))
      return {};
    OpOperand *in = inputOperandOf(
        op, negInfWhenTrue ? bodySel.getFalseValue() : bodySel.getTrueValue());
    if (!in || !op.getMatchingIndexingMap(in).isIdentity())
      return {};
    prev = in->get();
    if (OpOperand *triIn = inputOperandOf(op, bodySel.getCondition()))
      tri = matchTriangleTensor(triIn->get(),
                                op.getMatchingIndexingMap(triIn), rank);
    else
      tri = matchTriangle(bodySel.getCondition(), rank - 2, rank - 1);
  }
  // -inf must land exactly on the part above the diagonal.
  if (!tri || tri->trueAbove != negInfWhenTrue || prev.getType() != s.getType())
    return {};
  offset = tri->offset;
  return prev;
}

/// The ways to read `s` as `prev + mask` (addf is commutative, and both
/// operands may have the scores' type).
static SmallVector<std::pair<Value, OpOperand *>> matchMaskStep(Value s) {
  SmallVector<std::pair<Value, OpOperand *>> candidates;
  auto op = s.getDefiningOp<linalg::LinalgOp>();
  Value y = op ? elementwiseYield(op) : Value();
  auto add = y ? y.getDefiningOp<arith::AddFOp>() : nullptr;
  if (!add || op.getNumDpsInputs() != 2)
    return candidates;
  for (auto [x, m] : {std::pair(add.getLhs(), add.getRhs()),
                      std::pair(add.getRhs(), add.getLhs())}) {
    OpOperand *xIn = inputOperandOf(op, x);
    OpOperand *mIn = inputOperandOf(op, m);
    if (xIn && mIn && xIn != mIn &&
        op.getMatchingIndexingMap(xIn).isIdentity() &&
        xIn->get().getType() == s.getType())
      candidates.push_back({xIn->get(), mIn});
  }
  return candidates;
}

/// Matches `s` as `prev * c` or `prev / c` with a constant c; returns prev
/// and sets `scale` to what multiplies prev.
static Value matchScaleStep(Value s, double &scale) {
  auto op = s.getDefiningOp<linalg::LinalgOp>();
  Value y = op ? elementwiseYield(op) : Value();
  Operation *arith = y ? y.getDefiningOp() : nullptr;
  if (!arith || !isa<arith::MulFOp, arith::DivFOp>(arith) ||
      arith->getBlock() != op.getBlock())
    return {};
  Value l = arith->getOperand(0), r = arith->getOperand(1);
  SmallVector<std::pair<Value, Value>> orders = {{l, r}};
  if (isa<arith::MulFOp>(arith))
    orders.push_back({r, l});
  for (auto [x, c] : orders) {
    OpOperand *in = inputOperandOf(op, x);
    std::optional<APFloat> value = matchBodyConstant(op, c);
    if (!in || !value || !op.getMatchingIndexingMap(in).isIdentity() ||
        in->get().getType() != s.getType())
      continue;
    // Every other input must be the constant itself.
    if (op.getNumDpsInputs() > 2 ||
        (op.getNumDpsInputs() == 2 && !inputOperandOf(op, c)))
      continue;
    double v = value->convertToDouble();
    scale = isa<arith::MulFOp>(arith) ? v : 1.0 / v;
    if (!std::isfinite(scale) ||
        !std::isfinite(static_cast<float>(scale)))
      return {};
    return in->get();
  }
  return {};
}

/// Matches the scores `s` (over `rank` loops) upward. `stage` says which
/// steps may still come: 3 causal, 2 mask, 1 scale, 0 only the matmul, in
/// the order attn.attention applies them. Every intermediate has one use.
static bool matchScoreSteps(Value s, unsigned rank, int stage,
                            ScoreSteps &steps) {
  if (std::optional<ContractionMatch> qk = matchContraction(s)) {
    if (qk->numBatch + 2 != rank)
      return false;
    steps.qk = *qk;
    return true;
  }
  if (stage >= 3) {
    int64_t offset;
    if (Value prev = matchCausalStep(s, rank, offset);
        prev && prev.hasOneUse() && matchScoreSteps(prev, rank, 2, steps)) {
      steps.causalOffset = offset;
      return true;
    }
  }
  if (stage >= 2) {
    for (auto [prev, mask] : matchMaskStep(s)) {
      if (!prev.hasOneUse() || !matchScoreSteps(prev, rank, 1, steps))
        continue;
      auto op = cast<linalg::LinalgOp>(s.getDefiningOp());
      steps.mask = mask->get();
      steps.maskMap = op.getMatchingIndexingMap(mask);
      return true;
    }
  }
  if (stage >= 1) {
    double scale;
    if (Value prev = matchScaleStep(s, scale);
        prev && prev.hasOneUse() && matchScoreSteps(prev, rank, 0, steps)) {
      steps.scale = scale;
      return true;
    }
  }
  return false;
}

/// The reassociation that views a rank-`rank` tensor as rank 4 by leading
/// unit dims.
static SmallVector<ReassociationIndices> leadingUnitDims(unsigned rank) {
  SmallVector<ReassociationIndices> groups;
  ReassociationIndices first;
  for (unsigned i = 0; i <= 4 - rank; ++i)
    first.push_back(i);
  groups.push_back(first);
  for (unsigned i = 5 - rank; i < 4; ++i)
    groups.push_back({static_cast<int64_t>(i)});
  return groups;
}

static Value expandTo4D(PatternRewriter &rewriter, Location loc, Value v) {
  auto type = cast<RankedTensorType>(v.getType());
  unsigned rank = type.getRank();
  if (rank == 4)
    return v;
  SmallVector<int64_t> shape(4 - rank, 1);
  llvm::append_range(shape, type.getShape());
  return tensor::ExpandShapeOp::create(
      rewriter, loc, RankedTensorType::get(shape, type.getElementType()), v,
      leadingUnitDims(rank));
}

/// True if the frontend's mask, read through `map` by the scores loops
/// (`rank` of them, the last two (i, j)), is a mask attn.attention takes
/// after expandTo4D: [M, N], or [X.., M, N] where each X is the loop's size
/// or a broadcast unit dim.
static bool isAttnMaskLayout(Value mask, AffineMap map, unsigned rank) {
  auto type = cast<RankedTensorType>(mask.getType());
  if (!type.hasStaticShape())
    return false;
  unsigned r = type.getRank();
  MLIRContext *ctx = mask.getContext();
  if (r == 2)
    return map == AffineMap::getMinorIdentityMap(rank, 2, ctx);
  if (r != rank || map.getNumResults() != rank)
    return false;
  for (unsigned i = 0; i < rank; ++i) {
    AffineExpr e = map.getResult(i);
    if (auto d = dyn_cast<AffineDimExpr>(e); d && d.getPosition() == i)
      continue;
    auto c = dyn_cast<AffineConstantExpr>(e);
    if (i >= rank - 2 || !c || c.getValue() != 0 || type.getDimSize(i) != 1)
      return false;
  }
  return true;
}

namespace {

/// matmul(softmax(causal(mask(scale(matmul(Q, K^T))))), V) -> attn.attention,
/// rooted at the P.V matmul.
struct RaiseAttention : OpInterfaceRewritePattern<linalg::LinalgOp> {
  using OpInterfaceRewritePattern::OpInterfaceRewritePattern;

  LogicalResult matchAndRewrite(linalg::LinalgOp op,
                                PatternRewriter &rewriter) const override {
    if (op->getNumResults() != 1)
      return failure();
    std::optional<ContractionMatch> pv = matchContraction(op->getResult(0));
    if (!pv || pv->rhsTransposed)
      return rewriter.notifyMatchFailure(op, "not a P.V matmul");
    unsigned rank = pv->numBatch + 2;
    if (!pv->lhs.hasOneUse())
      return rewriter.notifyMatchFailure(op, "P has other users");
    std::optional<SoftmaxMatch> softmax = matchSoftmax(pv->lhs);
    if (!softmax || softmax->dim != rank - 1)
      return rewriter.notifyMatchFailure(op, "P is not a softmax over keys");
    Value scores = softmax->input;
    if (!usersWithin(scores, softmax->ops))
      return rewriter.notifyMatchFailure(op, "the scores have other users");
    ScoreSteps steps;
    if (!matchScoreSteps(scores, rank, 3, steps))
      return rewriter.notifyMatchFailure(op, "the scores are not Q.K^T");

    // attn.attention takes K as [.., N, D]. Where the product reads K^T
    // ([.., D, N]: a transpose of K, or K as the frontend keeps it), the
    // transpose is looked through, or else one is inserted.
    Value q = steps.qk.lhs, k = steps.qk.rhs, v = pv->rhs;
    bool transposeK = false;
    if (!steps.qk.rhsTransposed) {
      if (Value source = stripInnerTranspose(k))
        k = source;
      else
        transposeK = true;
    }
    auto qType = cast<RankedTensorType>(q.getType());
    auto kType = cast<RankedTensorType>(k.getType());
    auto vType = cast<RankedTensorType>(v.getType());
    Type elt = qType.getElementType();
    if (!qType.hasStaticShape() || !kType.hasStaticShape() ||
        !vType.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "dynamic shapes");
    if (!isa<Float16Type, BFloat16Type, Float32Type>(elt) ||
        vType.getElementType() != elt)
      return rewriter.notifyMatchFailure(op, "unsupported element types");
    int64_t m = qType.getDimSize(rank - 2);
    int64_t n = kType.getDimSize(transposeK ? rank - 1 : rank - 2);
    // attn.attention's causal diagonal is bottom-right aligned.
    if (steps.causalOffset && *steps.causalOffset != n - m)
      return rewriter.notifyMatchFailure(op, "the triangle is not causal");
    if (steps.mask && !isAttnMaskLayout(steps.mask, steps.maskMap, rank))
      return rewriter.notifyMatchFailure(op, "unsupported mask layout");

    Location loc = op.getLoc();
    if (transposeK)
      k = createInnerTranspose(rewriter, loc, k);
    Value mask;
    if (steps.mask)
      mask = cast<RankedTensorType>(steps.mask.getType()).getRank() == 2
                 ? steps.mask
                 : expandTo4D(rewriter, loc, steps.mask);
    Value q4 = expandTo4D(rewriter, loc, q);
    auto resultType = cast<RankedTensorType>(op->getResult(0).getType());
    SmallVector<int64_t> outShape(4 - rank, 1);
    llvm::append_range(outShape, resultType.getShape());
    SmallVector<Value> operands = {q4, expandTo4D(rewriter, loc, k),
                                   expandTo4D(rewriter, loc, v)};
    if (mask)
      operands.push_back(mask);
    auto attention = AttentionOp::create(
        rewriter, loc, TypeRange{RankedTensorType::get(outShape, elt)},
        operands);
    // Without a scale step the frontend computes plain Q.K^T: scale 1, not
    // the op's default 1/sqrt(D).
    attention.setScaleAttr(
        rewriter.getF32FloatAttr(steps.scale.value_or(1.0)));
    attention.setCausal(steps.causalOffset.has_value());
    Value out = attention.getOutput();
    if (rank != 4)
      out = tensor::CollapseShapeOp::create(rewriter, loc, resultType, out,
                                            leadingUnitDims(rank));
    rewriter.replaceOp(op, out);
    return success();
  }
};

} // namespace

void mlir::attn::fuse::populateFuseAttentionPatterns(
    RewritePatternSet &patterns) {
  patterns.add<RaiseAttention>(patterns.getContext());
}
