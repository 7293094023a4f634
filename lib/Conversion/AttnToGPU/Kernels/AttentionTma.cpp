//===- AttentionTma.cpp - the warp-specialized attention key loop ---------===//
//
// The "tma" pipeline on sm_90a (FlashAttention-3's producer/consumer
// split): the block's last warpgroup is a producer that gives up registers
// (setmaxnreg) and whose first thread streams every K and V tile of the
// block into `stages` shared buffers with TMA copies of 64-column slabs;
// the other warpgroups raise their registers and run the warpgroup-MMA key
// loop (AttentionWgmma.cpp). Four mbarriers per stage replace the CTA-wide
// barrier of the cp.async loop:
//   full K / full V: the producer's arrival with the tile's byte count; the
//     copies complete the phase;
//   empty K / empty V: one arrival per computing thread once its
//     warpgroup's QK^T (for K) or PV (for V) of the stage's tile has landed.
// K and V are released separately, so that with two stages the producer
// refills K while the PV of the previous tile still reads V. With
// "tma_pingpong" the two computing warpgroups also take turns issuing
// their MMAs (named barriers 1 and 2).
//
//===----------------------------------------------------------------------===//

#include "AttentionKernel.h"

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::gpu_kernel;
using namespace mlir::attn::gpu_kernel::attention;

namespace {
/// The four mbarriers of each stage.
enum class Barrier { FullKeys = 0, FullValues, EmptyKeys, EmptyValues };
} // namespace

void AttentionKernel::buildTmaLoop(Value tileFirst, Value numTiles) {
  int64_t stages = s.stages;
  int64_t computeThreads = threads();
  Mbarriers bars(kb, 4 * stages);
  auto barrier = [&](KernelBuilder &kb, Barrier which, Value stage) {
    return kb.add(stage, static_cast<int64_t>(which) * stages);
  };
  // Tile j sits in stage j % stages; its fill is phase j / stages.
  auto stageOf = [&](KernelBuilder &kb, Value j) { return kb.rem(j, stages); };
  auto roundParity = [&](KernelBuilder &kb, Value j) {
    return kb.rem(kb.div(j, stages), 2);
  };

  kb.ifThen(kb.eqI(tid, 0), [&](KernelBuilder &kb) {
    for (int64_t st = 0; st < stages; ++st) {
      bars.init(kb, kb.idx(st), 1);
      bars.init(kb, kb.idx(stages + st), 1);
      bars.init(kb, kb.idx(2 * stages + st), computeThreads);
      bars.init(kb, kb.idx(3 * stages + st), computeThreads);
    }
    bars.fenceInit(kb);
  });
  // The computing warps load their Q rows (cp.async, GQA row packing).
  kb.ifThen(kb.lt(tid, kb.idx(computeThreads)), [&](KernelBuilder &kb) {
    loadQueryTile();
    asyncCommit(kb);
    asyncWait(kb, 0);
    fenceProxyAsync(kb);
  });
  // The barriers' initialization and Q are visible to every warp; no
  // CTA-wide barrier follows.
  kb.barrier();

  bool handOver = s.handOverRegisters;
  SmallVector<int64_t> box = keyValueBox();
  int64_t slabs = s.headDim / 64;
  int64_t tileBytes = 2 * s.blockN * s.headDim;
  // Producer: one thread issues every copy; the warpgroup keeps few
  // registers. An if/else, so that nothing the consumers use stays live
  // through the producer's part.
  auto producer = [&](KernelBuilder &kb) {
    if (handOver)
      setMaxRegisters(kb, kProducerRegisters,
                      /*increase=*/false);
    kb.ifThen(kb.eqI(tid, computeThreads), [&](KernelBuilder &kb) {
      Value kMap = tensorMapInKernel(kb, keyMap, box, s.elementType);
      Value vMap = tensorMapInKernel(kb, valueMap, box, s.elementType);
      prefetchTensorMap(kb, kMap);
      prefetchTensorMap(kb, vMap);
      OpBuilder &b = kb.builder();
      Location loc = kb.location();
      auto loop = scf::ForOp::create(b, loc, kb.idx(0), numTiles, kb.idx(1));
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(loop.getBody());
      KernelBuilder lb(b, loc);
      Value j = loop.getInductionVar();
      Value stage = stageOf(lb, j);
      // The previous round of this stage was released (a fresh barrier's
      // parity-1 phase counts as done).
      Value emptyParity = lb.rem(lb.add(lb.div(j, stages), 1), 2);
      Value key0 = lb.mul(lb.add(tileFirst, j), s.blockN);
      auto copy = [&](Value map, Barrier full, Barrier empty,
                      int64_t baseBytes) {
        bars.wait(lb, barrier(lb, empty, stage), emptyParity);
        Value fullIndex = barrier(lb, full, stage);
        bars.arriveExpectBytes(lb, fullIndex, tileBytes);
        Value stageBytes =
            lb.add(smemPad, lb.add(lb.mul(stage, tileBytes), baseBytes));
        for (int64_t slab = 0; slab < slabs; ++slab) {
          Value dst = lb.sharedView(smemRaw, box, s.elementType,
                                    lb.add(stageBytes, slab * 128 * s.blockN));
          bars.load(lb, map, {lb.idx(64 * slab), key0, kvHead, batch},
                    fullIndex, dst);
        }
      };
      int64_t qBytes = 2 * s.blockM * s.headDim;
      copy(kMap, Barrier::FullKeys, Barrier::EmptyKeys, qBytes);
      copy(vMap, Barrier::FullValues, Barrier::EmptyValues,
           qBytes + stages * tileBytes);
    });
  };

  auto consumers = [&](KernelBuilder &kb) {
    if (handOver)
      setMaxRegisters(kb, kConsumerRegisters,
                      /*increase=*/true);
    auto waitFull = [&](KernelBuilder &kb, Barrier which, Value j) {
      bars.wait(kb, barrier(kb, which, stageOf(kb, j)), roundParity(kb, j),
                /*reconverge=*/true);
    };
    // Every computing thread arrives after its warpgroup's wgmma wait (an
    // arrival releases the arriving thread's own accesses only).
    auto release = [&](KernelBuilder &kb, Barrier which, Value j) {
      bars.arrive(kb, barrier(kb, which, stageOf(kb, j)));
    };
    auto firstKeys = [&](KernelBuilder &kb) {
      waitFull(kb, Barrier::FullKeys, kb.idx(0));
    };
    auto nextKeys = [&](KernelBuilder &kb, Value j) {
      waitFull(kb, Barrier::FullKeys, j);
    };
    auto keysDone = [&](KernelBuilder &kb, Value t) {
      release(kb, Barrier::EmptyKeys, t);
    };
    auto valuesReady = [&](KernelBuilder &kb, Value t) {
      waitFull(kb, Barrier::FullValues, t);
    };
    auto valuesDone = [&](KernelBuilder &kb, Value t) {
      release(kb, Barrier::EmptyValues, t);
    };
    WarpgroupLoopHooks hooks;
    hooks.firstKeys = firstKeys;
    hooks.nextKeys = nextKeys;
    hooks.keysDone = keysDone;
    hooks.valuesReady = valuesReady;
    hooks.valuesDone = valuesDone;

    // Ping-pong: warpgroup w issues a step's MMAs once named barrier 1 + w
    // has the other's arrival, and then arrives at the other's barrier, so
    // that the two alternate at the tensor cores and each one's softmax
    // runs under the other's GEMMs. Warpgroup 1 arrives first, to let 0
    // begin; both run the same tiles, so warpgroup 0 takes the arrival of
    // warpgroup 1's last step at the end and no barrier is left
    // half-arrived at exit. The ids are selected, not branched on.
    Value second = kb.le(kb.idx(128), tid);
    Value mine = kb.select(second, kb.i32(2), kb.i32(1));
    Value other = kb.select(second, kb.i32(1), kb.i32(2));
    auto start = [&](KernelBuilder &kb) {
      kb.ifThen(second, [&](KernelBuilder &kb) {
        namedBarrierArrive(kb, kb.i32(1), 256);
      });
    };
    auto beforeMmas = [&](KernelBuilder &kb) {
      namedBarrierSync(kb, mine, 256);
    };
    auto afterMmas = [&](KernelBuilder &kb) {
      namedBarrierArrive(kb, other, 256);
    };
    auto finish = [&](KernelBuilder &kb) {
      kb.ifThen(kb.lt(tid, kb.idx(128)), [&](KernelBuilder &kb) {
        namedBarrierSync(kb, kb.i32(1), 256);
      });
    };
    if (s.pingPong) {
      hooks.start = start;
      hooks.beforeMmas = beforeMmas;
      hooks.afterMmas = afterMmas;
      hooks.finish = finish;
    }
    writeResults(warpgroupKeyLoop(tileFirst, numTiles, hooks));
  };
  kb.ifThenElse(kb.le(kb.idx(computeThreads), tid), producer, consumers);
}
