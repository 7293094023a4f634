//===- AttentionWgmma.cpp - the attention key loop on warpgroup MMA -------===//
//
// sm_90a: a warpgroup per 64 query rows; QK^T on wgmma from 128-byte-
// swizzled shared memory, PV on wgmma with P from registers; the next
// tile's QK^T is issued before the softmax of the current one, so that two
// wgmma groups are in flight.
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

Value AttentionKernel::warpgroupStep(
    OnlineSoftmaxState &state, Value scores, Value out, Value tile,
    Value stage, int64_t pendingGroups,
    function_ref<void(KernelBuilder &)> previousDone,
    function_ref<void(KernelBuilder &)> beforeValues) {
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
  if (previousDone)
    previousDone(kb);
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

  WarpgroupLoopHooks hooks;
  auto nextKeys = [&](KernelBuilder &lb, Value j) {
    asyncWait(lb, ahead - 1 < 0 ? 0 : ahead - 1);
    fenceProxyAsync(lb);
    lb.barrier();
    Value later = lb.add(j, 1 + ahead);
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
        call(hooks.firstKeys, kb);
        Value first = warpgroupScores(kb.idx(0));
        wgmmaWait(kb, 0);
        call(hooks.keysDone, kb, kb.idx(0));
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
          call(hooks.nextKeys, lb, j);
          Value next = lb.add(j, 1);
          Value nextScores = warpgroupScores(lb.rem(next, s.stages));
          OnlineSoftmaxState st = unpack(args);
          Value o = warpgroupStep(
              st, args.back(), args[0], lb.add(tileFirst, j),
              lb.rem(j, s.stages), /*pendingGroups=*/1,
              [&](KernelBuilder &kb) { call(hooks.previousValuesDone, kb, j); },
              [&](KernelBuilder &kb) { call(hooks.valuesReady, kb, j); });
          // The next scores land; this PV may still run.
          wgmmaWait(lb, 1);
          call(hooks.keysDone, lb, next);
          SmallVector<Value> yielded = pack(o, st);
          yielded.push_back(nextScores);
          scf::YieldOp::create(b, loc, yielded);
        }
        ValueRange res = loop.getResults();
        OnlineSoftmaxState st = unpack(res);
        Value last = kb.sub(numTiles, kb.idx(1));
        Value o = warpgroupStep(
            st, res.back(), res[0], kb.add(tileFirst, last),
            kb.rem(last, s.stages), /*pendingGroups=*/0,
            [&](KernelBuilder &kb) {
              call(hooks.previousValuesDone, kb, last);
            },
            [&](KernelBuilder &kb) { call(hooks.valuesReady, kb, last); });
        wgmmaWait(kb, 0);
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
