//===- IOModel.cpp - bytes moved and FLOPs of tiled and unfused forms -----===//

#include "attn/Tuning/IOModel.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"

#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/TypeSwitch.h"

#include <limits>
#include <string>

using namespace mlir;
using namespace mlir::attn;

namespace {
/// Counts in 128 bits: products of int64 dims cannot overflow here; the
/// result is checked against int64 once, at the end.
using Count = __int128;
struct WideEstimate {
  Count bytesRead = 0, bytesWritten = 0, flops = 0, transcendentals = 0;
};
struct WideReport {
  WideEstimate tiled, unfused;
};
/// Masked attention walks its query tiles (the visible keys of a tile are
/// a clamped, tile-rounded range); beyond this many tiles the model gives
/// no estimate instead of looping for minutes.
constexpr int64_t kMaxWalkedQueryTiles = int64_t(1) << 20;
} // namespace

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

static FailureOr<WideReport> attentionIO(AttentionOp op, ScheduleAttr s,
                                         std::string &why) {
  auto q = op.getQuery().getType(), k = op.getKey().getType(),
       v = op.getValue().getType();
  Count b = q.getDimSize(0), hq = q.getDimSize(1), m = q.getDimSize(2),
        d = q.getDimSize(3), n = k.getDimSize(2), dv = v.getDimSize(3);
  Count e = eltBytes(op.getQuery());
  Count maskBytes = op.getMask() ? eltBytes(op.getMask()) : 0;
  Count bh = b * hq;
  int64_t blockM = s.getBlockM(), blockN = s.getBlockN();
  int64_t tiles = q.getDimSize(2) / blockM + (q.getDimSize(2) % blockM != 0);
  WideReport r;
  // Tiled: Q once, K and V once per visited key tile of each query tile,
  // the output (and LSE) once; scores and probabilities stay on chip.
  Count keys = 0, pairs = 0;
  if (!op.getMaskSpec().masksKeys()) {
    // Every query tile sees all keys.
    keys = n > 0 ? Count(tiles) * n : 0;
    pairs = m * n;
  } else {
    if (tiles > kMaxWalkedQueryTiles) {
      why = "more than " + std::to_string(kMaxWalkedQueryTiles) +
            " query tiles under a causal or window mask";
      return failure();
    }
    int64_t mm = q.getDimSize(2), nn = k.getDimSize(2);
    for (int64_t t = 0; t < tiles; ++t) {
      int64_t m0 = t * blockM, rows = std::min(blockM, mm - m0);
      Count visited = visitedKeys(op, m0, rows, mm, nn, blockN);
      keys += visited;
      pairs += rows * visited;
    }
  }
  r.tiled.bytesRead = bh * (m * d * e + keys * (d + dv) * e + pairs * maskBytes);
  r.tiled.bytesWritten = bh * m * (dv * e + (op.getLse() ? 4 : 0));
  r.tiled.flops = 2 * bh * pairs * (d + dv);
  r.tiled.transcendentals = bh * pairs;
  if (s.getSplit() > 1) {
    // Split-KV: f32 partial outputs and LSEs written, read by the combine.
    Count partials = s.getSplit() * bh * m * (dv + 1) * 4;
    r.tiled.bytesWritten += partials;
    r.tiled.bytesRead += partials;
    r.tiled.transcendentals += 2 * s.getSplit() * bh * m * (dv + 1);
  }
  // Unfused (attn-decompose): q, k, v read once per query head, the f32
  // scores written, then read and rewritten by the masking pass, read by
  // the max and sum reductions, P written and read by the PV product.
  Count s4 = bh * m * n * 4;
  r.unfused.bytesRead = bh * (m * d + n * d + n * dv) * e + 5 * s4 +
                        bh * m * n * maskBytes;
  r.unfused.bytesWritten = 3 * s4 + bh * m * (dv * e + (op.getLse() ? 4 : 0));
  r.unfused.flops = 2 * bh * m * n * (d + dv);
  r.unfused.transcendentals = 2 * bh * m * n;
  return r;
}

/// attention_grad: the two passes of the tiled backward (attn-tile; the
/// GPU kernels have the same split) after D = rowsum(dO * O):
///   dQ over query tiles of block_m: Q, dO, LSE and D once, K and V once
///   per visited key tile (as the forward), dQ written;
///   dK/dV over key tiles of block_n: K and V once, Q, dO, LSE and D of
///   each query head of the group once per query tile that sees the key
///   tile, dK and dV written.
/// Both passes recompute the scores: s = q k^T and dp = dO v^T, then dQ's
/// dS k, or dK's dS^T q and dV's P^T dO. Unfused (attn-decompose): the f32
/// [B, Hq, M, N] scores, masked scores, P, dP and dS written once each and
/// read by their consumers (7 reads; 8 with softcap, whose derivative
/// reads the scores again).
static FailureOr<WideReport> attentionGradIO(AttentionGradOp op, ScheduleAttr s,
                                             std::string &why) {
  if (s.getBlockM() == 0 || s.getBlockN() == 0) {
    why = "the decomposition (no tiles in the schedule)";
    return failure();
  }
  auto q = cast<ShapedType>(op.getQuery().getType());
  auto k = cast<ShapedType>(op.getKey().getType());
  auto v = cast<ShapedType>(op.getValue().getType());
  int64_t mm = q.getDimSize(2), nn = k.getDimSize(2);
  Count b = q.getDimSize(0), hq = q.getDimSize(1), hkv = k.getDimSize(1),
        m = mm, d = q.getDimSize(3), n = nn, dv = v.getDimSize(3);
  Count e = eltBytes(op.getQuery());
  Count maskBytes = op.getMask() ? eltBytes(op.getMask()) : 0;
  Count bh = b * hq, bkv = b * hkv;
  int64_t blockM = s.getBlockM(), blockN = s.getBlockN();
  int64_t queryTiles = mm / blockM + (mm % blockM != 0);
  int64_t keyTiles = nn / blockN + (nn % blockN != 0);
  MaskSpec mask;
  mask.causal = op.getCausal();
  if (std::optional<ArrayRef<int64_t>> w = op.getWindow())
    mask.window = std::make_pair((*w)[0], (*w)[1]);
  if (mask.masksKeys() &&
      std::max(queryTiles, keyTiles) > kMaxWalkedQueryTiles) {
    why = "more than " + std::to_string(kMaxWalkedQueryTiles) +
          " tiles under a causal or window mask";
    return failure();
  }
  IntegerMath math;
  MaskGeometry<IntegerMath> geometry(math, mask, mm, nn);
  // Keys the dQ pass visits (and their pairs with rows), and queries the
  // dK/dV pass visits (and their pairs with keys), per head: closed form
  // without a mask (every tile sees everything), else walked tile by tile.
  Count keys = 0, pairsQ = 0, queries = 0, pairsKV = 0;
  if (!mask.masksKeys()) {
    keys = n > 0 ? Count(queryTiles) * n : 0;
    queries = m > 0 ? Count(keyTiles) * m : 0;
    pairsQ = pairsKV = m * n;
    queryTiles = keyTiles = 0; // nothing to walk
  }
  for (int64_t t = 0; t < queryTiles && n > 0; ++t) {
    int64_t m0 = t * blockM, rows = std::min(blockM, mm - m0);
    auto [lo, hi] = geometry.visibleKeys(m0, m0 + rows - 1);
    Count visited = hi <= lo ? 0 : hi - math.floorDiv(lo, blockN) * blockN;
    keys += visited;
    pairsQ += rows * visited;
  }
  for (int64_t t = 0; t < keyTiles && m > 0; ++t) {
    int64_t n0 = t * blockN, cols = std::min(blockN, nn - n0);
    auto [lo, hi] = geometry.visibleQueries(n0, n0 + cols - 1);
    Count visited = hi <= lo ? 0 : std::min<int64_t>(
                                       mm, math.ceilDiv(hi, blockM) * blockM) -
                                       math.floorDiv(lo, blockM) * blockM;
    queries += visited;
    pairsKV += cols * visited;
  }
  WideReport r;
  Count deltaPass = bh * m * dv * e * 2;
  r.tiled.bytesRead = deltaPass + bh * (m * (d + dv) * e + m * 8 +
                                        keys * (d + dv) * e) +
                      bkv * n * (d + dv) * e +
                      bh * queries * ((d + dv) * e + 8) +
                      bh * (pairsQ + pairsKV) * maskBytes;
  r.tiled.bytesWritten = bh * m * 4 + bh * m * d * e + bkv * n * (d + dv) * e;
  r.tiled.flops = 2 * bh * m * dv + bh * pairsQ * (4 * d + 2 * dv) +
                  bh * pairsKV * (4 * d + 4 * dv);
  r.tiled.transcendentals = bh * (pairsQ + pairsKV);
  Count s4 = bh * m * n * 4;
  Count scoreReads = op.getSoftcap() ? 8 : 7;
  r.unfused.bytesRead = bh * ((2 * m * d + 2 * n * d + n * dv + 4 * m * dv) * e +
                              2 * m * 4) +
                        scoreReads * s4 + bh * m * n * maskBytes;
  r.unfused.bytesWritten =
      5 * s4 + bh * m * 4 + bh * m * d * e + bkv * n * (d + dv) * e;
  r.unfused.flops = bh * m * n * (6 * d + 4 * dv) + 2 * bh * m * dv;
  r.unfused.transcendentals = bh * m * n;
  return r;
}

template <typename OpTy>
static WideReport softmaxIO(OpTy op, ScheduleAttr s, bool reduces) {
  auto t = op.getInput().getType();
  // Rows from the other dims (an empty reduced dim still has rows).
  Count rows = 1, cols = t.getDimSize(op.getDim());
  for (int64_t i = 0; i < t.getRank(); ++i)
    if (i != int64_t(op.getDim()))
      rows *= t.getDimSize(i);
  Count elems = rows * cols, e = eltBytes(op.getInput());
  Count out = reduces ? rows * 4 : elems * e;
  WideReport r;
  // Tiled: one read with one pass; the second pass re-reads (softmax and
  // log_softmax only: logsumexp needs no output pass).
  Count reads = (s.getPasses() == 2 && !reduces) ? 2 : 1;
  r.tiled = {reads * elems * e, out, 0, elems * reads};
  // Unfused: the max, the sum and (unless logsumexp) the output generic
  // each read the input.
  r.unfused = {(reduces ? 2 : 3) * elems * e + 2 * rows * 4 * (reduces ? 1 : 2),
               out + 3 * rows * 4, 0, elems * (reduces ? 1 : 2)};
  return r;
}

template <typename OpTy>
static WideEstimate lossTail(OpTy op, Count n) {
  // Labels read, per-token loss (and lse) written.
  return {n * eltBytes(op.getLabels()),
          (op.getReduction() == Reduction::none ? n * 4 : 4) +
              (op.getLse() ? n * 4 : 0),
          0, 0};
}

/// Split-V: the four [split, N] f32 partial states (max, sum, target, logit
/// sum) are written by the tiles and read by the combine; without a split
/// they stay on chip.
static void addSplitPartials(WideEstimate &tiled, ScheduleAttr s, Count n) {
  if (s.getSplit() == 1)
    return;
  Count partials = 4 * s.getSplit() * n * 4;
  tiled.bytesRead += partials;
  tiled.bytesWritten += partials;
}

static WideReport crossEntropyIO(CrossEntropyOp op, ScheduleAttr s) {
  auto t = op.getLogits().getType();
  Count n = t.getDimSize(0), v = t.getDimSize(1), e = eltBytes(op.getLogits());
  WideEstimate tail = lossTail(op, n);
  WideReport r;
  r.tiled = {n * v * e + tail.bytesRead, tail.bytesWritten, 0, n * v};
  addSplitPartials(r.tiled, s, n);
  // Unfused: z = softcap(logits) materialized in f32, then read by the max,
  // the sum of exponentials and the target/sum reductions.
  r.unfused = {n * v * e + 3 * n * v * 4 + tail.bytesRead,
               n * v * 4 + tail.bytesWritten, 0, n * v};
  return r;
}

static WideReport linearCrossEntropyIO(LinearCrossEntropyOp op,
                                       ScheduleAttr s) {
  auto h = op.getHidden().getType(), w = op.getWeight().getType();
  Count n = h.getDimSize(0), d = h.getDimSize(1), v = w.getDimSize(0);
  Count e = eltBytes(op.getHidden());
  Count tokenBlocks = (n + s.getBlockM() - 1) / s.getBlockM();
  Count biasBytes = op.getBias() ? v * e : 0;
  WideEstimate tail = lossTail(op, n);
  WideReport r;
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

/// Rows and row length of a row op's `input` along `dim`.
static std::pair<Count, Count> rowsAndCols(Value input, int64_t dim) {
  auto t = cast<ShapedType>(input.getType());
  Count rows = 1;
  for (int64_t i = 0; i < t.getRank(); ++i)
    if (i != dim)
      rows *= t.getDimSize(i);
  return {rows, t.getDimSize(dim)};
}

/// softmax_grad / log_softmax_grad. Tiled (the row kernels): y and dy read
/// once per pass, dx written once. Unfused: the row sum reads y and dy
/// (dy alone for log_softmax) and the output generic reads them again with
/// the [rows] f32 sum.
template <typename OpTy>
static WideReport softmaxGradIO(OpTy op, ScheduleAttr s, bool log) {
  auto [rows, cols] = rowsAndCols(op.getOutput(), op.getDim());
  Count elems = rows * cols, e = eltBytes(op.getOutput());
  WideReport r;
  r.tiled = {Count(s.getPasses()) * 2 * elems * e, elems * e, 0,
             log ? elems : 0};
  r.unfused = {(log ? 3 : 4) * elems * e + rows * 4, elems * e + rows * 4, 0,
               log ? elems : 0};
  return r;
}

/// logsumexp_grad: one elementwise pass over x with the rows' lse and
/// upstream gradient, tiled and unfused alike.
static WideReport logSumExpGradIO(LogSumExpGradOp op) {
  auto [rows, cols] = rowsAndCols(op.getInput(), op.getDim());
  Count elems = rows * cols, e = eltBytes(op.getInput());
  WideReport r;
  r.tiled = r.unfused = {elems * e + 2 * rows * 4, elems * e, 0, elems};
  return r;
}

/// The reads of a loss gradient's token vectors: labels, lse and the
/// upstream gradient ([N] for none, else a scalar), and the labels again
/// for the mean's count.
template <typename OpTy> static Count lossGradTokenReads(OpTy op, Count n) {
  Count labels = n * eltBytes(op.getLabels());
  Reduction reduction = op.getReduction();
  return labels + n * 4 + (reduction == Reduction::none ? n * 4 : 4) +
         (reduction == Reduction::mean ? labels : 0);
}

/// cross_entropy_grad: one elementwise pass over the logits, tiled (the
/// row kernel) and unfused alike.
static WideReport crossEntropyGradIO(CrossEntropyGradOp op) {
  auto t = op.getLogits().getType();
  Count n = t.getDimSize(0), v = t.getDimSize(1), e = eltBytes(op.getLogits());
  WideReport r;
  r.tiled = r.unfused = {n * v * e + lossGradTokenReads(op, n), n * v * e, 0,
                         n * v};
  return r;
}

/// linear_cross_entropy_grad. Tiled (attn-tile's Cut-Cross-Entropy
/// backward): the dh pass streams the weight (and bias) once per token
/// block, the dW pass the hidden rows (and the token vectors) once per
/// vocabulary block; the logits are computed in both. Unfused: the f32
/// logits written (and rewritten with a bias), read by the gradient
/// generic, whose f32 output is read by dh, dW (and dbias).
static WideReport linearCrossEntropyGradIO(LinearCrossEntropyGradOp op,
                                           ScheduleAttr s, std::string &why,
                                           bool &ok) {
  ok = s.getBlockM() > 0 && s.getBlockN() > 0;
  if (!ok) {
    why = "the decomposition (no tiles in the schedule)";
    return {};
  }
  auto h = cast<ShapedType>(op.getHidden().getType());
  auto w = cast<ShapedType>(op.getWeight().getType());
  Count n = h.getDimSize(0), d = h.getDimSize(1), v = w.getDimSize(0);
  Count e = eltBytes(op.getHidden());
  Count biasBytes = op.getBias() ? v * e : 0;
  Count tokenBlocks = (n + s.getBlockM() - 1) / s.getBlockM();
  Count vocabBlocks = (v + s.getBlockN() - 1) / s.getBlockN();
  Count tokens = lossGradTokenReads(op, n);
  Count outputs = n * d * e + v * d * e + biasBytes;
  WideReport r;
  r.tiled = {n * d * e + tokenBlocks * (v * d * e + biasBytes) + tokens +
                 v * d * e + biasBytes + vocabBlocks * (n * d * e + tokens),
             outputs, 8 * n * v * d, 2 * n * v};
  Count f32 = n * v * 4;
  int64_t withBias = op.getBias() ? 1 : 0;
  r.unfused = {n * d * e + v * d * e + biasBytes + withBias * f32 + f32 +
                   (2 + withBias) * f32 + n * d * e + v * d * e + tokens,
               (1 + withBias) * f32 + f32 + outputs, 6 * n * v * d, n * v};
  return r;
}

/// `wide` in int64, or failure when a count does not fit.
static FailureOr<IOEstimate> narrow(const WideEstimate &wide) {
  IOEstimate e;
  for (auto [from, to] :
       {std::make_pair(wide.bytesRead, &e.bytesRead),
        std::make_pair(wide.bytesWritten, &e.bytesWritten),
        std::make_pair(wide.flops, &e.flops),
        std::make_pair(wide.transcendentals, &e.transcendentals)}) {
    if (from < 0 || from > Count(std::numeric_limits<int64_t>::max()))
      return failure();
    *to = static_cast<int64_t>(from);
  }
  return e;
}

FailureOr<IOReport> mlir::attn::estimateIO(Operation *op, ScheduleAttr s,
                                           std::string *whyNot) {
  std::string why;
  auto fail = [&](StringRef reason) -> FailureOr<IOReport> {
    if (whyNot)
      *whyNot = reason.str();
    return failure();
  };
  if (!allStatic(op))
    return fail("dynamic shapes");
  FailureOr<WideReport> wide =
      llvm::TypeSwitch<Operation *, FailureOr<WideReport>>(op)
          .Case([&](AttentionOp o) { return attentionIO(o, s, why); })
          .Case([&](AttentionGradOp o) { return attentionGradIO(o, s, why); })
          .Case([&](SoftmaxOp o) { return softmaxIO(o, s, false); })
          .Case([&](LogSoftmaxOp o) { return softmaxIO(o, s, false); })
          .Case([&](LogSumExpOp o) { return softmaxIO(o, s, true); })
          .Case([&](CrossEntropyOp o) { return crossEntropyIO(o, s); })
          .Case([&](LinearCrossEntropyOp o) {
            return linearCrossEntropyIO(o, s);
          })
          .Case([&](SoftmaxGradOp o) { return softmaxGradIO(o, s, false); })
          .Case([&](LogSoftmaxGradOp o) { return softmaxGradIO(o, s, true); })
          .Case([&](LogSumExpGradOp o) { return logSumExpGradIO(o); })
          .Case([&](CrossEntropyGradOp o) { return crossEntropyGradIO(o); })
          .Case([&](LinearCrossEntropyGradOp o) -> FailureOr<WideReport> {
            bool ok = false;
            WideReport r = linearCrossEntropyGradIO(o, s, why, ok);
            if (!ok)
              return failure();
            return r;
          })
          .Default([&](Operation *other) -> FailureOr<WideReport> {
            why = isa<AttnOpInterface>(other)
                      ? "no IO model for " +
                            other->getName().getStringRef().str() + " yet"
                      : "not an attn op";
            return failure();
          });
  if (failed(wide))
    return fail(why);
  FailureOr<IOEstimate> tiled = narrow(wide->tiled),
                        unfused = narrow(wide->unfused);
  if (failed(tiled) || failed(unfused))
    return fail("byte or FLOP counts beyond int64");
  return IOReport{*tiled, *unfused};
}
