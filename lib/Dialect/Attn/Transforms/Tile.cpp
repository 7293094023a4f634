//===- Tile.cpp - the attn-tile pass ---------------------------------------===//
//
// Drives the tiling patterns of TileAttention.cpp, TileSoftmax.cpp and
// TileLosses.cpp over a function or module.
//
//===----------------------------------------------------------------------===//

#include "TileUtils.h"

#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Dialect/Attn/Transforms/Passes.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNTILE
#include "attn/Dialect/Attn/Transforms/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;

void mlir::attn::populateAttnTilePatterns(RewritePatternSet &patterns) {
  detail::populateTileAttentionPatterns(patterns);
  detail::populateTileAttentionGradPatterns(patterns);
  detail::populateTileSoftmaxPatterns(patterns);
  detail::populateTileLossPatterns(patterns);
}

namespace {
struct AttnTilePass : public attn::impl::AttnTileBase<AttnTilePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateAttnTilePatterns(patterns);
    // The tiled loops contain no attn op, so one application per op
    // suffices; do not fold the new loops here.
    GreedyRewriteConfig config;
    config.setStrictness(GreedyRewriteStrictness::ExistingOps);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns),
                                     config)))
      return signalPassFailure();
    getOperation()->walk([](Operation *op) {
      if (!isa<AttnOpInterface>(op))
        return;
      if (isa<SoftmaxGradOp, LogSoftmaxGradOp, LogSumExpGradOp,
              CrossEntropyGradOp, LinearCrossEntropyGradOp, AttentionGradOp>(
            op))
        op->emitRemark("attn-tile left this op untiled (this gradient op "
                       "has no tiled form yet, or its schedule's tiles are "
                       "zero); it will be decomposed");
      else
        op->emitRemark("attn-tile left this op untiled (attention with "
                       "dynamic head counts is not tiled); it will be "
                       "decomposed");
    });
  }
};
} // namespace
