//===- DeviceFunction.h - A package function in a context -------*- C++ -*-===//
//
// One function of a kernel package loaded into a CUDA context: its binaries
// loaded as modules, each launch's kernel looked up and checked against the
// launch, the dynamic shared memory opt-in set, and its temporaries
// allocated. It enqueues the function's launch sequence on argument buffers
// and a stream that the caller provides. The GPU executor (which owns its
// argument buffers and stream) and the C ABI (attn-c/Runtime.h, which runs on
// caller-owned memory such as PyTorch tensors) are both built on it.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_RUNTIME_DEVICEFUNCTION_H
#define ATTN_RUNTIME_DEVICEFUNCTION_H

#include "attn/Runtime/CudaDriver.h"
#include "attn/Runtime/FunctionSpec.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace attn::runtime {

struct KernelPackage;

/// Dynamic shared memory above this needs an explicit opt-in per kernel.
inline constexpr uint32_t defaultDynamicSharedLimit = 48 * 1024;

class DeviceFunction {
public:
  /// Loads `function` of `package` into the context current on the calling
  /// thread, which must be a context of `device`: loads each binary a launch
  /// uses once, looks up each kernel, checks its parameters against the
  /// launch (where the driver can tell them), sets the maximum dynamic shared
  /// memory of kernels that need more than 48 KiB (checking the device's
  /// opt-in limit), and allocates the temporaries (cuMemAlloc, at least one
  /// byte each). Returns null and sets `error` on failure.
  static std::unique_ptr<DeviceFunction>
  load(const CudaDriver &driver, const KernelPackage &package,
       const FunctionSpec &function, cuda::CUdevice device, std::string &error);

  /// Frees the temporaries and unloads the modules, ignoring errors. The
  /// context it was loaded into must be current, and no launch of it may
  /// still be running.
  ~DeviceFunction();

  DeviceFunction(const DeviceFunction &) = delete;
  DeviceFunction &operator=(const DeviceFunction &) = delete;

  const FunctionSpec &function() const { return spec; }
  size_t numLaunches() const { return launches.size(); }

  /// Enqueues launch `index` on `stream` (the context it was loaded into must
  /// be current). `args[i]` is the device pointer of `function().args[i]`.
  bool launch(size_t index, const cuda::CUdeviceptr *args,
              cuda::CUstream stream, std::string &error) const;
  /// Enqueues every launch in order, without synchronizing.
  bool launchAll(const cuda::CUdeviceptr *args, cuda::CUstream stream,
                 std::string &error) const;

  /// "function f launch 0 (kernel k, grid [1, 1, 1], block [128, 1, 1])".
  std::string describeLaunch(size_t index) const;

private:
  DeviceFunction(const CudaDriver &driver, const FunctionSpec &function)
      : driver(driver), spec(function) {}

  bool loadLaunches(const KernelPackage &package, cuda::CUdevice device,
                    std::string &error);
  bool checkParameters(size_t index, std::string &error) const;
  bool allocateTemps(std::string &error);
  /// Encodes the tensor maps of launch `index` over `args` and the
  /// temporaries, and copies those that changed to their device slots
  /// (stream-ordered, so a launch in flight keeps the maps it was given).
  bool updateTensorMaps(size_t index, const cuda::CUdeviceptr *args,
                        cuda::CUstream stream, std::string &error) const;

  const CudaDriver &driver;
  /// A copy, so that it does not depend on the caller's package.
  FunctionSpec spec;
  std::map<std::string, cuda::CUmodule> modules;
  /// The kernel of each launch of `spec`.
  std::vector<cuda::CUfunction> launches;
  std::vector<cuda::CUdeviceptr> temps;
  /// The tensor-map arguments, in launch order: one 128-byte device slot
  /// each in `tensorMapBuffer`, and the bytes last copied to it.
  cuda::CUdeviceptr tensorMapBuffer = 0;
  /// Per launch, the slot of its first tensor map.
  std::vector<size_t> firstTensorMap;
  mutable std::vector<cuda::CUtensorMap> tensorMaps;
  mutable std::vector<bool> tensorMapWritten;
};

} // namespace attn::runtime

#endif // ATTN_RUNTIME_DEVICEFUNCTION_H
