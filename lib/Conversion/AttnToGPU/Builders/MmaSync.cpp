//===- MmaSync.cpp - mma.sync m16n8k16 and ldmatrix -----------------------===//

#include "MmaSync.h"

using namespace mlir;
using namespace mlir::attn::gpu_kernel;

Value mlir::attn::gpu_kernel::operandForm(KernelBuilder &kb, Value pair,
                                          Type elementType) {
  if (!elementType.isBF16())
    return pair;
  OpBuilder &b = kb.builder();
  Location loc = kb.location();
  Value v = vector::BitCastOp::create(
      b, loc, VectorType::get({1}, b.getI32Type()), pair);
  return vector::ExtractOp::create(b, loc, v, 0);
}

SmallVector<Value> mlir::attn::gpu_kernel::loadMatrix(KernelBuilder &kb,
                                                      Value smem,
                                                      ValueRange indices,
                                                      int64_t tiles,
                                                      bool transpose,
                                                      Type elementType) {
  OpBuilder &b = kb.builder();
  Location loc = kb.location();
  auto type = VectorType::get({tiles, 2}, elementType);
  Value m = nvgpu::LdMatrixOp::create(b, loc, type, smem, indices, transpose,
                                      tiles);
  SmallVector<Value> pairs;
  for (int64_t i = 0; i < tiles; ++i)
    pairs.push_back(operandForm(kb, vector::ExtractOp::create(b, loc, m, i),
                                elementType));
  return pairs;
}

Value mlir::attn::gpu_kernel::packPair(KernelBuilder &kb, Value lo, Value hi,
                                       Type elementType) {
  OpBuilder &b = kb.builder();
  Location loc = kb.location();
  auto f32x2 = VectorType::get({2}, b.getF32Type());
  Value v = vector::FromElementsOp::create(b, loc, f32x2, ValueRange{lo, hi});
  Value t = arith::TruncFOp::create(b, loc, VectorType::get({2}, elementType),
                                    v);
  return operandForm(kb, t, elementType);
}

Fragment mlir::attn::gpu_kernel::accumulatorOperand(KernelBuilder &kb,
                                                    const Accumulator &lo,
                                                    const Accumulator &hi,
                                                    Type elementType) {
  return {packPair(kb, lo[0], lo[1], elementType),
          packPair(kb, lo[2], lo[3], elementType),
          packPair(kb, hi[0], hi[1], elementType),
          packPair(kb, hi[2], hi[3], elementType)};
}

SmallVector<Fragment>
mlir::attn::gpu_kernel::accumulatorOperands(KernelBuilder &kb,
                                            ArrayRef<Accumulator> x,
                                            Type elementType) {
  SmallVector<Fragment> ops;
  for (int64_t kt = 0; kt < int64_t(x.size()) / 2; ++kt)
    ops.push_back(accumulatorOperand(kb, x[2 * kt], x[2 * kt + 1],
                                     elementType));
  return ops;
}

Accumulator mlir::attn::gpu_kernel::mmaSync(KernelBuilder &kb,
                                            const Fragment &a, Value b0,
                                            Value b1, const Accumulator &c,
                                            Type elementType) {
  OpBuilder &b = kb.builder();
  Location loc = kb.location();
  MLIRContext *ctx = b.getContext();
  auto ptxType =
      elementType.isBF16() ? NVVM::MMATypes::bf16 : NVVM::MMATypes::f16;
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

Accumulator mlir::attn::gpu_kernel::zeroAccumulator(KernelBuilder &kb) {
  Value z = kb.f32(0.0);
  return {z, z, z, z};
}
