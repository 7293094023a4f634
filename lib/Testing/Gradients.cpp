//===- Gradients.cpp - Inputs and finite differences of gradient ops ------===//

#include "attn/Testing/Gradients.h"

#include "attn/Testing/Reference.h"

#include <algorithm>
#include <cmath>

using namespace attn::runtime;
using namespace attn::testing;

namespace {

/// A gradient op, its forward op and the forward op's operand and result
/// roles (in the reference's terms).
struct GradientOfOp {
  const char *gradientOp;
  const char *forwardOp;
  std::vector<std::string> operands;
  std::vector<std::string> results;
};

const std::vector<GradientOfOp> &gradientOps() {
  static const std::vector<GradientOfOp> ops = {
      {"attn.softmax_grad", "attn.softmax", {"input"}, {"result"}},
      {"attn.log_softmax_grad", "attn.log_softmax", {"input"}, {"result"}},
      {"attn.logsumexp_grad", "attn.logsumexp", {"input"}, {"result"}},
      {"attn.attention_grad",
       "attn.attention",
       {"query", "key", "value", "mask"},
       {"output", "lse"}},
      {"attn.cross_entropy_grad",
       "attn.cross_entropy",
       {"logits", "labels"},
       {"loss", "lse"}},
      {"attn.linear_cross_entropy_grad",
       "attn.linear_cross_entropy",
       {"hidden", "weight", "labels", "bias"},
       {"loss", "lse"}},
  };
  return ops;
}

const GradientOfOp *lookup(const std::string &opName) {
  for (const GradientOfOp &op : gradientOps())
    if (op.gradientOp == opName)
      return &op;
  return nullptr;
}

/// Builds the forward problem's spec (not its values) of gradient function
/// `spec`.
bool buildForwardSpec(const FunctionSpec &spec, ForwardProblem &problem,
                      std::string &error) {
  const GradientOfOp *op = spec.op ? lookup(spec.op->name) : nullptr;
  if (!op) {
    error = "function " + spec.name + " is not a gradient op";
    return false;
  }
  problem.spec = FunctionSpec();
  problem.spec.name = spec.name + ".forward";
  problem.spec.op = OpSpec{op->forwardOp, spec.op->attributes};
  problem.source.clear();
  for (const std::string &operand : op->operands) {
    int index = spec.findOperand(operand, TensorRole::Input);
    if (index < 0)
      index = spec.findOperand("grad_" + operand, TensorRole::Output);
    if (index < 0)
      continue;
    TensorSpec arg = spec.args[index];
    arg.role = TensorRole::Input;
    arg.operand = operand;
    problem.spec.args.push_back(arg);
    problem.source.push_back(index);
  }
  for (const std::string &result : op->results) {
    int index = spec.findOperand(result, TensorRole::Input);
    if (index < 0)
      index = spec.findOperand("grad_" + result, TensorRole::Input);
    if (index < 0)
      continue;
    TensorSpec arg = spec.args[index];
    arg.role = TensorRole::Output;
    arg.operand = result;
    arg.dtype = DType::F64;
    problem.spec.args.push_back(arg);
    problem.source.push_back(index);
  }
  return true;
}

/// L = sum_r <grad_r, r> over the forward results whose gradient is an
/// operand of `spec`.
double scalarLoss(const FunctionSpec &spec, const ForwardProblem &problem,
                  const std::vector<std::vector<double>> &forwardValues,
                  const std::vector<std::vector<double>> &values) {
  double loss = 0;
  for (size_t i = 0; i < problem.spec.args.size(); ++i) {
    const TensorSpec &arg = problem.spec.args[i];
    if (arg.role != TensorRole::Output)
      continue;
    int upstream = spec.findOperand("grad_" + arg.operand, TensorRole::Input);
    if (upstream < 0)
      continue;
    const std::vector<double> &r = forwardValues[i];
    const std::vector<double> &g = values[upstream];
    for (size_t k = 0; k < r.size() && k < g.size(); ++k)
      loss += g[k] * r[k];
  }
  return loss;
}

} // namespace

std::string attn::testing::forwardOpName(const std::string &opName) {
  const GradientOfOp *op = lookup(opName);
  return op ? op->forwardOp : "";
}

bool attn::testing::makeGradientInputs(
    const FunctionSpec &spec, const InputOptions &options,
    std::vector<std::vector<unsigned char>> &buffers, ForwardProblem &problem,
    std::string &error) {
  if (!buildForwardSpec(spec, problem, error) ||
      !makeInputs(spec, options, buffers, error))
    return false;
  const FunctionSpec &forward = problem.spec;
  problem.values.assign(forward.args.size(), {});
  for (size_t i = 0; i < forward.args.size(); ++i) {
    if (forward.args[i].role != TensorRole::Input)
      continue;
    int source = problem.source[i];
    if (spec.args[source].role == TensorRole::Input) {
      // Drawn with the gradient function's inputs (the logits, the labels).
      problem.values[i] = loadTensor(spec.args[source], buffers[source].data());
      continue;
    }
    // A primal operand only the gradient's result names (softmax's x):
    // draw it as argument `source` of the gradient function would be
    // drawn. makeInputs seeds argument i with seed + i; the unsigned
    // arithmetic wraps.
    InputOptions shifted = options;
    shifted.seed = options.seed + uint64_t(source) - uint64_t(i);
    std::vector<std::vector<unsigned char>> drawn;
    if (!makeInputs(forward, shifted, drawn, error))
      return false;
    problem.values[i] = loadTensor(forward.args[i], drawn[i].data());
  }
  if (!computeReference(forward, problem.values, error))
    return false;
  // The saved results the gradient op reads, rounded to their dtype.
  for (size_t i = 0; i < forward.args.size(); ++i) {
    int source = problem.source[i];
    if (forward.args[i].role != TensorRole::Output ||
        spec.args[source].operand != forward.args[i].operand)
      continue;
    const TensorSpec &arg = spec.args[source];
    for (int64_t k = 0; k < arg.numElements(); ++k)
      storeElement(arg.dtype, buffers[source].data(), k, problem.values[i][k]);
  }
  return true;
}

bool attn::testing::finiteDifferences(
    const FunctionSpec &spec, const ForwardProblem &problem,
    const std::vector<std::vector<double>> &values, double step,
    std::vector<std::vector<double>> &gradients, int64_t &evaluations,
    std::string &error) {
  evaluations = 0;
  if (!(step > 0)) {
    error = "the finite-difference step must be positive";
    return false;
  }
  const FunctionSpec &forward = problem.spec;
  gradients.assign(spec.args.size(), {});
  std::vector<std::vector<double>> perturbed = problem.values;
  auto loss = [&](double &result) {
    ++evaluations;
    if (!computeReference(forward, perturbed, error))
      return false;
    result = scalarLoss(spec, problem, perturbed, values);
    return true;
  };
  for (size_t i = 0; i < spec.args.size(); ++i) {
    const TensorSpec &arg = spec.args[i];
    if (arg.role != TensorRole::Output)
      continue;
    if (arg.operand.rfind("grad_", 0) != 0) {
      error = "result " + arg.name + " (\"" + arg.operand +
              "\") is not a gradient";
      return false;
    }
    std::string primal = arg.operand.substr(5);
    int x = forward.findOperand(primal, TensorRole::Input);
    if (x < 0) {
      error = "result " + arg.name + " is the gradient of \"" + primal +
              "\", which " + forward.op->name + " does not take";
      return false;
    }
    int64_t count = forward.args[x].numElements();
    if (count > kMaxFiniteDifferenceElements) {
      error = "operand \"" + primal + "\" has " + std::to_string(count) +
              " elements; finite differences take at most " +
              std::to_string(kMaxFiniteDifferenceElements);
      return false;
    }
    std::vector<double> &gradient = gradients[i];
    gradient.assign(static_cast<size_t>(count), 0.0);
    for (int64_t k = 0; k < count; ++k) {
      double original = problem.values[x][k];
      double h = step * std::max(1.0, std::fabs(original));
      double plus, minus;
      perturbed[x][k] = original + h;
      if (!loss(plus))
        return false;
      perturbed[x][k] = original - h;
      if (!loss(minus))
        return false;
      perturbed[x][k] = original;
      gradient[k] = (plus - minus) / (2 * h);
    }
  }
  return true;
}
