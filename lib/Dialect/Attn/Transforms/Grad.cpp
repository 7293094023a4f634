//===- Grad.cpp - the attn-grad pass ---------------------------------------===//
//
// Reverse-mode differentiation of a scalar loss built from attn ops and
// elementwise / shape glue: for each function marked `attn.grad`, a sibling
// function that recomputes the forward (with the log-sum-exp results the
// backward ops read) and then propagates the loss's gradient backward
// through the ops, using the attn gradient ops for the attn ops.
//
//===----------------------------------------------------------------------===//

#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Dialect/Attn/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/TypeSwitch.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNGRAD
#include "attn/Dialect/Attn/Transforms/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;

namespace {

constexpr llvm::StringLiteral kGradAttr = "attn.grad";

/// The ops the pass differentiates, for the error message.
constexpr llvm::StringLiteral kSupported =
    "attn.attention, attn.softmax, attn.log_softmax, attn.logsumexp, "
    "attn.cross_entropy, attn.linear_cross_entropy, arith.addf, arith.subf, "
    "arith.mulf, arith.divf, arith.negf, arith.extf, arith.truncf, "
    "tensor.expand_shape, tensor.collapse_shape, linalg.transpose";

/// A float tensor filled with `value`: tensor.empty + linalg.fill rather
/// than a dense constant, so that on the GPU path it becomes a fill kernel
/// (a constant would become a host global that kernels cannot read).
Value splat(OpBuilder &b, Location loc, Type type, double value) {
  auto tensorType = cast<RankedTensorType>(type);
  auto element = cast<FloatType>(tensorType.getElementType());
  Value scalar =
      arith::ConstantOp::create(b, loc, FloatAttr::get(element, value));
  Value empty =
      tensor::EmptyOp::create(b, loc, tensorType.getShape(), element);
  return linalg::FillOp::create(b, loc, scalar, empty).getResult(0);
}

/// Builds the backward sweep of one function.
class GradientBuilder {
public:
  GradientBuilder(OpBuilder &b, llvm::SetVector<Value> &active)
      : b(b), active(active) {}

  /// Adds `g` to the gradient of `v` (when `v` depends on a differentiated
  /// argument).
  void accumulate(Value v, Value g) {
    if (!active.contains(v))
      return;
    auto [it, inserted] = grads.try_emplace(v, g);
    if (!inserted)
      it->second = arith::AddFOp::create(b, g.getLoc(), it->second, g);
  }

  Value gradient(Value v) const { return grads.lookup(v); }

  /// Propagates the gradients of `op`'s results to its operands. Fails with
  /// a diagnostic on an op it cannot differentiate.
  LogicalResult propagate(Operation *op);

private:
  OpBuilder &b;
  llvm::SetVector<Value> &active;
  llvm::DenseMap<Value, Value> grads;
};

LogicalResult GradientBuilder::propagate(Operation *op) {
  Location loc = op->getLoc();
  // Ops whose results carry no gradient contribute nothing.
  bool any = llvm::any_of(op->getResults(),
                          [&](Value r) { return bool(gradient(r)); });
  if (!any)
    return success();
  Value g = op->getNumResults() ? gradient(op->getResult(0)) : Value();
  auto onlyFirstResult = [&](StringRef what) -> LogicalResult {
    for (Value r : op->getResults().drop_front())
      if (gradient(r))
        return op->emitError("attn-grad: the loss depends on the ")
               << what << " result #" << cast<OpResult>(r).getResultNumber()
               << " of this op, which has no gradient";
    return success();
  };
  auto noGradientInto = [&](Value operand, StringRef what) -> LogicalResult {
    if (operand && active.contains(operand))
      return op->emitError("attn-grad: the ")
             << what << " operand depends on a differentiated argument, but "
             << "it gets no gradient";
    return success();
  };

  return llvm::TypeSwitch<Operation *, LogicalResult>(op)
      .Case([&](arith::AddFOp add) {
        accumulate(add.getLhs(), g);
        accumulate(add.getRhs(), g);
        return success();
      })
      .Case([&](arith::SubFOp sub) {
        accumulate(sub.getLhs(), g);
        if (active.contains(sub.getRhs()))
          accumulate(sub.getRhs(), arith::NegFOp::create(b, loc, g));
        return success();
      })
      .Case([&](arith::MulFOp mul) {
        if (active.contains(mul.getLhs()))
          accumulate(mul.getLhs(),
                     arith::MulFOp::create(b, loc, g, mul.getRhs()));
        if (active.contains(mul.getRhs()))
          accumulate(mul.getRhs(),
                     arith::MulFOp::create(b, loc, g, mul.getLhs()));
        return success();
      })
      .Case([&](arith::DivFOp div) {
        // d(a/b) = da / b - (a/b) * db / b.
        if (active.contains(div.getLhs()))
          accumulate(div.getLhs(),
                     arith::DivFOp::create(b, loc, g, div.getRhs()));
        if (active.contains(div.getRhs())) {
          Value gq = arith::MulFOp::create(b, loc, g, div.getResult());
          Value t = arith::DivFOp::create(b, loc, gq, div.getRhs());
          accumulate(div.getRhs(), arith::NegFOp::create(b, loc, t));
        }
        return success();
      })
      .Case([&](arith::NegFOp neg) {
        accumulate(neg.getOperand(), arith::NegFOp::create(b, loc, g));
        return success();
      })
      .Case([&](arith::ExtFOp ext) {
        accumulate(ext.getIn(), arith::TruncFOp::create(
                                    b, loc, ext.getIn().getType(), g));
        return success();
      })
      .Case([&](arith::TruncFOp trunc) {
        accumulate(trunc.getIn(), arith::ExtFOp::create(
                                      b, loc, trunc.getIn().getType(), g));
        return success();
      })
      .Case([&](tensor::ExpandShapeOp expand) {
        accumulate(expand.getSrc(),
                   tensor::CollapseShapeOp::create(
                       b, loc, expand.getSrcType(), g,
                       expand.getReassociationIndices()));
        return success();
      })
      .Case([&](tensor::CollapseShapeOp collapse) {
        accumulate(collapse.getSrc(),
                   tensor::ExpandShapeOp::create(
                       b, loc, collapse.getSrcType(), g,
                       collapse.getReassociationIndices()));
        return success();
      })
      .Case([&](linalg::TransposeOp transpose) -> LogicalResult {
        if (failed(noGradientInto(transpose.getInit(), "init")))
          return failure();
        ArrayRef<int64_t> perm = transpose.getPermutation();
        SmallVector<int64_t> inverse(perm.size());
        for (auto [i, p] : llvm::enumerate(perm))
          inverse[p] = static_cast<int64_t>(i);
        auto inputType = cast<RankedTensorType>(transpose.getInput().getType());
        Value init = tensor::EmptyOp::create(b, loc, inputType.getShape(),
                                             inputType.getElementType());
        auto back = linalg::TransposeOp::create(b, loc, g, init, inverse);
        accumulate(transpose.getInput(), back->getResult(0));
        return success();
      })
      .Case([&](SoftmaxOp softmax) {
        accumulate(softmax.getInput(),
                   SoftmaxGradOp::create(b, loc, softmax.getInput().getType(),
                                         softmax.getResult(), g,
                                         softmax.getDimAttr(), nullptr));
        return success();
      })
      .Case([&](LogSoftmaxOp logSoftmax) {
        accumulate(logSoftmax.getInput(),
                   LogSoftmaxGradOp::create(
                       b, loc, logSoftmax.getInput().getType(),
                       logSoftmax.getResult(), g, logSoftmax.getDimAttr(),
                       nullptr));
        return success();
      })
      .Case([&](LogSumExpOp lse) {
        accumulate(lse.getInput(),
                   LogSumExpGradOp::create(b, loc, lse.getInput().getType(),
                                           lse.getInput(), lse.getResult(), g,
                                           lse.getDimAttr(), nullptr));
        return success();
      })
      .Case([&](AttentionOp attention) -> LogicalResult {
        if (failed(onlyFirstResult("log-sum-exp")) ||
            failed(noGradientInto(attention.getMask(), "mask")))
          return failure();
        auto grad = AttentionGradOp::create(
            b, loc, attention.getQuery().getType(),
            attention.getKey().getType(), attention.getValue().getType(),
            attention.getQuery(), attention.getKey(), attention.getValue(),
            attention.getOutput(), attention.getLse(), g,
            attention.getMask(), attention.getScaleAttr(),
            attention.getCausalAttr(), attention.getWindowAttr(),
            attention.getSoftcapAttr(), nullptr);
        accumulate(attention.getQuery(), grad.getGradQuery());
        accumulate(attention.getKey(), grad.getGradKey());
        accumulate(attention.getValue(), grad.getGradValue());
        return success();
      })
      .Case([&](CrossEntropyOp ce) -> LogicalResult {
        if (failed(onlyFirstResult("log-sum-exp")))
          return failure();
        accumulate(ce.getLogits(),
                   CrossEntropyGradOp::create(
                       b, loc, ce.getLogits().getType(), ce.getLogits(),
                       ce.getLabels(), ce.getLse(), g, ce.getIgnoreIndexAttr(),
                       ce.getLabelSmoothingAttr(), ce.getZLossAttr(),
                       ce.getSoftcapAttr(), ce.getReductionAttr(), nullptr));
        return success();
      })
      .Case([&](LinearCrossEntropyOp lce) -> LogicalResult {
        if (failed(onlyFirstResult("log-sum-exp")))
          return failure();
        Value bias = lce.getBias();
        auto grad = LinearCrossEntropyGradOp::create(
            b, loc, lce.getHidden().getType(), lce.getWeight().getType(),
            bias ? bias.getType() : Type(), lce.getHidden(), lce.getWeight(),
            lce.getLabels(), bias, lce.getLse(), g, lce.getIgnoreIndexAttr(),
            lce.getLabelSmoothingAttr(), lce.getZLossAttr(),
            lce.getSoftcapAttr(), lce.getReductionAttr(), /*schedule=*/nullptr,
            /*grad_filter=*/nullptr);
        accumulate(lce.getHidden(), grad.getGradHidden());
        accumulate(lce.getWeight(), grad.getGradWeight());
        if (bias)
          accumulate(bias, grad.getGradBias());
        return success();
      })
      .Default([&](Operation *other) {
        return other->emitError("attn-grad: cannot differentiate '")
               << other->getName()
               << "', which lies between a differentiated argument and the "
                  "loss; supported ops: "
               << kSupported;
      });
}

/// Rebuilds the attention and loss ops of `func` with their log-sum-exp
/// result, which the gradient ops read.
void requestLogSumExp(func::FuncOp func) {
  SmallVector<Operation *> ops;
  func.walk([&](Operation *op) {
    if (isa<AttentionOp, CrossEntropyOp, LinearCrossEntropyOp>(op))
      ops.push_back(op);
  });
  for (Operation *op : ops) {
    OpBuilder b(op);
    Type f32 = b.getF32Type();
    if (auto attention = dyn_cast<AttentionOp>(op)) {
      if (attention.getLse())
        return;
      auto qType = cast<RankedTensorType>(attention.getQuery().getType());
      auto lseType = RankedTensorType::get(qType.getShape().drop_back(), f32);
      auto withLse = AttentionOp::create(
          b, op->getLoc(), TypeRange{attention.getOutput().getType(), lseType},
          op->getOperands(), op->getAttrs());
      attention.getOutput().replaceAllUsesWith(withLse.getOutput());
      op->erase();
      continue;
    }
    auto replaceLoss = [&](auto loss) {
      if (loss.getLse())
        return;
      auto tokens = cast<RankedTensorType>(loss.getLabels().getType());
      auto lseType = RankedTensorType::get(tokens.getShape(), f32);
      OperationState state(op->getLoc(), op->getName());
      state.addOperands(op->getOperands());
      state.addAttributes(op->getAttrs());
      state.addTypes({loss.getLoss().getType(), lseType});
      Operation *withLse = b.create(state);
      loss.getLoss().replaceAllUsesWith(withLse->getResult(0));
      op->erase();
    };
    if (auto ce = dyn_cast<CrossEntropyOp>(op))
      replaceLoss(ce);
    else if (auto lce = dyn_cast<LinearCrossEntropyOp>(op))
      replaceLoss(lce);
  }
}

/// Emits `@<name>_grad` for one marked function.
LogicalResult differentiate(func::FuncOp func, SymbolTable &symbols) {
  auto indices = func->getAttrOfType<DenseI64ArrayAttr>(kGradAttr);
  if (!indices)
    return func.emitError("attn-grad: '")
           << kGradAttr << "' must be an array<i64> of argument indices";
  if (func.isExternal() || !func.getBody().hasOneBlock())
    return func.emitError("attn-grad: the function must have a body of one "
                          "block");
  FunctionType type = func.getFunctionType();
  if (type.getNumResults() != 1)
    return func.emitError("attn-grad: the function must return one value, "
                          "the loss; it returns ")
           << type.getNumResults();
  auto lossType = dyn_cast<RankedTensorType>(type.getResult(0));
  if (!lossType || lossType.getRank() != 0 ||
      !lossType.getElementType().isF32())
    return func.emitError("attn-grad: the loss must be a tensor<f32>, got ")
           << type.getResult(0);
  SmallVector<unsigned> wrt;
  for (int64_t i : indices.asArrayRef()) {
    if (i < 0 || i >= static_cast<int64_t>(type.getNumInputs()))
      return func.emitError("attn-grad: argument index ")
             << i << " is out of range [0, " << type.getNumInputs() << ")";
    if (llvm::is_contained(wrt, static_cast<unsigned>(i)))
      return func.emitError("attn-grad: argument index ")
             << i << " is listed twice";
    auto argType = dyn_cast<RankedTensorType>(type.getInput(i));
    if (!argType || !isa<FloatType>(argType.getElementType()) ||
        !argType.hasStaticShape())
      return func.emitError("attn-grad: argument #")
             << i << " must be a statically shaped float tensor, got "
             << type.getInput(i);
    wrt.push_back(static_cast<unsigned>(i));
  }
  std::string name = (func.getSymName() + "_grad").str();
  if (symbols.lookup(name))
    return func.emitError("attn-grad: a symbol named '")
           << name << "' already exists";

  // The gradient function: a clone whose results are extended below.
  OpBuilder mb(func);
  mb.setInsertionPointAfter(func);
  auto gradFunc = cast<func::FuncOp>(mb.clone(*func));
  gradFunc.setSymName(name);
  gradFunc->removeAttr(kGradAttr);
  symbols.insert(gradFunc);
  requestLogSumExp(gradFunc);

  Block &body = gradFunc.getBody().front();
  auto ret = cast<func::ReturnOp>(body.getTerminator());
  Value loss = ret.getOperand(0);

  // The values that depend on a differentiated argument.
  llvm::SetVector<Value> active;
  for (unsigned i : wrt)
    active.insert(body.getArgument(i));
  for (Operation &op : body.without_terminator()) {
    // linalg.transpose's region is its implicit copy.
    if (op.getNumRegions() && !isa<linalg::TransposeOp>(op)) {
      bool uses = llvm::any_of(op.getOperands(), [&](Value v) {
        return active.contains(v);
      });
      if (uses)
        return op.emitError("attn-grad: cannot differentiate '")
               << op.getName() << "' (an op with regions); supported ops: "
               << kSupported;
    }
    if (llvm::any_of(op.getOperands(),
                     [&](Value v) { return active.contains(v); }))
      active.insert(op.getResults().begin(), op.getResults().end());
  }

  OpBuilder b(ret);
  GradientBuilder grads(b, active);
  if (active.contains(loss))
    grads.accumulate(loss, splat(b, ret.getLoc(), loss.getType(), 1.0));
  for (Operation &op :
       llvm::reverse(llvm::make_range(body.begin(), ret->getIterator())))
    if (failed(grads.propagate(&op))) {
      gradFunc.erase();
      return failure();
    }

  SmallVector<Value> results = {loss};
  SmallVector<Type> resultTypes = {loss.getType()};
  for (unsigned i : wrt) {
    Value arg = body.getArgument(i);
    Value g = grads.gradient(arg);
    if (!g)
      g = splat(b, ret.getLoc(), arg.getType(), 0.0);
    results.push_back(g);
    resultTypes.push_back(arg.getType());
  }
  func::ReturnOp::create(b, ret.getLoc(), results);
  ret.erase();
  gradFunc.setFunctionType(
      FunctionType::get(func.getContext(), type.getInputs(), resultTypes));
  func->removeAttr(kGradAttr);
  return success();
}

struct AttnGradPass : public attn::impl::AttnGradBase<AttnGradPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    SmallVector<func::FuncOp> marked;
    for (auto func : module.getOps<func::FuncOp>())
      if (func->hasAttr(kGradAttr))
        marked.push_back(func);
    for (func::FuncOp func : marked)
      if (failed(differentiate(func, symbols)))
        return signalPassFailure();
  }
};

} // namespace
