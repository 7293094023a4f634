//===- Passes.td - attn dialect transformation passes ------*- tablegen -*-===//

#ifndef ATTN_DIALECT_ATTN_TRANSFORMS_PASSES_TD
#define ATTN_DIALECT_ATTN_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def AttnDecompose : Pass<"attn-decompose"> {
  let summary = "Lower attn ops to fully materialized linalg/tensor/arith/math";
  let description = [{
    Rewrites every attn op into upstream `linalg.generic`, `tensor`, `arith`
    and `math` ops that materialize every intermediate: the `[B, H, M, N]`
    attention scores, the `[N, V]` logits of `linear_cross_entropy`, and the
    exponentials of the softmax family. The result is the executable
    definition of each op (what the CPU execution tests run) and the unfused
    baseline that the tiled forms are measured against.

    All arithmetic runs in f32; f16/bf16 inputs are extended on read and the
    results truncated on write.

    Before:
    ```mlir
    %p = attn.softmax %x, dim = 1 : tensor<4x8xf32> -> tensor<4x8xf32>
    ```
    After (schematically): a max-reduction `linalg.generic` into a
    `tensor<4xf32>` filled with -inf, a sum-of-exp reduction, and an
    elementwise `exp(x - max) / sum`.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect", "::mlir::tensor::TensorDialect"
  ];
}

#endif // ATTN_DIALECT_ATTN_TRANSFORMS_PASSES_TD
