//===- AttentionGradWgmma.cpp - the attention backward on warpgroup MMA ---===//
//
// sm_90a: the two launches of AttentionGradKernel.cpp with a warpgroup per
// 64 rows (query rows in the dQ launch, keys in the dK/dV launch) and every
// product on wgmma from 128-byte-swizzled shared memory:
//
//  - dQ: S = Q K^T and dP = dO V^T with the block's Q and dO (A, K-major)
//    resident and K, V tiles (B, K-major) streamed; dQ += dS K with dS from
//    registers and K read N-major.
//  - dK/dV: S^T = K Q^T and dP^T = V dO^T with the block's K and V
//    resident and Q, dO tiles streamed; dV += P^T dO and dK += dS^T Q with
//    P^T and dS^T from registers.
//
// A step issues its two score products, waits for them, forms P and dS in
// registers (a warp's 16 rows of a wgmma accumulator are laid out like
// mma.sync's, so the math and the epilogue are the ones of the mma.sync
// launches), then issues its accumulating products and waits for them: the
// stage a step read is free at the next step's barrier, as the cp.async
// pipeline expects. The empty-asm fences keep ptxas from serializing the
// MMAs (Wgmma.h).
//
//===----------------------------------------------------------------------===//

#include "AttentionGradKernel.h"
#include "../Builders/Wgmma.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::gpu_kernel;
using namespace mlir::attn::gpu_kernel::attention_grad;

namespace {

/// `stages` tiles of `rows` rows of the head dim, each in 128-byte-swizzled
/// slabs of 64 columns (Wgmma.h), in the launch's shared memory.
struct SwizzledTile {
  /// A flat element view and the shared byte address of stage 0.
  Value view, address;
  int64_t rows, headDim;

  Value stageAddress(KernelBuilder &kb, Value stage) const {
    return kb.add(address, kb.mul(stage, 2 * rows * headDim));
  }
  /// The element index of (row, col) in stage `stage`.
  TileIndex at(KernelBuilder &kb, Value stage) const {
    Value base = kb.mul(stage, rows * headDim);
    int64_t height = rows;
    return [&kb, base, height](Value row, Value col) {
      return SmallVector<Value>{
          kb.add(base, swizzledOffset(kb, row, kb.div(col, 8), height))};
    };
  }
};

/// Carves 1024-byte aligned tiles out of the launch's dynamic shared memory
/// (the plan adds 1024 bytes of room to align the base).
class SharedCarver {
public:
  explicit SharedCarver(KernelBuilder &kb) : kb(kb) {
    raw = kb.sharedBytes();
    Value base = kb.sharedAddress(raw);
    pad = kb.rem(kb.sub(kb.idx(1024), kb.rem(base, 1024)), 1024);
    aligned = kb.add(base, pad);
  }

  SwizzledTile tile(int64_t rows, int64_t headDim, int64_t stages,
                    Type elementType) {
    SwizzledTile t{kb.sharedView(raw, {stages * rows * headDim}, elementType,
                                 kb.add(pad, kb.idx(offset))),
                   kb.add(aligned, offset), rows, headDim};
    offset += 2 * stages * rows * headDim;
    return t;
  }

  Value f32Array(ArrayRef<int64_t> shape) {
    auto type = Float32Type::get(kb.builder().getContext());
    Value v = kb.sharedView(raw, shape, type, kb.add(pad, kb.idx(offset)));
    int64_t n = 4;
    for (int64_t d : shape)
      n *= d;
    offset += n;
    return v;
  }

private:
  KernelBuilder &kb;
  Value raw, pad, aligned;
  int64_t offset = 0;
};

/// Issues acc = A B^T over the head dim as one wgmma group (not waited
/// for): A the warpgroup's 64 rows at `aRows` (a K-major tile of `aHeight`
/// rows), B the `n` rows of the K-major tile at `bTile`.
Value scoresProduct(KernelBuilder &kb, Value aRows, int64_t aHeight,
                    Value bTile, int64_t n, int64_t headDim, Type et) {
  Value acc = newAccumulator(kb, n);
  for (int64_t kt = 0; kt < headDim / 16; ++kt) {
    int64_t slab = kt / 4, inSlab = 32 * (kt % 4);
    acc = wgmma(kb,
                wgmmaDescriptor(kb, kb.add(aRows, slab * 128 * aHeight + inSlab)),
                wgmmaDescriptor(kb, kb.add(bTile, slab * 128 * n + inSlab)),
                acc, n, et, /*transposeB=*/false, /*transposeA=*/false,
                /*accumulate=*/kt > 0);
  }
  wgmmaCommit(kb);
  return acc;
}

/// Issues acc += P B (not committed): P as one m16k16 register operand per
/// 16 rows of B, B the tile at `bTile` (`bHeight` rows of the head dim, read
/// N-major).
Value accumulateProduct(KernelBuilder &kb, Value acc, ArrayRef<Fragment> p,
                        Value bTile, int64_t bHeight, int64_t headDim,
                        Type et) {
  for (int64_t kt = 0; kt < int64_t(p.size()); ++kt)
    acc = wgmmaRegisterA(kb, p[kt],
                         wgmmaDescriptor(kb, kb.add(bTile, kt * 16 * 128),
                                         /*leadingBytes=*/128 * bHeight),
                         acc, headDim, et, /*transposeB=*/true);
  return acc;
}

/// The n8 accumulator tiles of a thread's part of an m64nN accumulator.
SmallVector<Accumulator> accumulatorTiles(KernelBuilder &kb, Value acc,
                                          int64_t n) {
  OpBuilder &b = kb.builder();
  SmallVector<Accumulator> tiles(n / 8);
  for (int64_t t = 0; t < n / 8; ++t)
    for (int64_t i = 0; i < 4; ++i)
      tiles[t][i] =
          LLVM::ExtractValueOp::create(b, kb.location(), acc, 4 * t + i);
  return tiles;
}

/// The registers of A operands in flight.
SmallVector<Value> registersOf(ArrayRef<SmallVector<Fragment>> operands) {
  SmallVector<Value> regs;
  for (const SmallVector<Fragment> &ops : operands)
    for (const Fragment &f : ops)
      regs.append(f.begin(), f.end());
  return regs;
}

} // namespace

void AttentionGradKernel::buildQueryGradientWgmma() {
  OpBuilder &b = kb.builder();
  Location loc = kb.location();
  int64_t R = rowsPerBlock(), D = s.headDim, bn = s.blockN;
  Type et = s.elementType;
  Value row0 = queryBlockRow();

  // Q and dO of the block, then `stages` K and V tiles.
  SharedCarver carve(kb);
  SwizzledTile tQ = carve.tile(R, D, 1, et);
  SwizzledTile tdO = carve.tile(R, D, 1, et);
  SwizzledTile tK = carve.tile(bn, D, s.stages, et);
  SwizzledTile tV = carve.tile(bn, D, s.stages, et);
  auto [queryLo, queryHi] = queryRange(row0);

  auto blockRow = [&](Value r) { return packedRow(kb.add(row0, r)); };
  loadRows(tQ.view, tQ.at(kb, kb.idx(0)), buf.q, R, blockRow);
  loadRows(tdO.view, tdO.at(kb, kb.idx(0)), buf.dout, R, blockRow);
  asyncCommit(kb);
  MaskGeometry<KernelMath> g = geometry();
  auto [tileFirst, tileEnd] = g.keyTiles(queryLo, queryHi, bn);
  Value numTiles = kb.sub(tileEnd, tileFirst);
  auto loadTile = [&](KernelBuilder &kb, Value step, Value stage) {
    Value key0 = kb.mul(kb.add(tileFirst, step), bn);
    auto keyRow = [&](Value r) -> RowSlot {
      Value key = kb.add(key0, r);
      return {kvHead, kb.minI(key, s.keys - 1), kb.lt(key, s.keys)};
    };
    loadRows(tK.view, tK.at(kb, stage), buf.k, bn, keyRow);
    loadRows(tV.view, tV.at(kb, stage), buf.v, bn, keyRow);
  };
  CpAsyncPipeline pipeline(kb, s.stages, /*asyncProxyReads=*/true);
  pipeline.prologue(numTiles, loadTile);

  QueryRows rows = queryRows(row0);
  asyncWait(kb, s.stages - 2);
  fenceProxyAsync(kb);
  kb.barrier();

  // The warpgroup's 64 rows of Q and dO.
  Value wgRows = kb.mul(kb.div(warp, 4), 64 * 128);
  Value aQ = kb.add(tQ.address, wgRows), adO = kb.add(tdO.address, wgRows);
  Value col = kb.mul(kb.rem(lane, 4), 2);
  Value zero = LLVM::ZeroOp::create(b, loc, warpgroupAccumulatorType(kb, D));
  auto loop = scf::ForOp::create(b, loc, kb.idx(0), numTiles, kb.idx(1),
                                 ValueRange{zero});
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    Value it = loop.getInductionVar();
    Value stage = pipeline.step(it, numTiles, loadTile);
    Value kTile = tK.stageAddress(kb, stage);
    wgmmaFence(kb);
    Value sAcc = scoresProduct(kb, aQ, R, kTile, bn, D, et);
    Value dpAcc =
        scoresProduct(kb, adO, R, tV.stageAddress(kb, stage), bn, D, et);
    wgmmaWait(kb, 0);
    sAcc = fenceAccumulator(kb, sAcc);
    dpAcc = fenceAccumulator(kb, dpAcc);
    SmallVector<Accumulator> sc = accumulatorTiles(kb, sAcc, bn);
    SmallVector<Accumulator> dp = accumulatorTiles(kb, dpAcc, bn);

    Value start = kb.mul(kb.add(tileFirst, it), bn);
    Value last = kb.add(start, bn - 1);
    Value tail = s.keys % bn ? kb.lt(kb.idx(s.keys - 1), last) : kb.i1(false);
    Value needMask = g.crossesBoundary(queryLo, queryHi, start, last, tail);
    Value colBase = kb.add(start, col);
    SmallVector<Accumulator> ds = probabilitiesAndGradient(
        sc, dp, needMask,
        [&](int64_t, int64_t e) { return rows.query[e / 2]; },
        [&](int64_t t, int64_t e) { return kb.add(colBase, t * 8 + e % 2); },
        [&](int64_t, int64_t e) { return rows.lse2[e / 2]; },
        [&](int64_t, int64_t e) { return rows.delta[e / 2]; });

    SmallVector<Fragment> dsOps = accumulatorOperands(kb, ds, et);
    Value acc = fenceAccumulator(kb, loop.getRegionIterArgs()[0]);
    wgmmaFence(kb);
    acc = accumulateProduct(kb, acc, dsOps, kTile, bn, D, et);
    wgmmaCommit(kb);
    wgmmaWait(kb, 0);
    acc = fenceAccumulator(kb, acc);
    keepOperandsAlive(kb, registersOf({dsOps}));
    scf::YieldOp::create(b, loc, acc);
  }
  asyncWait(kb, 0);
  storeRows(accumulatorTiles(kb, loop.getResult(0), D), s.scale, buf.dq,
            rows.slots);
}

void AttentionGradKernel::buildKeyValueGradientWgmma() {
  OpBuilder &b = kb.builder();
  Location loc = kb.location();
  int64_t R = rowsPerBlock(), D = s.headDim, bm = s.blockM;
  Type et = s.elementType;
  Value key0 = kb.mul(blockX, R);
  Value keyLast = kb.minI(kb.add(key0, R - 1), s.keys - 1);

  // K and V of the block, then `stages` Q and dO tiles with their LSE and D.
  SharedCarver carve(kb);
  SwizzledTile tK = carve.tile(R, D, 1, et);
  SwizzledTile tV = carve.tile(R, D, 1, et);
  SwizzledTile tQ = carve.tile(bm, D, s.stages, et);
  SwizzledTile tdO = carve.tile(bm, D, s.stages, et);
  Value sL = carve.f32Array({s.stages, bm});
  Value sD = carve.f32Array({s.stages, bm});

  auto blockKey = [&](Value r) -> RowSlot {
    Value key = kb.add(key0, r);
    return {kvHead, kb.minI(key, s.keys - 1), kb.lt(key, s.keys)};
  };
  loadRows(tK.view, tK.at(kb, kb.idx(0)), buf.k, R, blockKey);
  loadRows(tV.view, tV.at(kb, kb.idx(0)), buf.v, R, blockKey);
  asyncCommit(kb);
  MaskGeometry<KernelMath> g = geometry();
  auto [tileFirst, tileEnd] = g.queryTiles(key0, keyLast, bm);
  Value perHead = kb.sub(tileEnd, tileFirst);
  Value numSteps = kb.mul(perHead, kb.idx(s.group()));
  auto loadTile = [&](KernelBuilder &kb, Value step, Value stage) {
    // Q and dO share their tiles' geometry.
    loadQueryTile(step, stage, tileFirst, perHead, tQ.view, tdO.view,
                  tQ.at(kb, stage), sL, sD);
  };
  CpAsyncPipeline pipeline(kb, s.stages, /*asyncProxyReads=*/true);
  pipeline.prologue(numSteps, loadTile);
  asyncWait(kb, s.stages - 2);
  fenceProxyAsync(kb);
  kb.barrier();

  Value col = kb.mul(kb.rem(lane, 4), 2);
  SmallVector<Value> rowKey;
  SmallVector<RowSlot> slots = keyRows(key0, rowKey);
  // The warpgroup's 64 keys of K and V.
  Value wgRows = kb.mul(kb.div(warp, 4), 64 * 128);
  Value aK = kb.add(tK.address, wgRows), aV = kb.add(tV.address, wgRows);
  Value zero = LLVM::ZeroOp::create(b, loc, warpgroupAccumulatorType(kb, D));
  auto loop = scf::ForOp::create(b, loc, kb.idx(0), numSteps, kb.idx(1),
                                 ValueRange{zero, zero});
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    Value it = loop.getInductionVar();
    Value stage = pipeline.step(it, numSteps, loadTile);
    Value query0 = stepTile(it, tileFirst, perHead).second;
    Value qTile = tQ.stageAddress(kb, stage);
    Value dOTile = tdO.stageAddress(kb, stage);
    // Transposed: rows are the warpgroup's keys, columns the tile's queries.
    wgmmaFence(kb);
    Value sAcc = scoresProduct(kb, aK, R, qTile, bm, D, et);
    Value dpAcc = scoresProduct(kb, aV, R, dOTile, bm, D, et);
    wgmmaWait(kb, 0);
    sAcc = fenceAccumulator(kb, sAcc);
    dpAcc = fenceAccumulator(kb, dpAcc);
    SmallVector<Accumulator> sc = accumulatorTiles(kb, sAcc, bm);
    SmallVector<Accumulator> dp = accumulatorTiles(kb, dpAcc, bm);

    Value needMask = g.crossesBoundary(query0, kb.add(query0, bm - 1), key0,
                                       kb.add(key0, R - 1));
    SmallVector<Accumulator> ds = keyTileGradient(sc, dp, needMask, query0, col,
                                                  rowKey, stage, sL, sD);

    SmallVector<Fragment> pOps = accumulatorOperands(kb, sc, et);
    SmallVector<Fragment> dsOps = accumulatorOperands(kb, ds, et);
    Value dk = fenceAccumulator(kb, loop.getRegionIterArgs()[0]);
    Value dv = fenceAccumulator(kb, loop.getRegionIterArgs()[1]);
    wgmmaFence(kb);
    dv = accumulateProduct(kb, dv, pOps, dOTile, bm, D, et);
    dk = accumulateProduct(kb, dk, dsOps, qTile, bm, D, et);
    wgmmaCommit(kb);
    wgmmaWait(kb, 0);
    dk = fenceAccumulator(kb, dk);
    dv = fenceAccumulator(kb, dv);
    keepOperandsAlive(kb, registersOf({pOps, dsOps}));
    scf::YieldOp::create(b, loc, ValueRange{dk, dv});
  }
  asyncWait(kb, 0);
  storeRows(accumulatorTiles(kb, loop.getResult(0), D), s.scale, buf.dk,
            slots);
  storeRows(accumulatorTiles(kb, loop.getResult(1), D), 1.0, buf.dv, slots);
}
