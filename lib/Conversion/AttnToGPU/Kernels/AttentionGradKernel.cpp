//===- AttentionGradKernel.cpp - FlashAttention-2 backward on mma.sync ----===//
//
// The backward of attn.attention (attn.attention_grad) as two launches,
// both recomputing the probabilities from the saved LSE, with no atomics
// (each gradient element is written once, by one thread):
//
//  1. dQ: a block per 16 x warps packed query rows of a KV head (GQA row
//     packing, as the forward). Q and dO of the block sit in shared memory;
//     K and V tiles of block_n keys stream through the cp.async pipeline.
//     Per tile: S = Q K^T, dP = dO V^T, P = exp(S - LSE),
//     dS = P (dP - D), dQ += dS K. The launch first forms D = rowsum(dO O)
//     of its rows and writes it for launch 2.
//  2. dK, dV: a block per 16 x warps keys of a KV head. K and V of the block
//     sit in shared memory; Q, dO, LSE and D tiles of block_m queries of
//     every query head of the group stream through the pipeline, over the
//     queries that see the block's keys (MaskGeometry::queryTiles). Per
//     tile, transposed: S^T = K Q^T, dP^T = V dO^T, dV += P^T dO,
//     dK += dS^T Q; the sum over the group's heads stays in registers.
//
// A warp owns 16 rows; its operands come from shared memory by ldmatrix,
// its products are mma.sync m16n8k16 with f32 accumulation, and P and dS
// are repacked from accumulators into A operands in registers.
//
//===----------------------------------------------------------------------===//

#include "Kernels.h"
#include "../Builders/AsyncCopy.h"
#include "../Builders/KernelBuilder.h"
#include "../Builders/MmaSync.h"
#include "../Builders/WarpOps.h"

#include "attn/Dialect/Attn/Utils/MaskGeometry.h"
#include "attn/Dialect/Attn/Utils/StaticShape.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"

#include <functional>

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::gpu_kernel;

namespace {

/// Shared-memory indices of element (row, col) of a tile.
using TileIndex = std::function<SmallVector<Value>(Value, Value)>;

/// The 16-row tile products of one warp on mma.sync.
struct WarpMma {
  KernelBuilder &kb;
  Value lane;
  Type et;

  /// C[16 x 8 nTiles] = A[16 x kDim] B[8 nTiles x kDim]^T, with A rows
  /// aRow0 .. aRow0 + 15 of `a` and B rows 0 .. 8 nTiles - 1 of `b`, both
  /// row-major in shared memory (nTiles even).
  SmallVector<Accumulator> productNT(Value a, const TileIndex &aAt,
                                     Value aRow0, Value b, const TileIndex &bAt,
                                     int64_t nTiles, int64_t kDim) {
    SmallVector<Accumulator> acc(nTiles, zeroAccumulator(kb));
    // ldmatrix.x4 of A: lanes 0-15 address rows 0-15 at column k0, lanes
    // 16-31 the same rows at k0 + 8. Of B (rows = n): lanes 0-7 / 8-15 give
    // n0..n0+7 at k0 / k0 + 8, lanes 16-31 the same for n0 + 8.
    Value aRow = kb.add(aRow0, kb.rem(lane, 16));
    Value aCol = kb.mul(kb.div(lane, 16), 8);
    Value bRow = kb.add(kb.rem(lane, 8), kb.mul(kb.div(lane, 16), 8));
    Value bCol = kb.mul(kb.rem(kb.div(lane, 8), 2), 8);
    for (int64_t kt = 0; kt < kDim / 16; ++kt) {
      SmallVector<Value> ar =
          loadMatrix(kb, a, aAt(aRow, kb.add(aCol, kt * 16)), 4, false, et);
      Fragment af = {ar[0], ar[1], ar[2], ar[3]};
      for (int64_t np = 0; np < nTiles / 2; ++np) {
        SmallVector<Value> r = loadMatrix(
            kb, b, bAt(kb.add(bRow, np * 16), kb.add(bCol, kt * 16)), 4,
            false, et);
        acc[2 * np] = mmaSync(kb, af, r[0], r[1], acc[2 * np], et);
        acc[2 * np + 1] = mmaSync(kb, af, r[2], r[3], acc[2 * np + 1], et);
      }
    }
    return acc;
  }

  /// C[16 x 8 c.size()] += P B, with P given as m16k16 A operands (one per
  /// 16 rows of B) and B row-major in shared memory (rows = k).
  void productNN(SmallVector<Accumulator> &c, ArrayRef<Fragment> p, Value b,
                 const TileIndex &bAt) {
    // ldmatrix.x4.trans: lanes 0-7 / 8-15 give rows k0..k0+7 / k0+8..k0+15
    // of n tile n0, lanes 16-31 the same of n0 + 8.
    Value row = kb.add(kb.rem(lane, 8), kb.mul(kb.rem(kb.div(lane, 8), 2), 8));
    Value col = kb.mul(kb.div(lane, 16), 8);
    for (int64_t kt = 0; kt < int64_t(p.size()); ++kt)
      for (int64_t np = 0; np < int64_t(c.size()) / 2; ++np) {
        SmallVector<Value> r = loadMatrix(
            kb, b, bAt(kb.add(row, kt * 16), kb.add(col, np * 16)), 4, true,
            et);
        c[2 * np] = mmaSync(kb, p[kt], r[0], r[1], c[2 * np], et);
        c[2 * np + 1] = mmaSync(kb, p[kt], r[2], r[3], c[2 * np + 1], et);
      }
  }

  /// Accumulator tiles 2 kt and 2 kt + 1 of `x`, repacked as the m16k16 A
  /// operand kt.
  SmallVector<Fragment> asOperands(ArrayRef<Accumulator> x) {
    SmallVector<Fragment> ops;
    for (int64_t kt = 0; kt < int64_t(x.size()) / 2; ++kt) {
      const Accumulator &lo = x[2 * kt], &hi = x[2 * kt + 1];
      ops.push_back({packPair(kb, lo[0], lo[1], et),
                     packPair(kb, lo[2], lo[3], et),
                     packPair(kb, hi[0], hi[1], et),
                     packPair(kb, hi[2], hi[3], et)});
    }
    return ops;
  }
};

SmallVector<Value> flatten(ArrayRef<SmallVector<Accumulator>> groups) {
  SmallVector<Value> values;
  for (const SmallVector<Accumulator> &g : groups)
    for (const Accumulator &a : g)
      values.append(a.begin(), a.end());
  return values;
}

SmallVector<Accumulator> unflatten(ValueRange values, int64_t first,
                                   int64_t tiles) {
  SmallVector<Accumulator> out;
  for (int64_t t = 0; t < tiles; ++t) {
    int64_t i = 4 * (first + t);
    out.push_back({values[i], values[i + 1], values[i + 2], values[i + 3]});
  }
  return out;
}

/// The operands and results of attention_grad, and the D = rowsum(dO O)
/// buffer the dQ launch writes for the dK/dV launch.
struct GradBuffers {
  Value q, k, v, out, lse, dout, dq, dk, dv, delta;
};

class AttentionGradKernel {
public:
  AttentionGradKernel(const AttentionGradPlan &plan, gpu::LaunchOp launch,
                      KernelBuilder &kb, const GradBuffers &buf)
      : s(plan), kb(kb), math{kb}, buf(buf),
        mma{kb, Value(), plan.elementType} {
    tid = launch.getThreadIds().x;
    lane = kb.rem(tid, 32);
    warp = kb.div(tid, 32);
    mma.lane = lane;
    blockX = launch.getBlockIds().x;
    kvHead = launch.getBlockIds().y;
    batch = launch.getBlockIds().z;
  }

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

  MaskGeometry<KernelMath> geometry() {
    return MaskGeometry<KernelMath>(math, s.mask(), kb.idx(s.queries),
                                    kb.idx(s.keys));
  }
  std::pair<Value, Value> headAndQuery(Value row) {
    if (s.group() == 1)
      return {kvHead, row};
    return {kb.add(kb.mul(kvHead, s.group()), kb.div(row, s.queries)),
            kb.rem(row, s.queries)};
  }
  Value divU(Value x, Value y) {
    return kb.builder().createOrFold<arith::DivUIOp>(kb.location(), x, y);
  }
  Value remU(Value x, Value y) {
    return kb.builder().createOrFold<arith::RemUIOp>(kb.location(), x, y);
  }

  /// The LSE of a row in base 2, +inf for a row that sees no key (so that
  /// exp2(x - lse2) is 0 there).
  Value log2Lse(Value lse, Value valid) {
    Value none = kb.cmpF(arith::CmpFPredicate::OEQ, lse, kb.negInf());
    Value inf = kb.f32(std::numeric_limits<double>::infinity());
    return kb.select(kb.orI(none, kb.xorI(valid, kb.i1(true))), inf,
                     kb.mulF(lse, kb.f32(kLog2e)));
  }

  /// Loads 16-byte chunks of `rows` rows of `src` [B, H, rows, D] into the
  /// tile `dst` (at `dstAt`): row r is `rowOf(r)` = (head, index, valid);
  /// rows that are not valid are zero-filled.
  void loadRows(Value dst, const TileIndex &dstAt, Value src, int64_t rows,
                function_ref<std::tuple<Value, Value, Value>(Value)> rowOf);

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

  /// Stores the accumulator tiles `acc` of a warp's 16 rows, times
  /// `factor`, into `dst` [B, H, rows, D] at row slot h's (head, row) when
  /// valid.
  void storeRows(ArrayRef<Accumulator> acc, double factor, Value dst,
                 ArrayRef<std::tuple<Value, Value, Value>> slots);

  const AttentionGradPlan &s;
  KernelBuilder &kb;
  KernelMath math;
  const GradBuffers &buf;
  WarpMma mma;
  Value tid, lane, warp, blockX, kvHead, batch;
};

void AttentionGradKernel::loadRows(
    Value dst, const TileIndex &dstAt, Value src, int64_t rows,
    function_ref<std::tuple<Value, Value, Value>(Value)> rowOf) {
  kb.forEachStrided(tid, rows * chunksPerRow(), 32 * s.warps,
                    [&](KernelBuilder &kb, Value c) {
    Value r = kb.div(c, chunksPerRow());
    Value col = kb.mul(kb.rem(c, chunksPerRow()), 8);
    auto [head, index, valid] = rowOf(r);
    asyncCopy(kb, dst, dstAt(r, col), src, {batch, head, index, col}, 8,
              kb.select(valid, kb.idx(8), kb.idx(0)));
  });
}

SmallVector<Accumulator> AttentionGradKernel::probabilitiesAndGradient(
    SmallVector<Accumulator> &sc, ArrayRef<Accumulator> dp, Value needMask,
    function_ref<Value(int64_t, int64_t)> query,
    function_ref<Value(int64_t, int64_t)> key,
    function_ref<Value(int64_t, int64_t)> lse2,
    function_ref<Value(int64_t, int64_t)> delta) {
  // Exponents base 2 of the (soft-capped) scaled scores, with the tanh kept
  // for the softcap's derivative 1 - tanh^2.
  SmallVector<Value> x, th;
  for (Accumulator &a : sc)
    for (Value raw : a) {
      if (s.softcap) {
        Value t = kb.tanh(kb.mulF(raw, kb.f32(s.scale / *s.softcap)));
        th.push_back(t);
        x.push_back(kb.mulF(t, kb.f32(*s.softcap * kLog2e)));
      } else {
        x.push_back(kb.mulF(raw, kb.f32(log2Factor())));
      }
    }
  SmallVector<Type> types(x.size(), kb.builder().getF32Type());
  x = kb.ifElse(
      needMask, types,
      [&](KernelBuilder &kb) {
        SmallVector<Value> r;
        for (int64_t t = 0; t < int64_t(sc.size()); ++t)
          for (int64_t e = 0; e < 4; ++e)
            r.push_back(kb.orNegInf(geometry().visible(query(t, e), key(t, e)),
                                    x[4 * t + e]));
        return r;
      },
      [&](KernelBuilder &) { return x; });
  SmallVector<Accumulator> ds(sc.size());
  for (int64_t t = 0; t < int64_t(sc.size()); ++t)
    for (int64_t e = 0; e < 4; ++e) {
      Value p = kb.exp2(kb.subF(x[4 * t + e], lse2(t, e)));
      Value g = kb.mulF(p, kb.subF(dp[t][e], delta(t, e)));
      if (s.softcap) {
        Value tt = th[4 * t + e];
        g = kb.mulF(g, kb.subF(kb.f32(1.0), kb.mulF(tt, tt)));
      }
      sc[t][e] = p;
      ds[t][e] = g;
    }
  return ds;
}

void AttentionGradKernel::storeRows(
    ArrayRef<Accumulator> acc, double factor, Value dst,
    ArrayRef<std::tuple<Value, Value, Value>> slots) {
  OpBuilder &b = kb.builder();
  Location loc = kb.location();
  Value col = kb.mul(kb.rem(lane, 4), 2);
  for (int64_t h = 0; h < 2; ++h) {
    auto [head, row, valid] = slots[h];
    kb.ifThen(valid, [&](KernelBuilder &kb) {
      for (int64_t dt = 0; dt < int64_t(acc.size()); ++dt) {
        Value lo = kb.mulF(acc[dt][2 * h], kb.f32(factor));
        Value hi = kb.mulF(acc[dt][2 * h + 1], kb.f32(factor));
        Value pair = arith::TruncFOp::create(
            b, loc, VectorType::get({2}, s.elementType),
            vector::FromElementsOp::create(
                b, loc, VectorType::get({2}, b.getF32Type()),
                ValueRange{lo, hi}));
        vector::StoreOp::create(b, loc, pair, dst,
                                ValueRange{batch, head, row,
                                           kb.add(col, dt * 8)},
                                /*nontemporal=*/false, llvm::MaybeAlign(4));
      }
    });
  }
}

void AttentionGradKernel::buildQueryGradient() {
  OpBuilder &b = kb.builder();
  Location loc = kb.location();
  int64_t rows = s.packedRows(), R = rowsPerBlock(), pitch = s.pitch();
  // Causal: the last row tiles see the most keys; start them first.
  Value rowTile = blockX;
  if (s.causal)
    rowTile = kb.sub(kb.idx(ceilDiv(rows, R) - 1), rowTile);
  Value row0 = kb.mul(rowTile, R);

  Value sQ = kb.sharedView({R, pitch}, s.elementType, 0);
  Value sdO = kb.sharedView({R, pitch}, s.elementType, 2 * R * pitch);
  int64_t kvBytes = 2 * s.stages * s.blockN * pitch;
  Value sK = kb.sharedView({s.stages, s.blockN, pitch}, s.elementType,
                           4 * R * pitch);
  Value sV = kb.sharedView({s.stages, s.blockN, pitch}, s.elementType,
                           4 * R * pitch + kvBytes);
  TileIndex at2 = [](Value r, Value c) { return SmallVector<Value>{r, c}; };

  // The block's query range (rows of several heads cover all queries).
  Value lastRow = kb.minI(kb.add(row0, R - 1), rows - 1);
  Value queryLo = row0, queryHi = lastRow;
  if (s.group() > 1) {
    Value sameHead = kb.cmpI(arith::CmpIPredicate::eq,
                             kb.div(row0, s.queries),
                             kb.div(lastRow, s.queries));
    queryLo = kb.select(sameHead, kb.rem(row0, s.queries), kb.idx(0));
    queryHi = kb.select(sameHead, kb.rem(lastRow, s.queries),
                        kb.idx(s.queries - 1));
  }
  auto packedRow = [&](Value row) -> std::tuple<Value, Value, Value> {
    auto [head, query] = headAndQuery(kb.minI(row, rows - 1));
    return {head, query, kb.lt(row, rows)};
  };

  // Q and dO of the block, then the first K/V tiles.
  auto blockRow = [&](Value r) { return packedRow(kb.add(row0, r)); };
  loadRows(sQ, at2, buf.q, R, blockRow);
  loadRows(sdO, at2, buf.dout, R, blockRow);
  asyncCommit(kb);
  MaskGeometry<KernelMath> g = geometry();
  auto [tileFirst, tileEnd] = g.keyTiles(queryLo, queryHi, s.blockN);
  Value numTiles = kb.sub(tileEnd, tileFirst);
  auto loadTile = [&](KernelBuilder &kb, Value step, Value stage) {
    Value key0 = kb.mul(kb.add(tileFirst, step), s.blockN);
    auto keyRow = [&](Value r) -> std::tuple<Value, Value, Value> {
      Value key = kb.add(key0, r);
      return {kvHead, kb.minI(key, s.keys - 1), kb.lt(key, s.keys)};
    };
    TileIndex at3 = [stage](Value r, Value c) {
      return SmallVector<Value>{stage, r, c};
    };
    loadRows(sK, at3, buf.k, s.blockN, keyRow);
    loadRows(sV, at3, buf.v, s.blockN, keyRow);
  };
  CpAsyncPipeline pipeline(kb, s.stages);
  pipeline.prologue(numTiles, loadTile);

  // Per row slot of the thread: its row, D = rowsum(dO O) (written for the
  // dK/dV launch) and the LSE in base 2.
  SmallVector<std::tuple<Value, Value, Value>> slots;
  SmallVector<Value> rowQuery, lse2, delta;
  Value col = kb.mul(kb.rem(lane, 4), 2);
  auto pairType = VectorType::get({2}, s.elementType);
  for (int64_t h = 0; h < 2; ++h) {
    auto [head, query, valid] = packedRow(
        kb.add(row0, kb.add(kb.mul(warp, 16), kb.add(kb.div(lane, 4), 8 * h))));
    slots.push_back({head, query, valid});
    rowQuery.push_back(query);
    Value sum = kb.f32(0.0);
    for (int64_t dt = 0; dt < dTiles(); ++dt) {
      SmallVector<Value> at = {batch, head, query, kb.add(col, dt * 8)};
      Value o = vector::LoadOp::create(b, loc, pairType, buf.out, at);
      Value d = vector::LoadOp::create(b, loc, pairType, buf.dout, at);
      for (int64_t e = 0; e < 2; ++e)
        sum = kb.fma(kb.extF(vector::ExtractOp::create(b, loc, o, e)),
                     kb.extF(vector::ExtractOp::create(b, loc, d, e)), sum);
    }
    sum = warpReduce(kb, sum, 3, /*isMax=*/false);
    delta.push_back(sum);
    kb.ifThen(kb.andI(valid, kb.eqI(kb.rem(lane, 4), 0)),
              [&](KernelBuilder &kb) {
                memref::StoreOp::create(b, loc, sum, buf.delta,
                                        ValueRange{batch, head, query});
              });
    Value l = memref::LoadOp::create(b, loc, buf.lse,
                                     ValueRange{batch, head, query});
    lse2.push_back(log2Lse(l, valid));
  }
  asyncWait(kb, s.stages - 2);
  kb.barrier();

  int64_t nTiles = s.blockN / 8;
  SmallVector<Accumulator> dq(dTiles(), zeroAccumulator(kb));
  auto loop = scf::ForOp::create(b, loc, kb.idx(0), numTiles, kb.idx(1),
                                 flatten({dq}));
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    Value it = loop.getInductionVar();
    Value stage = pipeline.step(it, numTiles, loadTile);
    Value tile = kb.add(tileFirst, it);
    TileIndex at3 = [stage](Value r, Value c) {
      return SmallVector<Value>{stage, r, c};
    };
    SmallVector<Accumulator> acc = unflatten(loop.getRegionIterArgs(), 0,
                                             dTiles());
    Value warpRow = kb.mul(warp, 16);
    SmallVector<Accumulator> sc =
        mma.productNT(sQ, at2, warpRow, sK, at3, nTiles, s.headDim);
    SmallVector<Accumulator> dp =
        mma.productNT(sdO, at2, warpRow, sV, at3, nTiles, s.headDim);
    Value start = kb.mul(tile, s.blockN);
    Value last = kb.add(start, s.blockN - 1);
    Value tail =
        s.keys % s.blockN ? kb.lt(kb.idx(s.keys - 1), last) : kb.i1(false);
    Value needMask = g.crossesBoundary(queryLo, queryHi, start, last, tail);
    Value colBase = kb.add(start, col);
    SmallVector<Accumulator> ds = probabilitiesAndGradient(
        sc, dp, needMask,
        [&](int64_t, int64_t e) { return rowQuery[e / 2]; },
        [&](int64_t t, int64_t e) { return kb.add(colBase, t * 8 + e % 2); },
        [&](int64_t, int64_t e) { return lse2[e / 2]; },
        [&](int64_t, int64_t e) { return delta[e / 2]; });
    mma.productNN(acc, mma.asOperands(ds), sK, at3);
    scf::YieldOp::create(b, loc, flatten({acc}));
  }
  asyncWait(kb, 0);
  storeRows(unflatten(loop.getResults(), 0, dTiles()), s.scale, buf.dq,
            slots);
}

void AttentionGradKernel::buildKeyValueGradient() {
  OpBuilder &b = kb.builder();
  Location loc = kb.location();
  int64_t R = rowsPerBlock(), pitch = s.pitch(), bm = s.blockM;
  Value key0 = kb.mul(blockX, R);
  Value keyLast = kb.minI(kb.add(key0, R - 1), s.keys - 1);

  Value sK = kb.sharedView({R, pitch}, s.elementType, 0);
  Value sV = kb.sharedView({R, pitch}, s.elementType, 2 * R * pitch);
  int64_t tileBytes = 2 * s.stages * bm * pitch;
  Value sQ = kb.sharedView({s.stages, bm, pitch}, s.elementType,
                           4 * R * pitch);
  Value sdO = kb.sharedView({s.stages, bm, pitch}, s.elementType,
                            4 * R * pitch + tileBytes);
  Type f32 = b.getF32Type();
  Value sL = kb.sharedView({s.stages, bm}, f32, 4 * R * pitch + 2 * tileBytes);
  Value sD = kb.sharedView({s.stages, bm}, f32,
                           4 * R * pitch + 2 * tileBytes + 4 * s.stages * bm);
  TileIndex at2 = [](Value r, Value c) { return SmallVector<Value>{r, c}; };

  // K and V of the block, then the first query tiles: step t is query tile
  // t mod n of head t / n of the group.
  auto blockKey = [&](Value r) -> std::tuple<Value, Value, Value> {
    Value key = kb.add(key0, r);
    return {kvHead, kb.minI(key, s.keys - 1), kb.lt(key, s.keys)};
  };
  loadRows(sK, at2, buf.k, R, blockKey);
  loadRows(sV, at2, buf.v, R, blockKey);
  asyncCommit(kb);
  MaskGeometry<KernelMath> g = geometry();
  auto [tileFirst, tileEnd] = g.queryTiles(key0, keyLast, bm);
  Value perHead = kb.sub(tileEnd, tileFirst);
  Value numSteps = kb.mul(perHead, kb.idx(s.group()));
  auto stepTile = [&](KernelBuilder &kb, Value step) {
    Value head = kb.add(kb.mul(kvHead, s.group()), divU(step, perHead));
    Value query0 = kb.mul(kb.add(tileFirst, remU(step, perHead)), bm);
    return std::make_pair(head, query0);
  };
  auto loadTile = [&](KernelBuilder &kb, Value step, Value stage) {
    auto [head, query0] = stepTile(kb, step);
    auto queryRow = [&](Value r) -> std::tuple<Value, Value, Value> {
      Value query = kb.add(query0, r);
      return {head, kb.minI(query, s.queries - 1), kb.lt(query, s.queries)};
    };
    TileIndex at3 = [stage](Value r, Value c) {
      return SmallVector<Value>{stage, r, c};
    };
    loadRows(sQ, at3, buf.q, bm, queryRow);
    loadRows(sdO, at3, buf.dout, bm, queryRow);
    // The LSE (base 2) and D of the tile's queries, by plain loads: the
    // stage was last read before this step's barrier.
    kb.forEachStrided(tid, bm, 32 * s.warps, [&](KernelBuilder &kb, Value r) {
      auto [h, query, valid] = queryRow(r);
      OpBuilder &b = kb.builder();
      SmallVector<Value> at = {batch, h, query};
      Value l = memref::LoadOp::create(b, loc, buf.lse, at);
      Value d = memref::LoadOp::create(b, loc, buf.delta, at);
      memref::StoreOp::create(b, loc, log2Lse(l, valid), sL,
                              ValueRange{stage, r});
      memref::StoreOp::create(b, loc, kb.select(valid, d, kb.f32(0.0)), sD,
                              ValueRange{stage, r});
    });
  };
  CpAsyncPipeline pipeline(kb, s.stages);
  pipeline.prologue(numSteps, loadTile);
  asyncWait(kb, s.stages - 2);
  kb.barrier();

  // The keys of the thread's two accumulator rows.
  Value col = kb.mul(kb.rem(lane, 4), 2);
  SmallVector<Value> rowKey;
  SmallVector<std::tuple<Value, Value, Value>> slots;
  for (int64_t h = 0; h < 2; ++h) {
    Value key = kb.add(key0, kb.add(kb.mul(warp, 16),
                                    kb.add(kb.div(lane, 4), 8 * h)));
    rowKey.push_back(key);
    slots.push_back({kvHead, kb.minI(key, s.keys - 1), kb.lt(key, s.keys)});
  }

  int64_t nTiles = bm / 8;
  SmallVector<Accumulator> zero(dTiles(), zeroAccumulator(kb));
  auto loop = scf::ForOp::create(b, loc, kb.idx(0), numSteps, kb.idx(1),
                                 flatten({zero, zero}));
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    Value it = loop.getInductionVar();
    Value stage = pipeline.step(it, numSteps, loadTile);
    Value query0 = stepTile(kb, it).second;
    TileIndex at3 = [stage](Value r, Value c) {
      return SmallVector<Value>{stage, r, c};
    };
    ValueRange args = loop.getRegionIterArgs();
    SmallVector<Accumulator> dk = unflatten(args, 0, dTiles());
    SmallVector<Accumulator> dv = unflatten(args, dTiles(), dTiles());
    Value warpRow = kb.mul(warp, 16);
    // Transposed: rows are the warp's keys, columns the tile's queries.
    SmallVector<Accumulator> sc =
        mma.productNT(sK, at2, warpRow, sQ, at3, nTiles, s.headDim);
    SmallVector<Accumulator> dp =
        mma.productNT(sV, at2, warpRow, sdO, at3, nTiles, s.headDim);
    Value queryLast = kb.add(query0, bm - 1);
    Value needMask = g.crossesBoundary(query0, queryLast, key0,
                                       kb.add(key0, R - 1));
    auto local = [&](int64_t t, int64_t e) { return kb.add(col, t * 8 + e % 2); };
    SmallVector<Accumulator> ds = probabilitiesAndGradient(
        sc, dp, needMask,
        [&](int64_t t, int64_t e) { return kb.add(query0, local(t, e)); },
        [&](int64_t, int64_t e) { return rowKey[e / 2]; },
        [&](int64_t t, int64_t e) {
          return memref::LoadOp::create(b, loc, sL,
                                        ValueRange{stage, local(t, e)})
              .getResult();
        },
        [&](int64_t t, int64_t e) {
          return memref::LoadOp::create(b, loc, sD,
                                        ValueRange{stage, local(t, e)})
              .getResult();
        });
    mma.productNN(dv, mma.asOperands(sc), sdO, at3);
    mma.productNN(dk, mma.asOperands(ds), sQ, at3);
    scf::YieldOp::create(b, loc, flatten({dk, dv}));
  }
  asyncWait(kb, 0);
  storeRows(unflatten(loop.getResults(), 0, dTiles()), s.scale, buf.dk, slots);
  storeRows(unflatten(loop.getResults(), dTiles(), dTiles()), 1.0, buf.dv,
            slots);
}

} // namespace

void mlir::attn::gpu_kernel::buildAttentionGrad(
    OpBuilder &b, Location loc, const AttentionGradPlan &plan, Value q,
    Value k, Value v, Value out, Value lse, Value dout, Value dq, Value dk,
    Value dv) {
  Value delta = memref::AllocOp::create(
      b, loc,
      MemRefType::get({plan.batch, plan.qHeads, plan.queries},
                      b.getF32Type()));
  GradBuffers buf{q, k, v, out, lse, dout, dq, dk, dv, delta};
  const LaunchFacts &qf = plan.queryFacts;
  buildLaunch(b, loc, qf.grid, qf.threads, qf.sharedBytes,
              [&](gpu::LaunchOp launch, KernelBuilder &kb) {
                AttentionGradKernel(plan, launch, kb, buf).buildQueryGradient();
              });
  const LaunchFacts &f = plan.facts;
  buildLaunch(b, loc, f.grid, f.threads, f.sharedBytes,
              [&](gpu::LaunchOp launch, KernelBuilder &kb) {
                AttentionGradKernel(plan, launch, kb, buf)
                    .buildKeyValueGradient();
              });
  memref::DeallocOp::create(b, loc, delta);
}
