//===- MmaSync.h - mma.sync m16n8k16 and ldmatrix ----------------*- C++ -*-===//
//
// The Ampere-style tensor-core MMA (sm_80 and later): operands loaded from
// shared memory by ldmatrix into the m16k16 / k16n8 register layouts, f32
// m16n8 accumulators. The warpgroup MMA of sm_90a keeps the same per-warp
// accumulator layout (Wgmma.h), so the kernels' softmax and epilogues read
// both alike. Internal to the AttnToGPU conversion.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LIB_CONVERSION_ATTNTOGPU_BUILDERS_MMASYNC_H
#define ATTN_LIB_CONVERSION_ATTNTOGPU_BUILDERS_MMASYNC_H

#include "KernelBuilder.h"

namespace mlir::attn::gpu_kernel {

/// Registers of one thread holding its part of an m16n8 f32 accumulator:
/// c[0], c[1] are row lane/4, columns 2*(lane%4) + {0, 1}; c[2], c[3] the
/// same columns of row lane/4 + 8.
using Accumulator = std::array<Value, 4>;

/// Registers of an m16k16 A operand (4 packed pairs) or a k16n8 B operand
/// (the first 2 entries), as mma.sync takes them for the element type.
using Fragment = std::array<Value, 4>;

/// A packed pair of 16-bit values in the register form mma.sync takes:
/// bf16 pairs travel as i32 registers, f16 pairs as vector<2xf16>.
Value operandForm(KernelBuilder &kb, Value pair, Type elementType);

/// ldmatrix of `tiles` 8x8 16-bit matrices; returns `tiles` packed pairs
/// in the operand form mma.sync takes for `elementType`.
SmallVector<Value> loadMatrix(KernelBuilder &kb, Value smem,
                              ValueRange indices, int64_t tiles,
                              bool transpose, Type elementType);

/// Packs two f32 values into an mma operand register of `elementType`.
Value packPair(KernelBuilder &kb, Value lo, Value hi, Type elementType);

/// Accumulator tiles `lo` and `hi` (n8 columns k0 .. k0 + 7 and
/// k0 + 8 .. k0 + 15 of 16 rows), rounded to `elementType` and repacked as
/// the m16k16 A operand of those columns: how P and dS feed the next MMA
/// from registers.
Fragment accumulatorOperand(KernelBuilder &kb, const Accumulator &lo,
                            const Accumulator &hi, Type elementType);

/// The m16k16 A operands of accumulator tiles `x`, two n8 tiles
/// (accumulatorOperand) each.
SmallVector<Fragment> accumulatorOperands(KernelBuilder &kb,
                                          ArrayRef<Accumulator> x,
                                          Type elementType);

/// d = a * b + c on m16n8k16 with 16-bit operands, f32 accumulation.
Accumulator mmaSync(KernelBuilder &kb, const Fragment &a, Value b0, Value b1,
                    const Accumulator &c, Type elementType);

/// An accumulator of zeros.
Accumulator zeroAccumulator(KernelBuilder &kb);

} // namespace mlir::attn::gpu_kernel

#endif // ATTN_LIB_CONVERSION_ATTNTOGPU_BUILDERS_MMASYNC_H
