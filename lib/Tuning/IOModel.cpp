//===- IOModel.cpp - bytes moved and FLOPs of tiled and unfused forms -----===//

#include "attn/Tuning/IOModel.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"

#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::attn;

static int64_t bytesOf(Type t) {
  return std::max<int64_t>(1, t.getIntOrFloatBitWidth() / 8);
}

static int64_t eltBytes(Value v) {
  return bytesOf(cast<ShapedType>(v.getType()).getElementType());
}

static bool allStatic(Operation *op) {
  for (Type t : op->getOperandTypes())
    if (!cast<ShapedType>(t).hasStaticShape())
      return false;
  return true;
}

/// Keys the tiled attention visits for query rows [m0, m0 + rows): the
/// visible range, with its start rounded down to the key tile.
static int64_t visitedKeys(AttentionOp op, int64_t m0, int64_t rows,
                           int64_t m, int64_t n, int64_t blockN) {
  IntegerMath math;
  MaskGeometry<IntegerMath> geometry(math, op.getMaskSpec(), m, n);
  auto [lo, hi] = geometry.visibleKeys(m0, m0 + rows - 1);
  if (hi <= lo)
    return 0;
  return hi - math.floorDiv(lo, blockN) * blockN;
}

static IOReport attentionIO(AttentionOp op, ScheduleAttr s) {
  auto q = op.getQuery().getType(), k = op.getKey().getType(),
       v = op.getValue().getType();
  int64_t b = q.getDimSize(0), hq = q.getDimSize(1), m = q.getDimSize(2),
          d = q.getDimSize(3), n = k.getDimSize(2), dv = v.getDimSize(3);
  int64_t e = eltBytes(op.getQuery());
  int64_t maskBytes = op.getMask() ? eltBytes(op.getMask()) : 0;
  int64_t bh = b * hq;
  IOReport r;
  // Tiled: Q once, K and V once per visited key tile of each query tile,
  // the output (and LSE) once; scores and probabilities stay on chip.
  int64_t keys = 0, pairs = 0;
  for (int64_t m0 = 0; m0 < m; m0 += s.getBlockM()) {
    int64_t rows = std::min(s.getBlockM(), m - m0);
    int64_t visited = visitedKeys(op, m0, rows, m, n, s.getBlockN());
    keys += visited;
    pairs += rows * visited;
  }
  r.tiled.bytesRead = bh * (m * d * e + keys * (d + dv) * e + pairs * maskBytes);
  r.tiled.bytesWritten = bh * m * (dv * e + (op.getLse() ? 4 : 0));
  r.tiled.flops = 2 * bh * pairs * (d + dv);
  r.tiled.transcendentals = bh * pairs;
  if (s.getSplit() > 1) {
    // Split-KV: f32 partial outputs and LSEs written, read by the combine.
    int64_t partials = s.getSplit() * bh * m * (dv + 1) * 4;
    r.tiled.bytesWritten += partials;
    r.tiled.bytesRead += partials;
    r.tiled.transcendentals += 2 * s.getSplit() * bh * m * (dv + 1);
  }
  // Unfused (attn-decompose): q, k, v read once per query head, the f32
  // scores written, then read and rewritten by the masking pass, read by
  // the max and sum reductions, P written and read by the PV product.
  int64_t s4 = bh * m * n * 4;
  r.unfused.bytesRead = bh * (m * d + n * d + n * dv) * e + 5 * s4 +
                        bh * m * n * maskBytes;
  r.unfused.bytesWritten = 3 * s4 + bh * m * (dv * e + (op.getLse() ? 4 : 0));
  r.unfused.flops = 2 * bh * m * n * (d + dv);
  r.unfused.transcendentals = 2 * bh * m * n;
  return r;
}

template <typename OpTy>
static IOReport softmaxIO(OpTy op, ScheduleAttr s, bool reduces) {
  auto t = op.getInput().getType();
  int64_t elems = t.getNumElements(), cols = t.getDimSize(op.getDim());
  int64_t rows = elems / cols, e = eltBytes(op.getInput());
  int64_t out = reduces ? rows * 4 : elems * e;
  IOReport r;
  // Tiled: one read with one pass; the second pass re-reads (softmax and
  // log_softmax only: logsumexp needs no output pass).
  int64_t reads = (s.getPasses() == 2 && !reduces) ? 2 : 1;
  r.tiled = {reads * elems * e, out, 0, elems * reads};
  // Unfused: the max, the sum and (unless logsumexp) the output generic
  // each read the input.
  r.unfused = {(reduces ? 2 : 3) * elems * e + 2 * rows * 4 * (reduces ? 1 : 2),
               out + 3 * rows * 4, 0, elems * (reduces ? 1 : 2)};
  return r;
}

template <typename OpTy>
static IOEstimate lossTail(OpTy op, int64_t n) {
  // Labels read, per-token loss (and lse) written.
  return {n * eltBytes(op.getLabels()),
          (op.getReduction() == Reduction::none ? n * 4 : 4) +
              (op.getLse() ? n * 4 : 0),
          0, 0};
}

/// Split-V: the four [split, N] f32 partial states (max, sum, target, logit
/// sum) are written by the tiles and read by the combine; without a split
/// they stay on chip.
static void addSplitPartials(IOEstimate &tiled, ScheduleAttr s, int64_t n) {
  if (s.getSplit() == 1)
    return;
  int64_t partials = 4 * s.getSplit() * n * 4;
  tiled.bytesRead += partials;
  tiled.bytesWritten += partials;
}

static IOReport crossEntropyIO(CrossEntropyOp op, ScheduleAttr s) {
  auto t = op.getLogits().getType();
  int64_t n = t.getDimSize(0), v = t.getDimSize(1), e = eltBytes(op.getLogits());
  IOEstimate tail = lossTail(op, n);
  IOReport r;
  r.tiled = {n * v * e + tail.bytesRead, tail.bytesWritten, 0, n * v};
  addSplitPartials(r.tiled, s, n);
  // Unfused: z = softcap(logits) materialized in f32, then read by the max,
  // the sum of exponentials and the target/sum reductions.
  r.unfused = {n * v * e + 3 * n * v * 4 + tail.bytesRead,
               n * v * 4 + tail.bytesWritten, 0, n * v};
  return r;
}

static IOReport linearCrossEntropyIO(LinearCrossEntropyOp op, ScheduleAttr s) {
  auto h = op.getHidden().getType(), w = op.getWeight().getType();
  int64_t n = h.getDimSize(0), d = h.getDimSize(1), v = w.getDimSize(0);
  int64_t e = eltBytes(op.getHidden());
  int64_t tokenBlocks = (n + s.getBlockM() - 1) / s.getBlockM();
  int64_t biasBytes = op.getBias() ? v * e : 0;
  IOEstimate tail = lossTail(op, n);
  IOReport r;
  // Tiled (Cut Cross-Entropy): each token block keeps its hidden rows on
  // chip and streams the whole weight (and bias) once; logits stay on chip.
  r.tiled = {n * d * e + tokenBlocks * (v * d * e + biasBytes) + tail.bytesRead,
             tail.bytesWritten, 2 * n * v * d, n * v};
  addSplitPartials(r.tiled, s, n);
  // Unfused: the [N, V] f32 logits are written by the matmul, read and
  // rewritten by the bias and by soft-capping, then read three times.
  r.unfused = {n * d * e + v * d * e + biasBytes + (op.getBias() ? 1 : 0) * n * v * 4 +
                   4 * n * v * 4 + tail.bytesRead,
               (op.getBias() ? 3 : 2) * n * v * 4 + tail.bytesWritten,
               2 * n * v * d, n * v};
  return r;
}

FailureOr<IOReport> mlir::attn::estimateIO(Operation *op, ScheduleAttr s) {
  if (!allStatic(op))
    return failure();
  return llvm::TypeSwitch<Operation *, FailureOr<IOReport>>(op)
      .Case([&](AttentionOp o) { return attentionIO(o, s); })
      .Case([&](SoftmaxOp o) { return softmaxIO(o, s, false); })
      .Case([&](LogSoftmaxOp o) { return softmaxIO(o, s, false); })
      .Case([&](LogSumExpOp o) { return softmaxIO(o, s, true); })
      .Case([&](CrossEntropyOp o) { return crossEntropyIO(o, s); })
      .Case([&](LinearCrossEntropyOp o) { return linearCrossEntropyIO(o, s); })
      .Default([](Operation *) { return failure(); });
}
