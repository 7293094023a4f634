//===- AttentionPlan.cpp - which schedules the attention kernel runs ------===//
//
// The attention kernel maps a block to blockM packed query rows of one KV
// head (GQA row packing) and loops over key tiles of blockN keys streamed
// through `stages` shared-memory buffers. On mma.sync a warp owns 16 or 32
// rows; on warpgroup MMA (sm_90a) a warpgroup owns 64 rows, the head dim
// is read in 64-column (128-byte swizzled) slabs, and two wgmma groups are
// in flight, which needs at least 4 stages.
//
//===----------------------------------------------------------------------===//

#include "PlanChecks.h"

#include "attn/Dialect/Attn/IR/Schedule.h"

#include <cmath>

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::plan_detail;

std::string mlir::attn::unsupportedAttention(AttentionOp op) {
  return unsupportedAttentionOperands(
      {op.getQuery(), op.getKey(), op.getValue()}, op.getMask(),
      /*maxHeadDim=*/256);
}

int64_t mlir::attn::attentionSharedBytes(const AttentionPlan &p) {
  // The Q tile and `stages` K and V tiles, 16-bit. wgmma tiles are 128-byte
  // swizzled slabs from a 1024-byte aligned base (room to align it);
  // mma.sync rows are padded by 8 elements for conflict-free ldmatrix.
  // (The tma pipeline's mbarriers are static: barrierBytes.)
  if (p.warpgroupMma)
    return 2 * p.headDim * (p.blockM + 2 * p.stages * p.blockN) + 1024;
  return 2 * (p.headDim + kLdmatrixRowPad) * (p.blockM + 2 * p.stages * p.blockN);
}

FailureOr<AttentionPlan> mlir::attn::planAttention(AttentionOp op,
                                                   ScheduleAttr schedule,
                                                   const ChipInfo &chip,
                                                   PlanDiagnostic emitError) {
  AttentionPlan p;
  readAttentionProblem(op, p);
  p.blockM = schedule.getBlockM();
  p.blockN = schedule.getBlockN();
  p.warps = schedule.getWarps();
  p.stages = schedule.getStages();
  p.split = schedule.getSplit();

  PlanChecker c(chip, emitError);
  if (failed(c.require(p.blockM == 16 * p.warps || p.blockM == 32 * p.warps,
                       "block_m",
                       "(" + Twine(p.blockM) + ") must be 16 x warps (" +
                           Twine(16 * p.warps) + ") or 32 x warps (" +
                           Twine(32 * p.warps) +
                           "): each warp owns 16 or 32 query rows")) ||
      failed(c.require(p.blockN % 16 == 0, "block_n",
                       "(" + Twine(p.blockN) +
                           ") must be a multiple of 16 (the MMA's k)")) ||
      failed(c.require(p.stages >= 2, "stages",
                       "(" + Twine(p.stages) +
                           ") must be at least 2: the key/value tiles are "
                           "double-buffered")))
    return failure();

  // Warpgroup MMA where the chip has it and the schedule fits its tiles: a
  // warpgroup per 64 query rows, head dims in whole 64-column slabs,
  // block_n up to 256, and stages for the two wgmma groups in flight.
  p.tma = isTmaPipeline(schedule.getPipeline());
  p.pingPong = schedule.getPipeline() == kPipelineTmaPingPong;
  p.warpgroupMma = chip.hasWarpgroupMma && p.warps % 4 == 0 &&
                   p.blockM == 16 * p.warps && p.headDim % 64 == 0 &&
                   p.blockN <= 256 && (p.stages >= 4 || p.tma);
  // The tma pipeline (warp specialization) feeds warpgroup MMA only: one
  // or two computing warpgroups beside the producer, whose TMA boxes are
  // 64-column slabs of at most 256 rows. K and V have their own empty
  // barriers, so that two stages already overlap a load with the math.
  std::string pipelineName = ("\"" + schedule.getPipeline() + "\"").str();
  if (p.tma &&
      (failed(c.requireTmaPipeline(pipelineName, p.warps)) ||
       failed(c.require(
           p.blockM == 16 * p.warps, "block_m",
           "(" + Twine(p.blockM) + ") must be 16 x warps with pipeline " +
               pipelineName + ": a warpgroup per 64 query rows")) ||
       failed(c.require(p.headDim % 64 == 0, "pipeline",
                        pipelineName +
                            " needs a head dim that is a multiple of 64 "
                            "(whole 128-byte swizzled slabs), but it is " +
                            Twine(p.headDim))) ||
       failed(c.require(p.blockN <= 256, "block_n",
                        "(" + Twine(p.blockN) +
                            ") must be at most 256 with pipeline " +
                            pipelineName + ": the TMA box and wgmma's N")) ||
       failed(c.require(!p.pingPong || p.warps == 8, "warps",
                        "(" + Twine(p.warps) +
                            ") must be 8 with pipeline \"tma_pingpong\": "
                            "two computing warpgroups take turns"))))
    return failure();

  LaunchFacts &f = p.facts;
  f.family = KernelFamily::Attention;
  f.mma = p.warpgroupMma ? MmaKind::Wgmma : MmaKind::MmaSync;
  f.mmaN = p.warpgroupMma ? p.blockN : 8;
  f.threads = 32 * p.launchWarps();
  if (p.tma)
    f.registerLimit = kConsumerRegisters;
  f.grid = {ceilDiv(p.packedRows(), p.blockM), p.kvHeads,
            saturatingMul(p.batch, p.split)};
  f.sharedBytes = attentionSharedBytes(p);
  // f32 accumulators per thread: the output tile and the scores of a key
  // tile. wgmma: 64 x D and 64 x block_n per 128 threads, with the previous
  // tile's P (16-bit pairs, half as many registers) held for its PV in
  // flight. mma.sync: per m16 row tile of the warp, D / 8 + block_n / 8 n8
  // tiles of 4 values.
  if (p.warpgroupMma)
    f.accumulatorRegisters = p.headDim / 2 + p.blockN / 2 + p.blockN / 4;
  else
    f.accumulatorRegisters =
        p.blockM / p.warps / 16 * (p.headDim / 2 + p.blockN / 2);
  p.handOverRegisters = c.handsOverRegisters(f, p.tma);
  if (failed(c.finishLaunchWithBarriers(f, p.stages, p.barrierBytes())))
    return failure();
  return p;
}
