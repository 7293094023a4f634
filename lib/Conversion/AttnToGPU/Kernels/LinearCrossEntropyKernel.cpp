//===- LinearCrossEntropyKernel.cpp - Cut-Cross-Entropy forward on mma.sync ===//
//
// The linear_cross_entropy kernel of attn-map-to-gpu, in the Cut Cross-
// Entropy form that attn-tile proves on the CPU: each block computes
// logits tiles hidden[block_m, D] x weight[block_n, D]^T on tensor cores,
// block_d columns at a time streamed through shared memory by cp.async, and
// folds every tile at once into per-row running (max, sum of exp), the sum
// of the logits and the target logit, all in registers. No [N, V] buffer
// exists. Blocks split the vocabulary (split-V); a per-token combine kernel
// merges their partial states into the loss and LSE, and the one-block
// reduction of the row kernels makes the sum or mean. With pipeline "tma"
// (sm_90a) a producer warpgroup streams the chunks by TMA into mbarrier-
// handshaked stages while the other warpgroups run the wgmma loop, with no
// CTA-wide barrier per chunk (FlashAttention-3's and CUTLASS's warp
// specialization, as in AttentionTma.cpp).
//
//===----------------------------------------------------------------------===//

#include "Kernels.h"
#include "../Builders/AsyncCopy.h"
#include "../Builders/KernelBuilder.h"
#include "../Builders/MmaSync.h"
#include "../Builders/Tma.h"
#include "../Builders/WarpOps.h"
#include "../Builders/Wgmma.h"

#include "attn/Dialect/Attn/IR/AttnOps.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::gpu_kernel;

namespace {


using LinearCrossEntropySpec = LinearCrossEntropyPlan;

/// Per-thread state of its two token rows across vocabulary tiles: running
/// max and sum of exp (over the thread's own columns), sum of the logits,
/// and the target logit (0 unless the label's column passed this thread).
struct RowState {
  std::array<Value, 2> max, sum, total, target;
  SmallVector<Value> flatten() const {
    SmallVector<Value> v;
    for (auto *a : {&max, &sum, &total, &target})
      v.append(a->begin(), a->end());
    return v;
  }
  static RowState unflatten(ValueRange v) {
    RowState s;
    s.max = {v[0], v[1]};
    s.sum = {v[2], v[3]};
    s.total = {v[4], v[5]};
    s.target = {v[6], v[7]};
    return s;
  }
};

class LinearCrossEntropyKernel {
public:
  LinearCrossEntropyKernel(const LinearCrossEntropySpec &spec,
                           gpu::LaunchOp launch, KernelBuilder &kb,
                           Value hidden, Value weight, Value bias,
                           Value labels, ArrayRef<Value> partials,
                           Value hiddenMap, Value weightMap)
      : s(spec), launch(launch), kb(kb), hidden(hidden), weight(weight),
        bias(bias), labels(labels), partials(partials), hiddenMap(hiddenMap),
        weightMap(weightMap) {}

  void build();

private:
  int64_t threads() const { return 32 * s.warps; }
  int64_t nTiles() const { return s.blockN / 8; }
  void loadChunk(Value vocabTile, Value chunk, Value stage);
  SmallVector<Accumulator> multiply(SmallVector<Accumulator> acc, Value stage);
  RowState fold(const RowState &in, ArrayRef<Accumulator> acc, Value tile);
  /// Folds n8 tiles [first, first + count) of `acc` into `in`.
  RowState foldGroup(const RowState &in, ArrayRef<Accumulator> acc, Value tile,
                     int64_t first, int64_t count);
  static constexpr int64_t kFoldGroup = 8;
  RowState mainLoopMmaSync(Value tileFirst, Value tileEnd, const RowState &init);
  RowState mainLoopWarpgroup(Value tileFirst, Value tileEnd,
                             const RowState &init);
  /// The tma pipeline: the producer's loads, and the computing warps' loop,
  /// fold and partial states.
  void buildTma(Value tileFirst, Value tileEnd);
  /// The warpgroup-MMA loops of both pipelines: per vocabulary tile of
  /// [tileFirst, tileEnd), a loop over its chunks carrying one m64 x block_n
  /// accumulator (`chunk(kb, step, c, acc)` issues global step `step`, the
  /// tile's chunk `c`), then `afterChunks(kb, step0, acc)` (the tile's
  /// first step) and the fold. Returns the rows' final state.
  using ChunkFn = function_ref<Value(KernelBuilder &, Value, Value, Value)>;
  using AfterChunksFn = function_ref<Value(KernelBuilder &, Value, Value)>;
  RowState warpgroupTiles(Value tileFirst, Value tileEnd, const RowState &init,
                          ChunkFn chunk, AfterChunksFn afterChunks);
  /// One step's wgmma group over the stage whose hidden rows start at
  /// shared byte address `stageA` and weight rows at `stageB`, committed.
  Value issueStep(Value stageA, Value stageB, Value acc);
  /// The tokens, validity and labels of this thread's two rows.
  void loadRows();
  /// The initial (empty) state of the thread's rows.
  RowState initialState();
  /// Merges the four lanes of each row and writes this split's partial
  /// state.
  void writePartials(const RowState &st);

  const LinearCrossEntropySpec &s;
  gpu::LaunchOp launch;
  KernelBuilder &kb;
  Value hidden, weight, bias, labels;
  ArrayRef<Value> partials;
  /// The tma pipeline's tensor maps (host values), else null.
  Value hiddenMap, weightMap;
  Value tid, lane, warp, rowTile0, splitIndex, sH, sW;
  std::array<Value, 2> rowToken, rowValid, rowLabel;
};

void LinearCrossEntropyKernel::loadChunk(Value vocabTile, Value chunk,
                                         Value stage) {
  Value col0 = kb.mul(chunk, s.blockD);
  int64_t perRow = s.blockD / 8;
  auto copyRows = [&](Value smem, Value global, Value first, int64_t rows,
                      int64_t limit) {
    kb.forEachStrided(tid, rows * perRow, threads(),
                      [&](KernelBuilder &kb, Value c) {
      Value r = kb.div(c, perRow);
      Value col = kb.mul(kb.rem(c, perRow), 8);
      Value row = kb.add(first, r);
      Value n = kb.select(kb.lt(row, limit), kb.idx(8), kb.idx(0));
      SmallVector<Value> dst = {stage, r, col};
      if (s.warpgroupMma)
        dst = {kb.add(kb.mul(stage, rows * s.blockD),
                      swizzledOffset(kb, r, kb.rem(c, perRow), rows))};
      asyncCopy(kb, smem, dst, global,
                   {kb.minI(row, limit - 1), kb.add(col0, col)}, 8, n);
    });
  };
  copyRows(sH, hidden, rowTile0, s.blockM, s.tokens);
  copyRows(sW, weight, kb.mul(vocabTile, s.blockN), s.blockN, s.vocab);
}

SmallVector<Accumulator>
LinearCrossEntropyKernel::multiply(SmallVector<Accumulator> acc, Value stage) {
  // A operands (hidden rows of this warp) and B operands (weight rows) by
  // ldmatrix.x4, as for QK^T in the attention kernel.
  Value aRow = kb.add(kb.mul(warp, 16), kb.rem(lane, 16));
  Value aCol = kb.mul(kb.div(lane, 16), 8);
  Value bRow = kb.add(kb.rem(lane, 8), kb.mul(kb.div(lane, 16), 8));
  Value bCol = kb.mul(kb.rem(kb.div(lane, 8), 2), 8);
  Type et = s.elementType;
  for (int64_t kt = 0; kt < s.blockD / 16; ++kt) {
    SmallVector<Value> a = loadMatrix(kb, 
        sH, {stage, aRow, kb.add(aCol, kt * 16)}, 4, false, et);
    Fragment af = {a[0], a[1], a[2], a[3]};
    for (int64_t np = 0; np < nTiles() / 2; ++np) {
      SmallVector<Value> r = loadMatrix(kb, 
          sW, {stage, kb.add(bRow, np * 16), kb.add(bCol, kt * 16)}, 4, false,
          et);
      acc[2 * np] = mmaSync(kb, af, r[0], r[1], acc[2 * np], et);
      acc[2 * np + 1] = mmaSync(kb, af, r[2], r[3], acc[2 * np + 1], et);
    }
  }
  return acc;
}

RowState LinearCrossEntropyKernel::fold(const RowState &in,
                                        ArrayRef<Accumulator> acc,
                                        Value tile) {
  // With a bias or soft-capping, 64 columns (8 n8 tiles) at a time: the
  // running state absorbs each group in turn, so that only a group's logits
  // and bias values are live (the whole tile at once spills at block_n 256).
  // Without, the whole tile in one group (measured 1.5% faster on the H100).
  int64_t group = bias || s.softcap ? kFoldGroup : nTiles();
  RowState state = in;
  for (int64_t first = 0; first < nTiles(); first += group)
    state = foldGroup(state, acc, tile, first,
                      std::min(group, nTiles() - first));
  return state;
}

RowState LinearCrossEntropyKernel::foldGroup(const RowState &in,
                                             ArrayRef<Accumulator> acc,
                                             Value tile, int64_t first,
                                             int64_t count) {
  OpBuilder &b = kb.builder();
  Location loc = kb.location();
  Value colBase = kb.add(kb.mul(tile, s.blockN), kb.mul(kb.rem(lane, 4), 2));
  Value log2e = kb.f32(kLog2e);
  // The logits of this thread, with bias and soft-capping; -inf past V.
  SmallVector<std::array<Value, 4>> z(nTiles());
  SmallVector<std::array<Value, 2>> cols(nTiles());
  int64_t end = first + count;
  for (int64_t nt = first; nt < end; ++nt)
    for (int64_t e = 0; e < 2; ++e) {
      Value col = kb.add(colBase, nt * 8 + e);
      cols[nt][e] = col;
      Value valid = kb.lt(col, s.vocab);
      Value add;
      if (bias)
        add = kb.extF(memref::LoadOp::create(
            b, loc, bias, ValueRange{kb.minI(col, s.vocab - 1)}));
      for (int64_t h = 0; h < 2; ++h) {
        Value x = acc[nt][2 * h + e];
        if (bias)
          x = kb.addF(x, add);
        if (s.softcap)
          x = kb.mulF(kb.tanh(kb.mulF(x, kb.f32(1.0 / *s.softcap))),
                      kb.f32(*s.softcap));
        z[nt][2 * h + e] = kb.orNegInf(valid, x);
      }
    }
  RowState out;
  for (int64_t h = 0; h < 2; ++h) {
    Value m = in.max[h];
    for (int64_t nt = first; nt < end; ++nt)
      m = kb.maxF(m, kb.maxF(z[nt][2 * h], z[nt][2 * h + 1]));
    Value use = kb.safeMax(m);
    Value negUse = kb.mulF(use, kb.f32(-kLog2e));
    Value sum =
        kb.mulF(in.sum[h], kb.exp2(kb.mulF(kb.subF(in.max[h], use), log2e)));
    Value total = in.total[h], target = in.target[h];
    for (int64_t nt = first; nt < end; ++nt)
      for (int64_t e = 0; e < 2; ++e) {
        Value x = z[nt][2 * h + e];
        sum = kb.addF(sum, kb.exp2(kb.fma(x, log2e, negUse)));
        if (s.labelSmoothing != 0)
          total = kb.addF(
              total, kb.select(kb.lt(cols[nt][e], s.vocab), x, kb.f32(0.0)));
        target = kb.select(
            kb.cmpI(arith::CmpIPredicate::eq, cols[nt][e], rowLabel[h]), x,
            target);
      }
    out.max[h] = m;
    out.sum[h] = sum;
    out.total[h] = total;
    out.target[h] = target;
  }
  return out;
}

RowState LinearCrossEntropyKernel::mainLoopMmaSync(Value tileFirst,
                                                   Value tileEnd,
                                                   const RowState &init) {
  OpBuilder &b = kb.builder();
  Location loc = kb.location();
  sH = kb.sharedView({s.stages, s.blockM, s.pitch()}, s.elementType, 0);
  sW = kb.sharedView({s.stages, s.blockN, s.pitch()}, s.elementType,
                     2 * s.stages * s.blockM * s.pitch());

  // The vocabulary tiles flattened with the block_d chunks into one
  // pipelined loop.
  Value steps = kb.mul(kb.sub(tileEnd, tileFirst), s.chunks());
  auto loadStep = [&](KernelBuilder &kb, Value step, Value stage) {
    loadChunk(kb.add(tileFirst, kb.div(step, s.chunks())),
              kb.rem(step, s.chunks()), stage);
  };
  CpAsyncPipeline(kb, s.stages).prologue(steps, loadStep);

  SmallVector<Value> carried;
  for (int64_t i = 0; i < nTiles(); ++i) {
    Accumulator z = zeroAccumulator(kb);
    carried.append(z.begin(), z.end());
  }
  int64_t accValues = carried.size();
  carried.append(init.flatten());
  auto loop = scf::ForOp::create(b, loc, kb.idx(0), steps, kb.idx(1), carried);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    Value it = loop.getInductionVar();
    Value stage = CpAsyncPipeline(kb, s.stages).step(it, steps, loadStep);
    ValueRange args = loop.getRegionIterArgs();
    SmallVector<Accumulator> acc;
    for (int64_t i = 0; i < nTiles(); ++i)
      acc.push_back({args[4 * i], args[4 * i + 1], args[4 * i + 2],
                     args[4 * i + 3]});
    acc = multiply(acc, stage);
    RowState state = RowState::unflatten(args.drop_front(accValues));
    // After the last chunk of a vocabulary tile: fold it, restart the sum.
    Value last = kb.eqI(kb.rem(it, s.chunks()), s.chunks() - 1);
    SmallVector<Value> accFlat;
    for (Accumulator &a : acc)
      accFlat.append(a.begin(), a.end());
    SmallVector<Type> types;
    for (Value v : args)
      types.push_back(v.getType());
    SmallVector<Value> next = kb.ifElse(
        last, types,
        [&](KernelBuilder &kb) {
          SmallVector<Value> r(accValues, kb.f32(0.0));
          RowState folded =
              fold(state, acc, kb.add(tileFirst, kb.div(it, s.chunks())));
          r.append(folded.flatten());
          return r;
        },
        [&](KernelBuilder &) {
          SmallVector<Value> r = accFlat;
          r.append(state.flatten());
          return r;
        });
    scf::YieldOp::create(b, loc, next);
  }
  asyncWait(kb, 0);
  return RowState::unflatten(loop.getResults().drop_front(accValues));
}

RowState LinearCrossEntropyKernel::mainLoopWarpgroup(Value tileFirst,
                                                     Value tileEnd,
                                                     const RowState &init) {
  // Stage buffers of 128-byte rows, 1024-byte aligned (the swizzle repeats
  // every 8 rows): hidden tiles, then weight tiles.
  int64_t rowBytes = 2 * s.blockD;
  int64_t hiddenBytes = s.stages * s.blockM * rowBytes;
  Value raw = kb.sharedBytes();
  Value base = kb.sharedAddress(raw);
  Value pad = kb.rem(kb.sub(kb.idx(1024), kb.rem(base, 1024)), 1024);
  sH = kb.sharedView(raw, {s.stages * s.blockM * s.blockD}, s.elementType,
                     pad);
  sW = kb.sharedView(raw, {s.stages * s.blockN * s.blockD}, s.elementType,
                     kb.add(pad, hiddenBytes));
  Value addrH = kb.add(kb.add(base, pad), kb.mul(kb.div(warp, 4), 64 * rowBytes));
  Value addrW = kb.add(kb.add(base, pad), hiddenBytes);

  // Loads run `ahead` = stages - 2 steps ahead of the wgmma of a step, and
  // one wgmma group stays in flight: the stage a load overwrites was read
  // by the group of two steps back, which every warpgroup waited for before
  // the barrier at the head of this step.
  int64_t ahead = s.stages - 2;
  Value steps = kb.mul(kb.sub(tileEnd, tileFirst), s.chunks());
  auto loadStep = [&](KernelBuilder &kb, Value step) {
    loadChunk(kb.add(tileFirst, kb.div(step, s.chunks())),
              kb.rem(step, s.chunks()), kb.rem(step, s.stages));
  };
  for (int64_t p = 0; p < ahead; ++p) {
    kb.ifThen(kb.lt(kb.idx(p), steps),
              [&](KernelBuilder &kb) { loadStep(kb, kb.idx(p)); });
    asyncCommit(kb);
  }

  auto chunk = [&](KernelBuilder &kb, Value step, Value, Value acc) {
    asyncWait(kb, ahead - 1);
    fenceProxyAsync(kb);
    kb.barrier();
    Value stage = kb.rem(step, s.stages);
    Value stageA = kb.add(addrH, kb.mul(stage, s.blockM * rowBytes));
    Value stageB = kb.add(addrW, kb.mul(stage, s.blockN * rowBytes));
    acc = issueStep(stageA, stageB, acc);
    wgmmaWait(kb, 1);
    Value next = kb.add(step, ahead);
    kb.ifThen(kb.lt(next, steps),
              [&](KernelBuilder &kb) { loadStep(kb, next); });
    asyncCommit(kb);
    return acc;
  };
  auto afterChunks = [&](KernelBuilder &kb, Value, Value acc) {
    wgmmaWait(kb, 0);
    return acc;
  };
  RowState state = warpgroupTiles(tileFirst, tileEnd, init, chunk, afterChunks);
  asyncWait(kb, 0);
  return state;
}

Value LinearCrossEntropyKernel::issueStep(Value stageA, Value stageB,
                                          Value acc) {
  wgmmaFence(kb);
  for (int64_t k = 0; k < s.blockD / 16; ++k)
    acc = wgmma(kb, wgmmaDescriptor(kb, kb.add(stageA, 32 * k)),
                wgmmaDescriptor(kb, kb.add(stageB, 32 * k)), acc, s.blockN,
                s.elementType);
  wgmmaCommit(kb);
  return acc;
}

RowState LinearCrossEntropyKernel::warpgroupTiles(Value tileFirst,
                                                  Value tileEnd,
                                                  const RowState &init,
                                                  ChunkFn chunk,
                                                  AfterChunksFn afterChunks) {
  OpBuilder &b = kb.builder();
  Location loc = kb.location();
  Type accType = warpgroupAccumulatorType(kb, s.blockN);
  auto tiles = scf::ForOp::create(b, loc, tileFirst, tileEnd, kb.idx(1),
                                  init.flatten());
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(tiles.getBody());
  Value tile = tiles.getInductionVar();
  Value zero = LLVM::ZeroOp::create(b, loc, accType);
  Value step0 = kb.mul(kb.sub(tile, tileFirst), s.chunks());
  auto chunks = scf::ForOp::create(b, loc, kb.idx(0), kb.idx(s.chunks()),
                                   kb.idx(1), ValueRange{zero});
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(chunks.getBody());
    Value c = chunks.getInductionVar();
    Value acc =
        chunk(kb, kb.add(step0, c), c, chunks.getRegionIterArgs()[0]);
    scf::YieldOp::create(b, loc, acc);
  }
  Value acc = afterChunks(kb, step0, chunks.getResult(0));
  SmallVector<Accumulator> parts(nTiles());
  for (int64_t nt = 0; nt < nTiles(); ++nt)
    for (int64_t i = 0; i < 4; ++i)
      parts[nt][i] = LLVM::ExtractValueOp::create(b, loc, acc, 4 * nt + i);
  RowState folded =
      fold(RowState::unflatten(tiles.getRegionIterArgs()), parts, tile);
  scf::YieldOp::create(b, loc, folded.flatten());
  b.setInsertionPointAfter(tiles);
  return RowState::unflatten(tiles.getResults());
}

void LinearCrossEntropyKernel::loadRows() {
  OpBuilder &b = kb.builder();
  Location loc = kb.location();
  // Thread rows: warp w owns tokens 16w .. 16w + 15 of the block's tile
  // under either MMA (a warpgroup's m64 tile is its four warps' rows).
  for (int64_t h = 0; h < 2; ++h) {
    Value row = kb.add(rowTile0, kb.add(kb.add(kb.mul(warp, 16),
                                               kb.div(lane, 4)),
                                        h * 8));
    rowValid[h] = kb.lt(row, s.tokens);
    rowToken[h] = kb.minI(row, s.tokens - 1);
    Value label = memref::LoadOp::create(b, loc, labels, ValueRange{rowToken[h]});
    rowLabel[h] = arith::IndexCastOp::create(b, loc, b.getIndexType(), label);
  }
}

RowState LinearCrossEntropyKernel::initialState() {
  RowState init;
  for (int64_t h = 0; h < 2; ++h) {
    init.max[h] = kb.negInf();
    init.sum[h] = init.total[h] = init.target[h] = kb.f32(0.0);
  }
  return init;
}

void LinearCrossEntropyKernel::writePartials(const RowState &st) {
  OpBuilder &b = kb.builder();
  Location loc = kb.location();
  for (int64_t h = 0; h < 2; ++h) {
    Value m = warpReduce(kb, st.max[h], 3, /*isMax=*/true);
    Value use = kb.safeMax(m);
    Value scaled = kb.mulF(
        st.sum[h], kb.exp2(kb.mulF(kb.subF(st.max[h], use), kb.f32(kLog2e))));
    std::array<Value, 4> values = {
        m, warpReduce(kb, scaled, 3, false),
        warpReduce(kb, st.total[h], 3, false),
        warpReduce(kb, st.target[h], 3, false)};
    kb.ifThen(kb.andI(rowValid[h], kb.eqI(kb.rem(lane, 4), 0)),
              [&](KernelBuilder &) {
                for (int64_t i = 0; i < 4; ++i)
                  memref::StoreOp::create(b, loc, values[i], partials[i],
                                          ValueRange{splitIndex, rowToken[h]});
              });
  }
}

void LinearCrossEntropyKernel::buildTma(Value tileFirst, Value tileEnd) {
  OpBuilder &b = kb.builder();
  Location loc = kb.location();
  int64_t stages = s.stages;
  int64_t computeThreads = threads();
  // Barriers: full[stage] (the producer's arrival with the step's bytes;
  // the copies complete it), then empty[stage] (one arrival per computing
  // thread once the wgmma group that read the stage has completed).
  Mbarriers bars = fullEmptyBarriers(kb, tid, stages, computeThreads);
  auto full = [](KernelBuilder &, Value stage) { return stage; };
  auto empty = [&](KernelBuilder &kb, Value stage) {
    return kb.add(stage, stages);
  };

  // Stage buffers of 128-byte swizzled rows from a 1024-byte aligned base:
  // the hidden chunks of every stage, then the weight chunks.
  int64_t rowBytes = 2 * s.blockD;
  int64_t hiddenStageBytes = s.blockM * rowBytes;
  int64_t weightStageBytes = s.blockN * rowBytes;
  int64_t hiddenBytes = stages * hiddenStageBytes;
  Value raw = kb.sharedBytes();
  Value base = kb.sharedAddress(raw);
  Value pad = kb.rem(kb.sub(kb.idx(1024), kb.rem(base, 1024)), 1024);
  Value steps = kb.mul(kb.sub(tileEnd, tileFirst), s.chunks());
  SmallVector<int64_t> hiddenBox = {s.blockM, s.blockD};
  SmallVector<int64_t> weightBox = {s.blockN, s.blockD};

  // Producer: one thread issues every copy (rows past the tokens or the
  // vocabulary read as zeros); the warpgroup keeps few registers.
  auto producer = [&](KernelBuilder &kb) {
    if (s.handOverRegisters)
      setMaxRegisters(kb, kProducerRegisters, /*increase=*/false);
    kb.ifThen(kb.eqI(tid, computeThreads), [&](KernelBuilder &kb) {
      Value hMap = tensorMapInKernel(kb, hiddenMap, hiddenBox, s.elementType);
      Value wMap = tensorMapInKernel(kb, weightMap, weightBox, s.elementType);
      prefetchTensorMap(kb, hMap);
      prefetchTensorMap(kb, wMap);
      auto loop = scf::ForOp::create(b, loc, kb.idx(0), steps, kb.idx(1));
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(loop.getBody());
      KernelBuilder lb(b, loc);
      Value step = loop.getInductionVar();
      Value stage = lb.rem(step, stages);
      // The previous round of this stage was released (a fresh barrier's
      // parity-1 phase counts as done).
      Value emptyParity = lb.rem(lb.add(lb.div(step, stages), 1), 2);
      bars.wait(lb, empty(lb, stage), emptyParity);
      Value fullIndex = full(lb, stage);
      bars.arriveExpectBytes(lb, fullIndex,
                             hiddenStageBytes + weightStageBytes);
      Value col = lb.mul(lb.rem(step, s.chunks()), s.blockD);
      Value vocabRow =
          lb.mul(lb.add(tileFirst, lb.div(step, s.chunks())), s.blockN);
      Value dstH = lb.sharedView(raw, hiddenBox, s.elementType,
                                 lb.add(pad, lb.mul(stage, hiddenStageBytes)));
      bars.load(lb, hMap, {col, rowTile0}, fullIndex, dstH);
      Value dstW = lb.sharedView(
          raw, weightBox, s.elementType,
          lb.add(pad, lb.add(lb.mul(stage, weightStageBytes), hiddenBytes)));
      bars.load(lb, wMap, {col, vocabRow}, fullIndex, dstW);
    });
  };

  // Consumers: per vocabulary tile, the chunks' wgmma groups with one in
  // flight; a stage is released once the group that read it completed.
  auto consumers = [&](KernelBuilder &kb) {
    if (s.handOverRegisters)
      setMaxRegisters(kb, kConsumerRegisters, /*increase=*/true);
    loadRows();
    Value addrH =
        kb.add(kb.add(base, pad), kb.mul(kb.div(warp, 4), 64 * rowBytes));
    Value addrW = kb.add(kb.add(base, pad), hiddenBytes);
    auto release = [&](KernelBuilder &kb, Value step) {
      bars.arrive(kb, empty(kb, kb.rem(step, stages)));
    };
    auto chunk = [&](KernelBuilder &kb, Value step, Value c, Value acc) {
      Value stage = kb.rem(step, stages);
      bars.wait(kb, full(kb, stage), kb.rem(kb.div(step, stages), 2),
                /*reconverge=*/true);
      Value stageA = kb.add(addrH, kb.mul(stage, hiddenStageBytes));
      Value stageB = kb.add(addrW, kb.mul(stage, weightStageBytes));
      acc = issueStep(stageA, stageB, acc);
      // The previous chunk's group has completed: its stage is free.
      wgmmaWait(kb, 1);
      kb.ifThen(kb.lt(kb.idx(0), c), [&](KernelBuilder &kb) {
        release(kb, kb.sub(step, kb.idx(1)));
      });
      return acc;
    };
    auto afterChunks = [&](KernelBuilder &kb, Value step0, Value acc) {
      wgmmaWait(kb, 0);
      acc = fenceAccumulator(kb, acc);
      release(kb, kb.add(step0, s.chunks() - 1));
      return acc;
    };
    writePartials(warpgroupTiles(tileFirst, tileEnd, initialState(), chunk,
                                 afterChunks));
  };
  kb.ifThenElse(kb.le(kb.idx(computeThreads), tid), producer, consumers);
}

void LinearCrossEntropyKernel::build() {
  tid = launch.getThreadIds().x;
  lane = kb.rem(tid, 32);
  warp = kb.div(tid, 32);
  rowTile0 = kb.mul(launch.getBlockIds().x, s.blockM);
  splitIndex = launch.getBlockIds().y;

  // This block's run of vocabulary tiles: split s takes tiles
  // [s T / S, (s + 1) T / S), which differ in length by at most one.
  Value tileFirst = kb.div(kb.mul(splitIndex, s.vocabTiles()), s.split);
  Value tileEnd =
      kb.div(kb.mul(kb.add(splitIndex, 1), s.vocabTiles()), s.split);

  if (s.tma) {
    buildTma(tileFirst, tileEnd);
    return;
  }
  loadRows();
  RowState init = initialState();
  RowState st = s.warpgroupMma ? mainLoopWarpgroup(tileFirst, tileEnd, init)
                               : mainLoopMmaSync(tileFirst, tileEnd, init);
  writePartials(st);
}

/// One thread per token merges the splits' (max, sum, total, target) into
/// the token's loss and LSE.
void buildCombine(OpBuilder &b, Location loc, const LinearCrossEntropySpec &s,
                  ArrayRef<Value> partials, Value labels, Value rowLoss,
                  Value lse) {
  int64_t threads = 256;
  buildLaunch(b, loc, {(s.tokens + threads - 1) / threads, 1, 1}, threads, 0,
              [&](gpu::LaunchOp launch, KernelBuilder &kb) {
  Value token = kb.add(kb.mul(launch.getBlockIds().x, threads),
                       launch.getThreadIds().x);
  kb.ifThen(kb.lt(token, s.tokens), [&](KernelBuilder &kb) {
    auto load = [&](int64_t which, int64_t split) -> Value {
      return memref::LoadOp::create(b, loc, partials[which],
                                    ValueRange{kb.idx(split), token});
    };
    Value m = kb.negInf();
    for (int64_t i = 0; i < s.split; ++i)
      m = kb.maxF(m, load(0, i));
    Value use = kb.safeMax(m);
    Value sum = kb.f32(0.0), total = kb.f32(0.0), target = kb.f32(0.0);
    for (int64_t i = 0; i < s.split; ++i) {
      sum = kb.addF(sum, kb.mulF(load(1, i),
                                 kb.exp2(kb.mulF(kb.subF(load(0, i), use),
                                                 kb.f32(kLog2e)))));
      total = kb.addF(total, load(2, i));
      target = kb.addF(target, load(3, i));
    }
    Value lseValue = kb.addF(use, kb.mulF(kb.log2(sum), kb.f32(kLn2)));
    Value loss = kb.subF(lseValue,
                         kb.mulF(kb.f32(1.0 - s.labelSmoothing), target));
    if (s.labelSmoothing != 0)
      loss = kb.subF(loss, kb.mulF(kb.f32(s.labelSmoothing / double(s.vocab)),
                                   total));
    if (s.zLoss != 0)
      loss = kb.addF(loss, kb.mulF(kb.f32(s.zLoss),
                                   kb.mulF(lseValue, lseValue)));
    Value label = memref::LoadOp::create(b, loc, labels, ValueRange{token});
    Value ignored = arith::CmpIOp::create(
        b, loc, arith::CmpIPredicate::eq, label,
        arith::ConstantIntOp::create(b, loc, label.getType(), s.ignoreIndex));
    memref::StoreOp::create(b, loc, kb.select(ignored, kb.f32(0.0), loss),
                            rowLoss, ValueRange{token});
    if (lse)
      memref::StoreOp::create(b, loc, lseValue, lse, ValueRange{token});
  });
  });
}

} // namespace

void mlir::attn::gpu_kernel::buildLinearCrossEntropy(
    OpBuilder &b, Location loc, const LinearCrossEntropyPlan &spec,
    Value hidden, Value weight, Value bias, Value labels, Value rowLoss,
    Value lse) {
  Type f32 = b.getF32Type();
  SmallVector<Value> partials;
  for (int64_t i = 0; i < 4; ++i)
    partials.push_back(memref::AllocOp::create(
        b, loc, MemRefType::get({spec.split, spec.tokens}, f32)));
  // The tma pipeline's tensor maps: block_d-column slabs of block_m hidden
  // rows and block_n weight rows.
  Value hiddenMap, weightMap;
  if (spec.tma) {
    hiddenMap = createTensorMap(b, loc, hidden, {spec.blockM, spec.blockD});
    weightMap = createTensorMap(b, loc, weight, {spec.blockN, spec.blockD});
  }
  buildLaunch(b, loc, spec.facts.grid, spec.facts.threads,
              spec.facts.sharedBytes,
              [&](gpu::LaunchOp launch, KernelBuilder &kb) {
                LinearCrossEntropyKernel(spec, launch, kb, hidden, weight, bias,
                                         labels, partials, hiddenMap,
                                         weightMap)
                    .build();
              });
  buildCombine(b, loc, spec, partials, labels, rowLoss, lse);
  for (Value p : partials)
    memref::DeallocOp::create(b, loc, p);
}
