//===- Target.cpp - the chip table ----------------------------------------===//

#include "attn/Target/Target.h"

#include "llvm/ADT/STLExtras.h"

using namespace mlir::attn;

// Shared memory: opt-in maximum per block and per SM; registers, threads and
// blocks per SM: CUDA C++ Programming Guide, "Features and Technical
// Specifications" table. Ceilings: bench/results (the H100 copy from the
// softmax rows at 100% of copy, 2026-11-24; the H200 figures from
// ../GPU.md's same-run measurements of 2026-12-01, also in
// bench/results/README.md).
static const ChipInfo kChips[] = {
    // name, alias, isa, device, kind, SMs, smem/block, smem/SM, regs/SM,
    // regs/thread, threads/block, threads/SM, blocks/SM, cluster, wgmma,
    // TMA, copy B/s, bf16 FLOP/s
    {"sm_80", "a100-sxm", "sm_80", "A100 SXM 80GB", TargetKind::Gpu, 108,
     166912, 167936, 65536, 255, 1024, 2048, 32, 1, false, false, 0, 0},
    {"sm_86", "", "sm_86", "RTX A6000", TargetKind::Gpu, 84, 101376, 102400,
     65536, 255, 1024, 1536, 16, 1, false, false, 0, 0},
    {"sm_89", "", "sm_89", "L40S", TargetKind::Gpu, 142, 101376, 102400,
     65536, 255, 1024, 1536, 24, 1, false, false, 0, 0},
    {"sm_90", "", "sm_90", "H100 SXM (no sm_90a features)", TargetKind::Gpu,
     132, 232448, 233472, 65536, 255, 1024, 2048, 32, 8, false, true, 0, 0},
    {"sm_90a", "h100-sxm", "sm_90a", "H100 SXM 80GB", TargetKind::Gpu, 132,
     232448, 233472, 65536, 255, 1024, 2048, 32, 8, true, true, 3.0e12,
     685e12},
    {"h200-sxm", "h200", "sm_90a", "H200 SXM 141GB", TargetKind::Gpu, 132,
     232448, 233472, 65536, 255, 1024, 2048, 32, 8, true, true, 4.2e12,
     681e12},
    {"sm_100a", "", "sm_100a", "B200 (no tcgen05 kernels yet)",
     TargetKind::Gpu, 148, 232448, 233472, 65536, 255, 1024, 2048, 32, 8,
     false, true, 0, 0},
    // The host CPU: schedules shape attn-tile's loops only (attn-to-llvm).
    {"host", "cpu", "", "host CPU (tiled loops)", TargetKind::Host, 0, 0, 0,
     0, 0, 0, 0, 0, 1, false, false, 0, 0},
};

llvm::ArrayRef<ChipInfo> mlir::attn::getKnownChips() { return kChips; }

const ChipInfo *mlir::attn::lookupChip(llvm::StringRef name) {
  for (const ChipInfo &chip : kChips)
    if (chip.name == name || (!chip.alias.empty() && chip.alias == name))
      return &chip;
  return nullptr;
}

std::string mlir::attn::knownChipNames(bool gpuOnly) {
  std::string names;
  for (const ChipInfo &chip : kChips) {
    if (gpuOnly && !chip.isGpu())
      continue;
    if (!names.empty())
      names += ", ";
    names += chip.name.str();
  }
  return names;
}
