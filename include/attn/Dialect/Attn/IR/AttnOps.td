//===- AttnOps.td - attn dialect ops -----------------------*- tablegen -*-===//
//
// The L1 ops of attn-mlir: attention, the softmax family and the losses, and
// their gradients.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_ATTN_IR_ATTNOPS_TD
#define ATTN_DIALECT_ATTN_IR_ATTNOPS_TD

include "attn/Dialect/Attn/IR/AttnDialect.td"
include "attn/Dialect/Attn/IR/AttnInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/BuiltinAttributes.td"

class Attn_Op<string mnemonic, list<Trait> traits = []>
    : Op<Attn_Dialect, mnemonic,
         !listconcat(traits, [Pure, DeclareOpInterfaceMethods<AttnOpInterface>])>;

def Attn_FloatTensor : RankedTensorOf<[F16, BF16, F32]>;
def Attn_F32Tensor : RankedTensorOf<[F32]>;
def Attn_LabelTensor : RankedTensorOf<[I32, I64]>;
def Attn_MaskTensor : RankedTensorOf<[I1, F16, BF16, F32]>;

//===----------------------------------------------------------------------===//
// Softmax family
//===----------------------------------------------------------------------===//

class Attn_SoftmaxFamilyOp<string mnemonic> : Attn_Op<mnemonic> {
  let arguments = (ins Attn_FloatTensor:$input, I64Attr:$dim,
                       OptionalAttr<Attn_ScheduleAttr>:$schedule);
  let assemblyFormat = [{
    $input `,` `dim` `=` $dim attr-dict `:` type($input) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Attn_SoftmaxOp : Attn_SoftmaxFamilyOp<"softmax"> {
  let summary = "softmax along one dimension of a tensor of any rank";
  let description = [{
    `softmax(x)_i = exp(x_i - max(x)) / sum_j exp(x_j - max(x))`, reduced over
    dimension `dim` of a ranked tensor of any rank. The result has the shape
    and element type of the input; the reduction runs in f32. A row whose
    entries are all -inf gives NaN (0/0), as in PyTorch.

    Shape contract: `dim` is in `[0, rank)`; result type == input type.

    ```mlir
    %p = attn.softmax %x, dim = 1 : tensor<64x32000xbf16> -> tensor<64x32000xbf16>
    ```
  }];
  let results = (outs Attn_FloatTensor:$result);
}

def Attn_LogSoftmaxOp : Attn_SoftmaxFamilyOp<"log_softmax"> {
  let summary = "log-softmax along one dimension of a tensor of any rank";
  let description = [{
    `log_softmax(x)_i = x_i - max(x) - log(sum_j exp(x_j - max(x)))`, reduced
    over dimension `dim`. The result has the shape and element type of the
    input; the reduction runs in f32. A row whose entries are all -inf gives
    NaN, as in PyTorch.

    Shape contract: `dim` is in `[0, rank)`; result type == input type.

    ```mlir
    %l = attn.log_softmax %x, dim = 0 : tensor<7x5xf32> -> tensor<7x5xf32>
    ```
  }];
  let results = (outs Attn_FloatTensor:$result);
}

def Attn_LogSumExpOp : Attn_SoftmaxFamilyOp<"logsumexp"> {
  let summary = "log-sum-exp along one dimension; the reduced dim is dropped";
  let description = [{
    `logsumexp(x) = max(x) + log(sum_j exp(x_j - max(x)))`, reduced over
    dimension `dim`. The result drops that dimension and is always f32 (it is
    the normalizer later kernels reuse). A row of all `-inf` gives `-inf`.

    Shape contract: `dim` is in `[0, rank)`; the result shape is the input
    shape without `dim`; the result element type is f32.

    ```mlir
    %lse = attn.logsumexp %x, dim = 2 : tensor<2x3x4xbf16> -> tensor<2x3xf32>
    ```
  }];
  let results = (outs Attn_F32Tensor:$result);
}

//===----------------------------------------------------------------------===//
// Softmax family: gradients
//===----------------------------------------------------------------------===//

class Attn_SoftmaxGradOp<string mnemonic> : Attn_Op<mnemonic> {
  let arguments = (ins Attn_FloatTensor:$output, Attn_FloatTensor:$grad_output,
                       I64Attr:$dim, OptionalAttr<Attn_ScheduleAttr>:$schedule);
  let results = (outs Attn_FloatTensor:$grad_input);
  let assemblyFormat = [{
    $output `,` $grad_output `,` `dim` `=` $dim attr-dict `:` type($output)
    `,` type($grad_output) `->` type($grad_input)
  }];
  let hasVerifier = 1;
}

def Attn_SoftmaxGradOp : Attn_SoftmaxGradOp<"softmax_grad"> {
  let summary = "gradient of attn.softmax from its output";
  let description = [{
    The vector-Jacobian product of `y = attn.softmax(x, dim)`: given the
    forward output `y` and the gradient `dy` of a loss with respect to `y`,

    ```
    dx_i = y_i * (dy_i - sum_j y_j * dy_j)
    ```

    reduced over dimension `dim`. Only `y` is saved from the forward pass;
    `x` is not needed. Computed in f32; the result is written in the
    element type of the operands.

    Shape contract: `output`, `grad_output` and the result have one type;
    `dim` is in `[0, rank)`.

    ```mlir
    %dx = attn.softmax_grad %y, %dy, dim = 1
        : tensor<64x32000xbf16>, tensor<64x32000xbf16> -> tensor<64x32000xbf16>
    ```
  }];
}

def Attn_LogSoftmaxGradOp : Attn_SoftmaxGradOp<"log_softmax_grad"> {
  let summary = "gradient of attn.log_softmax from its output";
  let description = [{
    The vector-Jacobian product of `y = attn.log_softmax(x, dim)`: given the
    forward output `y` and the gradient `dy` with respect to `y`,

    ```
    dx_i = dy_i - exp(y_i) * sum_j dy_j
    ```

    reduced over dimension `dim`. Only `y` is saved from the forward pass.
    Computed in f32; the result is written in the element type of the
    operands.

    Shape contract: `output`, `grad_output` and the result have one type;
    `dim` is in `[0, rank)`.

    ```mlir
    %dx = attn.log_softmax_grad %y, %dy, dim = 0
        : tensor<7x5xf32>, tensor<7x5xf32> -> tensor<7x5xf32>
    ```
  }];
}

def Attn_LogSumExpGradOp : Attn_Op<"logsumexp_grad"> {
  let summary = "gradient of attn.logsumexp from its input and output";
  let description = [{
    The vector-Jacobian product of `lse = attn.logsumexp(x, dim)`: given the
    forward input `x`, the forward output `lse` and the gradient `dlse` with
    respect to `lse`,

    ```
    dx_i = dlse * exp(x_i - lse)      (0 where x_i = -inf)
    ```

    where `lse` and `dlse` are broadcast along `dim`. An entry that is
    `-inf` carries no probability mass, so its gradient is 0; a row of all
    `-inf` (whose `lse` is `-inf`) gets zero gradients rather than NaN.
    Computed in f32; the result has the type of `x`.

    Shape contract: `dim` is in `[0, rank)`; `output` and `grad_output` are
    f32 with the shape of `input` without `dim`; the result has the type of
    `input`.

    ```mlir
    %dx = attn.logsumexp_grad %x, %lse, %dlse, dim = 2
        : tensor<2x3x4xbf16>, tensor<2x3xf32>, tensor<2x3xf32>
        -> tensor<2x3x4xbf16>
    ```
  }];
  let arguments = (ins Attn_FloatTensor:$input, Attn_F32Tensor:$output,
                       Attn_F32Tensor:$grad_output, I64Attr:$dim,
                       OptionalAttr<Attn_ScheduleAttr>:$schedule);
  let results = (outs Attn_FloatTensor:$grad_input);
  let assemblyFormat = [{
    $input `,` $output `,` $grad_output `,` `dim` `=` $dim attr-dict `:`
    type($input) `,` type($output) `,` type($grad_output) `->`
    type($grad_input)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Attention
//===----------------------------------------------------------------------===//

def Attn_AttentionOp : Attn_Op<"attention"> {
  let summary = "scaled dot-product attention with GQA, masks and soft-capping";
  let description = [{
    Multi-head scaled dot-product attention, forward:

    ```
    s[b,h,i,j] = scale * sum_d q[b,h,i,d] * k[b,h/G,j,d]    (G = Hq / Hkv)
    s = softcap * tanh(s / softcap)                      if softcap is set
    s = s + mask[.., i, j]                               if mask is float
    s = -inf where mask[.., i, j] is false               if mask is i1
    s = -inf where j > i + (N - M)                       if causal
    s = -inf where j < i + (N - M) - left
                or j > i + (N - M) + right               if window = [left, right]
    out[b,h,i,:] = sum_j softmax_j(s[b,h,i,:]) * v[b,h/G,j,:]
    lse[b,h,i]   = log(sum_j exp(s[b,h,i,j]))
    ```

    Shapes: `q : [B, Hq, M, D]`, `k : [B, Hkv, N, D]`, `v : [B, Hkv, N, Dv]`,
    with `Hq` a multiple of `Hkv` (grouped-query attention; `Hkv = 1` is
    multi-query attention). The result `out` is `[B, Hq, M, Dv]` in the
    element type of `q`; the optional second result `lse` is `[B, Hq, M]`
    f32. `q`, `k` and `v` share one element type (f16, bf16 or f32);
    accumulation is f32.

    Attributes:
    - `scale` (f32, default `1/sqrt(D)`): multiplies `q . k`.
    - `causal` (unit): the causal mask aligned to the bottom-right corner of
      the score matrix, as in FlashAttention 2.1+: query `i` sees keys
      `j <= i + N - M`. With `M > N` the first `M - N` rows see nothing.
    - `window` (`array<i64: left, right>`, both in [0, 2^31 - 1]):
      sliding-window (local) attention on the same bottom-right-aligned
      diagonal.
    - `softcap` (f32, > 0): soft-capping of the scaled scores (Gemma 2).

    The optional `mask` operand is `[M, N]` or `[B|1, Hq|1, M, N]` and is
    broadcast over batch and heads. An `i1` mask keeps the positions that are
    true (PyTorch's convention); a float mask is added to the scores.

    A query row whose keys are all masked gives output 0 and `lse = -inf`
    (never NaN).

    ```mlir
    %o, %lse = attn.attention %q, %k, %v {causal, window = array<i64: 256, 0>}
        : tensor<2x32x1024x128xbf16>, tensor<2x8x1024x128xbf16>,
          tensor<2x8x1024x128xbf16>
        -> tensor<2x32x1024x128xbf16>, tensor<2x32x1024xf32>
    ```
  }];
  let arguments = (ins Attn_FloatTensor:$query, Attn_FloatTensor:$key,
                       Attn_FloatTensor:$value,
                       Optional<Attn_MaskTensor>:$mask,
                       OptionalAttr<F32Attr>:$scale, UnitAttr:$causal,
                       OptionalAttr<DenseI64ArrayAttr>:$window,
                       OptionalAttr<F32Attr>:$softcap,
                       OptionalAttr<Attn_ScheduleAttr>:$schedule);
  let results = (outs Attn_FloatTensor:$output, Optional<Attn_F32Tensor>:$lse);
  let assemblyFormat = [{
    $query `,` $key `,` $value (`mask` `(` $mask^ `:` type($mask) `)`)?
    attr-dict `:` type($query) `,` type($key) `,` type($value)
    `->` type($output) (`,` type($lse)^)?
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The scale applied to q.k: the attribute, or 1/sqrt(D) for a static
    /// head dim D. With a dynamic D and no attribute the scale is only known
    /// at run time; this returns 1.0 then, and the rewrites compute
    /// 1/sqrt(D) from the tensor instead.
    double getScaleOrDefault();
    /// The causal and window masks, for MaskGeometry.
    ::mlir::attn::MaskSpec getMaskSpec();
  }];
}

def Attn_AttentionGradOp : Attn_Op<"attention_grad"> {
  let summary = "gradients of attn.attention with respect to q, k and v";
  let description = [{
    The vector-Jacobian product of `out = attn.attention(q, k, v)` with the
    same attributes and mask, FlashAttention-2 style: from the forward's
    `output` and `lse` (the probabilities are recomputed from `lse`, never
    saved) and the gradient `grad_output` of a loss with respect to `out`:

    ```
    s[i,j]  = scale * q[i] . k[j]                  (kv head h / G, as forward)
    t[i,j]  = softcap * tanh(s / softcap) or s, then the masks (as forward)
    p[i,j]  = exp(t[i,j] - lse[i])                 (0 where t = -inf)
    dv[j]   = sum_i p[i,j] * do[i]                 (summed over the G heads)
    dp[i,j] = do[i] . v[j]
    D[i]    = do[i] . out[i]
    ds[i,j] = p[i,j] * (dp[i,j] - D[i]) * (1 - tanh^2(s / softcap) if softcap)
    dq[i]   = scale * sum_j ds[i,j] * k[j]
    dk[j]   = scale * sum_i ds[i,j] * q[i]        (summed over the G heads)
    ```

    A query row that sees no key (`lse = -inf`) contributes nothing. The
    mask is a constant: it gets no gradient. Computed in f32; each gradient
    has the type of its operand.

    Shapes: `query : [B, Hq, M, D]`, `key : [B, Hkv, N, D]`,
    `value : [B, Hkv, N, Dv]` as for `attn.attention` (one element type),
    `output` and `grad_output : [B, Hq, M, Dv]` of that type, `lse :
    [B, Hq, M]` f32, the optional `mask` as for `attn.attention`. Results:
    `grad_query`, `grad_key`, `grad_value` of the types of `query`, `key`,
    `value`. Attributes: those of `attn.attention`, with the same ranges.

    ```mlir
    %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do {causal}
        : tensor<2x32x1024x128xbf16>, tensor<2x8x1024x128xbf16>,
          tensor<2x8x1024x128xbf16>, tensor<2x32x1024x128xbf16>,
          tensor<2x32x1024xf32>, tensor<2x32x1024x128xbf16>
        -> tensor<2x32x1024x128xbf16>, tensor<2x8x1024x128xbf16>,
           tensor<2x8x1024x128xbf16>
    ```
  }];
  let arguments = (ins Attn_FloatTensor:$query, Attn_FloatTensor:$key,
                       Attn_FloatTensor:$value, Attn_FloatTensor:$output,
                       Attn_F32Tensor:$lse, Attn_FloatTensor:$grad_output,
                       Optional<Attn_MaskTensor>:$mask,
                       OptionalAttr<F32Attr>:$scale, UnitAttr:$causal,
                       OptionalAttr<DenseI64ArrayAttr>:$window,
                       OptionalAttr<F32Attr>:$softcap,
                       OptionalAttr<Attn_ScheduleAttr>:$schedule);
  let results = (outs Attn_FloatTensor:$grad_query,
                      Attn_FloatTensor:$grad_key,
                      Attn_FloatTensor:$grad_value);
  let assemblyFormat = [{
    $query `,` $key `,` $value `,` $output `,` $lse `,` $grad_output
    (`mask` `(` $mask^ `:` type($mask) `)`)?
    attr-dict `:` type($query) `,` type($key) `,` type($value) `,`
    type($output) `,` type($lse) `,` type($grad_output)
    `->` type($grad_query) `,` type($grad_key) `,` type($grad_value)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The scale applied to q.k, as AttentionOp::getScaleOrDefault.
    double getScaleOrDefault();
  }];
}

//===----------------------------------------------------------------------===//
// Losses
//===----------------------------------------------------------------------===//

/// The attributes of the cross-entropy losses and of their gradient.
defvar Attn_LossAttributes = (ins
    DefaultValuedAttr<I64Attr, "-100">:$ignore_index,
    DefaultValuedAttr<F32Attr, "0.0">:$label_smoothing,
    DefaultValuedAttr<F32Attr, "0.0">:$z_loss,
    OptionalAttr<F32Attr>:$softcap,
    DefaultValuedAttr<Attn_ReductionAttr,
                      "::mlir::attn::Reduction::mean">:$reduction,
    OptionalAttr<Attn_ScheduleAttr>:$schedule);

class Attn_LossOp<string mnemonic> : Attn_Op<mnemonic> {
  dag lossAttrs = Attn_LossAttributes;
  let results = (outs Attn_F32Tensor:$loss, Optional<Attn_F32Tensor>:$lse);
  let hasVerifier = 1;
}

def Attn_CrossEntropyOp : Attn_LossOp<"cross_entropy"> {
  let summary = "softmax cross-entropy of logits against integer labels";
  let description = [{
    Per token `n` with label `y = labels[n]`, on logits `z = logits[n, :]`
    (after `z = softcap * tanh(z / softcap)` when `softcap` is set):

    ```
    lse     = log(sum_v exp(z_v))
    loss[n] = lse - (1 - eps) * z_y - eps * mean_v(z_v) + z_loss * lse^2
    ```

    with `eps = label_smoothing` (in `[0, 1]`, PyTorch's definition) and
    `z_loss` the coefficient of the PaLM auxiliary loss. Tokens whose label
    equals `ignore_index` (default -100; it must fit the label type)
    contribute 0 and are not counted.
    `reduction` is `none` (result `[N]`), `sum` (result `[]`), or `mean`
    (default; the sum divided by the number of non-ignored tokens, and 0 when
    every token is ignored). The optional `lse` result is `[N]` f32, for the
    backward pass. Labels outside `[0, V)` other than `ignore_index` are
    undefined behaviour, as in PyTorch.

    Shapes: `logits : [N, V]` (f16, bf16 or f32), `labels : [N]` (i32 or
    i64); the loss is f32.

    ```mlir
    %l = attn.cross_entropy %logits, %labels
        {label_smoothing = 1.0e-01 : f32, reduction = #attn.reduction<sum>}
        : tensor<8x32000xbf16>, tensor<8xi64> -> tensor<f32>
    ```
  }];
  let arguments = !con((ins Attn_FloatTensor:$logits,
                            Attn_LabelTensor:$labels), lossAttrs);
  let assemblyFormat = [{
    $logits `,` $labels attr-dict `:` type($logits) `,` type($labels)
    `->` type($loss) (`,` type($lse)^)?
  }];
}

def Attn_CrossEntropyGradOp : Attn_Op<"cross_entropy_grad"> {
  let summary = "gradient of attn.cross_entropy with respect to the logits";
  let description = [{
    The vector-Jacobian product of `loss = attn.cross_entropy(logits,
    labels)` with the same attributes, from the forward's saved `lse` result
    (the log-sum-exp of the soft-capped logits) and the gradient
    `grad_loss` of a loss with respect to `loss`. Per token `n` with label
    `y`, `z = softcap * tanh(logits[n, :] / softcap)` (or the logits
    without `softcap`), `p_v = exp(z_v - lse[n])` and `V` classes:

    ```
    dloss[n]/dz_v = p_v * (1 + 2 * z_loss * lse[n]) - (1 - eps) * [v == y]
                    - eps / V
    dz_v/dlogits  = 1 - (z_v / softcap)^2                if softcap is set
    grad_logits[n, v] = g_n * dloss[n]/dz_v * dz_v/dlogits
    ```

    with `g_n = grad_loss[n]` for `reduction = none`, `g_n = grad_loss` for
    `sum`, and `g_n = grad_loss / count` for `mean`, `count` being the
    number of non-ignored tokens. Tokens whose label is `ignore_index` get
    zero gradients; when every token is ignored, every gradient is 0 (never
    NaN). `lse` of an ignored token is not read.

    Shapes: `logits : [N, V]` (f16, bf16 or f32), `labels : [N]` (i32 or
    i64), `lse : [N]` f32, `grad_loss` f32 `[N]` for `reduction = none` and
    `[]` otherwise; the result has the type of `logits`. The attributes
    are those of `attn.cross_entropy`, with the same ranges.

    ```mlir
    %l, %lse = attn.cross_entropy %z, %y {reduction = #attn.reduction<sum>}
        : tensor<8x32000xbf16>, tensor<8xi64> -> tensor<f32>, tensor<8xf32>
    %dz = attn.cross_entropy_grad %z, %y, %lse, %dl
        {reduction = #attn.reduction<sum>}
        : tensor<8x32000xbf16>, tensor<8xi64>, tensor<8xf32>, tensor<f32>
        -> tensor<8x32000xbf16>
    ```
  }];
  let arguments = !con((ins Attn_FloatTensor:$logits,
                            Attn_LabelTensor:$labels, Attn_F32Tensor:$lse,
                            Attn_F32Tensor:$grad_loss), Attn_LossAttributes);
  let results = (outs Attn_FloatTensor:$grad_logits);
  let assemblyFormat = [{
    $logits `,` $labels `,` $lse `,` $grad_loss attr-dict `:` type($logits)
    `,` type($labels) `,` type($lse) `,` type($grad_loss) `->`
    type($grad_logits)
  }];
  let hasVerifier = 1;
}

def Attn_LinearCrossEntropyOp : Attn_LossOp<"linear_cross_entropy"> {
  let summary = "classifier matmul fused with softmax cross-entropy";
  let description = [{
    `cross_entropy(hidden @ weight^T + bias, labels)` with every attribute of
    `attn.cross_entropy`. Its tiled form (Cut Cross-Entropy) never holds the
    `[N, V]` logits: each logits tile is folded into a running log-sum-exp
    and the target logit as soon as it is computed.

    Shapes: `hidden : [N, D]`, `weight : [V, D]` with one element type (f16,
    bf16 or f32), optional `bias : [V]` of that type, `labels : [N]` (i32 or
    i64). The loss is `[N]` f32 for `reduction = none`, `[]` f32 otherwise;
    the optional `lse` is `[N]` f32.

    ```mlir
    %l = attn.linear_cross_entropy %h, %w, %y
        : tensor<8192x2304xbf16>, tensor<256000x2304xbf16>, tensor<8192xi64>
        -> tensor<f32>
    ```
  }];
  let arguments = !con((ins Attn_FloatTensor:$hidden, Attn_FloatTensor:$weight,
                            Attn_LabelTensor:$labels,
                            Optional<Attn_FloatTensor>:$bias), lossAttrs);
  let assemblyFormat = [{
    $hidden `,` $weight `,` $labels (`bias` `(` $bias^ `:` type($bias) `)`)?
    attr-dict `:` type($hidden) `,` type($weight) `,` type($labels)
    `->` type($loss) (`,` type($lse)^)?
  }];
}

def Attn_LinearCrossEntropyGradOp : Attn_Op<"linear_cross_entropy_grad"> {
  let summary = "gradients of attn.linear_cross_entropy: hidden, weight, bias";
  let description = [{
    The vector-Jacobian product of `loss = attn.linear_cross_entropy(hidden,
    weight, labels [, bias])` with the same attributes, from the forward's
    saved `lse` result and the gradient `grad_loss` of a loss with respect
    to `loss`. With `logits = hidden @ weight^T (+ bias)` (recomputed, never
    saved) and `grad_logits` the formula of `attn.cross_entropy_grad` on
    them (softcap's derivative, label smoothing, z-loss, ignored tokens and
    the reduction included):

    ```
    grad_hidden = grad_logits @ weight          [N, D]
    grad_weight = grad_logits^T @ hidden        [V, D]
    grad_bias   = sum_n grad_logits[n, :]       [V]   (only with a bias)
    ```

    Tokens whose label is `ignore_index` contribute nothing; when every
    token is ignored, every gradient is 0 (never NaN). `lse` of an ignored
    token is not read.

    `grad_filter = eps` (optional, in (0, 1); off by default, which is
    exact) is Cut Cross-Entropy's gradient filtering: an element of
    `d loss[n] / d logits[n, v]` (before the upstream gradient) whose
    magnitude is below `eps` is taken as 0, and the tiled forms skip the
    matrix products of a tile whose elements are all 0. The error is bounded
    elementwise: with `u[n]` the token's upstream gradient,
    `|grad_hidden[n, d] - exact| <= eps |u[n]| sum_v |weight[v, d]|` over
    the filtered `v`, `|grad_weight[v, d] - exact| <= eps sum_n |u[n]|
    |hidden[n, d]|` over the filtered `n`, and `|grad_bias[v] - exact| <=
    eps sum_n |u[n]|`. With bf16 weights `eps = 2^-12` (Cut
    Cross-Entropy's default) keeps the error below bf16's rounding of the
    gradient for typical vocabularies.

    Shapes: those of `attn.linear_cross_entropy` for `hidden`, `weight`,
    `labels` and `bias`; `lse : [N]` f32; `grad_loss` f32 `[N]` for
    `reduction = none` and `[]` otherwise. Each gradient has the type of
    its operand; `grad_bias` is a result exactly when `bias` is an operand.
    The attributes are those of `attn.linear_cross_entropy`, with the same
    ranges.

    ```mlir
    %l, %lse = attn.linear_cross_entropy %h, %w, %y
        : tensor<8x64xbf16>, tensor<1000x64xbf16>, tensor<8xi64>
        -> tensor<f32>, tensor<8xf32>
    %dh, %dw = attn.linear_cross_entropy_grad %h, %w, %y, %lse, %dl
        : tensor<8x64xbf16>, tensor<1000x64xbf16>, tensor<8xi64>,
          tensor<8xf32>, tensor<f32>
        -> tensor<8x64xbf16>, tensor<1000x64xbf16>
    ```
  }];
  let arguments = !con((ins Attn_FloatTensor:$hidden, Attn_FloatTensor:$weight,
                            Attn_LabelTensor:$labels,
                            Optional<Attn_FloatTensor>:$bias,
                            Attn_F32Tensor:$lse, Attn_F32Tensor:$grad_loss),
                       Attn_LossAttributes,
                       (ins OptionalAttr<F32Attr>:$grad_filter));
  let results = (outs Attn_FloatTensor:$grad_hidden,
                      Attn_FloatTensor:$grad_weight,
                      Optional<Attn_FloatTensor>:$grad_bias);
  let assemblyFormat = [{
    $hidden `,` $weight `,` $labels (`bias` `(` $bias^ `:` type($bias) `)`)?
    `,` $lse `,` $grad_loss attr-dict `:` type($hidden) `,` type($weight)
    `,` type($labels) `,` type($lse) `,` type($grad_loss) `->`
    type($grad_hidden) `,` type($grad_weight) (`,` type($grad_bias)^)?
  }];
  let hasVerifier = 1;
}

#endif // ATTN_DIALECT_ATTN_IR_ATTNOPS_TD
