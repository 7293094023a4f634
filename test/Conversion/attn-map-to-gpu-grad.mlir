// RUN: attn-opt %s -split-input-file -verify-diagnostics --attn-map-to-gpu | FileCheck %s --check-prefixes=CHECK,SM90
// RUN: attn-opt %s -split-input-file -verify-diagnostics --attn-map-to-gpu=chip=sm_80 | FileCheck %s --check-prefixes=CHECK,SM80

// softmax_grad and log_softmax_grad over the last dim run the softmax
// family's row kernel, reading y and dy (16 rows of 4096 bf16: a row per
// block of 4 warps, 16-byte loads, one pass).
// CHECK-LABEL: func @softmax_grad_rows
// CHECK-NOT: attn.softmax_grad
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c16{{(_[0-9]+)?}}, {{.*}} threads({{.*}}) in ({{.*}} = %c128{{(_[0-9]+)?}},
// CHECK: vector.load {{.*}} : memref<16x4096xbf16>, vector<8xbf16>
// CHECK: vector.load {{.*}} : memref<16x4096xbf16>, vector<8xbf16>
// CHECK: gpu.shuffle
// CHECK: vector.store {{.*}} : memref<16x4096xbf16>, vector<8xbf16>
// CHECK: gpu.terminator
// CHECK-NOT: attn.log_softmax_grad
// CHECK: gpu.launch
// CHECK: math.exp2
// CHECK: return
func.func @softmax_grad_rows(%y: tensor<16x4096xbf16>, %dy: tensor<16x4096xbf16>)
    -> (tensor<16x4096xbf16>, tensor<16x4096xbf16>) {
  %0 = attn.softmax_grad %y, %dy, dim = 1 : tensor<16x4096xbf16>, tensor<16x4096xbf16> -> tensor<16x4096xbf16>
  %1 = attn.log_softmax_grad %y, %dy, dim = 1 : tensor<16x4096xbf16>, tensor<16x4096xbf16> -> tensor<16x4096xbf16>
  return %0, %1 : tensor<16x4096xbf16>, tensor<16x4096xbf16>
}

// -----

// What no kernel computes stays for attn-decompose and the simple
// one-thread-per-element GPU mapping (the `loops` family), with a remark.
// CHECK-LABEL: func @gradients
// CHECK: attn.softmax_grad
// CHECK-NOT: gpu.launch
func.func @gradients(%y: tensor<16x4096xbf16>, %dy: tensor<16x4096xbf16>) -> tensor<16x4096xbf16> {
  // expected-remark @below {{attn-map-to-gpu: no kernel for this softmax_grad (the reduced dim is not the last one); it takes the simple GPU mapping}}
  %0 = attn.softmax_grad %y, %dy, dim = 0 : tensor<16x4096xbf16>, tensor<16x4096xbf16> -> tensor<16x4096xbf16>
  return %0 : tensor<16x4096xbf16>
}

// -----

// logsumexp_grad and cross_entropy_grad over the last dim: the elementwise
// row kernel (16 rows of 4096 bf16, a row per block of 8 warps, 16-byte
// accesses, no reduction); for the mean, a one-block kernel first divides
// the loss gradient by the kept tokens into a scalar buffer.
// CHECK-LABEL: func @elementwise_gradients
// CHECK-NOT: attn.logsumexp_grad
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c16{{(_[0-9]+)?}}, {{.*}} threads({{.*}}) in ({{.*}} = %c256{{(_[0-9]+)?}},
// CHECK: vector.load {{.*}} : memref<16x4096xbf16>, vector<8xbf16>
// CHECK-NOT: gpu.shuffle
// CHECK: vector.store {{.*}} : memref<16x4096xbf16>, vector<8xbf16>
// CHECK: %[[UP:.+]] = memref.alloc() : memref<f32>
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c1{{(_[0-9]+)?}}, {{.*}} threads({{.*}}) in ({{.*}} = %c1024{{(_[0-9]+)?}},
// CHECK: memref.store {{.*}}, %[[UP]][]
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c16{{(_[0-9]+)?}}, {{.*}} threads({{.*}}) in ({{.*}} = %c256{{(_[0-9]+)?}},
// CHECK: memref.load %[[UP]][]
// CHECK: vector.store {{.*}} : memref<16x4096xbf16>, vector<8xbf16>
// CHECK: memref.dealloc %[[UP]]
// CHECK-NOT: attn.cross_entropy_grad
func.func @elementwise_gradients(%x: tensor<16x4096xbf16>, %lse: tensor<16xf32>, %dlse: tensor<16xf32>,
                                 %labels: tensor<16xi64>, %dl: tensor<f32>)
    -> (tensor<16x4096xbf16>, tensor<16x4096xbf16>) {
  %0 = attn.logsumexp_grad %x, %lse, %dlse, dim = 1 : tensor<16x4096xbf16>, tensor<16xf32>, tensor<16xf32> -> tensor<16x4096xbf16>
  %1 = attn.cross_entropy_grad %x, %labels, %lse, %dl : tensor<16x4096xbf16>, tensor<16xi64>, tensor<16xf32>, tensor<f32> -> tensor<16x4096xbf16>
  return %0, %1 : tensor<16x4096xbf16>, tensor<16x4096xbf16>
}

// -----

// attention_grad takes the FlashAttention-2 backward kernels: two launches
// (attn-map-to-gpu.mlir checks them).
// CHECK-LABEL: func @attention_grad
// CHECK: gpu.launch
// CHECK: gpu.launch
// CHECK-NOT: attn.attention_grad
func.func @attention_grad(%q: tensor<1x4x128x64xbf16>, %k: tensor<1x2x128x64xbf16>, %v: tensor<1x2x128x64xbf16>,
                          %o: tensor<1x4x128x64xbf16>, %lse: tensor<1x4x128xf32>, %do: tensor<1x4x128x64xbf16>)
    -> (tensor<1x4x128x64xbf16>, tensor<1x2x128x64xbf16>, tensor<1x2x128x64xbf16>) {
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do {causal}
      : tensor<1x4x128x64xbf16>, tensor<1x2x128x64xbf16>, tensor<1x2x128x64xbf16>, tensor<1x4x128x64xbf16>, tensor<1x4x128xf32>, tensor<1x4x128x64xbf16>
      -> tensor<1x4x128x64xbf16>, tensor<1x2x128x64xbf16>, tensor<1x2x128x64xbf16>
  return %dq, %dk, %dv : tensor<1x4x128x64xbf16>, tensor<1x2x128x64xbf16>, tensor<1x2x128x64xbf16>
}

// -----

// The chunked tensor-core backward: the mean's one-block scale, the
// N x chunk workspace (V = 1000 in one chunk of 1024 classes), then a host
// loop over the chunks of grad-logits, grad-hidden, grad-weight and the
// bias's column sums.
// CHECK-LABEL: func @linear_cross_entropy_grad
// CHECK-NOT: attn.linear_cross_entropy_grad
// CHECK: memref.alloc() : memref<f32>
// CHECK: gpu.launch
// CHECK: memref.alloc() : memref<16x1024xbf16>
// CHECK-NOT: memref.alloc
// CHECK: scf.for
// CHECK-COUNT-4: gpu.launch blocks
// CHECK: memref.dealloc
func.func @linear_cross_entropy_grad(%h: tensor<16x128xbf16>, %w: tensor<1000x128xbf16>, %b: tensor<1000xbf16>,
                                     %y: tensor<16xi64>, %lse: tensor<16xf32>, %dl: tensor<f32>)
    -> (tensor<16x128xbf16>, tensor<1000x128xbf16>, tensor<1000xbf16>) {
  %dh, %dw, %db = attn.linear_cross_entropy_grad %h, %w, %y bias(%b : tensor<1000xbf16>), %lse, %dl {label_smoothing = 0.1 : f32, softcap = 30.0 : f32}
      : tensor<16x128xbf16>, tensor<1000x128xbf16>, tensor<16xi64>, tensor<16xf32>, tensor<f32>
      -> tensor<16x128xbf16>, tensor<1000x128xbf16>, tensor<1000xbf16>
  return %dh, %dw, %db : tensor<16x128xbf16>, tensor<1000x128xbf16>, tensor<1000xbf16>
}

// -----

// More classes than the 64 MiB aim holds at once: a 4096 x chunk x 2-byte
// workspace beside the 4096 x 16 low-order half of grad_hidden's sum, and
// chunks of three launches (no bias). sm_90a's 128 x 256 wgmma tiles give
// chunks of 7936 classes (five), sm_80's 128 x 128 mma.sync tiles 8064
// (four).
// CHECK-LABEL: func @linear_cross_entropy_grad_chunks
// SM90: memref.alloc() : memref<4096x7936xbf16>
// SM80: memref.alloc() : memref<4096x8064xbf16>
// CHECK: memref.alloc() : memref<4096x16xbf16>
// SM90: %[[CHUNKS:.*]] = arith.constant 5 : index
// SM80: %[[CHUNKS:.*]] = arith.constant 4 : index
// CHECK: scf.for %{{.*}} = %{{.*}} to %[[CHUNKS]]
// CHECK-COUNT-3: gpu.launch blocks
// CHECK-NOT: gpu.launch blocks
// CHECK: return
func.func @linear_cross_entropy_grad_chunks(%h: tensor<4096x16xbf16>, %w: tensor<32000x16xbf16>,
                                            %y: tensor<4096xi64>, %lse: tensor<4096xf32>, %dl: tensor<4096xf32>)
    -> (tensor<4096x16xbf16>, tensor<32000x16xbf16>) {
  %dh, %dw = attn.linear_cross_entropy_grad %h, %w, %y, %lse, %dl {reduction = #attn.reduction<none>}
      : tensor<4096x16xbf16>, tensor<32000x16xbf16>, tensor<4096xi64>, tensor<4096xf32>, tensor<4096xf32>
      -> tensor<4096x16xbf16>, tensor<32000x16xbf16>
  return %dh, %dw : tensor<4096x16xbf16>, tensor<32000x16xbf16>
}

// -----

// f32 operands: no tensor-core kernel; the decomposition's simple mapping.
// CHECK-LABEL: func @linear_cross_entropy_grad_f32
// CHECK: attn.linear_cross_entropy_grad
// CHECK-NOT: gpu.launch
func.func @linear_cross_entropy_grad_f32(%h: tensor<16x128xf32>, %w: tensor<1000x128xf32>,
                                         %y: tensor<16xi64>, %lse: tensor<16xf32>, %dl: tensor<f32>)
    -> (tensor<16x128xf32>, tensor<1000x128xf32>) {
  // expected-remark @below {{attn-map-to-gpu: no kernel for this linear_cross_entropy_grad (element type is not bf16 or f16); it takes the simple GPU mapping}}
  %dh, %dw = attn.linear_cross_entropy_grad %h, %w, %y, %lse, %dl
      : tensor<16x128xf32>, tensor<1000x128xf32>, tensor<16xi64>, tensor<16xf32>, tensor<f32>
      -> tensor<16x128xf32>, tensor<1000x128xf32>
  return %dh, %dw : tensor<16x128xf32>, tensor<1000x128xf32>
}

// -----

// One token, 40M classes: the workspace would allow chunks of 32M classes,
// but a chunk holds at most 65535 grad-logits tiles (the grid's y limit):
// 65535 x 128 classes (the default's block_n on sm_80, and on sm_90a for
// so few tokens).
// CHECK-LABEL: func @linear_cross_entropy_grad_grid_cap
// SM90: memref.alloc() : memref<1x8388480xbf16>
// SM80: memref.alloc() : memref<1x8388480xbf16>
// CHECK: scf.for
func.func @linear_cross_entropy_grad_grid_cap(%h: tensor<1x16xbf16>, %w: tensor<40000000x16xbf16>, %y: tensor<1xi64>, %lse: tensor<1xf32>, %dl: tensor<f32>) -> (tensor<1x16xbf16>, tensor<40000000x16xbf16>) {
  %dh, %dw = attn.linear_cross_entropy_grad %h, %w, %y, %lse, %dl : tensor<1x16xbf16>, tensor<40000000x16xbf16>, tensor<1xi64>, tensor<1xf32>, tensor<f32> -> tensor<1x16xbf16>, tensor<40000000x16xbf16>
  return %dh, %dw : tensor<1x16xbf16>, tensor<40000000x16xbf16>
}
