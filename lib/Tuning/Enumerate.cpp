//===- Enumerate.cpp - every schedule some kernel plan accepts ------------===//
//
// The candidates of each knob per kernel family, filtered by the structural
// checks and the family's plan. Knobs a family ignores are held at one
// canonical value: the row kernels read whole rows (block_n only bounds the
// one-pass form), the simple GPU mapping ignores schedules altogether, and
// attn-tile's loops on the host ignore warps and stages.
//
//===----------------------------------------------------------------------===//

#include "attn/Tuning/Tuning.h"

#include "attn/Conversion/AttnToGPU/Plans.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Dialect/Attn/Utils/StaticShape.h"
#include "attn/Dialect/Attn/IR/Schedule.h"

#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::attn;

bool mlir::attn::isLegalSchedule(Operation *op, ScheduleAttr schedule) {
  // Rejections are expected here: drop their diagnostics.
  ScopedDiagnosticHandler silence(op->getContext(),
                                  [](Diagnostic &) { return success(); });
  auto emit = [&] { return op->emitError(); };
  return succeeded(verifyScheduleStructure(op, schedule, emit)) &&
         succeeded(planKernel(op, schedule, /*emitError=*/nullptr));
}

namespace {
/// The candidate values of each schedule field.
struct Candidates {
  SmallVector<int64_t> blockM, blockN, blockD = {0}, warps = {4},
                                       stages = {1}, split = {1},
                                       passes = {1};
  SmallVector<StringRef> pipelines = {kPipelineCpAsync};
  /// Further block_m candidates, per warp: block_m = r x warps.
  SmallVector<int64_t> rowsPerWarp;
  /// Derives block_n from the split (the whole row over the blocks).
  int64_t wholeRow = 0;
};
} // namespace

static void addLegal(Operation *op, StringRef chip, const Candidates &c,
                     llvm::SetVector<ScheduleAttr> &out) {
  MLIRContext *ctx = op->getContext();
  auto consider = [&](int64_t bm, int64_t bn, int64_t bd, int64_t w,
                      int64_t st, int64_t sp, int64_t p) {
    for (StringRef pipeline : c.pipelines) {
      auto s = ScheduleAttr::get(ctx, bm, bn, bd, w, st, sp, p, pipeline, chip);
      if (isLegalSchedule(op, s))
        out.insert(s);
    }
  };
  for (int64_t w : c.warps)
    for (int64_t p : c.passes)
      for (int64_t sp : c.split)
        for (int64_t st : c.stages)
          for (int64_t bd : c.blockD) {
            SmallVector<int64_t> bms = c.blockM;
            for (int64_t r : c.rowsPerWarp)
              bms.push_back(r * w);
            SmallVector<int64_t> bns = c.blockN;
            if (c.wholeRow > 0 && p == 1)
              bns = {(c.wholeRow + sp - 1) / sp};
            for (int64_t bm : bms)
              for (int64_t bn : bns)
                consider(bm, bn, bd, w, st, sp, p);
          }
}

SmallVector<ScheduleAttr> mlir::attn::enumerateSchedules(Operation *op,
                                                         StringRef chip) {
  const ChipInfo *info = lookupChip(chip);
  if (!info)
    return {};
  llvm::SetVector<ScheduleAttr> result;
  KernelFamily family = getKernelFamily(op, *info);
  const SmallVector<int64_t> warps = {1, 2, 4, 8, 16};
  const SmallVector<int64_t> splits = {1, 2, 4, 8, 16};

  if (family == KernelFamily::Loops && info->isGpu()) {
    // The decomposition on the simple mapping reads no schedule.
    ScheduleAttr only = getPreferredSchedule(op, *info);
    if (isLegalSchedule(op, only))
      result.insert(only);
    return result.takeVector();
  }

  Candidates c;
  llvm::TypeSwitch<Operation *>(op)
      .Case([&](AttentionGradOp) {
        // The host's tiled backward (attn-tile) reads the tiles alone; a GPU
        // without the kernels returned above.
        c.blockM = {16, 32, 64, 128};
        c.blockN = {16, 32, 64, 128};
        if (family == KernelFamily::Loops)
          return;
        c.blockM = {16, 32, 64, 128};
        c.blockN = {16, 32, 64, 128};
        c.warps = {1, 2, 4, 8};
        c.stages = {2, 3};
      })
      .Case<LogSumExpGradOp, CrossEntropyGradOp>(
          [&](Operation *) {
            if (family != KernelFamily::Loops) {
              // The elementwise row kernel: a row per block or per warp.
              c.blockM = {1};
              c.rowsPerWarp = {1};
              c.blockN = {0};
              c.warps = warps;
              return;
            }
            // No tiled form yet: the decomposition reads no schedule, so
            // the host lists the one canonical schedule, as the GPU does.
            c.blockM = {0};
            c.blockN = {0};
          })
      .Case([&](LinearCrossEntropyGradOp) {
        // The host's tiled Cut-Cross-Entropy backward, or the GPU kernels'
        // product tiles (a GPU without them returned above).
        c.blockM = {16, 32, 64, 128};
        c.blockN = {32, 64, 128, 256};
        c.blockD = {16, 32, 64, 128};
        if (family == KernelFamily::Loops)
          return;
        c.blockM = {32, 64, 128, 256};
        c.blockN = {64, 128, 256};
        c.blockD = {32, 64};
        c.warps = {4, 8};
        c.stages = {2, 3, 4};
        if (info->hasWarpgroupMma)
          c.pipelines = {kPipelineCpAsync, kPipelineTma};
      })
      .Case<SoftmaxGradOp, LogSoftmaxGradOp>([&](auto o) {
        if (family == KernelFamily::Loops) {
          // The host: attn-tile does not tile them; the default's row
          // fields stand for all.
          ScheduleAttr only = getPreferredSchedule(op, *info);
          c.blockM = {only.getBlockM()};
          c.blockN = {only.getBlockN()};
          c.passes = {only.getPasses()};
          return;
        }
        // The softmax family's row kernels, reading two rows.
        c.passes = {1, 2};
        c.warps = warps;
        c.blockM = {1};
        c.rowsPerWarp = {1};
        c.split = {1, 2, 4, 8};
        c.blockN = {4096};
        c.wholeRow = staticDimOr(o.getOutput(), o.getDim(), 0);
      })
      .Case([&](AttentionOp) {
        c.blockN = {16, 32, 64, 128, 256};
        c.split = splits;
        if (family == KernelFamily::Loops) {
          c.blockM = {16, 32, 64, 128, 256};
          return;
        }
        // wgmma takes any N that is a multiple of 16 (the PV's k): the
        // fastest Hopper tiles are not powers of two (96, 112, 176).
        if (info->hasWarpgroupMma)
          c.blockN = {16, 32, 64, 96, 112, 128, 160, 176, 192, 256};
        c.warps = warps;
        c.rowsPerWarp = {16, 32};
        c.stages = {2, 3, 4, 5, 6, 7, 8};
        c.pipelines = {kPipelineCpAsync, kPipelineTma, kPipelineTmaPingPong};
      })
      .Case<SoftmaxOp, LogSoftmaxOp, LogSumExpOp>([&](auto o) {
        int64_t row = staticDimOr(o.getInput(), o.getDim(), 0);
        c.passes = {1, 2};
        if (family == KernelFamily::Loops) {
          c.blockM = {1, 2, 4, 8, 16};
          c.blockN = {256, 1024, 4096};
          if (row > 0)
            c.blockN.push_back(row);
          return;
        }
        // A row per block or per warp; block_n is the whole row (over the
        // cluster) for one pass, and unused by the two-pass kernel.
        c.warps = warps;
        c.blockM = {1};
        c.rowsPerWarp = {1};
        c.split = {1, 2, 4, 8};
        c.blockN = {4096};
        c.wholeRow = row;
      })
      .Case([&](CrossEntropyOp) {
        c.blockN = {4096};
        if (family == KernelFamily::Loops) {
          c.blockM = {1, 4, 16, 64};
          c.blockN = {1024, 2048, 4096, 8192};
          c.split = {1, 2, 4, 8};
          return;
        }
        c.warps = warps;
        c.blockM = {1};
        c.rowsPerWarp = {1};
      })
      .Case([&](LinearCrossEntropyOp o) {
        c.blockN = {32, 64, 128, 192, 256};
        c.blockD = {16, 32, 64, 128};
        c.split = {1, 2, 4, 8, 12, 16, 24, 32, 48};
        if (family == KernelFamily::Loops) {
          c.blockM = {16, 32, 64, 128, 256};
          return;
        }
        // The default's whole-wave split is a candidate too.
        int64_t def = getPreferredSchedule(o, *info).getSplit();
        if (!llvm::is_contained(c.split, def))
          c.split.push_back(def);
        c.warps = warps;
        c.rowsPerWarp = {16};
        c.stages = {2, 3, 4, 5, 6, 7, 8};
        if (info->hasWarpgroupMma)
          c.pipelines = {kPipelineCpAsync, kPipelineTma};
      });
  addLegal(op, chip, c, result);
  return result.takeVector();
}
