//===- AttentionMmaSync.cpp - the attention key loop on mma.sync ----------===//
//
// One warp per 16 or 32 query rows: the Q tile in registers through
// ldmatrix, QK^T and PV on mma.sync.m16n8k16, P repacked in registers, K/V
// tiles through the cp.async pipeline (sm_80 and later).
//
//===----------------------------------------------------------------------===//

#include "AttentionKernel.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::gpu_kernel;
using namespace mlir::attn::gpu_kernel::attention;

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

void AttentionKernel::buildMmaSyncLoop(Value tileFirst, Value numTiles) {
  OpBuilder &b = kb.builder();
  Location loc = kb.location();
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

