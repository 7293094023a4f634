//===- Tma.h - TMA copies, mbarriers and warp specialization ----*- C++ -*-===//
//
// sm_90a's Tensor Memory Accelerator: tensor maps created on the host
// (nvgpu.tma.create.descriptor; the package's runtime encodes them with
// cuTensorMapEncodeTiled and passes each as a pointer to its 128 bytes),
// bulk tensor copies issued by one thread that complete on mbarriers with
// a byte count, the mbarrier handshakes of a producer/consumer pipeline,
// and the register hand-over between a producer warpgroup and the ones
// that compute (setmaxnreg). The cp.async pipeline is in AsyncCopy.h.
// Internal to the AttnToGPU conversion.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LIB_CONVERSION_ATTNTOGPU_BUILDERS_TMA_H
#define ATTN_LIB_CONVERSION_ATTNTOGPU_BUILDERS_TMA_H

#include "KernelBuilder.h"

namespace mlir::attn::gpu_kernel {

/// The tensor map type of 16-bit `elementType` boxes of `box` elements
/// (outermost first), 128-byte swizzled (the innermost box dim is 64
/// elements: one 128-byte row of a swizzled slab), rows past the tensor's
/// end zero-filled.
nvgpu::TensorMapDescriptorType tensorMapType(MLIRContext *ctx,
                                             ArrayRef<int64_t> box,
                                             Type elementType);

/// Host side, before the launch: the tensor map of `tensor` (a memref with
/// the identity layout) for `box`, as the pointer kernels take
/// (!llvm.ptr; tensorMapInKernel turns it back).
Value createTensorMap(OpBuilder &b, Location loc, Value tensor,
                      ArrayRef<int64_t> box);

/// Kernel side: the tensor map that `createTensorMap` gave as `pointer`.
Value tensorMapInKernel(KernelBuilder &kb, Value pointer,
                        ArrayRef<int64_t> box, Type elementType);

/// A kernel's mbarriers, in static shared memory.
class Mbarriers {
public:
  Mbarriers(KernelBuilder &kb, int64_t count);

  /// Barrier `index` expects `arrivals` arrivals per phase (one thread).
  void init(KernelBuilder &kb, Value index, int64_t arrivals);
  /// One arrival that also expects `bytes` of asynchronous transactions.
  void arriveExpectBytes(KernelBuilder &kb, Value index, int64_t bytes);
  void arrive(KernelBuilder &kb, Value index);
  /// Waits until the phase of barrier `index` with parity `parity` (an
  /// index, 0 or 1) has completed. Waiting for parity 1 on a fresh
  /// barrier returns at once: its "previous" phase counts as complete.
  /// With `reconverge`, the warp synchronizes after the spin loop, so that
  /// `.aligned` instructions (wgmma) that follow run with the whole warp.
  void wait(KernelBuilder &kb, Value index, Value parity,
            bool reconverge = false);
  /// Makes this thread's initializations visible to the other threads and
  /// to the async proxy (TMA's completions); a CTA barrier must follow.
  void fenceInit(KernelBuilder &kb);

  /// Copies the box of the tensor map `map` at `coordinates` (innermost
  /// first) to shared memory `dst`, completing on barrier `index`.
  void load(KernelBuilder &kb, Value map, ValueRange coordinates, Value index,
            Value dst);

private:
  Value group;
};

/// The mbarriers of a single-producer pipeline of `stages` buffers: full[s]
/// (index s; one arrival, the producer's, with the stage's byte count) and
/// empty[s] (index stages + s; an arrival per each of `consumers` computing
/// threads once they are done with the stage), initialized by thread `tid`
/// 0 and made visible by a CTA barrier.
Mbarriers fullEmptyBarriers(KernelBuilder &kb, Value tid, int64_t stages,
                            int64_t consumers);

/// Prefetches the tensor map into the TMA unit's descriptor cache.
void prefetchTensorMap(KernelBuilder &kb, Value map);

/// Moves this warpgroup's registers per thread to `count` (all its threads
/// execute it): down for a producer, up for the warpgroups that compute.
void setMaxRegisters(KernelBuilder &kb, int64_t count, bool increase);

} // namespace mlir::attn::gpu_kernel

#endif // ATTN_LIB_CONVERSION_ATTNTOGPU_BUILDERS_TMA_H
