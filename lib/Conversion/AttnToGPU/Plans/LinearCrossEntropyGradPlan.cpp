//===- LinearCrossEntropyGradPlan.cpp - schedules of the CCE backward -----===//
//
// The linear cross-entropy backward of attn-map-to-gpu is three products
// per vocabulary chunk (Plans.h): grad-logits = hidden W_c^T (K = D),
// grad_hidden += G W_c (K = chunk), grad_weight[c] = G^T hidden (K = N).
// One schedule tiles all three: block_m x block_n output tiles, block_d
// deep steps, `stages` cp.async buffers, warps laid out (warps / 2) x 2,
// each warp holding (block_m / (warps / 2)) x (block_n / 2) f32
// accumulators (on sm_90a, wgmma: a warpgroup per 64 rows). The chunk is
// derived, not scheduled (`split` is structurally 1): the most classes
// whose workspace keeps the allocation within kGradWorkspaceBytes.
//
//===----------------------------------------------------------------------===//

#include "PlanChecks.h"

#include "attn/Dialect/Attn/IR/Schedule.h"

#include <numeric>

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::plan_detail;

std::string
mlir::attn::unsupportedLinearCrossEntropyGrad(LinearCrossEntropyGradOp op) {
  return unsupportedLinearOperands(op);
}

int64_t LinearCrossEntropyGradPlan::sharedBytes() const {
  // Swizzled slabs need no padding; tiles start 1024-byte aligned; with
  // tile skipping, 16 bytes for the block's nonzero flag follow.
  if (warpgroupMma)
    return 2 * stages * (blockM + blockN) * blockD + 1024 +
           (skipTiles ? 16 : 0);
  // An operand tile of `rows` rows, K-major (rows x (block_d + pad)) or
  // transposed (block_d x (rows + pad)); the launches differ only in which,
  // so all take the larger.
  auto tile = [&](int64_t rows) {
    return std::max(rows * (blockD + kLdmatrixRowPad),
                    blockD * (rows + kLdmatrixRowPad));
  };
  return 2 * stages * (tile(blockM) + tile(blockN));
}

int64_t LinearCrossEntropyGradPlan::workspaceBytes() const {
  int64_t bytes = saturatingMul(saturatingMul(tokens, chunk), 2);
  if (chunks() > 1 && !elementType.isF32())
    bytes = saturatingAdd(bytes, saturatingMul(saturatingMul(tokens, hidden), 2));
  return bytes;
}

FailureOr<LinearCrossEntropyGradPlan>
mlir::attn::planLinearCrossEntropyGrad(LinearCrossEntropyGradOp op,
                                       ScheduleAttr schedule,
                                       const ChipInfo &chip,
                                       PlanDiagnostic emitError) {
  LinearCrossEntropyGradPlan p;
  readLinearProblem(op, p);
  p.hasBias = bool(op.getBias());
  p.reduction = op.getReduction();
  if (std::optional<APFloat> eps = op.getGradFilter())
    p.filter = eps->convertToDouble();
  p.blockM = schedule.getBlockM();
  p.blockN = schedule.getBlockN();
  p.blockD = schedule.getBlockD();
  p.warps = schedule.getWarps();
  p.stages = schedule.getStages();

  PlanChecker c(chip, emitError);
  if (failed(c.require(p.warps % 2 == 0, "warps",
                       "(" + Twine(p.warps) +
                           ") must be even: warps are laid out (warps / 2) "
                           "x 2 over a tile")) ||
      failed(c.require(p.blockM > 0 && p.blockM % (16 * p.warpsM()) == 0 &&
                           p.blockM <= 256,
                       "block_m",
                       "(" + Twine(p.blockM) +
                           ") must be a multiple of 16 x warps / 2 (" +
                           Twine(16 * p.warpsM()) + ") up to 256")) ||
      failed(c.require(p.blockN > 0 && p.blockN % 32 == 0 && p.blockN <= 256,
                       "block_n",
                       "(" + Twine(p.blockN) +
                           ") must be a multiple of 32 up to 256: two "
                           "warps of 16-column pairs across a tile")) ||
      failed(c.require(p.blockD > 0 && p.blockD % 16 == 0 && p.blockD <= 128,
                       "block_d",
                       "(" + Twine(p.blockD) +
                           ") must be a multiple of 16 up to 128")) ||
      failed(c.require(p.stages >= 2, "stages",
                       "(" + Twine(p.stages) +
                           ") must be at least 2: the steps are "
                           "double-buffered")))
    return failure();

  // The most classes per chunk within the workspace budget, a multiple of
  // both tiles (chunks are tiled by block_n in grad-logits and by block_m
  // in grad-weight), and no more than V needs. One chunk when all of V fits
  // the budget; else the low-order half of grad_hidden takes its share.
  int64_t unit = std::lcm(p.blockM, p.blockN);
  int64_t whole = ceilDiv(p.vocab, unit) * unit;
  int64_t rowBytes = saturatingMul(p.tokens, 2);
  int64_t budget = kGradWorkspaceBytes;
  if (saturatingMul(rowBytes, whole) > budget)
    budget = std::max(kMinGradChunkBytes,
                      budget - saturatingMul(rowBytes, p.hidden));
  // Few tokens allow many classes per chunk: no more than the grid's y
  // limit of grad-logits tiles (65535 x block_n).
  int64_t gridCap = 65535 * p.blockN / unit * unit;
  p.chunk = std::clamp(budget / rowBytes / unit * unit, unit,
                       std::min(whole, gridCap));

  // Warpgroup MMA where the chip has it and the schedule fits its tiles:
  // a warpgroup per 64 rows, 64-deep steps (one swizzled slab of K), whole
  // 64-column slabs of the N-major operands, and a stage for the wgmma
  // group in flight.
  // The tma pipeline needs no stage for a wgmma group in flight: a stage
  // is released only once the group that read it has completed.
  p.tma = isTmaPipeline(schedule.getPipeline());
  p.warpgroupMma = chip.hasWarpgroupMma && p.warps % 4 == 0 &&
                   p.blockM == 16 * p.warps && p.blockD == 64 &&
                   p.blockN % 64 == 0 && (p.stages >= 3 || p.tma);
  // The tma pipeline feeds the warpgroup MMA tiles only: one or two
  // computing warpgroups (a warpgroup per 64 rows of block_m) beside the
  // producer, 64-deep steps (the K-major boxes' 128-byte rows) and whole
  // 64-column slabs of the M/N-major operands.
  std::string pipelineName = ("\"" + schedule.getPipeline() + "\"").str();
  if (p.tma &&
      (failed(c.require(schedule.getPipeline() == kPipelineTma, "pipeline",
                        pipelineName +
                            " does not apply to linear_cross_entropy_grad: "
                            "its warpgroups share each product tile, so \"" +
                            kPipelineTma + "\" is its TMA pipeline")) ||
       failed(c.requireTmaPipeline(pipelineName, p.warps)) ||
       failed(c.require(p.blockM == 16 * p.warps, "block_m",
                        "(" + Twine(p.blockM) + ") must be 16 x warps (" +
                            Twine(16 * p.warps) + ") with pipeline " +
                            pipelineName + ": a warpgroup per 64 rows")) ||
       failed(c.require(p.blockD == 64, "block_d",
                        "(" + Twine(p.blockD) +
                            ") must be 64 with pipeline " + pipelineName +
                            ": one 128-byte swizzled slab per step")) ||
       failed(c.require(p.blockN % 64 == 0, "block_n",
                        "(" + Twine(p.blockN) +
                            ") must be a multiple of 64 with pipeline " +
                            pipelineName + ": whole 64-column slabs"))))
    return failure();

  p.skipTiles = p.filter && p.warpgroupMma && p.blockM % p.blockD == 0 &&
                p.blockN % p.blockM == 0;

  LaunchFacts &f = p.facts;
  f.family = KernelFamily::LinearCrossEntropyGrad;
  f.mma = p.warpgroupMma ? MmaKind::Wgmma : MmaKind::MmaSync;
  f.mmaN = p.warpgroupMma ? p.blockN : 8;
  f.threads = 32 * p.launchWarps();
  if (p.tma)
    f.registerLimit = kConsumerRegisters;
  f.grid = {ceilDiv(p.tokens, p.blockM), p.chunk / p.blockN, 1};
  f.sharedBytes = p.sharedBytes();
  f.accumulatorRegisters = p.warpgroupMma
                               ? p.blockN / 2
                               : p.blockM / p.warpsM() * (p.blockN / 2) / 32;
  p.handOverRegisters = c.handsOverRegisters(f, p.tma);
  if (failed(c.finishLaunchWithBarriers(f, p.stages, p.barrierBytes())))
    return failure();
  // The grad-hidden and grad-weight grids.
  LaunchFacts other = f;
  other.grid = {std::max(ceilDiv(p.tokens, p.blockM), p.chunk / p.blockM),
                ceilDiv(p.hidden, p.blockN), 1};
  if (failed(c.finishLaunchWithBarriers(other, p.stages, p.barrierBytes())))
    return failure();
  return p;
}
