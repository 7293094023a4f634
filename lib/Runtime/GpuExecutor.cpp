//===- GpuExecutor.cpp - Runs a kernel package function on the GPU --------===//

#include "attn/Runtime/CudaDriver.h"
#include "attn/Runtime/KernelPackage.h"

#include <algorithm>
#include <cstring>
#include <map>

using namespace attn::runtime;
using namespace attn::runtime::cuda;

namespace {

/// Dynamic shared memory above this needs an explicit opt-in per kernel.
constexpr uint32_t defaultDynamicSharedLimit = 48 * 1024;

/// One launch resolved against the loaded modules.
struct ResolvedLaunch {
  const LaunchSpec *spec = nullptr;
  CUfunction function = nullptr;
};

/// Runs one function of a kernel package on one device. Owns the context
/// reference, modules, device buffers, stream and events it creates.
class GpuExecutor final : public Executor {
public:
  GpuExecutor(const CudaDriver &driver, const KernelPackage &package,
              const FunctionSpec &function, const GpuExecutorOptions &options)
      : driver(driver), package(package), function(function), options(options) {
  }
  ~GpuExecutor() override;

  bool initialize(std::string &error);
  std::string deviceName() const override { return name; }
  bool run(const std::vector<void *> &hostArgs, std::string &error) override;
  bool time(int warmup, int iterations, double &medianMs,
            std::string &error) override;

private:
  bool makeCurrent(std::string &error);
  bool loadModules(std::string &error);
  bool checkParameters(const ResolvedLaunch &launch, size_t index,
                       std::string &error);
  bool allocate(size_t bytes, CUdeviceptr &pointer, const std::string &what,
                std::string &error);
  bool poisonOutputs(std::string &error);
  bool launch(size_t index, std::string &error);
  std::string describeLaunch(size_t index) const;

  const CudaDriver &driver;
  /// Copies, so the executor does not depend on the caller's package.
  KernelPackage package;
  FunctionSpec function;
  GpuExecutorOptions options;

  CUdevice device = 0;
  CUcontext context = nullptr;
  bool retainedContext = false;
  std::string name;
  std::map<std::string, CUmodule> modules;
  std::vector<ResolvedLaunch> launches;
  std::vector<CUdeviceptr> argBuffers;
  std::vector<CUdeviceptr> tempBuffers;
  CUdeviceptr flushBuffer = 0;
  size_t flushBytes = 0;
  CUstream stream = nullptr;
  CUevent startEvent = nullptr;
  CUevent stopEvent = nullptr;
  bool hasRun = false;
};

} // namespace

GpuExecutor::~GpuExecutor() {
  // Best effort: errors here cannot be reported, and after a kernel fault
  // the context refuses everything anyway.
  if (!retainedContext)
    return;
  driver.cuCtxSetCurrent(context);
  if (stream)
    driver.cuStreamSynchronize(stream);
  for (CUdeviceptr buffer : argBuffers)
    if (buffer)
      driver.cuMemFree(buffer);
  for (CUdeviceptr buffer : tempBuffers)
    if (buffer)
      driver.cuMemFree(buffer);
  if (flushBuffer)
    driver.cuMemFree(flushBuffer);
  if (startEvent)
    driver.cuEventDestroy(startEvent);
  if (stopEvent)
    driver.cuEventDestroy(stopEvent);
  if (stream)
    driver.cuStreamDestroy(stream);
  for (auto &entry : modules)
    driver.cuModuleUnload(entry.second);
  driver.cuDevicePrimaryCtxRelease(device);
}

bool GpuExecutor::makeCurrent(std::string &error) {
  return driver.check(driver.cuCtxSetCurrent(context), "cuCtxSetCurrent",
                      error);
}

bool GpuExecutor::initialize(std::string &error) {
  if (options.device < 0 || options.device >= driver.deviceCount()) {
    error = "no CUDA device " + std::to_string(options.device) + " (found " +
            std::to_string(driver.deviceCount()) + ")";
    return false;
  }
  if (!driver.check(driver.cuDeviceGet(&device, options.device), "cuDeviceGet",
                    error) ||
      !driver.deviceName(device, name, error) ||
      !driver.check(driver.cuDevicePrimaryCtxRetain(&context, device),
                    "cuDevicePrimaryCtxRetain", error))
    return false;
  retainedContext = true;
  if (!makeCurrent(error) || !loadModules(error))
    return false;

  argBuffers.assign(function.args.size(), 0);
  for (size_t i = 0; i < function.args.size(); ++i)
    if (!allocate(function.args[i].bytes(), argBuffers[i],
                  "argument " + function.args[i].name, error))
      return false;
  tempBuffers.assign(function.tempBytes.size(), 0);
  for (size_t i = 0; i < function.tempBytes.size(); ++i)
    if (!allocate(static_cast<size_t>(function.tempBytes[i]), tempBuffers[i],
                  "temporary " + std::to_string(i), error))
      return false;

  return driver.check(driver.cuStreamCreate(&stream, CU_STREAM_NON_BLOCKING),
                      "cuStreamCreate", error) &&
         driver.check(driver.cuEventCreate(&startEvent, CU_EVENT_DEFAULT),
                      "cuEventCreate", error) &&
         driver.check(driver.cuEventCreate(&stopEvent, CU_EVENT_DEFAULT),
                      "cuEventCreate", error);
}

bool GpuExecutor::loadModules(std::string &error) {
  int major = 0, minor = 0, sharedOptIn = 0;
  if (!driver.deviceAttribute(
          device, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, major, error) ||
      !driver.deviceAttribute(
          device, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, minor, error) ||
      !driver.deviceAttribute(
          device, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN,
          sharedOptIn, error))
    return false;
  std::string deviceChip =
      "sm_" + std::to_string(major) + std::to_string(minor);

  for (size_t i = 0; i < function.launches.size(); ++i) {
    const LaunchSpec &spec = function.launches[i];
    const PackageBinary *binary = package.findBinary(spec.binary);
    if (!binary) { // loadKernelPackage rules this out; be safe anyway.
      error = describeLaunch(i) + ": no binary named \"" + spec.binary + "\"";
      return false;
    }
    CUmodule &module = modules[spec.binary];
    if (!module) {
      CUresult result = driver.cuModuleLoadData(&module, binary->cubin.data());
      if (result != CUDA_SUCCESS) {
        module = nullptr;
        modules.erase(spec.binary);
        error = "cannot load " + binary->cubinPath + " (built for " +
                package.chip + ") on " + name + " (" + deviceChip +
                "): cuModuleLoadData failed: " + driver.describe(result);
        return false;
      }
    }
    ResolvedLaunch resolved;
    resolved.spec = &spec;
    CUresult result = driver.cuModuleGetFunction(&resolved.function, module,
                                                 spec.kernel.c_str());
    if (result == CUDA_ERROR_NOT_FOUND) {
      error = describeLaunch(i) + ": kernel \"" + spec.kernel +
              "\" is not in " + binary->cubinPath;
      return false;
    }
    if (!driver.check(result, describeLaunch(i) + ": cuModuleGetFunction",
                      error) ||
        !checkParameters(resolved, i, error))
      return false;
    if (spec.sharedBytes > defaultDynamicSharedLimit) {
      if (spec.sharedBytes > static_cast<uint32_t>(sharedOptIn)) {
        error = describeLaunch(i) + ": " + std::to_string(spec.sharedBytes) +
                " bytes of dynamic shared memory exceed the device's limit "
                "of " +
                std::to_string(sharedOptIn);
        return false;
      }
      if (!driver.check(driver.cuFuncSetAttribute(
                            resolved.function,
                            CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                            static_cast<int>(spec.sharedBytes)),
                        describeLaunch(i) +
                            ": cuFuncSetAttribute(max dynamic shared "
                            "memory)",
                        error))
        return false;
    }
    launches.push_back(resolved);
  }
  return true;
}

/// Bytes a launch argument occupies in the kernel's parameter buffer.
static size_t launchArgBytes(const LaunchArg &arg) {
  switch (arg.kind) {
  case LaunchArg::Kind::I32:
  case LaunchArg::Kind::F32:
    return 4;
  default:
    return 8; // Pointers, i64 and f64.
  }
}

bool GpuExecutor::checkParameters(const ResolvedLaunch &launch, size_t index,
                                  std::string &error) {
  // Older drivers cannot tell us the kernel's parameters; then a mismatch
  // shows up only as wrong results.
  if (!driver.cuFuncGetParamInfo)
    return true;
  const std::vector<LaunchArg> &args = launch.spec->args;
  for (size_t i = 0; i < args.size(); ++i) {
    size_t offset = 0, size = 0;
    CUresult result =
        driver.cuFuncGetParamInfo(launch.function, i, &offset, &size);
    if (result == CUDA_ERROR_INVALID_VALUE) {
      error = describeLaunch(index) + ": the launch passes " +
              std::to_string(args.size()) + " arguments but the kernel takes " +
              std::to_string(i);
      return false;
    }
    if (!driver.check(result, describeLaunch(index) + ": cuFuncGetParamInfo",
                      error))
      return false;
    if (size != launchArgBytes(args[i])) {
      error = describeLaunch(index) + ": argument " + std::to_string(i) +
              " is " + std::to_string(launchArgBytes(args[i])) +
              " bytes but the kernel's parameter " + std::to_string(i) +
              " is " + std::to_string(size) + " bytes";
      return false;
    }
  }
  size_t offset = 0, size = 0;
  if (driver.cuFuncGetParamInfo(launch.function, args.size(), &offset, &size) ==
      CUDA_SUCCESS) {
    size_t count = args.size() + 1;
    while (driver.cuFuncGetParamInfo(launch.function, count, &offset, &size) ==
           CUDA_SUCCESS)
      ++count;
    error = describeLaunch(index) + ": the launch passes " +
            std::to_string(args.size()) + " arguments but the kernel takes " +
            std::to_string(count);
    return false;
  }
  return true;
}

bool GpuExecutor::allocate(size_t bytes, CUdeviceptr &pointer,
                           const std::string &what, std::string &error) {
  // Empty tensors still get a distinct, valid pointer.
  size_t size = std::max<size_t>(bytes, 1);
  return driver.check(
      driver.cuMemAlloc(&pointer, size),
      "cuMemAlloc(" + std::to_string(size) + " bytes for " + what + ")", error);
}

std::string GpuExecutor::describeLaunch(size_t index) const {
  const LaunchSpec &spec = function.launches[index];
  auto dims = [](const std::array<uint32_t, 3> &d) {
    return "[" + std::to_string(d[0]) + ", " + std::to_string(d[1]) + ", " +
           std::to_string(d[2]) + "]";
  };
  return "function " + function.name + " launch " + std::to_string(index) +
         " (kernel " + spec.kernel + ", grid " + dims(spec.grid) + ", block " +
         dims(spec.block) + ")";
}

bool GpuExecutor::poisonOutputs(std::string &error) {
  for (size_t i = 0; i < function.args.size(); ++i) {
    const TensorSpec &arg = function.args[i];
    if (arg.role != TensorRole::Output || arg.bytes() == 0)
      continue;
    if (!driver.check(
            driver.cuMemsetD8Async(argBuffers[i], 0xFF, arg.bytes(), stream),
            "cuMemsetD8Async (poisoning output " + arg.name + ")", error))
      return false;
  }
  return true;
}

bool GpuExecutor::launch(size_t index, std::string &error) {
  const ResolvedLaunch &resolved = launches[index];
  const LaunchSpec &spec = *resolved.spec;
  // Each parameter's value lives in its own 8-byte slot; the driver copies
  // as many bytes from each as the kernel's parameter has.
  std::vector<uint64_t> slots(spec.args.size(), 0);
  std::vector<void *> params(spec.args.size(), nullptr);
  for (size_t i = 0; i < spec.args.size(); ++i) {
    const LaunchArg &arg = spec.args[i];
    void *slot = &slots[i];
    switch (arg.kind) {
    case LaunchArg::Kind::Arg: {
      CUdeviceptr pointer = argBuffers[arg.index];
      std::memcpy(slot, &pointer, sizeof(pointer));
      break;
    }
    case LaunchArg::Kind::Temp: {
      CUdeviceptr pointer = tempBuffers[arg.index];
      std::memcpy(slot, &pointer, sizeof(pointer));
      break;
    }
    case LaunchArg::Kind::I64: {
      int64_t value = arg.intValue;
      std::memcpy(slot, &value, sizeof(value));
      break;
    }
    case LaunchArg::Kind::I32: {
      int32_t value = static_cast<int32_t>(arg.intValue);
      std::memcpy(slot, &value, sizeof(value));
      break;
    }
    case LaunchArg::Kind::F32: {
      float value = static_cast<float>(arg.floatValue);
      std::memcpy(slot, &value, sizeof(value));
      break;
    }
    case LaunchArg::Kind::F64: {
      double value = arg.floatValue;
      std::memcpy(slot, &value, sizeof(value));
      break;
    }
    }
    params[i] = slot;
  }
  return driver.check(
      driver.cuLaunchKernel(resolved.function, spec.grid[0], spec.grid[1],
                            spec.grid[2], spec.block[0], spec.block[1],
                            spec.block[2], spec.sharedBytes, stream,
                            params.empty() ? nullptr : params.data(), nullptr),
      describeLaunch(index) + ": cuLaunchKernel", error);
}

bool GpuExecutor::run(const std::vector<void *> &hostArgs, std::string &error) {
  if (hostArgs.size() != function.args.size()) {
    error = "function " + function.name + " takes " +
            std::to_string(function.args.size()) + " arguments, got " +
            std::to_string(hostArgs.size());
    return false;
  }
  if (!makeCurrent(error))
    return false;
  for (size_t i = 0; i < function.args.size(); ++i) {
    const TensorSpec &arg = function.args[i];
    if (arg.bytes() != 0 && !hostArgs[i]) {
      error = "no host buffer for argument " + arg.name;
      return false;
    }
    if (arg.role != TensorRole::Input || arg.bytes() == 0)
      continue;
    if (!driver.check(driver.cuMemcpyHtoDAsync(argBuffers[i], hostArgs[i],
                                               arg.bytes(), stream),
                      "cuMemcpyHtoDAsync (input " + arg.name + ")", error))
      return false;
  }
  if (!poisonOutputs(error) ||
      !driver.check(driver.cuStreamSynchronize(stream),
                    "cuStreamSynchronize (after copying inputs)", error))
    return false;
  // Synchronize after every launch so that a fault names its kernel.
  for (size_t i = 0; i < launches.size(); ++i)
    if (!launch(i, error) ||
        !driver.check(driver.cuStreamSynchronize(stream),
                      describeLaunch(i) + ": cuStreamSynchronize", error))
      return false;
  for (size_t i = 0; i < function.args.size(); ++i) {
    const TensorSpec &arg = function.args[i];
    if (arg.role != TensorRole::Output || arg.bytes() == 0)
      continue;
    if (!driver.check(driver.cuMemcpyDtoHAsync(hostArgs[i], argBuffers[i],
                                               arg.bytes(), stream),
                      "cuMemcpyDtoHAsync (output " + arg.name + ")", error))
      return false;
  }
  if (!driver.check(driver.cuStreamSynchronize(stream),
                    "cuStreamSynchronize (after copying outputs)", error))
    return false;
  hasRun = true;
  return true;
}

bool GpuExecutor::time(int warmup, int iterations, double &medianMs,
                       std::string &error) {
  if (!hasRun) {
    error = "time() needs a successful run() first (for its inputs)";
    return false;
  }
  if (iterations <= 0 || warmup < 0) {
    error = "time() needs a positive number of iterations";
    return false;
  }
  if (!makeCurrent(error))
    return false;
  if (options.flushL2BeforeTiming && !flushBuffer) {
    int l2Bytes = 0;
    if (!driver.deviceAttribute(device, CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE,
                                l2Bytes, error))
      return false;
    // Twice the L2 size, in whole 32-bit words, at least 64 MiB.
    flushBytes = std::max<size_t>(size_t(2) * l2Bytes, size_t(64) << 20);
    if (!allocate(flushBytes, flushBuffer, "the L2 flush buffer", error))
      return false;
  }

  auto launchAll = [&]() {
    for (size_t i = 0; i < launches.size(); ++i)
      if (!launch(i, error))
        return false;
    return true;
  };
  for (int i = 0; i < warmup; ++i)
    if (!launchAll())
      return false;
  if (!driver.check(driver.cuStreamSynchronize(stream),
                    "cuStreamSynchronize (after warm-up)", error))
    return false;

  std::vector<double> samples;
  for (int i = 0; i < iterations; ++i) {
    // Outputs are poisoned before each timed run as before each checked
    // one, outside the timed region; the L2 flush comes last so that
    // nothing the kernels read starts in the cache.
    if (!poisonOutputs(error))
      return false;
    if (flushBuffer &&
        !driver.check(driver.cuMemsetD32Async(flushBuffer, 0x5A5A5A5Au,
                                              flushBytes / 4, stream),
                      "cuMemsetD32Async (L2 flush)", error))
      return false;
    if (!driver.check(driver.cuEventRecord(startEvent, stream), "cuEventRecord",
                      error) ||
        !launchAll() ||
        !driver.check(driver.cuEventRecord(stopEvent, stream), "cuEventRecord",
                      error) ||
        !driver.check(
            driver.cuEventSynchronize(stopEvent),
            "cuEventSynchronize (timed run " + std::to_string(i) + ")", error))
      return false;
    float milliseconds = 0;
    if (!driver.check(
            driver.cuEventElapsedTime(&milliseconds, startEvent, stopEvent),
            "cuEventElapsedTime", error))
      return false;
    samples.push_back(milliseconds);
  }
  medianMs = medianOf(samples);
  return true;
}

std::unique_ptr<Executor> attn::runtime::createGpuExecutor(
    const KernelPackage &package, const FunctionSpec &function,
    std::string &error, const GpuExecutorOptions &options) {
  const CudaDriver *driver = CudaDriver::get(error);
  if (!driver)
    return nullptr;
  auto executor =
      std::make_unique<GpuExecutor>(*driver, package, function, options);
  if (!executor->initialize(error))
    return nullptr;
  return executor;
}
