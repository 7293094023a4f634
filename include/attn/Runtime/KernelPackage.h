//===- KernelPackage.h - Compiled GPU kernels and running them -*- C++ -*-===//
//
// A kernel package is the compiler's GPU output: a directory with
// manifest.json, which lists the binaries (cubin, PTX), the kernels in them
// and, per function, its arguments, temporaries and kernel launches. This
// loads and validates a package and makes a GPU Executor for one function.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_RUNTIME_KERNELPACKAGE_H
#define ATTN_RUNTIME_KERNELPACKAGE_H

#include "attn/Runtime/Executor.h"
#include "attn/Runtime/FunctionSpec.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace attn::runtime {

/// One binary of a package: a cubin (required; loaded) and its PTX
/// (optional; for reading).
struct PackageBinary {
  std::string name;
  /// Paths as written in the manifest, relative to the package directory.
  std::string ptxPath;
  std::string cubinPath;
  /// The cubin's bytes, followed by one NUL byte (so that a PTX image, which
  /// the driver also accepts, is terminated).
  std::vector<char> cubin;
};

/// One kernel of a binary, with the resource use ptxas reported.
struct PackageKernel {
  std::string binary;
  std::string name;
  int64_t registers = 0;
  int64_t spillBytes = 0;
  int64_t sharedBytes = 0;
};

/// A loaded, validated kernel package.
struct KernelPackage {
  /// The package directory and the manifest's path in it.
  std::string directory;
  std::string manifestPath;
  /// The target chip, e.g. "sm_90a".
  std::string chip;
  std::vector<PackageBinary> binaries;
  std::vector<PackageKernel> kernels;
  std::vector<FunctionSpec> functions;

  const PackageBinary *findBinary(const std::string &name) const;
  const PackageKernel *findKernel(const std::string &binary,
                                  const std::string &name) const;
  const FunctionSpec *findFunction(const std::string &name) const;
};

/// The manifest's file name inside a package directory.
inline constexpr const char *manifestFileName = "manifest.json";

/// The manifest's "format" and "version" this runtime reads.
inline constexpr const char *packageFormatName = "attn-kernel-package";
inline constexpr int64_t packageFormatVersion = 1;

/// The largest cubin a package may hold (1 GiB; real ones are a few MiB).
inline constexpr size_t maxCubinBytes = size_t(1) << 30;

/// Loads `<directory>/manifest.json` and the cubins it names, validating the
/// format and version, every binary, kernel, argument and temporary a launch
/// refers to, and launch dimensions. Errors say what is wrong and where
/// ("pkg/manifest.json:12:5: functions[0].launches[0].grid: ..."). Nothing
/// throws: a file that cannot be read (a directory, an I/O error, too large)
/// or memory that runs out is an error like a malformed manifest.
bool loadKernelPackage(const std::string &directory, KernelPackage &package,
                       std::string &error);

/// Validates an already parsed manifest of the package at `directory` and
/// reads its cubins; what loadKernelPackage does after parsing.
bool parseKernelPackage(const JsonValue &manifest, const std::string &directory,
                        KernelPackage &package, std::string &error);

/// The function named `name`, or the only function when `name` is empty.
/// Returns null and sets `error` (listing the functions) otherwise.
const FunctionSpec *selectFunction(const KernelPackage &package,
                                   const std::string &name, std::string &error);

/// How a GPU executor runs and times.
struct GpuExecutorOptions {
  /// The CUDA device ordinal.
  int device = 0;
  /// Overwrite a buffer larger than the L2 cache before each timed run, so
  /// that timings start from a cold cache as they do in a real model.
  bool flushL2BeforeTiming = true;
};

/// Makes an Executor that runs `function` of `package` on the GPU: loads its
/// binaries into the CUDA driver, allocates the arguments and temporaries,
/// and per run copies inputs in, poisons outputs with 0xFF bytes (NaN),
/// launches the kernels in order on one stream checking each, and copies
/// outputs back. Returns null and sets `error` on failure (no driver, no
/// device, a binary the device cannot load, a kernel not in its binary, a
/// kernel whose parameters do not match the launch).
std::unique_ptr<Executor>
createGpuExecutor(const KernelPackage &package, const FunctionSpec &function,
                  std::string &error, const GpuExecutorOptions &options = {});

} // namespace attn::runtime

#endif // ATTN_RUNTIME_KERNELPACKAGE_H
