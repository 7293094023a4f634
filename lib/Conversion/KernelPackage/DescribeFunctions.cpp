//===- DescribeFunctions.cpp - what each function computes ---------------===//
//
// Builds the typed description (#attn.function_spec) of each public
// function that the kernel package manifest (and attn-run's CPU mode)
// carries: arguments with dtype, shape and attn operand role, and the
// single attn op a function computes, with its effective attributes.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/KernelPackage/FunctionSpec.h"
#include "attn/Conversion/Passes.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNDESCRIBEFUNCTIONS
#include "attn/Conversion/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;

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

FailureOr<FunctionSpecAttr> mlir::attn::describeFunction(func::FuncOp func) {
  // The single attn op of the body, if the function is exactly that op.
  Operation *candidateOp = nullptr;
  Block &body = func.getBody().front();
  if (func.getBody().hasOneBlock() && body.getOperations().size() == 2 &&
      isa<AttnOpInterface>(body.front())) {
    Operation *candidate = &body.front();
    auto ret = cast<func::ReturnOp>(body.getTerminator());
    bool operandsAreArgs = llvm::all_of(candidate->getOperands(), [&](Value v) {
      return isa<BlockArgument>(v) &&
             cast<BlockArgument>(v).getOwner() == &body;
    });
    if (operandsAreArgs &&
        llvm::equal(ret.getOperands(), candidate->getResults()))
      candidateOp = candidate;
  }

  MLIRContext *ctx = func.getContext();
  Builder b(ctx);
  auto attnOp = dyn_cast_or_null<AttnOpInterface>(candidateOp);
  SmallVector<Attribute> args;
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
    args.push_back(TensorArgAttr::get(
        ctx, name, role, dtype, b.getDenseI64ArrayAttr(tensor.getShape()),
        operand));
    return success();
  };
  SmallVector<StringRef> operandRoles, resultRoles;
  if (attnOp) {
    operandRoles = attnOp.getOperandRoles();
    resultRoles = attnOp.getResultRoles();
  }
  for (auto [i, type] : llvm::enumerate(func.getArgumentTypes())) {
    // The role of the argument's last use (an argument may feed several).
    StringRef operand;
    if (attnOp)
      for (OpOperand &use : attnOp->getOpOperands())
        if (use.get() == func.getArgument(i))
          operand = operandRoles[use.getOperandNumber()];
    if (failed(describeValue(type, ("arg" + Twine(i)).str(), "input",
                             operand)))
      return failure();
  }
  for (auto [i, type] : llvm::enumerate(func.getResultTypes())) {
    StringRef operand = attnOp ? resultRoles[i] : StringRef();
    if (failed(describeValue(type, ("result" + Twine(i)).str(), "output",
                             operand)))
      return failure();
  }
  StringAttr opName =
      attnOp ? b.getStringAttr(attnOp->getName().getStringRef()) : nullptr;
  DictionaryAttr attributes =
      attnOp ? attnOp.getEffectiveAttributes() : nullptr;
  return FunctionSpecAttr::get(ctx, func.getSymName(), b.getArrayAttr(args),
                               opName, attributes, /*mapping=*/nullptr,
                               /*schedule=*/nullptr, /*tensor_core=*/nullptr);
}

namespace {
struct AttnDescribeFunctionsPass
    : public attn::impl::AttnDescribeFunctionsBase<AttnDescribeFunctionsPass> {
  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (func.isExternal() || !func.isPublic())
        continue;
      FailureOr<FunctionSpecAttr> spec = describeFunction(func);
      if (failed(spec))
        return signalPassFailure();
      func->setAttr("attn.spec", *spec);
    }
  }
};
} // namespace

void mlir::attn::recordKernelMapping(Operation *op, ScheduleAttr schedule,
                                     StringRef tensorCore) {
  auto func = op->getParentOfType<func::FuncOp>();
  auto spec = func ? func->getAttrOfType<FunctionSpecAttr>("attn.spec")
                   : nullptr;
  if (!spec || !spec.getOp())
    return;
  Builder b(op->getContext());
  func->setAttr("attn.spec",
                FunctionSpecAttr::get(
                    op->getContext(), spec.getName(), spec.getArgs(),
                    spec.getOp(), spec.getAttributes(),
                    b.getStringAttr("attn-map-to-gpu"), schedule,
                    tensorCore.empty() ? nullptr
                                       : b.getStringAttr(tensorCore)));
}
