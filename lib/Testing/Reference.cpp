//===- Reference.cpp - Float64 reference implementations of attn ops ------===//

#include "attn/Testing/Reference.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <optional>
#include <thread>

using namespace attn::runtime;
using namespace attn::testing;

static constexpr double negativeInfinity =
    -std::numeric_limits<double>::infinity();

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

/// Calls `body(begin, end)` on disjoint ranges covering [0, count), on up to
/// one thread per core. Each index is handled exactly as it would be
/// serially, so results do not depend on the thread count.
static void parallelFor(int64_t count,
                        const std::function<void(int64_t, int64_t)> &body) {
  int64_t threads = std::max<int64_t>(1, std::thread::hardware_concurrency());
  threads = std::min<int64_t>({threads, count, 64});
  if (threads <= 1) {
    body(0, count);
    return;
  }
  std::vector<std::thread> workers;
  int64_t chunk = (count + threads - 1) / threads;
  for (int64_t begin = 0; begin < count; begin += chunk)
    workers.emplace_back(body, begin, std::min(count, begin + chunk));
  for (std::thread &worker : workers)
    worker.join();
}

static std::string shapeString(const std::vector<int64_t> &shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

namespace {

/// Reads the operands, results and attributes of the function's op, and
/// records the first problem found as an error "<op>: <message>". With
/// `checkOnly`, the reference functions stop after the checks of the spec
/// (shapes, dtypes, attributes), before the first input value is read.
class OpOperands {
public:
  OpOperands(const FunctionSpec &spec, std::vector<std::vector<double>> &values,
             std::string &error, bool checkOnly)
      : spec(spec), values(values), error(error), opName(spec.op->name),
        checkOnly(checkOnly) {}

  /// True when only the spec is checked: return before touching values.
  bool checkingOnly() const { return checkOnly; }

  bool fail(const std::string &message) {
    error = opName + ": " + message;
    return false;
  }

  /// Checks that every argument is one of `known` operands and results.
  bool checkKnown(const std::vector<std::string> &inputs,
                  const std::vector<std::string> &outputs) {
    for (const TensorSpec &arg : spec.args) {
      const std::vector<std::string> &known =
          arg.role == TensorRole::Input ? inputs : outputs;
      if (std::find(known.begin(), known.end(), arg.operand) == known.end())
        return fail(std::string("argument ") + arg.name + " is " +
                    (arg.role == TensorRole::Input ? "operand" : "result") +
                    " \"" + arg.operand + "\", which the op does not have");
    }
    return true;
  }

  /// The index of the argument for `operand`, or -1 (and an error when
  /// `required`).
  int find(const std::string &operand, TensorRole role, bool required) {
    int index = spec.findOperand(operand, role);
    if (index < 0 && required)
      fail(std::string("the function has no ") +
           (role == TensorRole::Input ? "operand" : "result") + " \"" +
           operand + "\"");
    return index;
  }

  const std::vector<int64_t> &shape(int index) const {
    return spec.args[index].shape;
  }
  DType dtype(int index) const { return spec.args[index].dtype; }

  /// The input values of argument `index`, checked for their element count.
  const std::vector<double> *input(int index) {
    const TensorSpec &arg = spec.args[index];
    if (checkOnly)
      return &values[index];
    if (static_cast<int64_t>(values[index].size()) != arg.numElements()) {
      fail("operand \"" + arg.operand + "\" has " +
           std::to_string(values[index].size()) + " values but its shape " +
           shapeString(arg.shape) + " holds " +
           std::to_string(arg.numElements()));
      return nullptr;
    }
    return &values[index];
  }

  /// The output buffer of argument `index`, sized to its element count.
  std::vector<double> &output(int index) {
    values[index].assign(static_cast<size_t>(spec.args[index].numElements()),
                         0.0);
    return values[index];
  }

  /// Checks that result `index` has shape `expected`.
  bool expectShape(int index, const std::vector<int64_t> &expected) {
    if (shape(index) == expected)
      return true;
    return fail("result \"" + spec.args[index].operand + "\" has shape " +
                shapeString(shape(index)) + " but should be " +
                shapeString(expected));
  }

  bool expectRank(int index, size_t rank) {
    if (shape(index).size() == rank)
      return true;
    return fail("operand \"" + spec.args[index].operand + "\" has shape " +
                shapeString(shape(index)) + "; expected rank " +
                std::to_string(rank));
  }

  const JsonValue *attribute(const std::string &name) {
    const JsonValue *value = spec.op->attributes.find(name);
    if (!value)
      fail("missing attribute \"" + name + "\"");
    return value;
  }

  bool intAttribute(const std::string &name, int64_t &out) {
    const JsonValue *value = attribute(name);
    if (!value)
      return false;
    if (!value->isInteger())
      return fail("attribute \"" + name + "\" must be an integer");
    out = value->getInteger();
    return true;
  }

  bool numberAttribute(const std::string &name, double &out) {
    const JsonValue *value = attribute(name);
    if (!value)
      return false;
    if (!value->isNumber())
      return fail("attribute \"" + name + "\" must be a number");
    out = value->getNumber();
    return true;
  }

  /// A number or null (absent).
  bool optionalNumberAttribute(const std::string &name,
                               std::optional<double> &out) {
    out.reset();
    const JsonValue *value = spec.op->attributes.find(name);
    if (!value || value->isNull())
      return true;
    if (!value->isNumber())
      return fail("attribute \"" + name + "\" must be a number or null");
    out = value->getNumber();
    return true;
  }

  bool boolAttribute(const std::string &name, bool &out) {
    const JsonValue *value = attribute(name);
    if (!value)
      return false;
    if (!value->isBool())
      return fail("attribute \"" + name + "\" must be true or false");
    out = value->getBool();
    return true;
  }

  bool stringAttribute(const std::string &name, std::string &out) {
    const JsonValue *value = attribute(name);
    if (!value)
      return false;
    if (!value->isString())
      return fail("attribute \"" + name + "\" must be a string");
    out = value->getString();
    return true;
  }

private:
  const FunctionSpec &spec;
  std::vector<std::vector<double>> &values;
  std::string &error;
  const std::string &opName;
  bool checkOnly;
};

} // namespace

/// c * tanh(x / c): the logit soft-capping of Gemma 2 and friends.
static double softcapValue(double value, double cap) {
  return cap * std::tanh(value / cap);
}

//===----------------------------------------------------------------------===//
// attn.softmax, attn.log_softmax, attn.logsumexp
//===----------------------------------------------------------------------===//

static bool referenceSoftmaxFamily(OpOperands &op, const std::string &name) {
  if (!op.checkKnown({"input"}, {"result"}))
    return false;
  int inputIndex = op.find("input", TensorRole::Input, true);
  if (inputIndex < 0)
    return false;
  int resultIndex = op.find("result", TensorRole::Output, true);
  if (resultIndex < 0)
    return false;
  const std::vector<double> *input = op.input(inputIndex);
  if (!input)
    return false;

  const std::vector<int64_t> &shape = op.shape(inputIndex);
  int64_t rank = static_cast<int64_t>(shape.size());
  int64_t dim;
  if (!op.intAttribute("dim", dim))
    return false;
  if (dim < -rank || dim >= rank)
    return op.fail("dim " + std::to_string(dim) + " is out of range for " +
                   "an input of shape " + shapeString(shape));
  if (dim < 0)
    dim += rank;

  bool reduces = name == "attn.logsumexp";
  std::vector<int64_t> resultShape = shape;
  if (reduces)
    resultShape.erase(resultShape.begin() + dim);
  if (!op.expectShape(resultIndex, resultShape))
    return false;
  if (op.checkingOnly())
    return true;

  // View the input as [outer, length, inner] with the reduced dim in the
  // middle.
  int64_t outer = 1, inner = 1, length = shape[dim];
  for (int64_t i = 0; i < dim; ++i)
    outer *= shape[i];
  for (int64_t i = dim + 1; i < rank; ++i)
    inner *= shape[i];
  std::vector<double> &result = op.output(resultIndex);
  const std::vector<double> &x = *input;

  parallelFor(outer * inner, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      int64_t o = row / inner, in = row % inner;
      auto at = [&](int64_t k) { return (o * length + k) * inner + in; };
      double maximum = negativeInfinity;
      for (int64_t k = 0; k < length; ++k)
        maximum = std::max(maximum, x[at(k)]);
      double sum = 0;
      if (maximum != negativeInfinity)
        for (int64_t k = 0; k < length; ++k)
          sum += std::exp(x[at(k)] - maximum);
      double logSum = maximum == negativeInfinity ? negativeInfinity
                                                  : maximum + std::log(sum);
      if (reduces) {
        result[row] = logSum;
        continue;
      }
      for (int64_t k = 0; k < length; ++k) {
        double logProbability = x[at(k)] - logSum;
        result[at(k)] =
            name == "attn.softmax" ? std::exp(logProbability) : logProbability;
      }
    }
  });
  return true;
}

//===----------------------------------------------------------------------===//
// attn.softmax_grad, attn.log_softmax_grad, attn.logsumexp_grad
//===----------------------------------------------------------------------===//

/// Reads attribute "dim" of an op reducing a tensor of `shape`; a negative
/// dim counts from the end.
static bool reducedDim(OpOperands &op, const std::vector<int64_t> &shape,
                       int64_t &dim) {
  int64_t rank = static_cast<int64_t>(shape.size());
  if (!op.intAttribute("dim", dim))
    return false;
  if (dim < -rank || dim >= rank)
    return op.fail("dim " + std::to_string(dim) + " is out of range for " +
                   "an input of shape " + shapeString(shape));
  if (dim < 0)
    dim += rank;
  return true;
}

/// The rows of a tensor of `shape` along `dim`: `count` rows of `length`
/// elements, element k of row r at index(r, k).
struct RowView {
  int64_t outer = 1, inner = 1, length = 1;
  RowView(const std::vector<int64_t> &shape, int64_t dim) {
    length = shape[dim];
    for (int64_t i = 0; i < dim; ++i)
      outer *= shape[i];
    for (size_t i = dim + 1; i < shape.size(); ++i)
      inner *= shape[i];
  }
  int64_t count() const { return outer * inner; }
  int64_t index(int64_t row, int64_t k) const {
    return ((row / inner) * length + k) * inner + row % inner;
  }
};

/// softmax_grad: dx = y (dy - sum y dy); log_softmax_grad:
/// dx = dy - exp(y) sum dy. `y` is the forward's result.
static bool referenceSoftmaxGrad(OpOperands &op, bool logSoftmax) {
  if (!op.checkKnown({"result", "grad_result"}, {"grad_input"}))
    return false;
  int yIndex = op.find("result", TensorRole::Input, true);
  int dyIndex = yIndex < 0 ? -1 : op.find("grad_result", TensorRole::Input,
                                          true);
  int dxIndex =
      dyIndex < 0 ? -1 : op.find("grad_input", TensorRole::Output, true);
  if (dxIndex < 0)
    return false;
  const std::vector<int64_t> &shape = op.shape(yIndex);
  if (op.shape(dyIndex) != shape)
    return op.fail("operand \"grad_result\" has shape " +
                   shapeString(op.shape(dyIndex)) + " but \"result\" has " +
                   shapeString(shape));
  int64_t dim;
  if (!op.expectShape(dxIndex, shape) || !reducedDim(op, shape, dim))
    return false;
  if (op.checkingOnly())
    return true;
  const std::vector<double> *y = op.input(yIndex);
  const std::vector<double> *dy = y ? op.input(dyIndex) : nullptr;
  if (!dy)
    return false;
  std::vector<double> &dx = op.output(dxIndex);
  RowView rows(shape, dim);
  parallelFor(rows.count(), [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      double sum = 0;
      for (int64_t k = 0; k < rows.length; ++k) {
        int64_t i = rows.index(row, k);
        sum += logSoftmax ? (*dy)[i] : (*y)[i] * (*dy)[i];
      }
      for (int64_t k = 0; k < rows.length; ++k) {
        int64_t i = rows.index(row, k);
        dx[i] = logSoftmax ? (*dy)[i] - std::exp((*y)[i]) * sum
                           : (*y)[i] * ((*dy)[i] - sum);
      }
    }
  });
  return true;
}

/// logsumexp_grad: dx = dlse exp(x - lse), 0 where x = -inf.
static bool referenceLogSumExpGrad(OpOperands &op) {
  if (!op.checkKnown({"input", "result", "grad_result"}, {"grad_input"}))
    return false;
  int xIndex = op.find("input", TensorRole::Input, true);
  int lseIndex = xIndex < 0 ? -1 : op.find("result", TensorRole::Input, true);
  int dlseIndex =
      lseIndex < 0 ? -1 : op.find("grad_result", TensorRole::Input, true);
  int dxIndex =
      dlseIndex < 0 ? -1 : op.find("grad_input", TensorRole::Output, true);
  if (dxIndex < 0)
    return false;
  const std::vector<int64_t> &shape = op.shape(xIndex);
  int64_t dim;
  if (!reducedDim(op, shape, dim) || !op.expectShape(dxIndex, shape))
    return false;
  std::vector<int64_t> reduced = shape;
  reduced.erase(reduced.begin() + dim);
  for (int index : {lseIndex, dlseIndex})
    if (op.shape(index) != reduced)
      return op.fail("operand \"" +
                     std::string(index == lseIndex ? "result" : "grad_result") +
                     "\" has shape " + shapeString(op.shape(index)) +
                     " but should be " + shapeString(reduced));
  if (op.checkingOnly())
    return true;
  const std::vector<double> *x = op.input(xIndex);
  const std::vector<double> *lse = x ? op.input(lseIndex) : nullptr;
  const std::vector<double> *dlse = lse ? op.input(dlseIndex) : nullptr;
  if (!dlse)
    return false;
  std::vector<double> &dx = op.output(dxIndex);
  RowView rows(shape, dim);
  parallelFor(rows.count(), [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row)
      for (int64_t k = 0; k < rows.length; ++k) {
        int64_t i = rows.index(row, k);
        dx[i] = (*x)[i] == negativeInfinity
                    ? 0.0
                    : (*dlse)[row] * std::exp((*x)[i] - (*lse)[row]);
      }
  });
  return true;
}

//===----------------------------------------------------------------------===//
// attn.attention
//===----------------------------------------------------------------------===//

namespace {
/// The operands and attributes of an attention or its gradient, read and
/// checked, and the scores of one query row.
struct AttentionProblem {
  int queryIndex = -1, keyIndex = -1, valueIndex = -1, maskIndex = -1;
  int64_t batch = 0, queryHeads = 0, queries = 0, headDim = 0;
  int64_t keyHeads = 0, keys = 0, valueDim = 0, groupSize = 1;
  // The mask is [M, N] or [B or 1, Hq or 1, M, N].
  int64_t maskBatchStride = 0, maskHeadStride = 0;
  bool boolMask = false;
  double scale = 1;
  bool causal = false;
  std::optional<double> softcap;
  std::optional<std::pair<int64_t, int64_t>> window;
  const std::vector<double> *query = nullptr, *key = nullptr,
                            *value = nullptr, *mask = nullptr;

  /// The scores of query row (b, h, i) over every key: scaled, soft-capped,
  /// masked (-inf where hidden). With `scaled`, also scale * q.k before the
  /// softcap.
  void rowScores(int64_t b, int64_t h, int64_t i, std::vector<double> &scores,
                 std::vector<double> *scaled = nullptr) const {
    int64_t row = (b * queryHeads + h) * queries + i;
    int64_t kvHead = h / groupSize;
    const double *q = &(*query)[row * headDim];
    const double *maskRow =
        mask ? &(*mask)[b * maskBatchStride + h * maskHeadStride + i * keys]
             : nullptr;
    // Bottom-right alignment: query i sits at key position i + (N - M).
    int64_t offset = keys - queries;
    for (int64_t j = 0; j < keys; ++j) {
      const double *k = &(*key)[((b * keyHeads + kvHead) * keys + j) * headDim];
      double dot = 0;
      for (int64_t d = 0; d < headDim; ++d)
        dot += q[d] * k[d];
      double s = scale * dot;
      if (scaled)
        (*scaled)[j] = s;
      if (softcap)
        s = softcapValue(s, *softcap);
      if (maskRow) {
        if (boolMask)
          s = maskRow[j] != 0 ? s : negativeInfinity;
        else
          s += maskRow[j];
      }
      if (causal && j > i + offset)
        s = negativeInfinity;
      if (window &&
          (j < i + offset - window->first || j > i + offset + window->second))
        s = negativeInfinity;
      scores[j] = s;
    }
  }
};
} // namespace

/// Reads and checks query, key, value and the mask of an attention or its
/// gradient (`a`'s shapes and indices).
static bool readAttentionOperands(OpOperands &op, AttentionProblem &a) {
  a.queryIndex = op.find("query", TensorRole::Input, true);
  a.keyIndex = a.queryIndex < 0 ? -1 : op.find("key", TensorRole::Input, true);
  a.valueIndex =
      a.keyIndex < 0 ? -1 : op.find("value", TensorRole::Input, true);
  if (a.valueIndex < 0)
    return false;
  a.maskIndex = op.find("mask", TensorRole::Input, false);
  if (!op.expectRank(a.queryIndex, 4) || !op.expectRank(a.keyIndex, 4) ||
      !op.expectRank(a.valueIndex, 4))
    return false;
  const std::vector<int64_t> &qShape = op.shape(a.queryIndex);
  const std::vector<int64_t> &kShape = op.shape(a.keyIndex);
  const std::vector<int64_t> &vShape = op.shape(a.valueIndex);
  a.batch = qShape[0];
  a.queryHeads = qShape[1];
  a.queries = qShape[2];
  a.headDim = qShape[3];
  a.keyHeads = kShape[1];
  a.keys = kShape[2];
  a.valueDim = vShape[3];
  std::string shapes = " (query " + shapeString(qShape) + ", key " +
                       shapeString(kShape) + ", value " + shapeString(vShape) +
                       ")";
  if (kShape[0] != a.batch || vShape[0] != a.batch)
    return op.fail("batch sizes differ" + shapes);
  if (vShape[1] != a.keyHeads || vShape[2] != a.keys)
    return op.fail("key and value differ in heads or length" + shapes);
  if (kShape[3] != a.headDim)
    return op.fail("query and key head dims differ" + shapes);
  if (a.keyHeads <= 0 || a.queryHeads % a.keyHeads != 0)
    return op.fail("query heads are not a multiple of key heads" + shapes);
  a.groupSize = a.queryHeads / a.keyHeads;

  if (a.maskIndex >= 0) {
    const std::vector<int64_t> &mShape = op.shape(a.maskIndex);
    std::string maskError =
        "mask has shape " + shapeString(mShape) + "; expected [" +
        std::to_string(a.queries) + ", " + std::to_string(a.keys) + "] or [" +
        std::to_string(a.batch) + " or 1, " + std::to_string(a.queryHeads) +
        " or 1, " + std::to_string(a.queries) + ", " + std::to_string(a.keys) +
        "]";
    if (mShape.size() == 2) {
      if (mShape[0] != a.queries || mShape[1] != a.keys)
        return op.fail(maskError);
    } else if (mShape.size() == 4) {
      if ((mShape[0] != a.batch && mShape[0] != 1) ||
          (mShape[1] != a.queryHeads && mShape[1] != 1) ||
          mShape[2] != a.queries || mShape[3] != a.keys)
        return op.fail(maskError);
      a.maskHeadStride = mShape[1] == 1 ? 0 : a.queries * a.keys;
      a.maskBatchStride =
          mShape[0] == 1 ? 0 : mShape[1] * a.queries * a.keys;
    } else {
      return op.fail(maskError);
    }
    DType maskType = op.dtype(a.maskIndex);
    if (maskType == DType::I1)
      a.boolMask = true;
    else if (!isFloatDType(maskType))
      return op.fail("mask must be i1 or a float type");
  }
  return true;
}

/// Reads and checks scale, causal, window and softcap.
static bool readAttentionAttributes(OpOperands &op, AttentionProblem &a) {
  if (!op.numberAttribute("scale", a.scale) ||
      !op.boolAttribute("causal", a.causal) ||
      !op.optionalNumberAttribute("softcap", a.softcap))
    return false;
  if (a.softcap && !(*a.softcap > 0))
    return op.fail("softcap must be positive");
  const JsonValue *windowJson = op.attribute("window");
  if (!windowJson)
    return false;
  if (!windowJson->isNull()) {
    if (!windowJson->isArray() || windowJson->getArray().size() != 2 ||
        !windowJson->getArray()[0].isInteger() ||
        !windowJson->getArray()[1].isInteger())
      return op.fail("attribute \"window\" must be [left, right] or null");
    a.window = {windowJson->getArray()[0].getInteger(),
                windowJson->getArray()[1].getInteger()};
  }
  return true;
}

/// Reads the input values of query, key, value and the mask.
static bool loadAttentionInputs(OpOperands &op, AttentionProblem &a) {
  a.query = op.input(a.queryIndex);
  a.key = a.query ? op.input(a.keyIndex) : nullptr;
  a.value = a.key ? op.input(a.valueIndex) : nullptr;
  a.mask = a.value && a.maskIndex >= 0 ? op.input(a.maskIndex) : nullptr;
  return a.value && (a.maskIndex < 0 || a.mask);
}

static bool referenceAttention(OpOperands &op) {
  if (!op.checkKnown({"query", "key", "value", "mask"}, {"output", "lse"}))
    return false;
  AttentionProblem a;
  if (!readAttentionOperands(op, a))
    return false;
  int outputIndex = op.find("output", TensorRole::Output, true);
  if (outputIndex < 0)
    return false;
  int lseIndex = op.find("lse", TensorRole::Output, false);
  if (!op.expectShape(outputIndex,
                      {a.batch, a.queryHeads, a.queries, a.valueDim}))
    return false;
  if (lseIndex >= 0 &&
      !op.expectShape(lseIndex, {a.batch, a.queryHeads, a.queries}))
    return false;
  if (!readAttentionAttributes(op, a))
    return false;
  if (op.checkingOnly())
    return true;
  if (!loadAttentionInputs(op, a))
    return false;
  std::vector<double> &output = op.output(outputIndex);
  std::vector<double> *lse = lseIndex >= 0 ? &op.output(lseIndex) : nullptr;

  parallelFor(a.batch * a.queryHeads * a.queries, [&](int64_t begin,
                                                     int64_t end) {
    std::vector<double> scores(static_cast<size_t>(a.keys));
    for (int64_t row = begin; row < end; ++row) {
      int64_t b = row / (a.queryHeads * a.queries);
      int64_t h = (row / a.queries) % a.queryHeads;
      int64_t i = row % a.queries;
      int64_t kvHead = h / a.groupSize;
      a.rowScores(b, h, i, scores);

      double maximum = negativeInfinity;
      for (double s : scores)
        maximum = std::max(maximum, s);
      double *out = &output[row * a.valueDim];
      if (maximum == negativeInfinity) { // Every key masked.
        std::fill(out, out + a.valueDim, 0.0);
        if (lse)
          (*lse)[row] = negativeInfinity;
        continue;
      }
      double sum = 0;
      for (double &s : scores) {
        s = std::exp(s - maximum); // Now the unnormalized probability.
        sum += s;
      }
      for (int64_t j = 0; j < a.keys; ++j) {
        if (scores[j] == 0)
          continue;
        const double *v =
            &(*a.value)[((b * a.keyHeads + kvHead) * a.keys + j) * a.valueDim];
        for (int64_t d = 0; d < a.valueDim; ++d)
          out[d] += scores[j] * v[d];
      }
      for (int64_t d = 0; d < a.valueDim; ++d)
        out[d] /= sum;
      if (lse)
        (*lse)[row] = maximum + std::log(sum);
    }
  });
  return true;
}

/// The gradients of attention from the saved output and lse (the
/// probabilities recomputed from lse) and the output's gradient.
static bool referenceAttentionGrad(OpOperands &op) {
  if (!op.checkKnown(
          {"query", "key", "value", "mask", "output", "lse", "grad_output"},
          {"grad_query", "grad_key", "grad_value"}))
    return false;
  AttentionProblem a;
  if (!readAttentionOperands(op, a))
    return false;
  int outputIndex = op.find("output", TensorRole::Input, true);
  int lseIndex =
      outputIndex < 0 ? -1 : op.find("lse", TensorRole::Input, true);
  int upstreamIndex =
      lseIndex < 0 ? -1 : op.find("grad_output", TensorRole::Input, true);
  int dqIndex = upstreamIndex < 0
                    ? -1
                    : op.find("grad_query", TensorRole::Output, true);
  int dkIndex =
      dqIndex < 0 ? -1 : op.find("grad_key", TensorRole::Output, true);
  int dvIndex =
      dkIndex < 0 ? -1 : op.find("grad_value", TensorRole::Output, true);
  if (dvIndex < 0)
    return false;
  std::vector<int64_t> outShape = {a.batch, a.queryHeads, a.queries,
                                   a.valueDim};
  for (int index : {outputIndex, upstreamIndex})
    if (op.shape(index) != outShape)
      return op.fail("operand \"" +
                     std::string(index == outputIndex ? "output"
                                                      : "grad_output") +
                     "\" has shape " + shapeString(op.shape(index)) +
                     " but should be " + shapeString(outShape));
  if (op.shape(lseIndex) !=
      std::vector<int64_t>{a.batch, a.queryHeads, a.queries})
    return op.fail("operand \"lse\" has shape " +
                   shapeString(op.shape(lseIndex)) + " but should be " +
                   shapeString({a.batch, a.queryHeads, a.queries}));
  if (!op.expectShape(dqIndex, op.shape(a.queryIndex)) ||
      !op.expectShape(dkIndex, op.shape(a.keyIndex)) ||
      !op.expectShape(dvIndex, op.shape(a.valueIndex)) ||
      !readAttentionAttributes(op, a))
    return false;
  if (op.checkingOnly())
    return true;
  if (!loadAttentionInputs(op, a))
    return false;
  const std::vector<double> *output = op.input(outputIndex);
  const std::vector<double> *lse = output ? op.input(lseIndex) : nullptr;
  const std::vector<double> *upstream = lse ? op.input(upstreamIndex) : nullptr;
  if (!upstream)
    return false;
  std::vector<double> &dq = op.output(dqIndex);
  std::vector<double> &dk = op.output(dkIndex);
  std::vector<double> &dv = op.output(dvIndex);

  // One task per key/value head: it owns that head's dk and dv, and the dq
  // of the query heads that share it.
  parallelFor(a.batch * a.keyHeads, [&](int64_t begin, int64_t end) {
    std::vector<double> scores(static_cast<size_t>(a.keys)),
        scaled(static_cast<size_t>(a.keys));
    for (int64_t task = begin; task < end; ++task) {
      int64_t b = task / a.keyHeads, kvHead = task % a.keyHeads;
      int64_t kvBase = (b * a.keyHeads + kvHead) * a.keys;
      for (int64_t h = kvHead * a.groupSize; h < (kvHead + 1) * a.groupSize;
           ++h)
        for (int64_t i = 0; i < a.queries; ++i) {
          int64_t row = (b * a.queryHeads + h) * a.queries + i;
          a.rowScores(b, h, i, scores, &scaled);
          const double *o = &(*output)[row * a.valueDim];
          const double *dout = &(*upstream)[row * a.valueDim];
          const double *q = &(*a.query)[row * a.headDim];
          double delta = 0;
          for (int64_t e = 0; e < a.valueDim; ++e)
            delta += dout[e] * o[e];
          for (int64_t j = 0; j < a.keys; ++j) {
            if (scores[j] == negativeInfinity)
              continue; // Hidden: no probability, no gradient.
            double p = std::exp(scores[j] - (*lse)[row]);
            const double *v = &(*a.value)[(kvBase + j) * a.valueDim];
            const double *k = &(*a.key)[(kvBase + j) * a.headDim];
            double dp = 0;
            for (int64_t e = 0; e < a.valueDim; ++e) {
              dp += dout[e] * v[e];
              dv[(kvBase + j) * a.valueDim + e] += p * dout[e];
            }
            double ds = p * (dp - delta);
            if (a.softcap) {
              double t = std::tanh(scaled[j] / *a.softcap);
              ds *= 1 - t * t;
            }
            for (int64_t d = 0; d < a.headDim; ++d) {
              dq[row * a.headDim + d] += a.scale * ds * k[d];
              dk[(kvBase + j) * a.headDim + d] += a.scale * ds * q[d];
            }
          }
        }
    }
  });
  return true;
}

//===----------------------------------------------------------------------===//
// attn.cross_entropy, attn.linear_cross_entropy
//===----------------------------------------------------------------------===//

namespace {
struct CrossEntropyAttributes {
  int64_t ignoreIndex = -100;
  double labelSmoothing = 0;
  double zLoss = 0;
  std::optional<double> softcap;
  std::string reduction;
  /// linear_cross_entropy_grad's grad_filter (absent elsewhere).
  std::optional<double> gradFilter;
};
} // namespace

static bool readCrossEntropyAttributes(OpOperands &op,
                                       CrossEntropyAttributes &attributes) {
  if (!op.intAttribute("ignore_index", attributes.ignoreIndex) ||
      !op.numberAttribute("label_smoothing", attributes.labelSmoothing) ||
      !op.numberAttribute("z_loss", attributes.zLoss) ||
      !op.optionalNumberAttribute("softcap", attributes.softcap) ||
      !op.stringAttribute("reduction", attributes.reduction) ||
      !op.optionalNumberAttribute("grad_filter", attributes.gradFilter))
    return false;
  if (attributes.reduction != "none" && attributes.reduction != "sum" &&
      attributes.reduction != "mean")
    return op.fail("reduction must be \"none\", \"sum\" or \"mean\", not \"" +
                   attributes.reduction + "\"");
  if (attributes.softcap && !(*attributes.softcap > 0))
    return op.fail("softcap must be positive");
  return true;
}

/// The loss and log-sum-exp of one token given its (uncapped) logits.
static void crossEntropyRow(std::vector<double> &logits, double label,
                            const CrossEntropyAttributes &attributes,
                            double &loss, double &lse) {
  if (attributes.softcap)
    for (double &z : logits)
      z = softcapValue(z, *attributes.softcap);
  double maximum = negativeInfinity, total = 0;
  for (double z : logits) {
    maximum = std::max(maximum, z);
    total += z;
  }
  double sum = 0;
  for (double z : logits)
    sum += std::exp(z - maximum);
  lse = maximum + std::log(sum);
  if (label == static_cast<double>(attributes.ignoreIndex)) {
    loss = 0;
    return;
  }
  double eps = attributes.labelSmoothing;
  double meanLogit = total / static_cast<double>(logits.size());
  loss = lse - (1 - eps) * logits[static_cast<size_t>(label)] -
         eps * meanLogit + attributes.zLoss * lse * lse;
}

/// Shared by both cross-entropy ops: `rowLogits(n, logits)` fills the
/// vocabulary-sized logits of token n.
static bool referenceCrossEntropyCommon(
    OpOperands &op, int labelsIndex, int64_t tokens, int64_t vocabulary,
    const std::function<void(int64_t, std::vector<double> &)> &rowLogits) {
  int lossIndex = op.find("loss", TensorRole::Output, true);
  if (lossIndex < 0)
    return false;
  int lseIndex = op.find("lse", TensorRole::Output, false);
  CrossEntropyAttributes attributes;
  if (!readCrossEntropyAttributes(op, attributes))
    return false;
  if (!op.expectShape(labelsIndex, {tokens}))
    return false;
  DType labelType = op.dtype(labelsIndex);
  if (labelType != DType::I32 && labelType != DType::I64)
    return op.fail("labels must be i32 or i64");
  if (vocabulary <= 0)
    return op.fail("the vocabulary is empty");
  bool perToken = attributes.reduction == "none";
  if (!op.expectShape(lossIndex, perToken ? std::vector<int64_t>{tokens}
                                          : std::vector<int64_t>{}))
    return false;
  if (lseIndex >= 0 && !op.expectShape(lseIndex, {tokens}))
    return false;
  // Labels out of range are a fact of the values, not of the spec.
  if (op.checkingOnly())
    return true;
  const std::vector<double> *labels = op.input(labelsIndex);
  if (!labels)
    return false;
  for (int64_t n = 0; n < tokens; ++n) {
    double label = (*labels)[n];
    if (label != static_cast<double>(attributes.ignoreIndex) &&
        (label < 0 || label >= static_cast<double>(vocabulary)))
      return op.fail("label " + std::to_string(static_cast<int64_t>(label)) +
                     " of token " + std::to_string(n) + " is outside [0, " +
                     std::to_string(vocabulary) + ") and is not ignore_index " +
                     std::to_string(attributes.ignoreIndex));
  }

  std::vector<double> losses(static_cast<size_t>(tokens)),
      lses(static_cast<size_t>(tokens));
  parallelFor(tokens, [&](int64_t begin, int64_t end) {
    std::vector<double> logits(static_cast<size_t>(vocabulary));
    for (int64_t n = begin; n < end; ++n) {
      rowLogits(n, logits);
      crossEntropyRow(logits, (*labels)[n], attributes, losses[n], lses[n]);
    }
  });

  std::vector<double> &loss = op.output(lossIndex);
  if (perToken) {
    loss = losses;
  } else {
    double sum = 0;
    int64_t counted = 0;
    for (int64_t n = 0; n < tokens; ++n) {
      if ((*labels)[n] == static_cast<double>(attributes.ignoreIndex))
        continue;
      sum += losses[n];
      ++counted;
    }
    if (attributes.reduction == "mean")
      sum = counted ? sum / static_cast<double>(counted) : 0.0;
    loss.assign(1, sum);
  }
  if (lseIndex >= 0)
    op.output(lseIndex) = lses;
  return true;
}

static bool referenceCrossEntropy(OpOperands &op) {
  if (!op.checkKnown({"logits", "labels"}, {"loss", "lse"}))
    return false;
  int logitsIndex = op.find("logits", TensorRole::Input, true);
  int labelsIndex =
      logitsIndex < 0 ? -1 : op.find("labels", TensorRole::Input, true);
  if (labelsIndex < 0 || !op.expectRank(logitsIndex, 2))
    return false;
  int64_t tokens = op.shape(logitsIndex)[0];
  int64_t vocabulary = op.shape(logitsIndex)[1];
  const std::vector<double> *logits = op.input(logitsIndex);
  if (!logits)
    return false;
  return referenceCrossEntropyCommon(
      op, labelsIndex, tokens, vocabulary,
      [&](int64_t n, std::vector<double> &row) {
        std::copy(logits->begin() + n * vocabulary,
                  logits->begin() + (n + 1) * vocabulary, row.begin());
      });
}

/// Counts the non-ignored tokens of `labels` into `counted`; fails on a
/// label outside [0, vocabulary) that is not ignore_index.
static bool countTokens(OpOperands &op, const std::vector<double> &labels,
                        int64_t vocabulary,
                        const CrossEntropyAttributes &attributes,
                        int64_t &counted) {
  double ignore = static_cast<double>(attributes.ignoreIndex);
  counted = 0;
  for (size_t n = 0; n < labels.size(); ++n) {
    double label = labels[n];
    if (label == ignore)
      continue;
    ++counted;
    if (label < 0 || label >= static_cast<double>(vocabulary))
      return op.fail("label " + std::to_string(static_cast<int64_t>(label)) +
                     " of token " + std::to_string(n) + " is outside [0, " +
                     std::to_string(vocabulary) + ") and is not ignore_index " +
                     std::to_string(attributes.ignoreIndex));
  }
  return true;
}

/// The upstream gradient of token n's loss: grad_loss[n] (none), the
/// scalar (sum) or the scalar over the `counted` non-ignored tokens (mean).
static double tokenUpstream(const std::vector<double> &upstream, int64_t n,
                            int64_t counted,
                            const CrossEntropyAttributes &attributes) {
  if (attributes.reduction == "none")
    return upstream[n];
  if (attributes.reduction == "mean")
    return counted ? upstream[0] / static_cast<double>(counted) : 0.0;
  return upstream[0];
}

/// The gradient of one token's loss (times its upstream gradient `g`) with
/// respect to its `vocabulary` uncapped logits `x`, into `grad`; zero for
/// an ignored token.
static void crossEntropyGradRow(const double *x, int64_t vocabulary,
                                double label, double lse, double g,
                                const CrossEntropyAttributes &attributes,
                                double *grad) {
  if (label == static_cast<double>(attributes.ignoreIndex)) {
    std::fill(grad, grad + vocabulary, 0.0);
    return;
  }
  double eps = attributes.labelSmoothing;
  int64_t target = static_cast<int64_t>(label);
  for (int64_t v = 0; v < vocabulary; ++v) {
    double z = x[v], dzdx = 1;
    if (attributes.softcap) {
      double t = std::tanh(x[v] / *attributes.softcap);
      z = *attributes.softcap * t;
      dzdx = 1 - t * t;
    }
    double dz = std::exp(z - lse) * (1 + 2 * attributes.zLoss * lse) -
                (v == target ? 1 - eps : 0) -
                eps / static_cast<double>(vocabulary);
    double element = dz * dzdx;
    // Gradient filtering: elements below the threshold are taken as 0.
    if (attributes.gradFilter && std::abs(element) < *attributes.gradFilter)
      element = 0;
    grad[v] = g * element;
  }
}

/// The gradient of the cross-entropy with respect to the logits, from the
/// forward's lse and the upstream gradient of the (reduced) loss.
static bool referenceCrossEntropyGrad(OpOperands &op) {
  if (!op.checkKnown({"logits", "labels", "lse", "grad_loss"}, {"grad_logits"}))
    return false;
  int logitsIndex = op.find("logits", TensorRole::Input, true);
  int labelsIndex =
      logitsIndex < 0 ? -1 : op.find("labels", TensorRole::Input, true);
  int lseIndex = labelsIndex < 0 ? -1 : op.find("lse", TensorRole::Input, true);
  int upstreamIndex =
      lseIndex < 0 ? -1 : op.find("grad_loss", TensorRole::Input, true);
  int gradIndex = upstreamIndex < 0
                      ? -1
                      : op.find("grad_logits", TensorRole::Output, true);
  if (gradIndex < 0 || !op.expectRank(logitsIndex, 2))
    return false;
  const std::vector<int64_t> &shape = op.shape(logitsIndex);
  int64_t tokens = shape[0], vocabulary = shape[1];
  CrossEntropyAttributes attributes;
  if (!readCrossEntropyAttributes(op, attributes))
    return false;
  DType labelType = op.dtype(labelsIndex);
  if (labelType != DType::I32 && labelType != DType::I64)
    return op.fail("labels must be i32 or i64");
  if (vocabulary <= 0)
    return op.fail("the vocabulary is empty");
  bool perToken = attributes.reduction == "none";
  std::vector<int64_t> upstreamShape =
      perToken ? std::vector<int64_t>{tokens} : std::vector<int64_t>{};
  if (op.shape(labelsIndex) != std::vector<int64_t>{tokens} ||
      op.shape(lseIndex) != std::vector<int64_t>{tokens} ||
      op.shape(upstreamIndex) != upstreamShape)
    return op.fail("labels " + shapeString(op.shape(labelsIndex)) + ", lse " +
                   shapeString(op.shape(lseIndex)) + " and grad_loss " +
                   shapeString(op.shape(upstreamIndex)) +
                   " should be [N], [N] and " + shapeString(upstreamShape) +
                   " for logits " + shapeString(shape));
  if (!op.expectShape(gradIndex, shape))
    return false;
  if (op.checkingOnly())
    return true;
  const std::vector<double> *logits = op.input(logitsIndex);
  const std::vector<double> *labels = logits ? op.input(labelsIndex) : nullptr;
  const std::vector<double> *lse = labels ? op.input(lseIndex) : nullptr;
  const std::vector<double> *upstream =
      lse ? op.input(upstreamIndex) : nullptr;
  if (!upstream)
    return false;
  int64_t counted = 0;
  if (!countTokens(op, *labels, vocabulary, attributes, counted))
    return false;

  std::vector<double> &grad = op.output(gradIndex);
  parallelFor(tokens, [&](int64_t begin, int64_t end) {
    for (int64_t n = begin; n < end; ++n)
      crossEntropyGradRow(&(*logits)[n * vocabulary], vocabulary,
                          (*labels)[n], (*lse)[n],
                          tokenUpstream(*upstream, n, counted, attributes),
                          attributes, &grad[n * vocabulary]);
  });
  return true;
}

static bool referenceLinearCrossEntropy(OpOperands &op) {
  if (!op.checkKnown({"hidden", "weight", "labels", "bias"}, {"loss", "lse"}))
    return false;
  int hiddenIndex = op.find("hidden", TensorRole::Input, true);
  int weightIndex =
      hiddenIndex < 0 ? -1 : op.find("weight", TensorRole::Input, true);
  int labelsIndex =
      weightIndex < 0 ? -1 : op.find("labels", TensorRole::Input, true);
  if (labelsIndex < 0)
    return false;
  int biasIndex = op.find("bias", TensorRole::Input, false);
  if (!op.expectRank(hiddenIndex, 2) || !op.expectRank(weightIndex, 2))
    return false;
  int64_t tokens = op.shape(hiddenIndex)[0];
  int64_t hiddenDim = op.shape(hiddenIndex)[1];
  int64_t vocabulary = op.shape(weightIndex)[0];
  if (op.shape(weightIndex)[1] != hiddenDim)
    return op.fail("hidden " + shapeString(op.shape(hiddenIndex)) +
                   " and weight " + shapeString(op.shape(weightIndex)) +
                   " differ in the hidden dim");
  if (biasIndex >= 0 && op.shape(biasIndex) != std::vector<int64_t>{vocabulary})
    return op.fail("bias has shape " + shapeString(op.shape(biasIndex)) +
                   "; expected [" + std::to_string(vocabulary) + "]");
  const std::vector<double> *hidden = op.input(hiddenIndex);
  const std::vector<double> *weight = hidden ? op.input(weightIndex) : nullptr;
  const std::vector<double> *bias =
      weight && biasIndex >= 0 ? op.input(biasIndex) : nullptr;
  if (!weight || (biasIndex >= 0 && !bias))
    return false;
  return referenceCrossEntropyCommon(
      op, labelsIndex, tokens, vocabulary,
      [&](int64_t n, std::vector<double> &row) {
        const double *h = &(*hidden)[n * hiddenDim];
        for (int64_t v = 0; v < vocabulary; ++v) {
          const double *w = &(*weight)[v * hiddenDim];
          double dot = bias ? (*bias)[v] : 0.0;
          for (int64_t d = 0; d < hiddenDim; ++d)
            dot += h[d] * w[d];
          row[v] = dot;
        }
      });
}

/// The gradients of the linear cross-entropy: each token's logits as the
/// forward computes them, their gradient by cross_entropy_grad's rule, then
/// dh = dlogits W, dW = dlogits^T h and dbias = the column sums of dlogits.
static bool referenceLinearCrossEntropyGrad(OpOperands &op) {
  if (!op.checkKnown({"hidden", "weight", "labels", "bias", "lse", "grad_loss"},
                     {"grad_hidden", "grad_weight", "grad_bias"}))
    return false;
  int hiddenIndex = op.find("hidden", TensorRole::Input, true);
  int weightIndex =
      hiddenIndex < 0 ? -1 : op.find("weight", TensorRole::Input, true);
  int labelsIndex =
      weightIndex < 0 ? -1 : op.find("labels", TensorRole::Input, true);
  int lseIndex = labelsIndex < 0 ? -1 : op.find("lse", TensorRole::Input, true);
  int upstreamIndex =
      lseIndex < 0 ? -1 : op.find("grad_loss", TensorRole::Input, true);
  int dhIndex = upstreamIndex < 0
                    ? -1
                    : op.find("grad_hidden", TensorRole::Output, true);
  int dwIndex =
      dhIndex < 0 ? -1 : op.find("grad_weight", TensorRole::Output, true);
  if (dwIndex < 0)
    return false;
  int biasIndex = op.find("bias", TensorRole::Input, false);
  int dbIndex = op.find("grad_bias", TensorRole::Output, false);
  if ((biasIndex < 0) != (dbIndex < 0))
    return op.fail("result \"grad_bias\" must be present exactly when "
                   "operand \"bias\" is");
  if (!op.expectRank(hiddenIndex, 2) || !op.expectRank(weightIndex, 2))
    return false;
  int64_t tokens = op.shape(hiddenIndex)[0];
  int64_t hiddenDim = op.shape(hiddenIndex)[1];
  int64_t vocabulary = op.shape(weightIndex)[0];
  if (op.shape(weightIndex)[1] != hiddenDim)
    return op.fail("hidden " + shapeString(op.shape(hiddenIndex)) +
                   " and weight " + shapeString(op.shape(weightIndex)) +
                   " differ in the hidden dim");
  if (biasIndex >= 0 && op.shape(biasIndex) != std::vector<int64_t>{vocabulary})
    return op.fail("bias has shape " + shapeString(op.shape(biasIndex)) +
                   "; expected [" + std::to_string(vocabulary) + "]");
  CrossEntropyAttributes attributes;
  if (!readCrossEntropyAttributes(op, attributes))
    return false;
  DType labelType = op.dtype(labelsIndex);
  if (labelType != DType::I32 && labelType != DType::I64)
    return op.fail("labels must be i32 or i64");
  if (vocabulary <= 0)
    return op.fail("the vocabulary is empty");
  std::vector<int64_t> upstreamShape = attributes.reduction == "none"
                                           ? std::vector<int64_t>{tokens}
                                           : std::vector<int64_t>{};
  if (op.shape(labelsIndex) != std::vector<int64_t>{tokens} ||
      op.shape(lseIndex) != std::vector<int64_t>{tokens} ||
      op.shape(upstreamIndex) != upstreamShape)
    return op.fail("labels " + shapeString(op.shape(labelsIndex)) + ", lse " +
                   shapeString(op.shape(lseIndex)) + " and grad_loss " +
                   shapeString(op.shape(upstreamIndex)) +
                   " should be [N], [N] and " + shapeString(upstreamShape) +
                   " for hidden " + shapeString(op.shape(hiddenIndex)));
  if (!op.expectShape(dhIndex, op.shape(hiddenIndex)) ||
      !op.expectShape(dwIndex, op.shape(weightIndex)) ||
      (dbIndex >= 0 && !op.expectShape(dbIndex, {vocabulary})))
    return false;
  if (op.checkingOnly())
    return true;
  const std::vector<double> *hidden = op.input(hiddenIndex);
  const std::vector<double> *weight = hidden ? op.input(weightIndex) : nullptr;
  const std::vector<double> *labels = weight ? op.input(labelsIndex) : nullptr;
  const std::vector<double> *lse = labels ? op.input(lseIndex) : nullptr;
  const std::vector<double> *upstream =
      lse ? op.input(upstreamIndex) : nullptr;
  const std::vector<double> *bias =
      upstream && biasIndex >= 0 ? op.input(biasIndex) : nullptr;
  if (!upstream || (biasIndex >= 0 && !bias))
    return false;
  int64_t counted = 0;
  if (!countTokens(op, *labels, vocabulary, attributes, counted))
    return false;

  // dlogits [N, V], token by token.
  std::vector<double> dLogits(static_cast<size_t>(tokens * vocabulary));
  parallelFor(tokens, [&](int64_t begin, int64_t end) {
    std::vector<double> row(static_cast<size_t>(vocabulary));
    for (int64_t n = begin; n < end; ++n) {
      const double *h = &(*hidden)[n * hiddenDim];
      for (int64_t v = 0; v < vocabulary; ++v) {
        const double *w = &(*weight)[v * hiddenDim];
        double dot = bias ? (*bias)[v] : 0.0;
        for (int64_t d = 0; d < hiddenDim; ++d)
          dot += h[d] * w[d];
        row[v] = dot;
      }
      crossEntropyGradRow(row.data(), vocabulary, (*labels)[n], (*lse)[n],
                          tokenUpstream(*upstream, n, counted, attributes),
                          attributes, &dLogits[n * vocabulary]);
    }
  });
  std::vector<double> &dh = op.output(dhIndex);
  parallelFor(tokens, [&](int64_t begin, int64_t end) {
    for (int64_t n = begin; n < end; ++n)
      for (int64_t v = 0; v < vocabulary; ++v) {
        double g = dLogits[n * vocabulary + v];
        for (int64_t d = 0; d < hiddenDim; ++d)
          dh[n * hiddenDim + d] += g * (*weight)[v * hiddenDim + d];
      }
  });
  std::vector<double> &dw = op.output(dwIndex);
  std::vector<double> *db = dbIndex >= 0 ? &op.output(dbIndex) : nullptr;
  parallelFor(vocabulary, [&](int64_t begin, int64_t end) {
    for (int64_t v = begin; v < end; ++v)
      for (int64_t n = 0; n < tokens; ++n) {
        double g = dLogits[n * vocabulary + v];
        for (int64_t d = 0; d < hiddenDim; ++d)
          dw[v * hiddenDim + d] += g * (*hidden)[n * hiddenDim + d];
        if (db)
          (*db)[v] += g;
      }
  });
  return true;
}

//===----------------------------------------------------------------------===//
// Entry points
//===----------------------------------------------------------------------===//

bool attn::testing::hasReference(const std::string &opName) {
  return opName == "attn.softmax" || opName == "attn.log_softmax" ||
         opName == "attn.logsumexp" || opName == "attn.attention" ||
         opName == "attn.cross_entropy" ||
         opName == "attn.linear_cross_entropy" ||
         opName == "attn.softmax_grad" || opName == "attn.log_softmax_grad" ||
         opName == "attn.logsumexp_grad" ||
         opName == "attn.cross_entropy_grad" ||
         opName == "attn.linear_cross_entropy_grad" ||
         opName == "attn.attention_grad";
}

/// computeReference, or with `checkOnly` its checks of the spec alone.
static bool runReference(const FunctionSpec &spec,
                         std::vector<std::vector<double>> &values,
                         std::string &error, bool checkOnly) {
  if (!spec.op) {
    error = "function " + spec.name +
            " is not a single attn op; there is no reference to compare with";
    return false;
  }
  if (values.size() != spec.args.size()) {
    error = "computeReference: " + std::to_string(values.size()) +
            " value arrays for " + std::to_string(spec.args.size()) +
            " arguments";
    return false;
  }
  const std::string &name = spec.op->name;
  OpOperands op(spec, values, error, checkOnly);
  if (name == "attn.softmax" || name == "attn.log_softmax" ||
      name == "attn.logsumexp")
    return referenceSoftmaxFamily(op, name);
  if (name == "attn.attention")
    return referenceAttention(op);
  if (name == "attn.cross_entropy")
    return referenceCrossEntropy(op);
  if (name == "attn.linear_cross_entropy")
    return referenceLinearCrossEntropy(op);
  if (name == "attn.softmax_grad" || name == "attn.log_softmax_grad")
    return referenceSoftmaxGrad(op, name == "attn.log_softmax_grad");
  if (name == "attn.logsumexp_grad")
    return referenceLogSumExpGrad(op);
  if (name == "attn.cross_entropy_grad")
    return referenceCrossEntropyGrad(op);
  if (name == "attn.linear_cross_entropy_grad")
    return referenceLinearCrossEntropyGrad(op);
  if (name == "attn.attention_grad")
    return referenceAttentionGrad(op);
  error = "no reference implementation for op " + name;
  return false;
}

bool attn::testing::checkReferenceSpec(const FunctionSpec &spec,
                                       std::string &error) {
  // No values: every reference returns before reading one.
  std::vector<std::vector<double>> values(spec.args.size());
  return runReference(spec, values, error, /*checkOnly=*/true);
}

bool attn::testing::computeReference(const FunctionSpec &spec,
                                     std::vector<std::vector<double>> &values,
                                     std::string &error) {
  return runReference(spec, values, error, /*checkOnly=*/false);
}
