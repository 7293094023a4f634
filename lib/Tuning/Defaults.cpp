//===- Defaults.cpp - the hand-written default schedule of each op -------===//
//
// What an op without a `schedule` gets until the cost model picks: choices
// measured on the H100/H200 (bench/results), adjusted to the shape and the
// chip's facts, and checked against the plans like any other schedule.
//
//===----------------------------------------------------------------------===//

#include "attn/Tuning/Tuning.h"

#include "attn/Conversion/AttnToGPU/Plans.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Dialect/Attn/IR/Schedule.h"
#include "attn/Dialect/Attn/Utils/StaticShape.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::attn;

/// The vocabulary split of the warpgroup-MMA linear cross-entropy kernel
/// (one ~197 KB block per SM): the one that best fills whole waves of the
/// chip's SMs with blocks of equal work, the smallest among equals. At most
/// 48 splits, so that the [split, N] partial states stay a few MB.
static int64_t wholeWaveSplit(int64_t rowTiles, int64_t vocabTiles,
                              int64_t smCount) {
  constexpr int64_t kMaxSplit = 48;
  int64_t best = 1;
  double bestUse = 0;
  for (int64_t split = 1; split <= std::min(vocabTiles, kMaxSplit);
       ++split) {
    int64_t blocks = rowTiles * split;
    double waves = double(blocks) / double(ceilDiv(blocks, smCount) * smCount);
    double balance =
        double(vocabTiles) / double(ceilDiv(vocabTiles, split) * split);
    if (waves * balance > bestUse + 1e-9) {
      bestUse = waves * balance;
      best = split;
    }
  }
  return best;
}

/// The GPU choice of `op` for `chip`, before the legality check.
static ScheduleAttr preferredGpuSchedule(Operation *op, const ChipInfo &chip) {
  MLIRContext *ctx = op->getContext();
  auto make = [&](int64_t bm, int64_t bn, int64_t bd, int64_t w, int64_t st,
                  int64_t sp, int64_t p, StringRef pipeline = kPipelineCpAsync) {
    return ScheduleAttr::get(ctx, bm, bn, bd, w, st, sp, p, pipeline,
                             chip.name);
  };
  // The host runs attn-tile's loops: the sm_90a choices shape them as well
  // as any (only the tiles and splits matter there).
  int64_t sms = chip.isGpu() ? chip.smCount : lookupChip("sm_90a")->smCount;
  return llvm::TypeSwitch<Operation *, ScheduleAttr>(op)
      .Case([&](AttentionOp o) {
        int64_t m = staticDimOr(o.getQuery(), 2, 4096);
        int64_t n = staticDimOr(o.getKey(), 2, 4096);
        int64_t dHead = staticDimOr(o.getQuery(), 3, 128);
        int64_t batch = staticDimOr(o.getQuery(), 0, 1);
        int64_t kvHeads = staticDimOr(o.getKey(), 1, 1);
        int64_t qHeads = staticDimOr(o.getQuery(), 1, 1);
        int64_t rowTiles =
            ceilDiv(qHeads / std::max<int64_t>(kvHeads, 1) * m, 64);
        int64_t base = std::max<int64_t>(1, batch * kvHeads * rowTiles);
        if (m <= 16 && n >= 1024 && chip.hasWarpgroupMma && dHead == 128) {
          // Decoding on sm_90a: the TMA pipeline with one computing
          // warpgroup (the query heads of a KV head packed into its 64
          // rows), 128-key tiles through 3 stages (208 KB: one block per
          // SM), and as many splits as fill one wave. Measured on the H200
          // (bench/results/2026-12-02-h200-attention-pingpong*): batch 1,
          // 64 query heads, 8 KV heads, 128k keys, 16 splits: 0.143 ms
          // (0.96x cuDNN); batch 8 x 32 heads (8 KV), 64k keys: 0.520 ms at
          // 2 splits (one wave), 0.524 at 4, 0.567 at 5, 0.553 on mma.sync.
          int64_t split = std::clamp<int64_t>(sms / base, 1, 16);
          split = std::min<int64_t>(split, std::max<int64_t>(1, n / 512));
          return make(64, 128, 0, 4, 3, split, 1, kPipelineTma);
        }
        if (m <= 16 && n >= 1024) {
          // Decoding: few query rows, split the keys across blocks; one
          // warp covers the 16 rows.
          int64_t split =
              std::min<int64_t>(16, std::max<int64_t>(1, n / (64 * 8)));
          return make(16, 64, 0, 1, 2, split, 1);
        }
        int64_t d = staticDimOr(o.getQuery(), 3, 128);
        if (chip.hasWarpgroupMma && (d == 64 || d == 128 || d == 256)) {
          // The TMA pipeline with ping-pong (a producer warpgroup, two
          // computing ones taking turns at the tensor cores), measured on
          // the H200 against cooperative TMA and the cp.async loop
          // (bench/results/2026-12-02-h200-attention-pingpong*.md, cuDNN in
          // the same run): head dim 128, 128-key tiles through 2 stages
          // (0.92 ms at 4 x 16 heads x 4096, cooperative 0.98-1.09;
          // causal 0.52 ms, 160-key tiles 0.51 when M == N); head dim 256,
          // 64-key tiles (0.90 against 0.96 ms cooperative; 80-key tiles
          // ran in 0.85 but spill 16-44 bytes where keys need masking);
          // head dim 64, 192-key tiles (0.68 against 0.76 ms on cp.async).
          if (d == 256)
            return make(128, 64, 0, 8, 2, 1, 1, kPipelineTmaPingPong);
          if (d == 64)
            return make(128, 192, 0, 8, 2, 1, 1, kPipelineTmaPingPong);
          if (o.getCausal() && m == n)
            return make(128, 160, 0, 8, 2, 1, 1, kPipelineTmaPingPong);
          return make(128, 128, 0, 8, 2, 1, 1, kPipelineTmaPingPong);
        }
        if (chip.hasWarpgroupMma && d % 64 == 0) {
          // Warpgroup MMA: two warpgroups of 64 query rows, 64-key tiles
          // (32 at head dim 256) through 5 stages (4 at 256).
          if (d > 128)
            return make(128, 32, 0, 8, 4, 1, 1);
          return make(128, 64, 0, 8, 5, 1, 1);
        }
        // mma.sync, measured on H100 (bench/results/2026-11-24-h100-bench-
        // schedules*.md): two m16 row tiles per warp beat one by 13-15%;
        // above head dim 64, 32-key tiles keep the registers in bounds;
        // above 128 the accumulators of two row tiles would spill.
        if (d > 128)
          return make(64, 32, 0, 4, 2, 1, 1);
        return make(128, d > 64 ? 32 : 64, 0, 4, 2, 1, 1);
      })
      .Case<SoftmaxOp, LogSoftmaxOp, LogSumExpOp>([&](auto o) {
        // One pass while a thread holds at most 64 elements of the row in
        // registers: a row per warp up to 2048, a row per block of up to
        // 16 warps up to 32768; longer rows take two passes (one read over
        // a cluster, split = 2..8, measured no faster at 262144 on the
        // H100: bench/results/2026-11-24-h100-bench-softmax-cluster.md).
        int64_t row = staticDimOr(o.getInput(), o.getDim(), 0);
        if (row > 0 && row <= 2048)
          return make(4, row, 0, 4, 1, 1, 1);
        if (row > 0 && row <= 32768) {
          int64_t warps = 4;
          while (warps < 16 && warps * 32 * 64 < row)
            warps *= 2;
          return make(1, row, 0, warps, 1, 1, 1);
        }
        return make(1, 4096, 0, 16, 1, 1, 2);
      })
      .Case<SoftmaxGradOp, LogSoftmaxGradOp>([&](auto o) {
        // As the softmax family, with half the row per thread: a thread
        // holds its slices of both y and dy.
        int64_t row = staticDimOr(o.getOutput(), o.getDim(), 0);
        if (row > 0 && row <= 1024)
          return make(4, row, 0, 4, 1, 1, 1);
        if (row > 0 && row <= 16384) {
          int64_t warps = 4;
          while (warps < 16 && warps * 32 * 32 < row)
            warps *= 2;
          return make(1, row, 0, warps, 1, 1, 1);
        }
        // Longer rows, up to 8 x 16384: one read of y and dy over a cluster
        // of 2-8 blocks of 16 warps (the two-pass form reads both twice:
        // 5 row transfers instead of 3; it ran at 0.64 of copy at 16384 x
        // 32768 on the H200, bench/results/2026-12-02-h200-backward*).
        if (row > 0 && row <= 8 * 16384 && chip.hasClusters()) {
          int64_t split = 2;
          while (split * 16384 < row)
            split *= 2;
          return make(1, ceilDiv(row, split), 0, 16, 1, split, 1);
        }
        return make(1, 4096, 0, 16, 1, 1, 2);
      })
      .Case([&](CrossEntropyOp) { return make(1, 4096, 0, 4, 1, 1, 1); })
      .Case([&](LinearCrossEntropyOp o) {
        int64_t n = staticDimOr(o.getHidden(), 0, 8192);
        int64_t d = staticDimOr(o.getHidden(), 1, 4096);
        int64_t v = staticDimOr(o.getWeight(), 0, 32768);
        // sm_90a: the TMA pipeline, 128 x 256 logits tiles on two
        // computing warpgroups, 4 stages, the whole-wave split: 1.18x and
        // 1.07x the cp.async kernel of the same tiles at the benchmark's
        // two shapes (0.90 of the bare bf16 matmul at both;
        // bench/results/2026-12-03-h200-lce-tma.md).
        if (chip.hasWarpgroupMma && d % 64 == 0)
          return make(128, 256, 64, 8, 4,
                      wholeWaveSplit(ceilDiv(n, 128), ceilDiv(v, 256), sms),
                      1, kPipelineTma);
        // mma.sync: 64-column chunks, narrowed until they divide the
        // hidden size; split the vocabulary until there are two blocks
        // per SM, in powers of two, so that a few thousand tokens still
        // fill the chip.
        int64_t blockD = 64;
        while (blockD > 16 && d % blockD != 0)
          blockD /= 2;
        int64_t rowTiles = ceilDiv(n, 128), vocabTiles = ceilDiv(v, 128);
        int64_t split = 1;
        while (split < 16 && rowTiles * split < 2 * sms &&
               2 * split <= vocabTiles)
          split *= 2;
        return make(128, 128, blockD, 8, 2, split, 1);
      })
      .Case<LogSumExpGradOp, CrossEntropyGradOp>([&](Operation *o) {
        // The elementwise row kernel: a row per warp up to 2048 elements,
        // else a row per block of 8 warps; the decomposition (block_m = 0)
        // where no kernel takes the op.
        if (getKernelFamily(o, chip) == KernelFamily::Loops)
          return make(0, 0, 0, 4, 1, 1, 1);
        int64_t row = cast<ShapedType>(o->getOperand(0).getType())
                          .getShape()
                          .back();
        if (row <= 2048)
          return make(4, 0, 0, 4, 1, 1, 1);
        return make(1, 0, 0, 8, 1, 1, 1);
      })
      .Case([&](AttentionGradOp o) {
        // The host: attn-tile's FlashAttention-2 backward, 64 x 64 tiles. A
        // GPU op the kernels do not take: the decomposition, which reads no
        // tiles. The kernels: 4 warps of 16 rows (one warpgroup on wgmma),
        // 64-query dK/dV tiles and 64-key dQ tiles, double-buffered (at
        // head dim 128 the dK, dV, scores and dP of a warp take 192
        // registers). On the H200 the fastest or within 4% of it of the
        // sweep bench/sweeps/attention-grad-hopper.json (8 warps, 128-key
        // dQ tiles or 3 stages were no faster;
        // bench/results/2026-12-02-h200-attention-grad-wgmma-sweep.md).
        if (!chip.isGpu())
          return make(64, 64, 0, 4, 1, 1, 1);
        if (getKernelFamily(o, chip) != KernelFamily::AttentionGrad)
          return make(0, 0, 0, 4, 1, 1, 1);
        return make(64, 64, 0, 4, 2, 1, 1);
      })
      .Case([&](LinearCrossEntropyGradOp o) {
        // attn-tile's Cut-Cross-Entropy backward reads the tiles (the host
        // path); a GPU the kernels do not take runs the decomposition,
        // which reads none of them. The kernels: 128 x 256 product tiles
        // on two warpgroups (wgmma on sm_90a; 32 x 128 per warp on
        // mma.sync), 64-deep steps, 4 stages (193 KiB): the fastest of
        // bench/lce_grad_schedules.py's sweep on the H200 at both LLM
        // shapes (1.14x and 1.21x 128 x 128 tiles,
        // bench/results/2026-12-02-h200-lce-grad-schedules.log). On sm_90a
        // the products run on the tma pipeline: 1.15x and 1.02x the
        // cp.async kernel of the same tiles at those shapes, and the
        // fastest of its sweep (3 stages: 0.95x and 0.96x of it;
        // bench/results/2026-12-03-h200-lce-grad-tma.md), and 1.03-1.06x
        // at four smaller shapes (N 512-8192, D 256-4096, V 8192-50304).
        // Where grad-hidden would have fewer than 16 blocks of 128 x 256
        // (few tokens and a small hidden size: long products on few SMs),
        // 128 x 128 tiles: 1.68x at N 512, D 256, V 8192
        // (bench/results/2026-12-03-h200-lce-grad-tma-small-sweep.md).
        // Without wgmma: 128 x 128 tiles, 32-deep steps (80 KiB, within
        // an A100's shared memory).
        if (!chip.isGpu() ||
            getKernelFamily(o, chip) != KernelFamily::LinearCrossEntropyGrad)
          return make(64, 128, 64, 4, 1, 1, 1);
        if (!chip.hasWarpgroupMma)
          return make(128, 128, 32, 8, 4, 1, 1);
        int64_t n = staticDimOr(o.getHidden(), 0, 8192);
        int64_t d = staticDimOr(o.getHidden(), 1, 4096);
        int64_t blockN = ceilDiv(n, 128) * ceilDiv(d, 256) < 16 ? 128 : 256;
        return make(128, blockN, 64, 8, 4, 1, 1, kPipelineTma);
      })
      .Default([&](Operation *) { return make(0, 0, 0, 4, 1, 1, 1); });
}

ScheduleAttr mlir::attn::getPreferredSchedule(Operation *op,
                                              const ChipInfo &chip) {
  ScheduleAttr s = preferredGpuSchedule(op, chip);
  if (chip.isGpu())
    return s;
  // The host's loops read tiles and splits only: warps and stages at their
  // defaults, as the enumeration holds them.
  return ScheduleAttr::get(op->getContext(), s.getBlockM(), s.getBlockN(),
                           s.getBlockD(), /*warps=*/4, /*stages=*/1,
                           s.getSplit(), s.getPasses(), kPipelineCpAsync,
                           chip.name);
}

ScheduleAttr mlir::attn::getDefaultSchedule(Operation *op, StringRef chip) {
  const ChipInfo *info = lookupChip(chip);
  if (!info)
    info = lookupChip("sm_90a");
  ScheduleAttr preferred = getPreferredSchedule(op, *info);
  if (isLegalSchedule(op, preferred))
    return preferred;
  SmallVector<ScheduleAttr> legal = enumerateSchedules(op, info->name);
  return legal.empty() ? preferred : legal.front();
}

ScheduleAttr mlir::attn::getScheduleOrDefault(Operation *op) {
  if (auto s = op->getAttrOfType<ScheduleAttr>("schedule"))
    return s;
  return getDefaultSchedule(op);
}
