//===- CudaDriver.cpp - The CUDA driver API, loaded at run time -----------===//

#include "attn/Runtime/CudaDriver.h"

#include <algorithm>
#include <cstdlib>
#include <dlfcn.h>
#include <initializer_list>
#include <new>
#include <vector>

using namespace attn::runtime;
using namespace attn::runtime::cuda;

/// The soname the NVIDIA driver installs; ATTN_LIBCUDA overrides it.
static const char *const defaultLibraryName = "libcuda.so.1";

namespace {
/// Resolves the entry points of the driver library `handle`, trying each
/// candidate symbol in turn (newest version first).
class SymbolResolver {
public:
  SymbolResolver(void *handle, const std::string &path)
      : handle(handle), path(path) {}

  template <typename FunctionPointer>
  bool resolve(FunctionPointer &pointer,
               std::initializer_list<const char *> symbols, bool required,
               std::string &error) {
    for (const char *symbol : symbols) {
      if (void *address = dlsym(handle, symbol)) {
        pointer = reinterpret_cast<FunctionPointer>(address);
        return true;
      }
    }
    if (!required)
      return true;
    error = "the CUDA driver library " + path + " has no entry point " +
            *symbols.begin() + " (the driver is too old or not libcuda)";
    return false;
  }

private:
  void *handle;
  const std::string &path;
};
} // namespace

const CudaDriver *CudaDriver::get(std::string &error) {
  // Loaded once; the driver then stays open for the life of the process.
  static std::string loadError;
  static CudaDriver *driver = [] {
    auto *candidate = new (std::nothrow) CudaDriver();
    if (!candidate) {
      loadError = "cannot load the CUDA driver: out of memory";
      return candidate;
    }
    if (candidate->load(loadError))
      return candidate;
    delete candidate;
    return static_cast<CudaDriver *>(nullptr);
  }();
  if (!driver)
    error = loadError;
  return driver;
}

bool CudaDriver::load(std::string &error) {
  const char *override = std::getenv("ATTN_LIBCUDA");
  path = override && *override ? override : defaultLibraryName;
  handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char *reason = dlerror();
    error = "cannot load the CUDA driver library " + path + ": " +
            (reason ? reason : "unknown dlopen error") +
            (override && *override
                 ? std::string(" (path taken from ATTN_LIBCUDA)")
                 : std::string(" (is the NVIDIA driver installed? set "
                               "ATTN_LIBCUDA to its libcuda.so.1)"));
    return false;
  }

  SymbolResolver resolver(handle, path);
  bool ok =
      resolver.resolve(cuInit, {"cuInit"}, true, error) &&
      resolver.resolve(cuGetErrorName, {"cuGetErrorName"}, true, error) &&
      resolver.resolve(cuGetErrorString, {"cuGetErrorString"}, true, error) &&
      resolver.resolve(cuDriverGetVersion, {"cuDriverGetVersion"}, true,
                       error) &&
      resolver.resolve(cuDeviceGetCount, {"cuDeviceGetCount"}, true, error) &&
      resolver.resolve(cuDeviceGet, {"cuDeviceGet"}, true, error) &&
      resolver.resolve(cuDeviceGetName, {"cuDeviceGetName"}, true, error) &&
      resolver.resolve(cuDeviceGetAttribute, {"cuDeviceGetAttribute"}, true,
                       error) &&
      resolver.resolve(cuDevicePrimaryCtxRetain, {"cuDevicePrimaryCtxRetain"},
                       true, error) &&
      resolver.resolve(
          cuDevicePrimaryCtxRelease,
          {"cuDevicePrimaryCtxRelease_v2", "cuDevicePrimaryCtxRelease"}, true,
          error) &&
      resolver.resolve(cuCtxSetCurrent, {"cuCtxSetCurrent"}, true, error) &&
      resolver.resolve(cuCtxGetCurrent, {"cuCtxGetCurrent"}, true, error) &&
      resolver.resolve(cuCtxGetDevice, {"cuCtxGetDevice"}, true, error) &&
      resolver.resolve(cuCtxPushCurrent, {"cuCtxPushCurrent_v2"}, true,
                       error) &&
      resolver.resolve(cuCtxPopCurrent, {"cuCtxPopCurrent_v2"}, true, error) &&
      resolver.resolve(cuCtxSynchronize, {"cuCtxSynchronize"}, true, error) &&
      resolver.resolve(cuModuleLoadData, {"cuModuleLoadData"}, true, error) &&
      resolver.resolve(cuModuleUnload, {"cuModuleUnload"}, true, error) &&
      resolver.resolve(cuModuleGetFunction, {"cuModuleGetFunction"}, true,
                       error) &&
      resolver.resolve(cuFuncGetAttribute, {"cuFuncGetAttribute"}, true,
                       error) &&
      resolver.resolve(cuFuncSetAttribute, {"cuFuncSetAttribute"}, true,
                       error) &&
      resolver.resolve(cuFuncGetParamInfo, {"cuFuncGetParamInfo"}, false,
                       error) &&
      resolver.resolve(cuFuncGetParamCount, {"cuFuncGetParamCount"}, false,
                       error) &&
      resolver.resolve(cuMemAlloc, {"cuMemAlloc_v2"}, true, error) &&
      resolver.resolve(cuMemFree, {"cuMemFree_v2"}, true, error) &&
      resolver.resolve(cuMemcpyHtoDAsync, {"cuMemcpyHtoDAsync_v2"}, true,
                       error) &&
      resolver.resolve(cuMemcpyDtoHAsync, {"cuMemcpyDtoHAsync_v2"}, true,
                       error) &&
      resolver.resolve(cuMemsetD8Async, {"cuMemsetD8Async"}, true, error) &&
      resolver.resolve(cuMemsetD32Async, {"cuMemsetD32Async"}, true, error) &&
      resolver.resolve(cuStreamCreate, {"cuStreamCreate"}, true, error) &&
      resolver.resolve(cuStreamDestroy,
                       {"cuStreamDestroy_v2", "cuStreamDestroy"}, true,
                       error) &&
      resolver.resolve(cuStreamSynchronize, {"cuStreamSynchronize"}, true,
                       error) &&
      resolver.resolve(cuStreamQuery, {"cuStreamQuery"}, false, error) &&
      resolver.resolve(cuTensorMapEncodeTiled, {"cuTensorMapEncodeTiled"},
                       false, error) &&
      resolver.resolve(cuEventCreate, {"cuEventCreate"}, true, error) &&
      resolver.resolve(cuEventDestroy, {"cuEventDestroy_v2", "cuEventDestroy"},
                       true, error) &&
      resolver.resolve(cuEventRecord, {"cuEventRecord"}, true, error) &&
      resolver.resolve(cuEventSynchronize, {"cuEventSynchronize"}, true,
                       error) &&
      resolver.resolve(cuEventQuery, {"cuEventQuery"}, false, error) &&
      resolver.resolve(cuEventElapsedTime,
                       {"cuEventElapsedTime_v2", "cuEventElapsedTime"}, true,
                       error) &&
      resolver.resolve(cuLaunchKernel, {"cuLaunchKernel"}, true, error);
  if (!ok)
    return false;

  if (!check(cuInit(0), "cuInit", error)) {
    error = "cannot initialize the CUDA driver (" + path + "): " + error;
    return false;
  }
  if (!check(cuDeviceGetCount(&devices), "cuDeviceGetCount", error))
    return false;
  if (devices <= 0) {
    error = "the CUDA driver (" + path + ") found no CUDA device";
    return false;
  }
  return true;
}

std::string CudaDriver::describe(CUresult result) const {
  const char *name = nullptr;
  const char *text = nullptr;
  if (cuGetErrorName(result, &name) != CUDA_SUCCESS || !name)
    name = nullptr;
  if (cuGetErrorString(result, &text) != CUDA_SUCCESS || !text)
    text = nullptr;
  std::string description =
      name ? name : "unknown CUDA error " + std::to_string(result);
  if (text)
    description += std::string(" (") + text + ")";
  return description;
}

bool CudaDriver::check(CUresult result, const std::string &what,
                       std::string &error) const {
  if (result == CUDA_SUCCESS)
    return true;
  error = what + " failed: " + describe(result);
  return false;
}

bool CudaDriver::deviceName(CUdevice device, std::string &name,
                            std::string &error) const {
  std::vector<char> buffer(256, '\0');
  if (!check(cuDeviceGetName(buffer.data(), static_cast<int>(buffer.size()) - 1,
                             device),
             "cuDeviceGetName", error))
    return false;
  name = buffer.data();
  return true;
}

bool CudaDriver::deviceAttribute(CUdevice device, int attribute, int &value,
                                 std::string &error) const {
  return check(cuDeviceGetAttribute(&value, attribute, device),
               "cuDeviceGetAttribute(" + std::to_string(attribute) + ")",
               error);
}

bool CudaDriver::multiprocessorCount(CUdevice device, int &count,
                                     std::string &error) const {
  return deviceAttribute(device, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT,
                         count, error);
}

bool CudaDriver::allocate(size_t bytes, CUdeviceptr &pointer,
                          const std::string &what, std::string &error) const {
  size_t size = std::max<size_t>(bytes, 1);
  return check(
      cuMemAlloc(&pointer, size),
      "cuMemAlloc(" + std::to_string(size) + " bytes for " + what + ")", error);
}
