//===- AttentionKernel.cpp - FlashAttention-2 forward: the shared parts ---===//
//
// Writes the attention forward kernel of attn-map-to-gpu: the L2 algorithm
// of attn-tile (online softmax over key tiles, block skipping, safe max,
// split-KV with a log-sum-exp combine) mapped onto one thread block per
// (query-row tile, kv head, batch x split), K/V tiles streamed through
// shared memory by multi-stage cp.async, and the softmax state in
// registers. The key loops per MMA kind are in AttentionMmaSync.cpp and
// AttentionWgmma.cpp.
//
//===----------------------------------------------------------------------===//
#include "AttentionKernel.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::gpu_kernel;
using namespace mlir::attn::gpu_kernel::attention;

void AttentionKernel::carveSharedMemory() {
  if (s.warpgroupMma) {
    // Q, then `stages` K and V tiles, each in 128-byte-swizzled slabs of 64
    // columns, from a 1024-byte aligned base.
    int64_t qBytes = 2 * s.blockM * s.headDim;
    int64_t kvBytes = 2 * s.stages * s.blockN * s.headDim;
    Value raw = kb.sharedBytes();
    Value base = kb.sharedAddress(raw);
    // MLIR's dynamic-shared-memory symbol is a one-byte static variable
    // that the kernel reads past; the tma pipeline's mbarriers are static
    // variables too, placed beside it. So there the tiles start at the
    // first 1024-byte boundary strictly above the symbol: past every static
    // variable (they take less than 1024 bytes from offset 0), inside the
    // 1024 bytes of room the plan adds.
    Value pad = kb.rem(kb.sub(kb.idx(1024), kb.rem(base, 1024)), 1024);
    if (s.tma)
      pad = kb.sub(kb.idx(1024), kb.rem(base, 1024));
    sQ = kb.sharedView(raw, {s.blockM * s.headDim}, s.elementType, pad);
    sK = kb.sharedView(raw, {s.stages * s.blockN * s.headDim}, s.elementType,
                       kb.add(pad, qBytes));
    sV = kb.sharedView(raw, {s.stages * s.blockN * s.headDim}, s.elementType,
                       kb.add(pad, qBytes + kvBytes));
    smemRaw = raw;
    smemPad = pad;
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
  if (s.tma)
    return buildTmaLoop(tileFirst, numTiles);
  if (s.warpgroupMma)
    return buildWarpgroupLoop(tileFirst, numTiles);
  buildMmaSyncLoop(tileFirst, numTiles);
}

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
  // The tma pipeline's tensor maps: K and V as 64-column slabs of key
  // tiles; keys past the end read as zeros.
  Value keyMap, valueMap;
  if (spec.tma) {
    SmallVector<int64_t> box = {1, 1, spec.blockN, 64};
    keyMap = createTensorMap(b, loc, k, box);
    valueMap = createTensorMap(b, loc, v, box);
  }
  buildLaunch(b, loc, spec.facts.grid, spec.facts.threads, spec.facts.sharedBytes,
              [&](gpu::LaunchOp launch, KernelBuilder &kb) {
                AttentionKernel(spec, launch, kb, q, k, v, out, lse, partialOut,
                                partialLse, keyMap, valueMap)
                    .build();
              });
  if (spec.split > 1) {
    buildCombine(b, loc, spec, partialOut, partialLse, out, lse);
    memref::DeallocOp::create(b, loc, partialOut);
    memref::DeallocOp::create(b, loc, partialLse);
  }
}
