//===- DeviceFunction.cpp - A package function in a context ---------------===//

#include "attn/Runtime/DeviceFunction.h"
#include "attn/Runtime/KernelPackage.h"

#include <algorithm>
#include <cstring>
#include <exception>

using namespace attn::runtime;
using namespace attn::runtime::cuda;

std::unique_ptr<DeviceFunction>
DeviceFunction::load(const CudaDriver &driver, const KernelPackage &package,
                     const FunctionSpec &function, CUdevice device,
                     std::string &error) {
  // Nothing may escape to the C ABI: memory that runs out is an error too
  // (what was loaded is unloaded by the destructor).
  try {
    std::unique_ptr<DeviceFunction> loaded(
        new DeviceFunction(driver, function));
    if (!loaded->loadLaunches(package, device, error) ||
        !loaded->allocateTemps(error))
      return nullptr;
    return loaded;
  } catch (const std::exception &exception) {
    error = "function " + function.name + ": " + exception.what();
  } catch (...) {
    error = "function " + function.name + ": unknown exception";
  }
  return nullptr;
}

DeviceFunction::~DeviceFunction() {
  if (tensorMapBuffer)
    driver.cuMemFree(tensorMapBuffer);
  for (CUdeviceptr buffer : temps)
    if (buffer)
      driver.cuMemFree(buffer);
  for (auto &entry : modules)
    driver.cuModuleUnload(entry.second);
}

bool DeviceFunction::loadLaunches(const KernelPackage &package, CUdevice device,
                                  std::string &error) {
  int major = 0, minor = 0, sharedOptIn = 0;
  std::string deviceName;
  if (!driver.deviceName(device, deviceName, error) ||
      !driver.deviceAttribute(
          device, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, major, error) ||
      !driver.deviceAttribute(
          device, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, minor, error) ||
      !driver.deviceAttribute(
          device, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN,
          sharedOptIn, error))
    return false;
  std::string deviceChip =
      "sm_" + std::to_string(major) + std::to_string(minor);

  for (size_t i = 0; i < spec.launches.size(); ++i) {
    const LaunchSpec &launchSpec = spec.launches[i];
    const PackageBinary *binary = package.findBinary(launchSpec.binary);
    if (!binary) { // loadKernelPackage rules this out; be safe anyway.
      error =
          describeLaunch(i) + ": no binary named \"" + launchSpec.binary + "\"";
      return false;
    }
    CUmodule &module = modules[launchSpec.binary];
    if (!module) {
      CUresult result = driver.cuModuleLoadData(&module, binary->cubin.data());
      if (result != CUDA_SUCCESS) {
        module = nullptr;
        modules.erase(launchSpec.binary);
        error = "cannot load " + binary->cubinPath + " (built for " +
                package.chip + ") on " + deviceName + " (" + deviceChip +
                "): cuModuleLoadData failed: " + driver.describe(result);
        return false;
      }
    }
    CUfunction kernel = nullptr;
    CUresult result =
        driver.cuModuleGetFunction(&kernel, module, launchSpec.kernel.c_str());
    if (result == CUDA_ERROR_NOT_FOUND) {
      error = describeLaunch(i) + ": kernel \"" + launchSpec.kernel +
              "\" is not in " + binary->cubinPath;
      return false;
    }
    if (!driver.check(result, describeLaunch(i) + ": cuModuleGetFunction",
                      error))
      return false;
    launches.push_back(kernel);
    if (!checkParameters(i, error))
      return false;
    // The 48 KiB a kernel gets without opting in, and the device's opt-in
    // limit, bound its static and dynamic shared memory together: a kernel
    // with a static variable (MLIR's dynamic-shared-memory symbol is one
    // byte of it) and exactly 48 KiB of dynamic memory must opt in too.
    int staticBytes = 0;
    if (!driver.check(driver.cuFuncGetAttribute(
                          &staticBytes, CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES,
                          kernel),
                      describeLaunch(i) +
                          ": cuFuncGetAttribute(static shared memory)",
                      error))
      return false;
    uint64_t totalBytes = uint64_t(launchSpec.sharedBytes) +
                          uint64_t(std::max(staticBytes, 0));
    if (totalBytes <= defaultDynamicSharedLimit)
      continue;
    if (totalBytes > static_cast<uint64_t>(std::max(sharedOptIn, 0))) {
      error = describeLaunch(i) + ": " +
              std::to_string(launchSpec.sharedBytes) +
              " bytes of dynamic shared memory" +
              (staticBytes > 0 ? " and " + std::to_string(staticBytes) +
                                     " bytes of static"
                               : std::string()) +
              " exceed the device's limit of " + std::to_string(sharedOptIn);
      return false;
    }
    if (!driver.check(driver.cuFuncSetAttribute(
                          kernel,
                          CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                          static_cast<int>(launchSpec.sharedBytes)),
                      describeLaunch(i) +
                          ": cuFuncSetAttribute(max dynamic shared memory)",
                      error))
      return false;
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

bool DeviceFunction::checkParameters(size_t index, std::string &error) const {
  // Older drivers cannot tell us the kernel's parameters; then a mismatch
  // shows up only as wrong results.
  if (!driver.cuFuncGetParamInfo)
    return true;
  CUfunction kernel = launches[index];
  const std::vector<LaunchArg> &args = spec.launches[index].args;
  auto arityError = [&](size_t kernelParams) {
    error = describeLaunch(index) + ": the launch passes " +
            std::to_string(args.size()) + " arguments but the kernel takes " +
            std::to_string(kernelParams);
    return false;
  };
  // Every query below stays within the parameters the kernel has, so that a
  // correct launch makes no failing driver call (compute-sanitizer reports
  // each one as an API error).
  if (driver.cuFuncGetParamCount) {
    size_t count = 0;
    if (!driver.check(driver.cuFuncGetParamCount(kernel, &count),
                      describeLaunch(index) + ": cuFuncGetParamCount", error))
      return false;
    if (count != args.size())
      return arityError(count);
  }
  for (size_t i = 0; i < args.size(); ++i) {
    size_t offset = 0, size = 0;
    CUresult result = driver.cuFuncGetParamInfo(kernel, i, &offset, &size);
    // Only without cuFuncGetParamCount: the kernel has fewer parameters.
    if (result == CUDA_ERROR_INVALID_VALUE)
      return arityError(i);
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
  // Without cuFuncGetParamCount (CUDA 13.0's driver has none), a kernel that
  // takes more parameters than the launch passes goes unnoticed here: the
  // driver offers no count, no total parameter size, and the only probe,
  // asking for parameter args.size(), fails on every correct launch, which
  // compute-sanitizer reports. The manifest and the kernel come from one
  // compilation, so this only guards against a hand-edited package.
  return true;
}

bool DeviceFunction::allocateTemps(std::string &error) {
  temps.assign(spec.tempBytes.size(), 0);
  for (size_t i = 0; i < spec.tempBytes.size(); ++i)
    if (!driver.allocate(static_cast<size_t>(spec.tempBytes[i]), temps[i],
                         "temporary " + std::to_string(i) + " of function " +
                             spec.name,
                         error))
      return false;
  size_t maps = 0;
  for (const LaunchSpec &launch : spec.launches) {
    firstTensorMap.push_back(maps);
    for (const LaunchArg &arg : launch.args)
      maps += arg.kind == LaunchArg::Kind::TensorMap;
  }
  if (maps == 0)
    return true;
  if (!driver.cuTensorMapEncodeTiled) {
    error = "function " + spec.name +
            " uses TMA tensor maps, but the CUDA driver has no "
            "cuTensorMapEncodeTiled (CUDA 12 or newer is needed)";
    return false;
  }
  tensorMaps.assign(maps, CUtensorMap());
  tensorMapWritten.assign(maps, false);
  return driver.allocate(maps * sizeof(CUtensorMap), tensorMapBuffer,
                         "the tensor maps of function " + spec.name, error);
}

/// cuTensorMapEncodeTiled's code of a swizzle span / an L2 promotion size
/// in bytes (0: none), both checked by the manifest parser.
static int swizzleCode(int64_t bytes) {
  return bytes == 128 ? 3 : bytes == 64 ? 2 : bytes == 32 ? 1 : 0;
}
static int l2PromotionCode(int64_t bytes) {
  return bytes == 256 ? 3 : bytes == 128 ? 2 : bytes == 64 ? 1 : 0;
}

bool DeviceFunction::updateTensorMaps(size_t index, const CUdeviceptr *args,
                                      CUstream stream,
                                      std::string &error) const {
  const LaunchSpec &launchSpec = spec.launches[index];
  size_t slot = firstTensorMap[index];
  for (size_t a = 0; a < launchSpec.args.size(); ++a) {
    const LaunchArg &arg = launchSpec.args[a];
    if (arg.kind != LaunchArg::Kind::TensorMap)
      continue;
    const TensorMapSpec &map = arg.tensorMap;
    size_t rank = map.shape.size();
    cuuint64_t dims[5], strides[4];
    cuuint32_t box[5], elementStrides[5];
    cuuint64_t stride = dtypeBytes(map.dtype);
    // Innermost first.
    for (size_t r = 0; r < rank; ++r) {
      dims[r] = static_cast<cuuint64_t>(map.shape[rank - 1 - r]);
      box[r] = static_cast<cuuint32_t>(map.box[rank - 1 - r]);
      elementStrides[r] = 1;
      stride *= dims[r];
      if (r + 1 < rank)
        strides[r] = stride;
    }
    int dataType = map.dtype == DType::BF16   ? CU_TENSOR_MAP_DATA_TYPE_BFLOAT16
                   : map.dtype == DType::F16 ? CU_TENSOR_MAP_DATA_TYPE_FLOAT16
                                             : CU_TENSOR_MAP_DATA_TYPE_FLOAT32;
    CUdeviceptr base = map.inArg ? args[map.index] : temps[map.index];
    CUtensorMap encoded;
    if (!driver.check(
            driver.cuTensorMapEncodeTiled(
                &encoded, dataType, static_cast<cuuint32_t>(rank),
                reinterpret_cast<void *>(base), dims, strides, box,
                elementStrides, /*interleave=*/0, swizzleCode(map.swizzle),
                l2PromotionCode(map.l2Promotion), /*oobFill: zeros=*/0),
            describeLaunch(index) + ": cuTensorMapEncodeTiled of argument " +
                std::to_string(a) +
                " (its buffer must be 16-byte aligned)",
            error))
      return false;
    if (!tensorMapWritten[slot] ||
        std::memcmp(&encoded, &tensorMaps[slot], sizeof(encoded)) != 0) {
      tensorMaps[slot] = encoded;
      // From pageable memory: staged before the call returns.
      if (!driver.check(
              driver.cuMemcpyHtoDAsync(tensorMapBuffer +
                                           slot * sizeof(CUtensorMap),
                                       &tensorMaps[slot], sizeof(CUtensorMap),
                                       stream),
              describeLaunch(index) + ": copying a tensor map", error))
        return false;
      tensorMapWritten[slot] = true;
    }
    ++slot;
  }
  return true;
}

std::string DeviceFunction::describeLaunch(size_t index) const {
  const LaunchSpec &launchSpec = spec.launches[index];
  auto dims = [](const std::array<uint32_t, 3> &d) {
    return "[" + std::to_string(d[0]) + ", " + std::to_string(d[1]) + ", " +
           std::to_string(d[2]) + "]";
  };
  return "function " + spec.name + " launch " + std::to_string(index) +
         " (kernel " + launchSpec.kernel + ", grid " + dims(launchSpec.grid) +
         ", block " + dims(launchSpec.block) + ")";
}

bool DeviceFunction::launch(size_t index, const CUdeviceptr *args,
                            CUstream stream, std::string &error) const {
  const LaunchSpec &launchSpec = spec.launches[index];
  // Each parameter's value lives in its own 8-byte slot; the driver copies
  // as many bytes from each as the kernel's parameter has.
  if (!updateTensorMaps(index, args, stream, error))
    return false;
  size_t mapSlot = firstTensorMap.empty() ? 0 : firstTensorMap[index];
  std::vector<uint64_t> slots(launchSpec.args.size(), 0);
  std::vector<void *> params(launchSpec.args.size(), nullptr);
  for (size_t i = 0; i < launchSpec.args.size(); ++i) {
    const LaunchArg &arg = launchSpec.args[i];
    void *slot = &slots[i];
    switch (arg.kind) {
    case LaunchArg::Kind::Arg:
      std::memcpy(slot, &args[arg.index], sizeof(CUdeviceptr));
      break;
    case LaunchArg::Kind::Temp:
      std::memcpy(slot, &temps[arg.index], sizeof(CUdeviceptr));
      break;
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
    case LaunchArg::Kind::TensorMap: {
      CUdeviceptr map = tensorMapBuffer + mapSlot++ * sizeof(CUtensorMap);
      std::memcpy(slot, &map, sizeof(map));
      break;
    }
    }
    params[i] = slot;
  }
  return driver.check(
      driver.cuLaunchKernel(launches[index], launchSpec.grid[0],
                            launchSpec.grid[1], launchSpec.grid[2],
                            launchSpec.block[0], launchSpec.block[1],
                            launchSpec.block[2], launchSpec.sharedBytes, stream,
                            params.empty() ? nullptr : params.data(), nullptr),
      describeLaunch(index) + ": cuLaunchKernel", error);
}

bool DeviceFunction::launchAll(const CUdeviceptr *args, CUstream stream,
                               std::string &error) const {
  for (size_t i = 0; i < launches.size(); ++i)
    if (!launch(i, args, stream, error))
      return false;
  return true;
}
