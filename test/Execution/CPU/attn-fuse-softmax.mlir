// attn-fuse on the softmax tosa-to-linalg emits: linalg.reduce for max and
// sum, the reduced dim re-inserted by tensor.expand_shape and broadcast with
// a constant-0 map. After the pass the function is one attn.softmax, which
// attn-run checks against the float64 reference, at logits of magnitude 1e4
// too.
// RUN: attn-opt %s --attn-fuse -o %t.mlir
// RUN: FileCheck %s --check-prefix=FUSED < %t.mlir
// RUN: attn-run %t.mlir --device cpu --function f --tolerance 1e-5 --iterations 0 | FileCheck %s
// RUN: attn-run %t.mlir --device cpu --function f --input-scale 1e4 --tolerance 1e-5 --iterations 0 | FileCheck %s

// FUSED-LABEL: func.func @f
// FUSED-SAME: (%[[X:.+]]: tensor<7x33xf32>)
// FUSED-NEXT: %[[P:.+]] = attn.softmax %[[X]], dim = 1 : tensor<7x33xf32> -> tensor<7x33xf32>
// FUSED-NEXT: return %[[P]]

// CHECK: attn-run: function f (attn.softmax) on CPU (MLIR JIT)
// CHECK-NOT: FAIL
// CHECK: attn-run: PASS

#id2 = affine_map<(d0, d1) -> (d0, d1)>
#keep = affine_map<(d0, d1) -> (d0, 0)>
func.func @f(%x: tensor<7x33xf32>) -> tensor<7x33xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %r0 = tensor.empty() : tensor<7xf32>
  %minit = linalg.fill ins(%ninf : f32) outs(%r0 : tensor<7xf32>) -> tensor<7xf32>
  %max = linalg.reduce ins(%x : tensor<7x33xf32>) outs(%minit : tensor<7xf32>) dimensions = [1]
    (%in: f32, %init: f32) {
      %m = arith.maximumf %in, %init : f32
      linalg.yield %m : f32
    }
  %maxk = tensor.expand_shape %max [[0, 1]] output_shape [7, 1] : tensor<7xf32> into tensor<7x1xf32>
  %e0 = tensor.empty() : tensor<7x33xf32>
  %sub = linalg.generic {indexing_maps = [#id2, #keep, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%x, %maxk : tensor<7x33xf32>, tensor<7x1xf32>) outs(%e0 : tensor<7x33xf32>) {
  ^bb0(%a: f32, %m: f32, %o: f32):
    %r = arith.subf %a, %m : f32
    linalg.yield %r : f32
  } -> tensor<7x33xf32>
  %exp = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%sub : tensor<7x33xf32>) outs(%e0 : tensor<7x33xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = math.exp %a : f32
    linalg.yield %r : f32
  } -> tensor<7x33xf32>
  %sinit = linalg.fill ins(%zero : f32) outs(%r0 : tensor<7xf32>) -> tensor<7xf32>
  %sum = linalg.reduce ins(%exp : tensor<7x33xf32>) outs(%sinit : tensor<7xf32>) dimensions = [1]
    (%in: f32, %init: f32) {
      %s = arith.addf %in, %init : f32
      linalg.yield %s : f32
    }
  %sumk = tensor.expand_shape %sum [[0, 1]] output_shape [7, 1] : tensor<7xf32> into tensor<7x1xf32>
  %p = linalg.generic {indexing_maps = [#id2, #keep, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%exp, %sumk : tensor<7x33xf32>, tensor<7x1xf32>) outs(%e0 : tensor<7x33xf32>) {
  ^bb0(%a: f32, %s: f32, %o: f32):
    %r = arith.divf %a, %s : f32
    linalg.yield %r : f32
  } -> tensor<7x33xf32>
  return %p : tensor<7x33xf32>
}
