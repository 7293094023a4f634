//===- LinearCrossEntropyPlan.cpp - schedules of the Cut-Cross-Entropy kernel //
//
// A block computes logits tiles hidden[block_m, D] x weight[block_n, D]^T,
// block_d columns at a time through `stages` shared-memory buffers, and
// folds them in registers; `split` blocks share the vocabulary of a row
// tile (split-V). On mma.sync a warp owns 16 tokens; on warpgroup MMA
// (sm_90a) a warpgroup owns 64, the chunks are 128-byte (64-element)
// swizzled rows, and one wgmma group stays in flight (3 stages or more).
// With pipeline "tma" (sm_90a) a producer warpgroup streams the chunks by
// TMA and mbarriers order the stages.
//
//===----------------------------------------------------------------------===//

#include "PlanChecks.h"

#include "attn/Dialect/Attn/IR/Schedule.h"

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::plan_detail;

std::string
mlir::attn::unsupportedLinearCrossEntropy(LinearCrossEntropyOp op) {
  return unsupportedLinearOperands(op);
}

int64_t LinearCrossEntropyPlan::pitch() const {
  return warpgroupMma ? blockD : blockD + kLdmatrixRowPad;
}

int64_t LinearCrossEntropyPlan::sharedBytes() const {
  // 16-bit hidden and weight chunks per stage; wgmma tiles start 1024-byte
  // aligned: room to align the base.
  return 2 * stages * (blockM + blockN) * pitch() + (warpgroupMma ? 1024 : 0);
}

FailureOr<LinearCrossEntropyPlan>
mlir::attn::planLinearCrossEntropy(LinearCrossEntropyOp op,
                                   ScheduleAttr schedule, const ChipInfo &chip,
                                   PlanDiagnostic emitError) {
  LinearCrossEntropyPlan p;
  readLinearProblem(op, p);
  p.blockM = schedule.getBlockM();
  p.blockN = schedule.getBlockN();
  p.blockD = schedule.getBlockD();
  p.warps = schedule.getWarps();
  p.stages = schedule.getStages();
  p.split = schedule.getSplit();

  PlanChecker c(chip, emitError);
  if (failed(c.require(p.blockM == 16 * p.warps, "block_m",
                       "(" + Twine(p.blockM) + ") must be 16 x warps (" +
                           Twine(16 * p.warps) +
                           "): one warp per 16 tokens")) ||
      failed(c.require(p.blockD % 16 == 0 && p.hidden % p.blockD == 0,
                       "block_d",
                       "(" + Twine(p.blockD) +
                           ") must be a multiple of 16 dividing the hidden "
                           "size (" +
                           Twine(p.hidden) + ")")) ||
      failed(c.require(p.blockN % 16 == 0, "block_n",
                       "(" + Twine(p.blockN) +
                           ") must be a multiple of 16")) ||
      failed(c.require(p.stages >= 2, "stages",
                       "(" + Twine(p.stages) + ") must be at least 2")))
    return failure();

  // Warpgroup MMA where the chip has it and the schedule fits its tiles:
  // whole warpgroups, 128-byte (64-element) chunks, block_n up to 256, and
  // a stage for the wgmma group left in flight.
  // The tma pipeline needs no stage for a wgmma group in flight: a stage
  // is released only once the group that read it has completed.
  p.tma = isTmaPipeline(schedule.getPipeline());
  p.warpgroupMma = chip.hasWarpgroupMma && p.warps % 4 == 0 &&
                   p.blockD == 64 && p.blockN <= 256 &&
                   (p.stages >= 3 || p.tma);
  // The tma pipeline feeds warpgroup MMA only: one or two computing
  // warpgroups beside the producer, whose TMA boxes are 64-column
  // (128-byte swizzled) slabs of at most 256 rows.
  std::string pipelineName = ("\"" + schedule.getPipeline() + "\"").str();
  if (p.tma &&
      (failed(c.require(schedule.getPipeline() == kPipelineTma, "pipeline",
                        pipelineName +
                            " does not apply to linear_cross_entropy: its "
                            "warpgroups share each tile, so \"" +
                            kPipelineTma + "\" is its TMA pipeline")) ||
       failed(c.requireTmaPipeline(pipelineName, p.warps)) ||
       failed(c.require(p.blockD == 64, "block_d",
                        "(" + Twine(p.blockD) +
                            ") must be 64 with pipeline " + pipelineName +
                            ": one 128-byte swizzled slab per step")) ||
       failed(c.require(p.blockN <= 256, "block_n",
                        "(" + Twine(p.blockN) +
                            ") must be at most 256 with pipeline " +
                            pipelineName + ": the TMA box and wgmma's N"))))
    return failure();

  LaunchFacts &f = p.facts;
  f.family = KernelFamily::LinearCrossEntropy;
  f.mma = p.warpgroupMma ? MmaKind::Wgmma : MmaKind::MmaSync;
  f.mmaN = p.warpgroupMma ? p.blockN : 8;
  f.threads = 32 * p.launchWarps();
  if (p.tma)
    f.registerLimit = kConsumerRegisters;
  f.grid = {p.rowTiles(), p.split, 1};
  f.sharedBytes = p.sharedBytes();
  // The logits tile of a warp (16 x block_n) or warpgroup (64 x block_n).
  f.accumulatorRegisters = p.blockN / 2;
  p.handOverRegisters = c.handsOverRegisters(f, p.tma);
  if (failed(c.finishLaunchWithBarriers(f, p.stages, p.barrierBytes())))
    return failure();
  return p;
}
