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
    the passes use `attn::getDefaultSchedule` (documented in
    docs/Tiling.md). The op's verifier checks the schedule's structure and
    asks the kernel plan of the op's family whether it runs on the chip
    (docs/Architecture.md); `attn::enumerateSchedules` lists every schedule
    the plans accept for an (op, shape, chip) triple, the search space of
    the cost model (`attn-tune list` prints it).

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
    | `pipeline`| `"cp_async"` (every warp loads), `"tma"` (a producer warpgroup issues TMA, sm_90a) or `"tma_pingpong"` (the same, two computing warpgroups taking turns at the tensor cores) | - | - | - |
    | `chip`    | a chip of lib/Target (`"sm_90a"`, `"h200-sxm"`, ...; `"host"` for attn-tile's CPU loops) ||||

    Fields that do not apply to an op must keep their default.
    `softmax_grad` and `log_softmax_grad` take the softmax family's fields
    (the same row kernels, reading y and dy); `logsumexp_grad` and
    `cross_entropy_grad` take `block_m` (rows per block or warp of their
    elementwise row kernel) and `warps`; `attention_grad` takes `block_m`
    (queries of a dK/dV tile), `block_n` (keys of a dQ tile), `warps` and
    `stages`; `linear_cross_entropy_grad` takes `block_m`, `block_n` and
    `block_d` (its product tiles), `warps` and `stages`. A grad op's
    all-default schedule is its decomposition (docs/Tiling.md).

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
    StringRefParameter<"how K/V tiles reach shared memory", "\"cp_async\"">:$pipeline,
    StringRefParameter<"target chip", "\"sm_90a\"">:$chip
  );
  let assemblyFormat = "`<` struct(params) `>`";
}

def Attn_TensorArgAttr : AttrDef<Attn_Dialect, "TensorArg"> {
  let mnemonic = "tensor_arg";
  let summary = "an argument or result of a packaged function, as the runtime holds it";
  let description = [{
    One entry of `#attn.function_spec`'s `args`: its name (`arg<i>` for
    inputs, `result<i>` for results, which become out-parameters), its role
    (`input` or `output`), the runtime's dtype name (`f32`, `bf16`, `i64`,
    ...), its static shape, and the role it plays for the function's attn op
    (`query`, `labels`, `lse`, ...; empty when none).
  }];
  let parameters = (ins
    StringRefParameter<"arg<i> or result<i>">:$name,
    StringRefParameter<"input or output">:$role,
    StringRefParameter<"the runtime's element type name">:$dtype,
    "::mlir::DenseI64ArrayAttr":$shape,
    StringRefParameter<"the attn operand or result it is, or empty", "\"\"">:$operand
  );
  let assemblyFormat = "`<` struct(params) `>`";
}

def Attn_FunctionSpecAttr : AttrDef<Attn_Dialect, "FunctionSpec"> {
  let mnemonic = "function_spec";
  let summary = "what a public function computes, carried to the kernel package";
  let description = [{
    Attached as `attn.spec` to every public function by
    `attn-describe-functions`, completed by `attn-map-to-gpu` (which kernel
    computes the op, under which schedule, with which MMA), and turned into
    the manifest's function entry by `attn-emit-kernel-package`, the only
    JSON writer. `op` and `attributes` are present when the body is a single
    attn op (its effective attributes, `unit` for an absent optional one).

    ```mlir
    func.func @f(...) attributes {attn.spec = #attn.function_spec<
        name = "f", args = [#attn.tensor_arg<name = "arg0", role = "input",
        dtype = "f32", shape = [4, 8], operand = "input">, ...],
        op = "attn.softmax", attributes = {dim = 1 : i64}>}
    ```
  }];
  let parameters = (ins
    StringRefParameter<"the function's symbol name">:$name,
    "::mlir::ArrayAttr":$args,
    OptionalParameter<"::mlir::StringAttr", "the attn op's name">:$op,
    OptionalParameter<"::mlir::DictionaryAttr", "its effective attributes">:$attributes,
    OptionalParameter<"::mlir::StringAttr", "the pass that mapped it to a kernel">:$mapping,
    OptionalParameter<"::mlir::attn::ScheduleAttr", "the schedule of that kernel">:$schedule,
    OptionalParameter<"::mlir::StringAttr", "its MMA instruction">:$tensor_core
  );
  let assemblyFormat = "`<` struct(params) `>`";
}

#endif // ATTN_DIALECT_ATTN_IR_ATTNDIALECT_TD
