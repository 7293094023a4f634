/*===- attn-c/Runtime.h - C ABI of the kernel package runtime -----*- C -*-===*\
|*                                                                            *|
|* Runs a function of a kernel package (attn-opt --attn-to-cubin) on device   *|
|* memory that the caller owns, e.g. PyTorch tensors, on the caller's stream. *|
|* Plain C, no MLIR: the shared library libAttnRuntimeC.so exports only the   *|
|* functions below. python/attn_mlir/runtime.py wraps it with ctypes.         *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef ATTN_C_RUNTIME_H
#define ATTN_C_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#define ATTN_RUNTIME_C_EXPORT __declspec(dllexport)
#else
#define ATTN_RUNTIME_C_EXPORT __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* One function of one kernel package. Loading reads and validates the
 * package and needs no GPU; the first launch (or attnRuntimePrepare) loads
 * the kernels into a CUDA context. Queries may be made from any thread; a
 * handle's launches must not overlap in time on the device (its temporaries
 * are shared by all of them): use one handle per concurrent stream. */
typedef struct AttnRuntime AttnRuntime;

/* Status codes of attnRuntimePrepare and attnRuntimeLaunch. */
enum {
  ATTN_RUNTIME_OK = 0,
  /* The call itself is wrong: a null handle, the wrong number of pointers,
   * a null pointer for a non-empty argument. Nothing was enqueued. */
  ATTN_RUNTIME_INVALID_ARGUMENT = 1,
  /* The CUDA driver failed or is missing, the kernels cannot be loaded on
   * this device, or a launch failed. attnRuntimeLastError() says which. */
  ATTN_RUNTIME_CUDA_ERROR = 2,
  /* The runtime itself failed (e.g. host memory ran out). No entry point
   * lets an exception or a failure out in any other way than its return
   * value and attnRuntimeLastError(). */
  ATTN_RUNTIME_INTERNAL_ERROR = 3
};

/* Loads the kernel package in directory `packageDir` (the directory holding
 * manifest.json) and selects `function` by name, or the package's only
 * function when `function` is NULL or "". Returns NULL on failure (missing
 * or malformed package, no such function, several functions and none
 * named); attnRuntimeLastError() then says why. Needs no CUDA driver. */
ATTN_RUNTIME_C_EXPORT AttnRuntime *attnRuntimeLoad(const char *packageDir,
                                                   const char *function);

/* The message of the last failure of a call on this thread ("" if none
 * failed yet). attnRuntimeLoad, attnRuntimePrepare and attnRuntimeLaunch
 * reset it to "" when they succeed. The pointer stays valid until the next
 * call on this thread. */
ATTN_RUNTIME_C_EXPORT const char *attnRuntimeLastError(void);

/* The selected function's name, and the attn op it implements
 * ("attn.attention", ...; "" when it is not a single attn op). */
ATTN_RUNTIME_C_EXPORT const char *
attnRuntimeFunctionName(const AttnRuntime *runtime);
ATTN_RUNTIME_C_EXPORT const char *attnRuntimeOpName(const AttnRuntime *runtime);

/* The function's arguments, in call order: inputs, then one output per
 * result. Every argument is a dense, row-major (contiguous) tensor of static
 * shape. -1 for a null handle. */
ATTN_RUNTIME_C_EXPORT int attnRuntimeNumArgs(const AttnRuntime *runtime);

/* Per argument `index` (0 <= index < attnRuntimeNumArgs). On an index out of
 * range (or a null handle) these return NULL or -1 and set the last error.
 * Strings live as long as the handle. */
/* "arg0", "result0", ... */
ATTN_RUNTIME_C_EXPORT const char *attnRuntimeArgName(const AttnRuntime *runtime,
                                                     int index);
/* Which operand or result of the op ("query", "lse", "logits", ...); "" when
 * the function is not a single attn op. */
ATTN_RUNTIME_C_EXPORT const char *
attnRuntimeArgOperand(const AttnRuntime *runtime, int index);
/* The element type: "f32", "f16", "bf16", "f64", "i1" (one byte, 0 or 1),
 * "i8", "i32" or "i64". */
ATTN_RUNTIME_C_EXPORT const char *
attnRuntimeArgDType(const AttnRuntime *runtime, int index);
/* The number of dimensions (0 for a scalar). */
ATTN_RUNTIME_C_EXPORT int attnRuntimeArgRank(const AttnRuntime *runtime,
                                             int index);
/* Dimension `dim` (0 <= dim < rank) of the argument's shape, or -1. */
ATTN_RUNTIME_C_EXPORT int64_t attnRuntimeArgDim(const AttnRuntime *runtime,
                                                int index, int dim);
/* 1 if the function writes the argument (an output), 0 if it only reads it,
 * -1 on a bad index. */
ATTN_RUNTIME_C_EXPORT int attnRuntimeArgIsOutput(const AttnRuntime *runtime,
                                                 int index);

/* The bytes of device temporaries the function needs (the sum over the
 * manifest's temps); they are allocated once per handle, with cuMemAlloc,
 * when the kernels are loaded, and reused by every launch. 0 for none or a
 * null handle. */
ATTN_RUNTIME_C_EXPORT size_t attnRuntimeTempBytes(const AttnRuntime *runtime);

/* Loads the kernels into the CUDA context, if not done yet: opens the driver
 * (libcuda.so.1, or the path in ATTN_LIBCUDA), takes the context current on
 * the calling thread (PyTorch's: the primary context of its current device)
 * or, if none is, retains the primary context of device 0 (what the CUDA
 * runtime would make current); loads the modules, checks each kernel's
 * parameters against its launch, sets the dynamic shared memory limit of
 * kernels that need more than 48 KiB, and allocates the temporaries. The
 * handle stays bound to that context. attnRuntimeLaunch calls it; call it
 * first to keep this one-time work out of a timed region. Returns a status
 * code. */
ATTN_RUNTIME_C_EXPORT int attnRuntimePrepare(AttnRuntime *runtime);

/* The device ordinal of the context the handle is bound to, or -1 before
 * the kernels are loaded. */
ATTN_RUNTIME_C_EXPORT int attnRuntimeDevice(const AttnRuntime *runtime);

/* Enqueues the function's whole launch sequence on `stream` (a CUstream, or
 * NULL for the legacy default stream) and returns without waiting for it.
 * `devicePointers` holds `count` CUdeviceptr values, one per argument in
 * the order above (count must be attnRuntimeNumArgs); each must point at
 * device memory of the handle's device holding the argument as described
 * (dtype, shape, contiguous); only empty arguments may be NULL. The
 * function writes every element of its outputs; it does not check the
 * memory it is given. If the handle's context is not current on the calling
 * thread, it is pushed for the call and popped after. Returns a status
 * code; kernel faults surface later, at the next synchronizing call. */
ATTN_RUNTIME_C_EXPORT int attnRuntimeLaunch(AttnRuntime *runtime,
                                            void *const *devicePointers,
                                            size_t count, void *stream);

/* Waits for the handle's context to be idle (cuCtxSynchronize), frees the
 * temporaries, unloads the modules, releases the primary context if the
 * handle retained it, and frees the handle. NULL is ignored. */
ATTN_RUNTIME_C_EXPORT void attnRuntimeDestroy(AttnRuntime *runtime);

#ifdef __cplusplus
}
#endif

#endif /* ATTN_C_RUNTIME_H */
