//===- Target.h - the chips attn-mlir compiles for, as data ------*- C++ -*-===//
//
// One table of chip facts (SM count, shared memory, registers, threads,
// cluster / warpgroup-MMA / TMA support, measured ceilings), selected by
// name. Every pass, plan and model that needs a fact about a chip asks this
// table; no chip constant lives anywhere else (docs/Architecture.md).
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_TARGET_TARGET_H
#define ATTN_TARGET_TARGET_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <string>

namespace mlir::attn {

/// What code a target runs: GPU kernels, or the tiled loops on the host CPU
/// (attn-to-llvm), whose schedules only shape the loops.
enum class TargetKind { Gpu, Host };

/// The facts of one chip. Limits are from the CUDA programming guide's
/// compute-capability tables; ceilings are measured (0 where not measured).
struct ChipInfo {
  /// The name schedules and pass options use ("sm_90a", "h200-sxm").
  llvm::StringRef name;
  /// Another accepted name for the same facts, or "".
  llvm::StringRef alias;
  /// The PTX target (`nvvm-attach-target` chip) of its kernels.
  llvm::StringRef isa;
  /// The device the facts describe.
  llvm::StringRef device;
  TargetKind kind;
  int64_t smCount;
  /// Dynamic shared memory one block may opt in to, and the SM's total.
  int64_t sharedMemoryPerBlock;
  int64_t sharedMemoryPerSM;
  int64_t registersPerSM;
  int64_t maxRegistersPerThread;
  int64_t maxThreadsPerBlock;
  int64_t maxThreadsPerSM;
  int64_t maxBlocksPerSM;
  /// Largest portable thread-block cluster; 1 without clusters.
  int64_t maxClusterSize;
  bool hasWarpgroupMma;
  bool hasTma;
  /// Measured device-to-device copy (read + write), bytes per second.
  double copyBytesPerSecond;
  /// Measured dense bf16 matmul, FLOP per second.
  double bf16FlopsPerSecond;

  bool isGpu() const { return kind == TargetKind::Gpu; }
  bool hasClusters() const { return maxClusterSize > 1; }
};

/// Every chip attn-mlir knows, in table order.
llvm::ArrayRef<ChipInfo> getKnownChips();

/// The chip called `name` (its name or alias), or null.
const ChipInfo *lookupChip(llvm::StringRef name);

/// "sm_80, sm_86, ..." for diagnostics: every chip, or only GPUs.
std::string knownChipNames(bool gpuOnly = false);

} // namespace mlir::attn

#endif // ATTN_TARGET_TARGET_H
