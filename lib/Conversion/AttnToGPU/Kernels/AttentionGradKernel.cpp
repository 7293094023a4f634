//===- AttentionGradKernel.cpp - the FlashAttention-2 backward -----------===//
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
// A warp owns 16 rows. On mma.sync (this file) its operands come from
// shared memory by ldmatrix, its products are m16n8k16 with f32
// accumulation, and P and dS are repacked from accumulators into A operands
// in registers; warpgroup MMA (AttentionGradWgmma.cpp) keeps that per-warp
// layout and the math of this file.
//
//===----------------------------------------------------------------------===//

#include "AttentionGradKernel.h"

#include "attn/Dialect/Attn/Utils/StaticShape.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::gpu_kernel;
using namespace mlir::attn::gpu_kernel::attention_grad;

namespace {

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
    return accumulatorOperands(kb, x, et);
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

} // namespace

AttentionGradKernel::AttentionGradKernel(const AttentionGradPlan &plan,
                                         gpu::LaunchOp launch,
                                         KernelBuilder &kb,
                                         const GradBuffers &buf)
    : s(plan), kb(kb), math{kb}, buf(buf) {
  tid = launch.getThreadIds().x;
  lane = kb.rem(tid, 32);
  warp = kb.div(tid, 32);
  blockX = launch.getBlockIds().x;
  kvHead = launch.getBlockIds().y;
  batch = launch.getBlockIds().z;
}

MaskGeometry<KernelMath> AttentionGradKernel::geometry() {
  return MaskGeometry<KernelMath>(math, s.mask(), kb.idx(s.queries),
                                  kb.idx(s.keys));
}

std::pair<Value, Value> AttentionGradKernel::headAndQuery(Value row) {
  if (s.group() == 1)
    return {kvHead, row};
  return {kb.add(kb.mul(kvHead, s.group()), kb.div(row, s.queries)),
          kb.rem(row, s.queries)};
}

Value AttentionGradKernel::divU(Value x, Value y) {
  return kb.builder().createOrFold<arith::DivUIOp>(kb.location(), x, y);
}

Value AttentionGradKernel::remU(Value x, Value y) {
  return kb.builder().createOrFold<arith::RemUIOp>(kb.location(), x, y);
}

Value AttentionGradKernel::log2Lse(Value lse, Value valid) {
  Value none = kb.cmpF(arith::CmpFPredicate::OEQ, lse, kb.negInf());
  Value inf = kb.f32(std::numeric_limits<double>::infinity());
  return kb.select(kb.orI(none, kb.xorI(valid, kb.i1(true))), inf,
                   kb.mulF(lse, kb.f32(kLog2e)));
}

void AttentionGradKernel::loadRows(
    Value dst, const TileIndex &dstAt, Value src, int64_t rows,
    function_ref<RowSlot(Value)> rowOf) {
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

SmallVector<Accumulator> AttentionGradKernel::keyTileGradient(
    SmallVector<Accumulator> &sc, ArrayRef<Accumulator> dp, Value needMask,
    Value query0, Value col, ArrayRef<Value> rowKey, Value stage, Value sL,
    Value sD) {
  auto local = [&](int64_t t, int64_t e) {
    return kb.add(col, t * 8 + e % 2);
  };
  auto fromStage = [&](Value array) {
    return [&, array](int64_t t, int64_t e) {
      return memref::LoadOp::create(kb.builder(), kb.location(), array,
                                    ValueRange{stage, local(t, e)})
          .getResult();
    };
  };
  return probabilitiesAndGradient(
      sc, dp, needMask,
      [&](int64_t t, int64_t e) { return kb.add(query0, local(t, e)); },
      [&](int64_t, int64_t e) { return rowKey[e / 2]; }, fromStage(sL),
      fromStage(sD));
}

void AttentionGradKernel::storeRows(
    ArrayRef<Accumulator> acc, double factor, Value dst,
    ArrayRef<RowSlot> slots) {
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

Value AttentionGradKernel::queryBlockRow() {
  // Causal: the last row tiles see the most keys; start them first.
  Value rowTile = blockX;
  if (s.causal)
    rowTile = kb.sub(kb.idx(ceilDiv(s.packedRows(), rowsPerBlock()) - 1),
                     rowTile);
  return kb.mul(rowTile, rowsPerBlock());
}

std::pair<Value, Value> AttentionGradKernel::queryRange(Value row0) {
  // The block's query range (rows of several heads cover all queries).
  int64_t rows = s.packedRows();
  Value lastRow = kb.minI(kb.add(row0, rowsPerBlock() - 1), rows - 1);
  if (s.group() == 1)
    return {row0, lastRow};
  Value sameHead = kb.cmpI(arith::CmpIPredicate::eq, kb.div(row0, s.queries),
                           kb.div(lastRow, s.queries));
  return {kb.select(sameHead, kb.rem(row0, s.queries), kb.idx(0)),
          kb.select(sameHead, kb.rem(lastRow, s.queries),
                    kb.idx(s.queries - 1))};
}

RowSlot AttentionGradKernel::packedRow(Value row) {
  int64_t rows = s.packedRows();
  auto [head, query] = headAndQuery(kb.minI(row, rows - 1));
  return {head, query, kb.lt(row, rows)};
}

QueryRows AttentionGradKernel::queryRows(Value row0) {
  OpBuilder &b = kb.builder();
  Location loc = kb.location();
  QueryRows r;
  Value col = kb.mul(kb.rem(lane, 4), 2);
  auto pairType = VectorType::get({2}, s.elementType);
  for (int64_t h = 0; h < 2; ++h) {
    auto [head, query, valid] = packedRow(
        kb.add(row0, kb.add(kb.mul(warp, 16), kb.add(kb.div(lane, 4), 8 * h))));
    r.slots.push_back({head, query, valid});
    r.query.push_back(query);
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
    r.delta.push_back(sum);
    kb.ifThen(kb.andI(valid, kb.eqI(kb.rem(lane, 4), 0)),
              [&](KernelBuilder &kb) {
                memref::StoreOp::create(b, loc, sum, buf.delta,
                                        ValueRange{batch, head, query});
              });
    Value l = memref::LoadOp::create(b, loc, buf.lse,
                                     ValueRange{batch, head, query});
    r.lse2.push_back(log2Lse(l, valid));
  }
  return r;
}

std::pair<Value, Value> AttentionGradKernel::stepTile(Value step,
                                                      Value tileFirst,
                                                      Value perHead) {
  Value head = kb.add(kb.mul(kvHead, s.group()), divU(step, perHead));
  Value query0 = kb.mul(kb.add(tileFirst, remU(step, perHead)), s.blockM);
  return {head, query0};
}

void AttentionGradKernel::loadQueryTile(Value step, Value stage,
                                        Value tileFirst, Value perHead,
                                        Value sQ, Value sdO,
                                        const TileIndex &at, Value sL,
                                        Value sD) {
  Location loc = kb.location();
  auto [head, query0] = stepTile(step, tileFirst, perHead);
  auto queryRow = [&](Value r) -> RowSlot {
    Value query = kb.add(query0, r);
    return {head, kb.minI(query, s.queries - 1), kb.lt(query, s.queries)};
  };
  loadRows(sQ, at, buf.q, s.blockM, queryRow);
  loadRows(sdO, at, buf.dout, s.blockM, queryRow);
  // The LSE (base 2) and D of the tile's queries, by plain loads: the
  // stage was last read before this step's barrier.
  kb.forEachStrided(tid, s.blockM, 32 * s.warps,
                    [&](KernelBuilder &kb, Value r) {
    auto [h, query, valid] = queryRow(r);
    OpBuilder &b = kb.builder();
    SmallVector<Value> idx = {batch, h, query};
    Value l = memref::LoadOp::create(b, loc, buf.lse, idx);
    Value d = memref::LoadOp::create(b, loc, buf.delta, idx);
    memref::StoreOp::create(b, loc, log2Lse(l, valid), sL,
                            ValueRange{stage, r});
    memref::StoreOp::create(b, loc, kb.select(valid, d, kb.f32(0.0)), sD,
                            ValueRange{stage, r});
  });
}

SmallVector<RowSlot> AttentionGradKernel::keyRows(Value key0,
                                                  SmallVector<Value> &rowKey) {
  SmallVector<RowSlot> slots;
  for (int64_t h = 0; h < 2; ++h) {
    Value key = kb.add(key0, kb.add(kb.mul(warp, 16),
                                    kb.add(kb.div(lane, 4), 8 * h)));
    rowKey.push_back(key);
    slots.push_back({kvHead, kb.minI(key, s.keys - 1), kb.lt(key, s.keys)});
  }
  return slots;
}

void AttentionGradKernel::buildQueryGradient() {
  if (s.warpgroupMma)
    return buildQueryGradientWgmma();
  buildQueryGradientMmaSync();
}

void AttentionGradKernel::buildKeyValueGradient() {
  if (s.warpgroupMma)
    return buildKeyValueGradientWgmma();
  buildKeyValueGradientMmaSync();
}

void AttentionGradKernel::buildQueryGradientMmaSync() {
  OpBuilder &b = kb.builder();
  Location loc = kb.location();
  int64_t R = rowsPerBlock(), pitch = s.pitch();
  WarpMma mma{kb, lane, s.elementType};
  Value row0 = queryBlockRow();

  Value sQ = kb.sharedView({R, pitch}, s.elementType, 0);
  Value sdO = kb.sharedView({R, pitch}, s.elementType, 2 * R * pitch);
  int64_t kvBytes = 2 * s.stages * s.blockN * pitch;
  Value sK = kb.sharedView({s.stages, s.blockN, pitch}, s.elementType,
                           4 * R * pitch);
  Value sV = kb.sharedView({s.stages, s.blockN, pitch}, s.elementType,
                           4 * R * pitch + kvBytes);
  TileIndex at2 = [](Value r, Value c) { return SmallVector<Value>{r, c}; };
  auto [queryLo, queryHi] = queryRange(row0);

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
    auto keyRow = [&](Value r) -> RowSlot {
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

  QueryRows rows = queryRows(row0);
  asyncWait(kb, s.stages - 2);
  kb.barrier();

  Value col = kb.mul(kb.rem(lane, 4), 2);
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
        [&](int64_t, int64_t e) { return rows.query[e / 2]; },
        [&](int64_t t, int64_t e) { return kb.add(colBase, t * 8 + e % 2); },
        [&](int64_t, int64_t e) { return rows.lse2[e / 2]; },
        [&](int64_t, int64_t e) { return rows.delta[e / 2]; });
    mma.productNN(acc, mma.asOperands(ds), sK, at3);
    scf::YieldOp::create(b, loc, flatten({acc}));
  }
  asyncWait(kb, 0);
  storeRows(unflatten(loop.getResults(), 0, dTiles()), s.scale, buf.dq,
            rows.slots);
}

void AttentionGradKernel::buildKeyValueGradientMmaSync() {
  OpBuilder &b = kb.builder();
  Location loc = kb.location();
  int64_t R = rowsPerBlock(), pitch = s.pitch(), bm = s.blockM;
  WarpMma mma{kb, lane, s.elementType};
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

  // K and V of the block, then the first query tiles.
  auto blockKey = [&](Value r) -> RowSlot {
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
  auto loadTile = [&](KernelBuilder &, Value step, Value stage) {
    TileIndex at3 = [stage](Value r, Value c) {
      return SmallVector<Value>{stage, r, c};
    };
    loadQueryTile(step, stage, tileFirst, perHead, sQ, sdO, at3, sL, sD);
  };
  CpAsyncPipeline pipeline(kb, s.stages);
  pipeline.prologue(numSteps, loadTile);
  asyncWait(kb, s.stages - 2);
  kb.barrier();

  // The keys of the thread's two accumulator rows.
  Value col = kb.mul(kb.rem(lane, 4), 2);
  SmallVector<Value> rowKey;
  SmallVector<RowSlot> slots = keyRows(key0, rowKey);

  int64_t nTiles = bm / 8;
  SmallVector<Accumulator> zero(dTiles(), zeroAccumulator(kb));
  auto loop = scf::ForOp::create(b, loc, kb.idx(0), numSteps, kb.idx(1),
                                 flatten({zero, zero}));
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    Value it = loop.getInductionVar();
    Value stage = pipeline.step(it, numSteps, loadTile);
    Value query0 = stepTile(it, tileFirst, perHead).second;
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
    SmallVector<Accumulator> ds = keyTileGradient(sc, dp, needMask, query0, col,
                                                  rowKey, stage, sL, sD);
    mma.productNN(dv, mma.asOperands(sc), sdO, at3);
    mma.productNN(dk, mma.asOperands(ds), sQ, at3);
    scf::YieldOp::create(b, loc, flatten({dk, dv}));
  }
  asyncWait(kb, 0);
  storeRows(unflatten(loop.getResults(), 0, dTiles()), s.scale, buf.dk, slots);
  storeRows(unflatten(loop.getResults(), dTiles(), dTiles()), 1.0, buf.dv,
            slots);
}

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
