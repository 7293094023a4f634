//===- Gradients.h - Inputs and finite differences of gradient ops -*- C++ -*-===//
//
// A gradient op (attn.softmax_grad, attn.cross_entropy_grad, ...) computes
// the vector-Jacobian product of its forward op. Its function names its
// arguments after the forward op's roles: operand `x` is forward operand x
// (a primal value), operand `r` is forward result r (saved by the forward
// pass), operand `grad_r` is the gradient of a loss with respect to forward
// result r, and result `grad_x` is the gradient with respect to forward
// operand x.
//
// From that naming this file derives the forward problem behind a gradient
// function: inputs whose saved values agree with the primal ones (y is
// softmax(x), lse is the log-sum-exp of the logits), and the gradients by
// central finite differences of the forward float64 reference, the check of
// both the gradient reference and the compiled gradient op.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_TESTING_GRADIENTS_H
#define ATTN_TESTING_GRADIENTS_H

#include "attn/Runtime/FunctionSpec.h"
#include "attn/Testing/Inputs.h"

#include <string>
#include <vector>

namespace attn::testing {

/// The forward op whose vector-Jacobian product `opName` computes
/// ("attn.softmax" for "attn.softmax_grad"), or "" when `opName` is not a
/// gradient op.
std::string forwardOpName(const std::string &opName);

/// The forward computation behind a function that is one gradient op.
struct ForwardProblem {
  /// A function of the forward op, with the gradient op's attributes. Its
  /// inputs are the primal operands: for each forward operand x, the
  /// gradient function's operand x or its result grad_x (shape and dtype
  /// from there; forward operands with neither are left out). Its outputs
  /// are the forward results r that the gradient function reads (operand r)
  /// or differentiates (operand grad_r), in f64.
  runtime::FunctionSpec spec;
  /// For each argument of `spec`, the index of the gradient function's
  /// argument it comes from.
  std::vector<int> source;
  /// The values of spec.args: inputs as drawn (rounded to their dtype),
  /// outputs computed by the float64 reference.
  std::vector<std::vector<double>> values;
};

/// makeInputs for the function `spec` of a gradient op, with consistent
/// saved values: draws the forward problem's primal inputs as makeInputs
/// would (argument i from seed + i, i its index in `spec`), computes the
/// forward results with the float64 reference, and stores each result the
/// gradient op reads into its argument (rounded to its dtype). Upstream
/// gradients and labels are drawn as makeInputs draws them.
bool makeGradientInputs(const runtime::FunctionSpec &spec,
                        const InputOptions &options,
                        std::vector<std::vector<unsigned char>> &buffers,
                        ForwardProblem &problem, std::string &error);

/// The largest primal operand, in elements, that finiteDifferences takes:
/// it evaluates the whole forward op twice per element.
constexpr int64_t kMaxFiniteDifferenceElements = 1 << 14;

/// Central finite differences of the forward reference: for each result
/// grad_x of the gradient function `spec`, the derivative with respect to
/// forward operand x of  L = sum_r sum_k grad_r[k] * r[k]  over the forward
/// results r whose gradient grad_r is an operand of `spec`, at the primal
/// values of `problem`: (L(x + h e_k) - L(x - h e_k)) / 2h with
/// h = step * max(1, |x_k|). `values` holds the gradient function's
/// argument values (the upstream gradients are read there); `gradients[i]`
/// is filled for each output argument i of `spec` (others are cleared).
/// `evaluations` counts the forward evaluations.
bool finiteDifferences(const runtime::FunctionSpec &spec,
                       const ForwardProblem &problem,
                       const std::vector<std::vector<double>> &values,
                       double step,
                       std::vector<std::vector<double>> &gradients,
                       int64_t &evaluations, std::string &error);

} // namespace attn::testing

#endif // ATTN_TESTING_GRADIENTS_H
