//===- KernelPackage.cpp - Loading and validating kernel packages ---------===//

#include "attn/Runtime/KernelPackage.h"

#include "JsonFields.h"
#include "ReadFile.h"

#include <exception>
#include <filesystem>

using namespace attn::runtime;
using namespace attn::runtime::detail;

const PackageBinary *KernelPackage::findBinary(const std::string &name) const {
  for (const PackageBinary &binary : binaries)
    if (binary.name == name)
      return &binary;
  return nullptr;
}

const PackageKernel *KernelPackage::findKernel(const std::string &binary,
                                               const std::string &name) const {
  for (const PackageKernel &kernel : kernels)
    if (kernel.binary == binary && kernel.name == name)
      return &kernel;
  return nullptr;
}

const FunctionSpec *KernelPackage::findFunction(const std::string &name) const {
  for (const FunctionSpec &function : functions)
    if (function.name == name)
      return &function;
  return nullptr;
}

/// `relative` resolved against the package directory.
static std::string packagePath(const std::string &directory,
                               const std::string &relative) {
  if (relative.empty() || relative.front() == '/' || directory.empty())
    return relative;
  return directory.back() == '/' ? directory + relative
                                 : directory + "/" + relative;
}

/// Whether `name` names a file inside the package directory: relative, with
/// no `..` component (a package never reads outside its directory).
static bool staysInPackage(const std::string &name) {
  if (name.empty() || name.front() == '/')
    return false;
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find('/', start);
    if (end == std::string::npos)
      end = name.size();
    if (name.compare(start, end - start, "..") == 0 && end - start == 2)
      return false;
    start = end + 1;
  }
  return true;
}

/// Reads the whole file at `path` into `bytes`, followed by one NUL byte.
static bool readBinaryFile(const std::string &path, std::vector<char> &bytes,
                           std::string &reason) {
  if (!readWholeFile(path, maxCubinBytes, bytes, reason))
    return false;
  if (bytes.empty()) {
    reason = "the file is empty";
    return false;
  }
  try {
    bytes.push_back('\0');
  } catch (const std::bad_alloc &) {
    reason = "out of memory";
    return false;
  }
  return true;
}

/// Reads an optional non-negative integer member (0 when absent or null).
static bool readOptionalCount(const JsonValue &object, const std::string &path,
                              const std::string &key, int64_t &out,
                              std::string &error) {
  out = 0;
  const JsonValue *member = object.find(key);
  if (!member || member->isNull())
    return true;
  return checkInteger(*member, memberPath(path, key), 0,
                      std::numeric_limits<int64_t>::max(), out, error);
}

static bool parseBinaries(const JsonValue &manifest,
                          const std::string &directory, KernelPackage &package,
                          std::string &error) {
  const JsonValue *binaries = readArray(manifest, "", "binaries", error);
  if (!binaries)
    return false;
  for (size_t i = 0; i < binaries->getArray().size(); ++i) {
    const JsonValue &json = binaries->getArray()[i];
    std::string path = elementPath("binaries", i);
    PackageBinary binary;
    if (!expectObject(json, path, error) ||
        !readString(json, path, "name", binary.name, error) ||
        !readString(json, path, "cubin", binary.cubinPath, error))
      return false;
    if (package.findBinary(binary.name))
      return failAt(json, path, "duplicate binary name \"" + binary.name + "\"",
                    error);
    if (!staysInPackage(binary.cubinPath))
      return failAt(*json.find("cubin"), memberPath(path, "cubin"),
                    "\"" + binary.cubinPath +
                        "\" is not a file inside the package (absolute, or "
                        "with a '..' component)",
                    error);
    if (const JsonValue *ptx = json.find("ptx"); ptx && !ptx->isNull()) {
      if (!ptx->isString())
        return failAt(*ptx, memberPath(path, "ptx"),
                      "expected a string or null", error);
      binary.ptxPath = ptx->getString();
      if (!staysInPackage(binary.ptxPath))
        return failAt(*ptx, memberPath(path, "ptx"),
                      "\"" + binary.ptxPath +
                          "\" is not a file inside the package (absolute, or "
                          "with a '..' component)",
                      error);
    }
    std::string cubinFile = packagePath(directory, binary.cubinPath);
    std::string reason;
    if (!readBinaryFile(cubinFile, binary.cubin, reason))
      return failAt(*json.find("cubin"), memberPath(path, "cubin"),
                    "cannot read cubin " + cubinFile + ": " + reason, error);
    package.binaries.push_back(std::move(binary));
  }
  return true;
}

static bool parseKernels(const JsonValue &manifest, KernelPackage &package,
                         std::string &error) {
  const JsonValue *kernels = readArray(manifest, "", "kernels", error);
  if (!kernels)
    return false;
  for (size_t i = 0; i < kernels->getArray().size(); ++i) {
    const JsonValue &json = kernels->getArray()[i];
    std::string path = elementPath("kernels", i);
    PackageKernel kernel;
    if (!expectObject(json, path, error) ||
        !readString(json, path, "binary", kernel.binary, error) ||
        !readString(json, path, "name", kernel.name, error) ||
        !readOptionalCount(json, path, "registers", kernel.registers, error) ||
        !readOptionalCount(json, path, "spill_bytes", kernel.spillBytes,
                           error) ||
        !readOptionalCount(json, path, "shared_bytes", kernel.sharedBytes,
                           error))
      return false;
    if (!package.findBinary(kernel.binary))
      return failAt(*json.find("binary"), memberPath(path, "binary"),
                    "no binary named \"" + kernel.binary + "\"", error);
    if (package.findKernel(kernel.binary, kernel.name))
      return failAt(json, path,
                    "duplicate kernel \"" + kernel.name + "\" in binary \"" +
                        kernel.binary + "\"",
                    error);
    package.kernels.push_back(std::move(kernel));
  }
  return true;
}

/// Checks what parseFunctionSpec cannot: that launches name binaries and
/// kernels of this package, and that every output reaches some kernel.
static bool checkFunctionAgainstPackage(const JsonValue &json,
                                        const std::string &path,
                                        const FunctionSpec &function,
                                        const KernelPackage &package,
                                        std::string &error) {
  const JsonValue *launches = json.find("launches");
  if (function.launches.empty())
    return failAt(launches ? *launches : json, memberPath(path, "launches"),
                  "a GPU function needs at least one kernel launch", error);
  for (size_t i = 0; i < function.launches.size(); ++i) {
    const LaunchSpec &launch = function.launches[i];
    const JsonValue &launchJson = launches->getArray()[i];
    std::string launchPath = elementPath(memberPath(path, "launches"), i);
    if (!package.findBinary(launch.binary))
      return failAt(*launchJson.find("binary"),
                    memberPath(launchPath, "binary"),
                    "no binary named \"" + launch.binary + "\"", error);
    if (!package.findKernel(launch.binary, launch.kernel))
      return failAt(*launchJson.find("kernel"),
                    memberPath(launchPath, "kernel"),
                    "no kernel named \"" + launch.kernel + "\" in binary \"" +
                        launch.binary + "\"",
                    error);
  }
  for (size_t argIndex = 0; argIndex < function.args.size(); ++argIndex) {
    const TensorSpec &arg = function.args[argIndex];
    if (arg.role != TensorRole::Output)
      continue;
    bool passed = false;
    for (const LaunchSpec &launch : function.launches)
      for (const LaunchArg &launchArg : launch.args)
        passed |= launchArg.kind == LaunchArg::Kind::Arg &&
                  launchArg.index == static_cast<int64_t>(argIndex);
    if (!passed)
      return failAt(json, path,
                    "output \"" + arg.name + "\" is passed to no kernel",
                    error);
  }
  return true;
}

static bool parsePackage(const JsonValue &manifest,
                         const std::string &directory, KernelPackage &package,
                         std::string &error) {
  package = KernelPackage();
  package.directory = directory;
  package.manifestPath = packagePath(directory, manifestFileName);
  std::string detail;
  auto fail = [&]() {
    bool located = !detail.empty() && detail[0] >= '0' && detail[0] <= '9';
    error = package.manifestPath + (located ? ":" : ": ") + detail;
    return false;
  };

  if (!manifest.isObject()) {
    failAt(manifest, "manifest", "expected an object", detail);
    return fail();
  }
  std::string format;
  if (!readString(manifest, "", "format", format, detail))
    return fail();
  if (format != packageFormatName) {
    failAt(*manifest.find("format"), "format",
           "not an attn kernel package (format is \"" + format +
               "\", expected \"" + packageFormatName + "\")",
           detail);
    return fail();
  }
  int64_t version;
  if (!readInteger(manifest, "", "version", version, detail))
    return fail();
  if (version != packageFormatVersion) {
    failAt(*manifest.find("version"), "version",
           "unsupported package version " + std::to_string(version) +
               " (this runtime reads version " +
               std::to_string(packageFormatVersion) + ")",
           detail);
    return fail();
  }
  if (!readString(manifest, "", "chip", package.chip, detail) ||
      !parseBinaries(manifest, directory, package, detail) ||
      !parseKernels(manifest, package, detail))
    return fail();

  const JsonValue *functions = readArray(manifest, "", "functions", detail);
  if (!functions)
    return fail();
  if (functions->getArray().empty()) {
    failAt(*functions, "functions", "the package has no functions", detail);
    return fail();
  }
  for (size_t i = 0; i < functions->getArray().size(); ++i) {
    const JsonValue &json = functions->getArray()[i];
    std::string path = elementPath("functions", i);
    FunctionSpec function;
    if (!parseFunctionSpec(json, function, detail, path) ||
        !checkFunctionAgainstPackage(json, path, function, package, detail))
      return fail();
    if (package.findFunction(function.name)) {
      failAt(json, path, "duplicate function name \"" + function.name + "\"",
             detail);
      return fail();
    }
    package.functions.push_back(std::move(function));
  }
  return true;
}

/// Runs `body`, turning an exception (memory that runs out while holding a
/// package's cubins and specs) into an error about `directory`.
template <typename Body>
static bool withoutExceptions(const std::string &directory,
                              KernelPackage &package, std::string &error,
                              Body body) {
  try {
    return body();
  } catch (const std::exception &exception) {
    error = directory + ": cannot load the kernel package: " + exception.what();
  } catch (...) {
    error = directory + ": cannot load the kernel package: unknown exception";
  }
  package = KernelPackage();
  return false;
}

bool attn::runtime::parseKernelPackage(const JsonValue &manifest,
                                       const std::string &directory,
                                       KernelPackage &package,
                                       std::string &error) {
  return withoutExceptions(directory, package, error, [&]() {
    return parsePackage(manifest, directory, package, error);
  });
}

bool attn::runtime::loadKernelPackage(const std::string &directory,
                                      KernelPackage &package,
                                      std::string &error) {
  return withoutExceptions(directory, package, error, [&]() {
    std::error_code code;
    bool exists = std::filesystem::exists(directory, code);
    if (code) { // Not "absent" (which clears it): e.g. no permission.
      error = directory +
              ": cannot access the kernel package directory: " + code.message();
      return false;
    }
    if (!exists) {
      error = directory + ": no such kernel package directory";
      return false;
    }
    if (!std::filesystem::is_directory(directory, code)) {
      error = directory + ": not a directory (a kernel package is a "
                          "directory holding manifest.json)";
      return false;
    }
    std::string manifestPath = packagePath(directory, manifestFileName);
    if (!std::filesystem::exists(manifestPath, code)) {
      error =
          directory + ": not a kernel package (no " + manifestFileName + ")";
      return false;
    }
    JsonValue manifest;
    if (!parseJsonFile(manifestPath, manifest, error))
      return false;
    return parsePackage(manifest, directory, package, error);
  });
}

const FunctionSpec *attn::runtime::selectFunction(const KernelPackage &package,
                                                  const std::string &name,
                                                  std::string &error) {
  std::string available;
  for (const FunctionSpec &function : package.functions)
    available += (available.empty() ? "" : ", ") + function.name;
  if (name.empty()) {
    if (package.functions.size() == 1)
      return &package.functions.front();
    error = package.manifestPath + ": the package has " +
            std::to_string(package.functions.size()) +
            " functions; choose one with --function (" + available + ")";
    return nullptr;
  }
  if (const FunctionSpec *function = package.findFunction(name))
    return function;
  error = package.manifestPath + ": no function named \"" + name +
          "\" (the package has: " + available + ")";
  return nullptr;
}
