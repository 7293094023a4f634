//===- PlanChecks.h - the diagnostics every plan writes ----------*- C++ -*-===//
//
// Internal to the plans: one way to reject a schedule ("schedule <field>
// <reason>"), to check launch limits, and to fill the launch facts that
// every family reports.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LIB_CONVERSION_ATTNTOGPU_PLANS_PLANCHECKS_H
#define ATTN_LIB_CONVERSION_ATTNTOGPU_PLANS_PLANCHECKS_H

#include "attn/Conversion/AttnToGPU/Plans.h"
#include "attn/Dialect/Attn/Utils/StaticShape.h"

namespace mlir::attn::plan_detail {

/// Collects the checks of one plan so that each reads as a line.
class PlanChecker {
public:
  PlanChecker(const ChipInfo &chip, PlanDiagnostic emitError)
      : chip(chip), emitError(emitError) {}

  /// Fails with "schedule <field> <message>" unless `ok`.
  LogicalResult require(bool ok, StringRef field, const Twine &message) {
    if (ok)
      return success();
    if (emitError)
      emitError() << "schedule " << field << " " << message;
    return failure();
  }

  /// A margin for the static shared memory beside the dynamic region: the
  /// dynamic region is an extern array (attn-extern-dynamic-shared), placed
  /// after the static variables at a 16-byte boundary. The chip's
  /// per-block limit bounds both together.
  static constexpr int64_t kStaticSharedBytes = 16;

  /// For a launch that may run the tma pipeline (`tma`): whether its
  /// producer should hand registers to the computing warps (only where
  /// these may need more than the launch leaves each thread: ptxas ignores
  /// setmaxnreg, C7508, where the kernel needs fewer; the margin is twice
  /// the check's overhead: at 144 accumulators + 24 within 168, ptxas
  /// spilled 164 bytes, attention at head dim 192, block_n 64).
  bool handsOverRegisters(const LaunchFacts &facts, bool tma) const {
    return tma && facts.accumulatorRegisters + 2 * kRegisterOverhead >
                      registerBudget(facts.threads);
  }

  /// What every tma-pipeline kernel needs: sm_90a's TMA and warpgroup MMA,
  /// and one or two computing warpgroups beside the producer (`pipeline`
  /// is the schedule's, quoted, for the diagnostics).
  LogicalResult requireTmaPipeline(StringRef pipeline, int64_t warps) {
    if (failed(require(chip.hasWarpgroupMma, "pipeline",
                       pipeline + " needs sm_90a's TMA and warpgroup MMA; " +
                           chip.name + " has neither")))
      return failure();
    return require(warps == 4 || warps == 8, "warps",
                   "(" + Twine(warps) + ") must be 4 or 8 with pipeline " +
                       pipeline + ": one or two computing warpgroups");
  }

  /// finishLaunch, then the shared memory of the `stages` buffers with the
  /// tma pipeline's static mbarriers (`barrierBytes`, 0 without it).
  LogicalResult finishLaunchWithBarriers(LaunchFacts &facts, int64_t stages,
                                         int64_t barrierBytes) {
    int64_t bytes = facts.sharedBytes + barrierBytes;
    if (failed(finishLaunch(facts)))
      return failure();
    return require(bytes + kStaticSharedBytes <= chip.sharedMemoryPerBlock,
                   "stages",
                   "(" + Twine(stages) + ") need " + Twine(bytes) +
                       " bytes of shared memory with their mbarriers; " +
                       chip.name + " allows " +
                       Twine(chip.sharedMemoryPerBlock) + " per block");
  }

  /// Checks the launch against the chip's limits and fills the occupancy.
  LogicalResult finishLaunch(LaunchFacts &facts) {
    if (failed(require(facts.threads <= chip.maxThreadsPerBlock, "warps",
                       "give " + Twine(facts.threads) +
                           " threads per block; " + chip.name + " allows " +
                           Twine(chip.maxThreadsPerBlock))) ||
        failed(require(facts.sharedBytes + kStaticSharedBytes <=
                           chip.sharedMemoryPerBlock,
                       "tiles",
                       "need " + Twine(facts.sharedBytes + kStaticSharedBytes) +
                           " bytes of shared memory; " + chip.name +
                           " allows " + Twine(chip.sharedMemoryPerBlock) +
                           " per block")) ||
        failed(require(facts.accumulatorRegisters + kRegisterOverhead <=
                           registerBudget(facts),
                       "tiles",
                       "keep " + Twine(facts.accumulatorRegisters) +
                           " accumulator registers per thread; with " +
                           Twine(facts.threads) + " threads per block " +
                           chip.name + " leaves " +
                           Twine(registerBudget(facts) -
                                 kRegisterOverhead) +
                           " (" + Twine(registerBudget(facts)) +
                           " registers, " + Twine(kRegisterOverhead) +
                           " for addresses and loop state)")) ||
        failed(require(facts.cluster <= chip.maxClusterSize, "split",
                       "(" + Twine(facts.cluster) +
                           " blocks per cluster) exceeds the " +
                           Twine(chip.maxClusterSize) + " of " + chip.name)))
      return failure();
    // CUDA's grid limits: x below 2^31, y and z up to 65535.
    if (failed(require(facts.grid[0] >= 1 && facts.grid[0] <= 2147483647,
                       "block_m",
                       "gives a grid x of " + Twine(facts.grid[0]) +
                           " blocks; CUDA allows 1 to 2147483647")) ||
        failed(require(facts.grid[1] >= 1 && facts.grid[1] <= 65535, "tiles",
                       "give a grid y of " + Twine(facts.grid[1]) +
                           " blocks; CUDA allows 1 to 65535")) ||
        failed(require(facts.grid[2] >= 1 && facts.grid[2] <= 65535, "split",
                       "gives a grid z of " + Twine(facts.grid[2]) +
                           " blocks; CUDA allows 1 to 65535")))
      return failure();
    int64_t bySmem = facts.sharedBytes > 0
                         ? chip.sharedMemoryPerSM / facts.sharedBytes
                         : chip.maxBlocksPerSM;
    facts.blocksPerSM = std::min({bySmem, chip.maxThreadsPerSM / facts.threads,
                                  chip.maxBlocksPerSM});
    return success();
  }

  /// Registers a thread may hold when `threads` threads share the SM's
  /// register file (one block per SM at least must fit).
  int64_t registerBudget(const LaunchFacts &facts) const {
    return facts.registerLimit > 0 ? facts.registerLimit
                                   : registerBudget(facts.threads);
  }
  int64_t registerBudget(int64_t threads) const {
    return std::min(chip.maxRegistersPerThread,
                    chip.registersPerSM / std::max<int64_t>(threads, 1));
  }

  /// Registers a kernel needs beyond its accumulators (addresses, loop
  /// counters, the softmax state): ptxas asked for 158 registers for the
  /// 144 accumulators of a 64 x (256 + 16) wgmma attention tile.
  static constexpr int64_t kRegisterOverhead = 24;

  const ChipInfo &chip;
  PlanDiagnostic emitError;
};

/// a * b, or INT64_MAX when it overflows (grid sizes of absurd shapes must
/// fail the grid check, not wrap).
inline int64_t saturatingMul(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r))
    return INT64_MAX;
  return r;
}

/// a + b for nonnegative a and b, or INT64_MAX when it overflows.
inline int64_t saturatingAdd(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r))
    return INT64_MAX;
  return r;
}

/// Why no kernel takes tensors `operands`, or "": dynamic shapes, an empty
/// tensor, or an element type (that of the first operand) other than
/// bf16/f16, or f32 too when `allowF32`.
std::string unsupportedOperands(ValueRange operands, bool allowF32);

/// Why no attention kernel (forward or backward) takes `operands` (the
/// first is the query, the third the value): unsupportedOperands, a mask
/// operand, a value head dim other than the query's, or a head dim that is
/// not a multiple of 16 up to `maxHeadDim`; or "".
std::string unsupportedAttentionOperands(ValueRange operands, Value mask,
                                         int64_t maxHeadDim);

/// Why no kernel takes linear_cross_entropy(_grad) `op`'s operands, or "":
/// unsupportedOperands, or a hidden size that is not a multiple of 16
/// (16-byte copies along it, 16-element MMA steps).
template <typename OpT> std::string unsupportedLinearOperands(OpT op) {
  std::string why = unsupportedOperands({op.getHidden(), op.getWeight()},
                                        /*allowF32=*/false);
  if (!why.empty())
    return why;
  if (cast<ShapedType>(op.getHidden().getType()).getDimSize(1) % 16 != 0)
    return "hidden size is not a multiple of 16";
  return "";
}

/// Reads the problem of linear_cross_entropy or its gradient (shapes,
/// element type, loss attributes).
template <typename OpT>
void readLinearProblem(OpT op, LinearCrossEntropyProblem &p) {
  auto h = cast<ShapedType>(op.getHidden().getType());
  p.tokens = h.getDimSize(0);
  p.hidden = h.getDimSize(1);
  p.vocab = cast<ShapedType>(op.getWeight().getType()).getDimSize(0);
  p.elementType = h.getElementType();
  p.ignoreIndex = op.getIgnoreIndex();
  p.labelSmoothing = op.getLabelSmoothing().convertToDouble();
  p.zLoss = op.getZLoss().convertToDouble();
  if (std::optional<APFloat> cap = op.getSoftcap())
    p.softcap = cap->convertToDouble();
}

/// Reads the problem of an attention op or its gradient (shapes, element
/// type, scale, softcap, masks).
template <typename OpT> void readAttentionProblem(OpT op, AttentionProblem &p) {
  auto qType = cast<ShapedType>(op.getQuery().getType());
  auto kType = cast<ShapedType>(op.getKey().getType());
  p.batch = qType.getDimSize(0);
  p.qHeads = qType.getDimSize(1);
  p.queries = qType.getDimSize(2);
  p.headDim = qType.getDimSize(3);
  p.kvHeads = kType.getDimSize(1);
  p.keys = kType.getDimSize(2);
  p.elementType = qType.getElementType();
  p.scale = op.getScaleOrDefault();
  if (std::optional<APFloat> cap = op.getSoftcap())
    p.softcap = cap->convertToDouble();
  p.causal = op.getCausal();
  if (std::optional<ArrayRef<int64_t>> w = op.getWindow())
    p.window = std::make_pair((*w)[0], (*w)[1]);
}

} // namespace mlir::attn::plan_detail

#endif // ATTN_LIB_CONVERSION_ATTNTOGPU_PLANS_PLANCHECKS_H
