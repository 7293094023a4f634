//===- Wgmma.h - Hopper warpgroup MMA (wgmma) --------------------*- C++ -*-===//
//
// sm_90a's asynchronous warpgroup MMA: operands in 128-byte-swizzled shared
// memory slabs described by wgmma descriptors (A may also come from
// registers), f32 accumulators laid out per warp like mma.sync's
// (MmaSync.h), and the fences and group waits that order them. Internal to
// the AttnToGPU conversion.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LIB_CONVERSION_ATTNTOGPU_BUILDERS_WGMMA_H
#define ATTN_LIB_CONVERSION_ATTNTOGPU_BUILDERS_WGMMA_H

#include "MmaSync.h"

namespace mlir::attn::gpu_kernel {

/// Element offset, in a tile of `rows` rows stored as 128-byte-swizzled
/// slabs of 64 16-bit columns (slab after slab, `rows` 128-byte rows each),
/// of the 16-byte chunk `chunk` (columns 8 chunk .. 8 chunk + 7) of row
/// `row`: chunk q of a row sits at q ^ (row % 8) of its slab row, so that 8
/// consecutive rows of one chunk fall into distinct bank groups.
Value swizzledOffset(KernelBuilder &kb, Value row, Value chunk, int64_t rows);

/// The wgmma descriptor of a 16-bit operand in 128-byte-swizzled slabs
/// (swizzledOffset) whose first element is at shared byte address `address`
/// (an index); `strideBytes` apart lie its 8-row groups and `leadingBytes`
/// apart its slabs along M/N (used by MN-major operands only). K-major
/// operands step K by 16 by advancing `address` 32 bytes inside a slab.
Value wgmmaDescriptor(KernelBuilder &kb, Value address,
                      int64_t leadingBytes = 16, int64_t strideBytes = 1024);

/// The f32 accumulator of an m64nN wgmma: N / 2 registers per thread, laid
/// out per n8 column block like the m16n8 accumulator of mma.sync (rows 16
/// x the warp's index in its warpgroup + lane / 4, + 8).
Type warpgroupAccumulatorType(KernelBuilder &kb, int64_t n);

/// acc += A (m64 x k16) * B (k16 x n), both in shared memory; A K-major or
/// (`transposeA`) M-major, B K-major or (`transposeB`) N-major. Without
/// `accumulate`, acc = A * B: the first step of a product takes an
/// undefined `acc` (newAccumulator), so that no instruction defines the
/// accumulator between wgmma.fence and the MMA (ptxas would serialize every
/// wgmma of the kernel, warning C7513).
Value wgmma(KernelBuilder &kb, Value descA, Value descB, Value acc, int64_t n,
            Type elementType, bool transposeB = false, bool transposeA = false,
            bool accumulate = true);

/// An undefined m64nN accumulator for a product's first, non-accumulating
/// wgmma.
Value newAccumulator(KernelBuilder &kb, int64_t n);

/// acc += A (m64 x k16, in registers: each warp's 16 rows as the m16k16
/// operand of mma.sync) * B (k16 x n in shared memory, N-major when
/// `transposeB`). nvvm.wgmma.mma_async takes A only from shared memory, so
/// this one is inline PTX.
Value wgmmaRegisterA(KernelBuilder &kb, const Fragment &a, Value descB,
                     Value acc, int64_t n, Type elementType, bool transposeB);

/// Pins the accumulator `acc` (an m64nN struct) at this point of the
/// instruction stream and returns it: an empty asm statement that reads and
/// redefines every register (CUTLASS's warpgroup_fence_operand). Before
/// wgmma.fence it keeps register updates (O's rescale) from sinking into
/// the MMA's pipeline stage; after a wgmma.wait_group it keeps reads (and
/// copies) of the results from rising above the wait. ptxas serializes
/// every wgmma of a kernel whose in-flight registers are touched (C7513).
Value fenceAccumulator(KernelBuilder &kb, Value acc);

/// Keeps the register operands `values` (an A fragment in flight) live up
/// to this point, so that no later definition reuses their registers while
/// a wgmma may still read them.
void keepOperandsAlive(KernelBuilder &kb, ArrayRef<Value> values);

void wgmmaFence(KernelBuilder &kb);
void wgmmaCommit(KernelBuilder &kb);
void wgmmaWait(KernelBuilder &kb, int64_t pendingGroups);

/// Orders this thread's generic-proxy shared-memory writes (cp.async
/// included) before later async-proxy reads (wgmma operands).
void fenceProxyAsync(KernelBuilder &kb);

} // namespace mlir::attn::gpu_kernel

#endif // ATTN_LIB_CONVERSION_ATTNTOGPU_BUILDERS_WGMMA_H
