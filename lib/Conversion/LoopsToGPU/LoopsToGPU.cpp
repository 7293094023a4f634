//===- LoopsToGPU.cpp - simple mapping of host loops onto GPU launches ----===//
//
// Turns each top-level scf.parallel of a bufferized function into a
// gpu.launch with one thread per iteration, and wraps any other top-level
// computation in a single-thread launch, so that the host function is left
// with allocations, views and launches only.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNLOOPSTOGPU
#include "attn/Conversion/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;

namespace {

/// Ops that stay on the host: they describe buffers, not computation, or
/// launch kernels (a host loop of launches, such as the chunk loop of the
/// linear cross-entropy backward, is a launch sequence).
bool staysOnHost(Operation *op) {
  if (auto loop = dyn_cast<scf::ForOp>(op))
    return loop.getNumResults() == 0 &&
           llvm::all_of(loop.getBody()->without_terminator(),
                        [](Operation &inner) { return staysOnHost(&inner); });
  return isa<memref::AllocOp, memref::AllocaOp, memref::DeallocOp,
             memref::ExpandShapeOp, memref::CollapseShapeOp, memref::CastOp,
             memref::ReinterpretCastOp, memref::SubViewOp, arith::ConstantOp,
             gpu::LaunchOp, func::ReturnOp>(op) ||
         op->hasTrait<OpTrait::ConstantLike>() ||
         // A TMA tensor map made on the host and passed to a kernel as a
         // pointer (Builders/Tma.h).
         isa<nvgpu::TmaCreateDescriptorOp>(op) ||
         (isa<UnrealizedConversionCastOp>(op) && op->getNumOperands() == 1 &&
          op->getOperand(0).getDefiningOp<nvgpu::TmaCreateDescriptorOp>());
}

/// Creates an empty gpu.launch of `grid` x `threads` and returns it with the
/// builder placed before its terminator.
gpu::LaunchOp createLaunch(OpBuilder &b, Location loc, int64_t grid,
                           int64_t threads) {
  auto cst = [&](int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); };
  Value one = cst(1);
  auto launch =
      gpu::LaunchOp::create(b, loc, cst(grid), one, one, cst(threads), one, one);
  Block &body = launch.getBody().front();
  b.setInsertionPointToEnd(&body);
  gpu::TerminatorOp::create(b, loc);
  b.setInsertionPoint(body.getTerminator());
  return launch;
}

/// Rewrites `loop` (constant bounds) into a launch with one thread per
/// iteration. Returns failure with a diagnostic when the bounds are not
/// constant or the loop has reductions.
LogicalResult mapParallelLoop(scf::ParallelOp loop, int64_t maxThreads) {
  if (loop.getNumResults() != 0)
    return loop.emitError("attn-loops-to-gpu: scf.parallel with reductions "
                          "is not supported");
  SmallVector<int64_t> lbs, extents, steps;
  for (auto [lb, ub, step] : llvm::zip(
           loop.getLowerBound(), loop.getUpperBound(), loop.getStep())) {
    std::optional<int64_t> l = getConstantIntValue(lb);
    std::optional<int64_t> u = getConstantIntValue(ub);
    std::optional<int64_t> s = getConstantIntValue(step);
    if (!l || !u || !s || *s <= 0)
      return loop.emitError("attn-loops-to-gpu needs constant loop bounds "
                            "(dynamic shapes are not supported on the GPU "
                            "path yet)");
    lbs.push_back(*l);
    steps.push_back(*s);
    extents.push_back(*u > *l ? (*u - *l + *s - 1) / *s : 0);
  }
  int64_t total = 1;
  for (int64_t e : extents)
    total *= e;
  if (total == 0) {
    loop.erase();
    return success();
  }
  int64_t threads = std::min(maxThreads, total);
  int64_t grid = (total + threads - 1) / threads;
  if (grid > std::numeric_limits<int32_t>::max())
    return loop.emitError("attn-loops-to-gpu: iteration space too large");

  OpBuilder b(loop);
  Location loc = loop.getLoc();
  gpu::LaunchOp launch = createLaunch(b, loc, grid, threads);
  auto cst = [&](int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); };
  Value linear = arith::AddIOp::create(
      b, loc,
      arith::MulIOp::create(b, loc, launch.getBlockIds().x, cst(threads)),
      launch.getThreadIds().x);
  Value inRange = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                        linear, cst(total));
  auto guard = scf::IfOp::create(b, loc, inRange, /*withElseRegion=*/false);
  b.setInsertionPoint(guard.thenBlock()->getTerminator());

  // Delinearize, innermost dimension fastest.
  IRMapping mapping;
  Value rest = linear;
  for (int64_t d = static_cast<int64_t>(extents.size()) - 1; d >= 0; --d) {
    Value idx = rest;
    if (d > 0) {
      idx = arith::RemUIOp::create(b, loc, rest, cst(extents[d]));
      rest = arith::DivUIOp::create(b, loc, rest, cst(extents[d]));
    }
    Value iv = idx;
    if (steps[d] != 1)
      iv = arith::MulIOp::create(b, loc, iv, cst(steps[d]));
    if (lbs[d] != 0)
      iv = arith::AddIOp::create(b, loc, iv, cst(lbs[d]));
    mapping.map(loop.getInductionVars()[d], iv);
  }
  for (Operation &op : loop.getBody()->without_terminator())
    b.clone(op, mapping);
  loop.erase();
  return success();
}

/// Moves `ops` (consecutive top-level ops) into one single-thread launch.
LogicalResult wrapInSingleThreadLaunch(ArrayRef<Operation *> ops) {
  llvm::SmallPtrSet<Operation *, 8> inGroup(ops.begin(), ops.end());
  for (Operation *op : ops)
    for (Operation *user : op->getUsers()) {
      Operation *top = user;
      while (top && !inGroup.contains(top) && top->getParentOp() &&
             !isa<func::FuncOp>(top->getParentOp()))
        top = top->getParentOp();
      if (!inGroup.contains(top))
        return op->emitError("attn-loops-to-gpu: a value computed here is "
                             "used on the host, so it cannot move into a "
                             "kernel");
    }
  OpBuilder b(ops.front());
  createLaunch(b, ops.front()->getLoc(), 1, 1);
  Operation *terminator = b.getInsertionBlock()->getTerminator();
  for (Operation *op : ops)
    op->moveBefore(terminator);
  return success();
}

/// Clones the constants a launch body uses into it, so that the kernel
/// takes only buffers as arguments.
void sinkConstants(gpu::LaunchOp launch) {
  Block &body = launch.getBody().front();
  DenseMap<Value, Value> cloned;
  launch.getBody().walk([&](Operation *op) {
    for (OpOperand &use : op->getOpOperands()) {
      Operation *def = use.get().getDefiningOp();
      if (!def || !def->hasTrait<OpTrait::ConstantLike>() ||
          launch->isProperAncestor(def))
        continue;
      Value &copy = cloned[use.get()];
      if (!copy) {
        OpBuilder b = OpBuilder::atBlockBegin(&body);
        copy = b.clone(*def)->getResult(0);
      }
      use.set(copy);
    }
  });
}

struct AttnLoopsToGPUPass
    : public attn::impl::AttnLoopsToGPUBase<AttnLoopsToGPUPass> {
  using AttnLoopsToGPUBase::AttnLoopsToGPUBase;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal())
      return;
    if (threads <= 0 || threads > 1024) {
      func.emitError() << "attn-loops-to-gpu: threads must be in [1, 1024], "
                       << "got " << threads.getValue();
      return signalPassFailure();
    }
    for (Block &block : func.getBody()) {
      SmallVector<Operation *> topLevel =
          llvm::map_to_vector(block, [](Operation &op) { return &op; });
      for (Operation *op : topLevel)
        if (auto loop = dyn_cast<scf::ParallelOp>(op))
          if (failed(mapParallelLoop(loop, threads)))
            return signalPassFailure();
      // Group what remains of the computation into single-thread launches.
      SmallVector<Operation *> group;
      auto flush = [&]() {
        if (group.empty())
          return success();
        LogicalResult r = wrapInSingleThreadLaunch(group);
        group.clear();
        return r;
      };
      topLevel = llvm::map_to_vector(block, [](Operation &op) { return &op; });
      for (Operation *op : topLevel) {
        if (!staysOnHost(op)) {
          group.push_back(op);
          continue;
        }
        if (failed(flush()))
          return signalPassFailure();
      }
      if (failed(flush()))
        return signalPassFailure();
    }
    func.walk([](gpu::LaunchOp launch) { sinkConstants(launch); });
  }
};

} // namespace
