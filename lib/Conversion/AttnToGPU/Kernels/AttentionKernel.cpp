//===- AttentionKernel.cpp - FlashAttention-2 forward on mma.sync ---------===//
//
// Writes the attention forward kernel of attn-map-to-gpu: the L2 algorithm
// of attn-tile (online softmax over key tiles, block skipping, safe max,
// split-KV with a log-sum-exp combine) mapped onto one thread block per
// (query-row tile, kv head, batch x split), one warp per 16 query rows,
// m16n8k16 tensor-core MMAs fed by ldmatrix, K/V tiles streamed through
// shared memory by multi-stage cp.async, and the softmax state in registers.
//
//===----------------------------------------------------------------------===//

#include "Kernels.h"
#include "../Builders/AsyncCopy.h"
#include "../Builders/KernelBuilder.h"
#include "../Builders/MmaSync.h"
#include "../Builders/WarpOps.h"
#include "../Builders/Wgmma.h"

#include "attn/Dialect/Attn/Utils/MaskGeometry.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"

#include <cmath>

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::gpu_kernel;

namespace {

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

/// Builds the body of one attention kernel launch.
class AttentionKernel {
public:
  AttentionKernel(const AttentionPlan &spec, gpu::LaunchOp launch,
                  KernelBuilder &kb, Value q, Value k, Value v, Value out,
                  Value lse, Value partialOut, Value partialLse)
      : s(spec), launch(launch), kb(kb), math{kb}, q(q), k(k), v(v),
        out(out), lse(lse), partialOut(partialOut), partialLse(partialLse) {}

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
  /// The range [first, end) of key tiles this block visits.
  /// The causal/window geometry of this problem over kernel IR.
  MaskGeometry<KernelMath> geometry();
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
  void buildWarpgroupLoop(Value tileFirst, Value numTiles);
  Value warpgroupScores(Value stage);
  /// Softmax of the complete `scores` of key tile `tile`, then, once all
  /// but `pendingGroups` wgmma groups are done, O = O * alpha + P V (issued,
  /// not waited for). Returns O.
  Value warpgroupStep(OnlineSoftmaxState &state, Value scores, Value out,
                      Value tile, Value stage, int64_t pendingGroups);
  Value tileNeedsMask(Value tile);
  /// Whether key `key` is visible from query `query`.
  Value visible(Value query, Value key);
  void writeResults(const OnlineSoftmaxState &state);

  const AttentionPlan &s;
  gpu::LaunchOp launch;
  KernelBuilder &kb;
  KernelMath math;
  Value q, k, v, out, lse, partialOut, partialLse;

  // Per-block and per-thread values.
  Value tid, lane, warp, rowTile0, kvHead, batch, splitIndex;
  Value sQ, sK, sV;
  /// wgmma: shared byte addresses of the warpgroup's Q rows and of stage 0
  /// of K and V.
  Value addrQ, addrK, addrV;
  /// Per row slot: the query index and head of the row (clamped into range)
  /// and whether the row exists.
  SmallVector<Value> rowQuery, rowHead, rowValid;
  /// The smallest and largest query index of the block's rows.
  Value queryLo, queryHi;
};

void AttentionKernel::carveSharedMemory() {
  if (s.warpgroupMma) {
    // Q, then `stages` K and V tiles, each in 128-byte-swizzled slabs of 64
    // columns, from a 1024-byte aligned base.
    int64_t qBytes = 2 * s.blockM * s.headDim;
    int64_t kvBytes = 2 * s.stages * s.blockN * s.headDim;
    Value raw = kb.sharedBytes();
    Value base = kb.sharedAddress(raw);
    Value pad = kb.rem(kb.sub(kb.idx(1024), kb.rem(base, 1024)), 1024);
    sQ = kb.sharedView(raw, {s.blockM * s.headDim}, s.elementType, pad);
    sK = kb.sharedView(raw, {s.stages * s.blockN * s.headDim}, s.elementType,
                       kb.add(pad, qBytes));
    sV = kb.sharedView(raw, {s.stages * s.blockN * s.headDim}, s.elementType,
                       kb.add(pad, qBytes + kvBytes));
    Value aligned = kb.add(base, pad);
    addrQ = kb.add(aligned, kb.mul(kb.div(warp, 4), 64 * 128));
    addrK = kb.add(aligned, qBytes);
    addrV = kb.add(aligned, qBytes + kvBytes);
    return;
  }
  int64_t qBytes = 2 * s.blockM * pitch();
  int64_t kvBytes = 2 * s.stages * s.blockN * pitch();
  sQ = kb.sharedView({s.blockM, pitch()}, s.elementType, 0);
  sK = kb.sharedView({s.stages, s.blockN, pitch()}, s.elementType, qBytes);
  sV = kb.sharedView({s.stages, s.blockN, pitch()}, s.elementType,
                     qBytes + kvBytes);
}

std::pair<Value, Value> AttentionKernel::headAndQuery(Value row) {
  if (group() == 1)
    return {kvHead, row};
  Value head = kb.add(kb.mul(kvHead, group()), kb.div(row, s.queries));
  return {head, kb.rem(row, s.queries)};
}

void AttentionKernel::loadQueryTile() {
  kb.forEachStrided(tid, s.blockM * chunksPerRow(), threads(),
                    [&](KernelBuilder &kb, Value c) {
    Value r = kb.div(c, chunksPerRow());
    Value col = kb.mul(kb.rem(c, chunksPerRow()), 8);
    Value row = kb.add(rowTile0, r);
    Value valid = kb.lt(row, rows());
    auto [head, query] = headAndQuery(kb.minI(row, rows() - 1));
    SmallVector<Value> dst = {r, col};
    if (s.warpgroupMma)
      dst = {swizzledOffset(kb, r, kb.rem(c, chunksPerRow()), s.blockM)};
    asyncCopy(kb, sQ, dst, q, {batch, head, query, col}, 8,
                 kb.select(valid, kb.idx(8), kb.idx(0)));
  });
}

void AttentionKernel::loadKeyValueTile(Value tile, Value stage) {
  Value tileStart = kb.mul(tile, s.blockN);
  kb.forEachStrided(tid, s.blockN * chunksPerRow(), threads(),
                    [&](KernelBuilder &kb, Value c) {
    Value r = kb.div(c, chunksPerRow());
    Value col = kb.mul(kb.rem(c, chunksPerRow()), 8);
    Value key = kb.add(tileStart, r);
    Value keyClamped = kb.minI(key, s.keys - 1);
    Value n = kb.select(kb.lt(key, s.keys), kb.idx(8), kb.idx(0));
    SmallVector<Value> dst = {stage, r, col};
    if (s.warpgroupMma)
      dst = {kb.add(kb.mul(stage, s.blockN * s.headDim),
                    swizzledOffset(kb, r, kb.rem(c, chunksPerRow()), s.blockN))};
    asyncCopy(kb, sK, dst, k, {batch, kvHead, keyClamped, col}, 8, n);
    asyncCopy(kb, sV, dst, v, {batch, kvHead, keyClamped, col}, 8, n);
  });
}

Fragment AttentionKernel::queryFragment(int64_t kt, int64_t mi) {
  // ldmatrix.x4: lanes 0-15 address rows 0-15 at column k0, lanes 16-31 the
  // same rows at k0 + 8, which is the m16k16 A operand order.
  Value row = kb.add(kb.mul(warp, 16 * mTiles()),
                     kb.add(kb.rem(lane, 16), mi * 16));
  Value colOff = kb.mul(kb.div(lane, 16), 8);
  SmallVector<Value> r = loadMatrix(kb, sQ, {row, kb.add(colOff, kt * 16)}, 4,
                                       false, s.elementType);
  return {r[0], r[1], r[2], r[3]};
}

SmallVector<Fragment> AttentionKernel::queryFragments() {
  // Up to 128 columns x m tiles the Q tile stays in registers for the whole
  // key loop (4 registers per 16 columns and m tile); above, the
  // accumulator alone takes half the register file, so Q is re-read from
  // shared memory per tile. Indexed [m tile][k tile].
  SmallVector<Fragment> frags;
  if (s.headDim * mTiles() > kMaxRegisterQueryDim)
    return frags;
  for (int64_t mi = 0; mi < mTiles(); ++mi)
    for (int64_t kt = 0; kt < kTiles(); ++kt)
      frags.push_back(queryFragment(kt, mi));
  return frags;
}

MaskGeometry<KernelMath> AttentionKernel::geometry() {
  return MaskGeometry<KernelMath>(math, s.mask(), kb.idx(s.queries),
                                  kb.idx(s.keys));
}

std::pair<Value, Value> AttentionKernel::keyTileRange() {
  MaskGeometry<KernelMath> g = geometry();
  auto [tileFirst, tileEnd] = g.keyTiles(queryLo, queryHi, s.blockN);
  if (s.split == 1)
    return {tileFirst, tileEnd};
  // Split-KV: this block takes one contiguous run of the visible tiles.
  return g.splitRun(tileFirst, tileEnd, splitIndex, s.split);
}

Value AttentionKernel::visible(Value query, Value key) {
  return geometry().visible(query, key);
}

Value AttentionKernel::tileNeedsMask(Value tile) {
  Value start = kb.mul(tile, s.blockN);
  Value last = kb.add(start, s.blockN - 1);
  // The tail tile past N, and tiles crossing a causal/window edge.
  Value need = s.keys % s.blockN ? kb.lt(kb.idx(s.keys - 1), last) : kb.i1(false);
  return geometry().crossesBoundary(queryLo, queryHi, start, last, need);
}

SmallVector<Accumulator> AttentionKernel::scores(Value stage,
                                                 ArrayRef<Fragment> qFrag) {
  // ldmatrix.x4 over K (rows = keys): lanes 0-7 / 8-15 give keys n0..n0+7
  // at d = k0 / k0 + 8 (the B operand of key tile n0), lanes 16-31 the same
  // for keys n0 + 8.
  Value row = kb.add(kb.rem(lane, 8), kb.mul(kb.div(lane, 16), 8));
  Value colOff = kb.mul(kb.rem(kb.div(lane, 8), 2), 8);
  // Each K operand feeds every m tile of the warp: with two m tiles the
  // shared-memory reads per MMA halve. Indexed [m tile][n tile].
  int64_t nt = nTiles();
  SmallVector<Accumulator> acc(mTiles() * nt, zeroAccumulator(kb));
  for (int64_t kt = 0; kt < kTiles(); ++kt) {
    SmallVector<Fragment> a;
    for (int64_t mi = 0; mi < mTiles(); ++mi)
      a.push_back(qFrag.empty() ? queryFragment(kt, mi)
                                : qFrag[mi * kTiles() + kt]);
    for (int64_t np = 0; np < nt / 2; ++np) {
      SmallVector<Value> r =
          loadMatrix(kb, sK, {stage, kb.add(row, np * 16), kb.add(colOff, kt * 16)},
                        4, false, s.elementType);
      for (int64_t mi = 0; mi < mTiles(); ++mi) {
        Accumulator &lo = acc[mi * nt + 2 * np], &hi = acc[mi * nt + 2 * np + 1];
        lo = mmaSync(kb, a[mi], r[0], r[1], lo, s.elementType);
        hi = mmaSync(kb, a[mi], r[2], r[3], hi, s.elementType);
      }
    }
  }
  return acc;
}

SmallVector<Value> AttentionKernel::softmax(const OnlineSoftmaxState &in,
                                            Value tile,
                                            SmallVector<Accumulator> &sc,
                                            OnlineSoftmaxState &next) {
  // Scores stay raw (q.k, or soft-capped scaled scores); exp2 takes
  // raw * c - max * c as one FMA, with c = scale * log2(e) (log2(e) when
  // soft-capping, which needs the scaled score first).
  SmallVector<Value> flat;
  Value capInv = s.softcap ? kb.f32(s.scale / *s.softcap) : Value();
  Value cap = s.softcap ? kb.f32(*s.softcap) : Value();
  for (Accumulator &a : sc)
    for (Value &x : a) {
      if (s.softcap)
        x = kb.mulF(kb.tanh(kb.mulF(x, capInv)), cap);
      flat.push_back(x);
    }

  // Masks only on tiles that cross the sequence end, the causal diagonal or
  // a window edge.
  SmallVector<Type> types(flat.size(), kb.builder().getF32Type());
  SmallVector<Value> masked = kb.ifElse(
      tileNeedsMask(tile), types,
      [&](KernelBuilder &kb) {
        SmallVector<Value> r;
        Value colBase = kb.add(kb.mul(tile, s.blockN),
                               kb.mul(kb.rem(lane, 4), 2));
        for (int64_t t = 0; t < int64_t(sc.size()); ++t)
          for (int64_t e = 0; e < 4; ++e) {
            int64_t mi = t / nTiles(), nt = t % nTiles();
            Value key = kb.add(colBase, nt * 8 + (e % 2));
            r.push_back(kb.orNegInf(visible(rowQuery[2 * mi + e / 2], key),
                                    flat[4 * t + e]));
          }
        return r;
      },
      [&](KernelBuilder &) { return flat; });
  for (int64_t t = 0; t < int64_t(sc.size()); ++t)
    for (int64_t e = 0; e < 4; ++e)
      sc[t][e] = masked[4 * t + e];

  next.max.resize(slots());
  next.sum.resize(slots());
  SmallVector<Value> alpha(slots());
  for (int64_t slot = 0; slot < slots(); ++slot) {
    int64_t mi = slot / 2, h = slot % 2;
    MutableArrayRef<Accumulator> rowTiles =
        MutableArrayRef<Accumulator>(sc).slice(mi * nTiles(), nTiles());
    Value m = in.max[slot];
    for (Accumulator &a : rowTiles)
      m = kb.maxF(m, kb.maxF(a[2 * h], a[2 * h + 1]));
    m = warpReduce(kb, m, 3, /*isMax=*/true);
    next.max[slot] = m;
    // Safe max: a row with no visible key so far subtracts 0, not -inf.
    Value use = kb.safeMax(m);
    Value c = kb.f32(log2Factor());
    Value negUseScaled = kb.mulF(use, kb.f32(-log2Factor()));
    alpha[slot] = kb.exp2(kb.mulF(kb.subF(in.max[slot], use), c));
    Value sum = kb.mulF(in.sum[slot], alpha[slot]);
    for (Accumulator &a : rowTiles)
      for (int64_t e = 2 * h; e < 2 * h + 2; ++e) {
        a[e] = kb.exp2(kb.fma(a[e], c, negUseScaled));
        sum = kb.addF(sum, a[e]);
      }
    next.sum[slot] = sum;
  }

  return alpha;
}

Fragment AttentionKernel::probabilities(ArrayRef<Accumulator> sc, int64_t mi,
                                        int64_t kt) {
  Type et = s.elementType;
  const Accumulator &lo = sc[mi * nTiles() + 2 * kt],
                    &hi = sc[mi * nTiles() + 2 * kt + 1];
  return {packPair(kb, lo[0], lo[1], et), packPair(kb, lo[2], lo[3], et),
          packPair(kb, hi[0], hi[1], et), packPair(kb, hi[2], hi[3], et)};
}

OnlineSoftmaxState AttentionKernel::step(const OnlineSoftmaxState &in,
                                         Value tile, Value stage,
                                         ArrayRef<Fragment> qFrag) {
  SmallVector<Accumulator> sc = scores(stage, qFrag);
  OnlineSoftmaxState next;
  SmallVector<Value> alpha = softmax(in, tile, sc, next);

  // O = O * alpha + P V, with P repacked from the score accumulators into
  // A operands in registers (two n8 score tiles form one k16 A tile).
  next.out = in.out;
  for (int64_t t = 0; t < int64_t(next.out.size()); ++t)
    for (int64_t e = 0; e < 4; ++e)
      next.out[t][e] =
          kb.mulF(next.out[t][e], alpha[2 * (t / dTiles()) + e / 2]);
  // ldmatrix.x4.trans over V (rows = keys): lanes 0-7 / 8-15 give keys
  // k0..k0+7 / k0+8..k0+15 of d tile n0, lanes 16-31 the same of n0 + 8.
  Value vRow = kb.add(kb.rem(lane, 8), kb.mul(kb.rem(kb.div(lane, 8), 2), 8));
  Value vCol = kb.mul(kb.div(lane, 16), 8);
  Type et = s.elementType;
  for (int64_t kt = 0; kt < s.blockN / 16; ++kt) {
    SmallVector<Fragment> p;
    for (int64_t mi = 0; mi < mTiles(); ++mi)
      p.push_back(probabilities(sc, mi, kt));
    for (int64_t dp = 0; dp < dTiles() / 2; ++dp) {
      SmallVector<Value> r = loadMatrix(kb, 
          sV, {stage, kb.add(vRow, kt * 16), kb.add(vCol, dp * 16)}, 4, true,
          et);
      for (int64_t mi = 0; mi < mTiles(); ++mi) {
        Accumulator &lo = next.out[mi * dTiles() + 2 * dp],
                    &hi = next.out[mi * dTiles() + 2 * dp + 1];
        lo = mmaSync(kb, p[mi], r[0], r[1], lo, et);
        hi = mmaSync(kb, p[mi], r[2], r[3], hi, et);
      }
    }
  }
  return next;
}

Value AttentionKernel::warpgroupScores(Value stage) {
  // S = Q K^T on the warpgroup's 64 rows: head-dim steps of 16, 32 bytes
  // apart inside a 64-column slab (K-major A and B).
  OpBuilder &b = kb.builder();
  Value acc = LLVM::ZeroOp::create(b, kb.location(),
                                   warpgroupAccumulatorType(kb, s.blockN));
  Value kStage = kb.add(addrK, kb.mul(stage, 2 * s.blockN * s.headDim));
  wgmmaFence(kb);
  for (int64_t kt = 0; kt < kTiles(); ++kt) {
    int64_t slab = kt / 4, inSlab = 32 * (kt % 4);
    acc = wgmma(kb, 
        wgmmaDescriptor(kb, kb.add(addrQ, slab * 128 * s.blockM + inSlab)),
        wgmmaDescriptor(kb, kb.add(kStage, slab * 128 * s.blockN + inSlab)),
        acc, s.blockN, s.elementType);
  }
  wgmmaCommit(kb);
  return acc;
}

Value AttentionKernel::warpgroupStep(OnlineSoftmaxState &state, Value scores,
                                     Value out, Value tile, Value stage,
                                     int64_t pendingGroups) {
  OpBuilder &b = kb.builder();
  Location loc = kb.location();
  // The softmax of a complete score tile runs while the tensor cores still
  // work on the previous PV (and the next QK^T).
  SmallVector<Accumulator> sc(nTiles());
  for (int64_t nt = 0; nt < nTiles(); ++nt)
    for (int64_t i = 0; i < 4; ++i)
      sc[nt][i] = LLVM::ExtractValueOp::create(b, loc, scores, 4 * nt + i);
  OnlineSoftmaxState next;
  SmallVector<Value> alpha = softmax(state, tile, sc, next);
  state.max = next.max;
  state.sum = next.sum;

  // The previous PV must have landed before O is rescaled in registers.
  wgmmaWait(kb, pendingGroups);
  for (int64_t i = 0; i < s.headDim / 2; ++i) {
    Value o = LLVM::ExtractValueOp::create(b, loc, out, i);
    out = LLVM::InsertValueOp::create(b, loc, out,
                                      kb.mulF(o, alpha[(i % 4) / 2]), i);
  }

  // O += P V: P from registers, V N-major (the head dim is contiguous): 16
  // keys (2 KB of 128-byte rows) per step, 64-column slabs block_n rows
  // apart.
  Value vStage = kb.add(addrV, kb.mul(stage, 2 * s.blockN * s.headDim));
  wgmmaFence(kb);
  for (int64_t kt = 0; kt < s.blockN / 16; ++kt)
    out = wgmmaRegisterA(kb, 
        probabilities(sc, 0, kt),
        wgmmaDescriptor(kb, kb.add(vStage, kt * 16 * 128),
                           /*leadingBytes=*/128 * s.blockN),
        out, s.headDim, s.elementType, /*transposeB=*/true);
  wgmmaCommit(kb);
  return out;
}

void AttentionKernel::buildWarpgroupLoop(Value tileFirst, Value numTiles) {
  OpBuilder &b = kb.builder();
  Location loc = kb.location();
  // Tile j + 1 + ahead is loaded during step j into the stage of tile j - 2,
  // whose PV every warpgroup waited for before the barrier of step j.
  int64_t ahead = s.stages - 3;
  auto loadTile = [&](KernelBuilder &kb, Value j) {
    loadKeyValueTile(kb.add(tileFirst, j), kb.rem(j, s.stages));
  };
  // Q and tile 0 form group 0, tiles 1 .. ahead one group each.
  loadQueryTile();
  for (int64_t p = 0; p <= ahead; ++p) {
    kb.ifThen(kb.lt(kb.idx(p), numTiles),
              [&](KernelBuilder &kb) { loadTile(kb, kb.idx(p)); });
    asyncCommit(kb);
  }
  asyncWait(kb, ahead);
  fenceProxyAsync(kb);
  kb.barrier();

  Type outType = warpgroupAccumulatorType(kb, s.headDim);
  Value zeroOut = LLVM::ZeroOp::create(b, loc, outType);
  OnlineSoftmaxState init;
  init.max.assign(slots(), kb.negInf());
  init.sum.assign(slots(), kb.f32(0.0));
  auto pack = [](Value o, const OnlineSoftmaxState &st) {
    SmallVector<Value> v = {o};
    v.append(st.max.begin(), st.max.end());
    v.append(st.sum.begin(), st.sum.end());
    return v;
  };
  auto unpack = [&](ValueRange v) {
    OnlineSoftmaxState st;
    st.max.assign(v.begin() + 1, v.begin() + 1 + slots());
    st.sum.assign(v.begin() + 1 + slots(), v.begin() + 1 + 2 * slots());
    return st;
  };
  SmallVector<Value> initValues = pack(zeroOut, init);
  SmallVector<Type> types;
  for (Value v : initValues)
    types.push_back(v.getType());

  SmallVector<Value> result = kb.ifElse(
      kb.lt(kb.idx(0), numTiles), types,
      [&](KernelBuilder &kb) {
        Value first = warpgroupScores(kb.idx(0));
        wgmmaWait(kb, 0);
        // Steps 0 .. numTiles - 2 issue the next QK^T before their softmax.
        SmallVector<Value> carried = pack(zeroOut, init);
        carried.push_back(first);
        auto loop = scf::ForOp::create(b, loc, kb.idx(0),
                                       kb.sub(numTiles, kb.idx(1)), kb.idx(1),
                                       carried);
        {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(loop.getBody());
          KernelBuilder lb(b, loc);
          Value j = loop.getInductionVar();
          ValueRange args = loop.getRegionIterArgs();
          asyncWait(lb, ahead - 1 < 0 ? 0 : ahead - 1);
          fenceProxyAsync(lb);
          lb.barrier();
          Value later = lb.add(j, 1 + ahead);
          lb.ifThen(lb.lt(later, numTiles),
                    [&](KernelBuilder &kb) { loadTile(kb, later); });
          asyncCommit(lb);
          Value nextScores = warpgroupScores(lb.rem(lb.add(j, 1), s.stages));
          OnlineSoftmaxState st = unpack(args);
          Value o = warpgroupStep(st, args.back(), args[0],
                                  lb.add(tileFirst, j), lb.rem(j, s.stages),
                                  /*pendingGroups=*/1);
          // The next scores land; this PV may still run.
          wgmmaWait(lb, 1);
          SmallVector<Value> yielded = pack(o, st);
          yielded.push_back(nextScores);
          scf::YieldOp::create(b, loc, yielded);
        }
        ValueRange res = loop.getResults();
        OnlineSoftmaxState st = unpack(res);
        Value last = kb.sub(numTiles, kb.idx(1));
        Value o = warpgroupStep(st, res.back(), res[0],
                                kb.add(tileFirst, last),
                                kb.rem(last, s.stages), /*pendingGroups=*/0);
        wgmmaWait(kb, 0);
        return pack(o, st);
      },
      [&](KernelBuilder &) { return initValues; });
  asyncWait(kb, 0);

  OnlineSoftmaxState state = unpack(result);
  state.out.resize(dTiles());
  for (int64_t dt = 0; dt < dTiles(); ++dt)
    for (int64_t i = 0; i < 4; ++i)
      state.out[dt][i] =
          LLVM::ExtractValueOp::create(b, loc, result[0], 4 * dt + i);
  writeResults(state);
}

void AttentionKernel::writeResults(const OnlineSoftmaxState &state) {
  OpBuilder &b = kb.builder();
  Location loc = kb.location();
  Value col = kb.mul(kb.rem(lane, 4), 2);
  for (int64_t slot = 0; slot < slots(); ++slot) {
    int64_t mi = slot / 2, h = slot % 2;
    Value sum = warpReduce(kb, state.sum[slot], 3, /*isMax=*/false);
    Value positive = kb.cmpF(arith::CmpFPredicate::OGT, sum, kb.f32(0.0));
    Value inv = kb.select(positive, kb.divF(kb.f32(1.0), sum), kb.f32(0.0));
    // Natural-log LSE of the scaled scores; -inf for a row with no visible
    // key (or, for a split, no visible key in this split's run).
    Value m = kb.safeMax(state.max[slot]);
    Value rowLse = kb.select(
        positive,
        kb.mulF(kb.addF(kb.mulF(m, kb.f32(log2Factor())), kb.log2(sum)),
                kb.f32(kLn2)),
        kb.negInf());
    Value head = rowHead[slot], query = rowQuery[slot];
    kb.ifThen(rowValid[slot], [&](KernelBuilder &kb) {
      for (int64_t dt = 0; dt < dTiles(); ++dt) {
        const Accumulator &o = state.out[mi * dTiles() + dt];
        Value lo = kb.mulF(o[2 * h], inv);
        Value hi = kb.mulF(o[2 * h + 1], inv);
        Value d = kb.add(col, dt * 8);
        if (s.split == 1) {
          auto pairType = VectorType::get({2}, s.elementType);
          Value pair = arith::TruncFOp::create(
              b, loc, pairType,
              vector::FromElementsOp::create(
                  b, loc, VectorType::get({2}, b.getF32Type()),
                  ValueRange{lo, hi}));
          vector::StoreOp::create(b, loc, pair, out,
                                  ValueRange{batch, head, query, d},
                                  /*nontemporal=*/false, llvm::MaybeAlign(4));
        } else {
          Value pair = vector::FromElementsOp::create(
              b, loc, VectorType::get({2}, b.getF32Type()),
              ValueRange{lo, hi});
          vector::StoreOp::create(b, loc, pair, partialOut,
                                  ValueRange{splitIndex, batch, head, query, d},
                                  /*nontemporal=*/false, llvm::MaybeAlign(8));
        }
      }
      Value target = s.split == 1 ? lse : partialLse;
      if (!target)
        return;
      kb.ifThen(kb.eqI(kb.rem(lane, 4), 0), [&](KernelBuilder &kb) {
        SmallVector<Value> idx = {batch, head, query};
        if (s.split > 1)
          idx.insert(idx.begin(), splitIndex);
        memref::StoreOp::create(b, loc, rowLse, target, idx);
      });
    });
  }
}

void AttentionKernel::build() {
  OpBuilder &b = kb.builder();
  Location loc = kb.location();
  tid = launch.getThreadIds().x;
  lane = kb.rem(tid, 32);
  warp = kb.div(tid, 32);
  // Causal: the last row tiles see the most keys; blocks start in x order,
  // so they take the row tiles from the last, and the light ones fill the
  // tail of the grid.
  Value rowTile = launch.getBlockIds().x;
  if (s.causal)
    rowTile = kb.sub(kb.idx((rows() + s.blockM - 1) / s.blockM - 1), rowTile);
  rowTile0 = kb.mul(rowTile, s.blockM);
  kvHead = launch.getBlockIds().y;
  Value z = launch.getBlockIds().z;
  batch = s.split == 1 ? z : kb.div(z, s.split);
  splitIndex = s.split == 1 ? kb.idx(0) : kb.rem(z, s.split);
  carveSharedMemory();

  // The rows of this block and of this thread.
  Value lastRow = kb.minI(kb.add(rowTile0, s.blockM - 1), rows() - 1);
  if (group() == 1) {
    queryLo = rowTile0;
    queryHi = lastRow;
  } else {
    Value sameHead =
        kb.cmpI(arith::CmpIPredicate::eq, kb.div(rowTile0, s.queries),
                kb.div(lastRow, s.queries));
    queryLo = kb.select(sameHead, kb.rem(rowTile0, s.queries), kb.idx(0));
    queryHi = kb.select(sameHead, kb.rem(lastRow, s.queries),
                        kb.idx(s.queries - 1));
  }
  for (int64_t slot = 0; slot < slots(); ++slot) {
    Value row = kb.add(rowTile0, kb.add(kb.add(kb.mul(warp, 16 * mTiles()),
                                               kb.div(lane, 4)),
                                        slot * 8));
    rowValid.push_back(kb.lt(row, rows()));
    auto [head, query] = headAndQuery(kb.minI(row, rows() - 1));
    rowHead.push_back(head);
    rowQuery.push_back(query);
  }

  auto [tileFirst, tileEnd] = keyTileRange();
  Value numTiles = kb.sub(tileEnd, tileFirst);
  if (s.warpgroupMma)
    return buildWarpgroupLoop(tileFirst, numTiles);

  // Prologue: Q, then the first stages - 1 key/value tiles, one cp.async
  // group each (empty groups keep the count uniform).
  loadQueryTile();
  asyncCommit(kb);
  auto loadTile = [&](KernelBuilder &kb, Value step, Value stage) {
    loadKeyValueTile(kb.add(tileFirst, step), stage);
  };
  CpAsyncPipeline(kb, s.stages).prologue(numTiles, loadTile);
  asyncWait(kb, s.stages - 2);
  kb.barrier();
  SmallVector<Fragment> qFrag = queryFragments();

  OnlineSoftmaxState init;
  init.out.assign(mTiles() * dTiles(), zeroAccumulator(kb));
  init.max.assign(slots(), kb.negInf());
  init.sum.assign(slots(), kb.f32(0.0));
  auto loop = scf::ForOp::create(b, loc, kb.idx(0), numTiles, kb.idx(1),
                                 init.flatten());
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    Value it = loop.getInductionVar();
    Value stage = CpAsyncPipeline(kb, s.stages).step(it, numTiles, loadTile);
    OnlineSoftmaxState state = OnlineSoftmaxState::unflatten(
        loop.getRegionIterArgs(), mTiles() * dTiles(), slots());
    OnlineSoftmaxState next =
        step(state, kb.add(tileFirst, it), stage, qFrag);
    scf::YieldOp::create(b, loc, next.flatten());
  }
  asyncWait(kb, 0);
  writeResults(OnlineSoftmaxState::unflatten(loop.getResults(),
                                             mTiles() * dTiles(), slots()));
}

/// The split-KV combine: one thread per (batch, head, query, d) output
/// element merges the splits' normalized partial outputs by their LSEs.
void buildCombine(OpBuilder &b, Location loc, const AttentionPlan &s,
                  Value partialOut, Value partialLse, Value out, Value lse) {
  int64_t total = s.batch * s.qHeads * s.queries * s.headDim;
  int64_t threads = 256;
  buildLaunch(b, loc, {(total + threads - 1) / threads, 1, 1}, threads, 0,
              [&](gpu::LaunchOp launch, KernelBuilder &kb) {
  Value linear = kb.add(kb.mul(launch.getBlockIds().x, threads),
                        launch.getThreadIds().x);
  kb.ifThen(kb.lt(linear, total), [&](KernelBuilder &kb) {
    Value d = kb.rem(linear, s.headDim);
    Value row = kb.div(linear, s.headDim);
    Value query = kb.rem(row, s.queries);
    Value head = kb.rem(kb.div(row, s.queries), s.qHeads);
    Value batch = kb.div(row, s.queries * s.qHeads);
    SmallVector<Value> lses;
    Value m = kb.negInf();
    for (int64_t i = 0; i < s.split; ++i) {
      lses.push_back(memref::LoadOp::create(
          b, loc, partialLse, ValueRange{kb.idx(i), batch, head, query}));
      m = kb.maxF(m, lses.back());
    }
    Value empty = kb.cmpF(arith::CmpFPredicate::OEQ, m, kb.negInf());
    Value mUse = kb.safeMax(m);
    Value weightSum = kb.f32(0.0), acc = kb.f32(0.0);
    for (int64_t i = 0; i < s.split; ++i) {
      Value w = kb.exp2(kb.mulF(kb.subF(lses[i], mUse), kb.f32(kLog2e)));
      Value o = memref::LoadOp::create(
          b, loc, partialOut, ValueRange{kb.idx(i), batch, head, query, d});
      weightSum = kb.addF(weightSum, w);
      acc = kb.addF(acc, kb.mulF(w, o));
    }
    Value result = kb.select(empty, kb.f32(0.0), kb.divF(acc, weightSum));
    memref::StoreOp::create(b, loc, kb.truncF(result, s.elementType), out,
                            ValueRange{batch, head, query, d});
    if (lse)
      kb.ifThen(kb.eqI(d, 0), [&](KernelBuilder &kb) {
        Value total = kb.select(
            empty, kb.negInf(),
            kb.addF(m, kb.mulF(kb.log2(weightSum), kb.f32(kLn2))));
        memref::StoreOp::create(b, loc, total, lse,
                                ValueRange{batch, head, query});
      });
  });
  });
}

} // namespace

void mlir::attn::gpu_kernel::buildAttention(OpBuilder &b, Location loc,
                                            const AttentionPlan &spec,
                                            Value q, Value k, Value v,
                                            Value out, Value lse) {
  KernelBuilder host(b, loc);
  Value partialOut, partialLse;
  if (spec.split > 1) {
    Type f32 = b.getF32Type();
    partialOut = memref::AllocOp::create(
        b, loc,
        MemRefType::get({spec.split, spec.batch, spec.qHeads, spec.queries,
                         spec.headDim},
                        f32));
    partialLse = memref::AllocOp::create(
        b, loc,
        MemRefType::get({spec.split, spec.batch, spec.qHeads, spec.queries},
                        f32));
  }
  buildLaunch(b, loc, spec.facts.grid, spec.facts.threads, spec.facts.sharedBytes,
              [&](gpu::LaunchOp launch, KernelBuilder &kb) {
                AttentionKernel(spec, launch, kb, q, k, v, out, lse, partialOut,
                                partialLse)
                    .build();
              });
  if (spec.split > 1) {
    buildCombine(b, loc, spec, partialOut, partialLse, out, lse);
    memref::DeallocOp::create(b, loc, partialOut);
    memref::DeallocOp::create(b, loc, partialLse);
  }
}
