//===- LinearCrossEntropyGradKernel.cpp - the CCE backward on mma.sync ----===//
//
// The linear_cross_entropy_grad kernels of attn-map-to-gpu. The logits are
// never held whole: a host loop walks the vocabulary in chunks of
// `chunk` classes (LinearCrossEntropyGradPlan), and per chunk c
//   1. grad-logits  G = dloss/dlogits of hidden W_c^T (recomputed on tensor
//                   cores from the saved LSE), into an N x chunk workspace;
//   2. grad-hidden  grad_hidden += G W_c, an f32 sum carried across chunks
//                   as grad_hidden itself plus a bf16 low-order workspace;
//   3. grad-weight  grad_weight[c rows] = G^T hidden;
//   4. grad-bias    grad_bias[c] = column sums of G (with a bias).
// The three products share one block-tile engine (`Product`): block_m x
// block_n f32 tiles, block_d-deep steps through a cp.async pipeline, each
// operand K-major or transposed in global memory, read by ldmatrix (.trans
// for the transposed ones) into mma.sync m16n8k16.
//
//===----------------------------------------------------------------------===//

#include "Kernels.h"
#include "../Builders/AsyncCopy.h"
#include "../Builders/KernelBuilder.h"
#include "../Builders/MmaSync.h"
#include "../Builders/Tma.h"
#include "../Builders/WarpOps.h"
#include "../Builders/Wgmma.h"

#include "attn/Dialect/Attn/Utils/LossGradElement.h"
#include "attn/Dialect/Attn/Utils/StaticShape.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <functional>

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::gpu_kernel;

namespace {

using Plan = LinearCrossEntropyGradPlan;

/// How one operand of a product lies in global memory (a 2-D memref).
/// Element (i, k), with i the operand's own output dim (m of A, n of B),
/// is mem[outer0 + i][k0 + k] when K-major, else mem[k0 + k][outer0 + i].
/// Elements at or past the limits read as 0. The contiguous dim's limit is
/// a multiple of 8 (16-byte copies). With the tma pipeline, `map` is the
/// operand's tensor map (a host value; the limits are then the memref's
/// extents, past which TMA fills zeros): K-major, boxes of block_d columns
/// by the operand's rows; else of 64 columns by block_d rows.
struct Operand {
  Value mem;
  bool kMajor;
  Value outer0;
  int64_t outerLimit;
  Value k0;
  int64_t kLimit;
  Value map = Value();
};

/// The tensor-map box of an operand of `rows` output rows (outermost
/// first), as Operand::map describes it.
SmallVector<int64_t> tmaBox(const LinearCrossEntropyGradPlan &p, bool kMajor,
                            int64_t rows) {
  return kMajor ? SmallVector<int64_t>{rows, p.blockD}
                : SmallVector<int64_t>{p.blockD, 64};
}

/// Stores `pair` (two 16-bit values) at mem[row][col], mem[row][col+1] in
/// one 4-byte access (col and the row length are even).
void storePair(OpBuilder &b, Location loc, std::array<Value, 2> pair,
               Value mem, Value row, Value col) {
  Value v = vector::FromElementsOp::create(
      b, loc, VectorType::get({2}, pair[0].getType()), ValueRange(pair));
  vector::StoreOp::create(b, loc, v, mem, ValueRange{row, col},
                          /*nontemporal=*/false, llvm::MaybeAlign(4));
}

/// Loads mem[row][col], mem[row][col+1] in one access, as f32.
std::array<Value, 2> loadPair(KernelBuilder &kb, Value mem, Value row,
                              Value col) {
  OpBuilder &b = kb.builder();
  Location loc = kb.location();
  Type et = cast<MemRefType>(mem.getType()).getElementType();
  Value v = vector::LoadOp::create(b, loc, VectorType::get({2}, et), mem,
                                   ValueRange{row, col}, /*nontemporal=*/false,
                                   llvm::MaybeAlign(4));
  return {kb.extF(vector::ExtractOp::create(b, loc, v, 0)),
          kb.extF(vector::ExtractOp::create(b, loc, v, 1))};
}

/// One block's block_m x block_n tile of A B over `depth` (K): on mma.sync,
/// warps laid out (warps / 2) x 2; on wgmma, a warpgroup per 64 rows (each
/// warp's accumulators are then 16 rows by block_n, as on mma.sync).
class Product {
public:
  /// Whether step `step` (block_d deep) has a nonzero operand tile; the
  /// steps it rejects are skipped (wgmma only; null: none is).
  using StepFilter = std::function<Value(KernelBuilder &, Value)>;
  /// What a block does with its accumulators (run by the computing warps).
  using Epilogue = function_ref<void(SmallVector<Accumulator> &)>;

  Product(const Plan &p, KernelBuilder &kb, Value tid, Operand a, Operand b,
          int64_t depth, StepFilter active = nullptr)
      : p(p), kb(kb), tid(tid), a(a), b(b), depth(depth), active(active) {
    lane = kb.rem(tid, 32);
    warp = kb.div(tid, 32);
    if (p.warpgroupMma) {
      warpRow0 = kb.mul(warp, 16);
      warpCol0 = kb.idx(0);
      return;
    }
    warpRow0 = kb.mul(kb.div(warp, Plan::warpsN()), warpRows());
    warpCol0 = kb.mul(kb.rem(warp, Plan::warpsN()), warpCols());
  }

  int64_t warpRows() const {
    return p.warpgroupMma ? 16 : p.blockM / p.warpsM();
  }
  int64_t warpCols() const {
    return p.warpgroupMma ? p.blockN : p.blockN / Plan::warpsN();
  }
  int64_t mTiles() const { return warpRows() / 16; }
  int64_t nTiles() const { return warpCols() / 8; }

  /// Computes the block's tile and hands the accumulators, [mt * nTiles +
  /// nt], to `epilogue`. With the tma pipeline only the computing warps run
  /// it (the producer warpgroup has left).
  void run(Epilogue epilogue);

  /// A barrier among the threads that run the epilogue.
  void syncComputing() {
    if (p.tma)
      namedBarrierSync(kb, kb.i32(kComputeBarrier), 32 * p.warps);
    else
      kb.barrier();
  }

  /// The tile row of accumulator rows mt, half (c[2 half + e]).
  Value row(int64_t mt, int64_t half) {
    return kb.add(warpRow0,
                  kb.add(kb.div(lane, 4), mt * 16 + half * 8));
  }
  /// The tile column of accumulator columns nt, e.
  Value col(int64_t nt, int64_t e) {
    return kb.add(warpCol0, kb.add(kb.mul(kb.rem(lane, 4), 2), nt * 8 + e));
  }

private:
  /// Shared rows x cols of one stage of an operand of `rows` output rows.
  std::pair<int64_t, int64_t> tileShape(const Operand &o, int64_t rows) {
    return o.kMajor ? std::make_pair(rows, p.blockD + kLdmatrixRowPad)
                    : std::make_pair(p.blockD, rows + kLdmatrixRowPad);
  }
  /// The named barrier of syncComputing (0 is the CTA's).
  static constexpr int64_t kComputeBarrier = 1;

  void load(const Operand &o, Value smem, int64_t rows, Value step,
            Value stage);
  void multiply(SmallVector<Accumulator> &acc, Value stage);
  SmallVector<Accumulator> runMmaSync();
  SmallVector<Accumulator> runWarpgroup();
  void runTma(Epilogue epilogue);
  /// One block_d-deep step of wgmmas on the stage buffers at shared
  /// addresses stageA and stageB (one group, fenced, not committed).
  Value multiplyStep(Value stageA, Value stageB, Value acc);
  /// The m64 x block_n accumulator struct as nTiles accumulators.
  SmallVector<Accumulator> unpack(Value acc);
  /// The tma producer's copies of operand `o` (`rows` output rows) at
  /// step `step` into the stage at shared byte offset `offset`.
  void loadTma(Mbarriers &bars, const Operand &o, Value map, int64_t rows,
               Value step, Value raw, Value offset, Value barrier);

  const Plan &p;
  KernelBuilder &kb;
  Value tid, lane, warp, warpRow0, warpCol0;
  Operand a, b;
  int64_t depth;
  StepFilter active;
  Value sA, sB;
};

void Product::load(const Operand &o, Value smem, int64_t rows, Value step,
                   Value stage) {
  Value kBase = kb.add(o.k0, kb.mul(step, p.blockD));
  // 16-byte chunks along the contiguous dim of the global tile.
  int64_t contiguous = o.kMajor ? p.blockD : rows;
  int64_t lines = o.kMajor ? rows : p.blockD;
  int64_t perLine = contiguous / 8;
  kb.forEachStrided(tid, lines * perLine, 32 * p.warps,
                    [&](KernelBuilder &kb, Value c) {
    Value line = kb.div(c, perLine);
    Value at = kb.mul(kb.rem(c, perLine), 8);
    Value outer = o.kMajor ? kb.add(o.outer0, line) : kb.add(o.outer0, at);
    Value k = o.kMajor ? kb.add(kBase, at) : kb.add(kBase, line);
    Value valid = kb.andI(kb.lt(outer, o.outerLimit), kb.lt(k, o.kLimit));
    Value n = kb.select(valid, kb.idx(8), kb.idx(0));
    SmallVector<Value> src =
        o.kMajor ? SmallVector<Value>{kb.minI(outer, o.outerLimit - 1),
                                      kb.minI(k, o.kLimit - 8)}
                 : SmallVector<Value>{kb.minI(k, o.kLimit - 1),
                                      kb.minI(outer, o.outerLimit - 8)};
    if (!p.warpgroupMma) {
      asyncCopy(kb, smem, {stage, line, at}, o.mem, src, 8, n);
      return;
    }
    // 128-byte-swizzled slabs of 64 contiguous elements: K-major, slabs of
    // block_d columns by `rows` rows; N/M-major, of `rows` columns by
    // block_d rows.
    Value chunk = kb.rem(c, perLine);
    Value dst = kb.add(kb.mul(stage, rows * p.blockD),
                       swizzledOffset(kb, line, chunk, lines));
    asyncCopy(kb, smem, {dst}, o.mem, src, 8, n);
  });
}

void Product::multiply(SmallVector<Accumulator> &acc, Value stage) {
  Type et = p.elementType;
  Value l8 = kb.rem(lane, 8), l16 = kb.div(lane, 16);
  Value mid = kb.rem(kb.div(lane, 8), 2);
  for (int64_t kt = 0; kt < p.blockD / 16; ++kt) {
    // A: K-major rows m at k0 / k0 + 8 (lanes 0-15 / 16-31); transposed,
    // k rows k0..k0+15 at m0 / m0 + 8 by .trans.
    SmallVector<Fragment> af;
    for (int64_t mt = 0; mt < mTiles(); ++mt) {
      Value m0 = kb.add(warpRow0, mt * 16);
      SmallVector<Value> r =
          a.kMajor
              ? loadMatrix(kb, sA,
                           {stage, kb.add(m0, kb.rem(lane, 16)),
                            kb.add(kb.mul(l16, 8), kt * 16)},
                           4, false, et)
              : loadMatrix(kb, sA,
                           {stage, kb.add(kb.add(l8, kb.mul(l16, 8)), kt * 16),
                            kb.add(m0, kb.mul(mid, 8))},
                           4, true, et);
      af.push_back({r[0], r[1], r[2], r[3]});
    }
    // B, two n8 tiles at a time: K-major rows n at k0 / k0 + 8; transposed,
    // k rows at n0 / n0 + 8 by .trans.
    for (int64_t np = 0; np < nTiles() / 2; ++np) {
      Value n0 = kb.add(warpCol0, np * 16);
      SmallVector<Value> r =
          b.kMajor
              ? loadMatrix(kb, sB,
                           {stage, kb.add(n0, kb.add(l8, kb.mul(l16, 8))),
                            kb.add(kb.mul(mid, 8), kt * 16)},
                           4, false, et)
              : loadMatrix(kb, sB,
                           {stage, kb.add(kb.add(l8, kb.mul(mid, 8)), kt * 16),
                            kb.add(n0, kb.mul(l16, 8))},
                           4, true, et);
      for (int64_t mt = 0; mt < mTiles(); ++mt) {
        Accumulator &c0 = acc[mt * nTiles() + 2 * np];
        Accumulator &c1 = acc[mt * nTiles() + 2 * np + 1];
        c0 = mmaSync(kb, af[mt], r[0], r[1], c0, et);
        c1 = mmaSync(kb, af[mt], r[2], r[3], c1, et);
      }
    }
  }
}

SmallVector<Accumulator> Product::runWarpgroup() {
  OpBuilder &builder = kb.builder();
  Location loc = kb.location();
  Type et = p.elementType;
  int64_t aStage = p.blockM * p.blockD, bStage = p.blockN * p.blockD;
  Value raw = kb.sharedBytes();
  Value base = kb.sharedAddress(raw);
  Value pad = kb.rem(kb.sub(kb.idx(1024), kb.rem(base, 1024)), 1024);
  sA = kb.sharedView(raw, {p.stages * aStage}, et, pad);
  sB = kb.sharedView(raw, {p.stages * bStage}, et,
                     kb.add(pad, 2 * p.stages * aStage));
  Value addrA = kb.add(base, pad);
  Value addrB = kb.add(addrA, 2 * p.stages * aStage);

  // Loads run stages - 2 steps ahead of the wgmma of a step and one wgmma
  // group stays in flight: the stage a load overwrites was read by the
  // group of two steps back, which every warpgroup waited for before the
  // barrier at the head of this step.
  int64_t ahead = p.stages - 2;
  int64_t total = (depth + p.blockD - 1) / p.blockD;
  Value steps = kb.idx(total);
  auto loadStep = [&](KernelBuilder &kb, Value step) {
    auto issue = [&](KernelBuilder &kb) {
      Value stage = kb.rem(step, p.stages);
      load(a, sA, p.blockM, step, stage);
      load(b, sB, p.blockN, step, stage);
    };
    if (active)
      kb.ifThen(active(kb, step), issue);
    else
      issue(kb);
  };
  for (int64_t s = 0; s < ahead; ++s) {
    kb.ifThen(kb.lt(kb.idx(s), steps),
              [&](KernelBuilder &kb) { loadStep(kb, kb.idx(s)); });
    asyncCommit(kb);
  }
  Type accType = warpgroupAccumulatorType(kb, p.blockN);
  Value zero = LLVM::ZeroOp::create(builder, loc, accType);
  auto loop = scf::ForOp::create(builder, loc, kb.idx(0), steps, kb.idx(1),
                                 ValueRange{zero});
  {
    OpBuilder::InsertionGuard guard(builder);
    builder.setInsertionPointToStart(loop.getBody());
    Value step = loop.getInductionVar();
    asyncWait(kb, ahead - 1);
    fenceProxyAsync(kb);
    kb.barrier();
    Value stage = kb.rem(step, p.stages);
    Value stageA = kb.add(addrA, kb.mul(stage, 2 * aStage));
    Value stageB = kb.add(addrB, kb.mul(stage, 2 * bStage));
    Value acc = loop.getRegionIterArgs()[0];
    if (active)
      acc = kb.ifElse(
          active(kb, step), {accType},
          [&](KernelBuilder &) {
            return SmallVector<Value>{multiplyStep(stageA, stageB, acc)};
          },
          [&](KernelBuilder &) { return SmallVector<Value>{acc}; })[0];
    else
      acc = multiplyStep(stageA, stageB, acc);
    wgmmaCommit(kb);
    wgmmaWait(kb, 1);
    Value next = kb.add(step, ahead);
    kb.ifThen(kb.lt(next, steps),
              [&](KernelBuilder &kb) { loadStep(kb, next); });
    asyncCommit(kb);
    scf::YieldOp::create(builder, loc, acc);
  }
  wgmmaWait(kb, 0);
  asyncWait(kb, 0);
  return unpack(loop.getResult(0));
}

Value Product::multiplyStep(Value stageA, Value stageB, Value acc) {
  Value group = kb.div(warp, 4);
  wgmmaFence(kb);
  for (int64_t kt = 0; kt < p.blockD / 16; ++kt) {
    // K-major: 16-element steps 32 bytes apart in the one 64-column slab
    // of K (a warpgroup's 64 rows 8 KB apart). M/N-major: 16 rows of 128
    // bytes per step, slabs of 64 columns block_d rows apart (a
    // warpgroup's 64 rows are one slab of A).
    Value descA =
        a.kMajor
            ? wgmmaDescriptor(kb, kb.add(kb.add(stageA, kb.mul(group, 8192)),
                                         32 * kt))
            : wgmmaDescriptor(
                  kb,
                  kb.add(kb.add(stageA, kb.mul(group, 128 * p.blockD)),
                         kt * 16 * 128),
                  /*leadingBytes=*/128 * p.blockD);
    Value descB =
        b.kMajor ? wgmmaDescriptor(kb, kb.add(stageB, 32 * kt))
                 : wgmmaDescriptor(kb, kb.add(stageB, kt * 16 * 128),
                                   /*leadingBytes=*/128 * p.blockD);
    acc = wgmma(kb, descA, descB, acc, p.blockN, p.elementType,
                /*transposeB=*/!b.kMajor, /*transposeA=*/!a.kMajor);
  }
  return acc;
}

SmallVector<Accumulator> Product::unpack(Value acc) {
  SmallVector<Accumulator> out(nTiles());
  for (int64_t nt = 0; nt < nTiles(); ++nt)
    for (int64_t i = 0; i < 4; ++i)
      out[nt][i] = LLVM::ExtractValueOp::create(kb.builder(), kb.location(),
                                                acc, 4 * nt + i);
  return out;
}

void Product::loadTma(Mbarriers &bars, const Operand &o, Value map,
                      int64_t rows, Value step, Value raw, Value offset,
                      Value barrier) {
  Value k = kb.add(o.k0, kb.mul(step, p.blockD));
  SmallVector<int64_t> box = tmaBox(p, o.kMajor, rows);
  if (o.kMajor) {
    // One box: the rows' block_d columns, a 128-byte swizzled slab.
    bars.load(kb, map, {k, o.outer0},
              barrier, kb.sharedView(raw, box, p.elementType, offset));
    return;
  }
  // A box per 64 of the rows (contiguous in memory): block_d rows of 128
  // bytes each, the slabs 128 x block_d bytes apart.
  for (int64_t j = 0; j < rows / 64; ++j)
    bars.load(kb, map, {kb.add(o.outer0, 64 * j), k}, barrier,
              kb.sharedView(raw, box, p.elementType,
                            kb.add(offset, j * 128 * p.blockD)));
}

void Product::runTma(Epilogue epilogue) {
  OpBuilder &builder = kb.builder();
  Location loc = kb.location();
  int64_t stages = p.stages;
  int64_t computeThreads = 32 * p.warps;
  // Barriers: full[stage] (the producer's arrival with the step's bytes;
  // the copies complete it), then empty[stage] (an arrival per computing
  // thread once the wgmma group that read the stage has completed).
  Mbarriers bars = fullEmptyBarriers(kb, tid, stages, computeThreads);
  auto empty = [&](KernelBuilder &kb, Value stage) {
    return kb.add(stage, stages);
  };

  // Stages of 128-byte swizzled rows from a 1024-byte aligned base: A's
  // stages, then B's.
  int64_t aStageBytes = 2 * p.blockM * p.blockD;
  int64_t bStageBytes = 2 * p.blockN * p.blockD;
  Value raw = kb.sharedBytes();
  Value base = kb.sharedAddress(raw);
  Value pad = kb.rem(kb.sub(kb.idx(1024), kb.rem(base, 1024)), 1024);
  Value bOffset = kb.add(pad, stages * aStageBytes);
  Value steps = kb.idx(ceilDiv(depth, p.blockD));
  Type i64 = builder.getIndexType();

  // A loop over the steps that counts the active ones (all without a
  // filter): the k-th active step uses stage k mod stages in round
  // k / stages. `body` runs for an active step with its count.
  auto activeSteps = [&](KernelBuilder &kb, ValueRange init,
                         function_ref<SmallVector<Value>(KernelBuilder &, Value,
                                                         Value, ValueRange)>
                             body) {
    SmallVector<Value> carried = {kb.idx(0)};
    carried.append(init.begin(), init.end());
    auto loop =
        scf::ForOp::create(builder, loc, kb.idx(0), steps, kb.idx(1), carried);
    OpBuilder::InsertionGuard guard(builder);
    builder.setInsertionPointToStart(loop.getBody());
    KernelBuilder lb(builder, loc);
    Value step = loop.getInductionVar();
    Value count = loop.getRegionIterArgs()[0];
    ValueRange state = loop.getRegionIterArgs().drop_front();
    auto run = [&](KernelBuilder &kb) {
      SmallVector<Value> next = {kb.add(count, 1)};
      llvm::append_range(next, body(kb, step, count, state));
      return next;
    };
    SmallVector<Value> next;
    if (active) {
      SmallVector<Type> types = {i64};
      for (Value v : state)
        types.push_back(v.getType());
      next = lb.ifElse(active(lb, step), types, run, [&](KernelBuilder &) {
        SmallVector<Value> same = {count};
        same.append(state.begin(), state.end());
        return same;
      });
    } else {
      next = run(lb);
    }
    scf::YieldOp::create(builder, loc, next);
    return loop.getResults();
  };

  // Producer: one thread issues every copy; the warpgroup keeps few
  // registers.
  auto producer = [&](KernelBuilder &kb) {
    if (p.handOverRegisters)
      setMaxRegisters(kb, kProducerRegisters, /*increase=*/false);
    kb.ifThen(kb.eqI(tid, computeThreads), [&](KernelBuilder &kb) {
      Value aMap = tensorMapInKernel(kb, a.map, tmaBox(p, a.kMajor, p.blockM),
                                     p.elementType);
      Value bMap = tensorMapInKernel(kb, b.map, tmaBox(p, b.kMajor, p.blockN),
                                     p.elementType);
      prefetchTensorMap(kb, aMap);
      prefetchTensorMap(kb, bMap);
      activeSteps(kb, {}, [&](KernelBuilder &kb, Value step, Value count,
                              ValueRange) {
        Value stage = kb.rem(count, stages);
        // The previous round of this stage was released (a fresh
        // barrier's parity-1 phase counts as done).
        bars.wait(kb, empty(kb, stage),
                  kb.rem(kb.add(kb.div(count, stages), 1), 2));
        bars.arriveExpectBytes(kb, stage, aStageBytes + bStageBytes);
        loadTma(bars, a, aMap, p.blockM, step, raw,
                kb.add(pad, kb.mul(stage, aStageBytes)), stage);
        loadTma(bars, b, bMap, p.blockN, step, raw,
                kb.add(bOffset, kb.mul(stage, bStageBytes)), stage);
        return SmallVector<Value>{};
      });
    });
  };

  // Computing warpgroups: a wgmma group per active step with one in
  // flight; a stage is released once the group that read it completed.
  auto consumers = [&](KernelBuilder &kb) {
    if (p.handOverRegisters)
      setMaxRegisters(kb, kConsumerRegisters, /*increase=*/true);
    Value addrA = kb.add(base, pad);
    Value addrB = kb.add(base, bOffset);
    Type accType = warpgroupAccumulatorType(kb, p.blockN);
    Value zero = LLVM::ZeroOp::create(builder, loc, accType);
    ValueRange out = activeSteps(
        kb, {zero},
        [&](KernelBuilder &kb, Value, Value count, ValueRange state) {
          Value stage = kb.rem(count, stages);
          bars.wait(kb, stage, kb.rem(kb.div(count, stages), 2),
                    /*reconverge=*/true);
          Value acc = multiplyStep(kb.add(addrA, kb.mul(stage, aStageBytes)),
                                   kb.add(addrB, kb.mul(stage, bStageBytes)),
                                   state[0]);
          wgmmaCommit(kb);
          // The previous active step's group has completed: its stage is
          // free.
          wgmmaWait(kb, 1);
          kb.ifThen(kb.lt(kb.idx(0), count), [&](KernelBuilder &kb) {
            bars.arrive(kb, empty(kb, kb.rem(kb.sub(count, kb.idx(1)), stages)));
          });
          return SmallVector<Value>{acc};
        });
    wgmmaWait(kb, 0);
    SmallVector<Accumulator> acc =
        unpack(fenceAccumulator(kb, out[1]));
    epilogue(acc);
  };
  kb.ifThenElse(kb.le(kb.idx(computeThreads), tid), producer, consumers);
}

void Product::run(Epilogue epilogue) {
  if (p.tma)
    return runTma(epilogue);
  SmallVector<Accumulator> acc =
      p.warpgroupMma ? runWarpgroup() : runMmaSync();
  epilogue(acc);
}

SmallVector<Accumulator> Product::runMmaSync() {
  OpBuilder &builder = kb.builder();
  Location loc = kb.location();
  auto [aRows, aCols] = tileShape(a, p.blockM);
  auto [bRows, bCols] = tileShape(b, p.blockN);
  // The plan sizes each operand's region for the larger of its layouts.
  int64_t aRegion =
      2 * p.stages *
      std::max(p.blockM * (p.blockD + kLdmatrixRowPad),
               p.blockD * (p.blockM + kLdmatrixRowPad));
  sA = kb.sharedView({p.stages, aRows, aCols}, p.elementType, 0);
  sB = kb.sharedView({p.stages, bRows, bCols}, p.elementType, aRegion);

  Value steps = kb.idx((depth + p.blockD - 1) / p.blockD);
  auto loadStep = [&](KernelBuilder &, Value step, Value stage) {
    load(a, sA, p.blockM, step, stage);
    load(b, sB, p.blockN, step, stage);
  };
  CpAsyncPipeline(kb, p.stages).prologue(steps, loadStep);

  int64_t tiles = mTiles() * nTiles();
  SmallVector<Value> init;
  for (int64_t i = 0; i < tiles; ++i) {
    Accumulator z = zeroAccumulator(kb);
    init.append(z.begin(), z.end());
  }
  auto loop =
      scf::ForOp::create(builder, loc, kb.idx(0), steps, kb.idx(1), init);
  {
    OpBuilder::InsertionGuard guard(builder);
    builder.setInsertionPointToStart(loop.getBody());
    Value it = loop.getInductionVar();
    Value stage = CpAsyncPipeline(kb, p.stages).step(it, steps, loadStep);
    ValueRange args = loop.getRegionIterArgs();
    SmallVector<Accumulator> acc;
    for (int64_t i = 0; i < tiles; ++i)
      acc.push_back({args[4 * i], args[4 * i + 1], args[4 * i + 2],
                     args[4 * i + 3]});
    multiply(acc, stage);
    SmallVector<Value> next;
    for (const Accumulator &c : acc)
      next.append(c.begin(), c.end());
    scf::YieldOp::create(builder, loc, next);
  }
  asyncWait(kb, 0);
  SmallVector<Accumulator> out;
  ValueRange r = loop.getResults();
  for (int64_t i = 0; i < tiles; ++i)
    out.push_back({r[4 * i], r[4 * i + 1], r[4 * i + 2], r[4 * i + 3]});
  return out;
}

/// The four launches of one chunk, built inside the host loop over chunks.
struct ChunkKernels {
  const Plan &p;
  Value hidden, weight, bias, labels, lse, upstream;
  Value gradHidden, gradWeight, gradBias;
  /// N x chunk logit gradients; the low-order half of grad_hidden's sum
  /// (null when one chunk covers V); with tile skipping, a nonzero flag
  /// per grad-logits tile [row tiles, chunk / block_n] (else null).
  Value work, low, flags;
  /// With the tma pipeline, the products' tensor maps (host values, else
  /// null): hidden and weight K-major (grad-logits), the workspace
  /// K-major and weight N-major (grad-hidden), the workspace M-major and
  /// hidden N-major (grad-weight); see Operand::map.
  struct {
    Value hiddenK, weightK, workK, weightN, workM, hiddenN;
  } maps;

  /// Whether grad-logits tile (row tile, column tile) has a nonzero.
  Value tileActive(KernelBuilder &kb, Value rowTile, Value colTile) {
    Value f = memref::LoadOp::create(kb.builder(), kb.location(), flags,
                                     ValueRange{rowTile, colTile});
    return arith::CmpIOp::create(kb.builder(), kb.location(),
                                 arith::CmpIPredicate::ne, f, kb.i32(0));
  }

  void gradLogits(OpBuilder &b, Location loc, Value c);
  void gradHiddenStep(OpBuilder &b, Location loc, Value c);
  void gradWeightRows(OpBuilder &b, Location loc, Value c);
  void gradBiasColumns(OpBuilder &b, Location loc, Value c);
};

void ChunkKernels::gradLogits(OpBuilder &b, Location loc, Value c) {
  buildLaunch(b, loc, p.facts.grid, p.facts.threads, p.sharedBytes(),
              [&](gpu::LaunchOp launch, KernelBuilder &kb) {
    Value tid = launch.getThreadIds().x;
    Value row0 = kb.mul(launch.getBlockIds().x, p.blockM);
    Value col0 = kb.mul(launch.getBlockIds().y, p.blockN);
    Value class0 = kb.add(kb.mul(c, p.chunk), col0);
    Product prod(p, kb, tid,
                 {hidden, true, row0, p.tokens, kb.idx(0), p.hidden,
                  maps.hiddenK},
                 {weight, true, class0, p.vocab, kb.idx(0), p.hidden,
                  maps.weightK},
                 p.hidden);
    prod.run([&](SmallVector<Accumulator> &acc) {
    Type labelType = cast<MemRefType>(labels.getType()).getElementType();
    LossGradSpec spec{p.ignoreIndex, p.labelSmoothing, p.zLoss, p.softcap,
                      p.labelSmoothing != 0
                          ? kb.f32(p.labelSmoothing / double(p.vocab))
                          : Value(),
                      p.filter};
    // Row by row, a column pair at a time (only a pair's class indices and
    // bias are live beside the accumulators): the gradient of each logit,
    // 0 past V, stored as one 4-byte pair.
    Value nonzero = kb.i1(false);
    for (int64_t mt = 0; mt < prod.mTiles(); ++mt)
      for (int64_t half = 0; half < 2; ++half) {
        Value token = kb.add(row0, prod.row(mt, half));
        Value at = kb.minI(token, p.tokens - 1);
        Value label = memref::LoadOp::create(b, loc, labels, ValueRange{at});
        Value rowLse = memref::LoadOp::create(b, loc, lse, ValueRange{at});
        Value up = p.reduction == Reduction::none
                       ? memref::LoadOp::create(b, loc, upstream,
                                                ValueRange{at})
                       : memref::LoadOp::create(b, loc, upstream,
                                                ValueRange{});
        Value rowValid = kb.lt(token, p.tokens);
        Value zeroF = kb.f32(0.0);
        for (int64_t nt = 0; nt < prod.nTiles(); ++nt) {
          std::array<Value, 2> grads;
          for (int64_t e = 0; e < 2; ++e) {
            Value v = kb.add(class0, prod.col(nt, e));
            Value logit = acc[mt * prod.nTiles() + nt][2 * half + e];
            if (bias)
              logit = kb.addF(logit, kb.extF(memref::LoadOp::create(
                                         b, loc, bias,
                                         ValueRange{kb.minI(v, p.vocab - 1)})));
            Value g = buildLossGradElement(
                b, loc, spec, logit, label,
                arith::IndexCastOp::create(b, loc, labelType, v), rowLse, up);
            g = kb.select(kb.lt(v, p.vocab), g, zeroF);
            if (flags)
              nonzero = kb.orI(
                  nonzero,
                  kb.andI(rowValid, kb.cmpF(arith::CmpFPredicate::UNE, g,
                                            zeroF)));
            grads[e] = kb.truncF(g, p.elementType);
          }
          kb.ifThen(rowValid, [&](KernelBuilder &kb) {
            storePair(b, loc, grads, work, token,
                      kb.add(col0, prod.col(nt, 0)));
          });
        }
      }
    if (!flags)
      return;
    // The tile's flag: any thread's nonzero, through a shared word after
    // the operand stages.
    Value slot = kb.sharedView({1}, b.getI32Type(), p.sharedBytes() - 16);
    Value zeroIdx = kb.idx(0);
    Value first = kb.eqI(tid, 0);
    prod.syncComputing();
    kb.ifThen(first, [&](KernelBuilder &kb) {
      memref::StoreOp::create(b, loc, kb.i32(0), slot, ValueRange{zeroIdx});
    });
    prod.syncComputing();
    kb.ifThen(nonzero, [&](KernelBuilder &kb) {
      memref::StoreOp::create(b, loc, kb.i32(1), slot, ValueRange{zeroIdx});
    });
    prod.syncComputing();
    kb.ifThen(first, [&](KernelBuilder &kb) {
      memref::StoreOp::create(
          b, loc, memref::LoadOp::create(b, loc, slot, ValueRange{zeroIdx}),
          flags, ValueRange{launch.getBlockIds().x, launch.getBlockIds().y});
    });
    });
  });
}

void ChunkKernels::gradHiddenStep(OpBuilder &b, Location loc, Value c) {
  std::array<int64_t, 3> grid = {ceilDiv(p.tokens, p.blockM),
                                 ceilDiv(p.hidden, p.blockN), 1};
  buildLaunch(b, loc, grid, p.facts.threads, p.sharedBytes(),
              [&](gpu::LaunchOp launch, KernelBuilder &kb) {
    Value tid = launch.getThreadIds().x;
    Value row0 = kb.mul(launch.getBlockIds().x, p.blockM);
    Value col0 = kb.mul(launch.getBlockIds().y, p.blockN);
    // With tile skipping, step s reads classes [s block_d, (s + 1)
    // block_d) of this block's rows: one grad-logits tile's.
    Value rowTile = launch.getBlockIds().x;
    Product::StepFilter active;
    if (flags)
      active = [&](KernelBuilder &kb, Value step) {
        return tileActive(kb, rowTile,
                          kb.div(kb.mul(step, p.blockD), p.blockN));
      };
    Product prod(p, kb, tid,
                 {work, true, row0, p.tokens, kb.idx(0), p.chunk, maps.workK},
                 {weight, false, col0, p.hidden, kb.mul(c, p.chunk), p.vocab,
                  maps.weightN},
                 p.chunk, active);
    prod.run([&](SmallVector<Accumulator> &acc) {
    Value first = kb.eqI(c, 0);
    Value notLast = kb.xorI(kb.eqI(c, p.chunks() - 1), kb.i1(true));
    Type bf16 = b.getBF16Type();
    for (int64_t mt = 0; mt < prod.mTiles(); ++mt)
      for (int64_t half = 0; half < 2; ++half)
        for (int64_t nt = 0; nt < prod.nTiles(); ++nt) {
          Value token = kb.add(row0, prod.row(mt, half));
          Value d = kb.add(col0, prod.col(nt, 0));
          const Accumulator &x = acc[mt * prod.nTiles() + nt];
          std::array<Value, 2> xs = {x[2 * half], x[2 * half + 1]};
          kb.ifThen(kb.andI(kb.lt(token, p.tokens), kb.lt(d, p.hidden)),
                    [&](KernelBuilder &kb) {
            if (!low) {
              storePair(b, loc,
                        {kb.truncF(xs[0], p.elementType),
                         kb.truncF(xs[1], p.elementType)},
                        gradHidden, token, d);
              return;
            }
            // The running f32 sum is grad_hidden + low (both 16-bit).
            Type f32 = b.getF32Type();
            SmallVector<Value> sum = kb.ifElse(
                first, {f32, f32},
                [&](KernelBuilder &) {
                  return SmallVector<Value>{xs[0], xs[1]};
                },
                [&](KernelBuilder &kb) {
                  std::array<Value, 2> hi = loadPair(kb, gradHidden, token, d);
                  std::array<Value, 2> lo = loadPair(kb, low, token, d);
                  return SmallVector<Value>{
                      kb.addF(kb.addF(hi[0], lo[0]), xs[0]),
                      kb.addF(kb.addF(hi[1], lo[1]), xs[1])};
                });
            std::array<Value, 2> hi = {kb.truncF(sum[0], p.elementType),
                                       kb.truncF(sum[1], p.elementType)};
            storePair(b, loc, hi, gradHidden, token, d);
            kb.ifThen(notLast, [&](KernelBuilder &kb) {
              storePair(b, loc,
                        {kb.truncF(kb.subF(sum[0], kb.extF(hi[0])), bf16),
                         kb.truncF(kb.subF(sum[1], kb.extF(hi[1])), bf16)},
                        low, token, d);
            });
          });
        }
    });
  });
}

void ChunkKernels::gradWeightRows(OpBuilder &b, Location loc, Value c) {
  std::array<int64_t, 3> grid = {p.chunk / p.blockM,
                                 ceilDiv(p.hidden, p.blockN), 1};
  buildLaunch(b, loc, grid, p.facts.threads, p.sharedBytes(),
              [&](gpu::LaunchOp launch, KernelBuilder &kb) {
    Value tid = launch.getThreadIds().x;
    Value row0 = kb.mul(launch.getBlockIds().x, p.blockM);
    Value col0 = kb.mul(launch.getBlockIds().y, p.blockN);
    // With tile skipping, step s reads tokens [s block_d, (s + 1) block_d)
    // of this block's block_m classes: one grad-logits tile's.
    Value colTile = kb.div(row0, p.blockN);
    Product::StepFilter active;
    if (flags)
      active = [&](KernelBuilder &kb, Value step) {
        return tileActive(kb, kb.div(kb.mul(step, p.blockD), p.blockM),
                          colTile);
      };
    Product prod(p, kb, tid,
                 {work, false, row0, p.chunk, kb.idx(0), p.tokens, maps.workM},
                 {hidden, false, col0, p.hidden, kb.idx(0), p.tokens,
                  maps.hiddenN},
                 p.tokens, active);
    prod.run([&](SmallVector<Accumulator> &acc) {
    Value class0 = kb.add(kb.mul(c, p.chunk), row0);
    for (int64_t mt = 0; mt < prod.mTiles(); ++mt)
      for (int64_t half = 0; half < 2; ++half)
        for (int64_t nt = 0; nt < prod.nTiles(); ++nt) {
          Value v = kb.add(class0, prod.row(mt, half));
          Value d = kb.add(col0, prod.col(nt, 0));
          const Accumulator &x = acc[mt * prod.nTiles() + nt];
          kb.ifThen(kb.andI(kb.lt(v, p.vocab), kb.lt(d, p.hidden)),
                    [&](KernelBuilder &kb) {
            storePair(b, loc,
                      {kb.truncF(x[2 * half], p.elementType),
                       kb.truncF(x[2 * half + 1], p.elementType)},
                      gradWeight, v, d);
          });
        }
    });
  });
}

void ChunkKernels::gradBiasColumns(OpBuilder &b, Location loc, Value c) {
  // A thread per class sums its column of G over the tokens, four partial
  // sums in flight.
  constexpr int64_t threads = 256, unroll = 4;
  buildLaunch(b, loc, {ceilDiv(p.chunk, threads), 1, 1}, threads, 0,
              [&](gpu::LaunchOp launch, KernelBuilder &kb) {
    Value j = kb.add(kb.mul(launch.getBlockIds().x, threads),
                     launch.getThreadIds().x);
    Value v = kb.add(kb.mul(c, p.chunk), j);
    kb.ifThen(kb.andI(kb.lt(j, p.chunk), kb.lt(v, p.vocab)),
              [&](KernelBuilder &kb) {
      int64_t whole = p.tokens / unroll * unroll;
      SmallVector<Value> init(unroll, kb.f32(0.0));
      auto loop = scf::ForOp::create(b, loc, kb.idx(0), kb.idx(whole),
                                     kb.idx(unroll), init);
      {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(loop.getBody());
        SmallVector<Value> next;
        for (int64_t u = 0; u < unroll; ++u) {
          Value n = kb.add(loop.getInductionVar(), u);
          next.push_back(kb.addF(
              loop.getRegionIterArgs()[u],
              kb.extF(memref::LoadOp::create(b, loc, work, ValueRange{n, j}))));
        }
        scf::YieldOp::create(b, loc, next);
      }
      Value sum = kb.addF(kb.addF(loop.getResult(0), loop.getResult(1)),
                          kb.addF(loop.getResult(2), loop.getResult(3)));
      for (int64_t n = whole; n < p.tokens; ++n)
        sum = kb.addF(sum, kb.extF(memref::LoadOp::create(
                               b, loc, work, ValueRange{kb.idx(n), j})));
      memref::StoreOp::create(b, loc, kb.truncF(sum, p.elementType), gradBias,
                              ValueRange{v});
    });
  });
}

} // namespace

void mlir::attn::gpu_kernel::buildLinearCrossEntropyGrad(
    OpBuilder &b, Location loc, const LinearCrossEntropyGradPlan &plan,
    Value hidden, Value weight, Value bias, Value labels, Value lse,
    Value upstream, Value gradHidden, Value gradWeight, Value gradBias) {
  ChunkKernels k{plan,       hidden,     weight,   bias,
                 labels,     lse,        upstream, gradHidden,
                 gradWeight, gradBias,   Value(),  Value(),
                 Value(),    {}};
  k.work = memref::AllocOp::create(
      b, loc, MemRefType::get({plan.tokens, plan.chunk}, plan.elementType));
  if (plan.tma) {
    auto map = [&](Value tensor, bool kMajor, int64_t rows) {
      return createTensorMap(b, loc, tensor, tmaBox(plan, kMajor, rows));
    };
    k.maps = {map(hidden, true, plan.blockM), map(weight, true, plan.blockN),
              map(k.work, true, plan.blockM), map(weight, false, 0),
              map(k.work, false, 0),          map(hidden, false, 0)};
  }
  if (plan.skipTiles)
    k.flags = memref::AllocOp::create(
        b, loc,
        MemRefType::get({ceilDiv(plan.tokens, plan.blockM),
                         plan.chunk / plan.blockN},
                        b.getI32Type()));
  if (plan.chunks() > 1)
    k.low = memref::AllocOp::create(
        b, loc, MemRefType::get({plan.tokens, plan.hidden}, b.getBF16Type()));
  auto chunks = scf::ForOp::create(
      b, loc, arith::ConstantIndexOp::create(b, loc, 0),
      arith::ConstantIndexOp::create(b, loc, plan.chunks()),
      arith::ConstantIndexOp::create(b, loc, 1));
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(chunks.getBody());
    Value c = chunks.getInductionVar();
    k.gradLogits(b, loc, c);
    k.gradHiddenStep(b, loc, c);
    k.gradWeightRows(b, loc, c);
    if (bias)
      k.gradBiasColumns(b, loc, c);
  }
  memref::DeallocOp::create(b, loc, k.work);
  if (k.low)
    memref::DeallocOp::create(b, loc, k.low);
  if (k.flags)
    memref::DeallocOp::create(b, loc, k.flags);
}
