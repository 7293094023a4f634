//===- KernelBuilder.h - building the body of an attn GPU kernel -*- C++ -*-===//
//
// Scalar, index and warp-level helpers for the kernels attn-map-to-gpu
// writes into gpu.launch bodies: index arithmetic that folds constants,
// f32 math, warp shuffles, and the mma.sync / ldmatrix / cp.async pieces of
// the tensor-core kernels. Internal to the AttnToGPU conversion.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LIB_CONVERSION_ATTNTOGPU_KERNELBUILDER_H
#define ATTN_LIB_CONVERSION_ATTNTOGPU_KERNELBUILDER_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <array>
#include <limits>

namespace mlir::attn::gpu_kernel {

constexpr double kLog2e = 1.4426950408889634;
constexpr double kLn2 = 0.6931471805599453;

/// Shared-memory rows of 16-bit tiles are padded by 8 elements (16 bytes),
/// so that the eight 16-byte rows one ldmatrix reads fall into distinct
/// bank groups.
constexpr int64_t kRowPad = 8;

/// The shared-memory address space of gpu.launch bodies.
inline Attribute workgroupSpace(MLIRContext *ctx) {
  return gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Workgroup);
}

class KernelBuilder;

/// Builds, at `b`'s insertion point, a gpu.launch of grid `blocks` and
/// `threads` threads with `smemBytes` of dynamic shared memory (0: none),
/// in clusters of `cluster` blocks along x when above 1 (sm_90+); `body`
/// fills the kernel, before its gpu.terminator.
void buildLaunch(OpBuilder &b, Location loc, std::array<int64_t, 3> blocks,
                 int64_t threads, int64_t smemBytes,
                 function_ref<void(gpu::LaunchOp, KernelBuilder &)> body,
                 int64_t cluster = 1);

/// Registers of one thread holding its part of an m16n8 f32 accumulator:
/// c[0], c[1] are row lane/4, columns 2*(lane%4) + {0, 1}; c[2], c[3] the
/// same columns of row lane/4 + 8.
using Accumulator = std::array<Value, 4>;

/// Registers of an m16k16 A operand (4 packed pairs) or a k16n8 B operand
/// (the first 2 entries), as mma.sync takes them for the element type.
using Fragment = std::array<Value, 4>;

/// Builds kernel code at one insertion point.
class KernelBuilder {
public:
  KernelBuilder(OpBuilder &b, Location loc) : b(b), loc(loc) {}

  OpBuilder &builder() { return b; }
  Location location() { return loc; }

  // Index arithmetic; constants fold.
  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value add(Value x, Value y) { return fold<arith::AddIOp>(x, y); }
  Value add(Value x, int64_t y) { return y == 0 ? x : add(x, idx(y)); }
  Value sub(Value x, Value y) { return fold<arith::SubIOp>(x, y); }
  Value mul(Value x, int64_t y) {
    return y == 1 ? x : fold<arith::MulIOp>(x, idx(y));
  }
  Value mul(Value x, Value y) { return fold<arith::MulIOp>(x, y); }
  Value div(Value x, int64_t y) {
    return y == 1 ? x : fold<arith::DivUIOp>(x, idx(y));
  }
  Value rem(Value x, int64_t y) {
    return fold<arith::RemUIOp>(x, idx(y));
  }
  /// ceil(x / y) for x >= 0.
  Value ceilDiv(Value x, int64_t y) { return div(add(x, y - 1), y); }
  Value minI(Value x, Value y) { return fold<arith::MinSIOp>(x, y); }
  Value maxI(Value x, Value y) { return fold<arith::MaxSIOp>(x, y); }
  Value minI(Value x, int64_t y) { return minI(x, idx(y)); }
  Value maxI(Value x, int64_t y) { return maxI(x, idx(y)); }
  Value lt(Value x, Value y) { return cmpI(arith::CmpIPredicate::slt, x, y); }
  Value lt(Value x, int64_t y) { return lt(x, idx(y)); }
  Value le(Value x, Value y) { return cmpI(arith::CmpIPredicate::sle, x, y); }
  Value eqI(Value x, int64_t y) {
    return cmpI(arith::CmpIPredicate::eq, x, idx(y));
  }
  Value cmpI(arith::CmpIPredicate p, Value x, Value y) {
    return fold<arith::CmpIOp>(p, x, y);
  }
  Value andI(Value x, Value y) { return fold<arith::AndIOp>(x, y); }
  Value orI(Value x, Value y) { return fold<arith::OrIOp>(x, y); }
  Value xorI(Value x, Value y) { return fold<arith::XOrIOp>(x, y); }
  Value select(Value c, Value x, Value y) {
    return fold<arith::SelectOp>(c, x, y);
  }
  Value i1(bool v) { return arith::ConstantIntOp::create(b, loc, v, 1); }
  Value i32(int64_t v) { return arith::ConstantIntOp::create(b, loc, v, 32); }

  // f32 math.
  Value f32(double v) {
    return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v));
  }
  Value negInf() { return f32(-std::numeric_limits<double>::infinity()); }
  Value addF(Value x, Value y) { return arith::AddFOp::create(b, loc, x, y); }
  Value subF(Value x, Value y) { return arith::SubFOp::create(b, loc, x, y); }
  Value mulF(Value x, Value y) { return arith::MulFOp::create(b, loc, x, y); }
  Value divF(Value x, Value y) { return arith::DivFOp::create(b, loc, x, y); }
  Value maxF(Value x, Value y) { return arith::MaxNumFOp::create(b, loc, x, y); }
  /// x * y + z, fused.
  Value fma(Value x, Value y, Value z) {
    return math::FmaOp::create(b, loc, x, y, z);
  }
  Value cmpF(arith::CmpFPredicate p, Value x, Value y) {
    return arith::CmpFOp::create(b, loc, p, x, y);
  }
  /// 2^x through the special-function unit (ex2.approx).
  Value exp2(Value x) {
    return math::Exp2Op::create(b, loc, x, arith::FastMathFlags::afn);
  }
  Value log2(Value x) { return math::Log2Op::create(b, loc, x); }
  Value tanh(Value x) { return math::TanhOp::create(b, loc, x); }
  Value extF(Value x) {
    return x.getType().isF32()
               ? x
               : arith::ExtFOp::create(b, loc, b.getF32Type(), x).getResult();
  }
  Value truncF(Value x, Type t) {
    return t.isF32() ? x : arith::TruncFOp::create(b, loc, t, x).getResult();
  }
  /// `x` when `cond`, else -inf.
  Value orNegInf(Value cond, Value x) { return select(cond, x, negInf()); }

  /// The butterfly reduction of `v` over the lanes that differ in the bits of
  /// `laneMask` (1 | 2 for the four lanes of an mma quad, 31 for a warp).
  Value warpReduce(Value v, int64_t laneMask, bool isMax) {
    for (int64_t bit = 1; bit < 32; bit <<= 1) {
      if (!(laneMask & bit))
        continue;
      auto shfl = gpu::ShuffleOp::create(b, loc, v, bit, 32,
                                         gpu::ShuffleMode::XOR);
      v = isMax ? maxF(v, shfl.getShuffleResult())
                : addF(v, shfl.getShuffleResult());
    }
    return v;
  }

  /// One 16-byte cp.async of `elements` elements from global memory into
  /// shared memory; `validElements` (0 or `elements`) of them are read, the
  /// rest of the 16 bytes are zero-filled.
  void asyncCopy(Value dst, ValueRange dstIndices, Value src,
                 ValueRange srcIndices, int64_t elements, Value validElements) {
    nvgpu::DeviceAsyncCopyOp::create(
        b, loc, nvgpu::DeviceAsyncTokenType::get(b.getContext()), dst,
        dstIndices, src, srcIndices, b.getIndexAttr(elements), validElements,
        b.getUnitAttr());
  }
  void asyncCommit() { NVVM::CpAsyncCommitGroupOp::create(b, loc); }
  void asyncWait(int64_t pendingGroups) {
    NVVM::CpAsyncWaitGroupOp::create(b, loc, pendingGroups);
  }
  void barrier() { gpu::BarrierOp::create(b, loc); }

  /// ldmatrix of `tiles` 8x8 16-bit matrices; returns `tiles` packed pairs
  /// in the operand form mma.sync takes for `elementType`.
  SmallVector<Value> loadMatrix(Value smem, ValueRange indices, int64_t tiles,
                                bool transpose, Type elementType) {
    auto type = VectorType::get({tiles, 2}, elementType);
    Value m = nvgpu::LdMatrixOp::create(b, loc, type, smem, indices, transpose,
                                        tiles);
    SmallVector<Value> pairs;
    for (int64_t i = 0; i < tiles; ++i)
      pairs.push_back(
          operandForm(vector::ExtractOp::create(b, loc, m, i), elementType));
    return pairs;
  }

  /// Packs two f32 values into an mma operand register of `elementType`.
  Value packPair(Value lo, Value hi, Type elementType) {
    auto f32x2 = VectorType::get({2}, b.getF32Type());
    Value v = vector::FromElementsOp::create(b, loc, f32x2, ValueRange{lo, hi});
    Value t = arith::TruncFOp::create(
        b, loc, VectorType::get({2}, elementType), v);
    return operandForm(t, elementType);
  }

  /// d = a * b + c on m16n8k16 with 16-bit operands, f32 accumulation.
  Accumulator mma(const Fragment &a, Value b0, Value b1, const Accumulator &c,
                  Type elementType) {
    MLIRContext *ctx = b.getContext();
    auto ptxType = elementType.isBF16() ? NVVM::MMATypes::bf16
                                        : NVVM::MMATypes::f16;
    Type f32 = b.getF32Type();
    auto resultType = LLVM::LLVMStructType::getLiteral(ctx, {f32, f32, f32, f32});
    auto op = NVVM::MmaOp::create(
        b, loc, resultType, ValueRange{a[0], a[1], a[2], a[3]},
        ValueRange{b0, b1}, ValueRange{c[0], c[1], c[2], c[3]},
        ArrayRef<int64_t>{16, 8, 16},
        /*b1Op=*/std::nullopt, /*intOverflow=*/std::nullopt,
        std::array<NVVM::MMATypes, 2>{ptxType, ptxType},
        std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row,
                                       NVVM::MMALayout::col});
    Accumulator d;
    for (int64_t i = 0; i < 4; ++i)
      d[i] = LLVM::ExtractValueOp::create(b, loc, op.getRes(), i);
    return d;
  }

  /// The kernel's dynamic shared memory, as bytes.
  Value sharedBytes() {
    return gpu::DynamicSharedMemoryOp::create(
        b, loc,
        MemRefType::get({ShapedType::kDynamic}, b.getI8Type(),
                        MemRefLayoutAttrInterface(),
                        workgroupSpace(b.getContext())));
  }

  /// A view of `shape` x `elementType` at `byteOffset` of the kernel's
  /// dynamic shared memory.
  Value sharedView(ArrayRef<int64_t> shape, Type elementType,
                   int64_t byteOffset) {
    return sharedView(sharedBytes(), shape, elementType, idx(byteOffset));
  }
  Value sharedView(Value raw, ArrayRef<int64_t> shape, Type elementType,
                   Value byteOffset) {
    auto type = MemRefType::get(shape, elementType, MemRefLayoutAttrInterface(),
                                workgroupSpace(b.getContext()));
    return memref::ViewOp::create(b, loc, type, raw, byteOffset, ValueRange{});
  }

  // Hopper (sm_90a): warpgroup MMA on operands in shared memory.

  /// The shared-window byte address of the first element of `smem`.
  Value sharedAddress(Value smem) {
    return memref::ExtractAlignedPointerAsIndexOp::create(b, loc, smem);
  }

  /// Element offset, in a tile of `rows` rows stored as 128-byte-swizzled
  /// slabs of 64 16-bit columns (slab after slab, `rows` 128-byte rows
  /// each), of the 16-byte chunk `chunk` (columns 8 chunk .. 8 chunk + 7) of
  /// row `row`: chunk q of a row sits at q ^ (row % 8) of its slab row, so
  /// that 8 consecutive rows of one chunk fall into distinct bank groups.
  Value swizzledOffset(Value row, Value chunk, int64_t rows) {
    Value slab = div(chunk, 8);
    Value q = xorI(rem(chunk, 8), rem(row, 8));
    return add(mul(add(mul(slab, rows), row), 64), mul(q, 8));
  }

  /// The wgmma descriptor of a 16-bit operand in 128-byte-swizzled slabs
  /// (swizzledOffset) whose first element is at shared byte address
  /// `address` (an index); `strideBytes` apart lie its 8-row groups and
  /// `leadingBytes` apart its slabs along M/N (used by MN-major operands
  /// only). K-major operands step K by 16 by advancing `address` 32 bytes
  /// inside a slab.
  Value wgmmaDescriptor(Value address, int64_t leadingBytes = 16,
                        int64_t strideBytes = 1024) {
    Type i64 = b.getI64Type();
    auto c = [&](uint64_t v) -> Value {
      return arith::ConstantIntOp::create(b, loc, i64, v);
    };
    Value a = arith::IndexCastUIOp::create(b, loc, i64, address);
    a = arith::ShRUIOp::create(b, loc, arith::AndIOp::create(b, loc, a,
                                                             c(0x3FFFF)),
                               c(4));
    uint64_t fixed = (uint64_t(leadingBytes >> 4) << 16) |
                     (uint64_t(strideBytes >> 4) << 32) |
                     (uint64_t(1) << 62); // 128-byte swizzle
    return arith::OrIOp::create(b, loc, a, c(fixed));
  }

  /// The f32 accumulator of an m64nN wgmma: N / 2 registers per thread,
  /// laid out per n8 column block like the m16n8 accumulator of mma.sync
  /// (rows 16 x the warp's index in its warpgroup + lane / 4, + 8).
  Type warpgroupAccumulatorType(int64_t n) {
    return LLVM::LLVMStructType::getLiteral(
        b.getContext(), SmallVector<Type>(n / 2, b.getF32Type()));
  }

  /// acc += A (m64 x k16) * B (k16 x n), both in shared memory; A K-major,
  /// B K-major or (`transposeB`) N-major.
  Value wgmma(Value descA, Value descB, Value acc, int64_t n,
              Type elementType, bool transposeB = false) {
    MLIRContext *ctx = b.getContext();
    auto type = NVVM::WGMMATypesAttr::get(ctx, wgmmaType(elementType));
    auto one = NVVM::WGMMAScaleInAttr::get(ctx, NVVM::WGMMAScaleIn::one);
    return NVVM::WgmmaMmaAsyncOp::create(
        b, loc, acc.getType(), acc, descA, descB,
        NVVM::MMAShapeAttr::get(ctx, 64, n, 16), type, type,
        NVVM::WGMMATypesAttr::get(ctx, NVVM::WGMMATypes::f32),
        NVVM::WGMMAScaleOutAttr::get(ctx, NVVM::WGMMAScaleOut::one), one, one,
        NVVM::MMALayoutAttr::get(ctx, NVVM::MMALayout::row),
        NVVM::MMALayoutAttr::get(ctx, transposeB ? NVVM::MMALayout::row
                                                 : NVVM::MMALayout::col),
        /*satfinite=*/nullptr);
  }

  /// acc += A (m64 x k16, in registers: each warp's 16 rows as the m16k16
  /// operand of mma.sync) * B (k16 x n in shared memory, N-major when
  /// `transposeB`). nvvm.wgmma.mma_async takes A only from shared memory,
  /// so this one is inline PTX.
  Value wgmmaRegisterA(const Fragment &a, Value descB, Value acc, int64_t n,
                       Type elementType, bool transposeB) {
    MLIRContext *ctx = b.getContext();
    int64_t regs = n / 2;
    SmallVector<Value> operands;
    for (int64_t i = 0; i < regs; ++i)
      operands.push_back(LLVM::ExtractValueOp::create(b, loc, acc, i));
    std::string text = "{\n.reg .pred p;\nsetp.ne.b32 p, 1, 0;\n"
                       "wgmma.mma_async.sync.aligned.m64n" +
                       std::to_string(n) + "k16.f32." +
                       (elementType.isBF16() ? "bf16.bf16" : "f16.f16") + " {";
    std::string constraints;
    for (int64_t i = 0; i < regs; ++i) {
      text += (i ? ", $" : "$") + std::to_string(i);
      constraints += (i ? ",=f" : "=f");
    }
    for (int64_t i = 0; i < regs; ++i)
      constraints += "," + std::to_string(i);
    text += "}, {";
    for (int64_t i = 0; i < 4; ++i) {
      text += (i ? ", $" : "$") + std::to_string(2 * regs + i);
      constraints += ",r";
      Value reg = a[i];
      if (!reg.getType().isInteger(32))
        reg = vector::ExtractOp::create(
            b, loc,
            vector::BitCastOp::create(
                b, loc, VectorType::get({1}, b.getI32Type()), reg),
            0);
      operands.push_back(reg);
    }
    text += "}, $" + std::to_string(2 * regs + 4) + ", p, 1, 1, " +
            (transposeB ? "1" : "0") + ";\n}\n";
    constraints += ",l";
    operands.push_back(descB);
    return LLVM::InlineAsmOp::create(
               b, loc, acc.getType(), operands, b.getStringAttr(text),
               b.getStringAttr(constraints), b.getUnitAttr(),
               /*is_align_stack=*/nullptr, /*tail_call_kind=*/nullptr,
               LLVM::AsmDialectAttr::get(ctx, LLVM::AsmDialect::AD_ATT),
               /*operand_attrs=*/nullptr)
        .getResult(0);
  }
  void wgmmaFence() { NVVM::WgmmaFenceAlignedOp::create(b, loc); }
  void wgmmaCommit() { NVVM::WgmmaGroupSyncAlignedOp::create(b, loc); }
  void wgmmaWait(int64_t pendingGroups) {
    NVVM::WgmmaWaitGroupSyncOp::create(b, loc, pendingGroups);
  }
  /// The barrier of all threads of the cluster, with release/acquire
  /// ordering of shared memory across its blocks.
  void clusterBarrier() {
    NVVM::ClusterArriveOp::create(b, loc, b.getUnitAttr());
    NVVM::ClusterWaitOp::create(b, loc, b.getUnitAttr());
  }
  /// The f32 at element `index` of the 1-D f32 shared buffer `smem` of
  /// block `rank` of the cluster (distributed shared memory).
  Value loadFromClusterBlock(Value smem, int64_t index, Value rank) {
    MLIRContext *ctx = b.getContext();
    Value addr = add(sharedAddress(smem), 4 * index);
    Value i64 = arith::IndexCastUIOp::create(b, loc, b.getI64Type(), addr);
    Value local = LLVM::IntToPtrOp::create(
        b, loc, LLVM::LLVMPointerType::get(ctx, 3), i64);
    Value rank32 = arith::IndexCastUIOp::create(b, loc, b.getI32Type(), rank);
    Value remote = NVVM::MapaOp::create(
        b, loc, LLVM::LLVMPointerType::get(ctx, 7), local, rank32);
    return LLVM::LoadOp::create(b, loc, b.getF32Type(), remote);
  }

  /// Orders this thread's generic-proxy shared-memory writes (cp.async
  /// included) before later async-proxy reads (wgmma operands).
  void fenceProxyAsync() {
    NVVM::FenceProxyOp::create(
        b, loc, NVVM::ProxyKind::async_shared,
        NVVM::SharedSpaceAttr::get(b.getContext(),
                                   NVVM::SharedSpace::shared_cta));
  }

  /// Calls `body(c)` for c = tid, tid + threads, ... below `total`: one
  /// unguarded call per full round, a guarded one for the last partial.
  void forEachStrided(Value tid, int64_t total, int64_t threads,
                      function_ref<void(KernelBuilder &, Value)> body) {
    for (int64_t c0 = 0; c0 < total; c0 += threads) {
      Value c = add(tid, c0);
      if (c0 + threads <= total)
        body(*this, c);
      else
        ifThen(lt(c, total), [&](KernelBuilder &kb) { body(kb, c); });
    }
  }

  /// The multi-stage cp.async pipeline over `total` steps, each loading
  /// one shared-memory stage with `load(builder, step, stage)`: the
  /// prologue issues steps 0 .. stages - 2, one commit group each (empty
  /// groups keep the count uniform).
  using StageLoader = function_ref<void(KernelBuilder &, Value, Value)>;
  void pipelinePrologue(Value total, int64_t stages, StageLoader load) {
    for (int64_t p = 0; p + 1 < stages; ++p) {
      ifThen(lt(idx(p), total),
             [&](KernelBuilder &kb) { load(kb, kb.idx(p), kb.idx(p)); });
      asyncCommit();
    }
  }
  /// The head of step `it`: its stage has landed for every thread and every
  /// warp is done with the stage that step it + stages - 1 overwrites,
  /// which is then issued. Returns the stage of step `it`.
  Value pipelineStep(Value it, Value total, int64_t stages, StageLoader load) {
    asyncWait(stages - 2);
    barrier();
    Value ahead = add(it, stages - 1);
    ifThen(lt(ahead, total), [&](KernelBuilder &kb) {
      load(kb, ahead, kb.rem(ahead, stages));
    });
    asyncCommit();
    return rem(it, stages);
  }

  /// The safe max of a row: 0 when the max is -inf, so that a row with
  /// nothing visible never forms -inf - -inf.
  Value safeMax(Value m) {
    return select(cmpF(arith::CmpFPredicate::OEQ, m, negInf()), f32(0.0), m);
  }

  Accumulator zeroAccumulator() {
    Value z = f32(0.0);
    return {z, z, z, z};
  }

  /// An scf.if with results of `types`; the builders yield them.
  SmallVector<Value>
  ifElse(Value cond, TypeRange types,
         function_ref<SmallVector<Value>(KernelBuilder &)> thenBody,
         function_ref<SmallVector<Value>(KernelBuilder &)> elseBody) {
    auto op = scf::IfOp::create(b, loc, types, cond, /*withElse=*/true);
    for (auto [region, body] :
         {std::make_pair(&op.getThenRegion(), thenBody),
          std::make_pair(&op.getElseRegion(), elseBody)}) {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(&region->front());
      KernelBuilder nested(b, loc);
      SmallVector<Value> results = body(nested);
      scf::YieldOp::create(b, loc, results);
    }
    return SmallVector<Value>(op.getResults());
  }

  /// An scf.if with no results.
  void ifThen(Value cond, function_ref<void(KernelBuilder &)> body) {
    auto op = scf::IfOp::create(b, loc, TypeRange{}, cond, /*withElse=*/false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(op.getThenRegion().front().getTerminator());
    KernelBuilder nested(b, loc);
    body(nested);
  }

private:
  template <typename OpTy, typename... Args> Value fold(Args &&...args) {
    return b.createOrFold<OpTy>(loc, std::forward<Args>(args)...);
  }

  static NVVM::WGMMATypes wgmmaType(Type elementType) {
    return elementType.isBF16() ? NVVM::WGMMATypes::bf16
                                : NVVM::WGMMATypes::f16;
  }

  /// bf16 pairs travel as i32 registers, f16 pairs as vector<2xf16>.
  Value operandForm(Value pair, Type elementType) {
    if (!elementType.isBF16())
      return pair;
    Value v = vector::BitCastOp::create(
        b, loc, VectorType::get({1}, b.getI32Type()), pair);
    return vector::ExtractOp::create(b, loc, v, 0);
  }

  OpBuilder &b;
  Location loc;
};

inline void buildLaunch(OpBuilder &b, Location loc,
                        std::array<int64_t, 3> blocks, int64_t threads,
                        int64_t smemBytes,
                        function_ref<void(gpu::LaunchOp, KernelBuilder &)> body,
                        int64_t cluster) {
  KernelBuilder host(b, loc);
  Value smem = smemBytes ? arith::ConstantIntOp::create(b, loc, smemBytes, 32)
                               .getResult()
                         : Value();
  Value cx, cy, cz;
  if (cluster > 1) {
    cx = host.idx(cluster);
    cy = cz = host.idx(1);
  }
  auto op = gpu::LaunchOp::create(
      b, loc, host.idx(blocks[0]), host.idx(blocks[1]), host.idx(blocks[2]),
      host.idx(threads), host.idx(1), host.idx(1), smem,
      /*asyncTokenType=*/nullptr, /*asyncDependencies=*/{},
      /*workgroupAttributions=*/{}, /*privateAttributions=*/{}, cx, cy, cz);
  // The builder adds the 12 block/thread id and size arguments only; a
  // launch in clusters also has the cluster ids and sizes.
  if (cluster > 1)
    for (int64_t i = 0; i < 6; ++i)
      op.getBody().front().insertArgument(12 + i, b.getIndexType(), loc);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToEnd(&op.getBody().front());
  gpu::TerminatorOp::create(b, loc);
  b.setInsertionPoint(op.getBody().front().getTerminator());
  KernelBuilder kb(b, loc);
  body(op, kb);
}

} // namespace mlir::attn::gpu_kernel

#endif // ATTN_LIB_CONVERSION_ATTNTOGPU_KERNELBUILDER_H
