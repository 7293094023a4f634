//===- attn-run.cpp - Run a compiled function and check it ----------------===//
//
// Runs one function of a kernel package (or, in an MLIR-linked build, of an
// .mlir file compiled on the fly) on seeded random inputs, compares every
// output with the float64 reference, times it, and prints a stable report:
//
//   attn-run: function attention (attn.attention) on NVIDIA H100, seed 1
//     output result0 [1x2x3x4 bf16]: rel_l2 1.2e-03 ... tol 2.0e-02 PASS
//     time: median 0.123 ms over 20 runs
//   attn-run: PASS
//
// Exit codes: 0 all outputs pass, 1 an output fails or the run fails,
// 2 usage or setup errors (bad arguments, manifest, driver, device).
//
//===----------------------------------------------------------------------===//

#include "attn/Runtime/Executor.h"
#include "attn/Runtime/Json.h"
#include "attn/Runtime/KernelPackage.h"
#include "attn/Testing/Compare.h"
#include "attn/Testing/Gradients.h"
#include "attn/Testing/Inputs.h"
#include "attn/Testing/Reference.h"

#ifdef ATTN_RUN_WITH_MLIR
#include "MlirFrontend.h"
#endif

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unistd.h>
#include <vector>

using namespace attn::runtime;
using namespace attn::testing;

namespace {

constexpr int exitPass = 0;
constexpr int exitFail = 1;
constexpr int exitSetupError = 2;

const char *const usageText =
    "usage: attn-run <package-dir | file.mlir> [options]\n"
    "\n"
    "Runs a compiled function on seeded random inputs, checks every output\n"
    "against the float64 reference, and times it.\n"
    "\n"
    "options:\n"
    "  --function NAME        function to run (required if there are several)\n"
    "  --device gpu|cpu       where to run (default gpu; cpu needs an .mlir)\n"
    "  --tile                 cpu: run the attn-tile (IO-aware) form instead\n"
    "                         of the decomposition\n"
    "  --chip CHIP            GPU target when compiling an .mlir (sm_90a)\n"
    "  --seed N               random seed; argument i uses seed + i (1)\n"
    "  --input-scale S        floats are uniform in [-S, S] (1)\n"
    "  --ignore-fraction F    fraction of labels set to ignore_index (0.1)\n"
    "  --tolerance T          bound on rel_l2 (default by dtype: f32 1e-5,\n"
    "                         f16 1e-2, bf16 2e-2)\n"
    "  --tolerance NAME=T     bound for one output (e.g. result1=1e-5);\n"
    "                         overrides the bound above for that output\n"
    "  --warmup N             untimed runs before timing (10)\n"
    "  --iterations N         timed runs; 0 skips timing (20)\n"
    "  --finite-differences   for a gradient op: also check the reference and\n"
    "                         every output against central finite differences\n"
    "                         of the forward op's float64 reference\n"
    "  --fd-step H            relative finite-difference step (1e-5)\n"
    "  --fd-tolerance T       bound on the reference's rel_l2 to the finite\n"
    "                         differences (1e-6); outputs keep their --tolerance\n"
    "  --json FILE            also write the results as JSON\n";

/// Command-line settings.
struct Options {
  std::string input;
  std::string function;
  std::string device = "gpu";
  /// --tile: on the CPU, run the attn-tile form instead of the decomposition.
  bool tile = false;
  std::string chip = "sm_90a";
  InputOptions inputs;
  std::optional<double> tolerance;
  /// Per-output bounds from --tolerance NAME=T.
  std::map<std::string, double> outputTolerances;
  int warmup = 10;
  int iterations = 20;
  /// --finite-differences, --fd-step, --fd-tolerance.
  bool finiteDifferences = false;
  double fdStep = 1e-5;
  double fdTolerance = 1e-6;
  std::string jsonPath;
};

bool parseUnsigned(const std::string &text, uint64_t maxValue,
                   uint64_t &value) {
  if (text.empty() || text[0] == '-' || text[0] == '+')
    return false;
  errno = 0;
  char *end = nullptr;
  unsigned long long parsed = std::strtoull(text.c_str(), &end, 10);
  if (errno || *end || parsed > maxValue)
    return false;
  value = parsed;
  return true;
}

bool parseDouble(const std::string &text, double &value) {
  if (text.empty())
    return false;
  errno = 0;
  char *end = nullptr;
  value = std::strtod(text.c_str(), &end);
  return !errno && !*end && std::isfinite(value);
}

/// Parses argv into `options`. Returns false with `error` set on bad usage;
/// sets `help` for --help.
bool parseOptions(int argc, char **argv, Options &options, bool &help,
                  std::string &error) {
  help = false;
  for (int i = 1; i < argc; ++i) {
    std::string argument = argv[i];
    if (argument == "-h" || argument == "--help") {
      help = true;
      return true;
    }
    if (argument.rfind("--", 0) != 0) {
      if (!options.input.empty()) {
        error = "more than one input given (\"" + options.input + "\" and \"" +
                argument + "\")";
        return false;
      }
      options.input = argument;
      continue;
    }
    // --name value or --name=value.
    std::string name = argument, value;
    bool hasValue = false;
    if (size_t equals = argument.find('='); equals != std::string::npos) {
      name = argument.substr(0, equals);
      value = argument.substr(equals + 1);
      hasValue = true;
    }
    auto takeValue = [&]() {
      if (hasValue)
        return true;
      if (i + 1 >= argc) {
        error = "option " + name + " needs a value";
        return false;
      }
      value = argv[++i];
      return true;
    };
    auto invalid = [&](const std::string &expected) {
      error = "invalid value \"" + value + "\" for " + name + " (expected " +
              expected + ")";
      return false;
    };
    if (name == "--function") {
      if (!takeValue())
        return false;
      options.function = value;
    } else if (name == "--tile") {
      options.tile = true;
    } else if (name == "--device") {
      if (!takeValue())
        return false;
      if (value != "gpu" && value != "cpu")
        return invalid("gpu or cpu");
      options.device = value;
    } else if (name == "--chip") {
      if (!takeValue())
        return false;
      options.chip = value;
    } else if (name == "--seed") {
      uint64_t seed;
      if (!takeValue())
        return false;
      if (!parseUnsigned(value, UINT64_MAX, seed))
        return invalid("a non-negative integer");
      options.inputs.seed = seed;
    } else if (name == "--input-scale") {
      if (!takeValue())
        return false;
      if (!parseDouble(value, options.inputs.inputScale) ||
          !(options.inputs.inputScale > 0))
        return invalid("a positive number");
    } else if (name == "--ignore-fraction") {
      if (!takeValue())
        return false;
      double fraction;
      if (!parseDouble(value, fraction) || fraction < 0 || fraction > 1)
        return invalid("a number in [0, 1]");
      options.inputs.ignoreFraction = fraction;
    } else if (name == "--tolerance") {
      if (!takeValue())
        return false;
      double tolerance;
      size_t eq = value.find('=');
      std::string output = eq == std::string::npos ? "" : value.substr(0, eq);
      std::string number = eq == std::string::npos ? value : value.substr(eq + 1);
      if (!parseDouble(number, tolerance) || tolerance < 0 ||
          (eq != std::string::npos && output.empty()))
        return invalid("a non-negative number, or NAME=number");
      if (output.empty())
        options.tolerance = tolerance;
      else
        options.outputTolerances[output] = tolerance;
    } else if (name == "--warmup" || name == "--iterations") {
      if (!takeValue())
        return false;
      uint64_t count;
      if (!parseUnsigned(value, 1000000, count))
        return invalid("an integer in [0, 1000000]");
      (name == "--warmup" ? options.warmup : options.iterations) =
          static_cast<int>(count);
    } else if (name == "--finite-differences") {
      options.finiteDifferences = true;
    } else if (name == "--fd-step" || name == "--fd-tolerance") {
      if (!takeValue())
        return false;
      double number;
      if (!parseDouble(value, number) || !(number > 0))
        return invalid("a positive number");
      (name == "--fd-step" ? options.fdStep : options.fdTolerance) = number;
    } else if (name == "--json") {
      if (!takeValue())
        return false;
      options.jsonPath = value;
    } else {
      error = "unknown option " + name;
      return false;
    }
  }
  if (options.input.empty()) {
    error = "no input given (a kernel package directory or an .mlir file)";
    return false;
  }
  return true;
}

bool endsWith(const std::string &text, const std::string &suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string format(const char *pattern, double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), pattern, value);
  return buffer;
}

/// Removes a temporary directory when it goes out of scope.
class TemporaryDirectory {
public:
  bool create(std::string &error) {
    std::error_code code;
    std::filesystem::path base = std::filesystem::temp_directory_path(code);
    if (code)
      base = "/tmp";
    std::string pattern = (base / "attn-run-XXXXXX").string();
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    if (!mkdtemp(buffer.data())) {
      error = "cannot create a temporary directory " + pattern + ": " +
              std::strerror(errno);
      return false;
    }
    path = buffer.data();
    return true;
  }
  ~TemporaryDirectory() {
    if (path.empty())
      return;
    std::error_code code;
    std::filesystem::remove_all(path, code);
  }
  const std::string &get() const { return path; }

private:
  std::string path;
};

/// One attn-run invocation: gathers results as it goes, so that the JSON
/// report says as much as is known wherever the run stops.
class Runner {
public:
  explicit Runner(const Options &options) : options(options) {}

  int run();

private:
  int setupError(const std::string &message) {
    return finish(exitSetupError, message);
  }
  int finish(int exitCode, const std::string &message = "");
  bool loadFunction(std::string &error);
  /// The bound on output `index`'s rel_l2: --tolerance NAME=T, else
  /// --tolerance T, else the default of its dtypes.
  double outputTolerance(size_t index) const {
    auto perOutput = options.outputTolerances.find(spec.args[index].name);
    if (perOutput != options.outputTolerances.end())
      return perOutput->second;
    return options.tolerance ? *options.tolerance
                             : defaultTolerance(spec, index);
  }
  bool checkFiniteDifferences(
      const std::vector<std::vector<unsigned char>> &buffers,
      const std::vector<std::vector<double>> &reference, bool &pass,
      std::string &error);

  const Options &options;
  KernelPackage package;
  TemporaryDirectory compiledPackage;
  FunctionSpec spec;
  /// The forward op of a gradient op, for its inputs and finite differences.
  ForwardProblem forward;
  std::unique_ptr<Executor> executor;
  JsonValue report = JsonValue::object();
  JsonValue outputs = JsonValue::array();
};

} // namespace

/// Prints `message` (if any), writes the JSON report (if asked) and returns
/// `exitCode`.
int Runner::finish(int exitCode, const std::string &message) {
  if (!message.empty())
    std::fprintf(stderr, "attn-run: error: %s\n", message.c_str());
  if (options.jsonPath.empty())
    return exitCode;
  report.set("outputs", outputs);
  report.set("pass", JsonValue::boolean(exitCode == exitPass));
  report.set("exit_code", JsonValue::integer(exitCode));
  if (!message.empty())
    report.set("error", JsonValue::string(message));
  std::ofstream file(options.jsonPath, std::ios::binary);
  file << writeJson(report) << "\n";
  file.close();
  if (!file) {
    std::fprintf(stderr, "attn-run: error: cannot write %s\n",
                 options.jsonPath.c_str());
    return exitCode == exitPass ? exitSetupError : exitCode;
  }
  return exitCode;
}

/// Fills `spec` (and `executor` for the CPU) from the input.
bool Runner::loadFunction(std::string &error) {
  const std::string &input = options.input;
  if (endsWith(input, ".mlir")) {
#ifdef ATTN_RUN_WITH_MLIR
    if (options.device == "cpu") {
      executor =
          attn::run::createCpuExecutor(input, options.function, options.tile,
                                        spec, error);
      return executor != nullptr;
    }
    if (!compiledPackage.create(error) ||
        !attn::run::compileToPackage(input, options.chip, compiledPackage.get(),
                                     error) ||
        !loadKernelPackage(compiledPackage.get(), package, error))
      return false;
#else
    error = "this attn-run was built without MLIR; compile with attn-opt "
            "--attn-to-cubin and pass the package directory";
    return false;
#endif
  } else {
    if (options.device == "cpu") {
      error = "--device cpu needs an .mlir input; a kernel package holds GPU "
              "code only";
      return false;
    }
    // Accept the manifest's own path as well as its directory.
    std::string directory = input;
    if (endsWith(input, std::string("/") + manifestFileName) ||
        input == manifestFileName)
      directory = std::filesystem::path(input).parent_path().string();
    if (directory.empty())
      directory = ".";
    if (!loadKernelPackage(directory, package, error))
      return false;
  }
  const FunctionSpec *selected =
      selectFunction(package, options.function, error);
  if (!selected)
    return false;
  spec = *selected;
  return true;
}

/// Checks the float64 reference of a gradient op (`reference`: the input
/// values and the reference's outputs) and every output of the run
/// (`buffers`) against central finite differences of the forward op's
/// reference; prints and reports the comparisons.
bool Runner::checkFiniteDifferences(
    const std::vector<std::vector<unsigned char>> &buffers,
    const std::vector<std::vector<double>> &reference, bool &pass,
    std::string &error) {
  std::vector<std::vector<double>> differences;
  int64_t evaluations = 0;
  if (!finiteDifferences(spec, forward, reference, options.fdStep,
                         differences, evaluations, error))
    return false;
  std::printf("  finite differences of %s: step %s, %lld evaluations\n",
              forward.spec.op->name.c_str(),
              format("%.1e", options.fdStep).c_str(),
              static_cast<long long>(evaluations));
  pass = true;
  JsonValue checks = JsonValue::array();
  auto check = [&](size_t index, const char *what,
                   const std::vector<double> &values, double tolerance) {
    const TensorSpec &arg = spec.args[index];
    Comparison comparison =
        compareOutput(values, differences[index], tolerance);
    pass &= comparison.pass;
    std::printf("    %s %s vs finite differences: rel_l2 %s max_abs %s "
                "tol %s %s%s\n",
                what, arg.name.c_str(),
                format("%.3e", comparison.relL2).c_str(),
                format("%.3e", comparison.maxAbs).c_str(),
                format("%.1e", comparison.tolerance).c_str(),
                comparison.pass ? "PASS" : "FAIL",
                comparison.pass ? "" : (" (" + comparison.reason + ")").c_str());
    checks.push(JsonValue::object(
        {{"name", JsonValue::string(arg.name)},
         {"of", JsonValue::string(what)},
         {"rel_l2", JsonValue::number(comparison.relL2)},
         {"max_abs", JsonValue::number(comparison.maxAbs)},
         {"tolerance", JsonValue::number(comparison.tolerance)},
         {"pass", JsonValue::boolean(comparison.pass)}}));
  };
  for (size_t i = 0; i < spec.args.size(); ++i) {
    const TensorSpec &arg = spec.args[i];
    if (arg.role != TensorRole::Output)
      continue;
    check(i, "reference", reference[i], options.fdTolerance);
    check(i, "output", loadTensor(arg, buffers[i].data()),
          outputTolerance(i));
  }
  report.set("finite_differences",
             JsonValue::object({{"step", JsonValue::number(options.fdStep)},
                                {"evaluations", JsonValue::integer(evaluations)},
                                {"checks", std::move(checks)},
                                {"pass", JsonValue::boolean(pass)}}));
  return true;
}

int Runner::run() {
  // Members in reading order; later ones are filled in as they are known.
  report.set("input", JsonValue::string(options.input));
  report.set("seed",
             JsonValue::integer(static_cast<int64_t>(options.inputs.seed)));
  for (const char *key : {"function", "op", "device", "outputs", "time"})
    report.set(key, JsonValue::null());
  std::string error;
  if (!loadFunction(error))
    return setupError(error);
  report.set("function", JsonValue::string(spec.name));
  report.set("op",
             spec.op ? JsonValue::string(spec.op->name) : JsonValue::null());
  if (!spec.op)
    return setupError("function " + spec.name +
                      " is not a single attn op, so there is no reference "
                      "to check it against");
  if (!hasReference(spec.op->name))
    return setupError("function " + spec.name + " is op " + spec.op->name +
                      ", which has no reference implementation");
  bool hasOutput = false;
  for (const TensorSpec &arg : spec.args)
    hasOutput |= arg.role == TensorRole::Output;
  if (!hasOutput)
    return setupError("function " + spec.name + " has no outputs to check");
  bool isGradient = !forwardOpName(spec.op->name).empty();
  if (options.finiteDifferences && !isGradient)
    return setupError("--finite-differences needs a gradient op, but " +
                      spec.name + " is op " + spec.op->name);

  for (const auto &entry : options.outputTolerances) {
    bool known = false;
    for (const TensorSpec &arg : spec.args)
      known |= arg.role == TensorRole::Output && arg.name == entry.first;
    if (!known)
      return setupError("--tolerance names '" + entry.first +
                        "', which is not an output of " + spec.name);
  }

  // The stored arguments plus their float64 copies for the reference must
  // fit in host memory; say so rather than die in an allocation.
  double hostBytes = 0;
  for (const TensorSpec &arg : spec.args)
    hostBytes += static_cast<double>(arg.bytes()) +
                 8.0 * static_cast<double>(arg.numElements());
  double physicalBytes = static_cast<double>(sysconf(_SC_PHYS_PAGES)) *
                         static_cast<double>(sysconf(_SC_PAGESIZE));
  if (physicalBytes > 0 && hostBytes > physicalBytes)
    return setupError("function " + spec.name + " needs " +
                      format("%.1f", hostBytes / (1 << 30)) +
                      " GiB of host memory for its arguments and reference, "
                      "more than this machine's " +
                      format("%.1f", physicalBytes / (1 << 30)) + " GiB");

  // Cheap checks first: the spec's shapes and attributes (a bad shape is
  // reported the same way on machines without a GPU), then the driver and
  // the kernels; only then the inputs, the run and the float64 reference,
  // which cost time and memory proportional to the tensors.
  if (!checkReferenceSpec(spec, error))
    return setupError(error);
  if (!executor) {
    executor = createGpuExecutor(package, spec, error);
    if (!executor)
      return setupError(error);
  }
  std::string deviceName = executor->deviceName();
  report.set("device", JsonValue::string(deviceName));
  std::printf("attn-run: function %s (%s) on %s, seed %llu\n",
              spec.name.c_str(), spec.op->name.c_str(), deviceName.c_str(),
              static_cast<unsigned long long>(options.inputs.seed));
  std::fflush(stdout);

  std::vector<std::vector<unsigned char>> buffers;
  // A gradient op reads values its forward op saved: they are computed
  // from drawn primal inputs, so that they agree with each other.
  if (isGradient ? !makeGradientInputs(spec, options.inputs, buffers, forward,
                                       error)
                 : !makeInputs(spec, options.inputs, buffers, error))
    return setupError(error);
  // The reference's copies of the inputs are taken before the run, which
  // need not leave its inputs as they were.
  std::vector<std::vector<double>> reference(spec.args.size());
  for (size_t i = 0; i < spec.args.size(); ++i)
    if (spec.args[i].role == TensorRole::Input)
      reference[i] = loadTensor(spec.args[i], buffers[i].data());
  std::vector<void *> hostArgs;
  for (std::vector<unsigned char> &buffer : buffers)
    hostArgs.push_back(buffer.data());
  if (!executor->run(hostArgs, error)) {
    std::printf("attn-run: FAIL\n");
    return finish(exitFail, error);
  }
  if (!computeReference(spec, reference, error))
    return setupError(error);

  bool allPass = true;
  for (size_t i = 0; i < spec.args.size(); ++i) {
    const TensorSpec &arg = spec.args[i];
    if (arg.role != TensorRole::Output)
      continue;
    double tolerance = outputTolerance(i);
    Comparison comparison = compareOutput(loadTensor(arg, buffers[i].data()),
                                          reference[i], tolerance);
    allPass &= comparison.pass;
    std::string infinities =
        comparison.infinitiesMatched
            ? " (" + std::to_string(comparison.infinitiesMatched) +
                  " infinite entries exact)"
            : "";
    std::printf("  output %s [%s]: rel_l2 %s max_abs %s tol %s %s%s\n",
                arg.name.c_str(), arg.typeString().c_str(),
                format("%.3e", comparison.relL2).c_str(),
                format("%.3e", comparison.maxAbs).c_str(),
                format("%.1e", comparison.tolerance).c_str(),
                comparison.pass ? "PASS" : "FAIL",
                comparison.pass ? infinities.c_str()
                                : (" (" + comparison.reason + ")").c_str());

    JsonValue result = JsonValue::object();
    result.set("name", JsonValue::string(arg.name));
    result.set("operand", JsonValue::string(arg.operand));
    result.set("dtype", JsonValue::string(dtypeName(arg.dtype)));
    JsonValue shape = JsonValue::array();
    for (int64_t dim : arg.shape)
      shape.push(JsonValue::integer(dim));
    result.set("shape", std::move(shape));
    result.set("rel_l2", JsonValue::number(comparison.relL2));
    result.set("max_abs", JsonValue::number(comparison.maxAbs));
    result.set("tolerance", JsonValue::number(comparison.tolerance));
    result.set("nan_count", JsonValue::integer(comparison.nanCount));
    result.set("infinity_mismatches",
               JsonValue::integer(comparison.infinityMismatches));
    result.set("pass", JsonValue::boolean(comparison.pass));
    if (!comparison.pass)
      result.set("reason", JsonValue::string(comparison.reason));
    outputs.push(std::move(result));
  }
  if (options.finiteDifferences) {
    bool fdPass = false;
    if (!checkFiniteDifferences(buffers, reference, fdPass, error))
      return setupError(error);
    allPass &= fdPass;
  }

  if (options.iterations > 0) {
    double medianMs = 0;
    if (!executor->time(options.warmup, options.iterations, medianMs, error)) {
      std::printf("attn-run: FAIL\n");
      return finish(exitFail, "timing failed: " + error);
    }
    std::printf("  time: median %.3f ms over %d runs\n", medianMs,
                options.iterations);
    report.set("time",
               JsonValue::object(
                   {{"median_ms", JsonValue::number(medianMs)},
                    {"iterations", JsonValue::integer(options.iterations)},
                    {"warmup", JsonValue::integer(options.warmup)}}));
  } else {
    report.set("time", JsonValue::null());
  }
  std::printf("attn-run: %s\n", allPass ? "PASS" : "FAIL");
  std::fflush(stdout);
  return finish(allPass ? exitPass : exitFail);
}

int main(int argc, char **argv) {
  Options options;
  bool help = false;
  std::string error;
  if (!parseOptions(argc, argv, options, help, error)) {
    std::fprintf(stderr, "attn-run: error: %s\n%s", error.c_str(), usageText);
    return exitSetupError;
  }
  if (help) {
    std::fputs(usageText, stdout);
    return exitPass;
  }
  // A last line of defence: whatever throws (an allocation that the checks
  // above did not foresee) ends in an error, not an abort. The full build
  // compiles attn-run with LLVM's flags (no exceptions): there an
  // allocation failure ends the process as in any LLVM tool.
#if defined(__cpp_exceptions)
  try {
    Runner runner(options);
    return runner.run();
  } catch (const std::exception &exception) {
    std::fprintf(stderr, "attn-run: error: %s\n", exception.what());
  } catch (...) {
    std::fprintf(stderr, "attn-run: error: unknown exception\n");
  }
  return exitSetupError;
#else
  Runner runner(options);
  return runner.run();
#endif
}
