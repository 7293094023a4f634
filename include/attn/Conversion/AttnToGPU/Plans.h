//===- Plans.h - kernel plans: the one owner of schedule legality -*- C++ -*-===//
//
// For each kernel family of attn-map-to-gpu, one function
//   plan(op, schedule, chip) -> FailureOr<Plan>
// says whether the family's kernel runs `schedule` on `chip` and, if so,
// everything its builder needs (MMA kind, shared-memory bytes, register
// budget, grid, cluster). The op verifier (through the planner dialect
// interface), the enumerator, the default choice, attn-map-to-gpu and the
// cost model's features all ask these functions; nothing else decides
// legality, and there is one shared-memory model (docs/Architecture.md).
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_CONVERSION_ATTNTOGPU_PLANS_H
#define ATTN_CONVERSION_ATTNTOGPU_PLANS_H

#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Dialect/Attn/Utils/MaskGeometry.h"
#include "attn/Target/Target.h"

#include "mlir/IR/Diagnostics.h"

#include <array>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace mlir::attn {

/// Shared-memory rows of 16-bit tiles read by ldmatrix are padded by 8
/// elements (16 bytes), so that the eight 16-byte rows one ldmatrix reads
/// fall into distinct bank groups.
constexpr int64_t kLdmatrixRowPad = 8;

/// Which code computes an op on a target.
enum class KernelFamily {
  /// FlashAttention-2 forward on tensor cores (+ split-KV combine).
  Attention,
  /// FlashAttention-2 backward on tensor cores: a dQ launch over query
  /// blocks, then a dK/dV launch over key blocks; no atomics.
  AttentionGrad,
  /// Softmax, log_softmax, logsumexp: a row per block or per warp, or a row
  /// over a thread-block cluster.
  SoftmaxRows,
  /// Cross-entropy on materialized logits: one read of each row.
  CrossEntropyRows,
  /// Cut-Cross-Entropy linear cross-entropy on tensor cores (split-V).
  LinearCrossEntropy,
  /// Its backward on tensor cores, a vocabulary chunk at a time: the
  /// chunk's logit gradients into a bounded workspace, then the two
  /// products that accumulate grad_hidden and write grad_weight.
  LinearCrossEntropyGrad,
  /// No hand-scheduled kernel: attn-tile's loops on the host, or the
  /// decomposition with the simple one-thread-per-element GPU mapping.
  Loops,
};

enum class MmaKind { None, MmaSync, Wgmma };

StringRef stringifyKernelFamily(KernelFamily family);

/// What every plan says about its main kernel launch: the facts the
/// manifest records and the cost model's features read.
struct LaunchFacts {
  KernelFamily family = KernelFamily::Loops;
  MmaKind mma = MmaKind::None;
  /// N of the MMA instruction (wgmma m64nNk16; 8 for mma.sync m16n8k16).
  int64_t mmaN = 0;
  int64_t threads = 0;
  std::array<int64_t, 3> grid = {0, 0, 0};
  int64_t sharedBytes = 0;
  /// Blocks per cluster along x (1: none).
  int64_t cluster = 1;
  /// f32 accumulator (or row element) registers per thread the kernel keeps
  /// live: the part of the register budget the schedule decides.
  int64_t accumulatorRegisters = 0;
  /// Blocks an SM holds at once, bounded by shared memory and threads.
  int64_t blocksPerSM = 0;
  /// Registers per thread of the warps that compute, where the kernel moves
  /// registers from a producer warpgroup to them (setmaxnreg); 0: every
  /// thread gets an even share of the register file.
  int64_t registerLimit = 0;

  /// "wgmma.m64n64k16", "mma.sync.m16n8k16", or "" without tensor cores.
  std::string tensorCore() const;
};

/// Registers per thread under the TMA pipelines' register hand-over
/// (setmaxnreg): a producer thread keeps kProducerRegisters and a computing
/// thread gets kConsumerRegisters; with two computing warpgroups and the
/// producer's that is 64512 of the SM's 65536.
constexpr int64_t kProducerRegisters = 24;
constexpr int64_t kConsumerRegisters = 240;

/// Emits a diagnostic on the op; null where rejections are expected and
/// silent (enumeration).
using PlanDiagnostic = function_ref<InFlightDiagnostic()>;

//===----------------------------------------------------------------------===//
// Attention
//===----------------------------------------------------------------------===//

/// A static attention forward problem (q [B,Hq,M,D], k/v [B,Hkv,N,D],
/// 16-bit elements) and how the kernel maps it: blockM query rows per block
/// (16 or 32 per warp, or 64 per warpgroup on wgmma), blockN keys per tile,
/// `stages` shared-memory buffers of K/V, `split` blocks over the key tiles
/// of each row tile (split-KV).
struct AttentionProblem {
  int64_t batch, qHeads, kvHeads, queries, keys, headDim;
  Type elementType;
  double scale;
  std::optional<double> softcap;
  bool causal;
  std::optional<std::pair<int64_t, int64_t>> window;

  MaskSpec mask() const { return {causal, window}; }
  int64_t group() const { return qHeads / kvHeads; }
  /// Query rows of a block: the query heads of a KV head packed with their
  /// queries (GQA row packing).
  int64_t packedRows() const { return group() * queries; }
};

struct AttentionPlan : AttentionProblem {
  int64_t blockM, blockN, warps, stages, split;
  /// sm_90a: QK^T and PV on warpgroup MMA (a warpgroup per 64 query rows),
  /// else mma.sync (a warp per 16 or 32 rows).
  bool warpgroupMma = false;
  /// The "tma" pipeline (warp specialization): `warps` compute, and one
  /// more warpgroup, the producer, loads K and V tiles with TMA into
  /// `stages` buffers whose fill and release are mbarrier handshakes.
  bool tma = false;
  /// "tma_pingpong": the two computing warpgroups take turns issuing their
  /// MMAs (named barriers), each one's softmax under the other's GEMMs.
  bool pingPong = false;
  /// The tma pipeline's register hand-over (setmaxnreg): the producer gives
  /// registers up and the computing warps take them, where the launch
  /// leaves fewer per thread than those need (with two computing
  /// warpgroups, 168). ptxas ignores setmaxnreg (C7508) in a kernel that
  /// needs fewer, and with one computing warpgroup every thread has 255.
  bool handOverRegisters = false;
  LaunchFacts facts;

  /// Warps of the launch: the computing warps and the producer's.
  int64_t launchWarps() const { return warps + (tma ? 4 : 0); }
  /// Shared-memory bytes of the mbarriers of the tma pipeline: full and
  /// empty, for K and V, per stage (static shared memory).
  int64_t barrierBytes() const { return tma ? 4 * 8 * stages : 0; }
};

/// Why the tensor-core attention kernel cannot compute `op` under any
/// schedule (operand types, shapes, a mask operand), or "".
std::string unsupportedAttention(AttentionOp op);

/// Dynamic shared memory of the attention kernel, in bytes.
int64_t attentionSharedBytes(const AttentionPlan &plan);

FailureOr<AttentionPlan> planAttention(AttentionOp op, ScheduleAttr schedule,
                                       const ChipInfo &chip,
                                       PlanDiagnostic emitError);

//===----------------------------------------------------------------------===//
// Attention backward
//===----------------------------------------------------------------------===//

/// A static attention backward problem (shapes and attributes as
/// AttentionPlan) and its two launches, both on mma.sync m16n8k16 with
/// `warps` warps of 16 rows each:
///  - dQ: a block per 16 x warps packed query rows (GQA row packing) of a
///    KV head, looping over key tiles of blockN keys (K and V through
///    `stages` cp.async buffers); it also writes D = rowsum(dO * O);
///  - dK/dV: a block per 16 x warps keys of a KV head, looping over the
///    query tiles of blockM queries of every query head of its group (Q,
///    dO, LSE and D through `stages` buffers), so that GQA's sum over the
///    group stays in registers.
/// Each gradient element is written by one thread, once: deterministic.
struct AttentionGradPlan : AttentionProblem {
  int64_t blockM, blockN, warps, stages;
  /// Warpgroup MMA (sm_90a): a warpgroup per 64 rows, tiles in 128-byte
  /// swizzled slabs; else mma.sync with a warp per 16 rows.
  bool warpgroupMma = false;
  /// The dK/dV launch (the larger one): what the cost model reads.
  LaunchFacts facts;
  /// The dQ launch.
  LaunchFacts queryFacts;

  /// Query rows (dQ) or keys (dK/dV) of a block.
  int64_t blockRows() const { return 16 * warps; }
  int64_t pitch() const { return headDim + kLdmatrixRowPad; }
  /// Bytes of a 16-bit tile of `rows` rows of the head dim: rows padded for
  /// ldmatrix, or swizzled slabs (wgmma).
  int64_t tileBytes(int64_t rows) const {
    return 2 * rows * (warpgroupMma ? headDim : pitch());
  }
  /// Room to align the wgmma tiles' base to 1024 bytes.
  int64_t alignmentBytes() const { return warpgroupMma ? 1024 : 0; }
  /// Dynamic shared memory of the dQ launch: Q and dO of the block, and
  /// `stages` K and V tiles.
  int64_t querySharedBytes() const {
    return tileBytes(2 * blockRows() + 2 * stages * blockN) +
           alignmentBytes();
  }
  /// Of the dK/dV launch: K and V of the block, `stages` Q and dO tiles,
  /// and their LSE and D (f32).
  int64_t keySharedBytes() const {
    return tileBytes(2 * blockRows() + 2 * stages * blockM) +
           8 * stages * blockM + alignmentBytes();
  }
};

/// Why the tensor-core attention backward cannot compute `op` under any
/// schedule, or "".
std::string unsupportedAttentionGrad(AttentionGradOp op);

FailureOr<AttentionGradPlan> planAttentionGrad(AttentionGradOp op,
                                               ScheduleAttr schedule,
                                               const ChipInfo &chip,
                                               PlanDiagnostic emitError);

//===----------------------------------------------------------------------===//
// Rows: softmax family and cross-entropy on materialized logits
//===----------------------------------------------------------------------===//

/// What a row kernel computes. The gradients of softmax and log_softmax read
/// two rows (the forward's output y and its gradient dy) of one shape; the
/// gradients of logsumexp and cross-entropy are elementwise over the row,
/// given the row's LSE (and label) and upstream gradient.
enum class RowResult {
  Softmax,
  LogSoftmax,
  LogSumExp,
  CrossEntropy,
  SoftmaxGrad,
  LogSoftmaxGrad,
  LogSumExpGrad,
  CrossEntropyGrad
};

/// Whether the row kernel of `kind` reads the two rows of a gradient.
inline bool isGradientRow(RowResult kind) {
  return kind == RowResult::SoftmaxGrad || kind == RowResult::LogSoftmaxGrad;
}

/// Whether the row kernel of `kind` is elementwise (no row reduction).
inline bool isElementwiseRow(RowResult kind) {
  return kind == RowResult::LogSumExpGrad ||
         kind == RowResult::CrossEntropyGrad;
}

/// The most row elements one thread keeps in registers with passes = 1
/// (both rows of a gradient count).
constexpr int64_t kMaxRowElementsPerThread = 64;

/// A row kernel over `rows` rows of `cols` elements.
struct RowPlan {
  int64_t rows, cols;
  Type inputType, outputType;
  RowResult kind;
  int64_t rowsPerBlock, warps, passes;
  /// Blocks per row, a cluster (sm_90+; passes = 1, a row per block): block
  /// r of the cluster holds chunks [r C, (r + 1) C) of the row.
  int64_t cluster = 1;
  /// Elements per load: 16 bytes when the row length is a multiple of it.
  int64_t width;
  /// Cross-entropy attributes (and the gradient's reduction).
  Reduction reduction = Reduction::mean;
  int64_t ignoreIndex = -100;
  double labelSmoothing = 0, zLoss = 0;
  std::optional<double> softcap;
  LaunchFacts facts;

  int64_t threads() const { return 32 * warps; }
  int64_t threadsPerRow() const { return threads() / rowsPerBlock; }
  int64_t chunks() const { return cols / width; }
  /// Chunks of the row one block of the cluster holds (C).
  int64_t blockChunks() const { return (chunks() + cluster - 1) / cluster; }
  /// Chunks each thread holds with passes = 1.
  int64_t slots() const {
    return (blockChunks() + threadsPerRow() - 1) / threadsPerRow();
  }
  /// Dynamic shared memory: the cross-warp reduction slots and, for
  /// clusters, the two slots of the cluster exchange.
  int64_t sharedBytes() const {
    return (threadsPerRow() > 32 ? 4 * warps : 0) + (cluster > 1 ? 8 : 0);
  }
};

/// Why no row kernel computes `op` (a softmax-family op or cross_entropy),
/// or "".
std::string unsupportedRows(Operation *op);

FailureOr<RowPlan> planRows(Operation *op, ScheduleAttr schedule,
                            const ChipInfo &chip, PlanDiagnostic emitError);

//===----------------------------------------------------------------------===//
// Linear cross-entropy (Cut Cross-Entropy)
//===----------------------------------------------------------------------===//

/// A static linear cross-entropy problem (hidden [tokens, hidden], weight
/// [vocab, hidden], 16-bit elements) and the loss attributes its forward
/// and backward share.
struct LinearCrossEntropyProblem {
  int64_t tokens, hidden, vocab;
  Type elementType;
  int64_t ignoreIndex;
  double labelSmoothing, zLoss;
  std::optional<double> softcap;
};

struct LinearCrossEntropyPlan : LinearCrossEntropyProblem {
  int64_t blockM, blockN, blockD, warps, stages, split;
  /// sm_90a: logits tiles on warpgroup MMA (one m64 x block_n wgmma tile
  /// per warpgroup), else mma.sync m16n8k16 (16 tokens per warp).
  bool warpgroupMma = false;
  /// The "tma" pipeline (warp specialization): `warps` compute, and a
  /// producer warpgroup loads each step's hidden and weight chunks with TMA
  /// into `stages` buffers filled and released through mbarriers, so that
  /// the key loop has no CTA-wide barrier.
  bool tma = false;
  /// The tma pipeline's setmaxnreg hand-over, where the computing warps
  /// need more registers than an even share of the launch leaves them.
  bool handOverRegisters = false;
  LaunchFacts facts;

  /// Warps of the launch: the computing warps and the producer's.
  int64_t launchWarps() const { return warps + (tma ? 4 : 0); }
  /// Shared-memory bytes of the tma pipeline's mbarriers: full and empty
  /// per stage (static shared memory).
  int64_t barrierBytes() const { return tma ? 2 * 8 * stages : 0; }

  /// Shared-memory row pitch in elements: padded for ldmatrix; the
  /// swizzled 128-byte rows of wgmma need none.
  int64_t pitch() const;
  int64_t rowTiles() const { return (tokens + blockM - 1) / blockM; }
  int64_t vocabTiles() const { return (vocab + blockN - 1) / blockN; }
  int64_t chunks() const { return hidden / blockD; }
  int64_t sharedBytes() const;
};

/// Why the Cut-Cross-Entropy kernel cannot compute `op`, or "".
std::string unsupportedLinearCrossEntropy(LinearCrossEntropyOp op);

FailureOr<LinearCrossEntropyPlan>
planLinearCrossEntropy(LinearCrossEntropyOp op, ScheduleAttr schedule,
                       const ChipInfo &chip, PlanDiagnostic emitError);

/// The backward of linear cross-entropy on mma.sync, a chunk of `chunk`
/// classes at a time (a host loop over ceil(V / chunk) chunks, four
/// launches each):
///  1. grad-logits: G[N, chunk] = d loss / d (hidden W_c^T) from the saved
///     LSE, written in the operands' type to a workspace of
///     N x chunk elements (sized by kGradWorkspaceBytes);
///  2. grad-hidden: grad_hidden += G W_c, accumulated across chunks in f32
///     carried as two 16-bit halves (the result and a low-order workspace);
///  3. grad-weight: grad_weight[c] = G^T hidden (each chunk owns its rows);
///  4. with a bias, grad_bias[c] = column sums of G.
/// All three products are block_m x block_n tiles over block_d-deep steps
/// through `stages` cp.async buffers, on `warps` warps laid out
/// (warps / 2) x 2 (mma.sync) or a warpgroup per 64 rows (wgmma). Nothing is atomic: every element is written by one
/// thread, in a fixed order (deterministic).
struct LinearCrossEntropyGradPlan : LinearCrossEntropyProblem {
  bool hasBias;
  int64_t blockM, blockN, blockD, warps, stages;
  /// Classes per chunk: a multiple of block_m and block_n.
  int64_t chunk;
  /// sm_90a: the products on warpgroup MMA (a warpgroup per 64 rows of a
  /// tile, block_n columns; 64-deep steps in 128-byte-swizzled slabs, one
  /// wgmma group in flight), else mma.sync.
  bool warpgroupMma = false;
  /// With grad_filter on wgmma: grad-logits flags each of its tiles that
  /// has a nonzero gradient, and grad-hidden / grad-weight skip the steps
  /// whose operand tile is all zero (Cut Cross-Entropy's gradient
  /// filtering saving work); the tiles must nest (block_d | block_m |
  /// block_n).
  bool skipTiles = false;
  /// The "tma" pipeline (sm_90a, warp specialization): `warps` compute
  /// (wgmma), and a producer warpgroup loads each step's operand tiles with
  /// TMA (boxes of 128-byte swizzled slabs; K-major or M/N-major as the
  /// product reads the operand) into `stages` buffers filled and released
  /// through mbarriers, so that no product has a CTA-wide barrier per step.
  bool tma = false;
  /// The tma pipeline's setmaxnreg hand-over, where the computing warps
  /// need more registers than an even share of the launch leaves them.
  bool handOverRegisters = false;
  Reduction reduction;
  std::optional<double> filter;
  /// The grad-logits launch (the grad-hidden and grad-weight launches have
  /// the same block and tiles).
  LaunchFacts facts;

  /// Warps of each launch: the computing warps and the producer's.
  int64_t launchWarps() const { return warps + (tma ? 4 : 0); }
  /// Shared-memory bytes of the tma pipeline's mbarriers: full and empty
  /// per stage (static shared memory).
  int64_t barrierBytes() const { return tma ? 2 * 8 * stages : 0; }

  int64_t warpsM() const { return warps / 2; }
  static constexpr int64_t warpsN() { return 2; }
  int64_t chunks() const { return (vocab + chunk - 1) / chunk; }
  /// Dynamic shared memory of a product with a K-major (row pitch
  /// block_d + pad) or transposed (pitch block_m/n + pad) operand tile.
  int64_t sharedBytes() const;
  /// Bytes of the logit-gradient workspace and of the low-order half of
  /// grad_hidden's f32 accumulator (0 when one chunk covers V).
  int64_t workspaceBytes() const;
};

/// The bytes the linear cross-entropy backward aims to allocate beyond its
/// results: the logit-gradient workspace of a chunk and, with more than one
/// chunk, the low-order half of grad_hidden (N x D x 2 bytes). The
/// workspace never drops below kMinGradChunkBytes (large N x D exceed the
/// aim by that much rather than shrink the products).
constexpr int64_t kGradWorkspaceBytes = int64_t(64) << 20;
constexpr int64_t kMinGradChunkBytes = int64_t(16) << 20;

/// Why the tensor-core linear cross-entropy backward cannot compute `op`,
/// or "".
std::string
unsupportedLinearCrossEntropyGrad(LinearCrossEntropyGradOp op);

FailureOr<LinearCrossEntropyGradPlan>
planLinearCrossEntropyGrad(LinearCrossEntropyGradOp op, ScheduleAttr schedule,
                           const ChipInfo &chip, PlanDiagnostic emitError);

//===----------------------------------------------------------------------===//
// Any op
//===----------------------------------------------------------------------===//

/// The plan of whichever family computes `op` on `chip`.
struct KernelPlan {
  std::variant<std::monostate, AttentionPlan, AttentionGradPlan, RowPlan,
               LinearCrossEntropyPlan, LinearCrossEntropyGradPlan>
      detail;
  LaunchFacts facts;
  /// For the Loops family on a GPU: why no hand-scheduled kernel takes the
  /// op (the remark attn-map-to-gpu prints).
  std::string whyLoops;

  KernelFamily family() const { return facts.family; }
};

/// The family that computes `op` on `chip` (under any schedule).
KernelFamily getKernelFamily(Operation *op, const ChipInfo &chip);

/// The family that computes `op` on `chip` and its plan under `schedule`,
/// or failure (with a diagnostic naming the field and the limit, through
/// `emitError` when given) when that family cannot run the schedule.
FailureOr<KernelPlan> planKernel(Operation *op, ScheduleAttr schedule,
                                 const ChipInfo &chip,
                                 PlanDiagnostic emitError = nullptr);

/// As above, for the chip the schedule names.
FailureOr<KernelPlan> planKernel(Operation *op, ScheduleAttr schedule,
                                 PlanDiagnostic emitError = nullptr);

/// Makes the attn dialect's verifier check every op's `schedule` attribute
/// against its plan (the SchedulePlannerInterface of AttnDialect).
void registerKernelPlanner(DialectRegistry &registry);

} // namespace mlir::attn

#endif // ATTN_CONVERSION_ATTNTOGPU_PLANS_H
