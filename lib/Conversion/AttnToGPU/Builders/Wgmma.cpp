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

Value mlir::attn::gpu_kernel::wgmma(KernelBuilder &kb, Value descA,
                                    Value descB, Value acc, int64_t n,
                                    Type elementType, bool transposeB,
                                    bool transposeA) {
  OpBuilder &b = kb.builder();
  Location loc = kb.location();
  MLIRContext *ctx = b.getContext();
  auto type = NVVM::WGMMATypesAttr::get(ctx, wgmmaType(elementType));
  auto one = NVVM::WGMMAScaleInAttr::get(ctx, NVVM::WGMMAScaleIn::one);
  return NVVM::WgmmaMmaAsyncOp::create(
      b, loc, acc.getType(), acc, descA, descB,
      NVVM::MMAShapeAttr::get(ctx, 64, n, 16), type, type,
      NVVM::WGMMATypesAttr::get(ctx, NVVM::WGMMATypes::f32),
      NVVM::WGMMAScaleOutAttr::get(ctx, NVVM::WGMMAScaleOut::one), one, one,
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
    Value reg = a[i];
    if (!reg.getType().isInteger(32))
      reg = vector::ExtractOp::create(
          b, loc,
          vector::BitCastOp::create(b, loc,
                                    VectorType::get({1}, b.getI32Type()), reg),
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
