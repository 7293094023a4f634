//===- CudaDriver.h - The CUDA driver API, loaded at run time ---*- C++ -*-===//
//
// The runtime must build and test on machines without CUDA, so it never
// includes cuda.h or links libcuda: it declares the few driver types and entry
// points it uses (their ABI is stable) and opens libcuda.so.1 with dlopen the
// first time a GPU is needed. ATTN_LIBCUDA overrides the library path.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_RUNTIME_CUDADRIVER_H
#define ATTN_RUNTIME_CUDADRIVER_H

#include <cstddef>
#include <string>

namespace attn::runtime {

/// The subset of the CUDA driver API's types and constants the runtime uses,
/// declared here with the values of cuda.h.
namespace cuda {
using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
struct CUctx_st;
struct CUmod_st;
struct CUfunc_st;
struct CUstream_st;
struct CUevent_st;
using CUcontext = CUctx_st *;
using CUmodule = CUmod_st *;
using CUfunction = CUfunc_st *;
using CUstream = CUstream_st *;
using CUevent = CUevent_st *;
/// An encoded TMA tensor map: 128 opaque bytes, 64-byte aligned.
struct alignas(64) CUtensorMap {
  unsigned long long opaque[16];
};
using cuuint32_t = unsigned;
using cuuint64_t = unsigned long long;
/// cuTensorMapEncodeTiled's enumerations (CUtensorMapDataType, ...), by
/// value.
constexpr int CU_TENSOR_MAP_DATA_TYPE_FLOAT16 = 6;
constexpr int CU_TENSOR_MAP_DATA_TYPE_FLOAT32 = 7;
constexpr int CU_TENSOR_MAP_DATA_TYPE_BFLOAT16 = 9;

constexpr CUresult CUDA_SUCCESS = 0;
constexpr CUresult CUDA_ERROR_INVALID_VALUE = 1;
constexpr CUresult CUDA_ERROR_NO_DEVICE = 100;
constexpr CUresult CUDA_ERROR_NO_BINARY_FOR_GPU = 209;
constexpr CUresult CUDA_ERROR_NOT_FOUND = 500;
constexpr CUresult CUDA_ERROR_NOT_READY = 600;

constexpr int CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16;
constexpr int CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE = 38;
constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
constexpr int CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN = 97;
constexpr int CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES = 1;
constexpr int CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8;
constexpr unsigned CU_STREAM_NON_BLOCKING = 1;
constexpr unsigned CU_EVENT_DEFAULT = 0;
} // namespace cuda

/// The CUDA driver library, opened once per process. Entry points are public
/// function pointers named after the driver functions they call (the
/// versioned symbol where cuda.h maps the name to one, e.g. cuMemAlloc is
/// cuMemAlloc_v2). Call them through check() so failures carry the driver's
/// error name and description.
class CudaDriver {
public:
  /// Opens the driver (ATTN_LIBCUDA, else libcuda.so.1), resolves the entry
  /// points and calls cuInit(0). Later calls return the same driver, or fail
  /// with the same error. Returns null and sets `error` on failure: no
  /// library, a missing entry point, or cuInit failing (e.g. no device).
  static const CudaDriver *get(std::string &error);

  CudaDriver(const CudaDriver &) = delete;
  CudaDriver &operator=(const CudaDriver &) = delete;

  /// "CUDA_ERROR_OUT_OF_MEMORY (out of memory)" for `result`.
  std::string describe(cuda::CUresult result) const;
  /// True for CUDA_SUCCESS; otherwise sets `error` to "<what> failed:
  /// <describe(result)>" and returns false.
  bool check(cuda::CUresult result, const std::string &what,
             std::string &error) const;

  /// The path the driver was opened from.
  const std::string &libraryPath() const { return path; }
  /// Number of visible devices (at least 1 once get() succeeded).
  int deviceCount() const { return devices; }
  /// The name of device `device` ("NVIDIA H100 80GB HBM3").
  bool deviceName(cuda::CUdevice device, std::string &name,
                  std::string &error) const;
  /// A cuDeviceGetAttribute value.
  bool deviceAttribute(cuda::CUdevice device, int attribute, int &value,
                       std::string &error) const;
  /// The number of streaming multiprocessors of `device`.
  bool multiprocessorCount(cuda::CUdevice device, int &count,
                           std::string &error) const;
  /// cuMemAlloc of max(`bytes`, 1) bytes (so that an empty tensor still has
  /// a distinct, valid pointer) in the current context; `what` names the
  /// buffer in the error ("argument arg0").
  bool allocate(size_t bytes, cuda::CUdeviceptr &pointer,
                const std::string &what, std::string &error) const;

  using CUresult = cuda::CUresult;
  using CUdevice = cuda::CUdevice;
  using CUdeviceptr = cuda::CUdeviceptr;

  CUresult (*cuInit)(unsigned flags) = nullptr;
  CUresult (*cuGetErrorName)(CUresult error, const char **name) = nullptr;
  CUresult (*cuGetErrorString)(CUresult error, const char **text) = nullptr;
  CUresult (*cuDriverGetVersion)(int *version) = nullptr;
  CUresult (*cuDeviceGetCount)(int *count) = nullptr;
  CUresult (*cuDeviceGet)(CUdevice *device, int ordinal) = nullptr;
  CUresult (*cuDeviceGetName)(char *name, int length,
                              CUdevice device) = nullptr;
  CUresult (*cuDeviceGetAttribute)(int *value, int attribute,
                                   CUdevice device) = nullptr;
  CUresult (*cuDevicePrimaryCtxRetain)(cuda::CUcontext *context,
                                       CUdevice device) = nullptr;
  CUresult (*cuDevicePrimaryCtxRelease)(CUdevice device) = nullptr;
  CUresult (*cuCtxSetCurrent)(cuda::CUcontext context) = nullptr;
  CUresult (*cuCtxGetCurrent)(cuda::CUcontext *context) = nullptr;
  CUresult (*cuCtxGetDevice)(CUdevice *device) = nullptr;
  CUresult (*cuCtxPushCurrent)(cuda::CUcontext context) = nullptr;
  CUresult (*cuCtxPopCurrent)(cuda::CUcontext *context) = nullptr;
  CUresult (*cuCtxSynchronize)() = nullptr;
  CUresult (*cuModuleLoadData)(cuda::CUmodule *module,
                               const void *image) = nullptr;
  CUresult (*cuModuleUnload)(cuda::CUmodule module) = nullptr;
  CUresult (*cuModuleGetFunction)(cuda::CUfunction *function,
                                  cuda::CUmodule module,
                                  const char *name) = nullptr;
  CUresult (*cuFuncGetAttribute)(int *value, int attribute,
                                 cuda::CUfunction function) = nullptr;
  CUresult (*cuFuncSetAttribute)(cuda::CUfunction function, int attribute,
                                 int value) = nullptr;
  /// Optional (driver 12.4 and later); null when absent.
  CUresult (*cuFuncGetParamInfo)(cuda::CUfunction function, size_t index,
                                 size_t *offset, size_t *size) = nullptr;
  /// Optional (drivers after CUDA 13.0; 13.0's has none); null when absent.
  CUresult (*cuFuncGetParamCount)(cuda::CUfunction function,
                                  size_t *count) = nullptr;
  CUresult (*cuMemAlloc)(CUdeviceptr *pointer, size_t bytes) = nullptr;
  CUresult (*cuMemFree)(CUdeviceptr pointer) = nullptr;
  CUresult (*cuMemcpyHtoDAsync)(CUdeviceptr destination, const void *source,
                                size_t bytes, cuda::CUstream stream) = nullptr;
  CUresult (*cuMemcpyDtoHAsync)(void *destination, CUdeviceptr source,
                                size_t bytes, cuda::CUstream stream) = nullptr;
  CUresult (*cuMemsetD8Async)(CUdeviceptr destination, unsigned char value,
                              size_t count, cuda::CUstream stream) = nullptr;
  CUresult (*cuMemsetD32Async)(CUdeviceptr destination, unsigned value,
                               size_t count, cuda::CUstream stream) = nullptr;
  CUresult (*cuStreamCreate)(cuda::CUstream *stream, unsigned flags) = nullptr;
  CUresult (*cuStreamDestroy)(cuda::CUstream stream) = nullptr;
  CUresult (*cuStreamSynchronize)(cuda::CUstream stream) = nullptr;
  /// Optional (every real driver has it; stand-in drivers for tests may
  /// not); null when absent. CUDA_ERROR_NOT_READY while work is pending.
  CUresult (*cuStreamQuery)(cuda::CUstream stream) = nullptr;
  CUresult (*cuEventCreate)(cuda::CUevent *event, unsigned flags) = nullptr;
  CUresult (*cuEventDestroy)(cuda::CUevent event) = nullptr;
  CUresult (*cuEventRecord)(cuda::CUevent event,
                            cuda::CUstream stream) = nullptr;
  CUresult (*cuEventSynchronize)(cuda::CUevent event) = nullptr;
  /// Optional, as cuStreamQuery; null when absent.
  CUresult (*cuEventQuery)(cuda::CUevent event) = nullptr;
  CUresult (*cuEventElapsedTime)(float *milliseconds, cuda::CUevent start,
                                 cuda::CUevent end) = nullptr;
  /// Optional (CUDA 12+ drivers; null when absent): packages with tensor
  /// maps then fail to launch with an error.
  CUresult (*cuTensorMapEncodeTiled)(
      cuda::CUtensorMap *map, int dataType, cuda::cuuint32_t rank,
      void *globalAddress, const cuda::cuuint64_t *globalDim,
      const cuda::cuuint64_t *globalStrides, const cuda::cuuint32_t *boxDim,
      const cuda::cuuint32_t *elementStrides, int interleave, int swizzle,
      int l2Promotion, int oobFill) = nullptr;
  CUresult (*cuLaunchKernel)(cuda::CUfunction function, unsigned gridX,
                             unsigned gridY, unsigned gridZ, unsigned blockX,
                             unsigned blockY, unsigned blockZ,
                             unsigned sharedBytes, cuda::CUstream stream,
                             void **params, void **extra) = nullptr;

private:
  CudaDriver() = default;
  bool load(std::string &error);

  void *handle = nullptr;
  std::string path;
  int devices = 0;
};

} // namespace attn::runtime

#endif // ATTN_RUNTIME_CUDADRIVER_H
