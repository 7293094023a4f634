//===- RuntimeC.cpp - C ABI of the kernel package runtime -----------------===//
//
// attn-c/Runtime.h: a kernel package function run on caller-owned device
// memory, in the caller's CUDA context, on the caller's stream. Built into
// the shared library libAttnRuntimeC.so.
//
//===----------------------------------------------------------------------===//

#include "attn-c/Runtime.h"

#include "attn/Runtime/CudaDriver.h"
#include "attn/Runtime/DeviceFunction.h"
#include "attn/Runtime/KernelPackage.h"

#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <vector>

using namespace attn::runtime;
using namespace attn::runtime::cuda;

struct AttnRuntime {
  KernelPackage package;
  FunctionSpec function;
  size_t tempBytes = 0;

  /// Serializes preparing and launching.
  std::mutex mutex;
  /// Set once the kernels are loaded.
  const CudaDriver *driver = nullptr;
  CUcontext context = nullptr;
  CUdevice device = -1;
  bool retainedContext = false;
  std::unique_ptr<DeviceFunction> loaded;
};

namespace {

thread_local std::string lastError;
/// Set instead of lastError when even the message could not be allocated.
thread_local const char *lastErrorFallback = nullptr;

/// Sets the last error and returns `status`.
int fail(int status, std::string message) {
  lastError = std::move(message);
  lastErrorFallback = nullptr;
  return status;
}

void clearLastError() {
  lastError.clear();
  lastErrorFallback = nullptr;
}

/// Runs the body of entry point `caller` and returns what it returns. Every
/// failure in it must be an error return: an exception that escapes it
/// (memory running out, a failure nothing foresaw) is caught here, last,
/// sets the last error and gives `failure`. Nothing may unwind into C.
template <typename Result, typename Body>
Result guarded(const char *caller, Result failure, Body body) noexcept {
  const char *what = "unknown exception";
  try {
    return body();
  } catch (const std::bad_alloc &) {
    what = "out of host memory";
  } catch (const std::exception &exception) {
    what = exception.what();
  } catch (...) {
  }
  try {
    fail(0, std::string(caller) + ": " + what);
  } catch (...) {
    clearLastError();
    lastErrorFallback = "out of host memory (while reporting an error)";
  }
  return failure;
}

/// The argument `index` of `runtime`, or null (setting the last error).
const TensorSpec *argAt(const AttnRuntime *runtime, int index,
                        const char *caller) {
  if (!runtime) {
    fail(ATTN_RUNTIME_INVALID_ARGUMENT,
         std::string(caller) + ": null runtime handle");
    return nullptr;
  }
  if (index < 0 ||
      static_cast<size_t>(index) >= runtime->function.args.size()) {
    fail(ATTN_RUNTIME_INVALID_ARGUMENT,
         std::string(caller) + ": function " + runtime->function.name +
             " has no argument " + std::to_string(index) + " (it has " +
             std::to_string(runtime->function.args.size()) + ")");
    return nullptr;
  }
  return &runtime->function.args[index];
}

/// Makes `context` current on this thread for the scope, if another is.
class ContextScope {
public:
  ContextScope(const CudaDriver &driver, CUcontext context)
      : driver(driver), context(context) {}
  ~ContextScope() {
    CUcontext popped = nullptr;
    if (pushed)
      driver.cuCtxPopCurrent(&popped);
  }
  bool enter(std::string &error) {
    CUcontext current = nullptr;
    if (!driver.check(driver.cuCtxGetCurrent(&current), "cuCtxGetCurrent",
                      error))
      return false;
    if (current == context)
      return true;
    pushed = driver.check(driver.cuCtxPushCurrent(context), "cuCtxPushCurrent",
                          error);
    return pushed;
  }

private:
  const CudaDriver &driver;
  CUcontext context;
  bool pushed = false;
};

/// attnRuntimePrepare with the handle's mutex held.
int prepareLocked(AttnRuntime &runtime) {
  if (runtime.loaded)
    return ATTN_RUNTIME_OK;
  std::string error;
  const CudaDriver *driver = CudaDriver::get(error);
  if (!driver)
    return fail(ATTN_RUNTIME_CUDA_ERROR, error);
  // The first preparation binds the handle to a context, kept even if
  // loading fails so that a retained primary context is released once.
  if (!runtime.context) {
    CUcontext current = nullptr;
    if (!driver->check(driver->cuCtxGetCurrent(&current), "cuCtxGetCurrent",
                       error))
      return fail(ATTN_RUNTIME_CUDA_ERROR, error);
    CUdevice device = 0;
    if (current) {
      if (!driver->check(driver->cuCtxGetDevice(&device), "cuCtxGetDevice",
                         error))
        return fail(ATTN_RUNTIME_CUDA_ERROR, error);
    } else if (!driver->check(driver->cuDeviceGet(&device, 0), "cuDeviceGet",
                              error) ||
               !driver->check(
                   driver->cuDevicePrimaryCtxRetain(&current, device),
                   "cuDevicePrimaryCtxRetain", error)) {
      return fail(ATTN_RUNTIME_CUDA_ERROR, error);
    } else {
      runtime.retainedContext = true;
    }
    runtime.driver = driver;
    runtime.context = current;
    runtime.device = device;
  }
  ContextScope scope(*driver, runtime.context);
  if (!scope.enter(error))
    return fail(ATTN_RUNTIME_CUDA_ERROR, error);
  runtime.loaded = DeviceFunction::load(
      *driver, runtime.package, runtime.function, runtime.device, error);
  if (!runtime.loaded)
    return fail(ATTN_RUNTIME_CUDA_ERROR, error);
  clearLastError();
  return ATTN_RUNTIME_OK;
}

} // namespace

AttnRuntime *attnRuntimeLoad(const char *packageDir, const char *function) {
  return guarded(
      "attnRuntimeLoad", static_cast<AttnRuntime *>(nullptr),
      [&]() -> AttnRuntime * {
        if (!packageDir) {
          fail(ATTN_RUNTIME_INVALID_ARGUMENT,
               "attnRuntimeLoad: null package directory");
          return nullptr;
        }
        auto runtime = std::make_unique<AttnRuntime>();
        std::string error;
        if (!loadKernelPackage(packageDir, runtime->package, error)) {
          fail(ATTN_RUNTIME_INVALID_ARGUMENT, error);
          return nullptr;
        }
        const FunctionSpec *spec =
            selectFunction(runtime->package, function ? function : "", error);
        if (!spec) {
          fail(ATTN_RUNTIME_INVALID_ARGUMENT, error);
          return nullptr;
        }
        runtime->function = *spec;
        for (int64_t bytes : spec->tempBytes)
          runtime->tempBytes += static_cast<size_t>(bytes);
        clearLastError();
        return runtime.release();
      });
}

const char *attnRuntimeLastError(void) {
  return lastErrorFallback ? lastErrorFallback : lastError.c_str();
}

const char *attnRuntimeFunctionName(const AttnRuntime *runtime) {
  return runtime ? runtime->function.name.c_str() : nullptr;
}

const char *attnRuntimeOpName(const AttnRuntime *runtime) {
  if (!runtime)
    return nullptr;
  return runtime->function.op ? runtime->function.op->name.c_str() : "";
}

int attnRuntimeNumArgs(const AttnRuntime *runtime) {
  return runtime ? static_cast<int>(runtime->function.args.size()) : -1;
}

const char *attnRuntimeArgName(const AttnRuntime *runtime, int index) {
  return guarded("attnRuntimeArgName", static_cast<const char *>(nullptr),
                 [&]() -> const char * {
                   const TensorSpec *arg =
                       argAt(runtime, index, "attnRuntimeArgName");
                   return arg ? arg->name.c_str() : nullptr;
                 });
}

const char *attnRuntimeArgOperand(const AttnRuntime *runtime, int index) {
  return guarded("attnRuntimeArgOperand", static_cast<const char *>(nullptr),
                 [&]() -> const char * {
                   const TensorSpec *arg =
                       argAt(runtime, index, "attnRuntimeArgOperand");
                   return arg ? arg->operand.c_str() : nullptr;
                 });
}

const char *attnRuntimeArgDType(const AttnRuntime *runtime, int index) {
  return guarded("attnRuntimeArgDType", static_cast<const char *>(nullptr),
                 [&]() -> const char * {
                   const TensorSpec *arg =
                       argAt(runtime, index, "attnRuntimeArgDType");
                   return arg ? dtypeName(arg->dtype) : nullptr;
                 });
}

int attnRuntimeArgRank(const AttnRuntime *runtime, int index) {
  return guarded("attnRuntimeArgRank", -1, [&]() {
    const TensorSpec *arg = argAt(runtime, index, "attnRuntimeArgRank");
    return arg ? static_cast<int>(arg->shape.size()) : -1;
  });
}

int64_t attnRuntimeArgDim(const AttnRuntime *runtime, int index, int dim) {
  return guarded("attnRuntimeArgDim", int64_t(-1), [&]() -> int64_t {
    const TensorSpec *arg = argAt(runtime, index, "attnRuntimeArgDim");
    if (!arg)
      return -1;
    if (dim < 0 || static_cast<size_t>(dim) >= arg->shape.size())
      return fail(-1, "attnRuntimeArgDim: argument " + arg->name + " (" +
                          arg->typeString() + ") has no dimension " +
                          std::to_string(dim));
    return arg->shape[dim];
  });
}

int attnRuntimeArgIsOutput(const AttnRuntime *runtime, int index) {
  return guarded("attnRuntimeArgIsOutput", -1, [&]() {
    const TensorSpec *arg = argAt(runtime, index, "attnRuntimeArgIsOutput");
    if (!arg)
      return -1;
    return arg->role == TensorRole::Output ? 1 : 0;
  });
}

size_t attnRuntimeTempBytes(const AttnRuntime *runtime) {
  return runtime ? runtime->tempBytes : 0;
}

int attnRuntimePrepare(AttnRuntime *runtime) {
  return guarded("attnRuntimePrepare", int(ATTN_RUNTIME_INTERNAL_ERROR), [&]() {
    if (!runtime)
      return fail(ATTN_RUNTIME_INVALID_ARGUMENT,
                  "attnRuntimePrepare: null runtime handle");
    std::lock_guard<std::mutex> lock(runtime->mutex);
    return prepareLocked(*runtime);
  });
}

int attnRuntimeDevice(const AttnRuntime *runtime) {
  return runtime && runtime->loaded ? static_cast<int>(runtime->device) : -1;
}

int attnRuntimeLaunch(AttnRuntime *runtime, void *const *devicePointers,
                      size_t count, void *stream) {
  return guarded("attnRuntimeLaunch", int(ATTN_RUNTIME_INTERNAL_ERROR), [&]() {
    if (!runtime)
      return fail(ATTN_RUNTIME_INVALID_ARGUMENT,
                  "attnRuntimeLaunch: null runtime handle");
    const FunctionSpec &function = runtime->function;
    if (count != function.args.size() || (count && !devicePointers))
      return fail(ATTN_RUNTIME_INVALID_ARGUMENT,
                  "attnRuntimeLaunch: function " + function.name + " takes " +
                      std::to_string(function.args.size()) +
                      " device pointers, got " + std::to_string(count));
    std::vector<CUdeviceptr> args(count, 0);
    for (size_t i = 0; i < count; ++i) {
      args[i] = static_cast<CUdeviceptr>(
          reinterpret_cast<uintptr_t>(devicePointers[i]));
      if (!args[i] && function.args[i].bytes() != 0)
        return fail(ATTN_RUNTIME_INVALID_ARGUMENT,
                    "attnRuntimeLaunch: function " + function.name +
                        ": null device pointer for argument " +
                        std::to_string(i) + " (" + function.args[i].name +
                        ", " + function.args[i].typeString() + ")");
    }

    std::lock_guard<std::mutex> lock(runtime->mutex);
    if (int status = prepareLocked(*runtime))
      return status;
    std::string error;
    ContextScope scope(*runtime->driver, runtime->context);
    if (!scope.enter(error) ||
        !runtime->loaded->launchAll(args.data(), static_cast<CUstream>(stream),
                                    error))
      return fail(ATTN_RUNTIME_CUDA_ERROR, error);
    clearLastError();
    return int(ATTN_RUNTIME_OK);
  });
}

void attnRuntimeDestroy(AttnRuntime *runtime) {
  if (!runtime)
    return;
  std::unique_ptr<AttnRuntime> owned(runtime);
  if (!owned->driver)
    return;
  // Best effort: nothing here can be reported, and after a kernel fault the
  // context refuses everything anyway.
  guarded("attnRuntimeDestroy", 0, [&]() {
    const CudaDriver &driver = *owned->driver;
    if (owned->loaded) {
      std::string error;
      ContextScope scope(driver, owned->context);
      if (scope.enter(error)) {
        driver.cuCtxSynchronize();
        owned->loaded.reset();
      } else {
        // Freeing outside its context could hit another context's memory:
        // leak instead.
        (void)owned->loaded.release();
      }
    }
    if (owned->retainedContext)
      driver.cuDevicePrimaryCtxRelease(owned->device);
    return 0;
  });
}
