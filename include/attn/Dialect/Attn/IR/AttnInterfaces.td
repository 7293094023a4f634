//===- AttnInterfaces.td - what every attn op tells passes -*- tablegen -*-===//
//
// The behaviour passes need from any attn op, so that adding an op (a
// backward op, say) means implementing these methods rather than touching
// a TypeSwitch in every pass.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_ATTN_IR_ATTNINTERFACES_TD
#define ATTN_DIALECT_ATTN_IR_ATTNINTERFACES_TD

include "mlir/IR/OpBase.td"

def AttnOpInterface : OpInterface<"AttnOpInterface"> {
  let cppNamespace = "::mlir::attn";
  let description = [{
    An op of the attn dialect: it may carry a `#attn.schedule`, checks its
    structure, names the roles of its operands and results (`query`,
    `logits`, `lse`, ...) and gives the effective values of its attributes
    (defaults filled in), which the kernel package hands to the runtime and
    its float64 reference.
  }];
  let methods = [
    InterfaceMethod<[{
        The op's `schedule` attribute, or null.
      }], "::mlir::attn::ScheduleAttr", "getOpSchedule", (ins), [{}], [{
        return $_op->template getAttrOfType<::mlir::attn::ScheduleAttr>(
            "schedule");
      }]>,
    InterfaceMethod<[{
        Checks the structure of `schedule` against this op (fields that
        apply in range, fields that do not at their defaults, splits within
        the tiles); errors go through `emitError`.
      }], "::mlir::LogicalResult", "verifyScheduleStructure",
      (ins "::mlir::attn::ScheduleAttr":$schedule,
           "::llvm::function_ref<::mlir::InFlightDiagnostic()>":$emitError)>,
    InterfaceMethod<[{
        The role of each operand, in operand order ("" for none).
      }], "::llvm::SmallVector<::llvm::StringRef>", "getOperandRoles">,
    InterfaceMethod<[{
        The role of each result, in result order.
      }], "::llvm::SmallVector<::llvm::StringRef>", "getResultRoles">,
    InterfaceMethod<[{
        The op's attributes with defaults filled in, as the runtime reads
        them; `unit` stands for an optional attribute that is absent.
      }], "::mlir::DictionaryAttr", "getEffectiveAttributes">,
  ];
}

#endif // ATTN_DIALECT_ATTN_IR_ATTNINTERFACES_TD
