// REQUIRES: ptxas
// The gradient ops compile to sm_90a kernel packages: softmax_grad over the
// last dim through the softmax family's row kernel, logsumexp_grad and
// cross_entropy_grad through the elementwise row kernel; log_softmax_grad
// over another dim and attention_grad with a mask operand, which no kernel
// computes, are left by attn-map-to-gpu (a remark) to attn-decompose and
// the simple one-thread-per-element mapping. The manifest names each op and its effective attributes, for
// attn-run's float64 reference on the GPU.
// RUN: rm -rf %t && attn-opt %s --attn-to-cubin="chip=sm_90a package-dir=%t" -o %t.mlir 2>&1 | FileCheck %s --check-prefix=REMARK
// RUN: FileCheck %s --input-file=%t/manifest.json
// RUN: FileCheck %s --check-prefix=IR --input-file=%t.mlir
// RUN: %ptxas -arch=sm_90a %t/cross_entropy_grad_kernels.ptx -o %t/check.cubin
// RUN: %ptxas -arch=sm_90a %t/attention_grad_kernels.ptx -o %t/check2.cubin
// RUN: %ptxas -arch=sm_90a %t/softmax_grad_kernels.ptx -o %t/check3.cubin

// REMARK-NOT: no kernel for this softmax_grad
// REMARK-DAG: remark: attn-map-to-gpu: no kernel for this log_softmax_grad (the reduced dim is not the last one); it takes the simple GPU mapping
// REMARK-NOT: no kernel for this logsumexp_grad
// REMARK-NOT: no kernel for this cross_entropy_grad
// REMARK-DAG: remark: attn-map-to-gpu: no kernel for this attention_grad (a mask operand); it takes the simple GPU mapping

// CHECK-DAG: "cubin": "softmax_grad_kernels.cubin"
// CHECK-DAG: "cubin": "log_softmax_grad_kernels.cubin"
// CHECK-DAG: "cubin": "logsumexp_grad_kernels.cubin"
// CHECK-DAG: "cubin": "cross_entropy_grad_kernels.cubin"
// CHECK-DAG: "cubin": "attention_grad_kernels.cubin"
// CHECK-DAG: "name": "attn.attention_grad"
// CHECK-DAG: "operand": "grad_value"
// CHECK-DAG: "name": "attn.softmax_grad"
// CHECK-DAG: "name": "attn.log_softmax_grad"
// CHECK-DAG: "name": "attn.logsumexp_grad"
// CHECK-DAG: "name": "attn.cross_entropy_grad"
// CHECK-DAG: "operand": "grad_logits"
// CHECK-DAG: "operand": "grad_loss"
// CHECK-DAG: "operand": "grad_result"
// CHECK-DAG: "reduction": "none"
// CHECK-DAG: "softcap": 2.5
// CHECK-DAG: "kernel": "softmax_grad_kernel"
// CHECK-DAG: "kernel": "logsumexp_grad_kernel"
// CHECK-DAG: "kernel": "cross_entropy_grad_kernel"
// CHECK-DAG: "mapping": "attn-map-to-gpu"

// IR-LABEL: func.func @cross_entropy_grad
// IR-NOT: attn.cross_entropy_grad %
// IR: gpu.launch_func @cross_entropy_grad_kernels::
// IR: gpu.binary @cross_entropy_grad_kernels

func.func @softmax_grad(%y: tensor<5x37xbf16>, %dy: tensor<5x37xbf16>) -> tensor<5x37xbf16> {
  %0 = attn.softmax_grad %y, %dy, dim = 1 : tensor<5x37xbf16>, tensor<5x37xbf16> -> tensor<5x37xbf16>
  return %0 : tensor<5x37xbf16>
}
func.func @log_softmax_grad(%y: tensor<3x33xf32>, %dy: tensor<3x33xf32>) -> tensor<3x33xf32> {
  %0 = attn.log_softmax_grad %y, %dy, dim = 0 : tensor<3x33xf32>, tensor<3x33xf32> -> tensor<3x33xf32>
  return %0 : tensor<3x33xf32>
}
func.func @logsumexp_grad(%x: tensor<2x3x33xf16>, %lse: tensor<2x3xf32>, %dlse: tensor<2x3xf32>) -> tensor<2x3x33xf16> {
  %0 = attn.logsumexp_grad %x, %lse, %dlse, dim = 2 : tensor<2x3x33xf16>, tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x3x33xf16>
  return %0 : tensor<2x3x33xf16>
}
func.func @cross_entropy_grad(%z: tensor<13x31xbf16>, %y: tensor<13xi64>, %lse: tensor<13xf32>, %dl: tensor<13xf32>) -> tensor<13x31xbf16> {
  %0 = attn.cross_entropy_grad %z, %y, %lse, %dl {label_smoothing = 0.25 : f32, z_loss = 1.0e-2 : f32, softcap = 2.5 : f32, reduction = #attn.reduction<none>} : tensor<13x31xbf16>, tensor<13xi64>, tensor<13xf32>, tensor<13xf32> -> tensor<13x31xbf16>
  return %0 : tensor<13x31xbf16>
}
func.func @attention_grad(%q: tensor<1x4x5x16xbf16>, %k: tensor<1x2x7x16xbf16>, %v: tensor<1x2x7x8xbf16>,
                          %o: tensor<1x4x5x8xbf16>, %lse: tensor<1x4x5xf32>, %do: tensor<1x4x5x8xbf16>, %m: tensor<5x7xi1>)
    -> (tensor<1x4x5x16xbf16>, tensor<1x2x7x16xbf16>, tensor<1x2x7x8xbf16>) {
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do mask(%m : tensor<5x7xi1>) {causal, softcap = 20.0 : f32, window = array<i64: 2, 0>}
      : tensor<1x4x5x16xbf16>, tensor<1x2x7x16xbf16>, tensor<1x2x7x8xbf16>, tensor<1x4x5x8xbf16>, tensor<1x4x5xf32>, tensor<1x4x5x8xbf16>
      -> tensor<1x4x5x16xbf16>, tensor<1x2x7x16xbf16>, tensor<1x2x7x8xbf16>
  return %dq, %dk, %dv : tensor<1x4x5x16xbf16>, tensor<1x2x7x16xbf16>, tensor<1x2x7x8xbf16>
}
