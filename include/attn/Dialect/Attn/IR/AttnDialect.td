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

def Attn_ScheduleAttr : AttrDef<Attn_Dialect, "Schedule"> {
  let mnemonic = "schedule";
  let summary = "tile sizes, warps, pipeline stages and split factor of a kernel";
  let description = [{
    Everything a kernel's speed depends on, and nothing else: `attn-tile`
    and the GPU code generation read it, and no pass chooses tiles on its
    own. An op carries it as its optional `schedule` attribute; without one,
    `attn-tile` uses `attn::getDefaultSchedule` (documented in
    docs/Tiling.md). `attn::enumerateSchedules` lists every legal schedule
    of an (op, shape, target) triple: the search space of the cost model.

    The fields mean, per op:

    | field     | attention            | softmax family        | cross_entropy   | linear_cross_entropy |
    |-----------|----------------------|-----------------------|-----------------|----------------------|
    | `block_m` | query rows per tile  | rows per block        | tokens per block| tokens per block     |
    | `block_n` | keys per tile        | columns per tile      | vocabulary tile | vocabulary tile      |
    | `block_d` | (0: whole head dim)  | -                     | -               | hidden-dim tile      |
    | `warps`   | warps per block      | warps per block       | warps per block | warps per block      |
    | `stages`  | K/V pipeline depth   | -                     | -               | pipeline depth       |
    | `split`   | split-KV (decoding)  | blocks per row (a cluster, sm_90+; passes = 1) | split-V | split-V |
    | `passes`  | -                    | 1 (one read) or 2     | -               | -                    |
    | `chip`    | target, e.g. `"sm_90a"`: bounds shared memory and threads       ||||

    Fields that do not apply to an op must keep their default. The verifier
    checks the schedule against the op's shapes and the chip's limits.

    ```mlir
    %o = attn.attention %q, %k, %v {causal,
        schedule = #attn.schedule<block_m = 128, block_n = 64, warps = 8, stages = 2>}
        : tensor<1x8x4096x128xbf16>, tensor<1x8x4096x128xbf16>, tensor<1x8x4096x128xbf16>
        -> tensor<1x8x4096x128xbf16>
    ```
  }];
  let parameters = (ins
    DefaultValuedParameter<"int64_t", "0">:$block_m,
    DefaultValuedParameter<"int64_t", "0">:$block_n,
    DefaultValuedParameter<"int64_t", "0">:$block_d,
    DefaultValuedParameter<"int64_t", "4">:$warps,
    DefaultValuedParameter<"int64_t", "1">:$stages,
    DefaultValuedParameter<"int64_t", "1">:$split,
    DefaultValuedParameter<"int64_t", "1">:$passes,
    StringRefParameter<"target chip", "\"sm_90a\"">:$chip
  );
  let assemblyFormat = "`<` struct(params) `>`";
}

#endif // ATTN_DIALECT_ATTN_IR_ATTNDIALECT_TD
