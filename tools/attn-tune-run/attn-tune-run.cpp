//===- attn-tune-run.cpp - Time a batch of tuning candidates on the GPU ---===//
//
// The device side of the learned cost model's dataset. `attn-tune generate`
// writes a batch directory on the build machine:
//
//   BATCH/candidates.jsonl   one candidate per line: {"id", "shape",
//                            "default", "package": "pkgs/<id>", ...}; the
//                            lines of a shape are contiguous, and exactly
//                            one of them has "default": true
//   BATCH/pkgs/<id>/         a one-function kernel package
//
// device_tune.sh assembles the packages' PTX with ptxas on the GPU machine
// and then runs this program, which checks and times every candidate:
//
//   attn-tune-run --batch BATCH --out RESULTS.jsonl [--resources RES.jsonl]
//       [--candidates FILE] [--device 0] [--warmup 3] [--min-reps 5]
//       [--max-reps 30] [--budget-ms 150] [--timeout-s 20]
//       [--only-shapes N] [--max-reference-macs 2e9] [--slow-factor 4]
//       [--check-elements 4194304]
//
// Per shape, inputs are made once (seed 1) and stay on the device for every
// candidate. The default candidate runs first; its outputs are the golden
// outputs, themselves checked against the float64 reference when that is
// cheap ("checked": "reference"; else "default"). Each candidate then runs
// on poisoned outputs, is compared with the golden outputs, and is timed
// from a flushed L2: --warmup runs, then timed runs until --max-reps, or
// --min-reps once their sum exceeds --budget-ms. One JSON line per
// candidate goes to RESULTS.jsonl as soon as it is known:
//
//   {"id", "shape", "status", "median_ms", "min_ms", "p10_ms", "p90_ms",
//    "reps", "rel_l2", "checked", "reason"}
//
// rel_l2 is against the golden outputs, except for the default, where it is
// against the reference (when checked). Times are present only for "ok".
// Other statuses: "wrong" (differs from the golden output), "bad_default"
// (the shape's default failed, so nothing of the shape is timed),
// "load_error", "launch_error", "timeout", "signature_mismatch" (arguments
// differ from the default's), "setup_error" (inputs or device buffers of the
// shape), "ptxas_error" (from --resources), "crashed" (the runner died while
// running it), or a status that candidates.jsonl already gives
// ("compile_error", "no_features").
// The file starts with one {"meta": {...}} line (GPU, driver, runner).
//
// The run is resumable: ids already in RESULTS.jsonl are skipped and new
// lines appended. Exit codes: 0 every candidate is recorded, 2 usage or setup
// error, 3 a kernel timed out, 4 the CUDA context was lost after a kernel
// fault. After 3 and 4 the context is unusable; the wrapper starts the
// program again and it resumes after the recorded candidate.
//
//===----------------------------------------------------------------------===//

#include "attn/Runtime/CudaDriver.h"
#include "attn/Runtime/DeviceFunction.h"
#include "attn/Runtime/Executor.h"
#include "attn/Runtime/Json.h"
#include "attn/Runtime/KernelPackage.h"
#include "attn/Testing/Compare.h"
#include "attn/Testing/Inputs.h"
#include "attn/Testing/Reference.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <type_traits>
#include <unistd.h>
#include <vector>

using namespace attn::runtime;
using namespace attn::runtime::cuda;
using namespace attn::testing;

namespace {

constexpr int exitDone = 0;
constexpr int exitSetupError = 2;
constexpr int exitTimeout = 3;
constexpr int exitContextLost = 4;

/// Written into the results' meta line; bump when what is measured changes.
constexpr const char *runnerVersion = "attn-tune-run 1";

const char *const usageText =
    "usage: attn-tune-run --batch BATCH --out RESULTS.jsonl [options]\n"
    "\n"
    "Checks and times every candidate of an attn-tune batch on the GPU and\n"
    "appends one JSON line per candidate to RESULTS.jsonl (resumable).\n"
    "\n"
    "options:\n"
    "  --resources FILE        ptxas results (device_tune.sh): packages with\n"
    "                          \"ptxas_ok\": false are recorded as "
    "ptxas_error\n"
    "  --candidates FILE       the candidate list (BATCH/candidates.jsonl)\n"
    "  --device N              CUDA device ordinal (0)\n"
    "  --warmup N              untimed runs before timing (3)\n"
    "  --min-reps N            timed runs at least (5)\n"
    "  --max-reps N            timed runs at most (30)\n"
    "  --budget-ms MS          stop after min-reps once the timed runs sum\n"
    "                          past MS milliseconds (150)\n"
    "  --timeout-s S           a run not done after S seconds is a timeout;\n"
    "                          the process then exits with code 3 (20)\n"
    "  --only-shapes N         only the first N shapes of the batch\n"
    "  --max-reference-macs X  check the default against the float64\n"
    "                          reference when it costs at most X\n"
    "                          multiply-adds (2e9)\n"
    "  --slow-factor F         a candidate whose first timed run takes more\n"
    "                          than F x the default's median is timed once (4)\n"
    "  --check-elements N      compare larger outputs with the golden ones on\n"
    "                          an evenly strided sample of about N elements;\n"
    "                          NaNs are looked for everywhere (4194304)\n"
    "\n"
    "exit codes: 0 all recorded, 2 usage or setup error, 3 timeout,\n"
    "4 CUDA context lost (restart to resume)\n";

/// Command-line settings.
struct Options {
  std::string batch;
  std::string out;
  std::string resources;
  std::string candidates;
  int device = 0;
  int warmup = 3;
  int minReps = 5;
  int maxReps = 30;
  double budgetMs = 150;
  double timeoutS = 20;
  /// 0: every shape.
  int64_t onlyShapes = 0;
  double maxReferenceMacs = 2e9;
  /// A candidate whose first timed run exceeds this many times the
  /// default's median is timed once: it will not be picked, and ranking
  /// needs only its order.
  double slowFactor = 4;
  /// Outputs with more elements are compared on an evenly strided sample
  /// of about this many (every element is still checked for NaN).
  int64_t checkElements = int64_t(1) << 22;
};

//===----------------------------------------------------------------------===//
// Small helpers
//===----------------------------------------------------------------------===//

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

std::string format(const char *pattern, double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), pattern, value);
  return buffer;
}

/// `relative` under `directory`, unless it is absolute.
std::string joinPath(const std::string &directory,
                     const std::string &relative) {
  if (relative.empty() || relative.front() == '/' || directory.empty())
    return relative;
  return directory.back() == '/' ? directory + relative
                                 : directory + "/" + relative;
}

/// Whether `name` is relative and has no `..` component: a candidate's
/// package must lie inside the batch.
bool staysInside(const std::string &name) {
  if (name.empty() || name.front() == '/')
    return false;
  std::stringstream parts(name);
  std::string part;
  while (std::getline(parts, part, '/'))
    if (part == "..")
      return false;
  return true;
}

/// Reads the lines of a text file. Sets `endsWithNewline` for a file whose
/// last line is complete.
bool readLines(const std::string &path, std::vector<std::string> &lines,
               bool &endsWithNewline, std::string &error) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    error = "cannot open " + path + ": " + std::strerror(errno);
    return false;
  }
  std::string text((std::istreambuf_iterator<char>(file)),
                   std::istreambuf_iterator<char>());
  if (file.bad()) {
    error = "cannot read " + path;
    return false;
  }
  lines.clear();
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos)
      end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  endsWithNewline = text.empty() || text.back() == '\n';
  return true;
}

bool isBlank(const std::string &line) {
  return line.find_first_not_of(" \t\r") == std::string::npos;
}

/// Parses one JSON Lines line; errors read "PATH:LINE:COLUMN: message".
bool parseLine(const std::string &path, size_t lineNumber,
               const std::string &line, JsonValue &value, std::string &error) {
  std::string detail;
  if (parseJson(line, value, detail))
    return true;
  // parseJson says "1:COLUMN: message" for a one-line text.
  size_t colon = detail.find(':');
  error = path + ":" + std::to_string(lineNumber) +
          (colon != std::string::npos && detail.compare(0, colon, "1") == 0
               ? detail.substr(colon)
               : ": " + detail);
  return false;
}

/// The string member `key` of `object`, or null (with `error` set) when it
/// is absent or not a non-empty string.
const std::string *stringMember(const JsonValue &object, const char *key,
                                const std::string &where, std::string &error) {
  const JsonValue *member = object.find(key);
  if (!member) {
    error = where + ": missing \"" + key + "\"";
    return nullptr;
  }
  if (!member->isString() || member->getString().empty()) {
    error = where + ": \"" + key + "\" must be a non-empty string";
    return nullptr;
  }
  return &member->getString();
}

std::string utcDate() {
  std::time_t now = std::time(nullptr);
  std::tm parts{};
  gmtime_r(&now, &parts);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%SZ", &parts);
  return buffer;
}

/// The q-quantile of sorted `samples`, interpolating between neighbours.
double quantile(const std::vector<double> &sorted, double q) {
  if (sorted.empty())
    return 0;
  double position = q * static_cast<double>(sorted.size() - 1);
  size_t below = static_cast<size_t>(position);
  if (below + 1 >= sorted.size())
    return sorted.back();
  double fraction = position - static_cast<double>(below);
  return sorted[below] + fraction * (sorted[below + 1] - sorted[below]);
}

/// Multiply-adds of the float64 reference of `spec`, from its shapes: the
/// two matmuls of attention, the five of its gradient, the projection of
/// linear cross-entropy, the three of its gradient, a few per element for
/// the row ops. Computed in
/// double: it is compared with a bound and never used as a size.
double referenceMacs(const FunctionSpec &spec) {
  auto shapeOf = [&](const char *operand) -> const std::vector<int64_t> * {
    int index = spec.findOperand(operand, TensorRole::Input);
    return index < 0 ? nullptr : &spec.args[index].shape;
  };
  double elements = 0;
  for (const TensorSpec &arg : spec.args)
    elements += static_cast<double>(arg.numElements());
  const std::string name = spec.op ? spec.op->name : "";
  if (name == "attn.attention" || name == "attn.attention_grad") {
    const std::vector<int64_t> *query = shapeOf("query");
    const std::vector<int64_t> *key = shapeOf("key");
    const std::vector<int64_t> *value = shapeOf("value");
    if (query && key && value && query->size() == 4 && key->size() == 4 &&
        value->size() == 4) {
      double d = double((*query)[3]), dv = double((*value)[3]);
      // Per (query, key): QK^T and PV forward; the gradient's reference
      // recomputes S and P, then forms dP, dQ = dS K, dK = dS^T Q and
      // dV = P^T dO.
      double perPair = name == "attn.attention" ? d + dv : 3 * d + 2 * dv;
      return double((*query)[0]) * double((*query)[1]) * double((*query)[2]) *
                 double((*key)[2]) * perPair +
             4 * elements;
    }
  } else if (name == "attn.linear_cross_entropy" ||
             name == "attn.linear_cross_entropy_grad") {
    const std::vector<int64_t> *hidden = shapeOf("hidden");
    const std::vector<int64_t> *weight = shapeOf("weight");
    // The forward's logits; the gradient's reference recomputes them and
    // forms grad_hidden and grad_weight: three N x V x D products.
    double products = name == "attn.linear_cross_entropy" ? 1 : 3;
    if (hidden && weight && hidden->size() == 2 && weight->size() == 2)
      return products * double((*hidden)[0]) * double((*weight)[0]) *
                 double((*hidden)[1]) +
             4 * elements;
  }
  return 4 * elements;
}

/// Why two candidates' functions cannot share inputs and golden outputs;
/// empty when they can.
std::string signatureDifference(const FunctionSpec &expected,
                                const FunctionSpec &actual) {
  std::string expectedOp = expected.op ? expected.op->name : "none";
  std::string actualOp = actual.op ? actual.op->name : "none";
  if (expectedOp != actualOp)
    return "op " + actualOp + ", the default's is " + expectedOp;
  if (expected.op && writeJson(expected.op->attributes, 0) !=
                         writeJson(actual.op->attributes, 0))
    return "op attributes " + writeJson(actual.op->attributes, 0) +
           ", the default's are " + writeJson(expected.op->attributes, 0);
  if (expected.args.size() != actual.args.size())
    return std::to_string(actual.args.size()) + " arguments, the default has " +
           std::to_string(expected.args.size());
  for (size_t i = 0; i < expected.args.size(); ++i) {
    const TensorSpec &a = expected.args[i], &b = actual.args[i];
    if (a.role != b.role || a.operand != b.operand || a.dtype != b.dtype ||
        a.shape != b.shape)
      return "argument " + std::to_string(i) + " (" + b.name + ") is " +
             (b.role == TensorRole::Input ? "input " : "output ") + b.operand +
             " " + b.typeString() + ", the default's is " +
             (a.role == TensorRole::Input ? "input " : "output ") + a.operand +
             " " + a.typeString();
  }
  return "";
}

/// Every output of a function compared with its expected values.
struct OutputCheck {
  /// The largest rel_l2; NaN when an output has NaNs (unwritten elements).
  double worstRelL2 = 0;
  /// The first failing output ("output result0: ... (rel_l2 ..., tol ...)");
  /// empty when every output passes.
  std::string failure;
};

/// Inputs with more elements are a random block of this many elements,
/// repeated.
constexpr int64_t kMaxGeneratedElements = int64_t(1) << 24;

/// The stride of the sample of an output of `n` elements compared with the
/// golden outputs: 1 (every element) up to `maxElements`.
int64_t sampleStride(int64_t n, int64_t maxElements) {
  return n <= maxElements ? 1 : (n + maxElements - 1) / maxElements;
}

/// Elements 0, stride, 2 stride, ... of `full`.
std::vector<double> strided(const std::vector<double> &full, int64_t stride) {
  if (stride == 1)
    return full;
  std::vector<double> out;
  out.reserve(full.size() / stride + 1);
  for (size_t i = 0; i < full.size(); i += stride)
    out.push_back(full[i]);
  return out;
}

/// The strided sample of a stored output, plus one NaN when any element of
/// the whole output is NaN (unwritten), so that the comparison fails.
std::vector<double> loadSample(const TensorSpec &tensor, const void *data,
                               int64_t stride) {
  if (stride == 1)
    return loadTensor(tensor, data);
  int64_t n = tensor.numElements();
  std::vector<double> out;
  out.reserve(n / stride + 2);
  for (int64_t i = 0; i < n; i += stride)
    out.push_back(loadElement(tensor.dtype, data, i));
  bool nan = false;
  if (tensor.dtype == DType::BF16 || tensor.dtype == DType::F16) {
    uint16_t exponent = tensor.dtype == DType::BF16 ? 0x7F80 : 0x7C00;
    const auto *bits = static_cast<const uint16_t *>(data);
    for (int64_t i = 0; i < n && !nan; ++i)
      nan = (bits[i] & 0x7FFF) > exponent;
  } else {
    for (int64_t i = 0; i < n && !nan; ++i)
      nan = std::isnan(loadElement(tensor.dtype, data, i));
  }
  if (nan)
    out.push_back(NAN);
  return out;
}

/// Compares the outputs in `actual` with `expected` (both indexed like
/// spec.args) under the default tolerances of `spec`.
OutputCheck compareOutputs(const FunctionSpec &spec,
                           const std::vector<std::vector<double>> &actual,
                           const std::vector<std::vector<double>> &expected) {
  OutputCheck check;
  for (size_t i = 0; i < spec.args.size(); ++i) {
    if (spec.args[i].role != TensorRole::Output)
      continue;
    Comparison comparison =
        compareOutput(actual[i], expected[i], defaultTolerance(spec, i));
    if (comparison.nanCount)
      check.worstRelL2 = NAN;
    else if (!std::isnan(check.worstRelL2) &&
             !(comparison.relL2 <= check.worstRelL2))
      check.worstRelL2 = comparison.relL2;
    if (!comparison.pass && check.failure.empty())
      check.failure = "output " + spec.args[i].name + ": " + comparison.reason +
                      " (rel_l2 " + format("%.3e", comparison.relL2) +
                      ", tol " + format("%.1e", comparison.tolerance) + ")";
  }
  return check;
}

//===----------------------------------------------------------------------===//
// The batch, the resources and earlier results
//===----------------------------------------------------------------------===//

/// One line of candidates.jsonl.
struct Candidate {
  std::string id;
  std::string shape;
  /// Relative to the batch directory; empty when `presetStatus` is set.
  std::string package;
  bool isDefault = false;
  /// A status the list already gives (a package that did not compile).
  std::string presetStatus;
  std::string presetReason;
  size_t line = 0;
};

/// The candidates of one shape, default first.
struct ShapeGroup {
  std::string shape;
  std::vector<Candidate> candidates;
};

bool readCandidates(const std::string &path, std::vector<ShapeGroup> &groups,
                    std::string &error) {
  std::vector<std::string> lines;
  bool complete;
  if (!readLines(path, lines, complete, error))
    return false;
  std::set<std::string> ids;
  std::map<std::string, size_t> shapeLines;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (isBlank(lines[i]))
      continue;
    size_t lineNumber = i + 1;
    std::string where = path + ":" + std::to_string(lineNumber);
    JsonValue json;
    if (!parseLine(path, lineNumber, lines[i], json, error))
      return false;
    if (!json.isObject()) {
      error = where + ": expected a JSON object, got " +
              JsonValue::kindName(json.kind());
      return false;
    }
    Candidate candidate;
    candidate.line = lineNumber;
    const std::string *id = stringMember(json, "id", where, error);
    const std::string *shape =
        id ? stringMember(json, "shape", where, error) : nullptr;
    if (!shape)
      return false;
    candidate.id = *id;
    candidate.shape = *shape;
    if (const JsonValue *isDefault = json.find("default")) {
      if (!isDefault->isBool()) {
        error = where + ": \"default\" must be true or false";
        return false;
      }
      candidate.isDefault = isDefault->getBool();
    }
    if (const JsonValue *status = json.find("status");
        status && !status->isNull()) {
      if (!status->isString() || status->getString().empty()) {
        error = where + ": \"status\" must be a non-empty string";
        return false;
      }
      candidate.presetStatus = status->getString();
      const JsonValue *reason = json.find("reason");
      if (reason && reason->isString())
        candidate.presetReason = reason->getString();
    } else {
      const std::string *package = stringMember(json, "package", where, error);
      if (!package)
        return false;
      if (!staysInside(*package)) {
        error = where + ": package \"" + *package +
                "\" is not a path inside the batch (absolute, or with a "
                "'..' component)";
        return false;
      }
      candidate.package = *package;
    }
    if (!ids.insert(candidate.id).second) {
      error = where + ": duplicate id \"" + candidate.id + "\"";
      return false;
    }
    if (groups.empty() || groups.back().shape != candidate.shape) {
      auto [seen, fresh] = shapeLines.emplace(candidate.shape, lineNumber);
      if (!fresh) {
        error = where + ": shape \"" + candidate.shape +
                "\" continues after other shapes (it started at line " +
                std::to_string(seen->second) +
                "; the lines of a shape must be contiguous)";
        return false;
      }
      groups.push_back(ShapeGroup{candidate.shape, {}});
    }
    groups.back().candidates.push_back(std::move(candidate));
  }
  if (groups.empty()) {
    error = path + ": no candidates";
    return false;
  }
  for (ShapeGroup &group : groups) {
    std::vector<Candidate> &list = group.candidates;
    size_t defaults =
        std::count_if(list.begin(), list.end(),
                      [](const Candidate &c) { return c.isDefault; });
    if (defaults != 1) {
      error = path + ":" + std::to_string(list.front().line) + ": shape \"" +
              group.shape + "\" has " + std::to_string(defaults) +
              " default candidates (expected exactly one)";
      return false;
    }
    std::stable_partition(list.begin(), list.end(),
                          [](const Candidate &c) { return c.isDefault; });
  }
  return true;
}

/// What ptxas said about one package (device_tune.sh's resources.jsonl).
struct PtxasResult {
  bool ok = true;
  std::string reason;
};

bool readResources(const std::string &path,
                   std::map<std::string, PtxasResult> &resources,
                   std::string &error) {
  std::vector<std::string> lines;
  bool complete;
  if (!readLines(path, lines, complete, error))
    return false;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (isBlank(lines[i]))
      continue;
    std::string where = path + ":" + std::to_string(i + 1);
    JsonValue json;
    if (!parseLine(path, i + 1, lines[i], json, error))
      return false;
    if (!json.isObject()) {
      error = where + ": expected a JSON object";
      return false;
    }
    const std::string *id = stringMember(json, "id", where, error);
    if (!id)
      return false;
    const JsonValue *ok = json.find("ptxas_ok");
    if (!ok || !ok->isBool()) {
      error = where + ": \"ptxas_ok\" must be true or false";
      return false;
    }
    PtxasResult result;
    result.ok = ok->getBool();
    if (const JsonValue *reason = json.find("reason");
        reason && reason->isString())
      result.reason = reason->getString();
    resources[*id] = result;
  }
  return true;
}

/// The ids and statuses already in the results file. A last line cut short
/// by a crash is dropped (the file is truncated to its last complete line);
/// any other bad line is an error. Sets `hasMeta` when the file has content.
bool readPreviousResults(const std::string &path,
                         std::map<std::string, std::string> &done,
                         bool &hasContent, std::string &error) {
  hasContent = false;
  std::error_code code;
  if (!std::filesystem::exists(path, code))
    return true;
  std::vector<std::string> lines;
  bool complete;
  if (!readLines(path, lines, complete, error))
    return false;
  if (!complete) {
    // Keep the complete lines only.
    uint64_t keep = 0;
    for (size_t i = 0; i + 1 < lines.size(); ++i)
      keep += lines[i].size() + 1;
    std::fprintf(stderr,
                 "attn-tune-run: warning: %s: dropping an incomplete last "
                 "line (an interrupted write)\n",
                 path.c_str());
    std::filesystem::resize_file(path, keep, code);
    if (code) {
      error = "cannot truncate " + path + ": " + code.message();
      return false;
    }
    lines.pop_back();
  }
  for (size_t i = 0; i < lines.size(); ++i) {
    if (isBlank(lines[i]))
      continue;
    hasContent = true;
    std::string where = path + ":" + std::to_string(i + 1);
    JsonValue json;
    if (!parseLine(path, i + 1, lines[i], json, error))
      return false;
    if (json.isObject() && json.find("meta"))
      continue;
    const std::string *id =
        json.isObject() ? stringMember(json, "id", where, error) : nullptr;
    const std::string *status =
        id ? stringMember(json, "status", where, error) : nullptr;
    if (!status) {
      if (!json.isObject())
        error = where + ": expected a JSON object";
      return false;
    }
    done[*id] = *status;
  }
  return true;
}

//===----------------------------------------------------------------------===//
// Results
//===----------------------------------------------------------------------===//

/// One candidate's outcome, a line of the results file.
struct Record {
  Record(std::string id, std::string shape, std::string status)
      : id(std::move(id)), shape(std::move(shape)), status(std::move(status)) {}

  std::string id;
  std::string shape;
  std::string status;
  /// Set for "ok".
  std::vector<double> samples;
  std::optional<double> relL2;
  std::string checked;
  std::string reason;

  JsonValue toJson() const {
    JsonValue json = JsonValue::object();
    json.set("id", JsonValue::string(id));
    json.set("shape", JsonValue::string(shape));
    json.set("status", JsonValue::string(status));
    if (status == "ok" && !samples.empty()) {
      std::vector<double> sorted = samples;
      std::sort(sorted.begin(), sorted.end());
      std::vector<double> scratch = samples;
      json.set("median_ms", JsonValue::number(medianOf(scratch)));
      json.set("min_ms", JsonValue::number(sorted.front()));
      json.set("p10_ms", JsonValue::number(quantile(sorted, 0.1)));
      json.set("p90_ms", JsonValue::number(quantile(sorted, 0.9)));
      json.set("reps",
               JsonValue::integer(static_cast<int64_t>(samples.size())));
    }
    // Not finite: some output had NaNs (unwritten), so there is no error
    // over the whole output to report.
    if (relL2 && std::isfinite(*relL2))
      json.set("rel_l2", JsonValue::number(*relL2));
    if (!checked.empty())
      json.set("checked", JsonValue::string(checked));
    if (!reason.empty())
      json.set("reason", JsonValue::string(reason));
    return json;
  }
};

/// The results file, opened for appending, plus the marker file
/// (RESULTS.jsonl.running) that names the candidate being run, so that a
/// restart after a crash records that candidate as "crashed" instead of
/// running it again.
class ResultsFile {
public:
  ~ResultsFile() {
    if (file)
      std::fclose(file);
  }

  bool open(const std::string &path, std::string &error) {
    this->path = path;
    markerPath = path + ".running";
    file = std::fopen(path.c_str(), "ab");
    if (!file) {
      error = "cannot open " + path + " for appending: " + std::strerror(errno);
      return false;
    }
    return true;
  }

  /// Appends one line and flushes it. Failing to write is fatal: the run
  /// would otherwise measure what it cannot keep.
  void write(const JsonValue &json) {
    std::string line = writeJson(json, 0) + "\n";
    if (std::fwrite(line.data(), 1, line.size(), file) != line.size() ||
        std::fflush(file) != 0) {
      std::fprintf(stderr, "attn-tune-run: error: cannot write %s: %s\n",
                   path.c_str(), std::strerror(errno));
      std::_Exit(exitSetupError);
    }
  }

  /// The id of the candidate a previous run died in, if any.
  std::string crashedCandidate() const {
    std::ifstream marker(markerPath);
    std::string id;
    std::getline(marker, id);
    return id;
  }

  void markRunning(const std::string &id) {
    std::ofstream marker(markerPath, std::ios::trunc);
    marker << id << "\n";
  }
  void clearRunning() {
    std::error_code code;
    std::filesystem::remove(markerPath, code);
  }

private:
  std::string path;
  std::string markerPath;
  std::FILE *file = nullptr;
};

//===----------------------------------------------------------------------===//
// The device
//===----------------------------------------------------------------------===//

enum class WaitResult { Done, Failed, TimedOut };

/// The CUDA device, its primary context, one stream, two timing events and
/// the L2 flush buffer, for the whole run.
class Device {
public:
  ~Device() {
    if (!retained)
      return;
    driver->cuCtxSetCurrent(context);
    if (stream)
      driver->cuStreamSynchronize(stream);
    if (flushBuffer)
      driver->cuMemFree(flushBuffer);
    if (startEvent)
      driver->cuEventDestroy(startEvent);
    if (stopEvent)
      driver->cuEventDestroy(stopEvent);
    if (stream)
      driver->cuStreamDestroy(stream);
    driver->cuDevicePrimaryCtxRelease(device);
  }

  bool open(int ordinal, std::string &error) {
    driver = CudaDriver::get(error);
    if (!driver)
      return false;
    if (ordinal >= driver->deviceCount()) {
      error = "no CUDA device " + std::to_string(ordinal) + " (found " +
              std::to_string(driver->deviceCount()) + ")";
      return false;
    }
    if (!driver->check(driver->cuDeviceGet(&device, ordinal), "cuDeviceGet",
                       error) ||
        !driver->deviceName(device, name, error) ||
        !driver->multiprocessorCount(device, smCount, error) ||
        !driver->deviceAttribute(device, CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE,
                                 l2Bytes, error) ||
        !driver->deviceAttribute(device,
                                 CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR,
                                 ccMajor, error) ||
        !driver->deviceAttribute(device,
                                 CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR,
                                 ccMinor, error) ||
        !driver->check(driver->cuDriverGetVersion(&driverVersion),
                       "cuDriverGetVersion", error) ||
        !driver->check(driver->cuDevicePrimaryCtxRetain(&context, device),
                       "cuDevicePrimaryCtxRetain", error))
      return false;
    retained = true;
    if (!driver->check(driver->cuCtxSetCurrent(context), "cuCtxSetCurrent",
                       error) ||
        !driver->check(driver->cuStreamCreate(&stream, CU_STREAM_NON_BLOCKING),
                       "cuStreamCreate", error) ||
        !driver->check(driver->cuEventCreate(&startEvent, CU_EVENT_DEFAULT),
                       "cuEventCreate", error) ||
        !driver->check(driver->cuEventCreate(&stopEvent, CU_EVENT_DEFAULT),
                       "cuEventCreate", error))
      return false;
    // Twice the L2 (so that nothing a kernel reads survives the flush), and
    // at least 256 MiB.
    if (l2Bytes < 0) {
      error = "the device reports a negative L2 size";
      return false;
    }
    flushBytes = std::max<size_t>(size_t(2) * static_cast<size_t>(l2Bytes),
                                  size_t(256) << 20);
    return driver->allocate(flushBytes, flushBuffer, "the L2 flush buffer",
                            error);
  }

  JsonValue meta(const Options &options) const {
    JsonValue json = JsonValue::object();
    json.set("runner", JsonValue::string(runnerVersion));
    json.set("date", JsonValue::string(utcDate()));
    json.set("gpu", JsonValue::string(name));
    json.set("device", JsonValue::integer(options.device));
    json.set("compute_capability",
             JsonValue::string(std::to_string(ccMajor) + "." +
                               std::to_string(ccMinor)));
    json.set("sm_count", JsonValue::integer(smCount));
    json.set("l2_bytes", JsonValue::integer(l2Bytes));
    json.set("driver_version", JsonValue::integer(driverVersion));
    json.set("flush_bytes",
             JsonValue::integer(static_cast<int64_t>(flushBytes)));
    json.set("warmup", JsonValue::integer(options.warmup));
    json.set("min_reps", JsonValue::integer(options.minReps));
    json.set("max_reps", JsonValue::integer(options.maxReps));
    json.set("budget_ms", JsonValue::number(options.budgetMs));
    json.set("timeout_s", JsonValue::number(options.timeoutS));
    json.set("seed", JsonValue::integer(1));
    return JsonValue::object({{"meta", std::move(json)}});
  }

  /// Waits for `event` (or, when null, the stream) to complete, polling so
  /// that a hung kernel becomes a timeout instead of a hang. Without the
  /// query entry points (a stand-in driver) it blocks.
  WaitResult wait(CUevent event, double timeoutS, const std::string &what,
                  std::string &error) const {
    auto query = [&]() {
      return event ? driver->cuEventQuery(event)
                   : driver->cuStreamQuery(stream);
    };
    bool canPoll = event ? driver->cuEventQuery != nullptr
                         : driver->cuStreamQuery != nullptr;
    if (!canPoll)
      return driver->check(event ? driver->cuEventSynchronize(event)
                                 : driver->cuStreamSynchronize(stream),
                           what, error)
                 ? WaitResult::Done
                 : WaitResult::Failed;
    auto start = std::chrono::steady_clock::now();
    for (int polls = 0;; ++polls) {
      CUresult result = query();
      if (result == CUDA_SUCCESS)
        return WaitResult::Done;
      if (result != CUDA_ERROR_NOT_READY) {
        driver->check(result, what, error);
        return WaitResult::Failed;
      }
      double seconds = std::chrono::duration<double>(
                           std::chrono::steady_clock::now() - start)
                           .count();
      if (seconds > timeoutS) {
        error = what + ": not done after " + format("%.0f", timeoutS) + " s";
        return WaitResult::TimedOut;
      }
      // Spin briefly (short kernels), then poll every 100 us.
      if (polls < 200)
        std::this_thread::yield();
      else
        std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  }

  /// Whether the context still works after an error. Faults in a kernel
  /// (illegal address, ...) are sticky: every later call fails.
  bool contextUsable(std::string &reason) const {
    CUresult result = driver->cuCtxSynchronize();
    if (result == CUDA_SUCCESS)
      return true;
    reason = "the CUDA context is unusable: " + driver->describe(result);
    return false;
  }

  const CudaDriver *driver = nullptr;
  CUdevice device = 0;
  CUcontext context = nullptr;
  bool retained = false;
  std::string name;
  int smCount = 0;
  int l2Bytes = 0;
  int ccMajor = 0;
  int ccMinor = 0;
  int driverVersion = 0;
  CUstream stream = nullptr;
  CUevent startEvent = nullptr;
  CUevent stopEvent = nullptr;
  CUdeviceptr flushBuffer = 0;
  size_t flushBytes = 0;
};

/// The device buffers of one shape's arguments, shared by its candidates.
class ArgumentBuffers {
public:
  explicit ArgumentBuffers(const Device &device) : device(device) {}
  ~ArgumentBuffers() {
    for (CUdeviceptr buffer : buffers)
      if (buffer)
        device.driver->cuMemFree(buffer);
  }

  bool allocate(const FunctionSpec &spec, std::string &error) {
    buffers.assign(spec.args.size(), 0);
    for (size_t i = 0; i < spec.args.size(); ++i)
      if (!device.driver->allocate(spec.args[i].bytes(), buffers[i],
                                   "argument " + spec.args[i].name, error))
        return false;
    return true;
  }

  const CUdeviceptr *data() const { return buffers.data(); }
  CUdeviceptr operator[](size_t i) const { return buffers[i]; }

private:
  const Device &device;
  std::vector<CUdeviceptr> buffers;
};

//===----------------------------------------------------------------------===//
// The runner
//===----------------------------------------------------------------------===//

/// How running one candidate ended.
enum class Outcome { Ok, Failed, TimedOut };

class TuneRunner {
public:
  explicit TuneRunner(const Options &options) : options(options) {}
  int run();

private:
  /// Writes `record`, counts it and marks its id done.
  void record(const Record &record);
  /// Records every pending candidate of `group` (except `except`) with
  /// `status` and `reason`.
  void recordRest(const ShapeGroup &group, const std::string &status,
                  const std::string &reason, const std::string &except = "");
  bool isDone(const std::string &id) const { return done.count(id) != 0; }

  /// Loads the package of `candidate` and its only function.
  bool loadPackage(const Candidate &candidate, KernelPackage &package,
                   FunctionSpec &spec, std::string &error) const;
  /// Poisons the outputs, launches `function` once, waits, and copies the
  /// outputs into `hostArgs`.
  Outcome runOnce(const DeviceFunction &function, const FunctionSpec &spec,
                  std::vector<std::vector<unsigned char>> &hostArgs,
                  std::string &error);
  /// Copies the inputs of the shape into its device buffers and waits.
  bool uploadInputs(const FunctionSpec &spec,
                    const std::vector<std::vector<unsigned char>> &inputs,
                    std::string &error);
  /// The warm-up and timed runs.
  Outcome time(const DeviceFunction &function, std::vector<double> &samples,
               std::string &error);
  /// After a failed or timed-out run: exits (after flushing the record) when
  /// the context cannot go on.
  void exitIfContextLost(Outcome outcome);

  /// Runs the pending candidates of `group`: the default's golden run,
  /// then each candidate. Errors of a candidate or of the shape are
  /// recorded; only a lost context ends the process.
  void runShape(const ShapeGroup &group, size_t index, size_t total);
  void runCandidates(const ShapeGroup &group, const FunctionSpec &spec,
                     const DeviceFunction &defaultFunction,
                     const std::vector<std::vector<unsigned char>> &inputs,
                     const std::vector<std::vector<double>> &golden,
                     const std::string &checked,
                     std::optional<double> defaultRelL2);

  const Options &options;
  std::string batchDir;
  std::vector<ShapeGroup> groups;
  /// The default's median time on the current shape (0 before it is
  /// timed): the reference of --slow-factor.
  double defaultMedianMs = 0;
  std::map<std::string, PtxasResult> resources;
  /// Status of each id recorded so far, in this run or before.
  std::map<std::string, std::string> done;
  std::map<std::string, int> statusCounts;
  size_t recordedThisRun = 0;
  ResultsFile results;
  Device device;
  ArgumentBuffers *buffers = nullptr;
};

} // namespace

void TuneRunner::record(const Record &record) {
  results.write(record.toJson());
  results.clearRunning();
  done[record.id] = record.status;
  ++statusCounts[record.status];
  ++recordedThisRun;
}

void TuneRunner::recordRest(const ShapeGroup &group, const std::string &status,
                            const std::string &reason,
                            const std::string &except) {
  for (const Candidate &candidate : group.candidates) {
    if (isDone(candidate.id) || candidate.id == except)
      continue;
    Record entry{candidate.id, group.shape, status};
    entry.reason = reason;
    record(entry);
  }
}

bool TuneRunner::loadPackage(const Candidate &candidate, KernelPackage &package,
                             FunctionSpec &spec, std::string &error) const {
  std::string directory = joinPath(batchDir, candidate.package);
  JsonValue manifest;
  if (!parseJsonFile(joinPath(directory, manifestFileName), manifest, error))
    return false;
  // attn-tune generate writes PTX-only packages, whose "kernels" list (the
  // resources ptxas reports) is empty; the loader wants every launched
  // kernel listed, so list them without resources.
  if (manifest.isObject()) {
    JsonValue *kernels = nullptr;
    const JsonValue *functions = manifest.find("functions");
    for (JsonValue::Member &member : manifest.getObject())
      if (member.first == "kernels")
        kernels = &member.second;
    if (kernels && kernels->isArray() && kernels->getArray().empty() &&
        functions && functions->isArray()) {
      std::set<std::pair<std::string, std::string>> listed;
      for (const JsonValue &function : functions->getArray()) {
        const JsonValue *launches = function.find("launches");
        if (!launches || !launches->isArray())
          continue;
        for (const JsonValue &launch : launches->getArray()) {
          const JsonValue *binary = launch.find("binary");
          const JsonValue *kernel = launch.find("kernel");
          if (!binary || !kernel || !binary->isString() ||
              !kernel->isString() ||
              !listed.emplace(binary->getString(), kernel->getString()).second)
            continue;
          kernels->push(JsonValue::object(
              {{"binary", JsonValue::string(binary->getString())},
               {"name", JsonValue::string(kernel->getString())}}));
        }
      }
    }
  }
  if (!parseKernelPackage(manifest, directory, package, error))
    return false;
  const FunctionSpec *function = selectFunction(package, "", error);
  if (!function)
    return false;
  spec = *function;
  return true;
}

bool TuneRunner::uploadInputs(
    const FunctionSpec &spec,
    const std::vector<std::vector<unsigned char>> &inputs, std::string &error) {
  const CudaDriver &driver = *device.driver;
  for (size_t i = 0; i < spec.args.size(); ++i) {
    const TensorSpec &arg = spec.args[i];
    if (arg.role != TensorRole::Input || arg.bytes() == 0)
      continue;
    // A tiled input (see kMaxGeneratedElements) repeats its block.
    size_t block = std::min(inputs[i].size(), arg.bytes());
    for (size_t offset = 0; offset < arg.bytes(); offset += block) {
      size_t bytes = std::min(block, arg.bytes() - offset);
      if (!driver.check(driver.cuMemcpyHtoDAsync((*buffers)[i] + offset,
                                                 inputs[i].data(), bytes,
                                                 device.stream),
                        "cuMemcpyHtoDAsync (input " + arg.name + ")", error))
        return false;
    }
  }
  return device.wait(nullptr, options.timeoutS, "copying the inputs", error) ==
         WaitResult::Done;
}

Outcome TuneRunner::runOnce(const DeviceFunction &function,
                            const FunctionSpec &spec,
                            std::vector<std::vector<unsigned char>> &hostArgs,
                            std::string &error) {
  const CudaDriver &driver = *device.driver;
  for (size_t i = 0; i < spec.args.size(); ++i) {
    const TensorSpec &arg = spec.args[i];
    if (arg.role != TensorRole::Output || arg.bytes() == 0)
      continue;
    if (!driver.check(driver.cuMemsetD8Async((*buffers)[i], 0xFF, arg.bytes(),
                                             device.stream),
                      "cuMemsetD8Async (poisoning output " + arg.name + ")",
                      error))
      return Outcome::Failed;
  }
  if (!function.launchAll(buffers->data(), device.stream, error))
    return Outcome::Failed;
  WaitResult waited =
      device.wait(nullptr, options.timeoutS, "the checked run", error);
  if (waited != WaitResult::Done)
    return waited == WaitResult::TimedOut ? Outcome::TimedOut : Outcome::Failed;
  for (size_t i = 0; i < spec.args.size(); ++i) {
    const TensorSpec &arg = spec.args[i];
    if (arg.role != TensorRole::Output || arg.bytes() == 0)
      continue;
    if (!driver.check(driver.cuMemcpyDtoHAsync(hostArgs[i].data(),
                                               (*buffers)[i], arg.bytes(),
                                               device.stream),
                      "cuMemcpyDtoHAsync (output " + arg.name + ")", error))
      return Outcome::Failed;
  }
  waited = device.wait(nullptr, options.timeoutS, "copying the outputs", error);
  return waited == WaitResult::Done       ? Outcome::Ok
         : waited == WaitResult::TimedOut ? Outcome::TimedOut
                                          : Outcome::Failed;
}

Outcome TuneRunner::time(const DeviceFunction &function,
                         std::vector<double> &samples, std::string &error) {
  const CudaDriver &driver = *device.driver;
  auto outcomeOf = [](WaitResult waited) {
    return waited == WaitResult::Done       ? Outcome::Ok
           : waited == WaitResult::TimedOut ? Outcome::TimedOut
                                            : Outcome::Failed;
  };
  for (int i = 0; i < options.warmup; ++i) {
    if (!function.launchAll(buffers->data(), device.stream, error))
      return Outcome::Failed;
    Outcome waited =
        outcomeOf(device.wait(nullptr, options.timeoutS, "warm-up run", error));
    if (waited != Outcome::Ok)
      return waited;
  }
  samples.clear();
  double totalMs = 0;
  while (true) {
    // The flush comes right before the start event: the run starts from an
    // L2 holding none of its data, as after other layers in a real model.
    if (!driver.check(driver.cuMemsetD8Async(device.flushBuffer, 0x5A,
                                             device.flushBytes, device.stream),
                      "cuMemsetD8Async (L2 flush)", error) ||
        !driver.check(driver.cuEventRecord(device.startEvent, device.stream),
                      "cuEventRecord", error) ||
        !function.launchAll(buffers->data(), device.stream, error) ||
        !driver.check(driver.cuEventRecord(device.stopEvent, device.stream),
                      "cuEventRecord", error))
      return Outcome::Failed;
    Outcome waited = outcomeOf(
        device.wait(device.stopEvent, options.timeoutS,
                    "timed run " + std::to_string(samples.size()), error));
    if (waited != Outcome::Ok)
      return waited;
    float milliseconds = 0;
    if (!driver.check(driver.cuEventElapsedTime(
                          &milliseconds, device.startEvent, device.stopEvent),
                      "cuEventElapsedTime", error))
      return Outcome::Failed;
    samples.push_back(milliseconds);
    totalMs += milliseconds;
    int reps = static_cast<int>(samples.size());
    if (reps == 1 && defaultMedianMs > 0 &&
        milliseconds > options.slowFactor * defaultMedianMs)
      return Outcome::Ok;
    if (reps >= options.maxReps ||
        (reps >= options.minReps && totalMs > options.budgetMs))
      return Outcome::Ok;
  }
}

void TuneRunner::exitIfContextLost(Outcome outcome) {
  if (outcome == Outcome::TimedOut) {
    std::fprintf(stderr,
                 "attn-tune-run: a kernel timed out; the CUDA context is "
                 "unusable, exiting (code %d) to be restarted\n",
                 exitTimeout);
    std::_Exit(exitTimeout);
  }
  std::string reason;
  if (!device.contextUsable(reason)) {
    std::fprintf(stderr,
                 "attn-tune-run: %s; exiting (code %d) to be "
                 "restarted\n",
                 reason.c_str(), exitContextLost);
    std::_Exit(exitContextLost);
  }
}

void TuneRunner::runCandidates(
    const ShapeGroup &group, const FunctionSpec &spec,
    const DeviceFunction &defaultFunction,
    const std::vector<std::vector<unsigned char>> &inputs,
    const std::vector<std::vector<double>> &golden, const std::string &checked,
    std::optional<double> defaultRelL2) {
  std::vector<std::vector<unsigned char>> hostArgs = inputs;
  // A wrong kernel may have written into its inputs: copy them in again so
  // that the next candidates see the shape's inputs.
  auto restoreInputs = [&]() {
    std::string error;
    if (uploadInputs(spec, inputs, error))
      return;
    std::fprintf(stderr, "attn-tune-run: restoring the inputs of %s: %s\n",
                 group.shape.c_str(), error.c_str());
    exitIfContextLost(Outcome::Failed);
    std::_Exit(exitContextLost);
  };
  for (const Candidate &candidate : group.candidates) {
    if (isDone(candidate.id))
      continue;
    Record entry{candidate.id, group.shape, ""};
    if (!candidate.presetStatus.empty()) {
      entry.status = candidate.presetStatus;
      entry.reason = candidate.presetReason;
      record(entry);
      continue;
    }
    if (auto ptxas = resources.find(candidate.id);
        ptxas != resources.end() && !ptxas->second.ok) {
      entry.status = "ptxas_error";
      entry.reason = ptxas->second.reason;
      record(entry);
      continue;
    }

    results.markRunning(candidate.id);
    std::string error;
    std::unique_ptr<DeviceFunction> loaded;
    const DeviceFunction *function = &defaultFunction;
    if (!candidate.isDefault) {
      KernelPackage package;
      FunctionSpec candidateSpec;
      if (!loadPackage(candidate, package, candidateSpec, error)) {
        entry.status = "load_error";
        entry.reason = error;
        record(entry);
        continue;
      }
      std::string difference = signatureDifference(spec, candidateSpec);
      if (!difference.empty()) {
        entry.status = "signature_mismatch";
        entry.reason = difference;
        record(entry);
        continue;
      }
      loaded = DeviceFunction::load(*device.driver, package, candidateSpec,
                                    device.device, error);
      if (!loaded) {
        entry.status = "load_error";
        entry.reason = error;
        record(entry);
        exitIfContextLost(Outcome::Failed);
        continue;
      }
      function = loaded.get();
    }

    Outcome outcome = runOnce(*function, spec, hostArgs, error);
    if (outcome != Outcome::Ok) {
      entry.status = outcome == Outcome::TimedOut ? "timeout" : "launch_error";
      entry.reason = error;
      record(entry);
      exitIfContextLost(outcome);
      restoreInputs();
      continue;
    }

    // Against the golden outputs, under the tolerance of the dtypes.
    std::vector<std::vector<double>> outputs(spec.args.size());
    for (size_t i = 0; i < spec.args.size(); ++i)
      if (spec.args[i].role == TensorRole::Output)
        outputs[i] = loadSample(
            spec.args[i], hostArgs[i].data(),
            sampleStride(spec.args[i].numElements(), options.checkElements));
    OutputCheck check = compareOutputs(spec, outputs, golden);
    // The default matches its own golden outputs; its error against the
    // reference says more.
    entry.relL2 =
        candidate.isDefault && defaultRelL2 ? *defaultRelL2 : check.worstRelL2;
    entry.checked = checked;
    if (!check.failure.empty()) {
      entry.status = "wrong";
      entry.reason = check.failure;
      record(entry);
      restoreInputs();
      continue;
    }

    outcome = time(*function, entry.samples, error);
    if (outcome != Outcome::Ok) {
      entry.samples.clear();
      entry.status = outcome == Outcome::TimedOut ? "timeout" : "launch_error";
      entry.reason = "while timing: " + error;
      record(entry);
      exitIfContextLost(outcome);
      restoreInputs();
      continue;
    }
    if (candidate.isDefault) {
      std::vector<double> sorted = entry.samples;
      std::sort(sorted.begin(), sorted.end());
      defaultMedianMs = quantile(sorted, 0.5);
    }
    entry.status = "ok";
    record(entry);
  }
}

void TuneRunner::runShape(const ShapeGroup &group, size_t index, size_t total) {
  const Candidate &defaultCandidate = group.candidates.front();
  auto started = std::chrono::steady_clock::now();
  std::map<std::string, int> before = statusCounts;
  std::string checked = "-";
  auto progress = [&]() {
    std::string counts;
    for (const auto &[status, count] : statusCounts) {
      int added = count - (before.count(status) ? before[status] : 0);
      if (added)
        counts +=
            (counts.empty() ? "" : ", ") + std::to_string(added) + " " + status;
    }
    double seconds = std::chrono::duration<double>(
                         std::chrono::steady_clock::now() - started)
                         .count();
    std::fprintf(stderr,
                 "attn-tune-run: [%zu/%zu] %s: %zu candidates: %s "
                 "(checked %s) %.1f s\n",
                 index + 1, total, group.shape.c_str(), group.candidates.size(),
                 counts.empty() ? "nothing new" : counts.c_str(),
                 checked.c_str(), seconds);
  };
  std::string defaultLabel = "default candidate " + defaultCandidate.id;

  // The default decides whether the shape can be measured at all.
  if (auto status = done.find(defaultCandidate.id);
      status != done.end() && status->second != "ok") {
    recordRest(group, "bad_default",
               defaultLabel + " was recorded as " + status->second);
    return progress();
  }
  if (!defaultCandidate.presetStatus.empty()) {
    Record entry{defaultCandidate.id, group.shape,
                 defaultCandidate.presetStatus};
    entry.reason = defaultCandidate.presetReason;
    if (!isDone(entry.id))
      record(entry);
    recordRest(group, "bad_default",
               defaultLabel + ": " + defaultCandidate.presetStatus);
    return progress();
  }
  if (auto ptxas = resources.find(defaultCandidate.id);
      ptxas != resources.end() && !ptxas->second.ok) {
    Record entry{defaultCandidate.id, group.shape, "ptxas_error"};
    entry.reason = ptxas->second.reason;
    if (!isDone(entry.id))
      record(entry);
    recordRest(group, "bad_default", defaultLabel + ": ptxas failed");
    return progress();
  }

  std::string error;
  // Fails the default with `status` and the rest of the shape as
  // bad_default.
  auto failDefault = [&](const std::string &status, const std::string &reason) {
    if (!isDone(defaultCandidate.id)) {
      Record entry{defaultCandidate.id, group.shape, status};
      entry.reason = reason;
      record(entry);
    }
    recordRest(group, "bad_default", defaultLabel + ": " + status);
  };

  KernelPackage package;
  FunctionSpec spec;
  if (!loadPackage(defaultCandidate, package, spec, error)) {
    failDefault("load_error", error);
    return progress();
  }
  std::string unusable;
  bool hasOutput = false;
  for (const TensorSpec &arg : spec.args)
    hasOutput |= arg.role == TensorRole::Output;
  if (!hasOutput)
    unusable = "function " + spec.name + " has no outputs";
  // The stored arguments, a second host copy for the candidates' outputs
  // and the float64 values must fit in host memory.
  double hostBytes = 0;
  for (const TensorSpec &arg : spec.args)
    hostBytes += 2.0 * static_cast<double>(arg.bytes()) +
                 16.0 * static_cast<double>(arg.numElements());
  double physicalBytes = static_cast<double>(sysconf(_SC_PHYS_PAGES)) *
                         static_cast<double>(sysconf(_SC_PAGESIZE));
  if (unusable.empty() && physicalBytes > 0 && hostBytes > physicalBytes)
    unusable = "the arguments need " + format("%.1f", hostBytes / (1 << 30)) +
               " GiB of host memory, more than this machine's " +
               format("%.1f", physicalBytes / (1 << 30)) + " GiB";
  std::vector<std::vector<unsigned char>> inputs;
  InputOptions inputOptions;
  inputOptions.seed = 1;
  // Random inputs beyond kMaxGeneratedElements would take the host longer
  // to draw than all the shape's candidates take to run: such an input is
  // a drawn block of that many elements, repeated (the golden outputs are
  // then the only check: the reference would read the whole input).
  FunctionSpec drawn = spec;
  bool tiledInputs = false;
  // The leading dim shrinks, so that the others (a vocabulary, a head
  // dim) keep their sizes: the drawn block is whole rows.
  for (TensorSpec &arg : drawn.args) {
    if (arg.role != TensorRole::Input || arg.shape.empty() ||
        arg.numElements() <= kMaxGeneratedElements)
      continue;
    int64_t inner = arg.numElements() / std::max<int64_t>(1, arg.shape[0]);
    if (inner == 0 || inner > kMaxGeneratedElements)
      continue;
    arg.shape[0] = std::max<int64_t>(1, kMaxGeneratedElements / inner);
    tiledInputs = true;
  }
  if (unusable.empty() && !makeInputs(drawn, inputOptions, inputs, error))
    unusable = "inputs: " + error;
  if (!unusable.empty()) {
    recordRest(group, "setup_error", unusable);
    return progress();
  }

  // Device buffers and inputs, shared by the shape's candidates.
  ArgumentBuffers shapeBuffers(device);
  buffers = &shapeBuffers;
  struct ResetBuffers {
    ArgumentBuffers *&pointer;
    ~ResetBuffers() { pointer = nullptr; }
  } resetBuffers{buffers};
  const CudaDriver &driver = *device.driver;
  bool uploaded =
      shapeBuffers.allocate(spec, error) && uploadInputs(spec, inputs, error);
  if (!uploaded) {
    recordRest(group, "setup_error", error);
    exitIfContextLost(Outcome::Failed);
    return progress();
  }

  // The golden outputs: the default's.
  results.markRunning(defaultCandidate.id);
  std::unique_ptr<DeviceFunction> defaultFunction =
      DeviceFunction::load(driver, package, spec, device.device, error);
  if (!defaultFunction) {
    failDefault("load_error", error);
    exitIfContextLost(Outcome::Failed);
    return progress();
  }
  std::vector<std::vector<unsigned char>> hostArgs = inputs;
  Outcome outcome = runOnce(*defaultFunction, spec, hostArgs, error);
  if (outcome != Outcome::Ok) {
    failDefault(outcome == Outcome::TimedOut ? "timeout" : "launch_error",
                error);
    exitIfContextLost(outcome);
    return progress();
  }
  std::vector<std::vector<double>> golden(spec.args.size());
  for (size_t i = 0; i < spec.args.size(); ++i)
    if (spec.args[i].role == TensorRole::Output)
      golden[i] = loadTensor(spec.args[i], hostArgs[i].data());

  // Against the float64 reference when it is cheap enough; otherwise the
  // golden outputs must at least be fully written.
  std::string badDefault;
  std::optional<double> defaultRelL2;
  bool referenceCheck = !tiledInputs && spec.op &&
                        hasReference(spec.op->name) &&
                        referenceMacs(spec) <= options.maxReferenceMacs;
  if (referenceCheck) {
    checked = "reference";
    std::vector<std::vector<double>> reference(spec.args.size());
    for (size_t i = 0; i < spec.args.size(); ++i)
      if (spec.args[i].role == TensorRole::Input)
        reference[i] = loadTensor(spec.args[i], inputs[i].data());
    if (!computeReference(spec, reference, error)) {
      badDefault = "the reference fails: " + error;
    } else {
      OutputCheck check = compareOutputs(spec, golden, reference);
      defaultRelL2 = check.worstRelL2;
      if (!check.failure.empty())
        badDefault = defaultLabel + " fails the reference: " + check.failure;
    }
  } else {
    checked = "default";
    for (size_t i = 0; i < spec.args.size() && badDefault.empty(); ++i) {
      int64_t nans = std::count_if(golden[i].begin(), golden[i].end(),
                                   [](double v) { return std::isnan(v); });
      if (nans)
        badDefault = defaultLabel + ": output " + spec.args[i].name +
                     ": unwritten or NaN: " + std::to_string(nans) +
                     " elements";
    }
  }
  if (!badDefault.empty()) {
    for (const Candidate &candidate : group.candidates) {
      if (isDone(candidate.id))
        continue;
      Record entry{candidate.id, group.shape, "bad_default"};
      entry.reason = badDefault;
      entry.checked = checked;
      if (candidate.isDefault)
        entry.relL2 = defaultRelL2;
      record(entry);
    }
    return progress();
  }
  results.clearRunning();

  // The candidates are compared on the same strided sample.
  for (size_t i = 0; i < spec.args.size(); ++i)
    if (spec.args[i].role == TensorRole::Output)
      golden[i] = strided(golden[i], sampleStride(spec.args[i].numElements(),
                                                  options.checkElements));
  defaultMedianMs = 0;
  runCandidates(group, spec, *defaultFunction, inputs, golden, checked,
                defaultRelL2);
  return progress();
}

int TuneRunner::run() {
  std::string error;
  auto setupError = [&](const std::string &message) {
    std::fprintf(stderr, "attn-tune-run: error: %s\n", message.c_str());
    return exitSetupError;
  };
  batchDir = options.batch;
  std::error_code code;
  if (!std::filesystem::is_directory(batchDir, code))
    return setupError(batchDir + ": not a batch directory");
  std::string candidatesPath =
      joinPath(batchDir, options.candidates.empty() ? "candidates.jsonl"
                                                    : options.candidates);
  if (!readCandidates(candidatesPath, groups, error))
    return setupError(error);
  if (!options.resources.empty() &&
      !readResources(options.resources, resources, error))
    return setupError(error);
  bool hasContent = false;
  if (!readPreviousResults(options.out, done, hasContent, error))
    return setupError(error);

  size_t shapes = groups.size();
  if (options.onlyShapes > 0 &&
      static_cast<uint64_t>(options.onlyShapes) < static_cast<uint64_t>(shapes))
    shapes = static_cast<size_t>(options.onlyShapes);
  size_t candidates = 0, pending = 0;
  for (size_t i = 0; i < shapes; ++i)
    for (const Candidate &candidate : groups[i].candidates) {
      ++candidates;
      pending += !isDone(candidate.id);
    }
  std::fprintf(stderr,
               "attn-tune-run: %zu shapes, %zu candidates, %zu already "
               "recorded, %zu to run\n",
               shapes, candidates, candidates - pending, pending);

  if (pending) {
    if (!device.open(options.device, error))
      return setupError(error);
    if (!results.open(options.out, error))
      return setupError(error);
    if (!hasContent)
      results.write(device.meta(options));
    std::fprintf(stderr,
                 "attn-tune-run: on %s (%d SMs, %d MiB L2), driver %d\n",
                 device.name.c_str(), device.smCount, device.l2Bytes >> 20,
                 device.driverVersion);

    // A candidate a previous run died in is not run again.
    std::string crashed = results.crashedCandidate();
    if (!crashed.empty() && !isDone(crashed)) {
      for (size_t i = 0; i < shapes; ++i)
        for (const Candidate &candidate : groups[i].candidates)
          if (candidate.id == crashed) {
            Record entry{crashed, groups[i].shape, "crashed"};
            entry.reason = "the runner died while running it";
            record(entry);
          }
    }
    results.clearRunning();

    for (size_t i = 0; i < shapes; ++i) {
      bool anyPending = false;
      for (const Candidate &candidate : groups[i].candidates)
        anyPending |= !isDone(candidate.id);
      if (anyPending)
        runShape(groups[i], i, shapes);
    }
  }

  // Summary: this run's records, and the results file as a whole.
  std::map<std::string, int> total;
  size_t totalCount = 0;
  for (size_t i = 0; i < shapes; ++i)
    for (const Candidate &candidate : groups[i].candidates)
      if (auto status = done.find(candidate.id); status != done.end()) {
        ++total[status->second];
        ++totalCount;
      }
  auto summary = [](const std::map<std::string, int> &counts) {
    std::string text;
    for (const auto &[status, count] : counts)
      text += (text.empty() ? "" : ", ") + std::to_string(count) + " " + status;
    return text.empty() ? std::string("none") : text;
  };
  int okTotal = total.count("ok") ? total["ok"] : 0;
  total.erase("ok");
  std::fprintf(stderr, "attn-tune-run: this run recorded %zu: %s\n",
               recordedThisRun, summary(statusCounts).c_str());
  std::fprintf(stderr,
               "attn-tune-run: %zu of %zu candidates recorded: %d ok, %zu "
               "failed (%s)\n",
               totalCount, candidates, okTotal,
               totalCount - static_cast<size_t>(okTotal),
               summary(total).c_str());
  return exitDone;
}

/// Parses argv into `options`. Returns false with `error` set on bad usage;
/// sets `help` for --help.
static bool parseOptions(int argc, char **argv, Options &options, bool &help,
                         std::string &error) {
  help = false;
  for (int i = 1; i < argc; ++i) {
    std::string argument = argv[i];
    if (argument == "-h" || argument == "--help") {
      help = true;
      return true;
    }
    if (argument.rfind("--", 0) != 0) {
      error = "unexpected argument \"" + argument + "\"";
      return false;
    }
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
    auto takeCount = [&](uint64_t minValue, uint64_t maxValue, auto &out) {
      uint64_t count;
      if (!takeValue())
        return false;
      if (!parseUnsigned(value, maxValue, count) || count < minValue)
        return invalid("an integer in [" + std::to_string(minValue) + ", " +
                       std::to_string(maxValue) + "]");
      out = static_cast<std::remove_reference_t<decltype(out)>>(count);
      return true;
    };
    auto takeNumber = [&](double minValue, bool inclusive, double &out) {
      if (!takeValue())
        return false;
      double number;
      if (!parseDouble(value, number) ||
          (inclusive ? number < minValue : number <= minValue))
        return invalid(std::string(inclusive ? "a number >= " : "a number > ") +
                       format("%g", minValue));
      out = number;
      return true;
    };
    bool ok;
    if (name == "--batch" || name == "--out" || name == "--resources" ||
        name == "--candidates") {
      ok = takeValue();
      if (ok && value.empty())
        ok = invalid("a path");
      if (ok)
        (name == "--batch"       ? options.batch
         : name == "--out"       ? options.out
         : name == "--resources" ? options.resources
                                 : options.candidates) = value;
    } else if (name == "--device") {
      ok = takeCount(0, 1023, options.device);
    } else if (name == "--warmup") {
      ok = takeCount(0, 1000, options.warmup);
    } else if (name == "--min-reps") {
      ok = takeCount(1, 100000, options.minReps);
    } else if (name == "--max-reps") {
      ok = takeCount(1, 100000, options.maxReps);
    } else if (name == "--only-shapes") {
      ok = takeCount(1, uint64_t(1) << 40, options.onlyShapes);
    } else if (name == "--budget-ms") {
      ok = takeNumber(0, true, options.budgetMs);
    } else if (name == "--timeout-s") {
      ok = takeNumber(0, false, options.timeoutS);
    } else if (name == "--max-reference-macs") {
      ok = takeNumber(0, true, options.maxReferenceMacs);
    } else if (name == "--slow-factor") {
      ok = takeNumber(0, true, options.slowFactor);
    } else if (name == "--check-elements") {
      ok = takeCount(1, uint64_t(1) << 40, options.checkElements);
    } else {
      error = "unknown option " + name;
      ok = false;
    }
    if (!ok)
      return false;
  }
  if (options.batch.empty()) {
    error = "no --batch directory given";
    return false;
  }
  if (options.out.empty()) {
    error = "no --out results file given";
    return false;
  }
  if (options.minReps > options.maxReps) {
    error = "--min-reps " + std::to_string(options.minReps) +
            " is above --max-reps " + std::to_string(options.maxReps);
    return false;
  }
  return true;
}

int main(int argc, char **argv) {
  Options options;
  bool help = false;
  std::string error;
  if (!parseOptions(argc, argv, options, help, error)) {
    std::fprintf(stderr, "attn-tune-run: error: %s\n%s", error.c_str(),
                 usageText);
    return exitSetupError;
  }
  if (help) {
    std::fputs(usageText, stdout);
    return exitDone;
  }
  TuneRunner runner(options);
  return runner.run();
}
