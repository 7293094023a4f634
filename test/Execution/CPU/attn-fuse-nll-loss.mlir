// attn-fuse on cross-entropy in torch-mlir's nll_loss form on the logits:
// the row max and the sum of exp(z - max) in one online reduction (a
// generic with two results in @f, linalg.reduce over two copies of z in
// @g), lse = max + log(sum), then per token lse - z[n, label] with the
// label logit read by tensor.extract at index_cast(label).
//   @f: 0 selected where label == -100 (torch's ignore_index), summed:
//       attn.cross_entropy, reduction sum, ignore_index -100.
//   @g: no select, summed and divided by N = 8: reduction mean, no token
//       ignored (ignore_index INT64_MIN).
// Both the unraised and the raised program run through mlir-runner on
// z [8, 32] with labels -100 at tokens 5 and 7 for @f (the frontend reads
// z[n, -100] before its select; rows >= 4 keep that read inside the
// buffer) and must match the float64 losses of
// Inputs/attn_fuse_frontend_forms.py (nll-loss) within 1e-5 * (1 + |ref|):
// @check prints [1]. attn-run then checks each raised function, a single
// attn.cross_entropy (main and @check dropped by symbol-dce: attn-run's JIT
// has no printMemrefF32), against the op's float64 reference on random
// inputs, a quarter of @f's labels set to -100.
// RUN: attn-opt %s --attn-to-llvm | mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_lib_dir/libmlir_runner_utils.so,%mlir_lib_dir/libmlir_c_runner_utils.so | FileCheck %s
// RUN: attn-opt %s --attn-fuse -o %t.mlir
// RUN: attn-opt %t.mlir --attn-to-llvm | mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_lib_dir/libmlir_runner_utils.so,%mlir_lib_dir/libmlir_c_runner_utils.so | FileCheck %s
// RUN: FileCheck %s --check-prefix=FUSED < %t.mlir
// RUN: attn-opt %t.mlir --symbol-privatize=exclude=f,g --symbol-dce -o %t.run.mlir
// RUN: attn-run %t.run.mlir --device cpu --function f --ignore-fraction 0.25 --tolerance 1e-5 --iterations 0 | FileCheck %s --check-prefix=RUN-F
// RUN: attn-run %t.run.mlir --device cpu --function g --ignore-fraction 0 --tolerance 1e-5 --iterations 0 | FileCheck %s --check-prefix=RUN-G

// FUSED-LABEL: func.func @f
// FUSED-SAME: (%[[Z:.+]]: tensor<8x32xf32>, %[[Y:.+]]: tensor<8xi64>)
// FUSED-NEXT: %[[L:.+]] = attn.cross_entropy %[[Z]], %[[Y]] {reduction = #attn.reduction<sum>} : tensor<8x32xf32>, tensor<8xi64> -> tensor<f32>
// FUSED-NEXT: return %[[L]]
// FUSED-LABEL: func.func @g
// FUSED-SAME: (%[[Z:.+]]: tensor<8x32xf32>, %[[Y:.+]]: tensor<8xi64>)
// FUSED-NEXT: %[[L:.+]] = attn.cross_entropy %[[Z]], %[[Y]] {ignore_index = -9223372036854775808 : i64} : tensor<8x32xf32>, tensor<8xi64> -> tensor<f32>
// FUSED-NEXT: return %[[L]]

// CHECK: data =
// CHECK-NEXT: [1]

// RUN-F: attn-run: function f (attn.cross_entropy) on CPU (MLIR JIT)
// RUN-F-NOT: FAIL
// RUN-F: attn-run: PASS
// RUN-G: attn-run: function g (attn.cross_entropy) on CPU (MLIR JIT)
// RUN-G-NOT: FAIL
// RUN-G: attn-run: PASS

#id2 = affine_map<(d0, d1) -> (d0, d1)>
#row2 = affine_map<(d0, d1) -> (d0)>
#id1 = affine_map<(d0) -> (d0)>
#all1 = affine_map<(d0) -> ()>
#scalar = affine_map<() -> ()>
func.func @f(%z: tensor<8x32xf32>, %y: tensor<8xi64>) -> tensor<f32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %ignore = arith.constant -100 : index
  %r0 = tensor.empty() : tensor<8xf32>
  %minit = linalg.fill ins(%ninf : f32) outs(%r0 : tensor<8xf32>) -> tensor<8xf32>
  %sinit = linalg.fill ins(%zero : f32) outs(%r0 : tensor<8xf32>) -> tensor<8xf32>
  %max, %sum = linalg.generic {indexing_maps = [#id2, #row2, #row2], iterator_types = ["parallel", "reduction"]}
      ins(%z : tensor<8x32xf32>) outs(%minit, %sinit : tensor<8xf32>, tensor<8xf32>) {
  ^bb0(%x: f32, %m: f32, %s: f32):
    %mn = arith.maximumf %m, %x : f32
    %d = arith.subf %m, %mn : f32
    %c = math.exp %d : f32
    %sc = arith.mulf %s, %c : f32
    %xd = arith.subf %x, %mn : f32
    %e = math.exp %xd : f32
    %sn = arith.addf %sc, %e : f32
    linalg.yield %mn, %sn : f32, f32
  } -> (tensor<8xf32>, tensor<8xf32>)
  %lse = linalg.generic {indexing_maps = [#id1, #id1, #id1], iterator_types = ["parallel"]}
      ins(%max, %sum : tensor<8xf32>, tensor<8xf32>) outs(%r0 : tensor<8xf32>) {
  ^bb0(%m: f32, %s: f32, %o: f32):
    %l = math.log %s : f32
    %r = arith.addf %m, %l : f32
    linalg.yield %r : f32
  } -> tensor<8xf32>
  %loss = linalg.generic {indexing_maps = [#id1, #id1, #id1], iterator_types = ["parallel"]}
      ins(%y, %lse : tensor<8xi64>, tensor<8xf32>) outs(%r0 : tensor<8xf32>) {
  ^bb0(%label: i64, %l: f32, %o: f32):
    %col = arith.index_cast %label : i64 to index
    %ignored = arith.cmpi eq, %col, %ignore : index
    %row = linalg.index 0 : index
    %zy = tensor.extract %z[%row, %col] : tensor<8x32xf32>
    %v = arith.subf %l, %zy : f32
    %r = arith.select %ignored, %zero, %v : f32
    linalg.yield %r : f32
  } -> tensor<8xf32>
  %t0 = tensor.empty() : tensor<f32>
  %tz = linalg.fill ins(%zero : f32) outs(%t0 : tensor<f32>) -> tensor<f32>
  %total = linalg.generic {indexing_maps = [#id1, #all1], iterator_types = ["reduction"]}
      ins(%loss : tensor<8xf32>) outs(%tz : tensor<f32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.addf %a, %acc : f32
    linalg.yield %r : f32
  } -> tensor<f32>
  return %total : tensor<f32>
}

func.func @g(%z: tensor<8x32xf32>, %y: tensor<8xi64>) -> tensor<f32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %n = arith.constant 8.0 : f32
  %r0 = tensor.empty() : tensor<8xf32>
  %minit = linalg.fill ins(%ninf : f32) outs(%r0 : tensor<8xf32>) -> tensor<8xf32>
  %sinit = linalg.fill ins(%zero : f32) outs(%r0 : tensor<8xf32>) -> tensor<8xf32>
  %max, %sum = linalg.reduce ins(%z, %z : tensor<8x32xf32>, tensor<8x32xf32>) outs(%minit, %sinit : tensor<8xf32>, tensor<8xf32>) dimensions = [1]
    (%x: f32, %x2: f32, %m: f32, %s: f32) {
      %mn = arith.maximumf %m, %x : f32
      %d = arith.subf %m, %mn : f32
      %c = math.exp %d : f32
      %sc = arith.mulf %s, %c : f32
      %xd = arith.subf %x2, %mn : f32
      %e = math.exp %xd : f32
      %sn = arith.addf %sc, %e : f32
      linalg.yield %mn, %sn : f32, f32
    }
  %loss = linalg.generic {indexing_maps = [#id1, #id1, #id1, #id1], iterator_types = ["parallel"]}
      ins(%y, %max, %sum : tensor<8xi64>, tensor<8xf32>, tensor<8xf32>) outs(%r0 : tensor<8xf32>) {
  ^bb0(%label: i64, %m: f32, %s: f32, %o: f32):
    %l = math.log %s : f32
    %lse = arith.addf %m, %l : f32
    %row = linalg.index 0 : index
    %col = arith.index_cast %label : i64 to index
    %zy = tensor.extract %z[%row, %col] : tensor<8x32xf32>
    %v = arith.subf %lse, %zy : f32
    linalg.yield %v : f32
  } -> tensor<8xf32>
  %t0 = tensor.empty() : tensor<f32>
  %tz = linalg.fill ins(%zero : f32) outs(%t0 : tensor<f32>) -> tensor<f32>
  %total = linalg.generic {indexing_maps = [#id1, #all1], iterator_types = ["reduction"]}
      ins(%loss : tensor<8xf32>) outs(%tz : tensor<f32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.addf %a, %acc : f32
    linalg.yield %r : f32
  } -> tensor<f32>
  %mean = linalg.generic {indexing_maps = [#scalar, #scalar], iterator_types = []}
      ins(%total : tensor<f32>) outs(%t0 : tensor<f32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.divf %a, %n : f32
    linalg.yield %r : f32
  } -> tensor<f32>
  return %mean : tensor<f32>
}

func.func private @printMemrefF32(memref<*xf32>)

// Prints [1] if every |got - want| <= 1e-5 * (1 + |want|) (no NaN), else [0].
func.func @check(%got: tensor<2xf32>, %want: tensor<2xf32>) {
  %tol = arith.constant 1.0e-5 : f32
  %one = arith.constant 1.0 : f32
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %e = tensor.empty() : tensor<f32>
  %init = linalg.fill ins(%ninf : f32) outs(%e : tensor<f32>) -> tensor<f32>
  %excess = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>, affine_map<(d0) -> ()>], iterator_types = ["reduction"]}
      ins(%got, %want : tensor<2xf32>, tensor<2xf32>) outs(%init : tensor<f32>) {
  ^bb0(%g: f32, %w: f32, %acc: f32):
    %d = arith.subf %g, %w : f32
    %ad = math.absf %d : f32
    %aw = math.absf %w : f32
    %b = arith.addf %aw, %one : f32
    %bound = arith.mulf %b, %tol : f32
    %x = arith.subf %ad, %bound : f32
    %r = arith.maximumf %acc, %x : f32
    linalg.yield %r : f32
  } -> tensor<f32>
  %flag = linalg.generic {indexing_maps = [affine_map<() -> ()>, affine_map<() -> ()>], iterator_types = []}
      ins(%excess : tensor<f32>) outs(%e : tensor<f32>) {
  ^bb0(%x: f32, %o: f32):
    %ok = arith.cmpf ole, %x, %zero : f32
    %r = arith.select %ok, %one, %zero : f32
    linalg.yield %r : f32
  } -> tensor<f32>
  %u = tensor.cast %flag : tensor<f32> to tensor<*xf32>
  %m = bufferization.to_buffer %u : tensor<*xf32> to memref<*xf32>
  call @printMemrefF32(%m) : (memref<*xf32>) -> ()
  return
}

func.func @main() {
  %z = arith.constant dense<[[2.0929, -1.9266, -2.6738, -0.8308, -1.3476, 0.1800, -1.1645, -1.1732,
                              -2.3296, -1.5006, 2.5058, -1.4151, 1.3066, 2.1943, 1.8425, -1.7367,
                              -1.9965, -2.7198, -2.7635, -1.7986, 2.9913, -0.7633, 1.5631, -0.1592,
                              0.0583, 2.6702, -2.3433, -0.2094, -2.1507, 0.2301, -1.2060, 0.2265],
                             [0.9938, -0.8140, 0.7381, 0.8563, -0.4801, -0.5805, -0.6575, -0.5629,
                              -2.5220, -2.6590, -2.5300, 1.1741, -2.8250, -0.0030, -2.2042, -2.8155,
                              0.8369, -0.3240, 2.8476, -1.0214, -1.8275, 1.1043, -0.8934, 1.6262,
                              1.7508, -0.3368, -1.3870, -2.8566, -0.7720, -2.4136, 1.3651, -0.2433],
                             [0.1230, 1.1074, -0.4483, 0.6208, 1.9431, -0.2888, 2.3277, -1.6776,
                              -2.3591, -2.9279, 2.5076, 0.8194, -1.6814, 0.2853, 2.5248, 2.2540,
                              -2.2344, -1.1781, -1.2282, 0.4146, 1.4605, -1.0199, 0.6471, 0.0941,
                              2.5188, -1.7918, -2.9901, -2.5696, -0.4770, -0.0065, 0.4425, 2.2822],
                             [-1.7957, -0.4729, 2.5937, -0.8203, -2.9100, 2.3984, 0.6924, 2.8257,
                              0.7297, 2.6176, 0.5942, -2.1643, 1.0702, 0.2780, -2.9457, 1.6486,
                              -2.2715, 0.1044, 0.9945, 1.5775, 2.6453, -2.2561, -1.7400, -0.8078,
                              -0.5923, 0.5400, 2.9635, 0.6691, 1.0981, -2.4227, -0.3959, -2.2250],
                             [-1.7076, 2.1004, -0.7801, -1.6307, 2.1596, -0.2055, 1.0687, -0.7327,
                              1.2986, -0.8099, 0.3091, 0.5176, -2.3077, -2.0428, 1.4726, -0.1659,
                              0.7812, 1.8721, -2.6040, -1.2005, 0.7415, -0.0409, 1.7353, 2.0327,
                              1.5677, -2.2711, 2.8185, 2.1829, -2.4043, -0.9441, -2.7832, 0.5210],
                             [1.7843, 2.8148, 2.8110, -2.5258, -1.8915, 2.3012, 1.4671, -1.9979,
                              -0.3689, 0.0759, -1.6957, -2.3901, -1.5062, 2.7997, 1.9311, -0.3893,
                              1.9669, -2.7148, 1.6191, 2.7936, -2.8148, 0.5454, 1.4900, -1.8094,
                              -0.2864, -1.4834, 1.9035, 2.7052, -1.4265, -2.2005, -1.9928, -0.5376],
                             [-0.0947, -2.1235, 1.3053, -0.7809, -2.0487, 0.6183, -1.1272, 2.5331,
                              1.6152, 0.2449, -1.3904, 1.3982, -2.9560, 2.3765, -1.7448, 2.0479,
                              -0.0727, 2.3076, -0.0716, -0.0329, -1.7435, -1.4269, 0.7407, -0.2689,
                              2.4531, 0.3300, 1.2186, -1.7688, -1.4131, -0.4982, -2.8433, 1.2542],
                             [-0.4813, -2.8797, 1.0674, -0.8104, -1.6479, 0.0540, -2.1334, 2.6462,
                              -2.9044, 1.3674, 2.1512, 2.2366, 0.1704, -0.5495, 1.4553, 1.8025,
                              -1.3831, -1.4149, -1.5134, 2.1608, 2.6853, -2.0759, 2.6723, 0.0199,
                              -1.0660, 1.5597, 2.5529, -1.4369, -2.5045, -2.6788, 1.8308, -1.1296]]> : tensor<8x32xf32>
  %y_ignored = arith.constant dense<[22, 3, 12, 20, 15, -100, 27, -100]> : tensor<8xi64>
  %y = arith.constant dense<[22, 3, 12, 20, 15, 5, 27, 5]> : tensor<8xi64>
  %want = arith.constant dense<[2.54498957e+01, 4.10005411e+00]> : tensor<2xf32>
  %lf = call @f(%z, %y_ignored) : (tensor<8x32xf32>, tensor<8xi64>) -> tensor<f32>
  %lg = call @g(%z, %y) : (tensor<8x32xf32>, tensor<8xi64>) -> tensor<f32>
  %sf = tensor.extract %lf[] : tensor<f32>
  %sg = tensor.extract %lg[] : tensor<f32>
  %got = tensor.from_elements %sf, %sg : tensor<2xf32>
  call @check(%got, %want) : (tensor<2xf32>, tensor<2xf32>) -> ()
  return
}
