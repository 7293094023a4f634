//===- Fuse.cpp - the attn-fuse pass --------------------------------------===//
//
// Raises the unfused computations that frontends emit (attention, softmax,
// log-softmax, cross-entropy) into attn ops. The patterns live in
// FuseAttention.cpp, FuseSoftmax.cpp and FuseLosses.cpp.
//
//===----------------------------------------------------------------------===//

#include "FuseMatchers.h"

#include "attn/Dialect/Attn/IR/AttnDialect.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Dialect/Attn/Transforms/Passes.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNFUSE
#include "attn/Dialect/Attn/Transforms/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;

namespace {

struct AttnFusePass : public attn::impl::AttnFuseBase<AttnFusePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateAttnFusePatterns(patterns);
    // Only the matched chains change: no folding or constant hoisting of
    // the IR that no pattern raises.
    GreedyRewriteConfig config;
    config.enableFolding(false).enableConstantCSE(false);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns),
                                     config)))
      return signalPassFailure();
  }
};

} // namespace

void mlir::attn::populateAttnFusePatterns(RewritePatternSet &patterns) {
  fuse::populateFuseSoftmaxPatterns(patterns);
  fuse::populateFuseAttentionPatterns(patterns);
  fuse::populateFuseLossPatterns(patterns);
}
