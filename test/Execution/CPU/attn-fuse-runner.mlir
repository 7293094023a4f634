// The unfused frontend forms and their attn-fuse result, printed by
// mlir-runner on constant inputs: both runs must print the same
// hand-derived values, and FUSED checks that the second run did execute
// attn ops.
//   softmax([0, ln 2, ln 3]) = [1/6, 2/6, 3/6]
//   mean cross-entropy of logits [[0, ln 3], [ln 3, 0]] with labels [1, 1]:
//     (ln 4 - ln 3 + ln 4) / 2 = 0.836988
//   attention, M = N = 2, causal, scale 0.5, mask [[0, 0], [0, ln 3]]:
//     row 0 sees key 0 only: out = v0 = [1, 2];
//     row 1: scores 0.5 * q1.k = [0.5 * 2, 0.5 * 2] + mask [0, ln 3]
//     = [1, 1 + ln 3]: weights [1/4, 3/4]: out = (v0 + 3 v1) / 4 = [2.5, 3.5]
// RUN: attn-opt %s --attn-to-llvm | mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_lib_dir/libmlir_runner_utils.so,%mlir_lib_dir/libmlir_c_runner_utils.so | FileCheck %s
// RUN: attn-opt %s --attn-fuse --attn-to-llvm | mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_lib_dir/libmlir_runner_utils.so,%mlir_lib_dir/libmlir_c_runner_utils.so | FileCheck %s
// RUN: attn-opt %s --attn-fuse | FileCheck %s --check-prefix=FUSED

// FUSED-LABEL: func.func @softmax_unfused
// FUSED-NEXT: attn.softmax
// FUSED-LABEL: func.func @cross_entropy_unfused
// FUSED-NEXT: attn.cross_entropy
// FUSED-LABEL: func.func @attention_unfused
// FUSED: attn.attention {{.*}} {causal, scale = 5.000000e-01 : f32}

func.func private @printMemrefF32(memref<*xf32>)

func.func @print(%t: tensor<*xf32>) {
  %m = bufferization.to_buffer %t : tensor<*xf32> to memref<*xf32>
  call @printMemrefF32(%m) : (memref<*xf32>) -> ()
  return
}

func.func @main() {
  // CHECK: {{\[}}[0.166667,   0.333333,   0.5]]
  %x = arith.constant dense<[[0.0, 0.693147180559945, 1.09861228866811]]> : tensor<1x3xf32>
  %p = call @softmax_unfused(%x) : (tensor<1x3xf32>) -> tensor<1x3xf32>
  %pu = tensor.cast %p : tensor<1x3xf32> to tensor<*xf32>
  call @print(%pu) : (tensor<*xf32>) -> ()

  // CHECK: [0.836988]
  %z = arith.constant dense<[[0.0, 1.09861228866811], [1.09861228866811, 0.0]]> : tensor<2x2xf32>
  %y = arith.constant dense<[1, 1]> : tensor<2xi64>
  %l = call @cross_entropy_unfused(%z, %y) : (tensor<2x2xf32>, tensor<2xi64>) -> tensor<f32>
  %lu = tensor.cast %l : tensor<f32> to tensor<*xf32>
  call @print(%lu) : (tensor<*xf32>) -> ()

  // CHECK: {{\[}}[1,   2],
  // CHECK-NEXT: [2.5,   3.5]]
  %q = arith.constant dense<[[[1.0, 0.0], [1.0, 1.0]]]> : tensor<1x2x2xf32>
  %k = arith.constant dense<[[[1.0, 1.0], [1.0, 1.0]]]> : tensor<1x2x2xf32>
  %v = arith.constant dense<[[[1.0, 2.0], [3.0, 4.0]]]> : tensor<1x2x2xf32>
  %mask = arith.constant dense<[[0.0, 0.0], [0.0, 1.09861228866811]]> : tensor<2x2xf32>
  %o = call @attention_unfused(%q, %k, %v, %mask) : (tensor<1x2x2xf32>, tensor<1x2x2xf32>, tensor<1x2x2xf32>, tensor<2x2xf32>) -> tensor<1x2x2xf32>
  %o2 = tensor.collapse_shape %o [[0, 1], [2]] : tensor<1x2x2xf32> into tensor<2x2xf32>
  %ou = tensor.cast %o2 : tensor<2x2xf32> to tensor<*xf32>
  call @print(%ou) : (tensor<*xf32>) -> ()
  return
}

func.func @softmax_unfused(%x: tensor<1x3xf32>) -> (tensor<1x3xf32>) {
  %c340 = arith.constant 0xFF800000 : f32
  %e341 = tensor.empty() : tensor<1xf32>
  %f342 = linalg.fill ins(%c340 : f32) outs(%e341 : tensor<1xf32>) -> tensor<1xf32>
  %g343 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]}
      ins(%x : tensor<1x3xf32>) outs(%f342 : tensor<1xf32>) {
  ^bb0(%a0: f32, %out: f32):
    %v = arith.maximumf %a0, %out : f32
    linalg.yield %v : f32
  } -> tensor<1xf32>
  %e344 = tensor.empty() : tensor<1x3xf32>
  %g345 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%x, %g343 : tensor<1x3xf32>, tensor<1xf32>) outs(%e344 : tensor<1x3xf32>) {
  ^bb0(%a0: f32, %a1: f32, %out: f32):
    %v = arith.subf %a0, %a1 : f32
    linalg.yield %v : f32
  } -> tensor<1x3xf32>
  %e346 = tensor.empty() : tensor<1x3xf32>
  %g347 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%g345 : tensor<1x3xf32>) outs(%e346 : tensor<1x3xf32>) {
  ^bb0(%a0: f32, %out: f32):
    %v = math.exp %a0 : f32
    linalg.yield %v : f32
  } -> tensor<1x3xf32>
  %c348 = arith.constant 0.0 : f32
  %e349 = tensor.empty() : tensor<1xf32>
  %f350 = linalg.fill ins(%c348 : f32) outs(%e349 : tensor<1xf32>) -> tensor<1xf32>
  %g351 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]}
      ins(%g347 : tensor<1x3xf32>) outs(%f350 : tensor<1xf32>) {
  ^bb0(%a0: f32, %out: f32):
    %v = arith.addf %a0, %out : f32
    linalg.yield %v : f32
  } -> tensor<1xf32>
  %e352 = tensor.empty() : tensor<1x3xf32>
  %g353 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%g347, %g351 : tensor<1x3xf32>, tensor<1xf32>) outs(%e352 : tensor<1x3xf32>) {
  ^bb0(%a0: f32, %a1: f32, %out: f32):
    %v = arith.divf %a0, %a1 : f32
    linalg.yield %v : f32
  } -> tensor<1x3xf32>
  return %g353 : tensor<1x3xf32>
}

func.func @cross_entropy_unfused(%z: tensor<2x2xf32>, %y: tensor<2xi64>) -> (tensor<f32>) {
  %c354 = arith.constant 0xFF800000 : f32
  %e355 = tensor.empty() : tensor<2xf32>
  %f356 = linalg.fill ins(%c354 : f32) outs(%e355 : tensor<2xf32>) -> tensor<2xf32>
  %g357 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]}
      ins(%z : tensor<2x2xf32>) outs(%f356 : tensor<2xf32>) {
  ^bb0(%a0: f32, %out: f32):
    %v = arith.maximumf %a0, %out : f32
    linalg.yield %v : f32
  } -> tensor<2xf32>
  %e358 = tensor.empty() : tensor<2x2xf32>
  %g359 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%z, %g357 : tensor<2x2xf32>, tensor<2xf32>) outs(%e358 : tensor<2x2xf32>) {
  ^bb0(%a0: f32, %a1: f32, %out: f32):
    %v = arith.subf %a0, %a1 : f32
    linalg.yield %v : f32
  } -> tensor<2x2xf32>
  %e360 = tensor.empty() : tensor<2x2xf32>
  %g361 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%g359 : tensor<2x2xf32>) outs(%e360 : tensor<2x2xf32>) {
  ^bb0(%a0: f32, %out: f32):
    %v = math.exp %a0 : f32
    linalg.yield %v : f32
  } -> tensor<2x2xf32>
  %c362 = arith.constant 0.0 : f32
  %e363 = tensor.empty() : tensor<2xf32>
  %f364 = linalg.fill ins(%c362 : f32) outs(%e363 : tensor<2xf32>) -> tensor<2xf32>
  %g365 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]}
      ins(%g361 : tensor<2x2xf32>) outs(%f364 : tensor<2xf32>) {
  ^bb0(%a0: f32, %out: f32):
    %v = arith.addf %a0, %out : f32
    linalg.yield %v : f32
  } -> tensor<2xf32>
  %e366 = tensor.empty() : tensor<2x2xf32>
  %g367 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%g359, %g365 : tensor<2x2xf32>, tensor<2xf32>) outs(%e366 : tensor<2x2xf32>) {
  ^bb0(%a0: f32, %a1: f32, %out: f32):
    %l = math.log %a1 : f32
    %v = arith.subf %a0, %l : f32
    linalg.yield %v : f32
  } -> tensor<2x2xf32>
  %e368 = tensor.empty() : tensor<2xf32>
  %g369 = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]}
      ins(%y : tensor<2xi64>) outs(%e368 : tensor<2xf32>) {
  ^bb0(%a0: i64, %out: f32):
    %row = linalg.index 0 : index
    %col = arith.index_cast %a0 : i64 to index
    %x = tensor.extract %g367[%row, %col] : tensor<2x2xf32>
    %v = arith.negf %x : f32
    linalg.yield %v : f32
  } -> tensor<2xf32>
  %c370 = arith.constant 0.0 : f32
  %e371 = tensor.empty() : tensor<f32>
  %f372 = linalg.fill ins(%c370 : f32) outs(%e371 : tensor<f32>) -> tensor<f32>
  %g373 = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> ()>], iterator_types = ["reduction"]}
      ins(%g369 : tensor<2xf32>) outs(%f372 : tensor<f32>) {
  ^bb0(%a0: f32, %out: f32):
    %v = arith.addf %a0, %out : f32
    linalg.yield %v : f32
  } -> tensor<f32>
  %c374 = arith.constant 2.0 : f32
  %e375 = tensor.empty() : tensor<f32>
  %g376 = linalg.generic {indexing_maps = [affine_map<() -> ()>, affine_map<() -> ()>], iterator_types = []}
      ins(%g373 : tensor<f32>) outs(%e375 : tensor<f32>) {
  ^bb0(%a0: f32, %out: f32):
    %v = arith.divf %a0, %c374 : f32
    linalg.yield %v : f32
  } -> tensor<f32>
  return %g376 : tensor<f32>
}

func.func @attention_unfused(%q: tensor<1x2x2xf32>, %k: tensor<1x2x2xf32>, %val: tensor<1x2x2xf32>, %mask: tensor<2x2xf32>) -> (tensor<1x2x2xf32>) {
  %c377 = arith.constant 0.0 : f32
  %e378 = tensor.empty() : tensor<1x2x2xf32>
  %f379 = linalg.fill ins(%c377 : f32) outs(%e378 : tensor<1x2x2xf32>) -> tensor<1x2x2xf32>
  %e380 = tensor.empty() : tensor<1x2x2xf32>
  %kt381 = linalg.transpose ins(%k : tensor<1x2x2xf32>) outs(%e380 : tensor<1x2x2xf32>) permutation = [0, 2, 1]
  %s382 = linalg.batch_matmul ins(%q, %kt381 : tensor<1x2x2xf32>, tensor<1x2x2xf32>) outs(%f379 : tensor<1x2x2xf32>) -> tensor<1x2x2xf32>
  %c383 = arith.constant 0.5 : f32
  %e384 = tensor.empty() : tensor<1x2x2xf32>
  %g385 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%s382 : tensor<1x2x2xf32>) outs(%e384 : tensor<1x2x2xf32>) {
  ^bb0(%a0: f32, %out: f32):
    %v = arith.mulf %a0, %c383 : f32
    linalg.yield %v : f32
  } -> tensor<1x2x2xf32>
  %e386 = tensor.empty() : tensor<1x2x2xf32>
  %g387 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%g385, %mask : tensor<1x2x2xf32>, tensor<2x2xf32>) outs(%e386 : tensor<1x2x2xf32>) {
  ^bb0(%a0: f32, %a1: f32, %out: f32):
    %v = arith.addf %a0, %a1 : f32
    linalg.yield %v : f32
  } -> tensor<1x2x2xf32>
  %c388 = arith.constant 0xFF800000 : f32
  %e389 = tensor.empty() : tensor<1x2x2xf32>
  %g390 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%g387 : tensor<1x2x2xf32>) outs(%e389 : tensor<1x2x2xf32>) {
  ^bb0(%a0: f32, %out: f32):
    %i = linalg.index 1 : index
    %j = linalg.index 2 : index
    %le = arith.cmpi ule, %j, %i : index
    %v = arith.select %le, %a0, %c388 : f32
    linalg.yield %v : f32
  } -> tensor<1x2x2xf32>
  %c391 = arith.constant 0xFF800000 : f32
  %e392 = tensor.empty() : tensor<1x2xf32>
  %f393 = linalg.fill ins(%c391 : f32) outs(%e392 : tensor<1x2xf32>) -> tensor<1x2xf32>
  %g394 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%g390 : tensor<1x2x2xf32>) outs(%f393 : tensor<1x2xf32>) {
  ^bb0(%a0: f32, %out: f32):
    %v = arith.maximumf %a0, %out : f32
    linalg.yield %v : f32
  } -> tensor<1x2xf32>
  %e395 = tensor.empty() : tensor<1x2x2xf32>
  %g396 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%g390, %g394 : tensor<1x2x2xf32>, tensor<1x2xf32>) outs(%e395 : tensor<1x2x2xf32>) {
  ^bb0(%a0: f32, %a1: f32, %out: f32):
    %s = arith.subf %a0, %a1 : f32
    %v = math.exp %s : f32
    linalg.yield %v : f32
  } -> tensor<1x2x2xf32>
  %c397 = arith.constant 0.0 : f32
  %e398 = tensor.empty() : tensor<1x2xf32>
  %f399 = linalg.fill ins(%c397 : f32) outs(%e398 : tensor<1x2xf32>) -> tensor<1x2xf32>
  %g400 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%g396 : tensor<1x2x2xf32>) outs(%f399 : tensor<1x2xf32>) {
  ^bb0(%a0: f32, %out: f32):
    %v = arith.addf %a0, %out : f32
    linalg.yield %v : f32
  } -> tensor<1x2xf32>
  %e401 = tensor.empty() : tensor<1x2x2xf32>
  %g402 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%g396, %g400 : tensor<1x2x2xf32>, tensor<1x2xf32>) outs(%e401 : tensor<1x2x2xf32>) {
  ^bb0(%a0: f32, %a1: f32, %out: f32):
    %v = arith.divf %a0, %a1 : f32
    linalg.yield %v : f32
  } -> tensor<1x2x2xf32>
  %c403 = arith.constant 0.0 : f32
  %e404 = tensor.empty() : tensor<1x2x2xf32>
  %f405 = linalg.fill ins(%c403 : f32) outs(%e404 : tensor<1x2x2xf32>) -> tensor<1x2x2xf32>
  %o406 = linalg.batch_matmul ins(%g402, %val : tensor<1x2x2xf32>, tensor<1x2x2xf32>) outs(%f405 : tensor<1x2x2xf32>) -> tensor<1x2x2xf32>
  return %o406 : tensor<1x2x2xf32>
}
