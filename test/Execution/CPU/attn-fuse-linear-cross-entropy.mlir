// attn-fuse on the classifier head of a language model, as a frontend
// writes it: logits = hidden @ weight^T + bias (a contraction generic and a
// broadcast add), then torch-style nll_loss(log_softmax(logits), y) with a
// mean (the chain of attn-fuse-cross-entropy.mlir). The result must be one
// attn.linear_cross_entropy with the bias, which attn-run then checks
// against its float64 reference, both decomposed and tiled (Cut
// Cross-Entropy form).
// RUN: attn-opt %s --attn-fuse -o %t.mlir
// RUN: FileCheck %s --check-prefix=FUSED < %t.mlir
// RUN: attn-run %t.mlir --device cpu --function f --ignore-fraction 0 --tolerance 1e-5 --iterations 0 | FileCheck %s
// RUN: attn-run %t.mlir --device cpu --tile --function f --ignore-fraction 0 --tolerance 1e-5 --iterations 0 | FileCheck %s

// FUSED-LABEL: func.func @f
// FUSED-SAME: (%[[H:.+]]: tensor<8x32xf32>, %[[W:.+]]: tensor<100x32xf32>, %[[B:.+]]: tensor<100xf32>, %[[Y:.+]]: tensor<8xi64>)
// FUSED-NEXT: %[[L:.+]] = attn.linear_cross_entropy %[[H]], %[[W]], %[[Y]] bias(%[[B]] : tensor<100xf32>) {ignore_index = -9223372036854775808 : i64} : tensor<8x32xf32>, tensor<100x32xf32>, tensor<8xi64> -> tensor<f32>
// FUSED-NEXT: return %[[L]]

// CHECK: attn-run: function f (attn.linear_cross_entropy) on CPU (MLIR JIT)
// CHECK-NOT: FAIL
// CHECK: attn-run: PASS

#id2 = affine_map<(d0, d1) -> (d0, d1)>
#row2 = affine_map<(d0, d1) -> (d0)>
#id1 = affine_map<(d0) -> (d0)>
#scalar = affine_map<() -> ()>
func.func @f(%h: tensor<8x32xf32>, %w: tensor<100x32xf32>, %b: tensor<100xf32>, %y: tensor<8xi64>) -> tensor<f32> {
  // logits = h @ w^T + b, as a frontend writes it.
  %zf = arith.constant 0.0 : f32
  %le = tensor.empty() : tensor<8x100xf32>
  %lz = linalg.fill ins(%zf : f32) outs(%le : tensor<8x100xf32>) -> tensor<8x100xf32>
  %mm = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%h, %w : tensor<8x32xf32>, tensor<100x32xf32>) outs(%lz : tensor<8x100xf32>) {
  ^bb0(%a: f32, %c: f32, %acc: f32):
    %p = arith.mulf %a, %c : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<8x100xf32>
  %z = linalg.generic {indexing_maps = [#id2, affine_map<(d0, d1) -> (d1)>, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%mm, %b : tensor<8x100xf32>, tensor<100xf32>) outs(%le : tensor<8x100xf32>) {
  ^bb0(%a: f32, %c: f32, %o: f32):
    %s = arith.addf %a, %c : f32
    linalg.yield %s : f32
  } -> tensor<8x100xf32>
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %n = arith.constant 8.0 : f32
  %r0 = tensor.empty() : tensor<8xf32>
  %minit = linalg.fill ins(%ninf : f32) outs(%r0 : tensor<8xf32>) -> tensor<8xf32>
  %max = linalg.generic {indexing_maps = [#id2, #row2], iterator_types = ["parallel", "reduction"]}
      ins(%z : tensor<8x100xf32>) outs(%minit : tensor<8xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.maximumf %a, %acc : f32
    linalg.yield %r : f32
  } -> tensor<8xf32>
  %e0 = tensor.empty() : tensor<8x100xf32>
  %shifted = linalg.generic {indexing_maps = [#id2, #row2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%z, %max : tensor<8x100xf32>, tensor<8xf32>) outs(%e0 : tensor<8x100xf32>) {
  ^bb0(%a: f32, %m: f32, %o: f32):
    %r = arith.subf %a, %m : f32
    linalg.yield %r : f32
  } -> tensor<8x100xf32>
  %exp = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%shifted : tensor<8x100xf32>) outs(%e0 : tensor<8x100xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = math.exp %a : f32
    linalg.yield %r : f32
  } -> tensor<8x100xf32>
  %sinit = linalg.fill ins(%zero : f32) outs(%r0 : tensor<8xf32>) -> tensor<8xf32>
  %sum = linalg.generic {indexing_maps = [#id2, #row2], iterator_types = ["parallel", "reduction"]}
      ins(%exp : tensor<8x100xf32>) outs(%sinit : tensor<8xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.addf %a, %acc : f32
    linalg.yield %r : f32
  } -> tensor<8xf32>
  %log = linalg.generic {indexing_maps = [#id1, #id1], iterator_types = ["parallel"]}
      ins(%sum : tensor<8xf32>) outs(%r0 : tensor<8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = math.log %a : f32
    linalg.yield %r : f32
  } -> tensor<8xf32>
  %logp = linalg.generic {indexing_maps = [#id2, #row2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%shifted, %log : tensor<8x100xf32>, tensor<8xf32>) outs(%e0 : tensor<8x100xf32>) {
  ^bb0(%a: f32, %l: f32, %o: f32):
    %r = arith.subf %a, %l : f32
    linalg.yield %r : f32
  } -> tensor<8x100xf32>
  %picked = linalg.generic {indexing_maps = [#id1, #id1], iterator_types = ["parallel"]}
      ins(%y : tensor<8xi64>) outs(%r0 : tensor<8xf32>) {
  ^bb0(%label: i64, %o: f32):
    %row = linalg.index 0 : index
    %col = arith.index_cast %label : i64 to index
    %v = tensor.extract %logp[%row, %col] : tensor<8x100xf32>
    linalg.yield %v : f32
  } -> tensor<8xf32>
  %neg = linalg.generic {indexing_maps = [#id1, #id1], iterator_types = ["parallel"]}
      ins(%picked : tensor<8xf32>) outs(%r0 : tensor<8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.negf %a : f32
    linalg.yield %r : f32
  } -> tensor<8xf32>
  %t0 = tensor.empty() : tensor<f32>
  %tz = linalg.fill ins(%zero : f32) outs(%t0 : tensor<f32>) -> tensor<f32>
  %total = linalg.reduce ins(%neg : tensor<8xf32>) outs(%tz : tensor<f32>) dimensions = [0]
    (%in: f32, %init: f32) {
      %s = arith.addf %in, %init : f32
      linalg.yield %s : f32
    }
  %mean = linalg.generic {indexing_maps = [#scalar, #scalar], iterator_types = []}
      ins(%total : tensor<f32>) outs(%t0 : tensor<f32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.divf %a, %n : f32
    linalg.yield %r : f32
  } -> tensor<f32>
  return %mean : tensor<f32>
}
