//===- Compare.h - Checking one output against the reference ----*- C++ -*-===//
//
// An output passes when it has no NaN (a NaN is a bug or an element no
// kernel wrote: outputs start poisoned), matches every infinity of the
// reference exactly, and its relative L2 error over the finite entries is
// within the tolerance.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_TESTING_COMPARE_H
#define ATTN_TESTING_COMPARE_H

#include "attn/Runtime/FunctionSpec.h"

#include <cstdint>
#include <string>
#include <vector>

namespace attn::testing {

/// The outcome of comparing one output with its reference.
struct Comparison {
  /// ||out - ref||_2 / ||ref||_2 over entries where the reference is finite
  /// (the absolute norm ||out - ref||_2 if ||ref||_2 is 0).
  double relL2 = 0;
  /// max |out - ref| over the same entries.
  double maxAbs = 0;
  double tolerance = 0;
  /// NaNs in the output: unwritten or computed.
  int64_t nanCount = 0;
  /// Entries where the output is infinite and the reference is not, or the
  /// reference is infinite and the output differs from it.
  int64_t infinityMismatches = 0;
  /// Entries where the reference is infinite (a fully masked attention row's
  /// -inf LSE, say) and the output equals it exactly.
  int64_t infinitiesMatched = 0;
  bool pass = false;
  /// Why it failed, e.g. "unwritten or NaN: 12 elements"; empty on a pass.
  std::string reason;
};

/// Compares `output` with `reference` (same length) under `tolerance` on
/// the relative L2 error.
Comparison compareOutput(const std::vector<double> &output,
                         const std::vector<double> &reference,
                         double tolerance);

/// The default tolerance on the relative L2 error for computing in `dtype`:
/// f32 1e-5, f16 1e-2, bf16 2e-2, f64 1e-9 (1e-5 for anything else).
double defaultTolerance(runtime::DType dtype);

/// The default tolerance for output `outputIndex` of `spec`: the looser of
/// the tolerances of the function's float inputs and of the output's own
/// dtype (an f32 lse of f64 inputs is only as exact as f32).
double defaultTolerance(const runtime::FunctionSpec &spec, size_t outputIndex);

} // namespace attn::testing

#endif // ATTN_TESTING_COMPARE_H
