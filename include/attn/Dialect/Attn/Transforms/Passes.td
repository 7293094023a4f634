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

    linalg's aggregated ops on tensors (`linalg.softmax`, which a frontend
    emits where `attn-fuse` did not raise it) are decomposed the same way,
    by their own `decomposeOperation`: the bufferized pipelines have no
    lowering for them.

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

def AttnFuse : Pass<"attn-fuse"> {
  let summary = "Raise unfused attention, softmax and cross-entropy into attn ops";
  let description = [{
    Recognizes the unfused forms that `tosa-to-linalg` and torch-mlir-style
    frontends emit and replaces each whole chain by one attn op. Patterns are
    rooted at the last op of a chain and walk its operands upward; a chain is
    raised only when it computes exactly what the attn op computes and every
    intermediate is used only inside the chain. Anything else is left as is.

    - `(batch_)matmul(Q, K^T)` [`* c` or `/ c`] [`+ mask`] [causal select of
      -inf on a `linalg.index` triangle] -> softmax over the keys ->
      `(batch_)matmul(., V)` becomes `attn.attention`. K may be transposed by
      `linalg.transpose`, a copying generic, or the matmul's indexing maps;
      where the product reads K already transposed (`[.., D, N]`, as the
      frontend keeps it, with no transpose op), a `linalg.transpose` to
      `[.., N, D]` is inserted. Rank-2 and rank-3 (`[B*H, M, D]`, batch and
      heads folded) operands are viewed as rank 4 (`[1, 1, M, D]`,
      `[1, B*H, M, D]`) by `tensor.expand_shape`, and the output collapsed
      back. The `scale` attribute is always set: `c`, `1/c`, or 1.0 when the
      frontend does not scale (the op's default would be `1/sqrt(D)`). A
      triangle becomes `causal` only where it is the op's bottom-right
      aligned diagonal.
    - `linalg.softmax`, or max / `x - max` / exp / sum / div generics (sub
      and exp possibly in one), becomes `attn.softmax`; the chain ending in
      `(x - max) - log(sum(exp(x - max)))` becomes `attn.log_softmax`.
    - A per-token loss over f32 `[N, V]` logits -> optional sum and
      division by N becomes `attn.cross_entropy` with reduction none, sum or
      mean. The per-token loss is the negated label entry of a log-softmax
      (`tensor.extract` in a generic, or a one-hot select-sum), or
      torch-mlir's nll_loss of the logits, `lse - z[n, label]`
      (`tensor.extract` at `index_cast(label)`), with the row max and the sum
      of `exp(z - max)` in one online reduction (a generic with two results,
      or `linalg.reduce`: `m' = max(m, x)`, `s' = s * exp(m - m') +
      exp(x - m')`) and `lse = max + log(sum)`. Without ignore handling the
      op gets `ignore_index` = INT64_MIN (the frontend ignores no token); a
      select of 0 where `label == c` (torch's ignore_index, -100) gives
      `ignore_index = c`, with reduction none or sum only: a mean over all
      tokens is not the op's, and torch's mean over the kept tokens is NaN
      where the op gives 0 (every token ignored), so that reduction stays
      as written and only what precedes it is raised.
    - `attn.cross_entropy` of `matmul(hidden, W^T)` [`+ bias`] becomes
      `attn.linear_cross_entropy`.

    Before:
    ```mlir
    %s = linalg.batch_matmul ins(%q, %kt : tensor<8x64x32xf32>, tensor<8x32x64xf32>) ...
    %t = linalg.generic ... { arith.mulf %x, %c0_125 }   // scale
    %p = linalg.softmax dimension(2) ins(%t : tensor<8x64x64xf32>) ...
    %o = linalg.batch_matmul ins(%p, %v : ...) outs(%zero : tensor<8x64x32xf32>)
    ```
    After:
    ```mlir
    %o4 = attn.attention %q4, %k4, %v4 {scale = 1.250000e-01 : f32}
        : tensor<1x8x64x32xf32>, tensor<1x8x64x32xf32>, tensor<1x8x64x32xf32>
        -> tensor<1x8x64x32xf32>
    %o = tensor.collapse_shape %o4 [[0, 1], [2], [3]] ...
    ```
  }];
  let dependentDialects = [
    "::mlir::attn::AttnDialect", "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect", "::mlir::tensor::TensorDialect"
  ];
}

def AttnIOReport : Pass<"attn-io-report"> {
  let summary = "Report bytes moved and FLOPs of each attn op, tiled and unfused";
  let description = [{
    For every attn op, under its schedule (or the default), emits a remark
    with the global-memory bytes read and written and the FLOPs and
    transcendentals of the tiled form (attn-tile) and of the materialized
    decomposition (attn-decompose), and the ratio of their traffic. The
    figures come from `attn::estimateIO` (include/attn/Tuning/IOModel.h,
    derived in docs/Tiling.md) and are the cost model's analytic features.
    The remark ends with the kernel the plan of the schedule's chip
    launches (`planKernel`: family, MMA, threads, grid, shared memory). The
    IR is not changed.

    ```mlir
    // remark: attn-io-report: attn.softmax under #attn.schedule<...>:
    //   tiled read 4000 B, write 4000 B, 0 FLOP, 1000 exp;
    //   unfused read 12032 B, write 4048 B, 0 FLOP, 2000 exp; traffic 2.01x;
    //   kernel: softmax-rows, 128 threads, grid 3x1x1, 0 B shared
    ```
  }];
}

def AttnTile : Pass<"attn-tile"> {
  let summary = "Tile attn ops into their IO-aware forms (FlashAttention-2, "
                "online softmax, Cut Cross-Entropy)";
  let description = [{
    Rewrites each attn op, following its `#attn.schedule` (or the default of
    `attn::getDefaultSchedule`, include/attn/Tuning/Tuning.h), into target-independent loops on tensors:
    `scf.forall` over output tiles and `scf.for` over reduction tiles, with
    `linalg.generic` on tiles. The big intermediates exist only as tiles:

    - `attn.attention`: FlashAttention-2. Parallel over (batch, query head,
      query tile of `block_m` rows); sequential over key tiles of `block_n`,
      carrying the f32 output accumulator and the online-softmax row max and
      sum (rescaled by exp2 of the max difference; scale * log2(e) folded
      into the scores). Key tiles that causal or window masking hides from
      every row of the query tile are never visited; masks are applied only
      on tiles that cross the visible region's boundary. Tails of M, N and D
      are dynamic-size tiles. GQA indexes K/V by `h / (Hq / Hkv)` (no copy).
      The LSE output is `ln 2 * (max + log2 sum)`.
    - softmax / log_softmax / logsumexp: blocks of `block_m` rows; with
      `passes = 1` each row tile is read once (max, sum and output from the
      same tile); with `passes = 2`, an online-normalizer pass over column
      tiles of `block_n`, then an output pass. `exp(x)` is only ever a tile.
    - cross_entropy: token blocks; one pass over vocabulary tiles computes
      the online log-sum-exp, the target logit and the logit sum together.
    - linear_cross_entropy: the same, where each logits tile is
      `hidden[block_m, D] @ weight[block_n, D]^T` contracted `block_d`
      columns at a time (+ bias), folded into the running state at once: no
      `[N, V]` buffer exists.
    - `attn.attention_grad`: FlashAttention-2's backward in two
      deterministic passes (no atomics), after `D = rowsum(dO * O)`: dQ
      parallel over (batch, query head, query tile), sequential over the
      visible key tiles; dK and dV parallel over (batch, KV head, key tile),
      sequential over the group's query heads and the query tiles that see
      the key tile (block skipping both ways). P is recomputed from the
      saved LSE and dS = P (dP - D) formed per tile; no `[M, N]` tensor
      exists. All-zero tiles leave the op to `attn-decompose`.
    - `attn.linear_cross_entropy_grad`: Cut Cross-Entropy's backward in two
      deterministic passes: dh over token blocks streaming the vocabulary
      tiles, dW (and dbias) over vocabulary blocks streaming the token
      tiles, each logits tile recomputed and its gradient formed on the
      tile; no `[N, V]` tensor exists. All-zero tiles leave the op to
      `attn-decompose`.

    With `split > 1`, attention is split along the keys (flash-decoding):
    an extra parallel dimension gives each of `split` blocks a contiguous
    run of the visible key tiles; they write f32 partial outputs and LSEs,
    and a combine step merges them (`lse = log sum_s exp(lse_s)`, `out =
    sum_s exp(lse_s - lse) out_s`). The losses split the vocabulary
    likewise (split-V): each split writes its partial max, sum, target logit
    and logit sum, and the combine rescales the sums to the common max.
    Attention with dynamic head counts is left as it is, with a remark, and
    later decomposed.

    Example (attention, schematically):
    ```mlir
    %r:2 = scf.forall (%b, %h, %t) in (%B, %Hq, %Mtiles) shared_outs(%o = %e0, %l = %e1) {
      %q = tensor.extract_slice %query[%b, %h, %m0, 0] [1, 1, %msz, 64] [1, 1, 1, 1]
      %acc:3 = scf.for %n0 = %lo to %hi step %c64 iter_args(%a = %zero, %mx = %ninf, %s = %zero1) {
        // s = q k^T * scale * log2(e); masks if on the boundary; online update
      }
      scf.forall.in_parallel { tensor.parallel_insert_slice ... }
    }
    ```
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect", "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

def AttnGrad : Pass<"attn-grad", "::mlir::ModuleOp"> {
  let summary = "Emit the gradient function of a scalar loss built from attn ops";
  let description = [{
    Reverse-mode differentiation of functions that compute a scalar loss
    from attn ops and elementwise / shape glue. Each `func.func` carrying
    `attn.grad = array<i64: i, j, ...>` (the indices of the arguments to
    differentiate with respect to) gets a sibling `@<name>_grad` with the
    same arguments that returns the loss followed by the gradient of the
    loss with respect to each listed argument, in that order; the attribute
    is removed from the original, which is left unchanged otherwise.

    The loss is the function's single result, a `tensor<f32>` (rank 0).
    The gradient function recomputes the forward once, asking each
    attention and loss op for its log-sum-exp (the only state the backward
    ops need: never the attention probabilities or the logits), then walks
    the ops backward, accumulating each value's gradient:

    - `attn.attention` -> `attn.attention_grad` (dq, dk, dv; the mask gets
      none), `attn.softmax` / `log_softmax` / `logsumexp` -> their `_grad`
      ops, `attn.cross_entropy` -> `attn.cross_entropy_grad`,
      `attn.linear_cross_entropy` -> `attn.linear_cross_entropy_grad`
      (dh, dW, dbias); labels get no gradient;
    - `arith.addf`, `subf`, `mulf`, `divf`, `negf`, `extf`, `truncf` on
      tensors; `tensor.expand_shape`, `tensor.collapse_shape`,
      `linalg.transpose`; constants.

    An op on the path from a listed argument to the loss that is not in
    this list is an error naming it, as is a gradient that would have to
    flow through a log-sum-exp result or a mask, or a function whose result
    is not a `tensor<f32>`. Arguments the loss does not depend on get zero
    gradients.

    ```mlir
    func.func @loss(%h: tensor<8x64xf32>, %w: tensor<100x64xf32>,
                    %y: tensor<8xi64>) -> tensor<f32>
        attributes {attn.grad = array<i64: 0, 1>} {
      %l = attn.linear_cross_entropy %h, %w, %y
          : tensor<8x64xf32>, tensor<100x64xf32>, tensor<8xi64> -> tensor<f32>
      return %l : tensor<f32>
    }
    ```
    gains `@loss_grad(...) -> (tensor<f32>, tensor<8x64xf32>,
    tensor<100x64xf32>)`: the loss with its `lse`, then one
    `attn.linear_cross_entropy_grad` seeded with 1.0.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::linalg::LinalgDialect",
    "::mlir::tensor::TensorDialect", "::mlir::func::FuncDialect"
  ];
}

#endif // ATTN_DIALECT_ATTN_TRANSFORMS_PASSES_TD
