//===- RowKernels.cpp - softmax family rows (and gradients) on the GPU ----===//
//
// The memory-bound row kernels of attn-map-to-gpu. A row belongs to one
// block (block_m = 1) or one warp (block_m = warps). With passes = 1 every
// thread keeps its slice of the row in registers, so the row is read once
// and written once; with passes = 2 the first pass runs the online
// normalizer (running max and rescaled sum) over the row and the second
// reads it again to write the result. Loads and stores are 16 bytes wide
// when the row length allows it. The gradients of softmax and log_softmax
// read two rows (y and dy) the same ways and reduce one sum over them.
//
//===----------------------------------------------------------------------===//

#include "Kernels.h"
#include "../Builders/AsyncCopy.h"
#include "../Builders/KernelBuilder.h"
#include "../Builders/MmaSync.h"
#include "../Builders/WarpOps.h"
#include "../Builders/Wgmma.h"

#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Dialect/Attn/Utils/LossGradElement.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::gpu_kernel;

namespace {

/// The attributes and buffers of a cross-entropy row kernel.
struct LossSpec {
  int64_t ignoreIndex = -100;
  double labelSmoothing = 0, zLoss = 0;
  std::optional<double> softcap;
  Value labels;      // [rows] i32 or i64
  Value rowLoss;     // [rows] f32
  Value lse;         // [rows] f32, or null
  /// The gradients: the upstream gradient of each row, [rows] f32 when
  /// `upstreamPerRow`, else a rank-0 f32 buffer for all rows.
  Value upstream;
  bool upstreamPerRow = false;
};

/// The running (max, sum of exp(x - max)) of the online normalizer.
struct Normalizer {
  Value max, sum;
};

class RowKernel {
public:
  RowKernel(const RowPlan &spec, gpu::LaunchOp launch, KernelBuilder &kb,
            Value input, Value output, LossSpec loss = {},
            Value gradOutput = Value())
      : s(spec), loss(loss), launch(launch), kb(kb), input(input),
        output(output), gradOutput(gradOutput) {}

  void build();

private:
  /// The `width` elements of chunk `chunk` as f32 (-inf where !valid).
  SmallVector<Value> loadChunk(Value chunk, Value valid) {
    return loadChunkOf(input, chunk, valid,
                       -std::numeric_limits<double>::infinity());
  }
  /// The same of row buffer `buffer`, `fill` where !valid.
  SmallVector<Value> loadChunkOf(Value buffer, Value chunk, Value valid,
                                 double fill);
  void storeChunk(Value chunk, ArrayRef<Value> values);
  /// The row's max or sum of `v` over the threads of the row.
  Value rowReduce(Value v, bool isMax);
  /// Merges the normalizers of the threads of a row.
  Normalizer rowMerge(Normalizer n);
  Normalizer accumulate(Normalizer n, ArrayRef<Value> xs);
  void writeRow(ArrayRef<Value> xs, Normalizer n, Value chunk);
  void onePass();
  void twoPass();
  void crossEntropy();
  void writeLogSumExp(Normalizer n);
  /// softmax_grad: sum y * dy; log_softmax_grad: sum dy (of one chunk).
  Value gradTerms(ArrayRef<Value> ys, ArrayRef<Value> dys);
  /// y (dy - s), or dy - exp(y) s, stored at chunk `chunk`.
  void writeGrad(ArrayRef<Value> ys, ArrayRef<Value> dys, Value sum,
                 Value chunk);
  void gradOnePass();
  void gradTwoPass();
  /// logsumexp_grad and cross_entropy_grad: each element from itself and
  /// its row's LSE (label) and upstream gradient, streamed once.
  void elementwiseGrad();
  /// An scf.for over the groups of `unroll` chunks each thread reads in
  /// turn (several loads in flight per thread); `body(first chunk, iter
  /// args)` returns the next iter args.
  SmallVector<Value>
  streamRow(ValueRange init,
            function_ref<SmallVector<Value>(Value, ValueRange)> body);
  static constexpr int64_t unroll = 4;

  const RowPlan &s;
  LossSpec loss;
  gpu::LaunchOp launch;
  KernelBuilder &kb;
  Value input, output;
  /// dy of the gradient rows (input is y), or null.
  Value gradOutput;
  Value row, local, warp, lane, scratch;
  /// Cluster rows: this block's rank, the slots its partial (max, sum) are
  /// published in, and how many cluster reductions ran so far.
  Value rank, clusterSlots;
  int64_t clusterReductions = 0;
};

SmallVector<Value> RowKernel::loadChunkOf(Value buffer, Value chunk,
                                          Value valid, double fill) {
  OpBuilder &b = kb.builder();
  Location loc = kb.location();
  auto vecType = VectorType::get({s.width}, s.inputType);
  int64_t bytes = s.width * s.inputType.getIntOrFloatBitWidth() / 8;
  auto load = [&](KernelBuilder &kb) -> SmallVector<Value> {
    Value v = vector::LoadOp::create(b, loc, vecType, buffer,
                                     ValueRange{row, kb.mul(chunk, s.width)},
                                     /*nontemporal=*/false,
                                     llvm::MaybeAlign(bytes));
    return {v};
  };
  Value vec;
  if (!valid) {
    vec = load(kb)[0];
  } else {
    vec = kb.ifElse(valid, {vecType}, load, [&](KernelBuilder &kb) {
      Value absent = arith::ConstantOp::create(
          b, loc,
          DenseElementsAttr::get(vecType, b.getFloatAttr(s.inputType, fill)));
      return SmallVector<Value>{absent};
    })[0];
  }
  SmallVector<Value> xs;
  for (int64_t i = 0; i < s.width; ++i)
    xs.push_back(kb.extF(vector::ExtractOp::create(b, loc, vec, i)));
  return xs;
}

void RowKernel::storeChunk(Value chunk, ArrayRef<Value> values) {
  OpBuilder &b = kb.builder();
  Location loc = kb.location();
  SmallVector<Value> narrowed;
  for (Value v : values)
    narrowed.push_back(kb.truncF(v, s.outputType));
  auto vecType = VectorType::get({s.width}, s.outputType);
  Value vec = vector::FromElementsOp::create(b, loc, vecType, narrowed);
  int64_t bytes = s.width * s.outputType.getIntOrFloatBitWidth() / 8;
  vector::StoreOp::create(b, loc, vec, output,
                          ValueRange{row, kb.mul(chunk, s.width)},
                          /*nontemporal=*/false, llvm::MaybeAlign(bytes));
}

Value RowKernel::rowReduce(Value v, bool isMax) {
  v = warpReduce(kb, v, 31, isMax);
  OpBuilder &b = kb.builder();
  Location loc = kb.location();
  Value r = v;
  if (s.threadsPerRow() > 32) {
    // Across the warps of the block: one slot per warp in shared memory.
    kb.barrier(); // the previous reduction's reads are done
    kb.ifThen(kb.eqI(lane, 0), [&](KernelBuilder &) {
      memref::StoreOp::create(b, loc, v, scratch, ValueRange{warp});
    });
    kb.barrier();
    r = memref::LoadOp::create(b, loc, scratch, ValueRange{kb.idx(0)});
    for (int64_t w = 1; w < s.warps; ++w) {
      Value x = memref::LoadOp::create(b, loc, scratch, ValueRange{kb.idx(w)});
      r = isMax ? kb.maxF(r, x) : kb.addF(r, x);
    }
  }
  if (s.cluster == 1)
    return r;
  // Across the blocks of the cluster: each publishes its value in its own
  // slot (a fresh one per reduction), and every thread reads all blocks'
  // slots through distributed shared memory after the cluster barrier.
  int64_t slot = clusterReductions++;
  kb.ifThen(kb.eqI(local, 0), [&](KernelBuilder &kb) {
    memref::StoreOp::create(b, loc, r, clusterSlots, ValueRange{kb.idx(slot)});
  });
  clusterBarrier(kb);
  Value c = loadFromClusterBlock(kb, clusterSlots, slot, kb.idx(0));
  for (int64_t i = 1; i < s.cluster; ++i) {
    Value x = loadFromClusterBlock(kb, clusterSlots, slot, kb.idx(i));
    c = isMax ? kb.maxF(c, x) : kb.addF(c, x);
  }
  return c;
}

Normalizer RowKernel::rowMerge(Normalizer n) {
  Value m = rowReduce(n.max, /*isMax=*/true);
  Value scaled = kb.mulF(
      n.sum, kb.exp2(kb.mulF(kb.subF(n.max, kb.safeMax(m)), kb.f32(kLog2e))));
  return {m, rowReduce(scaled, /*isMax=*/false)};
}

Normalizer RowKernel::accumulate(Normalizer n, ArrayRef<Value> xs) {
  Value m = n.max;
  for (Value x : xs)
    m = kb.maxF(m, x);
  Value use = kb.safeMax(m);
  Value log2e = kb.f32(kLog2e);
  Value sum = kb.mulF(n.sum, kb.exp2(kb.mulF(kb.subF(n.max, use), log2e)));
  for (Value x : xs)
    sum = kb.addF(sum, kb.exp2(kb.mulF(kb.subF(x, use), log2e)));
  return {m, sum};
}

void RowKernel::writeRow(ArrayRef<Value> xs, Normalizer n, Value chunk) {
  Value use = kb.safeMax(n.max);
  SmallVector<Value> ys;
  if (s.kind == RowResult::Softmax) {
    Value inv = kb.divF(kb.f32(1.0), n.sum);
    Value log2e = kb.f32(kLog2e);
    for (Value x : xs)
      ys.push_back(kb.mulF(kb.exp2(kb.mulF(kb.subF(x, use), log2e)), inv));
  } else {
    Value lse = kb.addF(use, kb.mulF(kb.log2(n.sum), kb.f32(kLn2)));
    for (Value x : xs)
      ys.push_back(kb.subF(x, lse));
  }
  storeChunk(chunk, ys);
}

void RowKernel::writeLogSumExp(Normalizer n) {
  OpBuilder &b = kb.builder();
  Location loc = kb.location();
  kb.ifThen(kb.eqI(local, 0), [&](KernelBuilder &kb) {
    Value lse = kb.addF(kb.safeMax(n.max),
                        kb.mulF(kb.log2(n.sum), kb.f32(kLn2)));
    memref::StoreOp::create(b, loc, lse, output, ValueRange{row});
  });
}

void RowKernel::onePass() {
  // Every chunk this thread owns, loaded before any arithmetic so that the
  // loads are in flight together.
  SmallVector<SmallVector<Value>> held;
  SmallVector<Value> chunks, valids;
  Value first = s.cluster == 1 ? kb.idx(0) : kb.mul(rank, s.blockChunks());
  bool lastBlockShort = s.blockChunks() * s.cluster != s.chunks();
  for (int64_t i = 0; i < s.slots(); ++i) {
    Value own = kb.add(local, i * s.threadsPerRow());
    Value c = kb.add(first, own);
    bool partial = (i + 1) * s.threadsPerRow() > s.blockChunks();
    Value valid = partial ? kb.lt(own, s.blockChunks()) : Value();
    if (lastBlockShort)
      valid = valid ? kb.andI(valid, kb.lt(c, s.chunks())) : kb.lt(c, s.chunks());
    chunks.push_back(c);
    valids.push_back(valid);
    held.push_back(loadChunk(c, valid));
  }
  Value m = kb.negInf();
  for (auto &xs : held)
    for (Value x : xs)
      m = kb.maxF(m, x);
  m = rowReduce(m, /*isMax=*/true);
  Value use = kb.safeMax(m);
  Value log2e = kb.f32(kLog2e);
  Value sum = kb.f32(0.0);
  for (auto &xs : held)
    for (Value x : xs)
      sum = kb.addF(sum, kb.exp2(kb.mulF(kb.subF(x, use), log2e)));
  Normalizer n{m, rowReduce(sum, /*isMax=*/false)};
  // No block of the cluster may exit while another still reads its slots.
  if (s.cluster > 1)
    clusterBarrier(kb);
  if (s.kind == RowResult::LogSumExp)
    return writeLogSumExp(n);
  for (int64_t i = 0; i < s.slots(); ++i) {
    if (!valids[i]) {
      writeRow(held[i], n, chunks[i]);
      continue;
    }
    kb.ifThen(valids[i], [&](KernelBuilder &) {
      writeRow(held[i], n, chunks[i]);
    });
  }
}

Value RowKernel::gradTerms(ArrayRef<Value> ys, ArrayRef<Value> dys) {
  Value sum = kb.f32(0.0);
  for (auto [y, dy] : llvm::zip(ys, dys))
    sum = kb.addF(sum, s.kind == RowResult::SoftmaxGrad ? kb.mulF(y, dy) : dy);
  return sum;
}

void RowKernel::writeGrad(ArrayRef<Value> ys, ArrayRef<Value> dys, Value sum,
                          Value chunk) {
  SmallVector<Value> dxs;
  Value log2e = kb.f32(kLog2e);
  for (auto [y, dy] : llvm::zip(ys, dys))
    dxs.push_back(s.kind == RowResult::SoftmaxGrad
                      ? kb.mulF(y, kb.subF(dy, sum))
                      : kb.subF(dy, kb.mulF(kb.exp2(kb.mulF(y, log2e)), sum)));
  storeChunk(chunk, dxs);
}

/// The gradient rows with passes = 1: both rows' slices in registers, one
/// row reduction, one write (the chunk layout of onePass).
void RowKernel::gradOnePass() {
  SmallVector<SmallVector<Value>> ys, dys;
  SmallVector<Value> chunks, valids;
  Value first = s.cluster == 1 ? kb.idx(0) : kb.mul(rank, s.blockChunks());
  bool lastBlockShort = s.blockChunks() * s.cluster != s.chunks();
  for (int64_t i = 0; i < s.slots(); ++i) {
    Value own = kb.add(local, i * s.threadsPerRow());
    Value c = kb.add(first, own);
    bool partial = (i + 1) * s.threadsPerRow() > s.blockChunks();
    Value valid = partial ? kb.lt(own, s.blockChunks()) : Value();
    if (lastBlockShort)
      valid = valid ? kb.andI(valid, kb.lt(c, s.chunks())) : kb.lt(c, s.chunks());
    chunks.push_back(c);
    valids.push_back(valid);
    ys.push_back(loadChunkOf(input, c, valid, 0.0));
    dys.push_back(loadChunkOf(gradOutput, c, valid, 0.0));
  }
  Value sum = kb.f32(0.0);
  for (int64_t i = 0; i < s.slots(); ++i)
    sum = kb.addF(sum, gradTerms(ys[i], dys[i]));
  sum = rowReduce(sum, /*isMax=*/false);
  // No block of the cluster may exit while another still reads its slots.
  if (s.cluster > 1)
    clusterBarrier(kb);
  for (int64_t i = 0; i < s.slots(); ++i) {
    if (!valids[i]) {
      writeGrad(ys[i], dys[i], sum, chunks[i]);
      continue;
    }
    kb.ifThen(valids[i], [&](KernelBuilder &) {
      writeGrad(ys[i], dys[i], sum, chunks[i]);
    });
  }
}

/// The gradient rows with passes = 2: the sum streamed, then both rows read
/// again for the write.
void RowKernel::gradTwoPass() {
  SmallVector<Value> state =
      streamRow({kb.f32(0.0)}, [&](Value first, ValueRange args) {
        Value sum = args[0];
        for (int64_t u = 0; u < unroll; ++u) {
          Value c = kb.add(first, u * s.threadsPerRow());
          Value valid = kb.lt(c, s.chunks());
          sum = kb.addF(sum, gradTerms(loadChunkOf(input, c, valid, 0.0),
                                       loadChunkOf(gradOutput, c, valid, 0.0)));
        }
        return SmallVector<Value>{sum};
      });
  Value sum = rowReduce(state[0], /*isMax=*/false);
  streamRow({}, [&](Value first, ValueRange) {
    for (int64_t u = 0; u < unroll; ++u) {
      Value c = kb.add(first, u * s.threadsPerRow());
      kb.ifThen(kb.lt(c, s.chunks()), [&](KernelBuilder &) {
        writeGrad(loadChunkOf(input, c, Value(), 0.0),
                  loadChunkOf(gradOutput, c, Value(), 0.0), sum, c);
      });
    }
    return SmallVector<Value>{};
  });
}

SmallVector<Value> RowKernel::streamRow(
    ValueRange init, function_ref<SmallVector<Value>(Value, ValueRange)> body) {
  OpBuilder &b = kb.builder();
  Location loc = kb.location();
  int64_t stride = s.threadsPerRow() * unroll;
  int64_t iterations = (s.chunks() + stride - 1) / stride;
  auto loop = scf::ForOp::create(b, loc, kb.idx(0), kb.idx(iterations),
                                 kb.idx(1), init);
  OpBuilder::InsertionGuard guard(b);
  if (init.empty()) // the builder added an empty scf.yield
    loop.getBody()->getTerminator()->erase();
  b.setInsertionPointToStart(loop.getBody());
  Value first = kb.add(local, kb.mul(loop.getInductionVar(), stride));
  scf::YieldOp::create(b, loc, body(first, loop.getRegionIterArgs()));
  return SmallVector<Value>(loop.getResults());
}

void RowKernel::twoPass() {
  SmallVector<Value> state = streamRow(
      {kb.negInf(), kb.f32(0.0)}, [&](Value first, ValueRange args) {
        SmallVector<Value> xs;
        for (int64_t u = 0; u < unroll; ++u) {
          Value c = kb.add(first, u * s.threadsPerRow());
          SmallVector<Value> chunk = loadChunk(c, kb.lt(c, s.chunks()));
          xs.append(chunk);
        }
        Normalizer n = accumulate({args[0], args[1]}, xs);
        return SmallVector<Value>{n.max, n.sum};
      });
  Normalizer n = rowMerge({state[0], state[1]});
  if (s.kind == RowResult::LogSumExp)
    return writeLogSumExp(n);
  streamRow({}, [&](Value first, ValueRange) {
    for (int64_t u = 0; u < unroll; ++u) {
      Value c = kb.add(first, u * s.threadsPerRow());
      Value valid = kb.lt(c, s.chunks());
      kb.ifThen(valid, [&](KernelBuilder &) {
        writeRow(loadChunk(c, Value()), n, c);
      });
    }
    return SmallVector<Value>{};
  });
}

void RowKernel::crossEntropy() {
  OpBuilder &b = kb.builder();
  Location loc = kb.location();
  const LossSpec &l = loss;
  bool smoothing = l.labelSmoothing != 0;
  Value cap = l.softcap ? kb.f32(*l.softcap) : Value();
  Value capInv = l.softcap ? kb.f32(1.0 / *l.softcap) : Value();
  auto capped = [&](Value z) {
    return l.softcap ? kb.mulF(kb.tanh(kb.mulF(z, capInv)), cap) : z;
  };
  // One read of the row: the online normalizer and, for label smoothing,
  // the sum of the logits. The loss needs nothing else of the row.
  SmallVector<Value> state = streamRow(
      {kb.negInf(), kb.f32(0.0), kb.f32(0.0)},
      [&](Value first, ValueRange args) {
        SmallVector<Value> xs;
        Value total = args[2];
        for (int64_t u = 0; u < unroll; ++u) {
          Value c = kb.add(first, u * s.threadsPerRow());
          Value valid = kb.lt(c, s.chunks());
          for (Value x : loadChunk(c, valid)) {
            if (l.softcap) // keep the -inf of absent elements
              x = kb.select(valid, capped(x), x);
            if (smoothing)
              total = kb.addF(total, kb.select(valid, x, kb.f32(0.0)));
            xs.push_back(x);
          }
        }
        Normalizer n = accumulate({args[0], args[1]}, xs);
        return SmallVector<Value>{n.max, n.sum, total};
      });
  Normalizer n = rowMerge({state[0], state[1]});
  Value total = smoothing ? rowReduce(state[2], /*isMax=*/false) : Value();
  kb.ifThen(kb.eqI(local, 0), [&](KernelBuilder &kb) {
    Value lse = kb.addF(kb.safeMax(n.max),
                        kb.mulF(kb.log2(n.sum), kb.f32(kLn2)));
    Value label = memref::LoadOp::create(b, loc, l.labels, ValueRange{row});
    Value ignored = arith::CmpIOp::create(
        b, loc, arith::CmpIPredicate::eq, label,
        arith::ConstantIntOp::create(b, loc, label.getType(), l.ignoreIndex));
    // A label outside [0, V) is the caller's error; clamp the read.
    Value column = kb.maxI(
        kb.minI(arith::IndexCastOp::create(b, loc, b.getIndexType(), label),
                s.cols - 1),
        0);
    Value target = capped(kb.extF(
        memref::LoadOp::create(b, loc, input, ValueRange{row, column})));
    Value loss = kb.subF(lse, kb.mulF(kb.f32(1.0 - l.labelSmoothing), target));
    if (smoothing)
      loss = kb.subF(loss, kb.mulF(kb.f32(l.labelSmoothing / double(s.cols)),
                                   total));
    if (l.zLoss != 0)
      loss = kb.addF(loss, kb.mulF(kb.f32(l.zLoss), kb.mulF(lse, lse)));
    loss = kb.select(ignored, kb.f32(0.0), loss);
    memref::StoreOp::create(b, loc, loss, l.rowLoss, ValueRange{row});
    if (l.lse)
      memref::StoreOp::create(b, loc, lse, l.lse, ValueRange{row});
  });
}

void RowKernel::elementwiseGrad() {
  OpBuilder &b = kb.builder();
  Location loc = kb.location();
  const LossSpec &l = loss;
  Value lse = memref::LoadOp::create(b, loc, l.lse, ValueRange{row});
  Value upstream =
      l.upstreamPerRow
          ? memref::LoadOp::create(b, loc, l.upstream, ValueRange{row})
          : memref::LoadOp::create(b, loc, l.upstream, ValueRange{});
  bool crossEntropy = s.kind == RowResult::CrossEntropyGrad;
  Value label = crossEntropy
                    ? memref::LoadOp::create(b, loc, l.labels, ValueRange{row})
                          .getResult()
                    : Value();
  LossGradSpec spec{l.ignoreIndex, l.labelSmoothing, l.zLoss, l.softcap,
                    l.labelSmoothing != 0
                        ? kb.f32(l.labelSmoothing / double(s.cols))
                        : Value()};
  streamRow({}, [&](Value first, ValueRange) {
    for (int64_t u = 0; u < unroll; ++u) {
      Value c = kb.add(first, u * s.threadsPerRow());
      kb.ifThen(kb.lt(c, s.chunks()), [&](KernelBuilder &) {
        SmallVector<Value> xs = loadChunk(c, Value()), dxs;
        for (auto [i, x] : llvm::enumerate(xs)) {
          if (crossEntropy) {
            Value column = arith::IndexCastOp::create(
                b, loc, label.getType(), kb.add(kb.mul(c, s.width), i));
            dxs.push_back(buildLossGradElement(b, loc, spec, x, label, column,
                                               lse, upstream));
            continue;
          }
          // d lse / d x = exp(x - lse); nothing for an element of -inf.
          Value dx = kb.mulF(upstream,
                             kb.exp2(kb.mulF(kb.subF(x, lse), kb.f32(kLog2e))));
          dxs.push_back(kb.select(
              kb.cmpF(arith::CmpFPredicate::OEQ, x, kb.negInf()), kb.f32(0.0),
              dx));
        }
        storeChunk(c, dxs);
      });
    }
    return SmallVector<Value>{};
  });
}

void RowKernel::build() {
  OpBuilder &b = kb.builder();
  Value tid = launch.getThreadIds().x;
  lane = kb.rem(tid, 32);
  warp = kb.div(tid, 32);
  Value block = launch.getBlockIds().x;
  if (s.cluster > 1) {
    row = kb.div(block, s.cluster);
    rank = kb.rem(block, s.cluster);
    local = tid;
  } else if (s.rowsPerBlock == 1) {
    row = block;
    local = tid;
  } else {
    row = kb.add(kb.mul(block, s.rowsPerBlock), warp);
    local = lane;
  }
  if (s.threadsPerRow() > 32)
    scratch = kb.sharedView({s.warps}, b.getF32Type(), 0);
  // The cluster's slots follow the cross-warp slots (RowPlan::sharedBytes).
  if (s.cluster > 1)
    clusterSlots = kb.sharedView({2}, b.getF32Type(),
                                 s.threadsPerRow() > 32 ? 4 * s.warps : 0);
  auto body = [&](KernelBuilder &) {
    if (s.kind == RowResult::CrossEntropy)
      crossEntropy();
    else if (isElementwiseRow(s.kind))
      elementwiseGrad();
    else if (isGradientRow(s.kind))
      s.passes == 1 ? gradOnePass() : gradTwoPass();
    else if (s.passes == 1)
      onePass();
    else
      twoPass();
  };
  if (s.rowsPerBlock > 1 && s.rows % s.rowsPerBlock != 0)
    kb.ifThen(kb.lt(row, s.rows), body); // only warp-local reductions here
  else
    body(kb);
}

} // namespace

static void launchRowKernel(OpBuilder &b, Location loc, const RowPlan &spec,
                            Value in, Value out, const LossSpec &loss = {},
                            Value gradOutput = Value()) {
  buildLaunch(
      b, loc, spec.facts.grid, spec.facts.threads, spec.facts.sharedBytes,
      [&](gpu::LaunchOp op, KernelBuilder &kb) {
        RowKernel(spec, op, kb, in, out, loss, gradOutput).build();
      },
      spec.cluster);
}

void mlir::attn::gpu_kernel::buildSoftmaxGradRows(OpBuilder &b, Location loc,
                                                  const RowPlan &plan, Value y,
                                                  Value dy, Value dx) {
  launchRowKernel(b, loc, plan, y, dx, {}, dy);
}

void mlir::attn::gpu_kernel::buildSoftmaxRows(OpBuilder &b, Location loc,
                                              const RowPlan &plan, Value in,
                                              Value out) {
  launchRowKernel(b, loc, plan, in, out);
}

void mlir::attn::gpu_kernel::buildCrossEntropyRows(OpBuilder &b, Location loc,
                                                   const RowPlan &plan,
                                                   Value logits, Value labels,
                                                   Value rowLoss, Value lse) {
  LossSpec loss;
  loss.ignoreIndex = plan.ignoreIndex;
  loss.labelSmoothing = plan.labelSmoothing;
  loss.zLoss = plan.zLoss;
  loss.softcap = plan.softcap;
  loss.labels = labels;
  loss.rowLoss = rowLoss;
  loss.lse = lse;
  launchRowKernel(b, loc, plan, logits, Value(), loss);
}

void mlir::attn::gpu_kernel::buildLogSumExpGradRows(OpBuilder &b, Location loc,
                                                    const RowPlan &plan,
                                                    Value x, Value lse,
                                                    Value dlse, Value dx) {
  LossSpec spec;
  spec.lse = lse;
  spec.upstream = dlse;
  spec.upstreamPerRow = true;
  launchRowKernel(b, loc, plan, x, dx, spec);
}

void mlir::attn::gpu_kernel::buildCrossEntropyGradRows(
    OpBuilder &b, Location loc, const RowPlan &plan, Value logits,
    Value labels, Value lse, Value upstream, Value dlogits) {
  LossSpec spec;
  spec.ignoreIndex = plan.ignoreIndex;
  spec.labelSmoothing = plan.labelSmoothing;
  spec.zLoss = plan.zLoss;
  spec.softcap = plan.softcap;
  spec.labels = labels;
  spec.lse = lse;
  spec.upstream = upstream;
  spec.upstreamPerRow = cast<MemRefType>(upstream.getType()).getRank() == 1;
  launchRowKernel(b, loc, plan, logits, dlogits, spec);
}

void mlir::attn::gpu_kernel::buildLossReduction(OpBuilder &b, Location loc,
                                                 Value rowLoss, Value labels,
                                                 int64_t ignoreIndex, bool mean,
                                                 Value out, Value numerator) {
  constexpr int64_t threads = 1024, warps = threads / 32;
  int64_t rows = cast<MemRefType>(labels.getType()).getDimSize(0);
  buildLaunch(b, loc, {1, 1, 1}, threads, 2 * warps * 4,
              [&](gpu::LaunchOp op, KernelBuilder &kb) {
    Location loc = kb.location();
    Value tid = op.getThreadIds().x;
    Value lane = kb.rem(tid, 32), warp = kb.div(tid, 32);
    auto loop = scf::ForOp::create(b, loc, tid, kb.idx(rows), kb.idx(threads),
                                   ValueRange{kb.f32(0.0), kb.f32(0.0)});
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(loop.getBody());
      Value i = loop.getInductionVar();
      Value x = rowLoss ? memref::LoadOp::create(b, loc, rowLoss, ValueRange{i})
                              .getResult()
                        : kb.f32(0.0);
      Value label = memref::LoadOp::create(b, loc, labels, ValueRange{i});
      Value kept = arith::CmpIOp::create(
          b, loc, arith::CmpIPredicate::ne, label,
          arith::ConstantIntOp::create(b, loc, label.getType(), ignoreIndex));
      Value one = kb.select(kept, kb.f32(1.0), kb.f32(0.0));
      scf::YieldOp::create(
          b, loc,
          ValueRange{kb.addF(loop.getRegionIterArgs()[0], x),
                     kb.addF(loop.getRegionIterArgs()[1], one)});
    }
    Value sum = warpReduce(kb, loop.getResult(0), 31, /*isMax=*/false);
    Value count = warpReduce(kb, loop.getResult(1), 31, /*isMax=*/false);
    Value scratch = kb.sharedView({2, warps}, b.getF32Type(), 0);
    kb.ifThen(kb.eqI(lane, 0), [&](KernelBuilder &kb) {
      memref::StoreOp::create(b, loc, sum, scratch, ValueRange{kb.idx(0), warp});
      memref::StoreOp::create(b, loc, count, scratch,
                              ValueRange{kb.idx(1), warp});
    });
    kb.barrier();
    kb.ifThen(kb.eqI(tid, 0), [&](KernelBuilder &kb) {
      Value total = kb.f32(0.0), kept = kb.f32(0.0);
      for (int64_t w = 0; w < warps; ++w) {
        total = kb.addF(total, memref::LoadOp::create(
                                   b, loc, scratch,
                                   ValueRange{kb.idx(0), kb.idx(w)}));
        kept = kb.addF(kept, memref::LoadOp::create(
                                 b, loc, scratch,
                                 ValueRange{kb.idx(1), kb.idx(w)}));
      }
      Value result = total;
      if (!rowLoss)
        result = memref::LoadOp::create(b, loc, numerator, ValueRange{});
      if (mean)
        result = kb.select(
            kb.cmpF(arith::CmpFPredicate::OGT, kept, kb.f32(0.0)),
            kb.divF(result, kept), kb.f32(0.0));
      memref::StoreOp::create(b, loc, result, out, ValueRange{});
    });
  });
}

