//===- Wgmma.cpp - Hopper warpgroup MMA (wgmma) ---------------------------===//

#include "Wgmma.h"

using namespace mlir;
using namespace mlir::attn::gpu_kernel;

static NVVM::WGMMATypes wgmmaType(Type elementType) {
  return elementType.isBF16() ? NVVM::WGMMATypes::bf16 : NVVM::WGMMATypes::f16;
}

Value mlir::attn::gpu_kernel::swizzledOffset(KernelBuilder &kb, Value row,
                                             Value chunk, int64_t rows) {
  Value slab = kb.div(chunk, 8);
  Value q = kb.xorI(kb.rem(chunk, 8), kb.rem(row, 8));
  return kb.add(kb.mul(kb.add(kb.mul(slab, rows), row), 64), kb.mul(q, 8));
}

Value mlir::attn::gpu_kernel::wgmmaDescriptor(KernelBuilder &kb, Value address,
                                              int64_t leadingBytes,
                                              int64_t strideBytes) {
  OpBuilder &b = kb.builder();
  Location loc = kb.location();
  Type i64 = b.getI64Type();
  auto c = [&](uint64_t v) -> Value {
    return arith::ConstantIntOp::create(b, loc, i64, v);
  };
  Value a = arith::IndexCastUIOp::create(b, loc, i64, address);
  a = arith::ShRUIOp::create(
      b, loc, arith::AndIOp::create(b, loc, a, c(0x3FFFF)), c(4));
  uint64_t fixed = (uint64_t(leadingBytes >> 4) << 16) |
                   (uint64_t(strideBytes >> 4) << 32) |
                   (uint64_t(1) << 62); // 128-byte swizzle
  return arith::OrIOp::create(b, loc, a, c(fixed));
}

Type mlir::attn::gpu_kernel::warpgroupAccumulatorType(KernelBuilder &kb,
                                                      int64_t n) {
  OpBuilder &b = kb.builder();
  return LLVM::LLVMStructType::getLiteral(
      b.getContext(), SmallVector<Type>(n / 2, b.getF32Type()));
}

/// An i32 register of a 16-bit pair (vector<2xf16>), else `v` itself.
static Value asRegister(KernelBuilder &kb, Value v) {
  if (!isa<VectorType>(v.getType()))
    return v;
  OpBuilder &b = kb.builder();
  Location loc = kb.location();
  return vector::ExtractOp::create(
      b, loc,
      vector::BitCastOp::create(b, loc, VectorType::get({1}, b.getI32Type()),
                                v),
      0);
}

static LLVM::InlineAsmOp emptyAsm(KernelBuilder &kb, TypeRange results,
                                  ValueRange operands, StringRef constraints) {
  OpBuilder &b = kb.builder();
  return LLVM::InlineAsmOp::create(
      b, kb.location(), results, operands, b.getStringAttr(""),
      b.getStringAttr(constraints), /*has_side_effects=*/b.getUnitAttr(),
      /*is_align_stack=*/nullptr, /*tail_call_kind=*/nullptr,
      LLVM::AsmDialectAttr::get(b.getContext(), LLVM::AsmDialect::AD_ATT),
      /*operand_attrs=*/nullptr);
}

Value mlir::attn::gpu_kernel::newAccumulator(KernelBuilder &kb, int64_t n) {
  return LLVM::UndefOp::create(kb.builder(), kb.location(),
                               warpgroupAccumulatorType(kb, n));
}

Value mlir::attn::gpu_kernel::wgmma(KernelBuilder &kb, Value descA,
                                    Value descB, Value acc, int64_t n,
                                    Type elementType, bool transposeB,
                                    bool transposeA, bool accumulate) {
  OpBuilder &b = kb.builder();
  Location loc = kb.location();
  MLIRContext *ctx = b.getContext();
  auto type = NVVM::WGMMATypesAttr::get(ctx, wgmmaType(elementType));
  auto one = NVVM::WGMMAScaleInAttr::get(ctx, NVVM::WGMMAScaleIn::one);
  return NVVM::WgmmaMmaAsyncOp::create(
      b, loc, acc.getType(), acc, descA, descB,
      NVVM::MMAShapeAttr::get(ctx, 64, n, 16), type, type,
      NVVM::WGMMATypesAttr::get(ctx, NVVM::WGMMATypes::f32),
      NVVM::WGMMAScaleOutAttr::get(ctx, accumulate
                                            ? NVVM::WGMMAScaleOut::one
                                            : NVVM::WGMMAScaleOut::zero),
      one, one,
      NVVM::MMALayoutAttr::get(ctx, transposeA ? NVVM::MMALayout::col
                                               : NVVM::MMALayout::row),
      NVVM::MMALayoutAttr::get(ctx, transposeB ? NVVM::MMALayout::row
                                               : NVVM::MMALayout::col),
      /*satfinite=*/nullptr);
}

Value mlir::attn::gpu_kernel::wgmmaRegisterA(KernelBuilder &kb,
                                             const Fragment &a, Value descB,
                                             Value acc, int64_t n,
                                             Type elementType,
                                             bool transposeB) {
  OpBuilder &b = kb.builder();
  Location loc = kb.location();
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
    operands.push_back(asRegister(kb, a[i]));
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

Value mlir::attn::gpu_kernel::fenceAccumulator(KernelBuilder &kb, Value acc) {
  OpBuilder &b = kb.builder();
  Location loc = kb.location();
  auto type = cast<LLVM::LLVMStructType>(acc.getType());
  int64_t regs = type.getBody().size();
  SmallVector<Value> operands;
  std::string constraints;
  for (int64_t i = 0; i < regs; ++i) {
    operands.push_back(LLVM::ExtractValueOp::create(b, loc, acc, i));
    constraints += (i ? ",=f" : "=f");
  }
  for (int64_t i = 0; i < regs; ++i)
    constraints += "," + std::to_string(i);
  return emptyAsm(kb, type, operands, constraints).getResult(0);
}

void mlir::attn::gpu_kernel::keepOperandsAlive(KernelBuilder &kb,
                                               ArrayRef<Value> values) {
  SmallVector<Value> operands;
  std::string constraints;
  for (Value v : values) {
    Value reg = asRegister(kb, v);
    constraints += std::string(constraints.empty() ? "" : ",") +
                   (reg.getType().isF32() ? "f" : "r");
    operands.push_back(reg);
  }
  emptyAsm(kb, TypeRange{}, operands, constraints);
}

void mlir::attn::gpu_kernel::wgmmaFence(KernelBuilder &kb) {
  NVVM::WgmmaFenceAlignedOp::create(kb.builder(), kb.location());
}

void mlir::attn::gpu_kernel::wgmmaCommit(KernelBuilder &kb) {
  NVVM::WgmmaGroupSyncAlignedOp::create(kb.builder(), kb.location());
}

void mlir::attn::gpu_kernel::wgmmaWait(KernelBuilder &kb,
                                       int64_t pendingGroups) {
  NVVM::WgmmaWaitGroupSyncOp::create(kb.builder(), kb.location(),
                                     pendingGroups);
}

void mlir::attn::gpu_kernel::fenceProxyAsync(KernelBuilder &kb) {
  OpBuilder &b = kb.builder();
  NVVM::FenceProxyOp::create(
      b, kb.location(), NVVM::ProxyKind::async_shared,
      NVVM::SharedSpaceAttr::get(b.getContext(),
                                 NVVM::SharedSpace::shared_cta));
}
