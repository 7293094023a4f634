//===- FuseLosses.cpp - raise unfused cross-entropy into attn losses ------===//
//
// A per-token loss -> negate -> [sum [/ N]] becomes attn.cross_entropy
// (reduction none, sum or mean), and attn.cross_entropy of
// matmul(hidden, W^T) [+ bias] becomes attn.linear_cross_entropy. The
// per-token loss is either the label's entry of a log-softmax (gathered by
// tensor.extract or a one-hot select-sum), or torch-mlir's nll_loss form
// `lse - z[label]` with the row max and the sum of exponentials in one
// online reduction.
//
// attn.cross_entropy always ignores the tokens whose label equals
// ignore_index (-100 by default). A frontend chain without ignore handling
// counts every token, so the raised op gets ignore_index = INT64_MIN, a
// value no label can hold once labels are i64 (i32 labels are sign-extended
// first); it then computes exactly the frontend's loss, including for a
// label of -100. A chain that selects 0 for `label == c` (torch's nll_loss,
// c = -100) gets ignore_index = c, with reduction none or sum only: its
// mean divides by the count of kept tokens, which is NaN where the op gives
// 0 (every token ignored), so that mean is left as the frontend wrote it
// and only the per-token loss is raised.
//
//===----------------------------------------------------------------------===//

#include "FuseMatchers.h"

#include "attn/Dialect/Attn/IR/AttnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"

#include <limits>

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::fuse;

using utils::IteratorType;

namespace {

/// What a generic over tokens n computes: the cross-entropy of `logits`
/// against `labels` per token, or its negation when `negated`; 0 for the
/// tokens whose label is `ignoreIndex` where the body selects that.
struct TokenLossMatch {
  Value logits;
  Value labels;
  std::optional<int64_t> ignoreIndex;
  bool negated = false;
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

/// The integer constant `v` holds, looking through an index_cast.
static std::optional<int64_t> matchIntConstant(Value v) {
  if (auto cast = v.getDefiningOp<arith::IndexCastOp>())
    v = cast.getIn();
  APInt c;
  if (!matchPattern(v, m_ConstantInt(&c)))
    return std::nullopt;
  return c.getSExtValue();
}

/// `v` with a negf in `op`'s body stripped; toggles `negated` if there was
/// one.
static Value stripNegation(linalg::LinalgOp op, Value v, bool &negated) {
  auto neg = v.getDefiningOp<arith::NegFOp>();
  if (!neg || neg->getBlock() != op.getBlock())
    return v;
  negated = !negated;
  return neg.getOperand();
}

/// Matches `v` (in `op`'s body) as `label == c ? 0 : kept` or
/// `label != c ? kept : 0`, the label read from an input of `op` and c a
/// constant: sets `labels` and `ignoreIndex`, returns kept.
static Value matchIgnoreSelect(linalg::LinalgOp op, Value v, Value &labels,
                               int64_t &ignoreIndex) {
  auto sel = v.getDefiningOp<arith::SelectOp>();
  auto cmp = sel ? sel.getCondition().getDefiningOp<arith::CmpIOp>() : nullptr;
  if (!cmp || sel->getBlock() != op.getBlock())
    return {};
  Value kept, zero;
  if (cmp.getPredicate() == arith::CmpIPredicate::eq) {
    zero = sel.getTrueValue();
    kept = sel.getFalseValue();
  } else if (cmp.getPredicate() == arith::CmpIPredicate::ne) {
    kept = sel.getTrueValue();
    zero = sel.getFalseValue();
  } else {
    return {};
  }
  if (!isZero(matchBodyConstant(op, zero)))
    return {};
  for (auto [label, c] : {std::pair(cmp.getLhs(), cmp.getRhs()),
                          std::pair(cmp.getRhs(), cmp.getLhs())}) {
    Value tensor = labelTensorOf(op, label);
    std::optional<int64_t> value = matchIntConstant(c);
    if (tensor && value) {
      labels = tensor;
      ignoreIndex = *value;
      return kept;
    }
  }
  return {};
}

/// True if `v` (in `op`'s body) is `m + log(s)`, m and s read whole from
/// the max and sum results of one online max / sum-exp of `logits` over
/// dim 1 that nothing else reads.
static bool isMaxPlusLogSum(linalg::LinalgOp op, Value v, Value logits) {
  auto add = v.getDefiningOp<arith::AddFOp>();
  if (!add || add->getBlock() != op.getBlock())
    return false;
  for (auto [m, l] : {std::pair(add.getLhs(), add.getRhs()),
                      std::pair(add.getRhs(), add.getLhs())}) {
    auto log = l.getDefiningOp<math::LogOp>();
    OpOperand *mIn = inputOperandOf(op, m);
    OpOperand *sIn = log ? inputOperandOf(op, log.getOperand()) : nullptr;
    if (!mIn || !sIn || log->getBlock() != op.getBlock() ||
        !op.getMatchingIndexingMap(mIn).isIdentity() ||
        !op.getMatchingIndexingMap(sIn).isIdentity())
      continue;
    std::optional<OnlineMaxSumExpMatch> online =
        matchOnlineMaxSumExp(mIn->get().getDefiningOp());
    if (online && online->max == mIn->get() && online->sum == sIn->get() &&
        online->input == logits && online->dim == 1 &&
        online->max.hasOneUse() && online->sum.hasOneUse())
      return true;
  }
  return false;
}

/// True if `lse` (in `op`'s body) is the row log-sum-exp of `logits` as
/// max + log(sum) of an online max / sum-exp: computed in this body, or
/// read whole from an elementwise generic of its own used only here.
static bool isOnlineLogSumExp(linalg::LinalgOp op, Value lse, Value logits) {
  if (isMaxPlusLogSum(op, lse, logits))
    return true;
  OpOperand *in = inputOperandOf(op, lse);
  if (!in || !op.getMatchingIndexingMap(in).isIdentity() ||
      !in->get().hasOneUse())
    return false;
  auto lseOp = in->get().getDefiningOp<linalg::LinalgOp>();
  Value y = lseOp ? elementwiseYield(lseOp) : Value();
  return y && lseOp.getNumLoops() == 1 && isMaxPlusLogSum(lseOp, y, logits);
}

/// A generic over tokens n (one loop, inputs read whole) whose body yields,
/// up to a negation and a select of 0 for an ignored label, either
/// `logp[n, label]` (tensor.extract) with logp a log-softmax over dim 1
/// used only here, or `lse[n] - z[n, label]` (torch-mlir's nll_loss of the
/// logits) with lse the online log-sum-exp of z over dim 1.
static std::optional<TokenLossMatch>
matchExtractTokenLoss(linalg::LinalgOp op) {
  if (!elementwiseYield(op) || op.getNumLoops() != 1)
    return std::nullopt;
  for (OpOperand *in : op.getDpsInputOperands())
    if (!op.getMatchingIndexingMap(in).isIdentity())
      return std::nullopt;
  TokenLossMatch match;
  Value x = stripNegation(op, elementwiseYield(op), match.negated);
  Value ignoredLabels;
  int64_t ignoreIndex;
  if (Value kept = matchIgnoreSelect(op, x, ignoredLabels, ignoreIndex)) {
    match.ignoreIndex = ignoreIndex;
    x = stripNegation(op, kept, match.negated);
  }

  // The label's entry of a tensor from above the body: t[n, label[n]].
  auto labelEntryOf = [&](Value e) -> Value {
    auto extract = e.getDefiningOp<tensor::ExtractOp>();
    if (!extract || extract->getBlock() != op.getBlock() ||
        extract.getIndices().size() != 2 ||
        op->getRegion(0).isAncestor(extract.getTensor().getParentRegion()) ||
        !isLoopIndex(extract.getIndices()[0], 0))
      return {};
    match.labels = labelTensorOf(op, extract.getIndices()[1]);
    return match.labels ? extract.getTensor() : Value();
  };
  if (Value logp = labelEntryOf(x)) {
    // logp[label] is the negated loss.
    std::optional<SoftmaxMatch> logSoftmax =
        logp.hasOneUse() ? matchLogSoftmax(logp) : std::nullopt;
    if (op.getNumDpsInputs() != 1 || !logSoftmax || logSoftmax->dim != 1)
      return std::nullopt;
    match.logits = logSoftmax->input;
    match.negated = !match.negated;
  } else {
    auto sub = x.getDefiningOp<arith::SubFOp>();
    Value z = sub && sub->getBlock() == op.getBlock()
                  ? labelEntryOf(sub.getRhs())
                  : Value();
    if (!z || !isOnlineLogSumExp(op, sub.getLhs(), z))
      return std::nullopt;
    match.logits = z;
  }
  // The select must test the label that picks the entry.
  if (match.ignoreIndex && ignoredLabels != match.labels)
    return std::nullopt;
  return match;
}

/// The one-hot reduction `sum_v (v == label ? logp[n, v] : 0)` over loops
/// (n, v), possibly negated, with logp a log-softmax over dim 1 used only
/// here.
static std::optional<TokenLossMatch> matchOneHotTokenLoss(linalg::LinalgOp op) {
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
  Value y = op.getBlock()->getTerminator()->getOperand(0);
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
  TokenLossMatch match;
  // logp[label] is the negated loss.
  match.negated = true;
  OpOperand *logp =
      inputOperandOf(op, stripNegation(op, sel.getTrueValue(), match.negated));
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
    if (labelsIn == logp || op.getMatchingIndexingMap(labelsIn) != rowMap ||
        !logp->get().hasOneUse())
      return std::nullopt;
    std::optional<SoftmaxMatch> logSoftmax = matchLogSoftmax(logp->get());
    if (!logSoftmax || logSoftmax->dim != 1)
      return std::nullopt;
    match.logits = logSoftmax->input;
    match.labels = labels;
    return match;
  }
  return std::nullopt;
}

/// The per-token loss `v` computes, in any of the forms above.
static std::optional<TokenLossMatch> matchTokenLoss(Value v) {
  auto op = v.getDefiningOp<linalg::LinalgOp>();
  if (!op || op->getNumResults() != 1 || !op.hasPureTensorSemantics() ||
      op.getNumDpsInits() != 1)
    return std::nullopt;
  if (std::optional<TokenLossMatch> match = matchExtractTokenLoss(op))
    return match;
  return matchOneHotTokenLoss(op);
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

/// A per-token loss [negated] [summed [divided by N]] ->
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
    std::optional<TokenLossMatch> token;
    while (!token) {
      if (cur != root && !cur.hasOneUse())
        return rewriter.notifyMatchFailure(op, "an intermediate has users");
      if ((token = matchTokenLoss(cur)))
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
    if (negations != (token->negated ? 1 : 0) || (divisor && !summed))
      return rewriter.notifyMatchFailure(op, "not a loss, sum or mean");
    // Over all tokens, ignored ones included: not the op's mean.
    if (divisor && token->ignoreIndex)
      return rewriter.notifyMatchFailure(op, "a mean counting ignored tokens");

    Value logits = token->logits;
    auto logitsType = cast<RankedTensorType>(logits.getType());
    auto labelsType = dyn_cast<RankedTensorType>(token->labels.getType());
    // The loss of attn.cross_entropy is f32: so must the frontend's be.
    if (logitsType.getRank() != 2 || !logitsType.getElementType().isF32() ||
        !labelsType || labelsType.getRank() != 1 ||
        (!labelsType.getElementType().isInteger(64) &&
         !labelsType.getElementType().isInteger(32)))
      return rewriter.notifyMatchFailure(op, "unsupported types");
    int64_t tokens = logitsType.getDimSize(0);
    if (labelsType.getDimSize(0) != tokens)
      return rewriter.notifyMatchFailure(op, "not one label per row");
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
    Value labels = token->labels;
    if (!labelsType.getElementType().isInteger(64))
      labels = arith::ExtSIOp::create(
          rewriter, loc,
          RankedTensorType::get(labelsType.getShape(),
                                rewriter.getI64Type()),
          labels);
    auto ce = CrossEntropyOp::create(rewriter, loc, TypeRange{lossType},
                                     ValueRange{logits, labels});
    ce.setIgnoreIndexAttr(rewriter.getI64IntegerAttr(
        token->ignoreIndex.value_or(std::numeric_limits<int64_t>::min())));
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
