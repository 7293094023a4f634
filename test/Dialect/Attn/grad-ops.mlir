// The gradient ops of the softmax family, cross-entropy, linear cross-entropy
// and attention.
// RUN: attn-opt %s | FileCheck %s
// Round trip: print, parse the printed form, and print again.
// RUN: attn-opt %s | attn-opt | FileCheck %s
// RUN: attn-opt %s --mlir-print-op-generic | attn-opt | FileCheck %s

// CHECK-LABEL: func @softmax_family_grads
func.func @softmax_family_grads(%y: tensor<4x8x16xbf16>, %dy: tensor<4x8x16xbf16>,
                                %x: tensor<4x8x16xf16>, %lse: tensor<4x16xf32>,
                                %dlse: tensor<4x16xf32>)
    -> (tensor<4x8x16xbf16>, tensor<4x8x16xbf16>, tensor<4x8x16xf16>) {
  // CHECK: attn.softmax_grad %{{.*}}, %{{.*}}, dim = 2 : tensor<4x8x16xbf16>, tensor<4x8x16xbf16> -> tensor<4x8x16xbf16>
  %0 = attn.softmax_grad %y, %dy, dim = 2 : tensor<4x8x16xbf16>, tensor<4x8x16xbf16> -> tensor<4x8x16xbf16>
  // CHECK: attn.log_softmax_grad %{{.*}}, %{{.*}}, dim = 0 : tensor<4x8x16xbf16>, tensor<4x8x16xbf16> -> tensor<4x8x16xbf16>
  %1 = attn.log_softmax_grad %y, %dy, dim = 0 : tensor<4x8x16xbf16>, tensor<4x8x16xbf16> -> tensor<4x8x16xbf16>
  // CHECK: attn.logsumexp_grad %{{.*}}, %{{.*}}, %{{.*}}, dim = 1 : tensor<4x8x16xf16>, tensor<4x16xf32>, tensor<4x16xf32> -> tensor<4x8x16xf16>
  %2 = attn.logsumexp_grad %x, %lse, %dlse, dim = 1 : tensor<4x8x16xf16>, tensor<4x16xf32>, tensor<4x16xf32> -> tensor<4x8x16xf16>
  return %0, %1, %2 : tensor<4x8x16xbf16>, tensor<4x8x16xbf16>, tensor<4x8x16xf16>
}

// Dynamic sizes are allowed, as for the forward ops.
// CHECK-LABEL: func @softmax_grad_dynamic
func.func @softmax_grad_dynamic(%y: tensor<?x?xf32>, %dy: tensor<?x?xf32>) -> tensor<?x?xf32> {
  // CHECK: attn.softmax_grad %{{.*}}, %{{.*}}, dim = 1 : tensor<?x?xf32>, tensor<?x?xf32> -> tensor<?x?xf32>
  %0 = attn.softmax_grad %y, %dy, dim = 1 : tensor<?x?xf32>, tensor<?x?xf32> -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// CHECK-LABEL: func @cross_entropy_grad_default
func.func @cross_entropy_grad_default(%z: tensor<8x1000xbf16>, %y: tensor<8xi64>,
                                      %lse: tensor<8xf32>, %dl: tensor<f32>)
    -> tensor<8x1000xbf16> {
  // CHECK: attn.cross_entropy_grad %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<8x1000xbf16>, tensor<8xi64>, tensor<8xf32>, tensor<f32> -> tensor<8x1000xbf16>
  %0 = attn.cross_entropy_grad %z, %y, %lse, %dl : tensor<8x1000xbf16>, tensor<8xi64>, tensor<8xf32>, tensor<f32> -> tensor<8x1000xbf16>
  return %0 : tensor<8x1000xbf16>
}

// CHECK-LABEL: func @cross_entropy_grad_all_attributes
func.func @cross_entropy_grad_all_attributes(%z: tensor<8x1000xf32>, %y: tensor<8xi32>,
                                             %lse: tensor<8xf32>, %dl: tensor<8xf32>)
    -> tensor<8x1000xf32> {
  // CHECK: attn.cross_entropy_grad
  // CHECK-SAME: ignore_index = 0 : i64
  // CHECK-SAME: label_smoothing = 1.000000e-01 : f32
  // CHECK-SAME: reduction = #attn.reduction<none>
  // CHECK-SAME: schedule = #attn.schedule<warps = 8, chip = "host">
  // CHECK-SAME: softcap = 3.000000e+01 : f32
  // CHECK-SAME: z_loss = 9.99999974E-5 : f32
  // CHECK-SAME: : tensor<8x1000xf32>, tensor<8xi32>, tensor<8xf32>, tensor<8xf32> -> tensor<8x1000xf32>
  %0 = attn.cross_entropy_grad %z, %y, %lse, %dl
      {ignore_index = 0 : i64, label_smoothing = 0.1 : f32, z_loss = 1.0e-4 : f32,
       softcap = 30.0 : f32, reduction = #attn.reduction<none>,
       schedule = #attn.schedule<warps = 8, chip = "host">}
      : tensor<8x1000xf32>, tensor<8xi32>, tensor<8xf32>, tensor<8xf32> -> tensor<8x1000xf32>
  return %0 : tensor<8x1000xf32>
}

// CHECK-LABEL: func @attention_grad_plain
func.func @attention_grad_plain(%q: tensor<2x8x128x64xf16>, %k: tensor<2x8x256x64xf16>,
                                %v: tensor<2x8x256x32xf16>, %o: tensor<2x8x128x32xf16>,
                                %lse: tensor<2x8x128xf32>, %do: tensor<2x8x128x32xf16>)
    -> (tensor<2x8x128x64xf16>, tensor<2x8x256x64xf16>, tensor<2x8x256x32xf16>) {
  // CHECK: attn.attention_grad %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<2x8x128x64xf16>, tensor<2x8x256x64xf16>, tensor<2x8x256x32xf16>, tensor<2x8x128x32xf16>, tensor<2x8x128xf32>, tensor<2x8x128x32xf16> -> tensor<2x8x128x64xf16>, tensor<2x8x256x64xf16>, tensor<2x8x256x32xf16>
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do
      : tensor<2x8x128x64xf16>, tensor<2x8x256x64xf16>, tensor<2x8x256x32xf16>,
        tensor<2x8x128x32xf16>, tensor<2x8x128xf32>, tensor<2x8x128x32xf16>
      -> tensor<2x8x128x64xf16>, tensor<2x8x256x64xf16>, tensor<2x8x256x32xf16>
  return %dq, %dk, %dv : tensor<2x8x128x64xf16>, tensor<2x8x256x64xf16>, tensor<2x8x256x32xf16>
}

// CHECK-LABEL: func @attention_grad_all_attributes
func.func @attention_grad_all_attributes(%q: tensor<1x8x5x16xbf16>, %k: tensor<1x2x7x16xbf16>,
                                         %v: tensor<1x2x7x16xbf16>, %o: tensor<1x8x5x16xbf16>,
                                         %lse: tensor<1x8x5xf32>, %do: tensor<1x8x5x16xbf16>,
                                         %m: tensor<1x8x5x7xi1>)
    -> (tensor<1x8x5x16xbf16>, tensor<1x2x7x16xbf16>, tensor<1x2x7x16xbf16>) {
  // CHECK: attn.attention_grad %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} mask(%{{.*}} : tensor<1x8x5x7xi1>)
  // CHECK-SAME: causal
  // CHECK-SAME: scale = 2.500000e-01 : f32
  // CHECK-SAME: softcap = 5.000000e+01 : f32
  // CHECK-SAME: window = array<i64: 3, 0>
  // CHECK-SAME: -> tensor<1x8x5x16xbf16>, tensor<1x2x7x16xbf16>, tensor<1x2x7x16xbf16>
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do mask(%m : tensor<1x8x5x7xi1>)
      {causal, scale = 0.25 : f32, softcap = 50.0 : f32, window = array<i64: 3, 0>}
      : tensor<1x8x5x16xbf16>, tensor<1x2x7x16xbf16>, tensor<1x2x7x16xbf16>,
        tensor<1x8x5x16xbf16>, tensor<1x8x5xf32>, tensor<1x8x5x16xbf16>
      -> tensor<1x8x5x16xbf16>, tensor<1x2x7x16xbf16>, tensor<1x2x7x16xbf16>
  return %dq, %dk, %dv : tensor<1x8x5x16xbf16>, tensor<1x2x7x16xbf16>, tensor<1x2x7x16xbf16>
}

// CHECK-LABEL: func @linear_cross_entropy_grad_default
func.func @linear_cross_entropy_grad_default(%h: tensor<8x64xbf16>, %w: tensor<1000x64xbf16>,
                                             %y: tensor<8xi64>, %lse: tensor<8xf32>,
                                             %dl: tensor<f32>)
    -> (tensor<8x64xbf16>, tensor<1000x64xbf16>) {
  // CHECK: attn.linear_cross_entropy_grad %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<8x64xbf16>, tensor<1000x64xbf16>, tensor<8xi64>, tensor<8xf32>, tensor<f32> -> tensor<8x64xbf16>, tensor<1000x64xbf16>
  %dh, %dw = attn.linear_cross_entropy_grad %h, %w, %y, %lse, %dl : tensor<8x64xbf16>, tensor<1000x64xbf16>, tensor<8xi64>, tensor<8xf32>, tensor<f32> -> tensor<8x64xbf16>, tensor<1000x64xbf16>
  return %dh, %dw : tensor<8x64xbf16>, tensor<1000x64xbf16>
}

// Gradient filtering (Cut Cross-Entropy's): round-trips as an attribute.
// CHECK-LABEL: func @linear_cross_entropy_grad_filter
// CHECK: attn.linear_cross_entropy_grad {{.*}} {grad_filter = 2.44140625E-4 : f32}
func.func @linear_cross_entropy_grad_filter(%h: tensor<8x64xbf16>, %w: tensor<1000x64xbf16>,
                                            %y: tensor<8xi64>, %lse: tensor<8xf32>,
                                            %dl: tensor<f32>)
    -> (tensor<8x64xbf16>, tensor<1000x64xbf16>) {
  %dh, %dw = attn.linear_cross_entropy_grad %h, %w, %y, %lse, %dl {grad_filter = 2.44140625E-4 : f32} : tensor<8x64xbf16>, tensor<1000x64xbf16>, tensor<8xi64>, tensor<8xf32>, tensor<f32> -> tensor<8x64xbf16>, tensor<1000x64xbf16>
  return %dh, %dw : tensor<8x64xbf16>, tensor<1000x64xbf16>
}

// CHECK-LABEL: func @linear_cross_entropy_grad_bias_all_attributes
func.func @linear_cross_entropy_grad_bias_all_attributes(
    %h: tensor<?x64xf32>, %w: tensor<1000x64xf32>, %b: tensor<1000xf32>,
    %y: tensor<?xi32>, %lse: tensor<?xf32>, %dl: tensor<?xf32>)
    -> (tensor<?x64xf32>, tensor<1000x64xf32>, tensor<1000xf32>) {
  // CHECK: attn.linear_cross_entropy_grad %{{[a-z0-9]+}}, %{{[a-z0-9]+}}, %{{[a-z0-9]+}} bias(%{{[a-z0-9]+}} : tensor<1000xf32>), %{{[a-z0-9]+}}, %{{[a-z0-9]+}} {
  // CHECK-SAME: ignore_index = 0 : i64
  // CHECK-SAME: label_smoothing = 1.000000e-01 : f32
  // CHECK-SAME: reduction = #attn.reduction<none>
  // CHECK-SAME: schedule = #attn.schedule<warps = 8, chip = "host">
  // CHECK-SAME: softcap = 3.000000e+01 : f32
  // CHECK-SAME: z_loss = 9.99999974E-5 : f32
  // CHECK-SAME: : tensor<?x64xf32>, tensor<1000x64xf32>, tensor<?xi32>, tensor<?xf32>, tensor<?xf32> -> tensor<?x64xf32>, tensor<1000x64xf32>, tensor<1000xf32>
  %dh, %dw, %db = attn.linear_cross_entropy_grad %h, %w, %y bias(%b : tensor<1000xf32>), %lse, %dl
      {ignore_index = 0 : i64, label_smoothing = 0.1 : f32, z_loss = 1.0e-4 : f32,
       softcap = 30.0 : f32, reduction = #attn.reduction<none>,
       schedule = #attn.schedule<warps = 8, chip = "host">}
      : tensor<?x64xf32>, tensor<1000x64xf32>, tensor<?xi32>, tensor<?xf32>, tensor<?xf32>
      -> tensor<?x64xf32>, tensor<1000x64xf32>, tensor<1000xf32>
  return %dh, %dw, %db : tensor<?x64xf32>, tensor<1000x64xf32>, tensor<1000xf32>
}
