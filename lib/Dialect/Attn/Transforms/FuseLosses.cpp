//===- FuseLosses.cpp - raise NLL-of-log-softmax into attn losses ---------===//
//
// log_softmax(logits) -> gather of the label -> negate -> [sum [/ N]]
// becomes attn.cross_entropy (reduction none, sum or mean), and
// attn.cross_entropy of matmul(hidden, W^T) [+ bias] becomes
// attn.linear_cross_entropy.
//
// The frontend chains matched here have no ignore handling: every token
// counts. attn.cross_entropy always ignores the tokens whose label equals
// ignore_index (-100 by default), so the raised op gets ignore_index =
// INT64_MIN, a value no label can hold once labels are i64 (i32 labels are
// sign-extended first). The raised op then computes exactly the frontend's
// loss, including for a label of -100.
//
//===----------------------------------------------------------------------===//

#include "FuseMatchers.h"

#include "attn/Dialect/Attn/IR/AttnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <limits>

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::fuse;

using utils::IteratorType;

namespace {

/// `logp[n, labels[n]]` for every token n, possibly already negated.
struct GatherMatch {
  Value logp;
  Value labels;
  bool negated;
};

} // namespace

static bool isZero(std::optional<APFloat> v) { return v && v->isZero(); }

/// `v` if it is an integer label read in `op`'s body, looking through an
/// index_cast; the labels tensor otherwise null.
static Value labelTensorOf(linalg::LinalgOp op, Value v) {
  if (auto cast = v.getDefiningOp<arith::IndexCastOp>())
    v = cast.getIn();
  OpOperand *in = inputOperandOf(op, v);
  if (!in || !isa<IntegerType>(v.getType()))
    return {};
  return in->get();
}

static bool isLoopIndex(Value v, unsigned dim) {
  if (auto cast = v.getDefiningOp<arith::IndexCastOp>())
    v = cast.getIn();
  auto index = v.getDefiningOp<linalg::IndexOp>();
  return index && index.getDim() == dim;
}

/// A generic over tokens n whose body is `tensor.extract %logp[n, label]`,
/// or a one-hot reduction `sum_v (v == label ? logp[n, v] : 0)`.
static std::optional<GatherMatch> matchGather(Value v) {
  auto op = v.getDefiningOp<linalg::LinalgOp>();
  if (!op || op->getNumResults() != 1 || !op.hasPureTensorSemantics() ||
      op.getNumDpsInits() != 1)
    return std::nullopt;
  Value y = op.getBlock()->getTerminator()->getOperand(0);
  bool negated = false;
  auto stripNeg = [&](Value x) {
    if (auto neg = x.getDefiningOp<arith::NegFOp>()) {
      negated = true;
      return neg.getOperand();
    }
    return x;
  };

  if (elementwiseYield(op) && op.getNumLoops() == 1 &&
      op.getNumDpsInputs() == 1 &&
      op.getMatchingIndexingMap(op.getDpsInputOperand(0)).isIdentity()) {
    auto extract = stripNeg(y).getDefiningOp<tensor::ExtractOp>();
    if (!extract || extract.getIndices().size() != 2 ||
        op->getRegion(0).isAncestor(extract.getTensor().getParentRegion()) ||
        !isLoopIndex(extract.getIndices()[0], 0))
      return std::nullopt;
    Value labels = labelTensorOf(op, extract.getIndices()[1]);
    if (!labels)
      return std::nullopt;
    return GatherMatch{extract.getTensor(), labels, negated};
  }

  // One-hot: loops (n, v), v reduced, accumulated from 0.
  SmallVector<IteratorType> its = op.getIteratorTypesArray();
  if (op.getNumLoops() != 2 || its[0] != IteratorType::parallel ||
      its[1] != IteratorType::reduction || op.getNumDpsInputs() != 2)
    return std::nullopt;
  MLIRContext *ctx = op.getContext();
  AffineMap rowMap = AffineMap::get(2, 0, getAffineDimExpr(0, ctx));
  OpOperand *init = op.getDpsInitOperand(0);
  if (op.getMatchingIndexingMap(init) != rowMap ||
      !isZero(matchSplatFloat(init->get())))
    return std::nullopt;
  auto add = y.getDefiningOp<arith::AddFOp>();
  if (!add)
    return std::nullopt;
  Value acc = op.getMatchingBlockArgument(init);
  Value picked = add.getLhs() == acc ? add.getRhs() : add.getLhs();
  if (add.getLhs() != acc && add.getRhs() != acc)
    return std::nullopt;
  auto sel = picked.getDefiningOp<arith::SelectOp>();
  if (!sel || !isZero(matchBodyConstant(op, sel.getFalseValue())))
    return std::nullopt;
  OpOperand *logp = inputOperandOf(op, stripNeg(sel.getTrueValue()));
  auto cmp = sel.getCondition().getDefiningOp<arith::CmpIOp>();
  if (!logp || !op.getMatchingIndexingMap(logp).isIdentity() || !cmp ||
      cmp.getPredicate() != arith::CmpIPredicate::eq)
    return std::nullopt;
  for (auto [col, label] : {std::pair(cmp.getLhs(), cmp.getRhs()),
                            std::pair(cmp.getRhs(), cmp.getLhs())}) {
    Value labels = labelTensorOf(op, label);
    if (!labels || !isLoopIndex(col, 1))
      continue;
    OpOperand *labelsIn = labels == op.getDpsInputOperand(0)->get()
                              ? op.getDpsInputOperand(0)
                              : op.getDpsInputOperand(1);
    if (labelsIn == logp || op.getMatchingIndexingMap(labelsIn) != rowMap)
      return std::nullopt;
    return GatherMatch{logp->get(), labels, negated};
  }
  return std::nullopt;
}

/// Matches `v` as `-prev` (negf, 0 - prev or prev * -1); returns prev.
static Value matchNegateStep(Value v) {
  auto op = v.getDefiningOp<linalg::LinalgOp>();
  Value y = op ? elementwiseYield(op) : Value();
  if (!y || op.getNumDpsInputs() > 2)
    return {};
  Value x;
  if (auto neg = y.getDefiningOp<arith::NegFOp>()) {
    x = neg.getOperand();
  } else if (auto sub = y.getDefiningOp<arith::SubFOp>()) {
    if (isZero(matchBodyConstant(op, sub.getLhs())))
      x = sub.getRhs();
  } else if (auto mul = y.getDefiningOp<arith::MulFOp>()) {
    auto isMinusOne = [&](Value c) {
      std::optional<APFloat> f = matchBodyConstant(op, c);
      return f && f->isExactlyValue(-1.0);
    };
    if (isMinusOne(mul.getRhs()))
      x = mul.getLhs();
    else if (isMinusOne(mul.getLhs()))
      x = mul.getRhs();
  }
  OpOperand *in = x ? inputOperandOf(op, x) : nullptr;
  if (!in || !op.getMatchingIndexingMap(in).isIdentity() ||
      in->get().getType() != v.getType())
    return {};
  return in->get();
}

/// Matches `v` as `prev / c` on a rank-0 tensor; returns prev.
static Value matchDivStep(Value v, double &divisor) {
  auto op = v.getDefiningOp<linalg::LinalgOp>();
  Value y = op ? elementwiseYield(op) : Value();
  auto div = y ? y.getDefiningOp<arith::DivFOp>() : nullptr;
  if (!div || op.getNumLoops() != 0 || op.getNumDpsInputs() > 2)
    return {};
  OpOperand *in = inputOperandOf(op, div.getLhs());
  std::optional<APFloat> c = matchBodyConstant(op, div.getRhs());
  if (!in || !c || in->get().getType() != v.getType())
    return {};
  divisor = c->convertToDouble();
  return in->get();
}

namespace {

/// -gather(log_softmax(logits), labels) [summed [divided by N]] ->
/// attn.cross_entropy, rooted at the last op of the chain.
struct RaiseCrossEntropy : OpInterfaceRewritePattern<linalg::LinalgOp> {
  using OpInterfaceRewritePattern::OpInterfaceRewritePattern;

  LogicalResult matchAndRewrite(linalg::LinalgOp op,
                                PatternRewriter &rewriter) const override {
    if (op->getNumResults() != 1)
      return failure();
    Value root = op->getResult(0);
    // Walk up: negation, the sum over tokens and the division by N, in any
    // order that keeps the division after the sum.
    Value cur = root;
    int negations = 0;
    bool summed = false;
    std::optional<double> divisor;
    std::optional<GatherMatch> gather;
    while (!gather) {
      if (cur != root && !cur.hasOneUse())
        return rewriter.notifyMatchFailure(op, "an intermediate has users");
      if ((gather = matchGather(cur)))
        break;
      double c;
      if (Value prev = matchNegateStep(cur)) {
        ++negations;
        cur = prev;
      } else if (Value prev = matchDivStep(cur, c)) {
        if (divisor || summed)
          return failure();
        divisor = c;
        cur = prev;
      } else if (std::optional<ReductionMatch> sum =
                     matchReduction(cur, Combiner::sum);
                 sum && sum->dim == 0 &&
                 cast<linalg::LinalgOp>(sum->op).getNumLoops() == 1 &&
                 !summed) {
        summed = true;
        cur = sum->input;
      } else {
        return rewriter.notifyMatchFailure(op, "not a loss chain");
      }
    }
    if (gather->negated)
      ++negations;
    if (negations != 1 || (divisor && !summed))
      return rewriter.notifyMatchFailure(op, "not a negated mean/sum");

    // The gathered tensor is a log-softmax over the vocabulary.
    if (!gather->logp.hasOneUse())
      return rewriter.notifyMatchFailure(op, "log-probabilities have users");
    std::optional<SoftmaxMatch> logSoftmax = matchLogSoftmax(gather->logp);
    if (!logSoftmax || logSoftmax->dim != 1)
      return rewriter.notifyMatchFailure(op, "not a log-softmax over dim 1");
    Value logits = logSoftmax->input;
    auto logitsType = cast<RankedTensorType>(logits.getType());
    auto labelsType = dyn_cast<RankedTensorType>(gather->labels.getType());
    // The loss of attn.cross_entropy is f32: so must the frontend's be.
    if (logitsType.getRank() != 2 || !logitsType.getElementType().isF32() ||
        !labelsType || labelsType.getRank() != 1 ||
        (!labelsType.getElementType().isInteger(64) &&
         !labelsType.getElementType().isInteger(32)))
      return rewriter.notifyMatchFailure(op, "unsupported types");
    int64_t tokens = logitsType.getDimSize(0);
    Reduction reduction = !summed    ? Reduction::none
                          : divisor ? Reduction::mean
                                    : Reduction::sum;
    if (divisor && (ShapedType::isDynamic(tokens) || tokens == 0 ||
                    *divisor != static_cast<double>(tokens)))
      return rewriter.notifyMatchFailure(op, "not divided by the token count");
    auto f32 = rewriter.getF32Type();
    Type lossType = reduction == Reduction::none
                        ? RankedTensorType::get({tokens}, f32)
                        : RankedTensorType::get({}, f32);
    if (root.getType() != lossType)
      return rewriter.notifyMatchFailure(op, "unexpected loss type");

    Location loc = op.getLoc();
    Value labels = gather->labels;
    if (!labelsType.getElementType().isInteger(64))
      labels = arith::ExtSIOp::create(
          rewriter, loc,
          RankedTensorType::get(labelsType.getShape(),
                                rewriter.getI64Type()),
          labels);
    auto ce = CrossEntropyOp::create(rewriter, loc, TypeRange{lossType},
                                     ValueRange{logits, labels});
    ce.setIgnoreIndexAttr(
        rewriter.getI64IntegerAttr(std::numeric_limits<int64_t>::min()));
    ce.setReductionAttr(ReductionAttr::get(rewriter.getContext(), reduction));
    rewriter.replaceOp(op, ce);
    return success();
  }
};

/// attn.cross_entropy(matmul(hidden, W^T) [+ bias]) ->
/// attn.linear_cross_entropy with the same attributes.
struct RaiseLinearCrossEntropy : OpRewritePattern<CrossEntropyOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(CrossEntropyOp op,
                                PatternRewriter &rewriter) const override {
    Value logits = op.getLogits();
    if (!logits.hasOneUse())
      return rewriter.notifyMatchFailure(op, "the logits have other users");
    Value product = logits, bias;
    if (!matchContraction(logits)) {
      // logits = product + bias[v].
      auto add = logits.getDefiningOp<linalg::LinalgOp>();
      Value y = add ? elementwiseYield(add) : Value();
      auto addf = y ? y.getDefiningOp<arith::AddFOp>() : nullptr;
      if (!addf || add.getNumDpsInputs() != 2)
        return rewriter.notifyMatchFailure(op, "no matmul or bias add");
      MLIRContext *ctx = op.getContext();
      AffineMap perVocab = AffineMap::get(2, 0, getAffineDimExpr(1, ctx));
      for (auto [x, b] : {std::pair(addf.getLhs(), addf.getRhs()),
                          std::pair(addf.getRhs(), addf.getLhs())}) {
        OpOperand *xIn = inputOperandOf(add, x);
        OpOperand *bIn = inputOperandOf(add, b);
        if (xIn && bIn && xIn != bIn &&
            add.getMatchingIndexingMap(xIn).isIdentity() &&
            add.getMatchingIndexingMap(bIn) == perVocab) {
          product = xIn->get();
          bias = bIn->get();
          break;
        }
      }
      if (!bias || !product.hasOneUse())
        return rewriter.notifyMatchFailure(op, "no bias add of a product");
    }
    std::optional<ContractionMatch> mm = matchContraction(product);
    if (!mm || mm->numBatch != 0)
      return rewriter.notifyMatchFailure(op, "not hidden . W^T");
    Value weight = mm->rhsTransposed ? mm->rhs : stripInnerTranspose(mm->rhs);
    if (!weight)
      return rewriter.notifyMatchFailure(op, "W is not transposed");
    SmallVector<Value> operands = {mm->lhs, weight, op.getLabels()};
    if (bias)
      operands.push_back(bias);
    auto lce = LinearCrossEntropyOp::create(rewriter, op.getLoc(),
                                            op->getResultTypes(), operands);
    lce.setIgnoreIndexAttr(op.getIgnoreIndexAttr());
    lce.setLabelSmoothingAttr(op.getLabelSmoothingAttr());
    lce.setZLossAttr(op.getZLossAttr());
    lce.setSoftcapAttr(op.getSoftcapAttr());
    lce.setReductionAttr(op.getReductionAttr());
    rewriter.replaceOp(op, lce);
    return success();
  }
};

} // namespace

void mlir::attn::fuse::populateFuseLossPatterns(RewritePatternSet &patterns) {
  patterns.add<RaiseCrossEntropy, RaiseLinearCrossEntropy>(
      patterns.getContext());
}
