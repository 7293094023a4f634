//===- ReferenceTest.cpp - Checks of the test oracle ----------------------===//
//
// AttnTesting is the oracle for every kernel, so it is itself checked here:
// the float64 reference against values derived by hand (each test says
// how), seeded random inputs and output comparison. Prints
// "N passed, 0 failed" on success (attn-reference-test).
//
//===----------------------------------------------------------------------===//

#include "attn/Testing/Compare.h"
#include "attn/Testing/Gradients.h"
#include "attn/Testing/Inputs.h"
#include "attn/Testing/Reference.h"

#include "TestCheck.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

using namespace attn::runtime;
using namespace attn::testing;

namespace {

const double inf = std::numeric_limits<double>::infinity();
const double tight = 1e-12;

/// One argument of a test function.
struct ArgDesc {
  std::string role;
  std::string operand;
  std::string dtype;
  std::vector<int64_t> shape;
};

ArgDesc in(const std::string &operand, std::vector<int64_t> shape,
           const std::string &dtype = "f64") {
  return {"input", operand, dtype, std::move(shape)};
}
ArgDesc out(const std::string &operand, std::vector<int64_t> shape,
            const std::string &dtype = "f64") {
  return {"output", operand, dtype, std::move(shape)};
}

/// Builds a function spec for `op` from JSON text, the way a manifest
/// describes it, so the checks also go through parseFunctionSpec.
FunctionSpec makeSpec(const std::string &op, const std::string &attributes,
                      const std::vector<ArgDesc> &args) {
  std::string text = "{\"name\": \"f\", \"op\": {\"name\": \"" + op +
                     "\", \"attributes\": " + attributes + "}, \"args\": [";
  for (size_t i = 0; i < args.size(); ++i) {
    std::string shape;
    for (size_t d = 0; d < args[i].shape.size(); ++d)
      shape += (d ? ", " : "") + std::to_string(args[i].shape[d]);
    text += std::string(i ? ", " : "") + "{\"name\": \"a" + std::to_string(i) +
            "\", \"role\": \"" + args[i].role + "\", \"operand\": \"" +
            args[i].operand + "\", \"dtype\": \"" + args[i].dtype +
            "\", \"shape\": [" + shape + "]}";
  }
  text += "]}";
  JsonValue json;
  std::string error;
  FunctionSpec spec;
  if (!ATTN_CHECK_MSG(parseJson(text, json, error), error) ||
      !ATTN_CHECK_MSG(parseFunctionSpec(json, spec, error), error))
    return FunctionSpec();
  return spec;
}

/// Runs the reference on `inputs` (in input order); returns the outputs in
/// output order, or an empty vector with `error` set.
std::vector<std::vector<double>>
runReference(const FunctionSpec &spec,
             const std::vector<std::vector<double>> &inputs,
             std::string &error) {
  std::vector<std::vector<double>> values(spec.args.size());
  size_t next = 0;
  for (size_t i = 0; i < spec.args.size(); ++i)
    if (spec.args[i].role == TensorRole::Input && next < inputs.size())
      values[i] = inputs[next++];
  // The cheap check of the spec alone agrees: it fails only where the
  // reference fails, with the same message (the reference may also fail on
  // values, e.g. a label out of range, which the spec check cannot see).
  std::string specError;
  bool specOk = checkReferenceSpec(spec, specError);
  bool ok = computeReference(spec, values, error);
  ATTN_CHECK_MSG(specOk || (!ok && specError == error),
                 "checkReferenceSpec: \"" + specError +
                     "\"; computeReference: \"" + error + "\"");
  if (!ok)
    return {};
  std::vector<std::vector<double>> outputs;
  for (size_t i = 0; i < spec.args.size(); ++i)
    if (spec.args[i].role == TensorRole::Output)
      outputs.push_back(values[i]);
  return outputs;
}

/// Like runReference, but records a failed check if the reference fails.
std::vector<std::vector<double>>
expectReference(const FunctionSpec &spec,
                const std::vector<std::vector<double>> &inputs,
                size_t outputCount) {
  std::string error;
  std::vector<std::vector<double>> outputs = runReference(spec, inputs, error);
  if (!ATTN_CHECK_MSG(outputs.size() == outputCount, error))
    return std::vector<std::vector<double>>(outputCount);
  return outputs;
}

/// Checks that the reference rejects the function with an error containing
/// `expected`.
void expectError(const FunctionSpec &spec,
                 const std::vector<std::vector<double>> &inputs,
                 const std::string &expected) {
  std::string error;
  std::vector<std::vector<double>> outputs = runReference(spec, inputs, error);
  ATTN_CHECK_MSG(outputs.empty() && error.find(expected) != std::string::npos,
                 "error \"" + error + "\" should contain \"" + expected + "\"");
}

bool sizesAre(const std::vector<double> &values, size_t size) {
  return ATTN_CHECK_MSG(values.size() == size,
                        std::to_string(values.size()) + " elements");
}

//===----------------------------------------------------------------------===//
// Softmax family
//===----------------------------------------------------------------------===//

void testSoftmaxOfZeroAndLogTwo() {
  // exp(0) : exp(ln 2) = 1 : 2, so softmax is [1/3, 2/3] and the
  // log-sum-exp is ln(1 + 2) = ln 3.
  std::vector<double> x = {0.0, std::log(2.0)};
  auto softmax =
      expectReference(makeSpec("attn.softmax", "{\"dim\": 1}",
                               {in("input", {1, 2}), out("result", {1, 2})}),
                      {x}, 1);
  if (sizesAre(softmax[0], 2)) {
    ATTN_CHECK_NEAR(softmax[0][0], 1.0 / 3, tight);
    ATTN_CHECK_NEAR(softmax[0][1], 2.0 / 3, tight);
  }
  auto logSoftmax =
      expectReference(makeSpec("attn.log_softmax", "{\"dim\": -1}",
                               {in("input", {1, 2}), out("result", {1, 2})}),
                      {x}, 1);
  if (sizesAre(logSoftmax[0], 2)) {
    ATTN_CHECK_NEAR(logSoftmax[0][0], std::log(1.0 / 3), tight);
    ATTN_CHECK_NEAR(logSoftmax[0][1], std::log(2.0 / 3), tight);
  }
  auto lse = expectReference(
      makeSpec("attn.logsumexp", "{\"dim\": 1}",
               {in("input", {1, 2}), out("result", {1}, "f32")}),
      {x}, 1);
  if (sizesAre(lse[0], 1))
    ATTN_CHECK_NEAR(lse[0][0], std::log(3.0), tight);
}

void testSoftmaxAlongLeadingDim() {
  // A 2x2 input [[0, 5], [ln 3, 5]] over dim 0: column 0 is [0, ln 3]
  // (weights 1:3), column 1 is [5, 5] (1:1).
  std::vector<double> x = {0.0, 5.0, std::log(3.0), 5.0};
  auto result =
      expectReference(makeSpec("attn.softmax", "{\"dim\": 0}",
                               {in("input", {2, 2}), out("result", {2, 2})}),
                      {x}, 1);
  if (sizesAre(result[0], 4)) {
    ATTN_CHECK_NEAR(result[0][0], 0.25, tight);
    ATTN_CHECK_NEAR(result[0][2], 0.75, tight);
    ATTN_CHECK_NEAR(result[0][1], 0.5, tight);
    ATTN_CHECK_NEAR(result[0][3], 0.5, tight);
  }
  // logsumexp over dim 0 of a [2, 3] input drops that dim: result [3].
  auto lse = expectReference(
      makeSpec("attn.logsumexp", "{\"dim\": 0}",
               {in("input", {2, 3}), out("result", {3}, "f32")}),
      {{0, 1, 2, 0, 1, 2}}, 1);
  if (sizesAre(lse[0], 3))
    for (int c = 0; c < 3; ++c)
      ATTN_CHECK_NEAR(lse[0][c], c + std::log(2.0), tight);
}

void testSoftmaxErrors() {
  expectError(makeSpec("attn.logsumexp", "{\"dim\": 1}",
                       {in("input", {2, 3}), out("result", {2, 3})}),
              {std::vector<double>(6)}, "should be [2]");
  expectError(makeSpec("attn.softmax", "{\"dim\": 2}",
                       {in("input", {2, 3}), out("result", {2, 3})}),
              {std::vector<double>(6)}, "dim 2 is out of range");
  expectError(makeSpec("attn.softmax", "{}",
                       {in("input", {2, 3}), out("result", {2, 3})}),
              {std::vector<double>(6)}, "missing attribute \"dim\"");
}

//===----------------------------------------------------------------------===//
// Attention
//===----------------------------------------------------------------------===//

std::string attentionAttributes(double scale, bool causal,
                                const std::string &window = "null",
                                const std::string &softcap = "null") {
  return "{\"scale\": " + std::to_string(scale) +
         ", \"causal\": " + (causal ? "true" : "false") +
         ", \"window\": " + window + ", \"softcap\": " + softcap + "}";
}

void testAttentionWithOneKeyReturnsItsValue() {
  // With a single key the softmax weight is 1: out = v, whatever q and k;
  // lse = the one score, scale * q.k = 0.5 * (1*3 + 2*4) = 5.5.
  FunctionSpec spec =
      makeSpec("attn.attention", attentionAttributes(0.5, false),
               {in("query", {1, 1, 1, 2}), in("key", {1, 1, 1, 2}),
                in("value", {1, 1, 1, 3}), out("output", {1, 1, 1, 3}),
                out("lse", {1, 1, 1}, "f32")});
  auto outputs = expectReference(spec, {{1, 2}, {3, 4}, {7, -8, 9}}, 2);
  if (sizesAre(outputs[0], 3) && sizesAre(outputs[1], 1)) {
    ATTN_CHECK_NEAR(outputs[0][0], 7, tight);
    ATTN_CHECK_NEAR(outputs[0][1], -8, tight);
    ATTN_CHECK_NEAR(outputs[0][2], 9, tight);
    ATTN_CHECK_NEAR(outputs[1][0], 5.5, tight);
  }
}

void testAttentionWeightsByScore() {
  // q = [1], keys [0] and [ln 3] with scale 1: scores 0 and ln 3, weights
  // 1/4 and 3/4; values 4 and 8 give 0.25*4 + 0.75*8 = 7; lse = ln 4.
  FunctionSpec spec =
      makeSpec("attn.attention", attentionAttributes(1.0, false),
               {in("query", {1, 1, 1, 1}), in("key", {1, 1, 2, 1}),
                in("value", {1, 1, 2, 1}), out("output", {1, 1, 1, 1}),
                out("lse", {1, 1, 1}, "f32")});
  auto outputs = expectReference(spec, {{1}, {0, std::log(3.0)}, {4, 8}}, 2);
  if (sizesAre(outputs[0], 1) && sizesAre(outputs[1], 1)) {
    ATTN_CHECK_NEAR(outputs[0][0], 7, tight);
    ATTN_CHECK_NEAR(outputs[1][0], std::log(4.0), tight);
  }
}

void testCausalWithMoreQueriesThanKeysMasksFirstRows() {
  // M = 3 queries, N = 1 key, bottom-right aligned: query i sees key j when
  // j <= i + (N - M) = i - 2, so rows 0 and 1 see nothing (out 0, lse -inf)
  // and row 2 sees key 0 (out = v, lse = q.k = 2*1 = 2).
  FunctionSpec spec =
      makeSpec("attn.attention", attentionAttributes(1.0, true),
               {in("query", {1, 1, 3, 1}), in("key", {1, 1, 1, 1}),
                in("value", {1, 1, 1, 2}), out("output", {1, 1, 3, 2}),
                out("lse", {1, 1, 3}, "f32")});
  auto outputs = expectReference(spec, {{5, 6, 2}, {1}, {3, -4}}, 2);
  if (sizesAre(outputs[0], 6) && sizesAre(outputs[1], 3)) {
    for (int i = 0; i < 4; ++i)
      ATTN_CHECK_NEAR(outputs[0][i], 0, 0);
    ATTN_CHECK_NEAR(outputs[0][4], 3, tight);
    ATTN_CHECK_NEAR(outputs[0][5], -4, tight);
    ATTN_CHECK(outputs[1][0] == -inf);
    ATTN_CHECK(outputs[1][1] == -inf);
    ATTN_CHECK_NEAR(outputs[1][2], 2, tight);
  }
}

void testCausalSquareIsLowerTriangular() {
  // M = N = 2, q = 0 so all allowed keys weigh the same: row 0 sees key 0
  // (out v0 = 10), row 1 sees keys 0 and 1 (out (10 + 20) / 2 = 15,
  // lse = ln 2).
  FunctionSpec spec =
      makeSpec("attn.attention", attentionAttributes(1.0, true),
               {in("query", {1, 1, 2, 1}), in("key", {1, 1, 2, 1}),
                in("value", {1, 1, 2, 1}), out("output", {1, 1, 2, 1}),
                out("lse", {1, 1, 2}, "f32")});
  auto outputs = expectReference(spec, {{0, 0}, {1, 2}, {10, 20}}, 2);
  if (sizesAre(outputs[0], 2) && sizesAre(outputs[1], 2)) {
    ATTN_CHECK_NEAR(outputs[0][0], 10, tight);
    ATTN_CHECK_NEAR(outputs[0][1], 15, tight);
    ATTN_CHECK_NEAR(outputs[1][0], 0, tight);
    ATTN_CHECK_NEAR(outputs[1][1], std::log(2.0), tight);
  }
}

void testSlidingWindow() {
  // M = N = 3, window [1, 0], not causal, equal scores (q = 0), value j = j:
  // query i sees keys i-1..i: row 0 {0} -> 0, row 1 {0,1} -> 0.5,
  // row 2 {1,2} -> 1.5.
  FunctionSpec spec =
      makeSpec("attn.attention", attentionAttributes(1.0, false, "[1, 0]"),
               {in("query", {1, 1, 3, 1}), in("key", {1, 1, 3, 1}),
                in("value", {1, 1, 3, 1}), out("output", {1, 1, 3, 1})});
  auto outputs = expectReference(spec, {{0, 0, 0}, {1, 2, 3}, {0, 1, 2}}, 1);
  if (sizesAre(outputs[0], 3)) {
    ATTN_CHECK_NEAR(outputs[0][0], 0, tight);
    ATTN_CHECK_NEAR(outputs[0][1], 0.5, tight);
    ATTN_CHECK_NEAR(outputs[0][2], 1.5, tight);
  }
  // Window [0, 1]: query i sees keys i..i+1: row 0 {0,1} -> 0.5,
  // row 1 {1,2} -> 1.5, row 2 {2} -> 2.
  FunctionSpec ahead =
      makeSpec("attn.attention", attentionAttributes(1.0, false, "[0, 1]"),
               {in("query", {1, 1, 3, 1}), in("key", {1, 1, 3, 1}),
                in("value", {1, 1, 3, 1}), out("output", {1, 1, 3, 1})});
  outputs = expectReference(ahead, {{0, 0, 0}, {1, 2, 3}, {0, 1, 2}}, 1);
  if (sizesAre(outputs[0], 3)) {
    ATTN_CHECK_NEAR(outputs[0][0], 0.5, tight);
    ATTN_CHECK_NEAR(outputs[0][1], 1.5, tight);
    ATTN_CHECK_NEAR(outputs[0][2], 2, tight);
  }
}

void testGroupedQueryHeadsShareKeys() {
  // Hq = 2, Hkv = 1: both query heads read key/value head 0. With one key
  // each head's output is that value.
  FunctionSpec spec =
      makeSpec("attn.attention", attentionAttributes(1.0, false),
               {in("query", {1, 2, 1, 1}), in("key", {1, 1, 1, 1}),
                in("value", {1, 1, 1, 2}), out("output", {1, 2, 1, 2})});
  auto outputs = expectReference(spec, {{1, -1}, {1}, {3, 4}}, 1);
  if (sizesAre(outputs[0], 4)) {
    ATTN_CHECK_NEAR(outputs[0][0], 3, tight);
    ATTN_CHECK_NEAR(outputs[0][1], 4, tight);
    ATTN_CHECK_NEAR(outputs[0][2], 3, tight);
    ATTN_CHECK_NEAR(outputs[0][3], 4, tight);
  }
  // Hq = 4, Hkv = 2: heads 0,1 read kv head 0 and heads 2,3 kv head 1.
  FunctionSpec grouped =
      makeSpec("attn.attention", attentionAttributes(1.0, false),
               {in("query", {1, 4, 1, 1}), in("key", {1, 2, 1, 1}),
                in("value", {1, 2, 1, 1}), out("output", {1, 4, 1, 1})});
  outputs = expectReference(grouped, {{1, 1, 1, 1}, {1, 1}, {5, 7}}, 1);
  if (sizesAre(outputs[0], 4)) {
    ATTN_CHECK_NEAR(outputs[0][0], 5, tight);
    ATTN_CHECK_NEAR(outputs[0][1], 5, tight);
    ATTN_CHECK_NEAR(outputs[0][2], 7, tight);
    ATTN_CHECK_NEAR(outputs[0][3], 7, tight);
  }
}

void testMasks() {
  // A bool mask [1, 2] = [false, true] drops key 0: out = v1 = 8.
  FunctionSpec boolSpec =
      makeSpec("attn.attention", attentionAttributes(1.0, false),
               {in("query", {1, 1, 1, 1}), in("key", {1, 1, 2, 1}),
                in("value", {1, 1, 2, 1}), in("mask", {1, 2}, "i1"),
                out("output", {1, 1, 1, 1})});
  auto outputs = expectReference(boolSpec, {{1}, {5, 0}, {4, 8}, {0, 1}}, 1);
  if (sizesAre(outputs[0], 1))
    ATTN_CHECK_NEAR(outputs[0][0], 8, tight);

  // A float mask [0, ln 3] added to equal scores weighs the keys 1:3:
  // 0.25*4 + 0.75*8 = 7; lse = ln(1 + 3).
  FunctionSpec floatSpec =
      makeSpec("attn.attention", attentionAttributes(1.0, false),
               {in("query", {1, 1, 1, 1}), in("key", {1, 1, 2, 1}),
                in("value", {1, 1, 2, 1}), in("mask", {1, 1, 1, 2}, "f32"),
                out("output", {1, 1, 1, 1}), out("lse", {1, 1, 1}, "f32")});
  outputs =
      expectReference(floatSpec, {{0}, {1, 1}, {4, 8}, {0, std::log(3.0)}}, 2);
  if (sizesAre(outputs[0], 1) && sizesAre(outputs[1], 1)) {
    ATTN_CHECK_NEAR(outputs[0][0], 7, tight);
    ATTN_CHECK_NEAR(outputs[1][0], std::log(4.0), tight);
  }

  // A per-head mask [1, 2, 1, 1]: head 0 keeps its key, head 1 masks it
  // (fully masked row: out 0, lse -inf).
  FunctionSpec perHead =
      makeSpec("attn.attention", attentionAttributes(1.0, false),
               {in("query", {1, 2, 1, 1}), in("key", {1, 2, 1, 1}),
                in("value", {1, 2, 1, 1}), in("mask", {1, 2, 1, 1}, "i1"),
                out("output", {1, 2, 1, 1}), out("lse", {1, 2, 1}, "f32")});
  outputs = expectReference(perHead, {{1, 1}, {1, 1}, {6, 9}, {1, 0}}, 2);
  if (sizesAre(outputs[0], 2) && sizesAre(outputs[1], 2)) {
    ATTN_CHECK_NEAR(outputs[0][0], 6, tight);
    ATTN_CHECK_NEAR(outputs[0][1], 0, 0);
    ATTN_CHECK_NEAR(outputs[1][0], 1, tight);
    ATTN_CHECK(outputs[1][1] == -inf);
  }
}

void testAttentionSoftcap() {
  // One key, scale * q.k = 2, softcap 1: the score becomes tanh(2), which
  // is the lse.
  FunctionSpec spec =
      makeSpec("attn.attention", attentionAttributes(1.0, false, "null", "1.0"),
               {in("query", {1, 1, 1, 1}), in("key", {1, 1, 1, 1}),
                in("value", {1, 1, 1, 1}), out("output", {1, 1, 1, 1}),
                out("lse", {1, 1, 1}, "f32")});
  auto outputs = expectReference(spec, {{1}, {2}, {3}}, 2);
  if (sizesAre(outputs[1], 1))
    ATTN_CHECK_NEAR(outputs[1][0], std::tanh(2.0), tight);
}

void testAttentionShapeErrors() {
  std::vector<std::vector<double>> inputs = {
      std::vector<double>(4), std::vector<double>(8), std::vector<double>(8)};
  expectError(
      makeSpec("attn.attention", attentionAttributes(1.0, false),
               {in("query", {1, 1, 1, 4}), in("key", {1, 1, 1, 8}),
                in("value", {1, 1, 1, 8}), out("output", {1, 1, 1, 8})}),
      inputs, "head dims differ");
  expectError(
      makeSpec("attn.attention", attentionAttributes(1.0, false),
               {in("query", {1, 3, 1, 4}), in("key", {1, 2, 1, 4}),
                in("value", {1, 2, 1, 4}), out("output", {1, 3, 1, 4})}),
      inputs, "not a multiple of key heads");
  expectError(makeSpec("attn.attention", attentionAttributes(1.0, false),
                       {in("query", {1, 1, 1, 4}), in("key", {1, 1, 2, 4}),
                        in("value", {1, 1, 2, 4}), in("mask", {1, 3}, "i1"),
                        out("output", {1, 1, 1, 4})}),
              inputs, "mask has shape [1, 3]");
  expectError(
      makeSpec("attn.attention", attentionAttributes(1.0, false),
               {in("query", {1, 1, 1, 4}), in("key", {1, 1, 2, 4}),
                in("value", {1, 1, 2, 4}), out("output", {1, 1, 2, 4})}),
      inputs, "should be [1, 1, 1, 4]");
  expectError(makeSpec("attn.attention", attentionAttributes(1.0, false),
                       {in("query", {1, 1, 1, 4}), in("value", {1, 1, 2, 4}),
                        out("output", {1, 1, 1, 4})}),
              inputs, "no operand \"key\"");
}

//===----------------------------------------------------------------------===//
// Cross-entropy
//===----------------------------------------------------------------------===//

std::string crossEntropyAttributes(const std::string &reduction,
                                   double smoothing = 0, double zLoss = 0,
                                   const std::string &softcap = "null") {
  return "{\"ignore_index\": -100, \"label_smoothing\": " +
         std::to_string(smoothing) + ", \"z_loss\": " + std::to_string(zLoss) +
         ", \"softcap\": " + softcap + ", \"reduction\": \"" + reduction +
         "\"}";
}

void testCrossEntropyPerToken() {
  // Logits [0, ln 3], label 1: lse = ln 4, loss = ln 4 - ln 3 = ln(4/3).
  // Token 2 is ignored: loss 0, but its lse (of [ln 3, 0]) is still ln 4.
  FunctionSpec spec =
      makeSpec("attn.cross_entropy", crossEntropyAttributes("none"),
               {in("logits", {2, 2}), in("labels", {2}, "i64"),
                out("loss", {2}, "f32"), out("lse", {2}, "f32")});
  double ln3 = std::log(3.0), ln4 = std::log(4.0);
  auto outputs = expectReference(spec, {{0, ln3, ln3, 0}, {1, -100}}, 2);
  if (sizesAre(outputs[0], 2) && sizesAre(outputs[1], 2)) {
    ATTN_CHECK_NEAR(outputs[0][0], std::log(4.0 / 3), tight);
    ATTN_CHECK_NEAR(outputs[0][1], 0, 0);
    ATTN_CHECK_NEAR(outputs[1][0], ln4, tight);
    ATTN_CHECK_NEAR(outputs[1][1], ln4, tight);
  }
}

void testCrossEntropySmoothingAndZLoss() {
  // Logits [0, ln 3], label 1, smoothing 0.1, z_loss 0.01:
  // loss = ln 4 - 0.9 ln 3 - 0.1 * mean(0, ln 3) + 0.01 (ln 4)^2
  //      = ln 4 - 0.95 ln 3 + 0.01 (ln 4)^2.
  FunctionSpec spec =
      makeSpec("attn.cross_entropy", crossEntropyAttributes("none", 0.1, 0.01),
               {in("logits", {1, 2}), in("labels", {1}, "i32"),
                out("loss", {1}, "f32")});
  double ln3 = std::log(3.0), ln4 = std::log(4.0);
  auto outputs = expectReference(spec, {{0, ln3}, {1}}, 1);
  if (sizesAre(outputs[0], 1))
    ATTN_CHECK_NEAR(outputs[0][0], ln4 - 0.95 * ln3 + 0.01 * ln4 * ln4, tight);
}

void testCrossEntropyReductions() {
  // Token 0: logits [0, ln 3], label 1 -> ln(4/3). Token 1: logits [0, 0],
  // label 0 -> ln 2. Token 2 ignored. sum = ln(4/3) + ln 2 = ln(8/3);
  // mean divides by the 2 counted tokens.
  double ln3 = std::log(3.0);
  std::vector<std::vector<double>> inputs = {{0, ln3, 0, 0, 5, 5},
                                             {1, 0, -100}};
  auto sum = expectReference(
      makeSpec("attn.cross_entropy", crossEntropyAttributes("sum"),
               {in("logits", {3, 2}), in("labels", {3}, "i64"),
                out("loss", {}, "f32")}),
      inputs, 1);
  if (sizesAre(sum[0], 1))
    ATTN_CHECK_NEAR(sum[0][0], std::log(8.0 / 3), tight);
  auto mean = expectReference(
      makeSpec("attn.cross_entropy", crossEntropyAttributes("mean"),
               {in("logits", {3, 2}), in("labels", {3}, "i64"),
                out("loss", {}, "f32")}),
      inputs, 1);
  if (sizesAre(mean[0], 1))
    ATTN_CHECK_NEAR(mean[0][0], std::log(8.0 / 3) / 2, tight);

  // Every token ignored: mean and sum are 0, not 0/0.
  std::vector<std::vector<double>> ignored = {{1, 2, 3, 4}, {-100, -100}};
  for (const char *reduction : {"mean", "sum"}) {
    auto all = expectReference(
        makeSpec("attn.cross_entropy", crossEntropyAttributes(reduction),
                 {in("logits", {2, 2}), in("labels", {2}, "i64"),
                  out("loss", {}, "f32")}),
        ignored, 1);
    if (sizesAre(all[0], 1))
      ATTN_CHECK_NEAR(all[0][0], 0, 0);
  }
}

void testCrossEntropySoftcap() {
  // Logits [0, 2], softcap 1 -> [0, tanh 2]; label 0:
  // loss = ln(1 + e^tanh 2) - 0.
  FunctionSpec spec = makeSpec("attn.cross_entropy",
                               crossEntropyAttributes("none", 0, 0, "1.0"),
                               {in("logits", {1, 2}), in("labels", {1}, "i64"),
                                out("loss", {1}, "f32")});
  auto outputs = expectReference(spec, {{0, 2}, {0}}, 1);
  if (sizesAre(outputs[0], 1))
    ATTN_CHECK_NEAR(outputs[0][0], std::log(1 + std::exp(std::tanh(2.0))),
                    tight);
}

void testCrossEntropyErrors() {
  expectError(makeSpec("attn.cross_entropy", crossEntropyAttributes("none"),
                       {in("logits", {1, 2}), in("labels", {1}, "i64"),
                        out("loss", {1}, "f32")}),
              {{0, 0}, {2}}, "label 2 of token 0 is outside [0, 2)");
  expectError(makeSpec("attn.cross_entropy", crossEntropyAttributes("mean"),
                       {in("logits", {1, 2}), in("labels", {1}, "i64"),
                        out("loss", {1}, "f32")}),
              {{0, 0}, {0}}, "should be []");
  expectError(makeSpec("attn.cross_entropy", crossEntropyAttributes("avg"),
                       {in("logits", {1, 2}), in("labels", {1}, "i64"),
                        out("loss", {}, "f32")}),
              {{0, 0}, {0}}, "reduction must be");
  expectError(makeSpec("attn.cross_entropy", crossEntropyAttributes("none"),
                       {in("logits", {2, 2}), in("labels", {3}, "i64"),
                        out("loss", {2}, "f32")}),
              {{0, 0, 0, 0}, {0, 0, 0}}, "should be [2]");
}

//===----------------------------------------------------------------------===//
// Gradient ops
//===----------------------------------------------------------------------===//

void testSoftmaxGradsByHand() {
  // y = softmax([0, ln 2]) = [1/3, 2/3], dy = [1, 0]: sum y dy = 1/3, so
  // dx = [1/3 (1 - 1/3), 2/3 (0 - 1/3)] = [2/9, -2/9].
  std::vector<double> y = {1.0 / 3, 2.0 / 3}, dy = {1, 0};
  auto softmax = expectReference(
      makeSpec("attn.softmax_grad", "{\"dim\": 1}",
               {in("result", {1, 2}), in("grad_result", {1, 2}),
                out("grad_input", {1, 2})}),
      {y, dy}, 1);
  if (sizesAre(softmax[0], 2)) {
    ATTN_CHECK_NEAR(softmax[0][0], 2.0 / 9, tight);
    ATTN_CHECK_NEAR(softmax[0][1], -2.0 / 9, tight);
  }
  // log_softmax: y = log([1/3, 2/3]), sum dy = 1: dx = dy - exp(y) =
  // [2/3, -2/3].
  auto logSoftmax = expectReference(
      makeSpec("attn.log_softmax_grad", "{\"dim\": -1}",
               {in("result", {1, 2}), in("grad_result", {1, 2}),
                out("grad_input", {1, 2})}),
      {{std::log(1.0 / 3), std::log(2.0 / 3)}, dy}, 1);
  if (sizesAre(logSoftmax[0], 2)) {
    ATTN_CHECK_NEAR(logSoftmax[0][0], 2.0 / 3, tight);
    ATTN_CHECK_NEAR(logSoftmax[0][1], -2.0 / 3, tight);
  }
  // logsumexp over dim 0 of [[0, -inf], [ln 2, -inf]]: column 0 has
  // lse ln 3 and dlse 3, so dx = 3 [1/3, 2/3] = [1, 2]; column 1 is all
  // -inf (lse -inf): no mass, zero gradients rather than NaN.
  auto lse = expectReference(
      makeSpec("attn.logsumexp_grad", "{\"dim\": 0}",
               {in("input", {2, 2}), in("result", {2}, "f32"),
                in("grad_result", {2}, "f32"), out("grad_input", {2, 2})}),
      {{0, -inf, std::log(2.0), -inf}, {std::log(3.0), -inf}, {3, 5}}, 1);
  if (sizesAre(lse[0], 4)) {
    ATTN_CHECK_NEAR(lse[0][0], 1, tight);
    ATTN_CHECK_NEAR(lse[0][2], 2, tight);
    ATTN_CHECK(lse[0][1] == 0 && lse[0][3] == 0);
  }
  expectError(makeSpec("attn.logsumexp_grad", "{\"dim\": 1}",
                       {in("input", {2, 3}), in("result", {3}, "f32"),
                        in("grad_result", {2}, "f32"),
                        out("grad_input", {2, 3})}),
              {std::vector<double>(6), {0, 0, 0}, {0, 0}},
              "\"result\" has shape [3] but should be [2]");
  expectError(makeSpec("attn.softmax_grad", "{\"dim\": 1}",
                       {in("result", {2, 3}), in("grad_result", {3, 2}),
                        out("grad_input", {2, 3})}),
              {std::vector<double>(6), std::vector<double>(6)},
              "\"grad_result\" has shape [3, 2]");
}

void testCrossEntropyGradByHand() {
  // Logits [0, ln 2], label 1, lse ln 3: p = [1/3, 2/3] and the gradient
  // of the loss is p - onehot(1) = [1/3, -1/3]; grad_loss 2 under sum
  // doubles it. Token 1 is ignored: zeros.
  double ln2 = std::log(2.0), ln3 = std::log(3.0);
  auto spec = [&](const std::string &attributes, std::vector<int64_t> up) {
    return makeSpec("attn.cross_entropy_grad", attributes,
                    {in("logits", {2, 2}), in("labels", {2}, "i64"),
                     in("lse", {2}, "f32"), in("grad_loss", up, "f32"),
                     out("grad_logits", {2, 2})});
  };
  std::vector<double> logits = {0, ln2, 0, ln2}, lse = {ln3, ln3};
  auto sum = expectReference(spec(crossEntropyAttributes("sum"), {}),
                             {logits, {1, -100}, lse, {2}}, 1);
  if (sizesAre(sum[0], 4)) {
    ATTN_CHECK_NEAR(sum[0][0], 2.0 / 3, tight);
    ATTN_CHECK_NEAR(sum[0][1], -2.0 / 3, tight);
    ATTN_CHECK(sum[0][2] == 0 && sum[0][3] == 0);
  }
  // mean over the two counted tokens halves grad_loss.
  auto mean = expectReference(spec(crossEntropyAttributes("mean"), {}),
                              {logits, {1, 0}, lse, {2}}, 1);
  if (sizesAre(mean[0], 4)) {
    ATTN_CHECK_NEAR(mean[0][0], 1.0 / 3, tight);
    ATTN_CHECK_NEAR(mean[0][2], -2.0 / 3, tight);
    ATTN_CHECK_NEAR(mean[0][3], 2.0 / 3, tight);
  }
  // Every token ignored: zeros, not NaN (the count is 0).
  auto ignored = expectReference(spec(crossEntropyAttributes("mean"), {}),
                                 {logits, {-100, -100}, lse, {1}}, 1);
  if (sizesAre(ignored[0], 4))
    for (double g : ignored[0])
      ATTN_CHECK(g == 0);
  // eps = 0.5 over V = 2: p - 0.5 onehot - 0.25 = [1/12, -1/12]; z_loss
  // 0.1 scales p by 1 + 0.2 lse. Per-token grad_loss [1, 3].
  auto smoothed = expectReference(
      spec(crossEntropyAttributes("none", 0.5, 0.1), {2}),
      {logits, {1, 1}, lse, {1, 3}}, 1);
  if (sizesAre(smoothed[0], 4)) {
    double f = 1 + 0.2 * ln3;
    ATTN_CHECK_NEAR(smoothed[0][0], f / 3 - 0.25, tight);
    ATTN_CHECK_NEAR(smoothed[0][1], 2 * f / 3 - 0.75, tight);
    ATTN_CHECK_NEAR(smoothed[0][3], 3 * (2 * f / 3 - 0.75), tight);
  }
  expectError(spec(crossEntropyAttributes("none"), {}),
              {logits, {1, 1}, lse, {1}}, "and grad_loss [] should be");
  expectError(spec(crossEntropyAttributes("sum"), {}),
              {logits, {2, 1}, lse, {1}}, "label 2 of token 0 is outside");
}

void testAttentionGradByHand() {
  // One key: every query row's output is v, so D = do . out = do . v = dp
  // and ds = p (dp - D) = 0: no gradient for q and k; dv is the sum of the
  // rows' do (p = 1). lse is the single score, q . k / sqrt(1) = 2.
  auto outputs = expectReference(
      makeSpec("attn.attention_grad",
               "{\"scale\": 1.0, \"causal\": false, \"window\": null, "
               "\"softcap\": null}",
               {in("query", {1, 1, 2, 1}), in("key", {1, 1, 1, 1}),
                in("value", {1, 1, 1, 2}), in("output", {1, 1, 2, 2}),
                in("lse", {1, 1, 2}), in("grad_output", {1, 1, 2, 2}),
                out("grad_query", {1, 1, 2, 1}), out("grad_key", {1, 1, 1, 1}),
                out("grad_value", {1, 1, 1, 2})}),
      {{1, 2}, {2}, {3, -1}, {3, -1, 3, -1}, {2, 4}, {1, 2, 10, 20}}, 3);
  if (sizesAre(outputs[0], 2) && sizesAre(outputs[1], 1) &&
      sizesAre(outputs[2], 2)) {
    ATTN_CHECK_NEAR(outputs[0][0], 0, tight);
    ATTN_CHECK_NEAR(outputs[0][1], 0, tight);
    ATTN_CHECK_NEAR(outputs[1][0], 0, tight);
    ATTN_CHECK_NEAR(outputs[2][0], 11, tight);
    ATTN_CHECK_NEAR(outputs[2][1], 22, tight);
  }
}

/// The reference gradient of `spec` (a gradient op) against central finite
/// differences of its forward reference, on inputs drawn with `options`.
void expectMatchesFiniteDifferences(const FunctionSpec &spec,
                                    InputOptions options,
                                    const std::string &what) {
  std::vector<std::vector<unsigned char>> buffers;
  ForwardProblem problem;
  std::string error;
  if (!ATTN_CHECK_MSG(
          makeGradientInputs(spec, options, buffers, problem, error),
          what + ": " + error))
    return;
  std::vector<std::vector<double>> values(spec.args.size());
  for (size_t i = 0; i < spec.args.size(); ++i)
    if (spec.args[i].role == TensorRole::Input)
      values[i] = loadTensor(spec.args[i], buffers[i].data());
  std::vector<std::vector<double>> differences;
  int64_t evaluations = 0;
  if (!ATTN_CHECK_MSG(computeReference(spec, values, error),
                      what + ": " + error) ||
      !ATTN_CHECK_MSG(finiteDifferences(spec, problem, values, 1e-5,
                                        differences, evaluations, error),
                      what + ": " + error))
    return;
  int64_t differentiated = 0;
  for (size_t i = 0; i < spec.args.size(); ++i) {
    if (spec.args[i].role != TensorRole::Output)
      continue;
    differentiated += spec.args[i].numElements();
    Comparison c = compareOutput(values[i], differences[i], 1e-7);
    ATTN_CHECK_MSG(c.pass, what + ": rel_l2 " + std::to_string(c.relL2) +
                               " " + c.reason);
  }
  ATTN_CHECK(evaluations == 2 * differentiated);
}

void testGradientsMatchFiniteDifferences() {
  InputOptions options;
  options.seed = 3;
  options.inputScale = 2;
  ATTN_CHECK(forwardOpName("attn.softmax_grad") == "attn.softmax");
  ATTN_CHECK(forwardOpName("attn.softmax").empty());
  for (const char *op : {"attn.softmax_grad", "attn.log_softmax_grad"})
    expectMatchesFiniteDifferences(
        makeSpec(op, "{\"dim\": 1}",
                 {in("result", {3, 7, 2}), in("grad_result", {3, 7, 2}),
                  out("grad_input", {3, 7, 2})}),
        options, op);
  expectMatchesFiniteDifferences(
      makeSpec("attn.logsumexp_grad", "{\"dim\": 0}",
               {in("input", {5, 3}), in("result", {3}),
                in("grad_result", {3}), out("grad_input", {5, 3})}),
      options, "logsumexp_grad");
  options.ignoreFraction = 0.3;
  for (const char *reduction : {"none", "sum", "mean"})
    for (const std::string &attributes :
         {crossEntropyAttributes(reduction),
          crossEntropyAttributes(reduction, 0.1, 1e-2, "1.5")}) {
      bool none = std::string(reduction) == "none";
      expectMatchesFiniteDifferences(
          makeSpec("attn.cross_entropy_grad", attributes,
                   {in("logits", {9, 11}), in("labels", {9}, "i64"),
                    in("lse", {9}), in("grad_loss", none ? std::vector<int64_t>{9}
                                                         : std::vector<int64_t>{}),
                    out("grad_logits", {9, 11})}),
          options, "cross_entropy_grad " + attributes);
    }
  std::string attention = "{\"scale\": 0.7, \"causal\": true, "
                          "\"window\": [3, 0], \"softcap\": 2.0}";
  expectMatchesFiniteDifferences(
      makeSpec("attn.attention_grad", attention,
               {in("query", {1, 4, 5, 3}), in("key", {1, 2, 6, 3}),
                in("value", {1, 2, 6, 2}), in("output", {1, 4, 5, 2}),
                in("lse", {1, 4, 5}), in("grad_output", {1, 4, 5, 2}),
                in("mask", {5, 6}, "i1"), out("grad_query", {1, 4, 5, 3}),
                out("grad_key", {1, 2, 6, 3}), out("grad_value", {1, 2, 6, 2})}),
      options, "attention_grad");
  // The saved values agree with the primal ones: y = softmax(x) sums to 1.
  FunctionSpec softmax = makeSpec(
      "attn.softmax_grad", "{\"dim\": 0}",
      {in("result", {4}), in("grad_result", {4}), out("grad_input", {4})});
  std::vector<std::vector<unsigned char>> buffers;
  ForwardProblem problem;
  std::string error;
  if (ATTN_CHECK_MSG(
          makeGradientInputs(softmax, options, buffers, problem, error), error)) {
    std::vector<double> y = loadTensor(softmax.args[0], buffers[0].data());
    ATTN_CHECK_NEAR(y[0] + y[1] + y[2] + y[3], 1.0, tight);
    ATTN_CHECK(problem.spec.op->name == "attn.softmax");
  }
}

void testLinearCrossEntropy() {
  // hidden [1, 0] and weight rows [0, 0], [ln 3, 5] give logits [0, ln 3]:
  // label 1 -> ln(4/3), as in the plain cross-entropy test.
  double ln3 = std::log(3.0);
  auto outputs = expectReference(
      makeSpec("attn.linear_cross_entropy", crossEntropyAttributes("none"),
               {in("hidden", {1, 2}), in("weight", {2, 2}),
                in("labels", {1}, "i64"), out("loss", {1}, "f32"),
                out("lse", {1}, "f32")}),
      {{1, 0}, {0, 0, ln3, 5}, {1}}, 2);
  if (sizesAre(outputs[0], 1) && sizesAre(outputs[1], 1)) {
    ATTN_CHECK_NEAR(outputs[0][0], std::log(4.0 / 3), tight);
    ATTN_CHECK_NEAR(outputs[1][0], std::log(4.0), tight);
  }
  // A zero weight and bias [ln 3, 0] give logits [ln 3, 0]: label 0 ->
  // ln(4/3). Two tokens, mean.
  outputs = expectReference(
      makeSpec("attn.linear_cross_entropy", crossEntropyAttributes("mean"),
               {in("hidden", {2, 2}), in("weight", {2, 2}),
                in("labels", {2}, "i32"), in("bias", {2}),
                out("loss", {}, "f32")}),
      {{1, 2, 3, 4}, {0, 0, 0, 0}, {0, 0}, {ln3, 0}}, 1);
  if (sizesAre(outputs[0], 1))
    ATTN_CHECK_NEAR(outputs[0][0], std::log(4.0 / 3), tight);

  expectError(
      makeSpec("attn.linear_cross_entropy", crossEntropyAttributes("none"),
               {in("hidden", {1, 2}), in("weight", {2, 3}),
                in("labels", {1}, "i64"), out("loss", {1}, "f32")}),
      {{0, 0}, std::vector<double>(6), {0}}, "differ in the hidden dim");
}

void testFunctionsWithoutAnOp() {
  FunctionSpec spec;
  spec.name = "fused";
  std::vector<std::vector<double>> values;
  std::string error;
  ATTN_CHECK(!computeReference(spec, values, error));
  ATTN_CHECK_MSG(error.find("not a single attn op") != std::string::npos,
                 error);
  expectError(makeSpec("attn.unknown", "{}", {in("input", {1})}), {{0}},
              "no reference implementation for op attn.unknown");
  ATTN_CHECK(!checkReferenceSpec(spec, error) &&
             error.find("not a single attn op") != std::string::npos);
}

void testSpecCheckNeedsNoValues() {
  // A wrong result shape is found without any values; a sound spec passes.
  std::string error;
  ATTN_CHECK(!checkReferenceSpec(
      makeSpec("attn.softmax", R"({"dim": 1})",
               {in("input", {2, 3}), out("result", {2, 4}, "f32")}),
      error));
  ATTN_CHECK_MSG(error == "attn.softmax: result \"result\" has shape [2, 4] "
                          "but should be [2, 3]",
                 error);
  ATTN_CHECK_MSG(checkReferenceSpec(makeSpec("attn.softmax", R"({"dim": 1})",
                                             {in("input", {2, 3}),
                                              out("result", {2, 3}, "f32")}),
                                    error),
                 error);
}

//===----------------------------------------------------------------------===//
// Inputs
//===----------------------------------------------------------------------===//

FunctionSpec crossEntropySpec(const std::string &logitsType) {
  JsonValue json;
  std::string error;
  FunctionSpec spec;
  parseJson(R"({"name": "ce", "op": {"name": "attn.cross_entropy",
      "attributes": {"ignore_index": -100, "label_smoothing": 0.0,
                     "z_loss": 0.0, "softcap": null, "reduction": "mean"}},
      "args": [
        {"name": "a0", "role": "input", "operand": "logits",
         "dtype": ")" +
                logitsType + R"(", "shape": [1000, 37]},
        {"name": "a1", "role": "input", "operand": "labels", "dtype": "i64",
         "shape": [1000]},
        {"name": "r0", "role": "output", "operand": "loss", "dtype": "f32",
         "shape": []}]})",
            json, error);
  parseFunctionSpec(json, spec, error);
  return spec;
}

void testInputs() {
  FunctionSpec spec = crossEntropySpec("bf16");
  std::vector<std::vector<unsigned char>> first, second, other;
  std::string error;
  InputOptions options;
  options.seed = 7;
  options.inputScale = 2;
  ATTN_CHECK_MSG(makeInputs(spec, options, first, error), error);
  ATTN_CHECK(makeInputs(spec, options, second, error));
  ATTN_CHECK(first == second);
  options.seed = 8;
  ATTN_CHECK(makeInputs(spec, options, other, error));
  ATTN_CHECK(other[0] != first[0]);
  if (first.size() != 3)
    return;

  std::vector<double> logits = loadTensor(spec.args[0], first[0].data());
  double largest = 0;
  bool allRounded = true;
  for (double value : logits) {
    largest = std::max(largest, std::fabs(value));
    allRounded &= static_cast<double>(bf16ToFloat(
                      floatToBF16(static_cast<float>(value)))) == value;
  }
  ATTN_CHECK(largest <= 2 && largest > 1.9);
  ATTN_CHECK(allRounded);

  std::vector<double> labels = loadTensor(spec.args[1], first[1].data());
  int ignored = 0;
  bool inRange = true;
  for (double label : labels) {
    if (label == -100)
      ++ignored;
    else
      inRange &= label >= 0 && label < 37 && label == std::floor(label);
  }
  ATTN_CHECK(inRange);
  // 10% of 1000 on average; 60..140 is far outside any plausible draw.
  ATTN_CHECK_MSG(ignored > 60 && ignored < 140, std::to_string(ignored));

  // Outputs are poisoned.
  ATTN_CHECK(first[2].size() == 4 &&
             std::isnan(loadElement(DType::F32, first[2].data(), 0)));

  options.ignoreFraction = 0;
  ATTN_CHECK(makeInputs(spec, options, other, error));
  labels = loadTensor(spec.args[1], other[1].data());
  ATTN_CHECK(std::count(labels.begin(), labels.end(), -100.0) == 0);

  // Argument i draws from seed + i: seed 8's first argument is seed 7's
  // second when both have the same type and size.
  FunctionSpec twoInputs;
  twoInputs.args.resize(2);
  for (TensorSpec &arg : twoInputs.args)
    arg.shape = {16};
  std::vector<std::vector<unsigned char>> seven, eight;
  options.seed = 7;
  ATTN_CHECK(makeInputs(twoInputs, options, seven, error));
  options.seed = 8;
  ATTN_CHECK(makeInputs(twoInputs, options, eight, error));
  ATTN_CHECK(seven.size() == 2 && eight.size() == 2 && seven[1] == eight[0] &&
             seven[0] != seven[1]);

  options.inputScale = 0;
  ATTN_CHECK(!makeInputs(spec, options, other, error) &&
             error.find("input scale") != std::string::npos);
}

//===----------------------------------------------------------------------===//
// Comparison
//===----------------------------------------------------------------------===//

void testCompare() {
  Comparison exact = compareOutput({1, 2, -inf}, {1, 2, -inf}, 1e-5);
  ATTN_CHECK(exact.pass && exact.relL2 == 0 && exact.maxAbs == 0);

  // ||(0, 0.01)|| / ||(3, 4)|| = 0.01 / 5 = 2e-3.
  Comparison close = compareOutput({3, 4.01}, {3, 4}, 1e-2);
  ATTN_CHECK(close.pass);
  ATTN_CHECK_NEAR(close.relL2, 2e-3, 1e-9);
  ATTN_CHECK_NEAR(close.maxAbs, 0.01, 1e-9);
  ATTN_CHECK(!compareOutput({3, 4.01}, {3, 4}, 1e-3).pass);

  Comparison unwritten = compareOutput({NAN, 1, NAN}, {0, 1, 2}, 1);
  ATTN_CHECK(!unwritten.pass && unwritten.nanCount == 2);
  ATTN_CHECK(unwritten.reason == "unwritten or NaN: 2 elements");

  Comparison infinities = compareOutput({-inf, 0, inf}, {0, -inf, 1}, 1);
  ATTN_CHECK(!infinities.pass && infinities.infinityMismatches == 3);

  // A zero reference uses the absolute norm.
  Comparison zero = compareOutput({0.001, 0}, {0, 0}, 1e-2);
  ATTN_CHECK(zero.pass);
  ATTN_CHECK_NEAR(zero.relL2, 0.001, 1e-12);

  ATTN_CHECK(!compareOutput({1}, {1, 2}, 1).pass);

  ATTN_CHECK(defaultTolerance(DType::F32) == 1e-5);
  ATTN_CHECK(defaultTolerance(DType::F16) == 1e-2);
  ATTN_CHECK(defaultTolerance(DType::BF16) == 2e-2);
  FunctionSpec bf16 = crossEntropySpec("bf16");
  ATTN_CHECK(defaultTolerance(bf16, 2) == 2e-2);
  FunctionSpec f64 = crossEntropySpec("f64");
  // The f32 loss of f64 logits is held to f32's tolerance.
  ATTN_CHECK(defaultTolerance(f64, 2) == 1e-5);
}

} // namespace

int main() {
  testSoftmaxOfZeroAndLogTwo();
  testSoftmaxAlongLeadingDim();
  testSoftmaxErrors();
  testAttentionWithOneKeyReturnsItsValue();
  testAttentionWeightsByScore();
  testCausalWithMoreQueriesThanKeysMasksFirstRows();
  testCausalSquareIsLowerTriangular();
  testSlidingWindow();
  testGroupedQueryHeadsShareKeys();
  testMasks();
  testAttentionSoftcap();
  testAttentionShapeErrors();
  testCrossEntropyPerToken();
  testCrossEntropySmoothingAndZLoss();
  testCrossEntropyReductions();
  testCrossEntropySoftcap();
  testCrossEntropyErrors();
  testSoftmaxGradsByHand();
  testCrossEntropyGradByHand();
  testAttentionGradByHand();
  testGradientsMatchFiniteDifferences();
  testLinearCrossEntropy();
  testFunctionsWithoutAnOp();
  testSpecCheckNeedsNoValues();
  testInputs();
  testCompare();
  return attn::test::reportChecks();
}
