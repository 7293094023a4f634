// The gradient ops of the softmax family and of cross-entropy.
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
