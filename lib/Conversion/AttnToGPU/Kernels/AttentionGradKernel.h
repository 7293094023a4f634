//===- AttentionGradKernel.h - the attention backward kernels ----*- C++ -*-===//
//
// The FlashAttention-2 backward of attn-map-to-gpu, one class whose parts
// live by concern: what both MMA kinds share (AttentionGradKernel.cpp: row
// and key mapping, tile loads, the recomputed probabilities and their
// gradient, the epilogue, and the mma.sync launches) and the warpgroup-MMA
// launches (AttentionGradWgmma.cpp). Internal to the AttnToGPU conversion.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LIB_CONVERSION_ATTNTOGPU_KERNELS_ATTENTIONGRADKERNEL_H
#define ATTN_LIB_CONVERSION_ATTNTOGPU_KERNELS_ATTENTIONGRADKERNEL_H

#include "Kernels.h"
#include "../Builders/AsyncCopy.h"
#include "../Builders/KernelBuilder.h"
#include "../Builders/MmaSync.h"
#include "../Builders/WarpOps.h"

#include "attn/Dialect/Attn/Utils/MaskGeometry.h"

#include <functional>

namespace mlir::attn::gpu_kernel::attention_grad {

/// Shared-memory indices of element (row, col) of a tile.
using TileIndex = std::function<SmallVector<Value>(Value, Value)>;

/// A row a thread or a load addresses: its head, its index (clamped into
/// range) and whether it exists.
using RowSlot = std::tuple<Value, Value, Value>;

/// The operands and results of attention_grad, and the D = rowsum(dO O)
/// buffer the dQ launch writes for the dK/dV launch.
struct GradBuffers {
  Value q, k, v, out, lse, dout, dq, dk, dv, delta;
};

/// What the dQ launch knows of a thread's two accumulator rows.
struct QueryRows {
  SmallVector<RowSlot> slots;
  /// Per row slot: the query index, the LSE in base 2 and D.
  SmallVector<Value> query, lse2, delta;
};

/// Builds the body of one launch of the attention backward.
class AttentionGradKernel {
public:
  AttentionGradKernel(const AttentionGradPlan &plan, gpu::LaunchOp launch,
                      KernelBuilder &kb, const GradBuffers &buf);

  void buildQueryGradient();
  void buildKeyValueGradient();

private:
  int64_t rowsPerBlock() const { return s.blockRows(); }
  int64_t chunksPerRow() const { return s.headDim / 8; }
  int64_t dTiles() const { return s.headDim / 8; }
  /// What turns a raw score into the exponent base 2 of softmax.
  double log2Factor() const {
    return s.softcap ? kLog2e : s.scale * kLog2e;
  }

  MaskGeometry<KernelMath> geometry();
  std::pair<Value, Value> headAndQuery(Value row);
  Value divU(Value x, Value y);
  Value remU(Value x, Value y);

  /// The LSE of a row in base 2, +inf for a row that sees no key (so that
  /// exp2(x - lse2) is 0 there).
  Value log2Lse(Value lse, Value valid);

  /// Loads 16-byte chunks of `rows` rows of `src` [B, H, rows, D] into the
  /// tile `dst` (at `dstAt`): row r is `rowOf(r)`; rows that do not exist
  /// are zero-filled.
  void loadRows(Value dst, const TileIndex &dstAt, Value src, int64_t rows,
                function_ref<RowSlot(Value)> rowOf);

  /// dQ launch: the block's first packed query row (heaviest causal tiles
  /// first), its query range, and the packed row `row`'s slot.
  Value queryBlockRow();
  std::pair<Value, Value> queryRange(Value row0);
  RowSlot packedRow(Value row);
  /// dQ launch: the thread's row slots, with D = rowsum(dO O) of each
  /// (written for the dK/dV launch) and its LSE in base 2.
  QueryRows queryRows(Value row0);

  /// dK/dV launch: step t visits query tile t mod n of head t / n of the
  /// group (n = `perHead`); returns (head, first query).
  std::pair<Value, Value> stepTile(Value step, Value tileFirst, Value perHead);
  /// dK/dV launch: the Q and dO tiles (at `at`) and the LSE (base 2) and D
  /// (`lse`, `delta` [stages, block_m]) of step `step` into `stage`.
  void loadQueryTile(Value step, Value stage, Value tileFirst, Value perHead,
                     Value sQ, Value sdO, const TileIndex &at, Value sL,
                     Value sD);
  /// dK/dV launch: the thread's two key slots.
  SmallVector<RowSlot> keyRows(Value key0, SmallVector<Value> &rowKey);

  /// Turns the raw scores `sc` (row slot h of tile t: row `rowIndex(t, e)`,
  /// column `colIndex(t, e)`) into P in place and returns dS (with the
  /// softcap's derivative; scale applied later), given per-element lse2,
  /// D and dP, and whether the tile needs the mask.
  SmallVector<Accumulator>
  probabilitiesAndGradient(SmallVector<Accumulator> &sc,
                           ArrayRef<Accumulator> dp, Value needMask,
                           function_ref<Value(int64_t t, int64_t e)> query,
                           function_ref<Value(int64_t t, int64_t e)> key,
                           function_ref<Value(int64_t t, int64_t e)> lse2,
                           function_ref<Value(int64_t t, int64_t e)> delta);

  /// dK/dV launch: probabilitiesAndGradient for the transposed tile (rows
  /// the thread's keys `rowKey`, columns the queries from `query0` at the
  /// thread's column `col`), LSE and D from the stage's `sL` and `sD`.
  SmallVector<Accumulator>
  keyTileGradient(SmallVector<Accumulator> &sc, ArrayRef<Accumulator> dp,
                  Value needMask, Value query0, Value col,
                  ArrayRef<Value> rowKey, Value stage, Value sL, Value sD);

  /// Stores the accumulator tiles `acc` of a warp's 16 rows, times
  /// `factor`, into `dst` [B, H, rows, D] at row slot h's (head, row) when
  /// valid.
  void storeRows(ArrayRef<Accumulator> acc, double factor, Value dst,
                 ArrayRef<RowSlot> slots);

  /// The mma.sync launches (AttentionGradKernel.cpp).
  void buildQueryGradientMmaSync();
  void buildKeyValueGradientMmaSync();
  /// The warpgroup-MMA launches (AttentionGradWgmma.cpp).
  void buildQueryGradientWgmma();
  void buildKeyValueGradientWgmma();

  const AttentionGradPlan &s;
  KernelBuilder &kb;
  KernelMath math;
  const GradBuffers &buf;
  Value tid, lane, warp, blockX, kvHead, batch;
};

} // namespace mlir::attn::gpu_kernel::attention_grad

#endif // ATTN_LIB_CONVERSION_ATTNTOGPU_KERNELS_ATTENTIONGRADKERNEL_H
