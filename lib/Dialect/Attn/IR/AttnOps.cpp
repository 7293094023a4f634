//===- AttnOps.cpp - attn dialect op verifiers ----------------------------===//
//
// Verifiers for the shape and attribute contracts of the attn ops. Every
// error names the operand and the dimension at fault.
//
//===----------------------------------------------------------------------===//

#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Dialect/Attn/IR/Schedule.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"

#include "llvm/Support/MathExtras.h"

#include <algorithm>
#include <cmath>

using namespace mlir;
using namespace mlir::attn;

/// Whether two dimension sizes may be equal (a dynamic size matches anything).
static bool dimsMatch(int64_t a, int64_t b) {
  return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) || a == b;
}

static std::string dimStr(int64_t d) {
  return ShapedType::isDynamic(d) ? std::string("?") : std::to_string(d);
}

/// Checks that `actual` has the `expected` shape (dynamic sizes match
/// anything); `what` names the value in the diagnostic.
static LogicalResult verifyShape(Operation *op, StringRef what,
                                 RankedTensorType actual,
                                 ArrayRef<int64_t> expected) {
  if (actual.getRank() != static_cast<int64_t>(expected.size()))
    return op->emitOpError() << what << " must have rank " << expected.size()
                             << ", but has rank " << actual.getRank();
  for (auto [i, pair] : llvm::enumerate(llvm::zip(actual.getShape(), expected)))
    if (!dimsMatch(std::get<0>(pair), std::get<1>(pair)))
      return op->emitOpError()
             << what << " dimension " << i << " must be "
             << dimStr(std::get<1>(pair)) << ", but is "
             << dimStr(std::get<0>(pair));
  return success();
}

static LogicalResult verifyRank(Operation *op, StringRef what,
                                RankedTensorType type, int64_t rank,
                                StringRef layout) {
  if (type.getRank() != rank)
    return op->emitOpError() << what << " must have rank " << rank << " ("
                             << layout << "), but has rank " << type.getRank();
  return success();
}

static LogicalResult verifyPositive(Operation *op, StringRef what,
                                    std::optional<APFloat> value) {
  if (!value)
    return success();
  double v = value->convertToDouble();
  if (!std::isfinite(v) || v <= 0.0)
    return op->emitOpError() << what << " must be a finite positive number, "
                             << "but is " << v;
  return success();
}

/// Every tensor the op reads or writes must be addressable: its element
/// count and byte size must fit in int64 (the lowerings index and allocate
/// in that width; a larger static shape wraps around, e.g. to an "empty"
/// tensor).
static LogicalResult verifyByteSizes(Operation *op) {
  auto check = [&](Type type, StringRef what, size_t index) -> LogicalResult {
    auto shaped = dyn_cast<ShapedType>(type);
    if (!shaped || !shaped.hasRank())
      return success();
    uint64_t bits = shaped.getElementType().getIntOrFloatBitWidth();
    int64_t bytes = static_cast<int64_t>(std::max<uint64_t>(1, (bits + 7) / 8));
    for (int64_t d : shaped.getShape()) {
      if (ShapedType::isDynamic(d))
        continue;
      if (llvm::MulOverflow(bytes, d, bytes))
        return op->emitOpError()
               << what << " #" << index << " (" << type
               << ") has more than 2^63 - 1 bytes";
    }
    return success();
  };
  for (auto [i, type] : llvm::enumerate(op->getOperandTypes()))
    if (failed(check(type, "operand", i)))
      return failure();
  for (auto [i, type] : llvm::enumerate(op->getResultTypes()))
    if (failed(check(type, "result", i)))
      return failure();
  return success();
}

/// Checks the op's schedule attribute, if it has one, against the op and
/// its target.
static LogicalResult verifyOptionalSchedule(Operation *op) {
  if (auto schedule = op->getAttrOfType<ScheduleAttr>("schedule"))
    return verifySchedule(op, schedule, [op] { return op->emitOpError(); });
  return success();
}

//===----------------------------------------------------------------------===//
// Softmax family
//===----------------------------------------------------------------------===//

/// Checks `dim` against the rank of operand `what`; shared by the softmax
/// family and its gradients.
static LogicalResult verifyReducedDim(Operation *op, RankedTensorType input,
                                      int64_t dim, StringRef what = "input") {
  if (input.getRank() == 0)
    return op->emitOpError() << what << " must have rank >= 1";
  if (dim < 0 || dim >= input.getRank())
    return op->emitOpError() << "dim " << dim << " is out of range for an "
                             << what << " of rank " << input.getRank();
  return success();
}

static LogicalResult verifySameTypeSoftmax(Operation *op,
                                           RankedTensorType input,
                                           RankedTensorType result,
                                           int64_t dim) {
  if (failed(verifyReducedDim(op, input, dim)))
    return failure();
  if (input.getElementType() != result.getElementType())
    return op->emitOpError() << "result element type "
                             << result.getElementType()
                             << " must match the input element type "
                             << input.getElementType();
  return verifyShape(op, "result", result, input.getShape());
}

LogicalResult SoftmaxOp::verify() {
  if (failed(verifyByteSizes(*this)))
    return failure();
  if (failed(verifySameTypeSoftmax(*this, getInput().getType(),
                                   getResult().getType(), getDim())))
    return failure();
  return verifyOptionalSchedule(*this);
}

LogicalResult LogSoftmaxOp::verify() {
  if (failed(verifyByteSizes(*this)))
    return failure();
  if (failed(verifySameTypeSoftmax(*this, getInput().getType(),
                                   getResult().getType(), getDim())))
    return failure();
  return verifyOptionalSchedule(*this);
}

LogicalResult LogSumExpOp::verify() {
  if (failed(verifyByteSizes(*this)))
    return failure();
  RankedTensorType input = getInput().getType();
  if (failed(verifyReducedDim(*this, input, getDim())))
    return failure();
  SmallVector<int64_t> expected(input.getShape());
  expected.erase(expected.begin() + getDim());
  if (failed(verifyShape(*this, "result", getResult().getType(), expected)))
    return failure();
  return verifyOptionalSchedule(*this);
}

//===----------------------------------------------------------------------===//
// Softmax family: gradients
//===----------------------------------------------------------------------===//

/// Checks that `value` (named `what`) has the type of `expected` (named
/// `expectedWhat`): the same element type and shape.
static LogicalResult verifySameType(Operation *op, StringRef what,
                                    RankedTensorType value,
                                    StringRef expectedWhat,
                                    RankedTensorType expected) {
  if (value.getElementType() != expected.getElementType())
    return op->emitOpError() << what << " element type "
                             << value.getElementType() << " must match the "
                             << expectedWhat << " element type "
                             << expected.getElementType();
  return verifyShape(op, what, value, expected.getShape());
}

/// softmax_grad and log_softmax_grad: y, dy and dx share one type.
template <typename GradOp>
static LogicalResult verifySoftmaxGrad(GradOp op) {
  if (failed(verifyByteSizes(op)))
    return failure();
  RankedTensorType output = op.getOutput().getType();
  if (failed(verifyReducedDim(op, output, op.getDim(), "output")) ||
      failed(verifySameType(op, "grad_output", op.getGradOutput().getType(),
                            "output", output)) ||
      failed(verifySameType(op, "grad_input", op.getGradInput().getType(),
                            "output", output)))
    return failure();
  return verifyOptionalSchedule(op);
}

LogicalResult SoftmaxGradOp::verify() { return verifySoftmaxGrad(*this); }

LogicalResult LogSoftmaxGradOp::verify() { return verifySoftmaxGrad(*this); }

LogicalResult LogSumExpGradOp::verify() {
  if (failed(verifyByteSizes(*this)))
    return failure();
  RankedTensorType input = getInput().getType();
  if (failed(verifyReducedDim(*this, input, getDim())))
    return failure();
  SmallVector<int64_t> reduced(input.getShape());
  reduced.erase(reduced.begin() + getDim());
  if (failed(verifyShape(*this, "output", getOutput().getType(), reduced)) ||
      failed(verifyShape(*this, "grad_output", getGradOutput().getType(),
                         reduced)) ||
      failed(verifySameType(*this, "grad_input", getGradInput().getType(),
                            "input", input)))
    return failure();
  return verifyOptionalSchedule(*this);
}

//===----------------------------------------------------------------------===//
// AttentionOp
//===----------------------------------------------------------------------===//

double AttentionOp::getScaleOrDefault() {
  if (std::optional<APFloat> scale = getScale())
    return scale->convertToDouble();
  int64_t d = getQuery().getType().getDimSize(3);
  // An empty head dim (d = 0) has no scores to scale: 1, not inf.
  return ShapedType::isDynamic(d) || d == 0 ? 1.0 : 1.0 / std::sqrt(double(d));
}

MaskSpec AttentionOp::getMaskSpec() {
  MaskSpec mask;
  mask.causal = getCausal();
  if (std::optional<ArrayRef<int64_t>> w = getWindow())
    mask.window = std::make_pair((*w)[0], (*w)[1]);
  return mask;
}

namespace {
/// The sizes of an attention's operands (dynamic where unknown).
struct AttentionDims {
  int64_t b = 0, hq = 0, m = 0, d = 0, hkv = 0, n = 0, dv = 0;
};
} // namespace

/// Checks query, key and value of an attention or its gradient: ranks, one
/// element type, shapes, and the query heads a multiple of the key heads.
template <typename OpTy>
static LogicalResult verifyAttentionInputs(OpTy op, AttentionDims &dims) {
  RankedTensorType q = op.getQuery().getType();
  RankedTensorType k = op.getKey().getType();
  RankedTensorType v = op.getValue().getType();
  if (failed(verifyRank(op, "query", q, 4, "[B, Hq, M, D]")) ||
      failed(verifyRank(op, "key", k, 4, "[B, Hkv, N, D]")) ||
      failed(verifyRank(op, "value", v, 4, "[B, Hkv, N, Dv]")))
    return failure();
  if (k.getElementType() != q.getElementType() ||
      v.getElementType() != q.getElementType())
    return op.emitOpError() << "query, key and value must share one element "
                            << "type, but have " << q.getElementType() << ", "
                            << k.getElementType() << " and "
                            << v.getElementType();

  int64_t b = q.getDimSize(0), hq = q.getDimSize(1), m = q.getDimSize(2),
          d = q.getDimSize(3);
  int64_t hkv = k.getDimSize(1), n = k.getDimSize(2), dv = v.getDimSize(3);
  if (failed(verifyShape(op, "key", k, {b, hkv, n, d})) ||
      failed(verifyShape(op, "value", v, {b, hkv, n, dv})))
    return failure();
  if (!ShapedType::isDynamic(hq) && !ShapedType::isDynamic(hkv) &&
      (hkv == 0 || hq % hkv != 0))
    return op.emitOpError() << "query heads (" << hq
                            << ") must be a multiple of key/value heads ("
                            << hkv << ")";
  dims = {b, hq, m, d, hkv, n, dv};
  return success();
}

/// Checks the mask operand and the attributes of an attention or its
/// gradient.
template <typename OpTy>
static LogicalResult verifyAttentionMaskAndAttributes(OpTy op,
                                                      const AttentionDims &d) {
  if (Value mask = op.getMask()) {
    auto maskType = cast<RankedTensorType>(mask.getType());
    if (maskType.getRank() == 2) {
      if (failed(verifyShape(op, "mask", maskType, {d.m, d.n})))
        return failure();
    } else if (maskType.getRank() == 4) {
      auto broadcastable = [](int64_t maskDim, int64_t dim) {
        return maskDim == 1 || dimsMatch(maskDim, dim);
      };
      if (!broadcastable(maskType.getDimSize(0), d.b) ||
          !broadcastable(maskType.getDimSize(1), d.hq))
        return op.emitOpError()
               << "mask dimensions 0 and 1 must be 1 or match the batch ("
               << dimStr(d.b) << ") and query heads (" << dimStr(d.hq) << ")";
      if (!dimsMatch(maskType.getDimSize(2), d.m) ||
          !dimsMatch(maskType.getDimSize(3), d.n))
        return op.emitOpError() << "mask dimensions 2 and 3 must be [M, N] = ["
                                << dimStr(d.m) << ", " << dimStr(d.n) << "]";
    } else {
      return op.emitOpError() << "mask must have rank 2 ([M, N]) or 4 "
                              << "([B|1, Hq|1, M, N]), but has rank "
                              << maskType.getRank();
    }
  }

  if (std::optional<APFloat> scale = op.getScale())
    if (!std::isfinite(scale->convertToDouble()))
      return op.emitOpError("scale must be finite");
  if (failed(verifyPositive(op, "softcap", op.getSoftcap())))
    return failure();
  if (std::optional<ArrayRef<int64_t>> window = op.getWindow()) {
    if (window->size() != 2)
      return op.emitOpError() << "window must have two entries [left, right], "
                              << "but has " << window->size();
    if ((*window)[0] < 0 || (*window)[1] < 0)
      return op.emitOpError() << "window sizes must be non-negative, but are ["
                              << (*window)[0] << ", " << (*window)[1] << "]";
    // Masks add the window to key indices in 64 bits (and the GPU kernels
    // in index arithmetic): bound it as FlashAttention does (an int). A
    // window this wide covers any sequence the kernels take.
    constexpr int64_t kMaxWindow = (int64_t(1) << 31) - 1;
    if ((*window)[0] > kMaxWindow || (*window)[1] > kMaxWindow)
      return op.emitOpError() << "window sizes must be at most " << kMaxWindow
                              << ", but are [" << (*window)[0] << ", "
                              << (*window)[1] << "]";
  }
  return verifyOptionalSchedule(op);
}

LogicalResult AttentionOp::verify() {
  if (failed(verifyByteSizes(*this)))
    return failure();
  AttentionDims d;
  if (failed(verifyAttentionInputs(*this, d)))
    return failure();
  RankedTensorType q = getQuery().getType();
  RankedTensorType out = getOutput().getType();
  if (out.getElementType() != q.getElementType())
    return emitOpError() << "output element type " << out.getElementType()
                         << " must match the query element type "
                         << q.getElementType();
  if (failed(verifyShape(*this, "output", out, {d.b, d.hq, d.m, d.dv})))
    return failure();
  if (Value lse = getLse())
    if (failed(verifyShape(*this, "lse", cast<RankedTensorType>(lse.getType()),
                           {d.b, d.hq, d.m})))
      return failure();
  return verifyAttentionMaskAndAttributes(*this, d);
}

double AttentionGradOp::getScaleOrDefault() {
  if (std::optional<APFloat> scale = getScale())
    return scale->convertToDouble();
  int64_t d = getQuery().getType().getDimSize(3);
  // An empty head dim (d = 0) has no scores to scale: 1, not inf.
  return ShapedType::isDynamic(d) || d == 0 ? 1.0 : 1.0 / std::sqrt(double(d));
}

LogicalResult AttentionGradOp::verify() {
  if (failed(verifyByteSizes(*this)))
    return failure();
  AttentionDims d;
  if (failed(verifyAttentionInputs(*this, d)))
    return failure();
  RankedTensorType q = getQuery().getType();
  RankedTensorType out = getOutput().getType();
  if (failed(verifySameType(*this, "output", out, "query",
                            RankedTensorType::get({d.b, d.hq, d.m, d.dv},
                                                  q.getElementType()))) ||
      failed(verifySameType(*this, "grad_output", getGradOutput().getType(),
                            "output", out)) ||
      failed(verifyShape(*this, "lse", getLse().getType(), {d.b, d.hq, d.m})) ||
      failed(verifySameType(*this, "grad_query", getGradQuery().getType(),
                            "query", q)) ||
      failed(verifySameType(*this, "grad_key", getGradKey().getType(), "key",
                            getKey().getType())) ||
      failed(verifySameType(*this, "grad_value", getGradValue().getType(),
                            "value", getValue().getType())))
    return failure();
  return verifyAttentionMaskAndAttributes(*this, d);
}

//===----------------------------------------------------------------------===//
// Losses
//===----------------------------------------------------------------------===//

/// Checks the attributes shared by the loss ops and their gradient.
template <typename LossOp>
static LogicalResult verifyLossAttributes(LossOp op) {
  double smoothing = op.getLabelSmoothing().convertToDouble();
  if (!(smoothing >= 0.0 && smoothing <= 1.0))
    return op.emitOpError() << "label_smoothing must be in [0, 1], but is "
                            << smoothing;
  double zLoss = op.getZLoss().convertToDouble();
  if (!(zLoss >= 0.0) || !std::isfinite(zLoss))
    return op.emitOpError() << "z_loss must be finite and non-negative, but is "
                            << zLoss;
  if (failed(verifyPositive(op, "softcap", op.getSoftcap())))
    return failure();
  // The lowerings compare labels with ignore_index in the labels' type: a
  // value that does not fit would be truncated onto a real label.
  unsigned labelBits =
      cast<ShapedType>(op.getLabels().getType()).getElementTypeBitWidth();
  int64_t ignore = op.getIgnoreIndex();
  if (labelBits < 64 && (ignore < -(int64_t(1) << (labelBits - 1)) ||
                         ignore >= (int64_t(1) << (labelBits - 1))))
    return op.emitOpError() << "ignore_index " << ignore
                            << " does not fit the i" << labelBits
                            << " labels";
  return success();
}

/// Checks the attributes and results shared by the two loss ops.
template <typename LossOp>
static LogicalResult verifyLossCommon(LossOp op, int64_t numTokens) {
  if (failed(verifyLossAttributes(op)))
    return failure();
  RankedTensorType loss = op.getLoss().getType();
  if (op.getReduction() == Reduction::none) {
    if (failed(verifyShape(op, "loss (reduction = none)", loss, {numTokens})))
      return failure();
  } else if (loss.getRank() != 0) {
    return op.emitOpError() << "loss must be a rank-0 tensor for reduction = "
                            << stringifyReduction(op.getReduction())
                            << ", but has rank " << loss.getRank();
  }
  if (Value lse = op.getLse())
    if (failed(verifyShape(op, "lse", cast<RankedTensorType>(lse.getType()),
                           {numTokens})))
      return failure();
  return verifyOptionalSchedule(op);
}

LogicalResult CrossEntropyOp::verify() {
  if (failed(verifyByteSizes(*this)))
    return failure();
  RankedTensorType logits = getLogits().getType();
  RankedTensorType labels = getLabels().getType();
  if (failed(verifyRank(*this, "logits", logits, 2, "[N, V]")) ||
      failed(verifyRank(*this, "labels", labels, 1, "[N]")))
    return failure();
  if (failed(verifyShape(*this, "labels", labels, {logits.getDimSize(0)})))
    return failure();
  return verifyLossCommon(*this, logits.getDimSize(0));
}

/// Checks the saved lse, the attributes and grad_loss of the two loss
/// gradients.
template <typename LossGradOp>
static LogicalResult verifyLossGradOperands(LossGradOp op, int64_t numTokens) {
  if (failed(verifyShape(op, "lse", op.getLse().getType(), {numTokens})))
    return failure();
  if (failed(verifyLossAttributes(op)))
    return failure();
  RankedTensorType gradLoss = op.getGradLoss().getType();
  if (op.getReduction() == Reduction::none)
    return verifyShape(op, "grad_loss (reduction = none)", gradLoss,
                       {numTokens});
  if (gradLoss.getRank() != 0)
    return op.emitOpError()
           << "grad_loss must be a rank-0 tensor for reduction = "
           << stringifyReduction(op.getReduction()) << ", but has rank "
           << gradLoss.getRank();
  return success();
}

LogicalResult CrossEntropyGradOp::verify() {
  if (failed(verifyByteSizes(*this)))
    return failure();
  RankedTensorType logits = getLogits().getType();
  RankedTensorType labels = getLabels().getType();
  if (failed(verifyRank(*this, "logits", logits, 2, "[N, V]")) ||
      failed(verifyRank(*this, "labels", labels, 1, "[N]")))
    return failure();
  int64_t numTokens = logits.getDimSize(0);
  if (failed(verifyShape(*this, "labels", labels, {numTokens})) ||
      failed(verifyLossGradOperands(*this, numTokens)))
    return failure();
  RankedTensorType grad = getGradLogits().getType();
  if (grad.getElementType() != logits.getElementType())
    return emitOpError() << "grad_logits element type "
                         << grad.getElementType()
                         << " must match the logits element type "
                         << logits.getElementType();
  if (failed(verifyShape(*this, "grad_logits", grad, logits.getShape())))
    return failure();
  return verifyOptionalSchedule(*this);
}

/// Checks hidden, weight, labels and the optional bias of the linear
/// cross-entropy and of its gradient.
template <typename LinearOp>
static LogicalResult verifyLinearOperands(LinearOp op) {
  RankedTensorType hidden = op.getHidden().getType();
  RankedTensorType weight = op.getWeight().getType();
  RankedTensorType labels = op.getLabels().getType();
  if (failed(verifyRank(op, "hidden", hidden, 2, "[N, D]")) ||
      failed(verifyRank(op, "weight", weight, 2, "[V, D]")) ||
      failed(verifyRank(op, "labels", labels, 1, "[N]")))
    return failure();
  if (weight.getElementType() != hidden.getElementType())
    return op.emitOpError() << "weight element type "
                            << weight.getElementType()
                            << " must match the hidden element type "
                            << hidden.getElementType();
  if (failed(verifyShape(op, "weight", weight,
                         {weight.getDimSize(0), hidden.getDimSize(1)})) ||
      failed(verifyShape(op, "labels", labels, {hidden.getDimSize(0)})))
    return failure();
  if (Value bias = op.getBias()) {
    auto biasType = cast<RankedTensorType>(bias.getType());
    if (biasType.getElementType() != hidden.getElementType())
      return op.emitOpError() << "bias element type "
                              << biasType.getElementType()
                              << " must match the hidden element type "
                              << hidden.getElementType();
    if (failed(verifyShape(op, "bias", biasType, {weight.getDimSize(0)})))
      return failure();
  }
  return success();
}

LogicalResult LinearCrossEntropyOp::verify() {
  if (failed(verifyByteSizes(*this)) || failed(verifyLinearOperands(*this)))
    return failure();
  return verifyLossCommon(*this, getHidden().getType().getDimSize(0));
}

LogicalResult LinearCrossEntropyGradOp::verify() {
  if (failed(verifyByteSizes(*this)) || failed(verifyLinearOperands(*this)) ||
      failed(verifyLossGradOperands(*this,
                                    getHidden().getType().getDimSize(0))))
    return failure();
  if (bool(getBias()) != bool(getGradBias()))
    return emitOpError() << "grad_bias must be a result exactly when bias is "
                         << "an operand, but the op has "
                         << (getBias() ? "a bias and no grad_bias"
                                       : "a grad_bias and no bias");
  if (failed(verifySameType(*this, "grad_hidden", getGradHidden().getType(),
                            "hidden", getHidden().getType())) ||
      failed(verifySameType(*this, "grad_weight", getGradWeight().getType(),
                            "weight", getWeight().getType())))
    return failure();
  if (Value gradBias = getGradBias())
    if (failed(verifySameType(*this, "grad_bias",
                              cast<RankedTensorType>(gradBias.getType()),
                              "bias",
                              cast<RankedTensorType>(getBias().getType()))))
      return failure();
  if (std::optional<APFloat> filter = getGradFilter()) {
    double eps = filter->convertToDouble();
    if (!(eps > 0 && eps < 1))
      return emitOpError() << "grad_filter must be in (0, 1), but is " << eps;
  }
  return verifyOptionalSchedule(*this);
}

//===----------------------------------------------------------------------===//
// AttnOpInterface: operand and result roles, effective attributes
//===----------------------------------------------------------------------===//

#include "attn/Dialect/Attn/IR/AttnInterfaces.cpp.inc"

/// Operand roles in ODS operand order; optional operands that are absent
/// are skipped (they have no operand).
static SmallVector<StringRef>
rolesOf(ArrayRef<std::pair<StringRef, bool>> rolesAndPresence) {
  SmallVector<StringRef> roles;
  for (auto [role, present] : rolesAndPresence)
    if (present)
      roles.push_back(role);
  return roles;
}

/// A float attribute for the runtime, or unit when absent.
static Attribute optionalF64(Builder &b, std::optional<APFloat> v) {
  if (!v)
    return b.getUnitAttr();
  return b.getF64FloatAttr(v->convertToDouble());
}

#define ATTN_ROW_OP_INTERFACE(OP)                                              \
  SmallVector<StringRef> OP::getOperandRoles() {                               \
    return {"input"};                                                          \
  }                                                                            \
  SmallVector<StringRef> OP::getResultRoles() { return {"result"}; }           \
  DictionaryAttr OP::getEffectiveAttributes() {                                \
    Builder b(getContext());                                                   \
    return b.getDictionaryAttr(                                                \
        {b.getNamedAttr("dim", b.getI64IntegerAttr(getDim()))});               \
  }
ATTN_ROW_OP_INTERFACE(SoftmaxOp)
ATTN_ROW_OP_INTERFACE(LogSoftmaxOp)
ATTN_ROW_OP_INTERFACE(LogSumExpOp)
#undef ATTN_ROW_OP_INTERFACE

// The gradient ops name their operands and results after the forward op's:
// `result` is the saved forward result, `grad_<r>` the gradient with
// respect to forward result (or operand) `<r>`. The float64 reference and
// its finite-difference check read these roles.

#define ATTN_ROW_GRAD_OP_INTERFACE(OP, ...)                                    \
  SmallVector<StringRef> OP::getOperandRoles() { return {__VA_ARGS__}; }       \
  SmallVector<StringRef> OP::getResultRoles() { return {"grad_input"}; }       \
  DictionaryAttr OP::getEffectiveAttributes() {                                \
    Builder b(getContext());                                                   \
    return b.getDictionaryAttr(                                                \
        {b.getNamedAttr("dim", b.getI64IntegerAttr(getDim()))});               \
  }
ATTN_ROW_GRAD_OP_INTERFACE(SoftmaxGradOp, "result", "grad_result")
ATTN_ROW_GRAD_OP_INTERFACE(LogSoftmaxGradOp, "result", "grad_result")
ATTN_ROW_GRAD_OP_INTERFACE(LogSumExpGradOp, "input", "result", "grad_result")
#undef ATTN_ROW_GRAD_OP_INTERFACE

SmallVector<StringRef> AttentionOp::getOperandRoles() {
  return rolesOf({{"query", true},
                  {"key", true},
                  {"value", true},
                  {"mask", bool(getMask())}});
}

SmallVector<StringRef> AttentionOp::getResultRoles() {
  return {"output", "lse"};
}

template <typename OpTy>
static DictionaryAttr attentionAttributes(OpTy op) {
  Builder b(op.getContext());
  Attribute window = b.getUnitAttr();
  if (std::optional<ArrayRef<int64_t>> w = op.getWindow())
    window = b.getDenseI64ArrayAttr(*w);
  return b.getDictionaryAttr(
      {b.getNamedAttr("scale", b.getF64FloatAttr(op.getScaleOrDefault())),
       b.getNamedAttr("causal", b.getBoolAttr(op.getCausal())),
       b.getNamedAttr("window", window),
       b.getNamedAttr("softcap", optionalF64(b, op.getSoftcap()))});
}

DictionaryAttr AttentionOp::getEffectiveAttributes() {
  return attentionAttributes(*this);
}

SmallVector<StringRef> AttentionGradOp::getOperandRoles() {
  return rolesOf({{"query", true},
                  {"key", true},
                  {"value", true},
                  {"output", true},
                  {"lse", true},
                  {"grad_output", true},
                  {"mask", bool(getMask())}});
}

SmallVector<StringRef> AttentionGradOp::getResultRoles() {
  return {"grad_query", "grad_key", "grad_value"};
}

DictionaryAttr AttentionGradOp::getEffectiveAttributes() {
  return attentionAttributes(*this);
}

template <typename LossOp>
static DictionaryAttr lossAttributes(LossOp op) {
  Builder b(op.getContext());
  return b.getDictionaryAttr(
      {b.getNamedAttr("ignore_index",
                      b.getI64IntegerAttr(op.getIgnoreIndex())),
       b.getNamedAttr("label_smoothing",
                      b.getF64FloatAttr(
                          op.getLabelSmoothing().convertToDouble())),
       b.getNamedAttr("z_loss",
                      b.getF64FloatAttr(op.getZLoss().convertToDouble())),
       b.getNamedAttr("softcap", optionalF64(b, op.getSoftcap())),
       b.getNamedAttr("reduction",
                      b.getStringAttr(stringifyReduction(op.getReduction())))});
}

SmallVector<StringRef> CrossEntropyOp::getOperandRoles() {
  return {"logits", "labels"};
}

SmallVector<StringRef> CrossEntropyOp::getResultRoles() {
  return {"loss", "lse"};
}

DictionaryAttr CrossEntropyOp::getEffectiveAttributes() {
  return lossAttributes(*this);
}

SmallVector<StringRef> CrossEntropyGradOp::getOperandRoles() {
  return {"logits", "labels", "lse", "grad_loss"};
}

SmallVector<StringRef> CrossEntropyGradOp::getResultRoles() {
  return {"grad_logits"};
}

DictionaryAttr CrossEntropyGradOp::getEffectiveAttributes() {
  return lossAttributes(*this);
}

SmallVector<StringRef> LinearCrossEntropyOp::getOperandRoles() {
  return rolesOf({{"hidden", true},
                  {"weight", true},
                  {"labels", true},
                  {"bias", bool(getBias())}});
}

SmallVector<StringRef> LinearCrossEntropyOp::getResultRoles() {
  return {"loss", "lse"};
}

DictionaryAttr LinearCrossEntropyOp::getEffectiveAttributes() {
  return lossAttributes(*this);
}

SmallVector<StringRef> LinearCrossEntropyGradOp::getOperandRoles() {
  return rolesOf({{"hidden", true},
                  {"weight", true},
                  {"labels", true},
                  {"bias", bool(getBias())},
                  {"lse", true},
                  {"grad_loss", true}});
}

SmallVector<StringRef> LinearCrossEntropyGradOp::getResultRoles() {
  return rolesOf({{"grad_hidden", true},
                  {"grad_weight", true},
                  {"grad_bias", bool(getGradBias())}});
}

DictionaryAttr LinearCrossEntropyGradOp::getEffectiveAttributes() {
  NamedAttrList attributes(lossAttributes(*this));
  Builder b(getContext());
  attributes.set("grad_filter", optionalF64(b, getGradFilter()));
  return attributes.getDictionary(getContext());
}

#define GET_OP_CLASSES
#include "attn/Dialect/Attn/IR/AttnOps.cpp.inc"
