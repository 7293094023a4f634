//===- Schedule.cpp - schedules of attn ops and their search space --------===//

#include "attn/Dialect/Attn/IR/Schedule.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"

#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::attn;

FailureOr<TargetInfo> mlir::attn::getTargetInfo(StringRef chip) {
  // Opt-in shared memory per block (CUDA programming guide, compute
  // capability tables) and the thread limit.
  static const TargetInfo targets[] = {
      {"sm_80", 166912, 1024, false, false},
      {"sm_86", 101376, 1024, false, false},
      {"sm_89", 101376, 1024, false, false},
      {"sm_90", 232448, 1024, false, true},
      {"sm_90a", 232448, 1024, true, true},
      {"sm_100a", 232448, 1024, false, true},
  };
  for (const TargetInfo &t : targets)
    if (t.chip == chip)
      return t;
  return failure();
}

static int64_t elementBytes(Value v) {
  Type t = cast<ShapedType>(v.getType()).getElementType();
  return std::max<int64_t>(1, t.getIntOrFloatBitWidth() / 8);
}

static int64_t dimOr(Value v, unsigned dim, int64_t fallback) {
  int64_t d = cast<ShapedType>(v.getType()).getDimSize(dim);
  return ShapedType::isDynamic(d) ? fallback : d;
}

static int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

int64_t mlir::attn::estimateSharedMemory(Operation *op, ScheduleAttr s) {
  return llvm::TypeSwitch<Operation *, int64_t>(op)
      .Case([&](AttentionOp o) {
        // The Q tile, and `stages` K and V tiles in flight.
        int64_t d = dimOr(o.getQuery(), 3, 128), dv = dimOr(o.getValue(), 3, d);
        return (s.getBlockM() * d + s.getStages() * s.getBlockN() * (d + dv)) *
               elementBytes(o.getQuery());
      })
      .Case<SoftmaxOp, LogSoftmaxOp, LogSumExpOp>([&](auto o) {
        // One pass keeps each row tile on chip until it is written back.
        if (s.getPasses() == 1)
          return s.getBlockM() * s.getBlockN() * elementBytes(o.getInput());
        return int64_t(0);
      })
      .Case([&](CrossEntropyOp) { return int64_t(0); })
      .Case([&](LinearCrossEntropyOp o) {
        // `stages` hidden and weight tiles of block_d columns.
        return s.getStages() * (s.getBlockM() + s.getBlockN()) *
               s.getBlockD() * elementBytes(o.getHidden());
      })
      .Default([](Operation *) { return int64_t(0); });
}

namespace {
/// Collects the schedule checks of one op, so that each reads as a line.
class ScheduleChecker {
public:
  ScheduleChecker(ScheduleAttr s, function_ref<InFlightDiagnostic()> emitError)
      : s(s), emitError(emitError) {}

  /// Fails with "schedule <field> <message>" unless `ok`.
  LogicalResult require(bool ok, StringRef field, const Twine &message) {
    if (ok)
      return success();
    emitError() << "schedule " << field << " " << message;
    return failure();
  }

  LogicalResult positiveMultiple(StringRef field, int64_t value,
                                 int64_t multiple) {
    return require(value > 0 && value % multiple == 0, field,
                   "must be a positive multiple of " + Twine(multiple) +
                       ", but is " + Twine(value));
  }

  LogicalResult unused(StringRef field, int64_t value, int64_t def) {
    return require(value == def, field,
                   "does not apply to this op and must be " + Twine(def) +
                       ", but is " + Twine(value));
  }

  ScheduleAttr s;
  function_ref<InFlightDiagnostic()> emitError;
};
} // namespace

LogicalResult
mlir::attn::verifySchedule(Operation *op, ScheduleAttr s,
                           function_ref<InFlightDiagnostic()> emitError) {
  FailureOr<TargetInfo> target = getTargetInfo(s.getChip());
  if (failed(target))
    return emitError() << "schedule chip '" << s.getChip()
                       << "' is not one of sm_80, sm_86, sm_89, sm_90, "
                          "sm_90a, sm_100a";
  ScheduleChecker c(s, emitError);
  int64_t warps = s.getWarps();
  if (failed(c.require(llvm::is_contained({1, 2, 4, 8, 16}, warps), "warps",
                       "must be 1, 2, 4, 8 or 16, but is " + Twine(warps))) ||
      failed(c.require(warps * 32 <= target->maxThreadsPerBlock, "warps",
                       "exceed " + Twine(target->maxThreadsPerBlock) +
                           " threads per block")) ||
      failed(c.require(s.getStages() >= 1 && s.getStages() <= 8, "stages",
                       "must be in [1, 8], but is " + Twine(s.getStages()))) ||
      failed(c.require(s.getSplit() >= 1, "split",
                       "must be >= 1, but is " + Twine(s.getSplit()))))
    return failure();

  LogicalResult shape =
      llvm::TypeSwitch<Operation *, LogicalResult>(op)
          .Case([&](AttentionOp o) -> LogicalResult {
            int64_t n = dimOr(o.getKey(), 2, 0);
            if (failed(c.positiveMultiple("block_m", s.getBlockM(), 16)) ||
                failed(c.positiveMultiple("block_n", s.getBlockN(), 16)) ||
                failed(c.unused("block_d", s.getBlockD(), 0)) ||
                failed(c.unused("passes", s.getPasses(), 1)))
              return failure();
            if (n > 0)
              return c.require(s.getSplit() <= ceilDiv(n, s.getBlockN()),
                               "split",
                               "(" + Twine(s.getSplit()) +
                                   ") exceeds the number of key tiles (" +
                                   Twine(ceilDiv(n, s.getBlockN())) + ")");
            return success();
          })
          .Case<SoftmaxOp, LogSoftmaxOp, LogSumExpOp>(
              [&](auto o) -> LogicalResult {
                int64_t row = dimOr(o.getInput(), o.getDim(), 0);
                if (failed(c.require(s.getBlockM() > 0, "block_m",
                                     "must be positive")) ||
                    failed(c.require(s.getBlockN() > 0, "block_n",
                                     "must be positive")) ||
                    failed(c.require(s.getPasses() == 1 || s.getPasses() == 2,
                                     "passes",
                                     "must be 1 or 2, but is " +
                                         Twine(s.getPasses()))) ||
                    failed(c.unused("block_d", s.getBlockD(), 0)) ||
                    failed(c.unused("stages", s.getStages(), 1)))
                  return failure();
                // split > 1: the row is spread over a cluster of `split`
                // blocks of block_n columns each (one read with the row
                // held on chip across the cluster).
                int64_t split = s.getSplit();
                if (split > 1 &&
                    (failed(c.require(llvm::is_contained({2, 4, 8}, split),
                                      "split",
                                      "(blocks per row, a cluster) must be 1, "
                                      "2, 4 or 8, but is " + Twine(split))) ||
                     failed(c.require(target->hasClusters, "split",
                                      "> 1 needs thread-block clusters (sm_90 "
                                      "or later), but the chip is " +
                                          s.getChip())) ||
                     failed(c.require(s.getPasses() == 1 && s.getBlockM() == 1,
                                      "split",
                                      "> 1 needs passes = 1 and block_m = 1"))))
                  return failure();
                return c.require(s.getPasses() == 2 || row == 0 ||
                                     s.getBlockN() * split >= row,
                                 "passes",
                                 "= 1 needs the whole row (" + Twine(row) +
                                     ") in one tile, but block_n is " +
                                     Twine(s.getBlockN()) +
                                     (split > 1 ? " x split " + Twine(split)
                                                : Twine("")));
              })
          .Case([&](CrossEntropyOp o) -> LogicalResult {
            int64_t v = dimOr(o.getLogits(), 1, 0);
            if (failed(c.require(s.getBlockM() > 0, "block_m",
                                 "must be positive")) ||
                failed(c.require(s.getBlockN() > 0, "block_n",
                                 "must be positive")) ||
                failed(c.unused("block_d", s.getBlockD(), 0)) ||
                failed(c.unused("passes", s.getPasses(), 1)) ||
                failed(c.unused("stages", s.getStages(), 1)))
              return failure();
            return c.require(v == 0 || s.getSplit() <= ceilDiv(v, s.getBlockN()),
                             "split", "exceeds the number of vocabulary tiles");
          })
          .Case([&](LinearCrossEntropyOp o) -> LogicalResult {
            int64_t v = dimOr(o.getWeight(), 0, 0);
            if (failed(c.positiveMultiple("block_m", s.getBlockM(), 16)) ||
                failed(c.positiveMultiple("block_n", s.getBlockN(), 16)) ||
                failed(c.positiveMultiple("block_d", s.getBlockD(), 16)) ||
                failed(c.unused("passes", s.getPasses(), 1)))
              return failure();
            return c.require(v == 0 || s.getSplit() <= ceilDiv(v, s.getBlockN()),
                             "split", "exceeds the number of vocabulary tiles");
          })
          .Default([&](Operation *) {
            return c.require(false, "", "is not supported on this op");
          });
  if (failed(shape))
    return failure();

  int64_t smem = estimateSharedMemory(op, s);
  return c.require(smem <= target->sharedMemoryPerBlock, "tiles",
                   "need " + Twine(smem) + " bytes of shared memory, more "
                   "than the " + Twine(target->sharedMemoryPerBlock) +
                   " bytes of " + s.getChip());
}

/// Builds the schedules of the cartesian product of the candidate lists
/// and keeps the legal ones.
static SmallVector<ScheduleAttr>
enumerate(Operation *op, StringRef chip, ArrayRef<int64_t> bms,
          ArrayRef<int64_t> bns, ArrayRef<int64_t> bds, ArrayRef<int64_t> warps,
          ArrayRef<int64_t> stages, ArrayRef<int64_t> splits,
          ArrayRef<int64_t> passes) {
  SmallVector<ScheduleAttr> result;
  MLIRContext *ctx = op->getContext();
  // Diagnostics of rejected candidates are expected: drop them.
  ScopedDiagnosticHandler silence(ctx, [](Diagnostic &) { return success(); });
  for (int64_t bm : bms)
    for (int64_t bn : bns)
      for (int64_t bd : bds)
        for (int64_t w : warps)
          for (int64_t st : stages)
            for (int64_t sp : splits)
              for (int64_t p : passes) {
                auto s = ScheduleAttr::get(ctx, bm, bn, bd, w, st, sp, p, chip);
                if (succeeded(verifySchedule(op, s, [&] {
                      return op->emitError();
                    })))
                  result.push_back(s);
              }
  return result;
}

SmallVector<ScheduleAttr> mlir::attn::enumerateSchedules(Operation *op,
                                                         StringRef chip) {
  if (failed(getTargetInfo(chip)))
    return {};
  return llvm::TypeSwitch<Operation *, SmallVector<ScheduleAttr>>(op)
      .Case([&](AttentionOp) {
        return enumerate(op, chip, {16, 32, 64, 128, 256},
                         {16, 32, 64, 128, 256}, {0}, {4, 8}, {1, 2, 3},
                         {1, 2, 4, 8, 16}, {1});
      })
      .Case<SoftmaxOp, LogSoftmaxOp, LogSumExpOp>([&](auto o) {
        SmallVector<int64_t> cols = {256, 512, 1024, 2048, 4096, 8192};
        int64_t row = dimOr(o.getInput(), o.getDim(), 0);
        if (row > 0 && !llvm::is_contained(cols, row))
          cols.push_back(row);
        return enumerate(op, chip, {1, 2, 4, 8, 16}, cols, {0}, {1, 4, 8},
                         {1}, {1}, {1, 2});
      })
      .Case([&](CrossEntropyOp) {
        return enumerate(op, chip, {1, 4, 16, 64}, {1024, 2048, 4096, 8192},
                         {0}, {4, 8}, {1}, {1, 2, 4, 8}, {1});
      })
      .Case([&](LinearCrossEntropyOp) {
        return enumerate(op, chip, {64, 128, 256}, {64, 128, 256},
                         {32, 64, 128}, {4, 8}, {2, 3, 4}, {1, 2, 4, 8}, {1});
      })
      .Default([](Operation *) { return SmallVector<ScheduleAttr>(); });
}

/// The vocabulary split of the warpgroup-MMA linear cross-entropy kernel
/// (one 197 KB block per SM): the one that best fills whole waves of the
/// 132 SMs of an H100/H200 SXM with blocks of equal work, the smallest
/// among equals. At most 48 splits, so that the [split, N] partial states
/// stay a few MB.
static int64_t wholeWaveSplit(int64_t rowTiles, int64_t vocabTiles) {
  constexpr int64_t kSMs = 132, kMaxSplit = 48;
  int64_t best = 1;
  double bestUse = 0;
  for (int64_t split = 1; split <= std::min(vocabTiles, kMaxSplit);
       ++split) {
    int64_t blocks = rowTiles * split;
    double waves = double(blocks) / double(ceilDiv(blocks, kSMs) * kSMs);
    double balance = double(vocabTiles) /
                     double(ceilDiv(vocabTiles, split) * split);
    if (waves * balance > bestUse + 1e-9) {
      bestUse = waves * balance;
      best = split;
    }
  }
  return best;
}

ScheduleAttr mlir::attn::getDefaultSchedule(Operation *op, StringRef chip) {
  MLIRContext *ctx = op->getContext();
  auto make = [&](int64_t bm, int64_t bn, int64_t bd, int64_t w, int64_t st,
                  int64_t sp, int64_t p) {
    return ScheduleAttr::get(ctx, bm, bn, bd, w, st, sp, p, chip);
  };
  ScheduleAttr preferred =
      llvm::TypeSwitch<Operation *, ScheduleAttr>(op)
          .Case([&](AttentionOp o) {
            int64_t m = dimOr(o.getQuery(), 2, 4096);
            int64_t n = dimOr(o.getKey(), 2, 4096);
            if (m <= 16 && n >= 1024) {
              // Decoding: few query rows, split the keys across blocks.
              int64_t split = std::min<int64_t>(16, std::max<int64_t>(
                                                        1, n / (64 * 8)));
              // One warp covers the 16 rows (attn-map-to-gpu gives each
              // warp 16 query rows).
              return make(16, 64, 0, 1, 2, split, 1);
            }
            int64_t d = dimOr(o.getQuery(), 3, 128);
            FailureOr<TargetInfo> target = getTargetInfo(chip);
            if (succeeded(target) && target->hasWarpgroupMma && d % 64 == 0) {
              // Warpgroup MMA: two warpgroups of 64 query rows, 64-key
              // tiles (32 at head dim 256) through 5 stages (4 at 256).
              if (d > 128)
                return make(128, 32, 0, 8, 4, 1, 1);
              return make(128, 64, 0, 8, 5, 1, 1);
            }
            // Measured on H100 (bench/results/2026-11-24-h100-bench-
            // schedules*.md): two m16 row tiles per warp (block_m = 32 x
            // warps: each K/V operand load feeds two MMAs) beat one by
            // 13-15%; above head dim 64, 32-key tiles keep the registers
            // in bounds. Above head dim 128 the accumulator of two row
            // tiles would spill: one row tile per warp.
            if (d > 128)
              return make(64, 32, 0, 4, 2, 1, 1);
            return make(128, d > 64 ? 32 : 64, 0, 4, 2, 1, 1);
          })
          .Case<SoftmaxOp, LogSoftmaxOp, LogSumExpOp>([&](auto o) {
            // One pass while a thread holds at most 64 elements of the row
            // in registers: a row per warp up to 2048, a row per block of
            // up to 16 warps up to 32768; longer rows take two passes.
            int64_t row = dimOr(o.getInput(), o.getDim(), 0);
            if (row > 0 && row <= 2048)
              return make(4, row, 0, 4, 1, 1, 1);
            if (row > 0 && row <= 32768) {
              int64_t warps = 4;
              while (warps < 16 && warps * 32 * 64 < row)
                warps *= 2;
              return make(1, row, 0, warps, 1, 1, 1);
            }
            // Longer rows: two passes. (One read with the row spread over
            // a cluster, split = 2..8, is a schedule away on sm_90+, but
            // measured no faster at 262144 on the H100: bench/results/
            // 2026-11-24-h100-bench-softmax-cluster.md.)
            return make(1, 4096, 0, 16, 1, 1, 2);
          })
          .Case([&](CrossEntropyOp) { return make(1, 4096, 0, 4, 1, 1, 1); })
          .Case([&](LinearCrossEntropyOp o) {
            int64_t n = dimOr(o.getHidden(), 0, 8192);
            int64_t d = dimOr(o.getHidden(), 1, 4096);
            int64_t v = dimOr(o.getWeight(), 0, 32768);
            FailureOr<TargetInfo> target = getTargetInfo(chip);
            if (succeeded(target) && target->hasWarpgroupMma && d % 64 == 0)
              return make(128, 256, 64, 8, 4,
                          wholeWaveSplit(ceilDiv(n, 128), ceilDiv(v, 256)), 1);
            // Split the vocabulary until there are two blocks per SM of an
            // H100 (132), in powers of two, so that a few thousand tokens
            // still fill the chip.
            int64_t rowTiles = (n + 127) / 128, vocabTiles = (v + 127) / 128;
            int64_t split = 1;
            while (split < 16 && rowTiles * split < 264 &&
                   2 * split <= vocabTiles)
              split *= 2;
            return make(128, 128, 64, 8, 2, split, 1);
          })
          .Default([&](Operation *) { return make(0, 0, 0, 4, 1, 1, 1); });
  ScopedDiagnosticHandler silence(ctx, [](Diagnostic &) { return success(); });
  if (succeeded(
          verifySchedule(op, preferred, [&] { return op->emitError(); })))
    return preferred;
  SmallVector<ScheduleAttr> legal = enumerateSchedules(op, chip);
  return legal.empty() ? preferred : legal.front();
}

ScheduleAttr mlir::attn::getScheduleOrDefault(Operation *op) {
  if (auto s = op->getAttrOfType<ScheduleAttr>("schedule"))
    return s;
  return getDefaultSchedule(op);
}
