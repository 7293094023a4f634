//===- AttentionGradPlan.cpp - which schedules the backward kernel runs ---===//
//
// The FlashAttention-2 backward of attn-map-to-gpu runs two launches: dQ
// over blocks of 16 x warps packed query rows (key tiles of block_n keys),
// and dK/dV over blocks of 16 x warps keys (query tiles of block_m
// queries). A warp holds, per 16 rows, the f32 gradient accumulators of its
// rows across the whole loop: dQ's (head dim / 2 registers), or dK's and
// dV's (head dim) beside the transposed scores and dP of a query tile
// (block_m); that bounds the head dim at 128. On sm_90a, schedules of whole
// warpgroups over head dims of whole 64-column slabs run every product on
// warpgroup MMA (a warpgroup per 64 rows); others run mma.sync.
//
//===----------------------------------------------------------------------===//

#include "PlanChecks.h"

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::plan_detail;

/// The largest head dim whose dK and dV accumulators a warp keeps in
/// registers beside a query tile's scores.
static constexpr int64_t kMaxGradHeadDim = 128;

std::string mlir::attn::unsupportedAttentionGrad(AttentionGradOp op) {
  std::string why = unsupportedAttentionOperands(
      {op.getQuery(), op.getKey(), op.getValue(), op.getOutput(),
       op.getLse(), op.getGradOutput()},
      op.getMask(), kMaxGradHeadDim);
  return why.empty() || why.rfind("head dim is not", 0) != 0
             ? why
             : why + " (the backward kernel)";
}

FailureOr<AttentionGradPlan>
mlir::attn::planAttentionGrad(AttentionGradOp op, ScheduleAttr schedule,
                              const ChipInfo &chip, PlanDiagnostic emitError) {
  AttentionGradPlan p;
  readAttentionProblem(op, p);
  p.blockM = schedule.getBlockM();
  p.blockN = schedule.getBlockN();
  p.warps = schedule.getWarps();
  p.stages = schedule.getStages();

  PlanChecker c(chip, emitError);
  if (failed(c.require(p.blockM % 16 == 0 && p.blockM > 0 && p.blockM <= 128,
                       "block_m",
                       "(" + Twine(p.blockM) +
                           ", the queries of a dK/dV tile) must be a "
                           "multiple of 16 up to 128")) ||
      failed(c.require(p.blockN % 16 == 0 && p.blockN > 0 && p.blockN <= 128,
                       "block_n",
                       "(" + Twine(p.blockN) +
                           ", the keys of a dQ tile) must be a multiple of "
                           "16 up to 128")) ||
      failed(c.require(p.stages >= 2, "stages",
                       "(" + Twine(p.stages) +
                           ") must be at least 2: the tiles are "
                           "double-buffered")) ||
      failed(c.require(schedule.getSplit() == 1, "split",
                       "must be 1: the backward kernels do not split")))
    return failure();

  // Warpgroup MMA where the chip has it and the schedule fits its tiles:
  // whole warpgroups, whole 64-column slabs of the head dim.
  p.warpgroupMma =
      chip.hasWarpgroupMma && p.warps % 4 == 0 && p.headDim % 64 == 0;

  // The dQ launch: D / 2 accumulator registers for dQ, and the scores and
  // dP of a key tile.
  LaunchFacts &q = p.queryFacts;
  q.family = KernelFamily::AttentionGrad;
  q.mma = p.warpgroupMma ? MmaKind::Wgmma : MmaKind::MmaSync;
  q.mmaN = p.warpgroupMma ? p.blockN : 8;
  q.threads = 32 * p.warps;
  q.grid = {ceilDiv(p.packedRows(), p.blockRows()), p.kvHeads, p.batch};
  q.sharedBytes = p.querySharedBytes();
  q.accumulatorRegisters = p.headDim / 2 + p.blockN;
  if (failed(c.finishLaunch(q)))
    return failure();

  // The dK/dV launch: D / 2 each for dK and dV, and the transposed scores
  // and dP of a query tile.
  LaunchFacts &f = p.facts;
  f = q;
  f.grid = {ceilDiv(p.keys, p.blockRows()), p.kvHeads, p.batch};
  f.mmaN = p.warpgroupMma ? p.blockM : 8;
  f.sharedBytes = p.keySharedBytes();
  f.accumulatorRegisters = p.headDim + p.blockM;
  if (failed(c.finishLaunch(f)))
    return failure();
  return p;
}
