// RUN: attn-opt %s --attn-decompose --canonicalize -split-input-file | FileCheck %s
// attn-decompose on the gradient ops: each becomes the linalg.generic ops of
// its derivative (AttnOps.td) in f32, from the saved forward values; no
// forward statistic (max, sum of exp) is recomputed.

// softmax_grad: a reduction of y * dy over the dim, then y * (dy - s)
// written back in bf16.
// CHECK-LABEL: func @softmax_grad
// CHECK-NOT: attn.
// CHECK: %[[INIT:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<4xf32>)
// CHECK: %[[S:.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]
// CHECK-SAME: outs(%[[INIT]] : tensor<4xf32>)
// CHECK: %[[Y:.+]] = arith.extf %{{.+}} : bf16 to f32
// CHECK: %[[DY:.+]] = arith.extf %{{.+}} : bf16 to f32
// CHECK: %[[P:.+]] = arith.mulf %[[Y]], %[[DY]] : f32
// CHECK: arith.addf %{{.+}}, %[[P]] : f32
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]
// CHECK-SAME: ins(%arg0, %arg1, %[[S]] : tensor<4x8xbf16>, tensor<4x8xbf16>, tensor<4xf32>)
// CHECK: ^bb0(%[[YB:.+]]: bf16, %[[DYB:.+]]: bf16, %[[SROW:.+]]: f32, %{{.+}}: bf16):
// CHECK: %[[Y2:.+]] = arith.extf %[[YB]] : bf16 to f32
// CHECK: %[[DY2:.+]] = arith.extf %[[DYB]] : bf16 to f32
// CHECK: %[[D:.+]] = arith.subf %[[DY2]], %[[SROW]] : f32
// CHECK: %[[R:.+]] = arith.mulf %[[Y2]], %[[D]] : f32
// CHECK: arith.truncf %[[R]] : f32 to bf16
// CHECK-NOT: math.exp
// CHECK: return
func.func @softmax_grad(%y: tensor<4x8xbf16>, %dy: tensor<4x8xbf16>) -> tensor<4x8xbf16> {
  %0 = attn.softmax_grad %y, %dy, dim = 1 : tensor<4x8xbf16>, tensor<4x8xbf16> -> tensor<4x8xbf16>
  return %0 : tensor<4x8xbf16>
}

// -----

// log_softmax_grad over dim 0: s = sum dy, then dy - exp(y) * s.
// CHECK-LABEL: func @log_softmax_grad
// CHECK: %[[S:.+]] = linalg.generic {{.*}} iterator_types = ["reduction", "parallel", "parallel"]
// CHECK-SAME: ins(%arg1 : tensor<3x4x5xf32>)
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel"]
// CHECK-SAME: ins(%arg0, %arg1, %[[S]] : tensor<3x4x5xf32>, tensor<3x4x5xf32>, tensor<4x5xf32>)
// CHECK: ^bb0(%[[Y:.+]]: f32, %[[DY:.+]]: f32, %[[SROW:.+]]: f32, %{{.+}}: f32):
// CHECK: %[[E:.+]] = math.exp %[[Y]] : f32
// CHECK: %[[M:.+]] = arith.mulf %[[E]], %[[SROW]] : f32
// CHECK: arith.subf %[[DY]], %[[M]] : f32
// CHECK: -> tensor<3x4x5xf32>
func.func @log_softmax_grad(%y: tensor<3x4x5xf32>, %dy: tensor<3x4x5xf32>) -> tensor<3x4x5xf32> {
  %0 = attn.log_softmax_grad %y, %dy, dim = 0 : tensor<3x4x5xf32>, tensor<3x4x5xf32> -> tensor<3x4x5xf32>
  return %0 : tensor<3x4x5xf32>
}

// -----

// logsumexp_grad: one elementwise generic, dlse * exp(x - lse) with lse and
// dlse broadcast along dim 1, and 0 where x is -inf.
// CHECK-LABEL: func @logsumexp_grad
// CHECK-DAG: %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK-DAG: %[[NEGINF:.+]] = arith.constant 0xFF800000 : f32
// CHECK: linalg.generic {indexing_maps = [#[[FULL:.+]], #[[ROW:.+]], #[[ROW]], #[[FULL]]], iterator_types = ["parallel", "parallel", "parallel"]}
// CHECK: ^bb0(%[[XH:.+]]: f16, %[[LSE:.+]]: f32, %[[DLSE:.+]]: f32, %{{.+}}: f16):
// CHECK: %[[X:.+]] = arith.extf %[[XH]] : f16 to f32
// CHECK: %[[SH:.+]] = arith.subf %[[X]], %[[LSE]] : f32
// CHECK: %[[P:.+]] = math.exp %[[SH]] : f32
// CHECK: %[[G:.+]] = arith.mulf %[[DLSE]], %[[P]] : f32
// CHECK: %[[MASSLESS:.+]] = arith.cmpf oeq, %[[X]], %[[NEGINF]] : f32
// CHECK: %[[R:.+]] = arith.select %[[MASSLESS]], %[[ZERO]], %[[G]] : f32
// CHECK: arith.truncf %[[R]] : f32 to f16
func.func @logsumexp_grad(%x: tensor<3x4x5xf16>, %lse: tensor<3x5xf32>, %d: tensor<3x5xf32>) -> tensor<3x4x5xf16> {
  %0 = attn.logsumexp_grad %x, %lse, %d, dim = 1 : tensor<3x4x5xf16>, tensor<3x5xf32>, tensor<3x5xf32> -> tensor<3x4x5xf16>
  return %0 : tensor<3x4x5xf16>
}

// -----

// cross_entropy_grad with the defaults (mean): the count of non-ignored
// tokens, the upstream gradient over it (0 when the count is 0), then per
// element (p - [v == y]) * g, and 0 for ignored tokens. No smoothing,
// z-loss or softcap terms are emitted.
// CHECK-LABEL: func @ce_grad_mean
// CHECK-DAG: %[[IGNORE:.+]] = arith.constant -100 : i64
// CHECK-DAG: %[[ONE:.+]] = arith.constant 1.000000e+00 : f32
// CHECK-DAG: %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[COUNT:.+]] = linalg.generic {{.*}} iterator_types = ["reduction"]} ins(%arg1 : tensor<4xi64>)
// CHECK: arith.cmpi eq, %{{.+}}, %[[IGNORE]] : i64
// CHECK: %[[SCALE:.+]] = linalg.generic {{.*}} iterator_types = []} ins(%arg3, %[[COUNT]] : tensor<f32>, tensor<f32>)
// CHECK: %[[NONE:.+]] = arith.cmpf oeq, %[[N:.+]], %[[ZERO]] : f32
// CHECK: %[[DIV:.+]] = arith.divf %{{.+}}, %[[N]] : f32
// CHECK: arith.select %[[NONE]], %[[ZERO]], %[[DIV]] : f32
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]} ins(%arg0, %arg1, %arg2, %[[SCALE]] : tensor<4x10xf32>, tensor<4xi64>, tensor<4xf32>, tensor<f32>)
// CHECK: ^bb0(%[[Z:.+]]: f32, %[[LABEL:.+]]: i64, %[[LSE:.+]]: f32, %[[G:.+]]: f32, %{{.+}}: f32):
// CHECK: %[[V:.+]] = linalg.index 1 : index
// CHECK: %[[VI:.+]] = arith.index_cast %[[V]] : index to i64
// CHECK: %[[SH:.+]] = arith.subf %[[Z]], %[[LSE]] : f32
// CHECK: %[[P:.+]] = math.exp %[[SH]] : f32
// CHECK: %[[HIT:.+]] = arith.cmpi eq, %[[VI]], %[[LABEL]] : i64
// CHECK: %[[T:.+]] = arith.select %[[HIT]], %[[ONE]], %[[ZERO]] : f32
// CHECK: %[[D:.+]] = arith.subf %[[P]], %[[T]] : f32
// CHECK: %[[DG:.+]] = arith.mulf %[[D]], %[[G]] : f32
// CHECK: %[[IGN:.+]] = arith.cmpi eq, %[[LABEL]], %[[IGNORE]] : i64
// CHECK: %[[R:.+]] = arith.select %[[IGN]], %[[ZERO]], %[[DG]] : f32
// CHECK: linalg.yield %[[R]] : f32
func.func @ce_grad_mean(%z: tensor<4x10xf32>, %y: tensor<4xi64>, %lse: tensor<4xf32>, %dl: tensor<f32>) -> tensor<4x10xf32> {
  %0 = attn.cross_entropy_grad %z, %y, %lse, %dl : tensor<4x10xf32>, tensor<4xi64>, tensor<4xf32>, tensor<f32> -> tensor<4x10xf32>
  return %0 : tensor<4x10xf32>
}

// -----

// Every attribute, dynamic sizes, per-token grad_loss (reduction = none):
// z = 30 tanh(x / 30); p (1 + 2 * 0.01 * lse) - 0.75 [v == y] - 0.25 / V
// with V from tensor.dim; times 1 - (z / 30)^2; times grad_loss[n]; 0 where
// the label is ignore_index 0. No count: none does not divide.
// CHECK-LABEL: func @ce_grad_all_attributes
// CHECK-DAG: %[[THREEQ:.+]] = arith.constant 7.500000e-01 : f32
// CHECK-DAG: %[[TWOZ:.+]] = arith.constant 2.000000e-02 : f32
// CHECK-DAG: %[[CAP:.+]] = arith.constant 3.000000e+01 : f32
// CHECK-DAG: %[[EPS:.+]] = arith.constant 2.500000e-01 : f32
// CHECK-DAG: %[[ONE:.+]] = arith.constant 1.000000e+00 : f32
// CHECK: %[[V:.+]] = tensor.dim %arg0, %c1 : tensor<?x?xbf16>
// CHECK: %[[VI:.+]] = arith.index_cast %[[V]] : index to i64
// CHECK: %[[VF:.+]] = arith.sitofp %[[VI]] : i64 to f32
// CHECK: %[[SMOOTH:.+]] = arith.divf %[[EPS]], %[[VF]] : f32
// CHECK-NOT: iterator_types = ["reduction"]
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]} ins(%arg0, %arg1, %arg2, %arg3 : tensor<?x?xbf16>, tensor<?xi32>, tensor<?xf32>, tensor<?xf32>)
// CHECK: ^bb0(%[[XB:.+]]: bf16, %[[LABEL:.+]]: i32, %[[LSE:.+]]: f32, %[[G:.+]]: f32, %{{.+}}: bf16):
// CHECK: %[[X:.+]] = arith.extf %[[XB]] : bf16 to f32
// CHECK: %[[XC:.+]] = arith.divf %[[X]], %[[CAP]] : f32
// CHECK: %[[TH:.+]] = math.tanh %[[XC]] : f32
// CHECK: %[[Z:.+]] = arith.mulf %[[TH]], %[[CAP]] : f32
// CHECK: %[[SH:.+]] = arith.subf %[[Z]], %[[LSE]] : f32
// CHECK: %[[P:.+]] = math.exp %[[SH]] : f32
// CHECK: %[[ZL:.+]] = arith.mulf %[[LSE]], %[[TWOZ]] : f32
// CHECK: %[[F:.+]] = arith.addf %[[ZL]], %[[ONE]] : f32
// CHECK: %[[PF:.+]] = arith.mulf %[[P]], %[[F]] : f32
// CHECK: arith.cmpi eq, %{{.+}}, %[[LABEL]] : i32
// CHECK: %[[T:.+]] = arith.select %{{.+}}, %[[THREEQ]], %{{.+}} : f32
// CHECK: %[[D1:.+]] = arith.subf %[[PF]], %[[T]] : f32
// CHECK: %[[D2:.+]] = arith.subf %[[D1]], %[[SMOOTH]] : f32
// CHECK: %[[ZC:.+]] = arith.divf %[[Z]], %[[CAP]] : f32
// CHECK: %[[SQ:.+]] = arith.mulf %[[ZC]], %[[ZC]] : f32
// CHECK: %[[DER:.+]] = arith.subf %[[ONE]], %[[SQ]] : f32
// CHECK: %[[D3:.+]] = arith.mulf %[[D2]], %[[DER]] : f32
// CHECK: %[[D4:.+]] = arith.mulf %[[D3]], %[[G]] : f32
// CHECK: %[[IGN:.+]] = arith.cmpi eq, %[[LABEL]], %c0_i32 : i32
// CHECK: %[[R:.+]] = arith.select %[[IGN]], %{{.+}}, %[[D4]] : f32
// CHECK: arith.truncf %[[R]] : f32 to bf16
func.func @ce_grad_all_attributes(%z: tensor<?x?xbf16>, %y: tensor<?xi32>, %lse: tensor<?xf32>, %dl: tensor<?xf32>) -> tensor<?x?xbf16> {
  %0 = attn.cross_entropy_grad %z, %y, %lse, %dl {label_smoothing = 0.25 : f32, z_loss = 1.0e-2 : f32, softcap = 30.0 : f32, ignore_index = 0 : i64, reduction = #attn.reduction<none>} : tensor<?x?xbf16>, tensor<?xi32>, tensor<?xf32>, tensor<?xf32> -> tensor<?x?xbf16>
  return %0 : tensor<?x?xbf16>
}

// -----

// sum: the scalar grad_loss is read directly (a rank-0 map), with no count;
// label_smoothing = 1 drops the target term.
// CHECK-LABEL: func @ce_grad_sum_full_smoothing
// CHECK-NOT: iterator_types = ["reduction"]
// CHECK: linalg.generic {indexing_maps = [#{{.+}}, #{{.+}}, #{{.+}}, #[[SCALAR:.+]], #{{.+}}], iterator_types = ["parallel", "parallel"]} ins(%arg0, %arg1, %arg2, %arg3 : tensor<4x10xf32>, tensor<4xi64>, tensor<4xf32>, tensor<f32>)
// CHECK-NOT: linalg.index
// CHECK: linalg.yield
func.func @ce_grad_sum_full_smoothing(%z: tensor<4x10xf32>, %y: tensor<4xi64>, %lse: tensor<4xf32>, %dl: tensor<f32>) -> tensor<4x10xf32> {
  %0 = attn.cross_entropy_grad %z, %y, %lse, %dl {label_smoothing = 1.0 : f32, reduction = #attn.reduction<sum>} : tensor<4x10xf32>, tensor<4xi64>, tensor<4xf32>, tensor<f32> -> tensor<4x10xf32>
  return %0 : tensor<4x10xf32>
}

// -----

// attention_grad, GQA 4:2, causal, softcap: q, out, do and lse viewed as
// [B, Hkv, G, M, .]; the scores q.k and the forward's transform (tanh for
// the softcap); p = exp(t - lse) from the saved lse; dv reduces p * do over
// (g, i); dp = do.v; D = do.out; ds = p (dp - D) times the softcap's
// derivative (a second tanh, of the raw scores); dq reduces over j, dk over
// (g, i); dq is collapsed back to [B, Hq, M, D].
// CHECK-LABEL: func @attention_grad
// CHECK-NOT: attn.attention_grad
// CHECK-DAG: %[[Q5:.+]] = tensor.expand_shape %arg0 {{\[}}[0], [1, 2], [3], [4]] output_shape [1, 2, 2, 5, 16]
// CHECK-DAG: %[[O5:.+]] = tensor.expand_shape %arg3 {{\[}}[0], [1, 2], [3], [4]] output_shape [1, 2, 2, 5, 8]
// CHECK-DAG: %[[DO5:.+]] = tensor.expand_shape %arg5 {{\[}}[0], [1, 2], [3], [4]] output_shape [1, 2, 2, 5, 8]
// CHECK-DAG: %[[LSE4:.+]] = tensor.expand_shape %arg4 {{\[}}[0], [1, 2], [3]] output_shape [1, 2, 2, 5]
// CHECK: %[[S:.+]] = linalg.generic {{.*}} ins(%[[Q5]], %arg1 : tensor<1x2x2x5x16xbf16>, tensor<1x2x7x16xbf16>)
// CHECK: %[[T:.+]] = linalg.generic {{.*}} ins(%[[S]] : tensor<1x2x2x5x7xf32>)
// CHECK: math.tanh
// CHECK: %[[P:.+]] = linalg.generic {{.*}} ins(%[[T]], %[[LSE4]] : tensor<1x2x2x5x7xf32>, tensor<1x2x2x5xf32>)
// CHECK: math.exp
// CHECK: arith.select
// CHECK: %[[DV:.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]} ins(%[[P]], %[[DO5]] : {{.*}}) outs(%{{.+}} : tensor<1x2x7x8xf32>)
// CHECK: %[[DP:.+]] = linalg.generic {{.*}} ins(%[[DO5]], %arg2 : tensor<1x2x2x5x8xbf16>, tensor<1x2x7x8xbf16>)
// CHECK: %[[D:.+]] = linalg.generic {{.*}} ins(%[[DO5]], %[[O5]] : {{.*}}) outs(%{{.+}} : tensor<1x2x2x5xf32>)
// CHECK: %[[DS:.+]] = linalg.generic {{.*}} ins(%[[P]], %[[DP]], %[[D]], %[[S]] : {{.*}})
// CHECK: arith.subf
// CHECK: math.tanh
// CHECK: %[[DQ:.+]] = linalg.generic {{.*}} ins(%[[DS]], %arg1 : {{.*}}) outs(%{{.+}} : tensor<1x2x2x5x16xf32>)
// CHECK: %[[DK:.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]} ins(%[[DS]], %[[Q5]] : {{.*}}) outs(%{{.+}} : tensor<1x2x7x16xf32>)
// CHECK: %[[DQB:.+]] = linalg.generic {{.*}} ins(%[[DQ]] : tensor<1x2x2x5x16xf32>) outs(%{{.+}} : tensor<1x2x2x5x16xbf16>)
// CHECK: arith.mulf
// CHECK: arith.truncf
// CHECK: %[[DQC:.+]] = tensor.collapse_shape %[[DQB]] {{\[}}[0], [1, 2], [3], [4]] : tensor<1x2x2x5x16xbf16> into tensor<1x4x5x16xbf16>
// CHECK: %[[DKB:.+]] = linalg.generic {{.*}} ins(%[[DK]] : tensor<1x2x7x16xf32>)
// CHECK: %[[DVB:.+]] = linalg.generic {{.*}} ins(%[[DV]] : tensor<1x2x7x8xf32>)
// CHECK-NOT: arith.mulf
// CHECK: return %[[DQC]], %[[DKB]], %[[DVB]]
func.func @attention_grad(%q: tensor<1x4x5x16xbf16>, %k: tensor<1x2x7x16xbf16>, %v: tensor<1x2x7x8xbf16>,
                          %o: tensor<1x4x5x8xbf16>, %lse: tensor<1x4x5xf32>, %do: tensor<1x4x5x8xbf16>)
    -> (tensor<1x4x5x16xbf16>, tensor<1x2x7x16xbf16>, tensor<1x2x7x8xbf16>) {
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do {causal, softcap = 20.0 : f32}
      : tensor<1x4x5x16xbf16>, tensor<1x2x7x16xbf16>, tensor<1x2x7x8xbf16>, tensor<1x4x5x8xbf16>, tensor<1x4x5xf32>, tensor<1x4x5x8xbf16>
      -> tensor<1x4x5x16xbf16>, tensor<1x2x7x16xbf16>, tensor<1x2x7x8xbf16>
  return %dq, %dk, %dv : tensor<1x4x5x16xbf16>, tensor<1x2x7x16xbf16>, tensor<1x2x7x8xbf16>
}

// -----

// linear_cross_entropy_grad without a bias (sum): the logits h W^T in f32
// (loops n, v, d), cross_entropy_grad's generic on them (no count for sum),
// then dh = dlogits W (loops n, d, v) and dW = dlogits^T h (loops v, d, n),
// truncated to bf16. No bias add, no column sums.
// CHECK-LABEL: func @lce_grad_sum
// CHECK-NOT: attn.
// CHECK: %[[LOGITS:.+]] = linalg.generic {indexing_maps = [#{{.+}}, #{{.+}}, #{{.+}}], iterator_types = ["parallel", "parallel", "reduction"]} ins(%arg0, %arg1 : tensor<3x5xbf16>, tensor<7x5xbf16>) outs(%{{.+}} : tensor<3x7xf32>)
// CHECK-NOT: iterator_types = ["reduction"]
// CHECK: %[[DL:.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]} ins(%[[LOGITS]], %arg2, %arg3, %arg4 : tensor<3x7xf32>, tensor<3xi64>, tensor<3xf32>, tensor<f32>) outs(%{{.+}} : tensor<3x7xf32>)
// CHECK: math.exp
// CHECK: %[[DH:.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[DL]], %arg1 : tensor<3x7xf32>, tensor<7x5xbf16>) outs(%{{.+}} : tensor<3x5xf32>)
// CHECK: %[[DW:.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[DL]], %arg0 : tensor<3x7xf32>, tensor<3x5xbf16>) outs(%{{.+}} : tensor<7x5xf32>)
// CHECK: %[[DHB:.+]] = linalg.generic {{.*}} ins(%[[DH]] : tensor<3x5xf32>) outs(%{{.+}} : tensor<3x5xbf16>)
// CHECK: arith.truncf
// CHECK: %[[DWB:.+]] = linalg.generic {{.*}} ins(%[[DW]] : tensor<7x5xf32>) outs(%{{.+}} : tensor<7x5xbf16>)
// CHECK: return %[[DHB]], %[[DWB]]
func.func @lce_grad_sum(%h: tensor<3x5xbf16>, %w: tensor<7x5xbf16>, %y: tensor<3xi64>, %lse: tensor<3xf32>, %dl: tensor<f32>) -> (tensor<3x5xbf16>, tensor<7x5xbf16>) {
  %dh, %dw = attn.linear_cross_entropy_grad %h, %w, %y, %lse, %dl {reduction = #attn.reduction<sum>} : tensor<3x5xbf16>, tensor<7x5xbf16>, tensor<3xi64>, tensor<3xf32>, tensor<f32> -> tensor<3x5xbf16>, tensor<7x5xbf16>
  return %dh, %dw : tensor<3x5xbf16>, tensor<7x5xbf16>
}

// -----

// With a bias, every attribute and dynamic sizes (mean): the bias is added
// to the f32 logits, the count of non-ignored tokens scales the upstream
// gradient, softcap's derivative is applied, and dbias is the column sums
// of dlogits (loops v, n). f32 operands: no conversion generics.
// CHECK-LABEL: func @lce_grad_bias_all_attributes
// CHECK-DAG: %[[CAP:.+]] = arith.constant 2.500000e+00 : f32
// CHECK-DAG: %[[IGNORE:.+]] = arith.constant 3 : i32
// CHECK: %[[MM:.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins(%arg0, %arg1 : tensor<?x?xf32>, tensor<?x?xf32>)
// CHECK: %[[LOGITS:.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]} ins(%[[MM]], %arg2 : tensor<?x?xf32>, tensor<?xf32>)
// CHECK: arith.addf
// CHECK: %[[COUNT:.+]] = linalg.generic {{.*}} iterator_types = ["reduction"]} ins(%arg3 : tensor<?xi32>)
// CHECK: %[[SCALE:.+]] = linalg.generic {{.*}} iterator_types = []} ins(%arg5, %[[COUNT]] : tensor<f32>, tensor<f32>)
// CHECK: %[[DL:.+]] = linalg.generic {{.*}} ins(%[[LOGITS]], %arg3, %arg4, %[[SCALE]] : tensor<?x?xf32>, tensor<?xi32>, tensor<?xf32>, tensor<f32>)
// CHECK: math.tanh
// CHECK: %[[DH:.+]] = linalg.generic {{.*}} ins(%[[DL]], %arg1 : tensor<?x?xf32>, tensor<?x?xf32>) outs(%{{.+}} : tensor<?x?xf32>)
// CHECK: %[[DW:.+]] = linalg.generic {{.*}} ins(%[[DL]], %arg0 : tensor<?x?xf32>, tensor<?x?xf32>) outs(%{{.+}} : tensor<?x?xf32>)
// CHECK: %[[DB:.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]} ins(%[[DL]] : tensor<?x?xf32>) outs(%{{.+}} : tensor<?xf32>)
// CHECK: return %[[DH]], %[[DW]], %[[DB]]
func.func @lce_grad_bias_all_attributes(%h: tensor<?x?xf32>, %w: tensor<?x?xf32>, %b: tensor<?xf32>, %y: tensor<?xi32>, %lse: tensor<?xf32>, %dl: tensor<f32>) -> (tensor<?x?xf32>, tensor<?x?xf32>, tensor<?xf32>) {
  %dh, %dw, %db = attn.linear_cross_entropy_grad %h, %w, %y bias(%b : tensor<?xf32>), %lse, %dl {ignore_index = 3 : i64, label_smoothing = 0.1 : f32, z_loss = 1.0e-2 : f32, softcap = 2.5 : f32} : tensor<?x?xf32>, tensor<?x?xf32>, tensor<?xi32>, tensor<?xf32>, tensor<f32> -> tensor<?x?xf32>, tensor<?x?xf32>, tensor<?xf32>
  return %dh, %dw, %db : tensor<?x?xf32>, tensor<?x?xf32>, tensor<?xf32>
}
