//===- FunctionSpec.cpp - Function descriptions and dtype conversions -----===//

#include "attn/Runtime/FunctionSpec.h"

#include "JsonFields.h"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <cstring>
#include <limits>

using namespace attn::runtime;
using namespace attn::runtime::detail;

//===----------------------------------------------------------------------===//
// DType
//===----------------------------------------------------------------------===//

namespace {
struct DTypeInfo {
  DType dtype;
  const char *name;
  size_t bytes;
};
} // namespace

static const DTypeInfo dtypeTable[] = {
    {DType::F32, "f32", 4}, {DType::F16, "f16", 2}, {DType::BF16, "bf16", 2},
    {DType::F64, "f64", 8}, {DType::I1, "i1", 1},   {DType::I8, "i8", 1},
    {DType::I32, "i32", 4}, {DType::I64, "i64", 8},
};

bool attn::runtime::parseDType(const std::string &name, DType &dtype) {
  for (const DTypeInfo &info : dtypeTable) {
    if (name == info.name) {
      dtype = info.dtype;
      return true;
    }
  }
  return false;
}

const char *attn::runtime::dtypeName(DType dtype) {
  for (const DTypeInfo &info : dtypeTable)
    if (info.dtype == dtype)
      return info.name;
  return "?";
}

size_t attn::runtime::dtypeBytes(DType dtype) {
  for (const DTypeInfo &info : dtypeTable)
    if (info.dtype == dtype)
      return info.bytes;
  return 0;
}

bool attn::runtime::isFloatDType(DType dtype) {
  return dtype == DType::F32 || dtype == DType::F16 || dtype == DType::BF16 ||
         dtype == DType::F64;
}

//===----------------------------------------------------------------------===//
// TensorSpec and FunctionSpec
//===----------------------------------------------------------------------===//

int64_t TensorSpec::numElements() const {
  int64_t count = 1;
  for (int64_t dim : shape)
    count *= dim;
  return count;
}

size_t TensorSpec::bytes() const {
  return static_cast<size_t>(numElements()) * dtypeBytes(dtype);
}

std::string TensorSpec::typeString() const {
  std::string text;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      text += 'x';
    text += std::to_string(shape[i]);
  }
  if (!text.empty())
    text += ' ';
  return text + dtypeName(dtype);
}

int FunctionSpec::findOperand(const std::string &operand,
                              TensorRole role) const {
  for (size_t i = 0; i < args.size(); ++i)
    if (args[i].role == role && args[i].operand == operand)
      return static_cast<int>(i);
  return -1;
}

//===----------------------------------------------------------------------===//
// Parsing
//===----------------------------------------------------------------------===//

/// Largest tensor or temporary we accept: 2^48 bytes is far beyond any
/// device, and keeps every size computation clear of int64 overflow.
static constexpr int64_t maxBufferBytes = int64_t(1) << 48;

static bool parseTensorSpec(const JsonValue &json, const std::string &path,
                            TensorSpec &tensor, std::string &error) {
  if (!expectObject(json, path, error) ||
      !readString(json, path, "name", tensor.name, error))
    return false;

  std::string role;
  if (!readString(json, path, "role", role, error))
    return false;
  if (role == "input")
    tensor.role = TensorRole::Input;
  else if (role == "output")
    tensor.role = TensorRole::Output;
  else
    return failAt(*json.find("role"), memberPath(path, "role"),
                  "unknown role \"" + role +
                      "\" (expected \"input\" or \"output\")",
                  error);

  // The operand is absent or null for functions that are not one attn op.
  tensor.operand.clear();
  if (const JsonValue *operand = json.find("operand");
      operand && !operand->isNull()) {
    if (!operand->isString())
      return failAt(*operand, memberPath(path, "operand"),
                    "expected a string or null", error);
    tensor.operand = operand->getString();
  }

  std::string dtype;
  if (!readString(json, path, "dtype", dtype, error))
    return false;
  if (!parseDType(dtype, tensor.dtype))
    return failAt(*json.find("dtype"), memberPath(path, "dtype"),
                  "unknown dtype \"" + dtype +
                      "\" (expected one of f32, f16, bf16, f64, i1, i8, "
                      "i32, i64)",
                  error);

  const JsonValue *shape = readArray(json, path, "shape", error);
  if (!shape)
    return false;
  tensor.shape.clear();
  int64_t bytes = static_cast<int64_t>(dtypeBytes(tensor.dtype));
  for (size_t i = 0; i < shape->getArray().size(); ++i) {
    int64_t dim;
    if (!checkInteger(shape->getArray()[i],
                      elementPath(memberPath(path, "shape"), i), 0,
                      maxBufferBytes, dim, error))
      return false;
    tensor.shape.push_back(dim);
    if (dim != 0 && bytes > maxBufferBytes / dim)
      return failAt(*shape, memberPath(path, "shape"),
                    "tensor is larger than 2^48 bytes", error);
    bytes *= dim;
  }
  return true;
}

/// The "index" of an "arg" (`isArg`) or "temp" reference at `path`.
static bool parseBufferIndex(const JsonValue &json, const std::string &path,
                             const FunctionSpec &spec, bool isArg,
                             int64_t &result, std::string &error) {
  size_t count = isArg ? spec.args.size() : spec.tempBytes.size();
  const JsonValue *index = requireMember(json, path, "index", error);
  if (!index)
    return false;
  if (!index->isInteger() || index->getInteger() < 0 ||
      static_cast<uint64_t>(index->getInteger()) >= count)
    return failAt(*index, memberPath(path, "index"),
                  std::string("no ") + (isArg ? "argument" : "temporary") +
                      " with index " + writeJson(*index, 0) + " (the " +
                      "function has " + std::to_string(count) + ")",
                  error);
  result = index->getInteger();
  return true;
}

/// Reads "name": one of `allowed`.
static bool readChoice(const JsonValue &json, const std::string &path,
                       const char *name, std::initializer_list<int64_t> allowed,
                       int64_t &value, std::string &error) {
  if (!readInteger(json, path, name, value, error, 0, 1 << 20))
    return false;
  if (std::find(allowed.begin(), allowed.end(), value) != allowed.end())
    return true;
  std::string list;
  for (int64_t a : allowed)
    list += (list.empty() ? "" : ", ") + std::to_string(a);
  return failAt(*json.find(name), memberPath(path, name),
                "must be one of " + list, error);
}

/// A "tensor_map" launch argument: checks what cuTensorMapEncodeTiled
/// requires of the description, so that a bad manifest fails at load.
static bool parseTensorMap(const JsonValue &json, const std::string &path,
                           const FunctionSpec &spec, TensorMapSpec &map,
                           std::string &error) {
  const JsonValue *buffer = requireMember(json, path, "buffer", error);
  std::string bufferPath = memberPath(path, "buffer"), bufferKind, dtype;
  if (!buffer || !expectObject(*buffer, bufferPath, error) ||
      !readString(*buffer, bufferPath, "kind", bufferKind, error))
    return false;
  if (bufferKind != "arg" && bufferKind != "temp")
    return failAt(*buffer->find("kind"), memberPath(bufferPath, "kind"),
                  "a tensor map's buffer is an \"arg\" or a \"temp\"",
                  error);
  map.inArg = bufferKind == "arg";
  if (!parseBufferIndex(*buffer, bufferPath, spec, map.inArg, map.index,
                        error) ||
      !readString(json, path, "dtype", dtype, error))
    return false;
  if (!parseDType(dtype, map.dtype) ||
      (map.dtype != DType::BF16 && map.dtype != DType::F16 &&
       map.dtype != DType::F32))
    return failAt(*json.find("dtype"), memberPath(path, "dtype"),
                  "a tensor map's dtype is bf16, f16 or f32", error);
  int64_t element = static_cast<int64_t>(dtypeBytes(map.dtype));
  auto readDims = [&](const char *name, int64_t max,
                      std::vector<int64_t> &dims) {
    const JsonValue *array = readArray(json, path, name, error);
    if (!array)
      return false;
    dims.clear();
    for (size_t i = 0; i < array->getArray().size(); ++i) {
      int64_t d;
      if (!checkInteger(array->getArray()[i],
                        elementPath(memberPath(path, name), i), 1, max, d,
                        error))
        return false;
      dims.push_back(d);
    }
    if (dims.empty() || dims.size() > 5)
      return failAt(*array, memberPath(path, name),
                    "a tensor map has rank 1 to 5", error);
    return true;
  };
  if (!readDims("shape", int64_t(1) << 32, map.shape) ||
      !readDims("box", 256, map.box))
    return false;
  if (map.shape.size() != map.box.size())
    return failAt(*json.find("box"), memberPath(path, "box"),
                  "has rank " + std::to_string(map.box.size()) +
                      " but the shape has rank " +
                      std::to_string(map.shape.size()),
                  error);
  if (!readChoice(json, path, "swizzle", {0, 32, 64, 128}, map.swizzle,
                  error) ||
      !readChoice(json, path, "l2_promotion", {0, 64, 128, 256},
                  map.l2Promotion, error))
    return false;
  // Strides (every dim but the innermost) are multiples of 16 bytes; the
  // box's rows are whole 16-byte units and fit the swizzle span.
  int64_t innerBytes = map.shape.back() * element;
  int64_t boxBytes = map.box.back() * element;
  if (map.shape.size() > 1 && innerBytes % 16 != 0)
    return failAt(*json.find("shape"), memberPath(path, "shape"),
                  "rows of " + std::to_string(innerBytes) +
                      " bytes are not a multiple of 16 (TMA's stride unit)",
                  error);
  if (boxBytes % 16 != 0 || (map.swizzle != 0 && boxBytes > map.swizzle))
    return failAt(*json.find("box"), memberPath(path, "box"),
                  "box rows of " + std::to_string(boxBytes) +
                      " bytes must be a multiple of 16 and, swizzled, at "
                      "most the swizzle span",
                  error);
  int64_t bytes = element;
  for (int64_t d : map.shape) {
    if (bytes > maxBufferBytes / d)
      return failAt(*json.find("shape"), memberPath(path, "shape"),
                    "tensor map is larger than 2^48 bytes", error);
    bytes *= d;
  }
  int64_t available =
      map.inArg ? spec.args[map.index].bytes() : spec.tempBytes[map.index];
  if (bytes > available)
    return failAt(*json.find("shape"), memberPath(path, "shape"),
                  "describes " + std::to_string(bytes) +
                      " bytes but its buffer has " + std::to_string(available),
                  error);
  return true;
}

static bool parseLaunchArg(const JsonValue &json, const std::string &path,
                           const FunctionSpec &spec, LaunchArg &arg,
                           std::string &error) {
  std::string kind;
  if (!expectObject(json, path, error) ||
      !readString(json, path, "kind", kind, error))
    return false;
  if (kind == "arg" || kind == "temp") {
    bool isArg = kind == "arg";
    arg.kind = isArg ? LaunchArg::Kind::Arg : LaunchArg::Kind::Temp;
    return parseBufferIndex(json, path, spec, isArg, arg.index, error);
  }
  if (kind == "tensor_map") {
    arg.kind = LaunchArg::Kind::TensorMap;
    return parseTensorMap(json, path, spec, arg.tensorMap, error);
  }
  if (kind == "i64" || kind == "i32") {
    bool is64 = kind == "i64";
    arg.kind = is64 ? LaunchArg::Kind::I64 : LaunchArg::Kind::I32;
    return readInteger(json, path, "value", arg.intValue, error,
                       is64 ? std::numeric_limits<int64_t>::min()
                            : std::numeric_limits<int32_t>::min(),
                       is64 ? std::numeric_limits<int64_t>::max()
                            : std::numeric_limits<int32_t>::max());
  }
  if (kind == "f32" || kind == "f64") {
    arg.kind = kind == "f64" ? LaunchArg::Kind::F64 : LaunchArg::Kind::F32;
    const JsonValue *value = requireMember(json, path, "value", error);
    if (!value)
      return false;
    if (!value->isNumber())
      return failAt(*value, memberPath(path, "value"),
                    std::string("expected a number, found ") +
                        JsonValue::kindName(value->kind()),
                    error);
    arg.floatValue = value->getNumber();
    return true;
  }
  return failAt(*json.find("kind"), memberPath(path, "kind"),
                "unknown launch argument kind \"" + kind +
                    "\" (expected arg, temp, i64, i32, f32 or f64)",
                error);
}

/// Reads a member that must be an array of 3 positive integers, each at most
/// the matching entry of `limits`.
static bool readDim3(const JsonValue &json, const std::string &path,
                     const std::string &key,
                     const std::array<int64_t, 3> &limits,
                     std::array<uint32_t, 3> &out, std::string &error) {
  const JsonValue *dims = readArray(json, path, key, error);
  if (!dims)
    return false;
  std::string dimsPath = memberPath(path, key);
  if (dims->getArray().size() != 3)
    return failAt(*dims, dimsPath,
                  "expected 3 positive integers, found " +
                      std::to_string(dims->getArray().size()) + " elements",
                  error);
  for (size_t i = 0; i < 3; ++i) {
    int64_t value;
    if (!checkInteger(dims->getArray()[i], elementPath(dimsPath, i), 1,
                      limits[i], value, error))
      return false;
    out[i] = static_cast<uint32_t>(value);
  }
  return true;
}

static bool parseLaunchSpec(const JsonValue &json, const std::string &path,
                            const FunctionSpec &spec, LaunchSpec &launch,
                            std::string &error) {
  if (!expectObject(json, path, error) ||
      !readString(json, path, "binary", launch.binary, error) ||
      !readString(json, path, "kernel", launch.kernel, error))
    return false;
  // CUDA's limits on grid and block dimensions (all current GPUs).
  if (!readDim3(json, path, "grid", {2147483647, 65535, 65535}, launch.grid,
                error) ||
      !readDim3(json, path, "block", {1024, 1024, 64}, launch.block, error))
    return false;
  uint64_t threads =
      uint64_t(launch.block[0]) * launch.block[1] * launch.block[2];
  if (threads > 1024)
    return failAt(*json.find("block"), memberPath(path, "block"),
                  "a block of " + std::to_string(threads) +
                      " threads exceeds the limit of 1024",
                  error);
  launch.sharedBytes = 0;
  if (const JsonValue *shared = json.find("shared_bytes")) {
    int64_t bytes;
    if (!checkInteger(*shared, memberPath(path, "shared_bytes"), 0,
                      int64_t(1) << 31, bytes, error))
      return false;
    launch.sharedBytes = static_cast<uint32_t>(bytes);
  }
  const JsonValue *args = readArray(json, path, "args", error);
  if (!args)
    return false;
  launch.args.clear();
  for (size_t i = 0; i < args->getArray().size(); ++i) {
    LaunchArg arg;
    if (!parseLaunchArg(args->getArray()[i],
                        elementPath(memberPath(path, "args"), i), spec, arg,
                        error))
      return false;
    launch.args.push_back(arg);
  }
  return true;
}

static bool parseOpSpec(const JsonValue &json, const std::string &path,
                        OpSpec &op, std::string &error) {
  if (!expectObject(json, path, error) ||
      !readString(json, path, "name", op.name, error))
    return false;
  op.attributes = JsonValue::object();
  if (const JsonValue *attributes = json.find("attributes");
      attributes && !attributes->isNull()) {
    if (!expectObject(*attributes, memberPath(path, "attributes"), error))
      return false;
    op.attributes = *attributes;
  }
  return true;
}

bool attn::runtime::parseFunctionSpec(const JsonValue &json, FunctionSpec &spec,
                                      std::string &error,
                                      const std::string &jsonPath) {
  spec = FunctionSpec();
  if (!expectObject(json, jsonPath, error) ||
      !readString(json, jsonPath, "name", spec.name, error))
    return false;

  if (const JsonValue *op = json.find("op"); op && !op->isNull()) {
    OpSpec opSpec;
    if (!parseOpSpec(*op, memberPath(jsonPath, "op"), opSpec, error))
      return false;
    spec.op = std::move(opSpec);
  }

  const JsonValue *args = readArray(json, jsonPath, "args", error);
  if (!args)
    return false;
  std::string argsPath = memberPath(jsonPath, "args");
  for (size_t i = 0; i < args->getArray().size(); ++i) {
    const JsonValue &argJson = args->getArray()[i];
    TensorSpec tensor;
    if (!parseTensorSpec(argJson, elementPath(argsPath, i), tensor, error))
      return false;
    if (tensor.role == TensorRole::Input && !spec.args.empty() &&
        spec.args.back().role == TensorRole::Output)
      return failAt(argJson, elementPath(argsPath, i),
                    "input \"" + tensor.name +
                        "\" follows an output; inputs must come first",
                    error);
    for (const TensorSpec &other : spec.args)
      if (other.name == tensor.name)
        return failAt(argJson, elementPath(argsPath, i),
                      "duplicate argument name \"" + tensor.name + "\"", error);
    spec.args.push_back(std::move(tensor));
  }

  if (const JsonValue *temps = json.find("temps"); temps && !temps->isNull()) {
    std::string tempsPath = memberPath(jsonPath, "temps");
    if (!temps->isArray())
      return failAt(*temps, tempsPath, "expected an array", error);
    for (size_t i = 0; i < temps->getArray().size(); ++i) {
      const JsonValue &temp = temps->getArray()[i];
      int64_t bytes;
      if (!expectObject(temp, elementPath(tempsPath, i), error) ||
          !readInteger(temp, elementPath(tempsPath, i), "bytes", bytes, error,
                       0, maxBufferBytes))
        return false;
      spec.tempBytes.push_back(bytes);
    }
  }

  if (const JsonValue *launches = json.find("launches");
      launches && !launches->isNull()) {
    std::string launchesPath = memberPath(jsonPath, "launches");
    if (!launches->isArray())
      return failAt(*launches, launchesPath, "expected an array", error);
    for (size_t i = 0; i < launches->getArray().size(); ++i) {
      LaunchSpec launch;
      if (!parseLaunchSpec(launches->getArray()[i],
                           elementPath(launchesPath, i), spec, launch, error))
        return false;
      spec.launches.push_back(std::move(launch));
    }
  }
  return true;
}

//===----------------------------------------------------------------------===//
// Writing
//===----------------------------------------------------------------------===//

static const char *launchArgKindName(LaunchArg::Kind kind) {
  switch (kind) {
  case LaunchArg::Kind::Arg:
    return "arg";
  case LaunchArg::Kind::Temp:
    return "temp";
  case LaunchArg::Kind::I64:
    return "i64";
  case LaunchArg::Kind::I32:
    return "i32";
  case LaunchArg::Kind::F32:
    return "f32";
  case LaunchArg::Kind::F64:
    return "f64";
  case LaunchArg::Kind::TensorMap:
    return "tensor_map";
  }
  return "?";
}

static JsonValue dim3ToJson(const std::array<uint32_t, 3> &dims) {
  return JsonValue::array({JsonValue::integer(dims[0]),
                           JsonValue::integer(dims[1]),
                           JsonValue::integer(dims[2])});
}

JsonValue attn::runtime::functionSpecToJson(const FunctionSpec &spec) {
  JsonValue json = JsonValue::object();
  json.set("name", JsonValue::string(spec.name));
  if (spec.op) {
    JsonValue op = JsonValue::object();
    op.set("name", JsonValue::string(spec.op->name));
    op.set("attributes", spec.op->attributes);
    json.set("op", std::move(op));
  } else {
    json.set("op", JsonValue::null());
  }

  JsonValue args = JsonValue::array();
  for (const TensorSpec &tensor : spec.args) {
    JsonValue arg = JsonValue::object();
    arg.set("name", JsonValue::string(tensor.name));
    arg.set("role", JsonValue::string(
                        tensor.role == TensorRole::Input ? "input" : "output"));
    arg.set("operand", tensor.operand.empty()
                           ? JsonValue::null()
                           : JsonValue::string(tensor.operand));
    arg.set("dtype", JsonValue::string(dtypeName(tensor.dtype)));
    JsonValue shape = JsonValue::array();
    for (int64_t dim : tensor.shape)
      shape.push(JsonValue::integer(dim));
    arg.set("shape", std::move(shape));
    args.push(std::move(arg));
  }
  json.set("args", std::move(args));

  JsonValue temps = JsonValue::array();
  for (int64_t bytes : spec.tempBytes)
    temps.push(JsonValue::object({{"bytes", JsonValue::integer(bytes)}}));
  json.set("temps", std::move(temps));

  JsonValue launches = JsonValue::array();
  for (const LaunchSpec &launch : spec.launches) {
    JsonValue launchJson = JsonValue::object();
    launchJson.set("binary", JsonValue::string(launch.binary));
    launchJson.set("kernel", JsonValue::string(launch.kernel));
    launchJson.set("grid", dim3ToJson(launch.grid));
    launchJson.set("block", dim3ToJson(launch.block));
    launchJson.set("shared_bytes", JsonValue::integer(launch.sharedBytes));
    JsonValue launchArgs = JsonValue::array();
    for (const LaunchArg &arg : launch.args) {
      JsonValue argJson = JsonValue::object();
      argJson.set("kind", JsonValue::string(launchArgKindName(arg.kind)));
      switch (arg.kind) {
      case LaunchArg::Kind::Arg:
      case LaunchArg::Kind::Temp:
        argJson.set("index", JsonValue::integer(arg.index));
        break;
      case LaunchArg::Kind::I64:
      case LaunchArg::Kind::I32:
        argJson.set("value", JsonValue::integer(arg.intValue));
        break;
      case LaunchArg::Kind::F32:
      case LaunchArg::Kind::F64:
        argJson.set("value", JsonValue::number(arg.floatValue));
        break;
      case LaunchArg::Kind::TensorMap: {
        const TensorMapSpec &map = arg.tensorMap;
        auto dims = [](const std::vector<int64_t> &values) {
          JsonValue array = JsonValue::array();
          for (int64_t v : values)
            array.push(JsonValue::integer(v));
          return array;
        };
        argJson.set("buffer",
                    JsonValue::object(
                        {{"kind", JsonValue::string(map.inArg ? "arg" : "temp")},
                         {"index", JsonValue::integer(map.index)}}));
        argJson.set("dtype", JsonValue::string(dtypeName(map.dtype)));
        argJson.set("shape", dims(map.shape));
        argJson.set("box", dims(map.box));
        argJson.set("swizzle", JsonValue::integer(map.swizzle));
        argJson.set("l2_promotion", JsonValue::integer(map.l2Promotion));
        break;
      }
      }
      launchArgs.push(std::move(argJson));
    }
    launchJson.set("args", std::move(launchArgs));
    launches.push(std::move(launchJson));
  }
  json.set("launches", std::move(launches));
  return json;
}

//===----------------------------------------------------------------------===//
// Element conversions
//===----------------------------------------------------------------------===//

static uint32_t floatBits(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  return bits;
}

static float bitsToFloat(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}

float attn::runtime::bf16ToFloat(uint16_t bits) {
  return bitsToFloat(uint32_t(bits) << 16);
}

uint16_t attn::runtime::floatToBF16(float value) {
  uint32_t bits = floatBits(value);
  if ((bits & 0x7fffffffu) > 0x7f800000u) // NaN: truncate, force quiet.
    return static_cast<uint16_t>((bits >> 16) | 0x0040u);
  // Round to nearest even: add just under half an ulp, plus one if the kept
  // part is odd. A carry into the exponent is correct (and gives infinity on
  // overflow).
  uint32_t roundingBias = 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>((bits + roundingBias) >> 16);
}

float attn::runtime::f16ToFloat(uint16_t bits) {
  uint32_t sign = uint32_t(bits & 0x8000u) << 16;
  uint32_t exponent = (bits >> 10) & 0x1fu;
  uint32_t mantissa = bits & 0x3ffu;
  if (exponent == 0x1f) // Infinity or NaN.
    return bitsToFloat(sign | 0x7f800000u | (mantissa << 13));
  if (exponent == 0) { // Zero or subnormal: mantissa * 2^-24.
    float magnitude = std::ldexp(static_cast<float>(mantissa), -24);
    return sign ? -magnitude : magnitude;
  }
  return bitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

uint16_t attn::runtime::floatToF16(float value) {
  uint32_t bits = floatBits(value);
  uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
  uint32_t magnitude = bits & 0x7fffffffu;
  if (magnitude > 0x7f800000u) // NaN: keep the top payload bits, quiet.
    return sign | 0x7e00u | static_cast<uint16_t>((magnitude >> 13) & 0x3ffu);
  // 65520 (0x477ff000) is halfway between the largest half, 65504, and 2^16;
  // it and everything above round to infinity.
  if (magnitude >= 0x477ff000u)
    return sign | 0x7c00u;
  if (magnitude >= 0x38800000u) { // Normal half (>= 2^-14).
    uint32_t exponent = (magnitude >> 23) - 112;
    uint32_t mantissa = magnitude & 0x7fffffu;
    uint32_t half = (exponent << 10) | (mantissa >> 13);
    uint32_t dropped = mantissa & 0x1fffu;
    if (dropped > 0x1000u || (dropped == 0x1000u && (half & 1u)))
      ++half; // May carry into the exponent, which is still correct.
    return sign | static_cast<uint16_t>(half);
  }
  // Subnormal half: the value in units of 2^-24 is
  // (mantissa | implicit bit) * 2^(exponent - 126); round the shift.
  uint32_t exponent = magnitude >> 23;
  if (exponent < 101) // Below 2^-25: rounds to zero.
    return sign;
  uint32_t mantissa = (magnitude & 0x7fffffu) | 0x800000u;
  uint32_t shift = 126 - exponent; // 14..25
  uint32_t half = mantissa >> shift;
  uint32_t dropped = mantissa & ((1u << shift) - 1);
  uint32_t halfway = 1u << (shift - 1);
  if (dropped > halfway || (dropped == halfway && (half & 1u)))
    ++half;
  return sign | static_cast<uint16_t>(half);
}

template <typename T> static T readAs(const void *data, int64_t index) {
  T value;
  std::memcpy(&value, static_cast<const char *>(data) + index * sizeof(T),
              sizeof(T));
  return value;
}

template <typename T> static void writeAs(void *data, int64_t index, T value) {
  std::memcpy(static_cast<char *>(data) + index * sizeof(T), &value, sizeof(T));
}

double attn::runtime::loadElement(DType dtype, const void *data,
                                  int64_t index) {
  switch (dtype) {
  case DType::F32:
    return readAs<float>(data, index);
  case DType::F16:
    return f16ToFloat(readAs<uint16_t>(data, index));
  case DType::BF16:
    return bf16ToFloat(readAs<uint16_t>(data, index));
  case DType::F64:
    return readAs<double>(data, index);
  case DType::I1:
    return readAs<uint8_t>(data, index) != 0 ? 1.0 : 0.0;
  case DType::I8:
    return readAs<int8_t>(data, index);
  case DType::I32:
    return readAs<int32_t>(data, index);
  case DType::I64:
    return static_cast<double>(readAs<int64_t>(data, index));
  }
  return 0;
}

/// Rounds `value` to an integer of type T, saturating (NaN gives 0).
template <typename T> static T toInteger(double value) {
  if (std::isnan(value))
    return 0;
  double rounded = std::nearbyint(value);
  if (rounded <= static_cast<double>(std::numeric_limits<T>::min()))
    return std::numeric_limits<T>::min();
  if (rounded >= static_cast<double>(std::numeric_limits<T>::max()))
    return std::numeric_limits<T>::max();
  return static_cast<T>(rounded);
}

void attn::runtime::storeElement(DType dtype, void *data, int64_t index,
                                 double value) {
  switch (dtype) {
  case DType::F32:
    writeAs<float>(data, index, static_cast<float>(value));
    return;
  case DType::F16:
    writeAs<uint16_t>(data, index, floatToF16(static_cast<float>(value)));
    return;
  case DType::BF16:
    writeAs<uint16_t>(data, index, floatToBF16(static_cast<float>(value)));
    return;
  case DType::F64:
    writeAs<double>(data, index, value);
    return;
  case DType::I1:
    writeAs<uint8_t>(data, index, value != 0 ? 1 : 0);
    return;
  case DType::I8:
    writeAs<int8_t>(data, index, toInteger<int8_t>(value));
    return;
  case DType::I32:
    writeAs<int32_t>(data, index, toInteger<int32_t>(value));
    return;
  case DType::I64:
    writeAs<int64_t>(data, index, toInteger<int64_t>(value));
    return;
  }
}

std::vector<double> attn::runtime::loadTensor(const TensorSpec &tensor,
                                              const void *data) {
  std::vector<double> values(static_cast<size_t>(tensor.numElements()));
  for (size_t i = 0; i < values.size(); ++i)
    values[i] = loadElement(tensor.dtype, data, static_cast<int64_t>(i));
  return values;
}
