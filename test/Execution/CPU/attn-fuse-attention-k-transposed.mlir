// attn-fuse on attention whose K arrives already transposed: K^T as
// [B, H, D, N] = [2, 2, 8, 7] read straight by the 5-loop Q.K generic (no
// transpose op), scaled by 1/sqrt(8), -inf above the causal diagonal
// j > i + (N - M) = i + 2 from linalg.index, softmax as max / sub+exp /
// sum / div, then P.V. The raise inserts a linalg.transpose of K^T, so the
// function is not a single attn op (attn-run takes only those): both the
// unraised and the raised program run through mlir-runner on the same
// inputs and must match the float64 reference that
// Inputs/attn_fuse_frontend_forms.py (k-transposed) computed, within
// 1e-5 * (1 + |ref|) per element: @check prints [1].
// RUN: attn-opt %s --attn-to-llvm | mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_lib_dir/libmlir_runner_utils.so,%mlir_lib_dir/libmlir_c_runner_utils.so | FileCheck %s
// RUN: attn-opt %s --attn-fuse --attn-to-llvm | mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_lib_dir/libmlir_runner_utils.so,%mlir_lib_dir/libmlir_c_runner_utils.so | FileCheck %s
// RUN: attn-opt %s --attn-fuse | FileCheck %s --check-prefix=FUSED

// FUSED-LABEL: func.func @f
// FUSED-SAME: (%[[Q:.+]]: tensor<2x2x5x8xf32>, %[[KT:.+]]: tensor<2x2x8x7xf32>, %[[V:.+]]: tensor<2x2x7x8xf32>)
// FUSED: %[[K:.+]] = linalg.transpose ins(%[[KT]] : tensor<2x2x8x7xf32>) outs(%{{.+}} : tensor<2x2x7x8xf32>) permutation = [0, 1, 3, 2]
// FUSED-NEXT: %[[O:.+]] = attn.attention %[[Q]], %[[K]], %[[V]] {causal, scale = 0.353553385 : f32}
// FUSED-NEXT: return %[[O]]

// CHECK: data =
// CHECK-NEXT: [1]

#qk_q = affine_map<(b, h, i, j, d) -> (b, h, i, d)>
#qk_kt = affine_map<(b, h, i, j, d) -> (b, h, d, j)>
#qk_s = affine_map<(b, h, i, j, d) -> (b, h, i, j)>
#pv_p = affine_map<(b, h, i, e, j) -> (b, h, i, j)>
#pv_v = affine_map<(b, h, i, e, j) -> (b, h, j, e)>
#pv_o = affine_map<(b, h, i, e, j) -> (b, h, i, e)>
#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#row4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
func.func @f(%q: tensor<2x2x5x8xf32>, %kt: tensor<2x2x8x7xf32>, %v: tensor<2x2x7x8xf32>) -> tensor<2x2x5x8xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %c = arith.constant 0.353553385 : f32
  %s0 = tensor.empty() : tensor<2x2x5x7xf32>
  %sz = linalg.fill ins(%zero : f32) outs(%s0 : tensor<2x2x5x7xf32>) -> tensor<2x2x5x7xf32>
  %s = linalg.generic {indexing_maps = [#qk_q, #qk_kt, #qk_s], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%q, %kt : tensor<2x2x5x8xf32>, tensor<2x2x8x7xf32>) outs(%sz : tensor<2x2x5x7xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  } -> tensor<2x2x5x7xf32>
  %scaled = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%s : tensor<2x2x5x7xf32>) outs(%s0 : tensor<2x2x5x7xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.mulf %a, %c : f32
    linalg.yield %r : f32
  } -> tensor<2x2x5x7xf32>
  %causal = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%scaled : tensor<2x2x5x7xf32>) outs(%s0 : tensor<2x2x5x7xf32>) {
  ^bb0(%a: f32, %o: f32):
    %i = linalg.index 2 : index
    %j = linalg.index 3 : index
    %c2 = arith.constant 2 : index
    %i2 = arith.addi %i, %c2 : index
    %above = arith.cmpi sgt, %j, %i2 : index
    %r = arith.select %above, %ninf, %a : f32
    linalg.yield %r : f32
  } -> tensor<2x2x5x7xf32>
  %r0 = tensor.empty() : tensor<2x2x5xf32>
  %minit = linalg.fill ins(%ninf : f32) outs(%r0 : tensor<2x2x5xf32>) -> tensor<2x2x5xf32>
  %max = linalg.generic {indexing_maps = [#id4, #row4], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%causal : tensor<2x2x5x7xf32>) outs(%minit : tensor<2x2x5xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.maximumf %a, %acc : f32
    linalg.yield %r : f32
  } -> tensor<2x2x5xf32>
  %exp = linalg.generic {indexing_maps = [#id4, #row4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%causal, %max : tensor<2x2x5x7xf32>, tensor<2x2x5xf32>) outs(%s0 : tensor<2x2x5x7xf32>) {
  ^bb0(%a: f32, %m: f32, %o: f32):
    %d = arith.subf %a, %m : f32
    %r = math.exp %d : f32
    linalg.yield %r : f32
  } -> tensor<2x2x5x7xf32>
  %sinit = linalg.fill ins(%zero : f32) outs(%r0 : tensor<2x2x5xf32>) -> tensor<2x2x5xf32>
  %sum = linalg.generic {indexing_maps = [#id4, #row4], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%exp : tensor<2x2x5x7xf32>) outs(%sinit : tensor<2x2x5xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.addf %a, %acc : f32
    linalg.yield %r : f32
  } -> tensor<2x2x5xf32>
  %p = linalg.generic {indexing_maps = [#id4, #row4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%exp, %sum : tensor<2x2x5x7xf32>, tensor<2x2x5xf32>) outs(%s0 : tensor<2x2x5x7xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.divf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<2x2x5x7xf32>
  %o0 = tensor.empty() : tensor<2x2x5x8xf32>
  %oz = linalg.fill ins(%zero : f32) outs(%o0 : tensor<2x2x5x8xf32>) -> tensor<2x2x5x8xf32>
  %o = linalg.generic {indexing_maps = [#pv_p, #pv_v, #pv_o], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%p, %v : tensor<2x2x5x7xf32>, tensor<2x2x7x8xf32>) outs(%oz : tensor<2x2x5x8xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  } -> tensor<2x2x5x8xf32>
  return %o : tensor<2x2x5x8xf32>
}

func.func private @printMemrefF32(memref<*xf32>)

// Prints [1] if every |got - want| <= 1e-5 * (1 + |want|) (no NaN), else [0].
func.func @check(%got: tensor<160xf32>, %want: tensor<160xf32>) {
  %tol = arith.constant 1.0e-5 : f32
  %one = arith.constant 1.0 : f32
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %e = tensor.empty() : tensor<f32>
  %init = linalg.fill ins(%ninf : f32) outs(%e : tensor<f32>) -> tensor<f32>
  %excess = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>, affine_map<(d0) -> ()>], iterator_types = ["reduction"]}
      ins(%got, %want : tensor<160xf32>, tensor<160xf32>) outs(%init : tensor<f32>) {
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
  %q = arith.constant dense<[[[[0.5554, -0.5249, 0.6486, 0.9315, 0.9452, -0.0931, 0.2181, 0.5511],
                               [0.2832, 0.4440, -0.9299, -0.4031, -0.8830, 0.7141, -0.2543, 0.3597],
                               [-0.4874, -0.3048, -0.9812, -0.2833, 0.8982, -0.5642, -0.3612, 0.8355],
                               [-0.9362, -0.8698, 0.2597, 0.7476, -0.9826, 0.4932, 0.6257, -0.8486],
                               [0.3129, 0.0185, -0.0402, 0.9111, -1.0000, -0.5060, 0.4245, -0.3508]],
                              [[-0.4460, 0.3909, 0.8371, -0.5110, -0.0838, -0.4940, -0.2413, 0.2091],
                               [0.5448, -0.8642, 0.3722, 0.0965, -0.7240, -0.8025, -0.5089, -0.6964],
                               [0.8520, 0.3602, -0.5247, 0.1378, 0.1133, -0.8545, 0.6794, -0.1894],
                               [-0.7103, -0.6182, -0.0187, 0.4240, 0.9699, 0.7496, -0.0019, -0.7864],
                               [0.8264, -0.2702, -0.5468, 0.7449, -0.7273, -0.5272, 0.1908, 0.1278]]],
                             [[[0.9179, -0.0935, -0.7421, 0.5211, -0.5967, -0.6485, -0.1258, -0.3195],
                               [0.9345, -0.7139, 0.6891, 0.3388, -0.7814, -0.8235, 0.9329, -0.6114],
                               [-0.8362, -0.4612, 0.3003, 0.0936, 0.3934, 0.9262, -0.4446, -0.5327],
                               [0.6913, -0.5516, 0.3778, -0.6930, -0.5928, -0.8648, 0.4990, -0.6398],
                               [-0.7515, -0.5504, -0.4411, -0.9324, -0.4912, 0.3377, 0.5198, -0.5480]],
                              [[0.2237, 0.8245, 0.0832, -0.2521, -0.9736, 0.6586, 0.6331, -0.8406],
                               [-0.6566, 0.6763, 0.1283, -0.3004, -0.7100, -0.8030, 0.1204, 0.4201],
                               [0.9017, 0.4961, -0.2555, 0.5170, -0.8579, 0.2437, 0.4414, -0.9164],
                               [-0.2095, -0.6773, -0.4478, -0.5470, -0.3906, -0.7275, 0.3885, -0.8943],
                               [0.1629, -0.6405, 0.0134, -0.4370, -0.2598, 0.0091, -0.7553, -0.7387]]]]> : tensor<2x2x5x8xf32>
  %kt = arith.constant dense<[[[[0.6888, -0.2156, -0.6609, 0.6024, 0.8203, 0.6592, 0.4281],
                                [-0.8013, 0.8266, 0.1560, 0.8006, 0.1271, -0.9803, 0.9885],
                                [-0.7352, 0.3853, -0.3314, -0.6396, -0.7188, 0.3385, -0.3923],
                                [0.2273, 0.8712, -0.5942, -0.7608, -0.2156, 0.3891, 0.8899],
                                [-0.6732, -0.0826, -0.4423, -0.5908, -0.3833, 0.5912, -0.8143],
                                [0.7380, 0.6674, 0.3636, -0.4084, -0.6678, 0.8379, -0.8571],
                                [-0.0511, -0.2795, -0.6805, 0.9358, -0.5621, 0.4236, 0.7582],
                                [0.3378, -0.7130, 0.5858, -0.5690, 0.9119, -0.8343, 0.2821]],
                               [[0.2269, -0.0399, -0.6696, -0.4960, 0.4608, 0.9174, 0.8516],
                                [0.4748, -0.5326, 0.5290, -0.4054, -0.4373, 0.5348, 0.3716],
                                [-0.4538, -0.6729, -0.7942, -0.0212, 0.6662, -0.3535, 0.1919],
                                [-0.6367, -0.3565, 0.3906, 0.0031, 0.7413, 0.6563, -0.4045],
                                [-0.9418, 0.2864, 0.7384, 0.7011, -0.9704, -0.6970, -0.6353],
                                [-0.4362, -0.3651, -0.8367, -0.2677, 0.8079, -0.7546, 0.5648],
                                [-0.8863, -0.8735, -0.1421, 0.9331, -0.5665, 0.8961, -0.9138],
                                [0.7763, 0.1306, 0.6445, -0.0364, -0.4972, 0.6882, -0.3181]]],
                              [[[0.4607, 0.9102, 0.8299, 0.0192, -0.5192, 0.5826, -0.9089],
                                [0.7999, 0.1314, -0.9677, 0.0398, -0.0125, -0.5742, 0.2362],
                                [-0.9969, -0.5321, 0.0539, -0.6017, -0.5126, -0.1272, -0.8887],
                                [-0.5836, -0.8527, 0.5969, 0.0050, -0.4769, 0.5936, -0.6898],
                                [0.7320, -0.0780, 0.1235, -0.3755, -0.5138, -0.4466, -0.2802],
                                [0.1399, -0.9385, -0.2285, -0.3176, 0.2597, 0.7372, 0.5453],
                                [0.9827, -0.1681, -0.5707, 0.8438, 0.6290, 0.8278, -0.5786],
                                [-0.0616, -0.3530, -0.0974, 0.4549, 0.4498, 0.2745, -0.3216]],
                               [[-0.5517, -0.0646, 0.4974, -0.6332, -0.9517, -0.7899, -0.7421],
                                [-0.0710, -0.2874, 0.8389, -0.5837, -0.2385, -0.9572, -0.8803],
                                [0.6755, 0.4043, -0.8135, 0.5827, -0.2072, -0.7094, 0.9699],
                                [-0.7620, -0.7180, 0.7078, 0.4551, -0.8617, 0.2429, -0.1340],
                                [0.7748, 0.2360, 0.3216, -0.0511, -0.9898, -0.2313, -0.4073],
                                [0.0991, -0.0391, 0.7788, -0.7049, -0.8600, -0.0417, -0.7505],
                                [0.4422, -0.5689, -0.5141, 0.2245, 0.5775, 0.3636, 0.0638],
                                [-0.1221, 0.9784, 0.2457, 0.8374, -0.7013, 0.5901, 0.4742]]]]> : tensor<2x2x8x7xf32>
  %v = arith.constant dense<[[[[-0.6920, 0.8488, 0.9883, -0.5665, -0.6099, -0.9040, -0.0205, 0.6005],
                               [0.3151, -0.7360, 0.8891, -0.3190, -0.0435, -0.2435, 0.0258, 0.1781],
                               [0.2432, 0.7168, 0.9003, 0.6111, 0.7501, -0.3104, -0.3622, 0.7633],
                               [0.8516, -0.2413, -0.5178, -0.4902, 0.3569, 0.3641, 0.5323, -0.0658],
                               [0.3438, 0.7198, -0.6189, -0.9534, 0.6742, -0.4446, 0.9489, 0.5164],
                               [-0.1229, -0.9219, 0.5603, -0.2861, 0.1394, 0.9852, 0.1825, 0.0498],
                               [-0.3471, 0.2381, 0.9883, 0.1281, 0.7256, 0.7342, 0.9694, -0.4175]],
                              [[-0.6358, -0.3705, -0.9508, -0.5618, 0.1697, 0.3747, 0.2947, 0.7105],
                               [0.4022, 0.6629, -0.9721, -0.7692, -0.6228, 0.7607, -0.4130, -0.5669],
                               [-0.8228, -0.0286, -0.7388, 0.2928, -0.4581, 0.2604, 0.6257, 0.1615],
                               [-0.9878, -0.5966, -0.3987, 0.6637, -0.5806, 0.9743, 0.0199, 0.6461],
                               [-0.1188, 0.9594, 0.1350, -0.4114, 0.7165, 0.4107, 0.4274, -0.5172],
                               [-0.5606, -0.3088, 0.1496, -0.7457, 0.5125, -0.1344, 0.5029, 0.3507],
                               [0.9977, -0.2482, -0.7992, 0.7443, -0.7359, -0.1111, -0.0716, -0.5157]]],
                             [[[0.9986, 0.8267, 0.3150, 0.3196, 0.0819, -0.4902, -0.5620, 0.4053],
                               [-0.8781, 0.0213, 0.7808, 0.5982, -0.9654, -0.5752, -0.3162, -0.9182],
                               [0.1431, -0.8771, -0.9710, -0.8867, 0.0106, -0.0710, -0.3889, 0.3058],
                               [-0.9038, -0.7554, 0.8628, -0.2851, -0.5465, -0.5630, 0.8683, -0.0756],
                               [0.1015, -0.6033, -0.5431, 0.2108, 0.5865, 0.0603, -0.9931, -0.0320],
                               [-0.2053, 0.5090, 0.6299, -0.0764, -0.1793, 0.2943, 0.8689, -0.3441],
                               [0.2147, 0.5939, 0.6253, -0.4680, 0.0182, -0.2854, 0.5322, 0.3553]],
                              [[0.8203, 0.7272, -0.5438, 0.1710, -0.7968, 0.6636, -0.3681, 0.6483],
                               [0.6326, -0.2521, 0.3242, 0.9940, 0.0806, -0.0712, 0.4710, 0.4768],
                               [0.8583, -0.1855, 0.3268, 0.8358, 0.1516, -0.5156, -0.9888, 0.4146],
                               [0.7616, 0.2050, 0.5101, 0.7897, -0.3691, -0.9660, -0.5668, 0.0642],
                               [-0.0250, -0.4209, 0.9290, 0.8989, -0.7883, -0.6171, 0.4552, -0.7044],
                               [0.7376, 0.9858, -0.2672, -0.5773, 0.0063, 0.8828, 0.4108, -0.6453],
                               [0.8666, -0.6610, -0.7286, 0.1888, 0.2682, -0.8537, -0.7816, -0.5798]]]]> : tensor<2x2x7x8xf32>
  %want = arith.constant dense<[-9.56099999e-02, 2.18505296e-01, 9.30502564e-01, -2.01890518e-01, -8.26078791e-02, -5.17403987e-01, -8.15844902e-02, 4.78053978e-01,
                                1.28110410e-01, 2.73813058e-01, 5.62851813e-01, -1.78035726e-01, 1.09131204e-01, -3.06328316e-01, 3.29768701e-02, 4.06496263e-01,
                                1.99433555e-01, 4.51863502e-01, 2.45447552e-01, -3.37703144e-01, 3.40440026e-01, -3.55083454e-01, 2.70832265e-01, 4.77533977e-01,
                                6.51992698e-02, -1.13625917e-01, 5.48988627e-01, -2.99004136e-01, 9.58514986e-02, -1.10628095e-02, 1.29856020e-01, 3.00214116e-01,
                                3.53771961e-02, 8.26944258e-02, 4.94640669e-01, -2.61610012e-01, 3.12328433e-01, 1.22517964e-01, 4.44038932e-01, 1.14451755e-01,
                                -3.98838157e-01, 3.59168847e-02, -8.88450337e-01, -3.45275194e-01, -2.60021945e-01, 4.48366355e-01, 1.98849593e-01, 1.67318891e-01,
                                -4.03624882e-01, -2.67249149e-02, -8.08507916e-01, -2.34570642e-01, -3.45323526e-01, 6.04909353e-01, 6.33113757e-02, 1.93567259e-01,
                                -5.01354982e-01, 3.41274286e-02, -6.29594909e-01, -8.55403610e-02, -2.32664984e-01, 5.58997967e-01, 2.02066955e-01, 1.56059837e-01,
                                -4.53793645e-01, 1.05066048e-01, -4.59424445e-01, -9.78464459e-02, -1.61335150e-01, 5.60576192e-01, 1.85803785e-01, 6.98153949e-02,
                                -2.80707878e-01, -6.26481693e-03, -4.02092241e-01, -2.45780664e-01, 3.74569007e-03, 2.74126207e-01, 2.57012473e-01, 7.20713205e-02,
                                -5.60520455e-02, -1.09611069e-01, 3.45593294e-02, -6.31979602e-03, -3.59690824e-01, -3.72248902e-01, -4.01774605e-01, -1.56150010e-01,
                                -2.75730777e-01, -3.34643045e-01, 1.75027797e-01, -1.34849606e-01, -3.92610535e-01, -3.99384688e-01, -8.16696865e-02, -1.19346781e-01,
                                -3.84133183e-02, -3.52482586e-01, -7.06784274e-02, -8.46364744e-02, -7.23466256e-02, -2.70933095e-01, -3.44237495e-01, -1.00207771e-03,
                                -2.40397126e-01, -1.59373833e-01, 2.41458446e-01, 2.58989316e-02, -2.83067043e-01, -2.69932495e-01, -9.56978117e-02, -2.09053036e-01,
                                -4.17892159e-02, 1.25798108e-02, 2.81491702e-01, -6.45393514e-02, -8.14736021e-02, -2.31285304e-01, 1.38911258e-03, -1.21015988e-02,
                                7.93213005e-01, 1.22360828e-01, 1.80112844e-02, 6.36652144e-01, -2.00378381e-01, 3.50721177e-03, -4.35102824e-01, 5.11560117e-01,
                                7.58024449e-01, 1.40269207e-01, 1.81117302e-01, 7.05727332e-01, -2.61652992e-01, -2.68299712e-01, -3.18673663e-01, 3.71029629e-01,
                                5.83706767e-01, -6.55231796e-02, 3.80077653e-01, 7.66756872e-01, -3.12445823e-01, -3.78814944e-01, -2.91265324e-01, 1.17609349e-01,
                                4.70592917e-01, 1.13707679e-01, 3.39067096e-01, 5.21682155e-01, -4.33822176e-01, -1.44858245e-01, 8.97118668e-02, -1.89609307e-01,
                                6.27183243e-01, 1.13346998e-02, 9.43010577e-02, 4.85406882e-01, -2.27261318e-01, -2.22458539e-01, -1.42074987e-01, -9.01059303e-02]> : tensor<160xf32>
  %o = call @f(%q, %kt, %v) : (tensor<2x2x5x8xf32>, tensor<2x2x8x7xf32>, tensor<2x2x7x8xf32>) -> tensor<2x2x5x8xf32>
  %flat = tensor.collapse_shape %o [[0, 1, 2, 3]] : tensor<2x2x5x8xf32> into tensor<160xf32>
  call @check(%flat, %want) : (tensor<160xf32>, tensor<160xf32>) -> ()
  return
}
