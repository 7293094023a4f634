//===- KernelBuilder.h - building the body of an attn GPU kernel -*- C++ -*-===//
//
// The scalar layer under every kernel attn-map-to-gpu writes into gpu.launch
// bodies: index arithmetic that folds constants, f32 math, barriers,
// views of dynamic shared memory, structured control flow, and the launch
// itself. The MMA kinds (MmaSync.h, Wgmma.h), the async-copy pipeline
// (AsyncCopy.h) and warp/cluster exchanges (WarpOps.h) build on it.
// Internal to the AttnToGPU conversion.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LIB_CONVERSION_ATTNTOGPU_KERNELBUILDER_H
#define ATTN_LIB_CONVERSION_ATTNTOGPU_KERNELBUILDER_H

#include "attn/Conversion/AttnToGPU/Plans.h"

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

/// The ldmatrix row padding of the plans' shared-memory model.
constexpr int64_t kRowPad = kLdmatrixRowPad;

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

  void barrier() { gpu::BarrierOp::create(b, loc); }

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


  /// The shared-window byte address of the first element of `smem`.
  Value sharedAddress(Value smem) {
    return memref::ExtractAlignedPointerAsIndexOp::create(b, loc, smem);
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

  /// The safe max of a row: 0 when the max is -inf, so that a row with
  /// nothing visible never forms -inf - -inf.
  Value safeMax(Value m) {
    return select(cmpF(arith::CmpFPredicate::OEQ, m, negInf()), f32(0.0), m);
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

  /// An scf.if with no results and an else region.
  void ifThenElse(Value cond, function_ref<void(KernelBuilder &)> thenBody,
                  function_ref<void(KernelBuilder &)> elseBody) {
    auto op = scf::IfOp::create(b, loc, TypeRange{}, cond, /*withElse=*/true);
    for (auto [region, body] :
         {std::make_pair(&op.getThenRegion(), thenBody),
          std::make_pair(&op.getElseRegion(), elseBody)}) {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(region->front().getTerminator());
      KernelBuilder nested(b, loc);
      body(nested);
    }
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

  OpBuilder &b;
  Location loc;
};

/// MaskGeometry's arithmetic on kernel IR: index values whose constants
/// fold (attn/Dialect/Attn/Utils/MaskGeometry.h).
struct KernelMath {
  using Value = mlir::Value;
  using Pred = mlir::Value;
  KernelBuilder &kb;

  Value c(int64_t v) { return kb.idx(v); }
  Value add(Value x, Value y) { return kb.add(x, y); }
  Value sub(Value x, Value y) { return kb.sub(x, y); }
  Value mul(Value x, Value y) { return kb.mul(x, y); }
  Value min(Value x, Value y) { return kb.minI(x, y); }
  Value max(Value x, Value y) { return kb.maxI(x, y); }
  /// For x >= 0.
  Value floorDiv(Value x, int64_t y) { return kb.div(x, y); }
  /// For x >= 0.
  Value ceilDiv(Value x, int64_t y) { return kb.ceilDiv(x, y); }
  Pred lt(Value x, Value y) { return kb.lt(x, y); }
  Pred le(Value x, Value y) { return kb.le(x, y); }
  Pred orI(Pred x, Pred y) { return kb.orI(x, y); }
  Pred andI(Pred x, Pred y) { return kb.andI(x, y); }
  Pred never() { return kb.i1(false); }
};


} // namespace mlir::attn::gpu_kernel

#endif // ATTN_LIB_CONVERSION_ATTNTOGPU_KERNELBUILDER_H
