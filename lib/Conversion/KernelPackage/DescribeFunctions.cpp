//===- DescribeFunctions.cpp - what each function computes, as JSON -------===//
//
// Builds the function entries of the kernel package manifest (and of
// attn-run's CPU mode): arguments with dtype, shape and attn operand role,
// and the single attn op a function computes, with effective attributes.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/Passes.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/TypeSwitch.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNDESCRIBEFUNCTIONS
#include "attn/Conversion/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;
namespace json = llvm::json;

/// The runtime's name for an element type, or "" if it has none.
static StringRef dtypeName(Type t) {
  if (t.isF32())
    return "f32";
  if (t.isF16())
    return "f16";
  if (t.isBF16())
    return "bf16";
  if (t.isF64())
    return "f64";
  if (t.isInteger(1))
    return "i1";
  if (t.isInteger(8))
    return "i8";
  if (t.isInteger(32))
    return "i32";
  if (t.isInteger(64))
    return "i64";
  return "";
}

static json::Value optionalFloat(std::optional<APFloat> v) {
  if (!v)
    return nullptr;
  return v->convertToDouble();
}

template <typename LossOp>
static json::Object lossAttributes(LossOp op) {
  return json::Object{
      {"ignore_index", static_cast<int64_t>(op.getIgnoreIndex())},
      {"label_smoothing", op.getLabelSmoothing().convertToDouble()},
      {"z_loss", op.getZLoss().convertToDouble()},
      {"softcap", optionalFloat(op.getSoftcap())},
      {"reduction", stringifyReduction(op.getReduction()).str()}};
}

/// The operand names and effective attributes of an attn op.
static std::pair<SmallVector<std::string>, json::Object>
describeOp(Operation *op) {
  SmallVector<std::string> names(op->getNumOperands());
  json::Object attrs;
  auto addName = [&](Value operand, StringRef name) {
    for (OpOperand &use : op->getOpOperands())
      if (operand && use.get() == operand)
        names[use.getOperandNumber()] = name.str();
  };
  llvm::TypeSwitch<Operation *>(op)
      .Case<SoftmaxOp, LogSoftmaxOp, LogSumExpOp>([&](auto o) {
        addName(o.getInput(), "input");
        attrs = json::Object{{"dim", o.getDim()}};
      })
      .Case([&](AttentionOp o) {
        addName(o.getQuery(), "query");
        addName(o.getKey(), "key");
        addName(o.getValue(), "value");
        addName(o.getMask(), "mask");
        json::Value window = nullptr;
        if (std::optional<ArrayRef<int64_t>> w = o.getWindow())
          window = json::Array{(*w)[0], (*w)[1]};
        attrs = json::Object{{"scale", o.getScaleOrDefault()},
                             {"causal", o.getCausal()},
                             {"window", std::move(window)},
                             {"softcap", optionalFloat(o.getSoftcap())}};
      })
      .Case([&](CrossEntropyOp o) {
        addName(o.getLogits(), "logits");
        addName(o.getLabels(), "labels");
        attrs = lossAttributes(o);
      })
      .Case([&](LinearCrossEntropyOp o) {
        addName(o.getHidden(), "hidden");
        addName(o.getWeight(), "weight");
        addName(o.getLabels(), "labels");
        addName(o.getBias(), "bias");
        attrs = lossAttributes(o);
      });
  return {names, std::move(attrs)};
}

/// The result names of an attn op, in result order.
static SmallVector<StringRef> resultNames(Operation *op) {
  if (isa<AttentionOp>(op))
    return {"output", "lse"};
  if (isa<CrossEntropyOp, LinearCrossEntropyOp>(op))
    return {"loss", "lse"};
  return {"result"};
}

FailureOr<json::Object> mlir::attn::describeFunction(func::FuncOp func) {
  // The single attn op of the body, if the function is exactly that op.
  Operation *attnOp = nullptr;
  Block &body = func.getBody().front();
  if (func.getBody().hasOneBlock() && body.getOperations().size() == 2 &&
      isa<AttnDialect>(body.front().getDialect())) {
    Operation *candidate = &body.front();
    auto ret = cast<func::ReturnOp>(body.getTerminator());
    bool operandsAreArgs = llvm::all_of(candidate->getOperands(), [&](Value v) {
      return isa<BlockArgument>(v) &&
             cast<BlockArgument>(v).getOwner() == &body;
    });
    if (operandsAreArgs &&
        llvm::equal(ret.getOperands(), candidate->getResults()))
      attnOp = candidate;
  }

  SmallVector<std::string> operandNames;
  json::Value opJson = nullptr;
  if (attnOp) {
    auto [names, attrs] = describeOp(attnOp);
    operandNames = names;
    opJson = json::Object{{"name", attnOp->getName().getStringRef().str()},
                          {"attributes", std::move(attrs)}};
  }

  json::Array args;
  auto describeValue = [&](Type type, StringRef name, StringRef role,
                           StringRef operand) -> LogicalResult {
    auto tensor = dyn_cast<RankedTensorType>(type);
    if (!tensor || !tensor.hasStaticShape())
      return func.emitError() << "function '" << func.getSymName() << "': "
                              << name << " must be a statically shaped "
                              << "tensor to run through a kernel package, "
                              << "but is " << type;
    StringRef dtype = dtypeName(tensor.getElementType());
    if (dtype.empty())
      return func.emitError() << "function '" << func.getSymName() << "': "
                              << name << " has element type "
                              << tensor.getElementType()
                              << ", which the runtime cannot hold";
    json::Object arg{{"name", name.str()},
                     {"role", role.str()},
                     {"dtype", dtype.str()},
                     {"shape", json::Array(tensor.getShape())}};
    arg["operand"] = operand.empty() ? json::Value(nullptr) : operand.str();
    args.push_back(std::move(arg));
    return success();
  };
  for (auto [i, type] : llvm::enumerate(func.getArgumentTypes())) {
    StringRef operand;
    if (attnOp)
      for (OpOperand &use : attnOp->getOpOperands())
        if (use.get() == func.getArgument(i))
          operand = operandNames[use.getOperandNumber()];
    if (failed(describeValue(type, ("arg" + Twine(i)).str(), "input",
                             operand)))
      return failure();
  }
  for (auto [i, type] : llvm::enumerate(func.getResultTypes())) {
    StringRef operand = attnOp ? resultNames(attnOp)[i] : StringRef();
    if (failed(describeValue(type, ("result" + Twine(i)).str(), "output",
                             operand)))
      return failure();
  }
  return json::Object{{"name", func.getSymName().str()},
                      {"op", std::move(opJson)},
                      {"args", std::move(args)}};
}

namespace {
struct AttnDescribeFunctionsPass
    : public attn::impl::AttnDescribeFunctionsBase<AttnDescribeFunctionsPass> {
  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (func.isExternal() || !func.isPublic())
        continue;
      FailureOr<json::Object> spec = describeFunction(func);
      if (failed(spec))
        return signalPassFailure();
      std::string text;
      llvm::raw_string_ostream os(text);
      os << json::Value(std::move(*spec));
      func->setAttr("attn.spec", StringAttr::get(&getContext(), text));
    }
  }
};
} // namespace
