//===- AttentionWgmma.cpp - the attention key loop on warpgroup MMA -------===//
//
// sm_90a: a warpgroup per 64 query rows; QK^T on wgmma from 128-byte-
// swizzled shared memory, PV on wgmma with P from registers. Step j issues
// the QK^T of tile j and the PV of tile j - 1, waits for the scores only,
// and runs tile j's softmax while that PV is still in flight
// (FlashAttention-3's intra-warpgroup overlap). Only one tile's f32 scores
// are live beside O and the previous tile's 16-bit P.
//
//===----------------------------------------------------------------------===//

#include "AttentionKernel.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::gpu_kernel;
using namespace mlir::attn::gpu_kernel::attention;

Value AttentionKernel::warpgroupScores(Value stage) {
  // S = Q K^T on the warpgroup's 64 rows: head-dim steps of 16, 32 bytes
  // apart inside a 64-column slab (K-major A and B).
  Value acc = newAccumulator(kb, s.blockN);
  Value kStage = kb.add(addrK, kb.mul(stage, 2 * s.blockN * s.headDim));
  wgmmaFence(kb);
  for (int64_t kt = 0; kt < kTiles(); ++kt) {
    int64_t slab = kt / 4, inSlab = 32 * (kt % 4);
    acc = wgmma(
        kb, wgmmaDescriptor(kb, kb.add(addrQ, slab * 128 * s.blockM + inSlab)),
        wgmmaDescriptor(kb, kb.add(kStage, slab * 128 * s.blockN + inSlab)),
        acc, s.blockN, s.elementType, /*transposeB=*/false,
        /*transposeA=*/false, /*accumulate=*/kt > 0);
  }
  wgmmaCommit(kb);
  return acc;
}

SmallVector<Fragment>
AttentionKernel::warpgroupSoftmax(OnlineSoftmaxState &state, Value scores,
                                  Value tile, SmallVector<Value> &alpha) {
  OpBuilder &b = kb.builder();
  Location loc = kb.location();
  SmallVector<Accumulator> sc(nTiles());
  for (int64_t nt = 0; nt < nTiles(); ++nt)
    for (int64_t i = 0; i < 4; ++i)
      sc[nt][i] = LLVM::ExtractValueOp::create(b, loc, scores, 4 * nt + i);
  OnlineSoftmaxState next;
  alpha = softmax(state, tile, sc, next);
  state.max = next.max;
  state.sum = next.sum;
  SmallVector<Fragment> p;
  for (int64_t kt = 0; kt < s.blockN / 16; ++kt)
    p.push_back(probabilities(sc, 0, kt));
  return p;
}

Value AttentionKernel::warpgroupValues(
    Value out, ArrayRef<Value> alpha, ArrayRef<Fragment> p, Value stage,
    function_ref<void(KernelBuilder &)> beforeValues) {
  OpBuilder &b = kb.builder();
  Location loc = kb.location();
  // O was last written by a PV that has landed; rescale it in registers.
  for (int64_t i = 0; i < s.headDim / 2; ++i) {
    Value o = LLVM::ExtractValueOp::create(b, loc, out, i);
    out = LLVM::InsertValueOp::create(b, loc, out,
                                      kb.mulF(o, alpha[(i % 4) / 2]), i);
  }
  // O += P V: P from registers, V N-major (the head dim is contiguous): 16
  // keys (2 KB of 128-byte rows) per step, 64-column slabs block_n rows
  // apart.
  Value vStage = kb.add(addrV, kb.mul(stage, 2 * s.blockN * s.headDim));
  if (beforeValues)
    beforeValues(kb);
  out = fenceAccumulator(kb, out);
  wgmmaFence(kb);
  for (int64_t kt = 0; kt < s.blockN / 16; ++kt)
    out = wgmmaRegisterA(kb, p[kt],
                         wgmmaDescriptor(kb, kb.add(vStage, kt * 16 * 128),
                                         /*leadingBytes=*/128 * s.blockN),
                         out, s.headDim, s.elementType, /*transposeB=*/true);
  wgmmaCommit(kb);
  return out;
}

void AttentionKernel::buildWarpgroupLoop(Value tileFirst, Value numTiles) {
  // Tile j + stages - 2 is loaded at the head of step j into the stage of
  // tile j - 2, whose PV every warpgroup waited for in step j - 1, before
  // the barrier of step j; tile j itself was loaded stages - 2 steps
  // earlier (the plan asks for 4 stages or more).
  int64_t ahead = s.stages - 2;
  auto loadTile = [&](KernelBuilder &kb, Value j) {
    loadKeyValueTile(kb.add(tileFirst, j), kb.rem(j, s.stages));
  };
  // Q and tile 0 form group 0, tiles 1 .. ahead one group each (empty
  // groups keep the count uniform); group t holds tile t.
  loadQueryTile();
  for (int64_t p = 0; p <= ahead; ++p) {
    kb.ifThen(kb.lt(kb.idx(p), numTiles),
              [&](KernelBuilder &kb) { loadTile(kb, kb.idx(p)); });
    asyncCommit(kb);
  }
  asyncWait(kb, ahead);
  fenceProxyAsync(kb);
  kb.barrier();

  WarpgroupLoopHooks hooks;
  auto nextKeys = [&](KernelBuilder &lb, Value j) {
    // Groups 0 .. j + ahead - 1 were committed; tile j's has landed.
    asyncWait(lb, ahead - 1);
    fenceProxyAsync(lb);
    lb.barrier();
    Value later = lb.add(j, ahead);
    lb.ifThen(lb.lt(later, numTiles),
              [&](KernelBuilder &kb) { loadTile(kb, later); });
    asyncCommit(lb);
  };
  hooks.nextKeys = nextKeys;
  OnlineSoftmaxState state = warpgroupKeyLoop(tileFirst, numTiles, hooks);
  asyncWait(kb, 0);
  writeResults(state);
}

OnlineSoftmaxState
AttentionKernel::warpgroupKeyLoop(Value tileFirst, Value numTiles,
                                  const WarpgroupLoopHooks &hooks) {
  OpBuilder &b = kb.builder();
  Location loc = kb.location();
  auto call = [](auto hook, KernelBuilder &kb, auto... args) {
    if (hook)
      hook(kb, args...);
  };
  Type outType = warpgroupAccumulatorType(kb, s.headDim);
  Value zeroOut = LLVM::ZeroOp::create(b, loc, outType);
  OnlineSoftmaxState init;
  init.max.assign(slots(), kb.negInf());
  init.sum.assign(slots(), kb.f32(0.0));
  int64_t pTiles = s.blockN / 16;
  // Carried across steps: O, the row slots' max and sum, and the previous
  // tile's O rescale and P (its PV is issued by the next step).
  auto pack = [&](Value o, const OnlineSoftmaxState &st,
                  ArrayRef<Value> alpha = {}, ArrayRef<Fragment> p = {}) {
    SmallVector<Value> v = {o};
    v.append(st.max.begin(), st.max.end());
    v.append(st.sum.begin(), st.sum.end());
    v.append(alpha.begin(), alpha.end());
    for (const Fragment &f : p)
      v.append(f.begin(), f.end());
    return v;
  };
  auto unpack = [&](ValueRange v, SmallVector<Value> *alpha = nullptr,
                    SmallVector<Fragment> *p = nullptr) {
    OnlineSoftmaxState st;
    int64_t n = slots();
    st.max.assign(v.begin() + 1, v.begin() + 1 + n);
    st.sum.assign(v.begin() + 1 + n, v.begin() + 1 + 2 * n);
    if (alpha)
      alpha->assign(v.begin() + 1 + 2 * n, v.begin() + 1 + 3 * n);
    if (p) {
      p->resize(pTiles);
      for (int64_t kt = 0; kt < pTiles; ++kt)
        for (int64_t i = 0; i < 4; ++i)
          (*p)[kt][i] = v[1 + 3 * n + 4 * kt + i];
    }
    return st;
  };
  SmallVector<Value> initValues = pack(zeroOut, init);
  SmallVector<Type> types;
  for (Value v : initValues)
    types.push_back(v.getType());

  SmallVector<Value> result = kb.ifElse(
      kb.lt(kb.idx(0), numTiles), types,
      [&](KernelBuilder &kb) {
        call(hooks.start, kb);
        // Tile 0: its QK^T alone, then its softmax.
        call(hooks.firstKeys, kb);
        call(hooks.beforeMmas, kb);
        Value first = warpgroupScores(kb.idx(0));
        call(hooks.afterMmas, kb);
        wgmmaWait(kb, 0);
        first = fenceAccumulator(kb, first);
        call(hooks.keysDone, kb, kb.idx(0));
        OnlineSoftmaxState st0 = init;
        SmallVector<Value> alpha0;
        SmallVector<Fragment> p0 = warpgroupSoftmax(st0, first, tileFirst,
                                                    alpha0);

        // Steps 1 .. numTiles - 1.
        auto loop =
            scf::ForOp::create(b, loc, kb.idx(1), numTiles, kb.idx(1),
                               pack(zeroOut, st0, alpha0, p0));
        {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(loop.getBody());
          KernelBuilder lb(b, loc);
          Value j = loop.getInductionVar();
          Value previous = lb.sub(j, lb.idx(1));
          SmallVector<Value> alpha;
          SmallVector<Fragment> p;
          OnlineSoftmaxState st =
              unpack(loop.getRegionIterArgs(), &alpha, &p);
          call(hooks.nextKeys, lb, j);
          call(hooks.beforeMmas, lb);
          Value scores = warpgroupScores(lb.rem(j, s.stages));
          Value o = warpgroupValues(
              loop.getRegionIterArgs()[0], alpha, p,
              lb.rem(previous, s.stages), [&](KernelBuilder &kb) {
                call(hooks.valuesReady, kb, previous);
              });
          call(hooks.afterMmas, lb);
          // The scores land; the PV may still run under the softmax. The
          // fences keep the instruction order that ptxas needs to let the
          // MMAs run asynchronously: no read of S above its wait, P of the
          // PV in flight kept (not reused) up to the PV's wait, no copy of
          // O above it.
          wgmmaWait(lb, 1);
          scores = fenceAccumulator(lb, scores);
          call(hooks.keysDone, lb, j);
          SmallVector<Value> nextAlpha;
          SmallVector<Fragment> nextP =
              warpgroupSoftmax(st, scores, lb.add(tileFirst, j), nextAlpha);
          wgmmaWait(lb, 0);
          o = fenceAccumulator(lb, o);
          SmallVector<Value> inFlight;
          for (const Fragment &f : p)
            inFlight.append(f.begin(), f.end());
          keepOperandsAlive(lb, inFlight);
          call(hooks.valuesDone, lb, previous);
          scf::YieldOp::create(b, loc, pack(o, st, nextAlpha, nextP));
        }

        // The last tile's PV.
        SmallVector<Value> alpha;
        SmallVector<Fragment> p;
        OnlineSoftmaxState st = unpack(loop.getResults(), &alpha, &p);
        Value last = kb.sub(numTiles, kb.idx(1));
        Value o = warpgroupValues(loop.getResults()[0], alpha, p,
                                  kb.rem(last, s.stages),
                                  [&](KernelBuilder &kb) {
                                    call(hooks.valuesReady, kb, last);
                                  });
        wgmmaWait(kb, 0);
        o = fenceAccumulator(kb, o);
        call(hooks.valuesDone, kb, last);
        call(hooks.finish, kb);
        return pack(o, st);
      },
      [&](KernelBuilder &) { return initValues; });

  OnlineSoftmaxState state = unpack(result);
  state.out.resize(dTiles());
  for (int64_t dt = 0; dt < dTiles(); ++dt)
    for (int64_t i = 0; i < 4; ++i)
      state.out[dt][i] =
          LLVM::ExtractValueOp::create(b, loc, result[0], 4 * dt + i);
  return state;
}
