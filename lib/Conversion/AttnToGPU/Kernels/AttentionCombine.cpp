//===- AttentionCombine.cpp - the split-KV combine kernel -----------------===//

#include "AttentionKernel.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::gpu_kernel;
using namespace mlir::attn::gpu_kernel::attention;

void mlir::attn::gpu_kernel::attention::buildCombine(
    OpBuilder &b, Location loc, const AttentionPlan &s, Value partialOut,
    Value partialLse, Value out, Value lse) {
  int64_t total = s.batch * s.qHeads * s.queries * s.headDim;
  int64_t threads = 256;
  buildLaunch(b, loc, {(total + threads - 1) / threads, 1, 1}, threads, 0,
              [&](gpu::LaunchOp launch, KernelBuilder &kb) {
  Value linear = kb.add(kb.mul(launch.getBlockIds().x, threads),
                        launch.getThreadIds().x);
  kb.ifThen(kb.lt(linear, total), [&](KernelBuilder &kb) {
    Value d = kb.rem(linear, s.headDim);
    Value row = kb.div(linear, s.headDim);
    Value query = kb.rem(row, s.queries);
    Value head = kb.rem(kb.div(row, s.queries), s.qHeads);
    Value batch = kb.div(row, s.queries * s.qHeads);
    SmallVector<Value> lses;
    Value m = kb.negInf();
    for (int64_t i = 0; i < s.split; ++i) {
      lses.push_back(memref::LoadOp::create(
          b, loc, partialLse, ValueRange{kb.idx(i), batch, head, query}));
      m = kb.maxF(m, lses.back());
    }
    Value empty = kb.cmpF(arith::CmpFPredicate::OEQ, m, kb.negInf());
    Value mUse = kb.safeMax(m);
    Value weightSum = kb.f32(0.0), acc = kb.f32(0.0);
    for (int64_t i = 0; i < s.split; ++i) {
      Value w = kb.exp2(kb.mulF(kb.subF(lses[i], mUse), kb.f32(kLog2e)));
      Value o = memref::LoadOp::create(
          b, loc, partialOut, ValueRange{kb.idx(i), batch, head, query, d});
      weightSum = kb.addF(weightSum, w);
      acc = kb.addF(acc, kb.mulF(w, o));
    }
    Value result = kb.select(empty, kb.f32(0.0), kb.divF(acc, weightSum));
    memref::StoreOp::create(b, loc, kb.truncF(result, s.elementType), out,
                            ValueRange{batch, head, query, d});
    if (lse)
      kb.ifThen(kb.eqI(d, 0), [&](KernelBuilder &kb) {
        Value total = kb.select(
            empty, kb.negInf(),
            kb.addF(m, kb.mulF(kb.log2(weightSum), kb.f32(kLn2))));
        memref::StoreOp::create(b, loc, total, lse,
                                ValueRange{batch, head, query});
      });
  });
  });
}

