//===- FunctionSpec.h - What a compiled function takes and runs -*- C++ -*-===//
//
// The description of one compiled function that the compiler writes into a
// kernel package manifest (and that the CPU path produces in memory): its
// arguments with dtypes and shapes, the attn op it implements (the reference
// needs it), and for GPU packages the temporary buffers and kernel launches.
// Also the element conversions between the stored dtypes and float64.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_RUNTIME_FUNCTIONSPEC_H
#define ATTN_RUNTIME_FUNCTIONSPEC_H

#include "attn/Runtime/Json.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace attn::runtime {

/// Element types of function arguments. I1 is stored as one byte (0 or 1).
enum class DType { F32, F16, BF16, F64, I1, I8, I32, I64 };

/// Parses a manifest dtype name ("bf16", ...). Returns false if unknown.
bool parseDType(const std::string &name, DType &dtype);
/// The manifest name of `dtype`.
const char *dtypeName(DType dtype);
/// Bytes per stored element.
size_t dtypeBytes(DType dtype);
/// True for f32, f16, bf16 and f64.
bool isFloatDType(DType dtype);

/// Whether a function argument is read or written by the function.
enum class TensorRole { Input, Output };

/// One argument of a compiled function.
struct TensorSpec {
  /// The argument's name in the function ("arg0", "result0").
  std::string name;
  TensorRole role = TensorRole::Input;
  /// Which operand or result of the attn op it is ("query", "lse", ...);
  /// empty when the function is not a single attn op.
  std::string operand;
  DType dtype = DType::F32;
  /// Dimensions; empty for a scalar.
  std::vector<int64_t> shape;

  /// Product of the dimensions (1 for a scalar).
  int64_t numElements() const;
  /// Bytes of the stored tensor.
  size_t bytes() const;
  /// "1x2x3x4 bf16", or "f32" for a scalar.
  std::string typeString() const;
};

/// The attn op a function implements, with its effective attributes.
struct OpSpec {
  /// The op name, e.g. "attn.attention".
  std::string name;
  /// The op's attributes as a JSON object; absent ones are null.
  JsonValue attributes = JsonValue::object();
};

/// A TMA tensor map over an argument or temporary buffer (row-major, the
/// whole buffer or its prefix): the runtime encodes it at launch time
/// (cuTensorMapEncodeTiled) and passes a device pointer to its 128 bytes.
struct TensorMapSpec {
  /// The buffer: an argument (else a temporary) and its index.
  bool inArg = true;
  int64_t index = 0;
  DType dtype = DType::BF16;
  /// Dims and box, outermost first; rank 1 to 5.
  std::vector<int64_t> shape, box;
  /// Bytes of the swizzle pattern (0, 32, 64 or 128) and of the L2
  /// promotion (0, 64, 128 or 256). Out-of-bounds elements read as zeros.
  int64_t swizzle = 0, l2Promotion = 0;
};

/// One kernel parameter of a launch.
struct LaunchArg {
  enum class Kind { Arg, Temp, I64, I32, F32, F64, TensorMap };
  Kind kind = Kind::Arg;
  /// For Arg and Temp: the index into FunctionSpec::args or ::tempBytes.
  int64_t index = 0;
  /// For I64 and I32.
  int64_t intValue = 0;
  /// For F32 and F64.
  double floatValue = 0;
  /// For TensorMap.
  TensorMapSpec tensorMap;
};

/// One kernel launch of a GPU function.
struct LaunchSpec {
  /// The package binary that holds the kernel, and the kernel's name.
  std::string binary;
  std::string kernel;
  std::array<uint32_t, 3> grid = {1, 1, 1};
  std::array<uint32_t, 3> block = {1, 1, 1};
  /// Dynamic shared memory in bytes.
  uint32_t sharedBytes = 0;
  std::vector<LaunchArg> args;
};

/// One compiled function: the "functions" entries of a package manifest.
struct FunctionSpec {
  std::string name;
  /// The single attn op the function is, if it is one.
  std::optional<OpSpec> op;
  /// Inputs in function order, then outputs.
  std::vector<TensorSpec> args;
  /// Sizes of the device temporaries the launches use (GPU packages only).
  std::vector<int64_t> tempBytes;
  /// Kernel launches in order (GPU packages only).
  std::vector<LaunchSpec> launches;

  /// Index into `args` of the argument for `operand` with `role`, or -1.
  int findOperand(const std::string &operand, TensorRole role) const;
};

/// Fills `spec` from one "functions" entry of a manifest, validating it:
/// argument roles, dtypes and shapes, and that every launch refers to an
/// existing argument or temporary. Binary and kernel names are checked by the
/// package loader. Errors read "line:column: <jsonPath>.field: message"
/// (without the location when `json` was not parsed from text).
bool parseFunctionSpec(const JsonValue &json, FunctionSpec &spec,
                       std::string &error,
                       const std::string &jsonPath = "function");

/// The inverse of parseFunctionSpec.
JsonValue functionSpecToJson(const FunctionSpec &spec);

/// bfloat16 and IEEE half conversions; float-to-16-bit rounds to nearest
/// even, overflows to infinity and keeps NaNs quiet NaNs.
float bf16ToFloat(uint16_t bits);
uint16_t floatToBF16(float value);
float f16ToFloat(uint16_t bits);
uint16_t floatToF16(float value);

/// Reads element `index` of a tensor of `dtype` stored at `data`.
double loadElement(DType dtype, const void *data, int64_t index);
/// Writes `value`, rounded to `dtype` (through float for f16 and bf16), as
/// element `index` of a tensor stored at `data`.
void storeElement(DType dtype, void *data, int64_t index, double value);
/// All elements of a stored tensor as float64.
std::vector<double> loadTensor(const TensorSpec &tensor, const void *data);

} // namespace attn::runtime

#endif // ATTN_RUNTIME_FUNCTIONSPEC_H
