//===- Inputs.h - Seeded random inputs for checking kernels -----*- C++ -*-===//
//
// Random inputs that the kernel and the reference both read. Values are
// generated in float64, stored in the argument's dtype (so bf16 and f16
// inputs are rounded once, here), and the reference reads the stored values
// back: both sides see exactly the same numbers.
//
// Seed scheme: argument i of the function draws from its own
// std::mt19937_64 seeded with (seed + i), so changing one argument's shape
// leaves the others' values alone. Uniform doubles are (engine() >> 11) *
// 2^-53 (the same on every platform, unlike std::uniform_real_distribution).
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_TESTING_INPUTS_H
#define ATTN_TESTING_INPUTS_H

#include "attn/Runtime/FunctionSpec.h"

#include <cstdint>
#include <string>
#include <vector>

namespace attn::testing {

/// How random inputs are drawn.
struct InputOptions {
  uint64_t seed = 1;
  /// Float operands are uniform in [-inputScale, inputScale].
  double inputScale = 1.0;
  /// Fraction of cross-entropy labels set to the op's ignore_index.
  double ignoreFraction = 0.1;
};

/// Fills `buffers[i]` with the stored bytes of spec.args[i]: random values
/// for inputs, 0xFF bytes (NaN for floats: "unwritten") for outputs.
/// Operands are drawn by what they are: cross-entropy "labels" uniform in
/// [0, V) with a fraction set to ignore_index; i1 masks true with
/// probability 0.75; float masks uniform in [-1, 1]; other floats uniform in
/// [-inputScale, inputScale]; other integers uniform in [0, 16).
bool makeInputs(const runtime::FunctionSpec &spec, const InputOptions &options,
                std::vector<std::vector<unsigned char>> &buffers,
                std::string &error);

/// Fills every byte of `buffer` with 0xFF.
void poisonBuffer(std::vector<unsigned char> &buffer);

} // namespace attn::testing

#endif // ATTN_TESTING_INPUTS_H
