//===- GpuExecutor.cpp - Runs a kernel package function on the GPU --------===//

#include "attn/Runtime/CudaDriver.h"
#include "attn/Runtime/DeviceFunction.h"
#include "attn/Runtime/KernelPackage.h"

#include <algorithm>
#include <exception>

using namespace attn::runtime;
using namespace attn::runtime::cuda;

namespace {

/// Runs one function of a kernel package on one device. Owns the context
/// reference, the loaded function, argument buffers, stream and events it
/// creates.
class GpuExecutor final : public Executor {
public:
  GpuExecutor(const CudaDriver &driver, const FunctionSpec &function,
              const GpuExecutorOptions &options)
      : driver(driver), function(function), options(options) {}
  ~GpuExecutor() override;

  bool initialize(const KernelPackage &package, std::string &error);
  std::string deviceName() const override { return name; }
  bool run(const std::vector<void *> &hostArgs, std::string &error) override;
  bool time(int warmup, int iterations, double &medianMs,
            std::string &error) override;

private:
  bool makeCurrent(std::string &error);
  bool poisonOutputs(std::string &error);

  const CudaDriver &driver;
  /// A copy, so the executor does not depend on the caller's package.
  FunctionSpec function;
  GpuExecutorOptions options;

  CUdevice device = 0;
  CUcontext context = nullptr;
  bool retainedContext = false;
  std::string name;
  std::unique_ptr<DeviceFunction> loaded;
  std::vector<CUdeviceptr> argBuffers;
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
  if (flushBuffer)
    driver.cuMemFree(flushBuffer);
  if (startEvent)
    driver.cuEventDestroy(startEvent);
  if (stopEvent)
    driver.cuEventDestroy(stopEvent);
  if (stream)
    driver.cuStreamDestroy(stream);
  loaded.reset();
  driver.cuDevicePrimaryCtxRelease(device);
}

bool GpuExecutor::makeCurrent(std::string &error) {
  return driver.check(driver.cuCtxSetCurrent(context), "cuCtxSetCurrent",
                      error);
}

bool GpuExecutor::initialize(const KernelPackage &package, std::string &error) {
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
  if (!makeCurrent(error))
    return false;
  loaded = DeviceFunction::load(driver, package, function, device, error);
  if (!loaded)
    return false;

  argBuffers.assign(function.args.size(), 0);
  for (size_t i = 0; i < function.args.size(); ++i)
    if (!driver.allocate(function.args[i].bytes(), argBuffers[i],
                         "argument " + function.args[i].name, error))
      return false;

  return driver.check(driver.cuStreamCreate(&stream, CU_STREAM_NON_BLOCKING),
                      "cuStreamCreate", error) &&
         driver.check(driver.cuEventCreate(&startEvent, CU_EVENT_DEFAULT),
                      "cuEventCreate", error) &&
         driver.check(driver.cuEventCreate(&stopEvent, CU_EVENT_DEFAULT),
                      "cuEventCreate", error);
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
  for (size_t i = 0; i < loaded->numLaunches(); ++i)
    if (!loaded->launch(i, argBuffers.data(), stream, error) ||
        !driver.check(driver.cuStreamSynchronize(stream),
                      loaded->describeLaunch(i) + ": cuStreamSynchronize",
                      error))
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
    if (!driver.allocate(flushBytes, flushBuffer, "the L2 flush buffer", error))
      return false;
  }

  auto launchAll = [&]() {
    return loaded->launchAll(argBuffers.data(), stream, error);
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
  try {
    auto executor = std::make_unique<GpuExecutor>(*driver, function, options);
    if (!executor->initialize(package, error))
      return nullptr;
    return executor;
  } catch (const std::exception &exception) {
    error = "function " + function.name + ": " + exception.what();
  } catch (...) {
    error = "function " + function.name + ": unknown exception";
  }
  return nullptr;
}
