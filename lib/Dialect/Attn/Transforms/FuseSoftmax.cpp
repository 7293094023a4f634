//===- FuseSoftmax.cpp - raise softmax chains into attn ops ---------------===//
//
// linalg.softmax and the max / sub / exp / sum / div chains of the frontends
// become attn.softmax; the chain that ends in (x - max) - log(sum) becomes
// attn.log_softmax. Each pattern is rooted at the last op of its chain.
//
//===----------------------------------------------------------------------===//

#include "FuseMatchers.h"

#include "attn/Dialect/Attn/IR/AttnOps.h"

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::fuse;

/// The attn softmax family takes ranked f16, bf16 or f32 tensors.
static bool isSoftmaxOperandType(Type type) {
  auto t = dyn_cast<RankedTensorType>(type);
  return t && t.getRank() > 0 && isa<Float16Type, BFloat16Type, Float32Type>(
                                     t.getElementType());
}

template <typename AttnOpTy>
static LogicalResult replaceWithSoftmaxOp(PatternRewriter &rewriter, Operation *root,
                                   const SoftmaxMatch &match) {
  Value result = root->getResult(0);
  if (!isSoftmaxOperandType(match.input.getType()) ||
      match.input.getType() != result.getType())
    return rewriter.notifyMatchFailure(root, "element type or shape differs");
  auto op = AttnOpTy::create(rewriter, root->getLoc(),
                             TypeRange{result.getType()},
                             ValueRange{match.input});
  op.setDimAttr(rewriter.getI64IntegerAttr(match.dim));
  rewriter.replaceOp(root, op);
  return success();
}

namespace {

/// max / sub / exp / sum / div generics (or linalg.reduce) -> attn.softmax.
struct RaiseSoftmaxChain : OpInterfaceRewritePattern<linalg::LinalgOp> {
  using OpInterfaceRewritePattern::OpInterfaceRewritePattern;

  LogicalResult matchAndRewrite(linalg::LinalgOp op,
                                PatternRewriter &rewriter) const override {
    if (op->getNumResults() != 1)
      return failure();
    std::optional<SoftmaxMatch> match = matchSoftmax(op->getResult(0));
    if (!match || match->ops.front() != op.getOperation())
      return rewriter.notifyMatchFailure(op, "not the end of a softmax chain");
    return replaceWithSoftmaxOp<SoftmaxOp>(rewriter, op, *match);
  }
};

/// linalg.softmax -> attn.softmax (same dim, same types).
struct RaiseLinalgSoftmax : OpRewritePattern<linalg::SoftmaxOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::SoftmaxOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.hasPureTensorSemantics())
      return failure();
    std::optional<SoftmaxMatch> match = matchSoftmax(op->getResult(0));
    if (!match)
      return failure();
    return replaceWithSoftmaxOp<SoftmaxOp>(rewriter, op, *match);
  }
};

/// max / sub / exp / sum / log / sub generics -> attn.log_softmax.
struct RaiseLogSoftmaxChain : OpInterfaceRewritePattern<linalg::LinalgOp> {
  using OpInterfaceRewritePattern::OpInterfaceRewritePattern;

  LogicalResult matchAndRewrite(linalg::LinalgOp op,
                                PatternRewriter &rewriter) const override {
    if (op->getNumResults() != 1)
      return failure();
    std::optional<SoftmaxMatch> match = matchLogSoftmax(op->getResult(0));
    if (!match || match->ops.front() != op.getOperation())
      return rewriter.notifyMatchFailure(op,
                                         "not the end of a log-softmax chain");
    return replaceWithSoftmaxOp<LogSoftmaxOp>(rewriter, op, *match);
  }
};

} // namespace

void mlir::attn::fuse::populateFuseSoftmaxPatterns(
    RewritePatternSet &patterns) {
  patterns.add<RaiseSoftmaxChain, RaiseLinalgSoftmax, RaiseLogSoftmaxChain>(
      patterns.getContext());
}
