// attn-fuse on the attention a frontend emits unfused: Q.K^T as a 5-loop
// generic, scaled by 1/sqrt(8), plus an additive [M, N] mask, -inf above the
// diagonal from linalg.index, softmax as max / sub+exp / sum / div, then
// P.V. After the pass the function is exactly one attn.attention, so
// attn-run checks it against the float64 reference of that op; FUSED checks
// that the raise kept the frontend's scale, mask and causal triangle.
// RUN: attn-opt %s --attn-fuse -o %t.mlir
// RUN: FileCheck %s --check-prefix=FUSED < %t.mlir
// RUN: attn-run %t.mlir --device cpu --function f --tolerance 1e-5 --iterations 0 | FileCheck %s

// FUSED-LABEL: func.func @f
// FUSED-SAME: (%[[Q:.+]]: tensor<1x2x16x8xf32>, %[[K:.+]]: tensor<1x2x16x8xf32>, %[[V:.+]]: tensor<1x2x16x8xf32>, %[[MASK:.+]]: tensor<16x16xf32>)
// FUSED-NEXT: %[[O:.+]] = attn.attention %[[Q]], %[[K]], %[[V]] mask(%[[MASK]] : tensor<16x16xf32>) {causal, scale = 0.353553385 : f32}
// FUSED-NEXT: return %[[O]]

// CHECK: attn-run: function f (attn.attention) on CPU (MLIR JIT)
// CHECK-NOT: FAIL
// CHECK: attn-run: PASS

#qk_q = affine_map<(b, h, i, j, d) -> (b, h, i, d)>
#qk_k = affine_map<(b, h, i, j, d) -> (b, h, j, d)>
#qk_s = affine_map<(b, h, i, j, d) -> (b, h, i, j)>
#pv_p = affine_map<(b, h, i, e, j) -> (b, h, i, j)>
#pv_v = affine_map<(b, h, i, e, j) -> (b, h, j, e)>
#pv_o = affine_map<(b, h, i, e, j) -> (b, h, i, e)>
#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#row4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
#mn4 = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
func.func @f(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>, %mask: tensor<16x16xf32>) -> tensor<1x2x16x8xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %c = arith.constant 0.353553385 : f32
  %s0 = tensor.empty() : tensor<1x2x16x16xf32>
  %sz = linalg.fill ins(%zero : f32) outs(%s0 : tensor<1x2x16x16xf32>) -> tensor<1x2x16x16xf32>
  %s = linalg.generic {indexing_maps = [#qk_q, #qk_k, #qk_s], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%q, %k : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) outs(%sz : tensor<1x2x16x16xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  } -> tensor<1x2x16x16xf32>
  %scaled = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%s : tensor<1x2x16x16xf32>) outs(%s0 : tensor<1x2x16x16xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.mulf %a, %c : f32
    linalg.yield %r : f32
  } -> tensor<1x2x16x16xf32>
  %masked = linalg.generic {indexing_maps = [#id4, #mn4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%scaled, %mask : tensor<1x2x16x16xf32>, tensor<16x16xf32>) outs(%s0 : tensor<1x2x16x16xf32>) {
  ^bb0(%a: f32, %m: f32, %o: f32):
    %r = arith.addf %a, %m : f32
    linalg.yield %r : f32
  } -> tensor<1x2x16x16xf32>
  %causal = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%masked : tensor<1x2x16x16xf32>) outs(%s0 : tensor<1x2x16x16xf32>) {
  ^bb0(%a: f32, %o: f32):
    %i = linalg.index 2 : index
    %j = linalg.index 3 : index
    %above = arith.cmpi sgt, %j, %i : index
    %r = arith.select %above, %ninf, %a : f32
    linalg.yield %r : f32
  } -> tensor<1x2x16x16xf32>
  %r0 = tensor.empty() : tensor<1x2x16xf32>
  %minit = linalg.fill ins(%ninf : f32) outs(%r0 : tensor<1x2x16xf32>) -> tensor<1x2x16xf32>
  %max = linalg.generic {indexing_maps = [#id4, #row4], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%causal : tensor<1x2x16x16xf32>) outs(%minit : tensor<1x2x16xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.maximumf %a, %acc : f32
    linalg.yield %r : f32
  } -> tensor<1x2x16xf32>
  %exp = linalg.generic {indexing_maps = [#id4, #row4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%causal, %max : tensor<1x2x16x16xf32>, tensor<1x2x16xf32>) outs(%s0 : tensor<1x2x16x16xf32>) {
  ^bb0(%a: f32, %m: f32, %o: f32):
    %d = arith.subf %a, %m : f32
    %r = math.exp %d : f32
    linalg.yield %r : f32
  } -> tensor<1x2x16x16xf32>
  %sinit = linalg.fill ins(%zero : f32) outs(%r0 : tensor<1x2x16xf32>) -> tensor<1x2x16xf32>
  %sum = linalg.generic {indexing_maps = [#id4, #row4], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%exp : tensor<1x2x16x16xf32>) outs(%sinit : tensor<1x2x16xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.addf %a, %acc : f32
    linalg.yield %r : f32
  } -> tensor<1x2x16xf32>
  %p = linalg.generic {indexing_maps = [#id4, #row4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%exp, %sum : tensor<1x2x16x16xf32>, tensor<1x2x16xf32>) outs(%s0 : tensor<1x2x16x16xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.divf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x16x16xf32>
  %o0 = tensor.empty() : tensor<1x2x16x8xf32>
  %oz = linalg.fill ins(%zero : f32) outs(%o0 : tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32>
  %o = linalg.generic {indexing_maps = [#pv_p, #pv_v, #pv_o], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%p, %v : tensor<1x2x16x16xf32>, tensor<1x2x16x8xf32>) outs(%oz : tensor<1x2x16x8xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  } -> tensor<1x2x16x8xf32>
  return %o : tensor<1x2x16x8xf32>
}
