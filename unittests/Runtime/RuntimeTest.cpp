//===- RuntimeTest.cpp - Checks of the runtime's building blocks ----------===//
//
// JSON parsing and writing, dtype conversions, function specs and timing
// medians: everything of AttnRuntime that needs no GPU; and that every
// failure of the runtime and of its C ABI is an error return (unreadable
// files, huge sizes, kernel parameter checks on the fake drivers of
// unittests/FakeCuda, each in a child process since the driver is loaded
// once per process). The test oracle has its own program (unittests/Testing),
// attn-run's behaviour is checked by the lit tests in test/Runtime. Links
// AttnRuntime and the C ABI's libAttnRuntimeC.so. Prints "N passed, 0 failed"
// on success (attn-runtime-test).
//
//===----------------------------------------------------------------------===//

#include "attn-c/Runtime.h"
#include "attn/Runtime/Executor.h"
#include "attn/Runtime/FunctionSpec.h"
#include "attn/Runtime/Json.h"
#include "attn/Runtime/KernelPackage.h"

#include "TestCheck.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sys/wait.h>
#include <unistd.h>

using namespace attn::runtime;

namespace {

const double inf = std::numeric_limits<double>::infinity();

bool contains(const std::string &text, const std::string &part) {
  return text.find(part) != std::string::npos;
}

//===----------------------------------------------------------------------===//
// JSON
//===----------------------------------------------------------------------===//

void testJsonParsesEveryKind() {
  JsonValue value;
  std::string error;
  bool ok = parseJson(
      " {\"a\": [1, -2.5, 3e2, true, false, null],\n \"s\": "
      "\"q\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\", \"o\": {}}",
      value, error);
  if (!ATTN_CHECK_MSG(ok, error))
    return;
  ATTN_CHECK(value.isObject() && value.getObject().size() == 3);
  const JsonValue *a = value.find("a");
  ATTN_CHECK(a && a->isArray() && a->getArray().size() == 6);
  if (!a || a->getArray().size() != 6)
    return;
  ATTN_CHECK(a->getArray()[0].isInteger() &&
             a->getArray()[0].getInteger() == 1);
  ATTN_CHECK(!a->getArray()[1].isInteger() &&
             a->getArray()[1].getNumber() == -2.5);
  // 3e2 is integral, so it also has an exact integer value.
  ATTN_CHECK(a->getArray()[2].isInteger() &&
             a->getArray()[2].getInteger() == 300);
  ATTN_CHECK(a->getArray()[3].isBool() && a->getArray()[3].getBool());
  ATTN_CHECK(a->getArray()[4].isBool() && !a->getArray()[4].getBool());
  ATTN_CHECK(a->getArray()[5].isNull());
  const JsonValue *s = value.find("s");
  ATTN_CHECK(s && s->isString() &&
             s->getString() == "q\"\\/\b\f\n\r\t\xc3\xa9\xf0\x9f\x98\x80");
  ATTN_CHECK(value.find("o") && value.find("o")->isObject());
  ATTN_CHECK(!value.find("missing"));
  // Locations are 1-based line:column of each value's first character.
  ATTN_CHECK(value.line() == 1 && value.column() == 2);
  ATTN_CHECK(s && s->line() == 2 && s->column() == 7);
}

void testJsonIntegersAreExact() {
  JsonValue value;
  std::string error;
  // 2^53 + 1 is not a double but is an int64.
  ATTN_CHECK(parseJson("[9007199254740993, -9223372036854775808, "
                       "9223372036854775808]",
                       value, error));
  if (value.getArray().size() != 3)
    return;
  ATTN_CHECK(value.getArray()[0].getInteger() == 9007199254740993LL);
  ATTN_CHECK(value.getArray()[1].getInteger() ==
             std::numeric_limits<int64_t>::min());
  // Beyond int64: a double only.
  ATTN_CHECK(!value.getArray()[2].isInteger() &&
             value.getArray()[2].getNumber() == 9223372036854775808.0);
}

void testJsonErrorsCarryLineAndColumn() {
  struct Case {
    const char *text;
    const char *expected;
  } cases[] = {
      {"{\"a\": 1,\n  \"b\": }", "2:8: expected a JSON value, found '}'"},
      {"[1, 2", "1:6: expected ',' or ']' in an array, found end of input"},
      {"{\"a\" 1}", "1:6: expected ':' after a member name"},
      {"{\"a\": 1, \"a\": 2}", "1:10: duplicate member \"a\""},
      {"[01]", "leading zeros"},
      {"[1.]", "expected a digit"},
      {"\"abc", "unterminated string"},
      {"\"a\tb\"", "control character"},
      {"\"\\x\"", "invalid escape"},
      {"\"\\ud800\"", "low surrogate"},
      {"tru", "invalid literal"},
      {"{} {}", "1:4: unexpected text after the JSON value"},
      {"", "1:1: expected a JSON value, found end of input"},
      {"{'a': 1}", "expected a member name string"},
  };
  for (const Case &c : cases) {
    JsonValue value;
    std::string error;
    bool ok = parseJson(c.text, value, error);
    ATTN_CHECK_MSG(!ok && contains(error, c.expected),
                   std::string("for ") + c.text + ": got \"" + error + "\"");
  }
  // Deep nesting is an error, not a stack overflow.
  JsonValue value;
  std::string error;
  std::string deep(100000, '[');
  ATTN_CHECK(!parseJson(deep, value, error) && contains(error, "nested"));
}

void testJsonWriterRoundTrips() {
  const char *text = "{\"name\": \"a\\\"b\\n\\u0001\", \"list\": [1, 2.5, "
                     "-0.1, 1e+300, true, null, {\"x\": []}], \"e\": {}}";
  JsonValue value, again;
  std::string error;
  ATTN_CHECK(parseJson(text, value, error));
  for (int indent : {0, 2}) {
    std::string written = writeJson(value, indent);
    ATTN_CHECK_MSG(parseJson(written, again, error), error);
    ATTN_CHECK_MSG(writeJson(again, 0) == writeJson(value, 0), written);
  }
  ATTN_CHECK(writeJson(value, 0) ==
             "{\"name\": \"a\\\"b\\n\\u0001\", \"list\": [1, 2.5, -0.1, "
             "1e+300, true, null, {\"x\": []}], \"e\": {}}");
  // JSON has no infinity or NaN.
  ATTN_CHECK(writeJson(JsonValue::number(inf), 0) == "null");
  ATTN_CHECK(writeJson(JsonValue::number(0.1), 0) == "0.1");
}

//===----------------------------------------------------------------------===//
// Dtype conversions
//===----------------------------------------------------------------------===//

float floatFromBits(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}

void testBF16Conversion() {
  ATTN_CHECK(floatToBF16(1.0f) == 0x3f80);
  ATTN_CHECK(floatToBF16(-2.0f) == 0xc000);
  // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: ties go to even (1).
  ATTN_CHECK(floatToBF16(1.0f + 0x1p-8f) == 0x3f80);
  // 1 + 3 * 2^-8 is halfway between 1 + 2^-7 (odd) and 1 + 2^-6: up.
  ATTN_CHECK(floatToBF16(1.0f + 3 * 0x1p-8f) == 0x3f82);
  // Just above halfway rounds up.
  ATTN_CHECK(floatToBF16(floatFromBits(0x3f808001)) == 0x3f81);
  ATTN_CHECK(floatToBF16(std::numeric_limits<float>::max()) == 0x7f80);
  ATTN_CHECK(std::isnan(bf16ToFloat(floatToBF16(NAN))));
  ATTN_CHECK(std::isnan(bf16ToFloat(floatToBF16(floatFromBits(0x7f800001)))));
  // Every bf16 value survives a round trip through float.
  int mismatches = 0;
  for (uint32_t bits = 0; bits < 0x10000; ++bits) {
    float value = bf16ToFloat(static_cast<uint16_t>(bits));
    if (!std::isnan(value) && floatToBF16(value) != bits)
      ++mismatches;
  }
  ATTN_CHECK_MSG(mismatches == 0, std::to_string(mismatches));
}

void testF16Conversion() {
  ATTN_CHECK(floatToF16(1.0f) == 0x3c00);
  ATTN_CHECK(floatToF16(-2.0f) == 0xc000);
  ATTN_CHECK(floatToF16(-0.0f) == 0x8000);
  ATTN_CHECK(floatToF16(65504.0f) == 0x7bff);
  // 65519 rounds down to the largest half; 65520 (halfway) rounds to inf.
  ATTN_CHECK(floatToF16(65519.0f) == 0x7bff);
  ATTN_CHECK(floatToF16(65520.0f) == 0x7c00);
  ATTN_CHECK(floatToF16(1e10f) == 0x7c00);
  ATTN_CHECK(floatToF16(-inf) == 0xfc00);
  // 1 + 2^-11 is halfway between 1 and 1 + 2^-10: even (1).
  ATTN_CHECK(floatToF16(1.0f + 0x1p-11f) == 0x3c00);
  ATTN_CHECK(floatToF16(1.0f + 3 * 0x1p-11f) == 0x3c02);
  // Subnormals: 2^-24 is the smallest; 2^-25 ties to even (0); 3 * 2^-25
  // is 1.5 units and ties to even (2); 2^-14 - 2^-24 is the largest.
  ATTN_CHECK(floatToF16(0x1p-24f) == 0x0001);
  ATTN_CHECK(floatToF16(0x1p-25f) == 0x0000);
  ATTN_CHECK(floatToF16(3 * 0x1p-25f) == 0x0002);
  ATTN_CHECK(floatToF16(0x1p-14f - 0x1p-24f) == 0x03ff);
  ATTN_CHECK(floatToF16(0x1p-14f) == 0x0400);
  ATTN_CHECK(floatToF16(0x1p-30f) == 0x0000);
  ATTN_CHECK(std::isnan(f16ToFloat(floatToF16(NAN))));
  ATTN_CHECK(f16ToFloat(0x0001) == 0x1p-24f);
  ATTN_CHECK(f16ToFloat(0x7c00) == inf);
  int mismatches = 0;
  for (uint32_t bits = 0; bits < 0x10000; ++bits) {
    float value = f16ToFloat(static_cast<uint16_t>(bits));
    if (!std::isnan(value) && floatToF16(value) != bits)
      ++mismatches;
  }
  ATTN_CHECK_MSG(mismatches == 0, std::to_string(mismatches));
}

void testElementAccess() {
  unsigned char buffer[16] = {};
  for (DType dtype : {DType::F32, DType::F16, DType::BF16, DType::F64,
                      DType::I8, DType::I32, DType::I64}) {
    storeElement(dtype, buffer, 1, -3.0);
    ATTN_CHECK_MSG(loadElement(dtype, buffer, 1) == -3.0, dtypeName(dtype));
  }
  storeElement(DType::I1, buffer, 3, 5.0);
  ATTN_CHECK(buffer[3] == 1 && loadElement(DType::I1, buffer, 3) == 1.0);
  storeElement(DType::BF16, buffer, 0, 1.0 + 0x1p-8);
  ATTN_CHECK(loadElement(DType::BF16, buffer, 0) == 1.0);
  // Integers saturate rather than wrap.
  storeElement(DType::I8, buffer, 0, 1000);
  ATTN_CHECK(loadElement(DType::I8, buffer, 0) == 127);
  // All-ones bytes, the poison pattern, read as NaN for every float dtype.
  std::memset(buffer, 0xFF, sizeof(buffer));
  for (DType dtype : {DType::F32, DType::F16, DType::BF16, DType::F64})
    ATTN_CHECK_MSG(std::isnan(loadElement(dtype, buffer, 0)), dtypeName(dtype));
}

//===----------------------------------------------------------------------===//
// Function specs
//===----------------------------------------------------------------------===//

const char *const attentionFunction = R"({
  "name": "attention",
  "op": {"name": "attn.attention",
         "attributes": {"scale": 0.125, "causal": true, "window": [4, 0],
                        "softcap": null}},
  "args": [
    {"name": "arg0", "role": "input", "operand": "query", "dtype": "bf16",
     "shape": [1, 2, 3, 4]},
    {"name": "result0", "role": "output", "operand": "output",
     "dtype": "bf16", "shape": [1, 2, 3, 4]}],
  "temps": [{"bytes": 4096}],
  "launches": [{"binary": "kernels", "kernel": "f_kernel", "grid": [4, 1, 1],
                "block": [128, 1, 1], "shared_bytes": 0,
                "args": [{"kind": "arg", "index": 0},
                         {"kind": "temp", "index": 0},
                         {"kind": "i64", "value": 5},
                         {"kind": "i32", "value": 1},
                         {"kind": "f32", "value": 1.5}]}]
})";

void testFunctionSpecParses() {
  JsonValue json;
  std::string error;
  FunctionSpec spec;
  if (!ATTN_CHECK_MSG(parseJson(attentionFunction, json, error), error) ||
      !ATTN_CHECK_MSG(parseFunctionSpec(json, spec, error), error))
    return;
  ATTN_CHECK(spec.name == "attention");
  ATTN_CHECK(spec.op && spec.op->name == "attn.attention");
  ATTN_CHECK(spec.args.size() == 2 && spec.args[0].dtype == DType::BF16);
  ATTN_CHECK(spec.args[0].numElements() == 24 && spec.args[0].bytes() == 48);
  ATTN_CHECK(spec.args[0].typeString() == "1x2x3x4 bf16");
  ATTN_CHECK(spec.findOperand("output", TensorRole::Output) == 1);
  ATTN_CHECK(spec.findOperand("key", TensorRole::Input) == -1);
  ATTN_CHECK(spec.tempBytes.size() == 1 && spec.tempBytes[0] == 4096);
  if (ATTN_CHECK(spec.launches.size() == 1)) {
    const LaunchSpec &launch = spec.launches[0];
    ATTN_CHECK(launch.grid[0] == 4 && launch.block[0] == 128);
    ATTN_CHECK(launch.args.size() == 5 &&
               launch.args[2].kind == LaunchArg::Kind::I64 &&
               launch.args[2].intValue == 5 &&
               launch.args[4].floatValue == 1.5);
  }
  // Written back and parsed again, it is the same spec.
  FunctionSpec again;
  ATTN_CHECK_MSG(parseFunctionSpec(functionSpecToJson(spec), again, error),
                 error);
  ATTN_CHECK(writeJson(functionSpecToJson(again), 0) ==
             writeJson(functionSpecToJson(spec), 0));

  TensorSpec scalar;
  scalar.dtype = DType::F32;
  ATTN_CHECK(scalar.numElements() == 1 && scalar.typeString() == "f32");
}

void testFunctionSpecErrors() {
  struct Case {
    std::string from, to, expected;
  } cases[] = {
      {"\"bf16\", \"shape\": [1, 2, 3, 4]}",
       "\"bf8\", \"shape\": [1, 2, 3, 4]}",
       "function.args[1].dtype: unknown dtype \"bf8\""},
      {"\"role\": \"output\"", "\"role\": \"out\"",
       "function.args[1].role: unknown role \"out\""},
      {"[1, 2, 3, 4]}", "[1, -2, 3, 4]}",
       "function.args[0].shape[1]: expected a non-negative integer, found -2"},
      {"\"grid\": [4, 1, 1]", "\"grid\": [4, 1]",
       "function.launches[0].grid: expected 3 positive integers, found 2"},
      {"\"grid\": [4, 1, 1]", "\"grid\": [0, 1, 1]",
       "function.launches[0].grid[0]: expected a positive integer, found 0"},
      {"\"block\": [128, 1, 1]", "\"block\": [128, 16, 1]",
       "a block of 2048 threads exceeds the limit of 1024"},
      {"{\"kind\": \"temp\", \"index\": 0}",
       "{\"kind\": \"temp\", \"index\": 1}",
       "function.launches[0].args[1].index: no temporary with index 1"},
      {"{\"kind\": \"arg\", \"index\": 0}", "{\"kind\": \"arg\", \"index\": 2}",
       "no argument with index 2 (the function has 2)"},
      {"{\"kind\": \"i32\", \"value\": 1}",
       "{\"kind\": \"i32\", \"value\": 4294967296}", "out of range"},
      {"{\"kind\": \"i64\", \"value\": 5}", "{\"kind\": \"ptr\", \"value\": 5}",
       "unknown launch argument kind \"ptr\""},
      {"\"name\": \"arg0\", \"role\": \"input\"",
       "\"name\": \"arg0\", \"role\": \"input\", \"dtype\": 3, \"x\": 0",
       "duplicate member \"dtype\""},
  };
  for (const Case &c : cases) {
    std::string text = attentionFunction;
    size_t at = text.find(c.from);
    if (!ATTN_CHECK_MSG(at != std::string::npos, c.from))
      continue;
    text.replace(at, c.from.size(), c.to);
    JsonValue json;
    std::string error;
    FunctionSpec spec;
    bool ok =
        parseJson(text, json, error) && parseFunctionSpec(json, spec, error);
    ATTN_CHECK_MSG(!ok && contains(error, c.expected),
                   "expected \"" + c.expected + "\", got \"" + error + "\"");
    // Errors point at a line and column of the text.
    ATTN_CHECK_MSG(!error.empty() && error[0] >= '1' && error[0] <= '9', error);
  }
  // An input after an output.
  JsonValue json;
  std::string error;
  FunctionSpec spec;
  ATTN_CHECK(parseJson(R"({"name": "f", "args": [
      {"name": "r", "role": "output", "dtype": "f32", "shape": []},
      {"name": "a", "role": "input", "dtype": "f32", "shape": []}]})",
                       json, error));
  ATTN_CHECK(!parseFunctionSpec(json, spec, error) &&
             contains(error, "3:7: function.args[1]: input \"a\" follows an "
                             "output"));
}

void testMedian() {
  std::vector<double> odd = {5, 1, 3};
  ATTN_CHECK(medianOf(odd) == 3);
  std::vector<double> even = {4, 1, 3, 2};
  ATTN_CHECK(medianOf(even) == 2.5);
  std::vector<double> none;
  ATTN_CHECK(medianOf(none) == 0);
}

//===----------------------------------------------------------------------===//
// Failures are error returns
//===----------------------------------------------------------------------===//

/// A package of one softmax function on the fake driver's softmax_rows
/// kernel, which takes (pointer, pointer, i64, i32).
const char *const softmaxManifest = R"({
  "format": "attn-kernel-package", "version": 1, "chip": "sm_90a",
  "binaries": [{"name": "kernels", "cubin": "k.cubin"}],
  "kernels": [{"binary": "kernels", "name": "softmax_rows"}],
  "functions": [{"name": "softmax",
    "op": {"name": "attn.softmax", "attributes": {"dim": 2}},
    "args": [
      {"name": "arg0", "role": "input", "operand": "input", "dtype": "f32",
       "shape": [3, 5, 33]},
      {"name": "result0", "role": "output", "operand": "result",
       "dtype": "f32", "shape": [3, 5, 33]}],
    "temps": [],
    "launches": [{"binary": "kernels", "kernel": "softmax_rows",
      "grid": [1, 1, 1], "block": [128, 1, 1],
      "args": [{"kind": "arg", "index": 0}, {"kind": "arg", "index": 1},
               {"kind": "i64", "value": 15}, {"kind": "i32", "value": 33}]}]}]
})";

/// A fresh directory under the temporary directory, removed at the end.
class ScratchDirectory {
public:
  ScratchDirectory() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "attn-runtime-test-XXXXXX")
            .string();
    if (mkdtemp(pattern.data()))
      path = pattern;
  }
  ~ScratchDirectory() {
    std::error_code code;
    if (!path.empty())
      std::filesystem::remove_all(path, code);
  }
  /// A package directory `name` holding `manifest` (and nothing else).
  std::string package(const std::string &name, const std::string &manifest) {
    std::string directory = path + "/" + name;
    std::filesystem::create_directory(directory);
    std::ofstream(directory + "/manifest.json") << manifest;
    return directory;
  }
  std::string path;
};

/// `text` with its first `from` replaced by `to`.
std::string replaced(std::string text, const std::string &from,
                     const std::string &to) {
  size_t at = text.find(from);
  if (at != std::string::npos)
    text.replace(at, from.size(), to);
  return text;
}

/// Loads `directory` through the C++ API and the C ABI; both must fail with
/// an error that contains `expected`.
void expectLoadError(const std::string &directory,
                     const std::string &expected) {
  KernelPackage package;
  std::string error;
  bool loaded = loadKernelPackage(directory, package, error);
  ATTN_CHECK_MSG(!loaded && contains(error, expected),
                 "expected \"" + expected + "\", got \"" + error + "\"");
  AttnRuntime *runtime = attnRuntimeLoad(directory.c_str(), nullptr);
  std::string cError = attnRuntimeLastError();
  ATTN_CHECK_MSG(!runtime && contains(cError, expected),
                 "C ABI: expected \"" + expected + "\", got \"" + cError +
                     "\"");
  attnRuntimeDestroy(runtime);
}

void testUnreadableFilesAreErrors() {
  ScratchDirectory scratch;
  if (!ATTN_CHECK(!scratch.path.empty()))
    return;
  // The sound package loads (the fake driver ignores the cubin's bytes).
  std::string good = scratch.package("good", softmaxManifest);
  std::ofstream(good + "/k.cubin") << "not really a cubin";
  KernelPackage package;
  std::string error;
  ATTN_CHECK_MSG(loadKernelPackage(good, package, error), error);
  AttnRuntime *runtime = attnRuntimeLoad(good.c_str(), nullptr);
  ATTN_CHECK_MSG(runtime && attnRuntimeNumArgs(runtime) == 2,
                 attnRuntimeLastError());
  attnRuntimeDestroy(runtime);

  // A cubin that is a directory (chmod cannot make a file unreadable to
  // root; a directory is unreadable to everyone).
  std::string directory = scratch.package("cubin-directory", softmaxManifest);
  std::filesystem::create_directory(directory + "/k.cubin");
  expectLoadError(directory, "cannot read cubin " + directory +
                                 "/k.cubin: not a regular file");

  // A cubin whose read fails with an I/O error: /proc/self/mem is a regular
  // file that cannot be read at offset 0 (EIO). std::ifstream threw here.
  if (std::filesystem::exists("/proc/self/mem")) {
    std::string io = scratch.package("cubin-io-error", softmaxManifest);
    std::filesystem::create_symlink("/proc/self/mem", io + "/k.cubin");
    expectLoadError(io, "cannot read cubin " + io + "/k.cubin: read error: ");
  }

  // An empty (truncated to nothing) cubin, and one larger than any cubin
  // (a sparse file: no disk space used).
  std::string empty = scratch.package("cubin-empty", softmaxManifest);
  std::ofstream(empty + "/k.cubin").flush();
  expectLoadError(empty, "k.cubin: the file is empty");
  std::string huge = scratch.package("cubin-huge", softmaxManifest);
  std::ofstream(huge + "/k.cubin").flush();
  std::filesystem::resize_file(huge + "/k.cubin", maxCubinBytes + 1);
  expectLoadError(huge, "k.cubin: the file is larger than the limit of " +
                            std::to_string(maxCubinBytes) + " bytes");

  // A manifest that is a directory, and one too large to be a manifest.
  std::string manifestDirectory = scratch.path + "/manifest-directory";
  std::filesystem::create_directories(manifestDirectory + "/manifest.json");
  expectLoadError(manifestDirectory,
                  "manifest.json: cannot read the file: not a regular file");
  std::string hugeManifest = scratch.package("manifest-huge", "");
  std::filesystem::resize_file(hugeManifest + "/manifest.json",
                               maxJsonFileBytes + 1);
  expectLoadError(hugeManifest,
                  "manifest.json: cannot read the file: the file is larger");
}

void testHugeAndTruncatedManifestsAreErrors() {
  ScratchDirectory scratch;
  if (!ATTN_CHECK(!scratch.path.empty()))
    return;
  struct Case {
    std::string from, to, expected;
  } cases[] = {
      // Sizes that would exhaust memory if believed.
      {"\"shape\": [3, 5, 33]}", "\"shape\": [1073741824, 1073741824]}",
       "functions[0].args[0].shape: tensor is larger than 2^48 bytes"},
      {"\"temps\": []", "\"temps\": [{\"bytes\": 1152921504606846976}]",
       "functions[0].temps[0].bytes: value 1152921504606846976 is out of "
       "range"},
      {"\"shape\": [3, 5, 33]}", "\"shape\": [3, 5, 1e300]}",
       "functions[0].args[0].shape[2]: expected an integer, found 1e+300"},
      {"\"grid\": [1, 1, 1]", "\"grid\": [1, 1, 99999999999999999999]",
       "functions[0].launches[0].grid[2]: expected an integer"},
      // Truncated in the middle.
      {"\"temps\": []", "\"temps\": [", "expected a JSON value"},
  };
  int index = 0;
  for (const Case &c : cases) {
    std::string manifest = replaced(softmaxManifest, c.from, c.to);
    if (c.to == "\"temps\": [")
      manifest = manifest.substr(0, manifest.find(c.to) + c.to.size());
    std::string directory =
        scratch.package("case" + std::to_string(index++), manifest);
    std::ofstream(directory + "/k.cubin") << "cubin";
    expectLoadError(directory, c.expected);
  }
}

/// Runs `body` in a child process with `environment` set; returns what the
/// child wrote on stderr (the fake driver's log), and its exit status in
/// `status` (-1 when it did not exit normally).
template <typename Body>
std::string
inChild(const std::vector<std::pair<std::string, std::string>> &environment,
        int &status, Body body) {
  status = -1;
  std::fflush(stdout);
  std::FILE *log = std::tmpfile();
  if (!log)
    return "";
  pid_t child = fork();
  if (child == 0) {
    dup2(fileno(log), STDERR_FILENO);
    for (const auto &[name, value] : environment)
      setenv(name.c_str(), value.c_str(), 1);
    std::_Exit(body());
  }
  int waitStatus = 0;
  if (child > 0 && waitpid(child, &waitStatus, 0) == child &&
      WIFEXITED(waitStatus))
    status = WEXITSTATUS(waitStatus);
  std::string text;
  std::rewind(log);
  char buffer[4096];
  while (size_t got = std::fread(buffer, 1, sizeof(buffer), log))
    text.append(buffer, got);
  std::fclose(log);
  return text;
}

/// Loads the package at `directory` and prepares it through the C ABI on
/// the fake driver `library`, logging parameter queries. Returns the log;
/// `status` is attnRuntimePrepare's, and its message goes on the log.
std::string prepareOnFakeDriver(const std::string &library,
                                const std::string &directory, int &status) {
  return inChild(
      {{"ATTN_LIBCUDA", library}, {"FAKE_CUDA_LOG_PARAMS", "1"}}, status,
      [&]() {
        AttnRuntime *runtime = attnRuntimeLoad(directory.c_str(), nullptr);
        if (!runtime)
          return 100;
        int result = attnRuntimePrepare(runtime);
        std::fprintf(stderr, "prepare: %s\n", attnRuntimeLastError());
        attnRuntimeDestroy(runtime);
        return result;
      });
}

void testParameterChecksStayInRange() {
  ScratchDirectory scratch;
  if (!ATTN_CHECK(!scratch.path.empty()))
    return;
  std::string good = scratch.package("good", softmaxManifest);
  std::ofstream(good + "/k.cubin") << "cubin";
  // The launch passes one argument fewer, or one more, than the kernel
  // takes.
  std::string fewer = scratch.package(
      "fewer",
      replaced(softmaxManifest, ", {\"kind\": \"i32\", \"value\": 33}", ""));
  std::ofstream(fewer + "/k.cubin") << "cubin";
  std::string more = scratch.package(
      "more", replaced(softmaxManifest, "{\"kind\": \"i32\", \"value\": 33}",
                       "{\"kind\": \"i32\", \"value\": 33}, "
                       "{\"kind\": \"i32\", \"value\": 0}"));
  std::ofstream(more + "/k.cubin") << "cubin";
  const char *arity = "launch 0 (kernel softmax_rows, grid [1, 1, 1], block "
                      "[128, 1, 1]): the launch passes ";

  // A driver with cuFuncGetParamCount: every mismatch is found, and no
  // query goes past the kernel's last parameter.
  int status;
  std::string log = prepareOnFakeDriver(ATTN_FAKE_CUDA, good, status);
  ATTN_CHECK_MSG(status == ATTN_RUNTIME_OK, log);
  ATTN_CHECK_MSG(contains(log, "cuFuncGetParamCount(softmax_rows) -> 4") &&
                     contains(log, "cuFuncGetParamInfo(softmax_rows, 3)") &&
                     !contains(log, "past the last parameter"),
                 log);
  log = prepareOnFakeDriver(ATTN_FAKE_CUDA, fewer, status);
  ATTN_CHECK_MSG(status == ATTN_RUNTIME_CUDA_ERROR &&
                     contains(log, std::string(arity) +
                                       "3 arguments but the kernel takes 4") &&
                     !contains(log, "past the last parameter"),
                 log);
  log = prepareOnFakeDriver(ATTN_FAKE_CUDA, more, status);
  ATTN_CHECK_MSG(status == ATTN_RUNTIME_CUDA_ERROR &&
                     contains(log, std::string(arity) +
                                       "5 arguments but the kernel takes 4") &&
                     !contains(log, "past the last parameter"),
                 log);

  // CUDA 13.0's driver has no count: the queries stop at the launch's last
  // argument, so a correct launch makes no failing call.
  log = prepareOnFakeDriver(ATTN_FAKE_CUDA_13_0, good, status);
  ATTN_CHECK_MSG(status == ATTN_RUNTIME_OK &&
                     contains(log, "cuFuncGetParamInfo(softmax_rows, 3)") &&
                     !contains(log, "cuFuncGetParamCount") &&
                     !contains(log, "past the last parameter"),
                 log);
  // A kernel with fewer parameters than the launch passes is found (by
  // the one failing query); one with more goes unnoticed (see
  // DeviceFunction::checkParameters).
  log = prepareOnFakeDriver(ATTN_FAKE_CUDA_13_0, more, status);
  ATTN_CHECK_MSG(status == ATTN_RUNTIME_CUDA_ERROR &&
                     contains(log, std::string(arity) +
                                       "5 arguments but the kernel takes 4"),
                 log);
  log = prepareOnFakeDriver(ATTN_FAKE_CUDA_13_0, fewer, status);
  ATTN_CHECK_MSG(status == ATTN_RUNTIME_OK &&
                     contains(log, "cuFuncGetParamInfo(softmax_rows, 2)") &&
                     !contains(log, "past the last parameter"),
                 log);

  // A driver call that fails is an error return with the call's name.
  log = inChild({{"ATTN_LIBCUDA", ATTN_FAKE_CUDA},
                 {"FAKE_CUDA_FAIL", "cuFuncGetParamCount"}},
                status, [&]() {
                  AttnRuntime *runtime = attnRuntimeLoad(good.c_str(), "");
                  int result = runtime ? attnRuntimePrepare(runtime) : 100;
                  std::fprintf(stderr, "prepare: %s\n", attnRuntimeLastError());
                  attnRuntimeDestroy(runtime);
                  return result;
                });
  ATTN_CHECK_MSG(status == ATTN_RUNTIME_CUDA_ERROR &&
                     contains(log, "cuFuncGetParamCount failed: "
                                   "CUDA_ERROR_UNKNOWN"),
                 log);
}

} // namespace

int main() {
  testJsonParsesEveryKind();
  testJsonIntegersAreExact();
  testJsonErrorsCarryLineAndColumn();
  testJsonWriterRoundTrips();
  testBF16Conversion();
  testF16Conversion();
  testElementAccess();
  testFunctionSpecParses();
  testFunctionSpecErrors();
  testMedian();
  testUnreadableFilesAreErrors();
  testHugeAndTruncatedManifestsAreErrors();
  testParameterChecksStayInRange();
  return attn::test::reportChecks();
}
