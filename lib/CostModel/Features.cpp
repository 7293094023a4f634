//===- Features.cpp - what the cost model knows of a candidate ------------===//
//
// Each feature is a plain function of the op, the schedule, the kernel plan
// and the chip table. Sizes enter as log2(1 + x), so that a tree splits
// shapes and tiles on ratios; flags and fractions enter as they are.
//
//===----------------------------------------------------------------------===//

#include "attn/CostModel/Features.h"
#include "attn/Dialect/Attn/IR/Schedule.h"

#include "attn/Conversion/AttnToGPU/Plans.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Tuning/IOModel.h"

#include "llvm/ADT/TypeSwitch.h"

#include <cmath>

using namespace mlir;
using namespace mlir::attn;

namespace {
/// The feature list: one entry per name, in order. Adding a feature means
/// adding its name here, its value in computeFeatures, and bumping
/// kFeatureVersion.
constexpr StringLiteral kNames[] = {
    // What the op is.
    "op_attention", "op_softmax", "op_log_softmax", "op_logsumexp",
    "op_cross_entropy", "op_linear_cross_entropy", "op_attention_grad",
    "op_softmax_grad", "op_log_softmax_grad", "op_logsumexp_grad",
    "op_cross_entropy_grad", "op_linear_cross_entropy_grad",
    // Its shape (a gradient's like its forward op's): attention
    // [B, Hq|Hkv, M|N, D]; rows: M rows of N; losses: M tokens, N classes,
    // D hidden.
    "log_batch", "log_heads_q", "log_heads_kv", "log_m", "log_n", "log_d",
    "causal", "window", "softcap", "elem_bytes",
    // The schedule's knobs.
    "log_block_m", "log_block_n", "log_block_d", "log_warps", "log_stages",
    "log_split", "passes",
    // The pipeline: cp.async in the computing warps (0, 0), TMA with a
    // producer warpgroup (1, 0), and its ping-pong of two computing
    // warpgroups (1, 1).
    "pipeline_tma", "pipeline_pingpong",
    // Padding the tiles add: tiles x tile / size along M and N (>= 1).
    "pad_m", "pad_n",
    // The plan's launch facts.
    "mma_kind", "log_mma_n", "log_threads", "log_shared_bytes",
    "log_acc_registers", "blocks_per_sm", "cluster", "resident_warps_per_sm",
    // Waves on the chip's SMs.
    "log_blocks", "log_waves", "waves_ceil", "tail_idle_fraction",
    "sm_utilization",
    // IO model and roofline.
    "log_bytes", "log_flops", "log_transcendentals", "log_intensity",
    "log_unfused_bytes", "log_mem_us", "log_math_us", "log_roofline_us",
    "log_roofline_over_util_us", "log_bytes_per_block", "log_flops_per_block"};

/// The op one-hots at the front of kNames, in ShapeFacts::kind order.
constexpr int64_t kOpKinds = 12;

double log2p(double x) { return std::log2(1.0 + std::max(0.0, x)); }

/// The sizes the shape features describe.
struct ShapeFacts {
  int64_t kind = -1;
  int64_t batch = 1, headsQ = 1, headsKv = 1, m = 1, n = 1, d = 0;
  bool causal = false, window = false, softcap = false;
  int64_t elemBytes = 2;
};

int64_t bytesOf(Value v) {
  Type t = cast<ShapedType>(v.getType()).getElementType();
  return std::max<int64_t>(1, t.getIntOrFloatBitWidth() / 8);
}

/// Rows (the product of the other dims) and row length of a softmax-family
/// input along `dim`.
std::pair<int64_t, int64_t> rowsOf(Value input, int64_t dim) {
  auto type = cast<ShapedType>(input.getType());
  int64_t rows = 1;
  for (auto [i, size] : llvm::enumerate(type.getShape()))
    if (static_cast<int64_t>(i) != dim)
      rows *= size;
  return {rows, type.getDimSize(dim)};
}

FailureOr<ShapeFacts> shapeFacts(Operation *op) {
  ShapeFacts f;
  for (Type t : op->getOperandTypes())
    if (!cast<ShapedType>(t).hasStaticShape())
      return failure();
  bool known = true;
  llvm::TypeSwitch<Operation *>(op)
      .Case<AttentionOp, AttentionGradOp>([&](auto o) {
        ArrayRef<int64_t> q = o.getQuery().getType().getShape();
        ArrayRef<int64_t> k = o.getKey().getType().getShape();
        f.kind = isa<AttentionOp>(op) ? 0 : 6;
        f.batch = q[0];
        f.headsQ = q[1];
        f.headsKv = k[1];
        f.m = q[2];
        f.n = k[2];
        f.d = q[3];
        f.causal = o.getCausal();
        f.window = o.getWindow().has_value();
        f.softcap = o.getSoftcap().has_value();
        f.elemBytes = bytesOf(o.getQuery());
      })
      .Case<SoftmaxOp, LogSoftmaxOp, LogSumExpOp, LogSumExpGradOp>([&](auto o) {
        f.kind = isa<SoftmaxOp>(op)      ? 1
                 : isa<LogSoftmaxOp>(op) ? 2
                 : isa<LogSumExpOp>(op)  ? 3
                                         : 9;
        std::tie(f.m, f.n) = rowsOf(o.getInput(), o.getDim());
        f.elemBytes = bytesOf(o.getInput());
      })
      .Case<SoftmaxGradOp, LogSoftmaxGradOp>([&](auto o) {
        f.kind = isa<SoftmaxGradOp>(op) ? 7 : 8;
        std::tie(f.m, f.n) = rowsOf(o.getOutput(), o.getDim());
        f.elemBytes = bytesOf(o.getOutput());
      })
      .Case<CrossEntropyOp, CrossEntropyGradOp>([&](auto o) {
        ArrayRef<int64_t> z = o.getLogits().getType().getShape();
        f.kind = isa<CrossEntropyOp>(op) ? 4 : 10;
        f.m = z[0];
        f.n = z[1];
        f.softcap = o.getSoftcap().has_value();
        f.elemBytes = bytesOf(o.getLogits());
      })
      .Case<LinearCrossEntropyOp, LinearCrossEntropyGradOp>([&](auto o) {
        ArrayRef<int64_t> h = o.getHidden().getType().getShape();
        ArrayRef<int64_t> w = o.getWeight().getType().getShape();
        f.kind = isa<LinearCrossEntropyOp>(op) ? 5 : 11;
        f.m = h[0];
        f.n = w[0];
        f.d = h[1];
        f.softcap = o.getSoftcap().has_value();
        f.elemBytes = bytesOf(o.getHidden());
      })
      .Default([&](Operation *) { known = false; });
  if (!known)
    return failure();
  return f;
}

/// tiles x tile / size: the work the tile grid adds (1 when it divides).
double padding(int64_t size, int64_t tile) {
  if (size <= 0 || tile <= 0)
    return 1.0;
  double tiles = std::ceil(double(size) / double(tile));
  return tiles * double(tile) / double(size);
}
} // namespace

ArrayRef<StringRef> mlir::attn::getFeatureNames() {
  static const SmallVector<StringRef> names(std::begin(kNames),
                                            std::end(kNames));
  return names;
}

/// Seconds of memory and math time of an estimate on `chip`; math on
/// CUDA cores (no tensor core) at a sixteenth of the tensor-core rate.
static std::pair<double, double> rooflineSeconds(const IOEstimate &io,
                                                 const LaunchFacts &facts,
                                                 const ChipInfo &chip) {
  double bytes = double(io.bytesRead) + double(io.bytesWritten);
  double mathRate =
      chip.bf16FlopsPerSecond * (facts.mma == MmaKind::None ? 1.0 / 16.0 : 1.0);
  double mem =
      chip.copyBytesPerSecond > 0 ? bytes / chip.copyBytesPerSecond : 0.0;
  double math = mathRate > 0 ? double(io.flops) / mathRate : 0.0;
  return {mem, math};
}

FailureOr<double> mlir::attn::rooflineMicroseconds(Operation *op,
                                                   ScheduleAttr schedule,
                                                   const ChipInfo &chip,
                                                   std::string *whyNot) {
  FailureOr<KernelPlan> plan = planKernel(op, schedule, chip);
  if (failed(plan)) {
    if (whyNot)
      *whyNot = "the schedule has no plan on " + chip.name.str();
    return failure();
  }
  FailureOr<IOReport> io = estimateIO(op, schedule, whyNot);
  if (failed(io))
    return failure();
  auto [mem, math] = rooflineSeconds(io->tiled, plan->facts, chip);
  return 1e6 * std::max(mem, math);
}

FailureOr<SmallVector<double>>
mlir::attn::computeFeatures(Operation *op, ScheduleAttr schedule,
                            const ChipInfo &chip, std::string *whyNot) {
  auto fail = [&](const std::string &why) {
    if (whyNot)
      *whyNot = why;
    return failure();
  };
  FailureOr<ShapeFacts> shape = shapeFacts(op);
  if (failed(shape)) {
    bool isStatic = llvm::all_of(op->getOperandTypes(), [](Type t) {
      return cast<ShapedType>(t).hasStaticShape();
    });
    if (isStatic && isa<AttnOpInterface>(op))
      return fail("no cost-model features for " +
                  op->getName().getStringRef().str() + " yet");
    return fail("not an attn op on static shapes");
  }
  FailureOr<KernelPlan> plan = planKernel(op, schedule, chip);
  if (failed(plan))
    return fail("the schedule has no plan on " + chip.name.str());
  FailureOr<IOReport> io = estimateIO(op, schedule, whyNot);
  if (failed(io))
    return failure();
  const LaunchFacts &facts = plan->facts;

  SmallVector<double> v;
  v.reserve(std::size(kNames));
  assert(StringRef(kNames[kOpKinds]) == "log_batch" &&
         "kOpKinds one-hots precede the shape");
  for (int64_t k = 0; k < kOpKinds; ++k)
    v.push_back(shape->kind == k ? 1.0 : 0.0);
  v.push_back(log2p(shape->batch));
  v.push_back(log2p(shape->headsQ));
  v.push_back(log2p(shape->headsKv));
  v.push_back(log2p(shape->m));
  v.push_back(log2p(shape->n));
  v.push_back(log2p(shape->d));
  v.push_back(shape->causal);
  v.push_back(shape->window);
  v.push_back(shape->softcap);
  v.push_back(shape->elemBytes);

  v.push_back(log2p(schedule.getBlockM()));
  v.push_back(log2p(schedule.getBlockN()));
  v.push_back(log2p(schedule.getBlockD()));
  v.push_back(log2p(schedule.getWarps()));
  v.push_back(log2p(schedule.getStages()));
  v.push_back(log2p(schedule.getSplit()));
  v.push_back(schedule.getPasses());
  v.push_back(isTmaPipeline(schedule.getPipeline()));
  v.push_back(schedule.getPipeline() == kPipelineTmaPingPong);
  // Attention packs the query heads of a KV head into the row tiles (GQA).
  bool attention = shape->kind == 0 || shape->kind == 6;
  int64_t rowsM =
      attention
          ? shape->headsQ / std::max<int64_t>(1, shape->headsKv) * shape->m
          : shape->m;
  v.push_back(padding(rowsM, schedule.getBlockM()));
  v.push_back(padding(shape->n, schedule.getBlockN()));

  v.push_back(static_cast<double>(facts.mma));
  v.push_back(log2p(facts.mmaN));
  v.push_back(log2p(facts.threads));
  v.push_back(log2p(facts.sharedBytes));
  v.push_back(log2p(facts.accumulatorRegisters));
  v.push_back(facts.blocksPerSM);
  v.push_back(facts.cluster);
  v.push_back(double(facts.blocksPerSM) * double(facts.threads) / 32.0);

  double blocks =
      double(facts.grid[0]) * double(facts.grid[1]) * double(facts.grid[2]);
  double slots = double(std::max<int64_t>(1, facts.blocksPerSM)) *
                 double(std::max<int64_t>(1, chip.smCount));
  double waves = blocks / slots;
  double wavesCeil = std::max(1.0, std::ceil(waves));
  double utilization = blocks > 0 ? waves / wavesCeil : 0.0;
  v.push_back(log2p(blocks));
  v.push_back(log2p(waves));
  v.push_back(wavesCeil);
  // The share of the last wave's block slots left idle.
  double lastWave = waves - std::floor(waves);
  v.push_back(lastWave > 0 ? 1.0 - lastWave : 0.0);
  v.push_back(utilization);

  const IOEstimate &t = io->tiled;
  double bytes = double(t.bytesRead) + double(t.bytesWritten);
  double flops = double(t.flops);
  v.push_back(log2p(bytes));
  v.push_back(log2p(flops));
  v.push_back(log2p(double(t.transcendentals)));
  v.push_back(std::log2((1.0 + flops) / (1.0 + bytes)));
  v.push_back(
      log2p(double(io->unfused.bytesRead) + double(io->unfused.bytesWritten)));
  auto [mem, math] = rooflineSeconds(t, facts, chip);
  double roofline = 1e6 * std::max(mem, math);
  v.push_back(log2p(1e6 * mem));
  v.push_back(log2p(1e6 * math));
  v.push_back(log2p(roofline));
  v.push_back(log2p(utilization > 0 ? roofline / utilization : roofline));
  v.push_back(log2p(blocks > 0 ? bytes / blocks : 0));
  v.push_back(log2p(blocks > 0 ? flops / blocks : 0));
  assert(v.size() == std::size(kNames) && "a feature without a name");
  return v;
}
