//===- Inputs.cpp - Seeded random inputs for checking kernels -------------===//

#include "attn/Testing/Inputs.h"

#include <algorithm>
#include <random>

using namespace attn::runtime;
using namespace attn::testing;

namespace {
/// Portable uniform draws on top of std::mt19937_64 (whose output sequence
/// the C++ standard fixes).
class UniformSource {
public:
  explicit UniformSource(uint64_t seed) : engine(seed) {}

  /// Uniform in [0, 1), with 53 random bits.
  double unit() { return static_cast<double>(engine() >> 11) * 0x1.0p-53; }
  /// Uniform in [-scale, scale).
  double symmetric(double scale) { return scale * (2 * unit() - 1); }
  /// Uniform integer in [0, count), count > 0 (multiply-shift; the bias is
  /// below 2^-40 for any count we use).
  int64_t below(int64_t count) {
    return static_cast<int64_t>(
        (static_cast<unsigned __int128>(engine()) * uint64_t(count)) >> 64);
  }

private:
  std::mt19937_64 engine;
};
} // namespace

void attn::testing::poisonBuffer(std::vector<unsigned char> &buffer) {
  std::fill(buffer.begin(), buffer.end(), 0xFF);
}

/// The vocabulary size of a cross-entropy op (the labels' range), or 0.
static int64_t vocabularySize(const FunctionSpec &spec) {
  if (!spec.op)
    return 0;
  int index = -1;
  bool linear = spec.op->name == "attn.linear_cross_entropy" ||
               spec.op->name == "attn.linear_cross_entropy_grad";
  if (spec.op->name == "attn.cross_entropy" ||
      spec.op->name == "attn.cross_entropy_grad")
    index = spec.findOperand("logits", TensorRole::Input);
  else if (linear)
    index = spec.findOperand("weight", TensorRole::Input);
  if (index < 0 || spec.args[index].shape.size() != 2)
    return 0;
  return linear ? spec.args[index].shape[0] : spec.args[index].shape[1];
}

bool attn::testing::makeInputs(const FunctionSpec &spec,
                               const InputOptions &options,
                               std::vector<std::vector<unsigned char>> &buffers,
                               std::string &error) {
  if (!(options.inputScale > 0)) {
    error = "the input scale must be positive";
    return false;
  }
  if (!(options.ignoreFraction >= 0 && options.ignoreFraction <= 1)) {
    error = "the ignore fraction must be in [0, 1]";
    return false;
  }
  buffers.assign(spec.args.size(), {});
  for (size_t argIndex = 0; argIndex < spec.args.size(); ++argIndex) {
    const TensorSpec &arg = spec.args[argIndex];
    std::vector<unsigned char> &buffer = buffers[argIndex];
    buffer.resize(arg.bytes());
    if (arg.role == TensorRole::Output) {
      poisonBuffer(buffer);
      continue;
    }
    UniformSource random(options.seed + argIndex);
    int64_t count = arg.numElements();
    bool isFloat = isFloatDType(arg.dtype);

    if (arg.operand == "labels" && !isFloat) {
      int64_t vocabulary = vocabularySize(spec);
      const JsonValue *ignore =
          spec.op ? spec.op->attributes.find("ignore_index") : nullptr;
      if (vocabulary <= 0 || !ignore || !ignore->isInteger()) {
        error = "cannot draw labels: the op's vocabulary size or "
                "ignore_index is unknown";
        return false;
      }
      for (int64_t i = 0; i < count; ++i) {
        // Draw both numbers for every token so the labels of the kept
        // tokens do not depend on the ignore fraction.
        bool ignored = random.unit() < options.ignoreFraction;
        int64_t label = random.below(vocabulary);
        storeElement(arg.dtype, buffer.data(), i,
                     ignored ? static_cast<double>(ignore->getInteger())
                             : static_cast<double>(label));
      }
      continue;
    }
    if (arg.operand == "mask" && arg.dtype == DType::I1) {
      for (int64_t i = 0; i < count; ++i)
        storeElement(arg.dtype, buffer.data(), i,
                     random.unit() < 0.75 ? 1.0 : 0.0);
      continue;
    }
    if (isFloat) {
      double scale = arg.operand == "mask" ? 1.0 : options.inputScale;
      for (int64_t i = 0; i < count; ++i)
        storeElement(arg.dtype, buffer.data(), i, random.symmetric(scale));
      continue;
    }
    if (arg.dtype == DType::I1) {
      for (int64_t i = 0; i < count; ++i)
        storeElement(arg.dtype, buffer.data(), i, random.unit() < 0.5);
      continue;
    }
    for (int64_t i = 0; i < count; ++i)
      storeElement(arg.dtype, buffer.data(), i,
                   static_cast<double>(random.below(16)));
  }
  return true;
}
