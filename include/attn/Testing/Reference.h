//===- Reference.h - Float64 reference implementations ---------*- C++ -*-===//
//
// The oracle that compiled kernels are checked against: plain float64 loops
// over the definitions of attn.softmax, attn.log_softmax, attn.logsumexp,
// attn.attention, attn.cross_entropy and attn.linear_cross_entropy, and of
// the gradient ops attn.softmax_grad, attn.log_softmax_grad,
// attn.logsumexp_grad, attn.cross_entropy_grad,
// attn.linear_cross_entropy_grad and attn.attention_grad,
// written to be obviously correct rather than fast (rows run on several
// threads). Gradients.h checks the gradients against finite differences of
// the forward references.
// With Inputs.h and Compare.h it makes up AttnTesting (lib/Testing), the
// test oracle: attn-run and the unit tests link it; the runtime does not.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_TESTING_REFERENCE_H
#define ATTN_TESTING_REFERENCE_H

#include "attn/Runtime/FunctionSpec.h"

#include <string>
#include <vector>

namespace attn::testing {

/// True if computeReference knows the op named `opName`.
bool hasReference(const std::string &opName);

/// The checks of computeReference that need no values: the op is known, the
/// operands it needs are present, their shapes and dtypes agree with each
/// other and with the outputs', and the attributes are well formed. Cheap
/// (no allocation proportional to the tensors), so a caller can run it
/// before the expensive setup; computeReference repeats it. Returns false and
/// sets `error` (the same message computeReference would give) otherwise.
bool checkReferenceSpec(const runtime::FunctionSpec &spec, std::string &error);

/// Computes the outputs of `spec.op` in float64. `values[i]` holds the
/// elements of `spec.args[i]` in row-major order: inputs must be filled (as
/// read from their stored dtype, see loadTensor); outputs are resized and
/// written. Checks that the operands the op needs are present, that their
/// shapes agree with each other and with the outputs', and that attributes
/// are well formed. Returns false and sets `error` otherwise (also when the
/// function is not a single attn op).
///
/// Conventions: an attention row whose keys are all masked gives output 0
/// and lse -inf; a "mean" cross-entropy with every token ignored gives 0.
bool computeReference(const runtime::FunctionSpec &spec,
                      std::vector<std::vector<double>> &values,
                      std::string &error);

} // namespace attn::testing

#endif // ATTN_TESTING_REFERENCE_H
