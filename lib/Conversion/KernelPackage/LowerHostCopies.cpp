//===- LowerHostCopies.cpp - memref.copy to linalg.copy -------------------===//
//
// On the GPU path the host must not touch device buffers: a memref.copy left
// by bufferization becomes a linalg.copy, which the GPU mapping lowers to a
// kernel like any other linalg op.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNLOWERHOSTCOPIES
#include "attn/Conversion/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;

namespace {
struct CopyToLinalg : OpRewritePattern<memref::CopyOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(memref::CopyOp op,
                                PatternRewriter &rewriter) const override {
    rewriter.replaceOpWithNewOp<linalg::CopyOp>(op, op.getSource(),
                                                op.getTarget());
    return success();
  }
};

struct AttnLowerHostCopiesPass
    : public attn::impl::AttnLowerHostCopiesBase<AttnLowerHostCopiesPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    attn::populateLowerHostCopiesPatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace

void mlir::attn::populateLowerHostCopiesPatterns(RewritePatternSet &patterns) {
  patterns.add<CopyToLinalg>(patterns.getContext());
}
