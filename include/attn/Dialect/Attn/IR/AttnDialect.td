//===- AttnDialect.td - The attn dialect definition --------*- tablegen -*-===//
//
// The attn dialect: attention, softmax and loss ops that know their own math.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_ATTN_IR_ATTNDIALECT_TD
#define ATTN_DIALECT_ATTN_IR_ATTNDIALECT_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def Attn_Dialect : Dialect {
  let name = "attn";
  let cppNamespace = "::mlir::attn";
  let summary = "Attention, softmax and loss ops for IO-aware GPU code generation";
  let description = [{
    The `attn` dialect holds the few computations whose unfused form moves far
    more memory than it needs: scaled dot-product attention, the softmax
    family, and (linear) cross-entropy. Each op carries its full semantics
    (masks, scaling, soft-capping, smoothing, reductions) as attributes, so
    that later passes can tile it into a form whose large intermediates
    (attention scores, vocabulary logits) never reach global memory.

    Ops work on ranked tensors. Inputs may be f16, bf16 or f32; every
    reduction accumulates in f32.
  }];
  let useDefaultAttributePrinterParser = 1;
  let dependentDialects = [
    "::mlir::tensor::TensorDialect"
  ];
}

//===----------------------------------------------------------------------===//
// Attributes
//===----------------------------------------------------------------------===//

def Attn_Reduction : I32EnumAttr<"Reduction",
    "how per-token losses are combined", [
      I32EnumAttrCase<"none", 0>,
      I32EnumAttrCase<"sum", 1>,
      I32EnumAttrCase<"mean", 2>
    ]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::attn";
}

def Attn_ReductionAttr : EnumAttr<Attn_Dialect, Attn_Reduction, "reduction"> {
  let summary = "loss reduction: none, sum, or mean over non-ignored tokens";
  let assemblyFormat = "`<` $value `>`";
}

#endif // ATTN_DIALECT_ATTN_IR_ATTNDIALECT_TD
