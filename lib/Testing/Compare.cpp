//===- Compare.cpp - Checking one output against the reference ------------===//

#include "attn/Testing/Compare.h"

#include <algorithm>
#include <cmath>

using namespace attn::runtime;
using namespace attn::testing;

Comparison attn::testing::compareOutput(const std::vector<double> &output,
                                        const std::vector<double> &reference,
                                        double tolerance) {
  Comparison result;
  result.tolerance = tolerance;
  if (output.size() != reference.size()) {
    result.relL2 = result.maxAbs = NAN;
    result.reason = "the output has " + std::to_string(output.size()) +
                    " elements but the reference " +
                    std::to_string(reference.size());
    return result;
  }
  double errorSquares = 0, referenceSquares = 0;
  for (size_t i = 0; i < output.size(); ++i) {
    double out = output[i], ref = reference[i];
    if (std::isnan(out)) {
      ++result.nanCount;
      continue;
    }
    if (std::isinf(ref) || std::isinf(out)) {
      if (out != ref)
        ++result.infinityMismatches;
      else
        ++result.infinitiesMatched;
      continue;
    }
    if (std::isnan(ref))
      continue; // The reference has no value here to hold the output to.
    double difference = out - ref;
    errorSquares += difference * difference;
    referenceSquares += ref * ref;
    result.maxAbs = std::max(result.maxAbs, std::fabs(difference));
  }
  double errorNorm = std::sqrt(errorSquares);
  double referenceNorm = std::sqrt(referenceSquares);
  result.relL2 = referenceNorm > 0 ? errorNorm / referenceNorm : errorNorm;

  if (result.nanCount)
    result.reason =
        "unwritten or NaN: " + std::to_string(result.nanCount) + " elements";
  if (result.infinityMismatches)
    result.reason += std::string(result.reason.empty() ? "" : "; ") +
                     "infinities differ from the reference: " +
                     std::to_string(result.infinityMismatches) + " elements";
  if (!(result.relL2 <= tolerance))
    result.reason += std::string(result.reason.empty() ? "" : "; ") +
                     "rel_l2 above tolerance";
  result.pass = result.reason.empty();
  return result;
}

double attn::testing::defaultTolerance(DType dtype) {
  switch (dtype) {
  case DType::F32:
    return 1e-5;
  case DType::F16:
    return 1e-2;
  case DType::BF16:
    return 2e-2;
  case DType::F64:
    return 1e-9;
  default:
    return 1e-5;
  }
}

double attn::testing::defaultTolerance(const FunctionSpec &spec,
                                       size_t outputIndex) {
  double tolerance = 0;
  bool sawFloatInput = false;
  for (const TensorSpec &arg : spec.args) {
    // The mask's dtype says nothing about the precision of the compute.
    if (arg.role != TensorRole::Input || !isFloatDType(arg.dtype) ||
        arg.operand == "mask")
      continue;
    tolerance = std::max(tolerance, defaultTolerance(arg.dtype));
    sawFloatInput = true;
  }
  if (outputIndex < spec.args.size()) {
    DType outputType = spec.args[outputIndex].dtype;
    if (isFloatDType(outputType) || !sawFloatInput)
      tolerance = std::max(tolerance, defaultTolerance(outputType));
  }
  return tolerance;
}
