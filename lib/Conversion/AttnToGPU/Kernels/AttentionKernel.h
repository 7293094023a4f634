//===- AttentionKernel.h - the attention forward kernel ----------*- C++ -*-===//
//
// The FlashAttention-2 forward kernel of attn-map-to-gpu, one class whose
// parts live by concern: what both MMA kinds share (AttentionKernel.cpp:
// block and row mapping, K/V tiles, masks, the online softmax, the
// epilogue), the mma.sync key loop (AttentionMmaSync.cpp), the warpgroup-MMA
// key loop (AttentionWgmma.cpp), and the split-KV combine kernel
// (AttentionCombine.cpp). Internal to the AttnToGPU conversion.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LIB_CONVERSION_ATTNTOGPU_KERNELS_ATTENTIONKERNEL_H
#define ATTN_LIB_CONVERSION_ATTNTOGPU_KERNELS_ATTENTIONKERNEL_H

#include "Kernels.h"
#include "../Builders/AsyncCopy.h"
#include "../Builders/KernelBuilder.h"
#include "../Builders/MmaSync.h"
#include "../Builders/Tma.h"
#include "../Builders/WarpOps.h"
#include "../Builders/Wgmma.h"

#include "attn/Dialect/Attn/Utils/MaskGeometry.h"

namespace mlir::attn::gpu_kernel::attention {

/// The largest head dim whose Q tile is held in registers.
constexpr int64_t kMaxRegisterQueryDim = 128;

/// The per-thread state carried across key tiles: the output accumulator
/// (headDim / 8 m16n8 tiles) and, for the two rows a thread holds, the
/// running maximum (of raw scores) and the thread's partial row sum.
struct OnlineSoftmaxState {
  /// [m tile][d tile] of the output accumulator.
  SmallVector<Accumulator> out;
  /// Per row slot (m tile x 2 + half): running max and partial sum.
  SmallVector<Value> max, sum;

  SmallVector<Value> flatten() const {
    SmallVector<Value> values;
    for (const Accumulator &a : out)
      values.append(a.begin(), a.end());
    values.append(max.begin(), max.end());
    values.append(sum.begin(), sum.end());
    return values;
  }
  static OnlineSoftmaxState unflatten(ValueRange values, int64_t tiles,
                                      int64_t slots) {
    OnlineSoftmaxState s;
    for (int64_t t = 0; t < tiles; ++t)
      s.out.push_back({values[4 * t], values[4 * t + 1], values[4 * t + 2],
                       values[4 * t + 3]});
    ValueRange rest = values.drop_front(4 * tiles);
    s.max.assign(rest.begin(), rest.begin() + slots);
    s.sum.assign(rest.begin() + slots, rest.begin() + 2 * slots);
    return s;
  }
};

/// Where the warpgroup key loop (AttentionKernel::warpgroupKeyLoop) hands
/// control to the way K/V tiles arrive and to the warpgroups' turn-taking;
/// unset hooks do nothing. Tiles are counted from the block's first.
struct WarpgroupLoopHooks {
  /// Once, before anything else of a block with key tiles.
  function_ref<void(KernelBuilder &)> start;
  /// Before the QK^T of tile 0.
  function_ref<void(KernelBuilder &)> firstKeys;
  /// At the head of step j >= 1, before the QK^T of tile j.
  function_ref<void(KernelBuilder &, Value)> nextKeys;
  /// Once the QK^T of tile t has landed.
  function_ref<void(KernelBuilder &, Value)> keysDone;
  /// Before the PV of tile t reads V.
  function_ref<void(KernelBuilder &, Value)> valuesReady;
  /// Once the PV of tile t has landed.
  function_ref<void(KernelBuilder &, Value)> valuesDone;
  /// Around the MMAs a step issues (the QK^T of tile t and the PV of tile
  /// t - 1): the warpgroups' turn (ping-pong). No branch belongs here: ptxas
  /// serializes wgmmas whose pipeline stages it cannot follow.
  function_ref<void(KernelBuilder &)> beforeMmas;
  function_ref<void(KernelBuilder &)> afterMmas;
  /// Once, after the last PV of a block with key tiles has landed.
  function_ref<void(KernelBuilder &)> finish;
};

/// Builds the body of one attention kernel launch.
class AttentionKernel {
public:
  AttentionKernel(const AttentionPlan &spec, gpu::LaunchOp launch,
                  KernelBuilder &kb, Value q, Value k, Value v, Value out,
                  Value lse, Value partialOut, Value partialLse,
                  Value keyMap = Value(), Value valueMap = Value())
      : s(spec), launch(launch), kb(kb), math{kb}, q(q), k(k), v(v),
        out(out), lse(lse), partialOut(partialOut), partialLse(partialLse),
        keyMap(keyMap), valueMap(valueMap) {}

  void build();

private:
  int64_t group() const { return s.qHeads / s.kvHeads; }
  int64_t rows() const { return group() * s.queries; }
  int64_t threads() const { return 32 * s.warps; }
  int64_t pitch() const { return s.headDim + kRowPad; }
  int64_t chunksPerRow() const { return s.headDim / 8; }
  int64_t kTiles() const { return s.headDim / 16; }
  int64_t nTiles() const { return s.blockN / 8; }
  int64_t dTiles() const { return s.headDim / 8; }
  /// m16 row tiles per warp (block_m / warps = 16 or 32 rows), and the row
  /// slots (2 per m tile: rows lane/4 and lane/4 + 8) a thread holds.
  int64_t mTiles() const { return s.blockM / (16 * s.warps); }
  int64_t slots() const { return 2 * mTiles(); }
  /// What turns a raw score into the exponent base 2 of softmax.
  double log2Factor() const { return s.softcap ? kLog2e : s.scale * kLog2e; }

  void carveSharedMemory();
  /// The query head and query index of packed row `row` (< rows()).
  std::pair<Value, Value> headAndQuery(Value row);
  void loadQueryTile();
  void loadKeyValueTile(Value tile, Value stage);
  Fragment queryFragment(int64_t kTile, int64_t mTile);
  SmallVector<Fragment> queryFragments();
  /// The causal/window geometry of this problem over kernel IR.
  MaskGeometry<KernelMath> geometry();
  /// The range [first, end) of key tiles this block visits.
  std::pair<Value, Value> keyTileRange();
  OnlineSoftmaxState step(const OnlineSoftmaxState &in, Value tile,
                          Value stage, ArrayRef<Fragment> qFrag);
  SmallVector<Accumulator> scores(Value stage, ArrayRef<Fragment> qFrag);
  /// Soft-caps, masks and exponentiates the scores `sc` ([m tile][n tile])
  /// of key tile `tile` in place into P, and carries the running max and
  /// sum of `in` into `next`; returns each row slot's output rescale.
  SmallVector<Value> softmax(const OnlineSoftmaxState &in, Value tile,
                             SmallVector<Accumulator> &sc,
                             OnlineSoftmaxState &next);
  /// P of n8 score tiles 2 kt and 2 kt + 1 of m tile `mi`, as an m16k16
  /// operand.
  Fragment probabilities(ArrayRef<Accumulator> sc, int64_t mi, int64_t kt);
  /// The key loop and epilogue on mma.sync (AttentionMmaSync.cpp).
  void buildMmaSyncLoop(Value tileFirst, Value numTiles);
  /// The key loop and epilogue on warpgroup MMA (AttentionWgmma.cpp).
  void buildWarpgroupLoop(Value tileFirst, Value numTiles);
  /// Issues S = Q K^T of the K tile in `stage` (one wgmma group).
  Value warpgroupScores(Value stage);
  /// The softmax of tile `tile`'s complete `scores`: carries `state`'s max
  /// and sum, sets each row slot's rescale of O in `alpha`, and returns P
  /// as one m16k16 register operand per 16 keys.
  SmallVector<Fragment> warpgroupSoftmax(OnlineSoftmaxState &state,
                                         Value scores, Value tile,
                                         SmallVector<Value> &alpha);
  /// O = O * alpha + P V with V in `stage` (issued as one wgmma group, not
  /// waited for); `beforeValues` runs before it reads V. Returns O.
  Value warpgroupValues(Value out, ArrayRef<Value> alpha,
                        ArrayRef<Fragment> p, Value stage,
                        function_ref<void(KernelBuilder &)> beforeValues);
  /// The warp-specialized key loop (AttentionTma.cpp): a producer
  /// warpgroup streams K/V tiles with TMA, the others run the wgmma loop.
  void buildTmaLoop(Value tileFirst, Value numTiles);
  /// The online-softmax key loop on warpgroup MMA (FlashAttention-3's
  /// order): step j issues the QK^T of tile j and the PV of tile j - 1,
  /// then runs tile j's softmax while that PV is in flight; returns the
  /// state to write.
  OnlineSoftmaxState warpgroupKeyLoop(Value tileFirst, Value numTiles,
                                      const WarpgroupLoopHooks &hooks);
  /// The box of one TMA copy of K or V: a 64-column slab of a key tile.
  SmallVector<int64_t> keyValueBox() const { return {1, 1, s.blockN, 64}; }
  Value tileNeedsMask(Value tile);
  /// Whether key `key` is visible from query `query`.
  Value visible(Value query, Value key);
  void writeResults(const OnlineSoftmaxState &state);

  const AttentionPlan &s;
  gpu::LaunchOp launch;
  KernelBuilder &kb;
  KernelMath math;
  Value q, k, v, out, lse, partialOut, partialLse;
  /// The tma pipeline: the tensor maps of K and V (pointers), else null.
  Value keyMap, valueMap;

  // Per-block and per-thread values.
  Value tid, lane, warp, rowTile0, kvHead, batch, splitIndex;
  Value sQ, sK, sV;
  /// The dynamic shared memory and the byte offset of its 1024-byte aligned
  /// part (wgmma).
  Value smemRaw, smemPad;
  /// wgmma: shared byte addresses of the warpgroup's Q rows and of stage 0
  /// of K and V.
  Value addrQ, addrK, addrV;
  /// Per row slot: the query index and head of the row (clamped into range)
  /// and whether the row exists.
  SmallVector<Value> rowQuery, rowHead, rowValid;
  /// The smallest and largest query index of the block's rows.
  Value queryLo, queryHi;
};

/// The split-KV combine: one thread per (batch, head, query, d) output
/// element merges the splits' normalized partial outputs by their LSEs.
void buildCombine(OpBuilder &b, Location loc, const AttentionPlan &s,
                  Value partialOut, Value partialLse, Value out, Value lse);

} // namespace mlir::attn::gpu_kernel::attention

#endif // ATTN_LIB_CONVERSION_ATTNTOGPU_KERNELS_ATTENTIONKERNEL_H
