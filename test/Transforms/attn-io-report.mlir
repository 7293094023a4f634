// RUN: attn-opt %s -split-input-file --attn-io-report -verify-diagnostics -o /dev/null

// Softmax 10 x 100 f32, default schedule (one pass, the whole row):
//   tiled: read x once 4000 B, write 4000 B, 1000 exp.
//   unfused: the max, sum and output generics each read x (12000 B) plus
//   the [10] max and sum twice each (160 B); writes out 4000 B + max, sum
//   and safe max 120 B; 2000 exp. (16280 / 8000 = 2.04x)
func.func @softmax(%x: tensor<10x100xf32>) -> tensor<10x100xf32> {
  // expected-remark @+1 {{attn-io-report: attn.softmax under #attn.schedule<block_m = 4, block_n = 100>: tiled read 4000 B, write 4000 B, 0 FLOP, 1000 exp; unfused read 12160 B, write 4120 B, 0 FLOP, 2000 exp; traffic 2.04x; kernel: softmax-rows, 128 threads, grid 3x1x1, 0 B shared}}
  %0 = attn.softmax %x, dim = 1 : tensor<10x100xf32> -> tensor<10x100xf32>
  return %0 : tensor<10x100xf32>
}

// -----

// Causal attention M = N = 64, D = 16, f16, 32 x 32 tiles. Query tile 0
// visits keys [0, 32) and tile 1 keys [0, 64) (block skipping): 96 keys and
// 32*32 + 32*64 = 3072 (row, key) pairs.
//   tiled: read Q 64*16*2 = 2048 B + K and V 96*32*2 = 6144 B; write O
//   2048 B; 2*3072*32 = 196608 FLOP.
//   unfused: q, k, v 6144 B + five reads of the f32 scores 5*16384 B; three
//   writes of them + O; the full 2*64*64*32 = 262144 FLOP.
func.func @attention(%q: tensor<1x1x64x16xf16>, %k: tensor<1x1x64x16xf16>, %v: tensor<1x1x64x16xf16>) -> tensor<1x1x64x16xf16> {
  // expected-remark @+1 {{attn-io-report: attn.attention under #attn.schedule<block_m = 32, block_n = 32, chip = "host">: tiled read 8192 B, write 2048 B, 196608 FLOP, 3072 exp; unfused read 88064 B, write 51200 B, 262144 FLOP, 8192 exp; traffic 13.60x}}
  %o = attn.attention %q, %k, %v {causal, schedule = #attn.schedule<block_m = 32, block_n = 32, chip = "host">} : tensor<1x1x64x16xf16>, tensor<1x1x64x16xf16>, tensor<1x1x64x16xf16> -> tensor<1x1x64x16xf16>
  return %o : tensor<1x1x64x16xf16>
}

// -----

// attention_grad, causal M = N = 64, D = Dv = 16, f16, 32 x 32 tiles.
// D = rowsum(dO O) reads O and dO (4096 B) and writes D (256 B). The dQ
// pass visits 96 keys and 3072 pairs (as the forward above): Q and dO once
// (4096 B), LSE and D (512 B), K and V per visited key (6144 B); writes dQ
// (2048 B). The dK/dV pass: K and V once (4096 B); key tile 0 is seen by
// queries [0, 64), tile 1 by [32, 64): 96 queries, 3072 pairs, each query
// Q and dO (64 B) and LSE and D (8 B): 6912 B; writes dK and dV (4096 B).
// FLOP: 2*64*16 + 3072*(4*16 + 2*16) + 3072*(4*16 + 4*16) = 690176 (the
// scores are recomputed: more than the unfused 64*64*(6*16 + 4*16) + 2048
// = 657408). Unfused: q, k twice, v once, dO three times and O once
// (18432 B), LSE and D (512 B), 7 reads of f32 [64, 64] (114688 B);
// 5 such writes (81920 B), D, dQ, dK, dV.
func.func @attention_grad(%q: tensor<1x1x64x16xf16>, %lse: tensor<1x1x64xf32>) -> tensor<1x1x64x16xf16> {
  // expected-remark @+1 {{attn-io-report: attn.attention_grad under #attn.schedule<block_m = 32, block_n = 32, chip = "host">: tiled read 25856 B, write 6400 B, 690176 FLOP, 6144 exp; unfused read 133632 B, write 88320 B, 657408 FLOP, 4096 exp; traffic 6.88x; kernel: loops (the host CPU)}}
  %dq, %dk, %dv = attn.attention_grad %q, %q, %q, %q, %lse, %q {causal, schedule = #attn.schedule<block_m = 32, block_n = 32, chip = "host">} : tensor<1x1x64x16xf16>, tensor<1x1x64x16xf16>, tensor<1x1x64x16xf16>, tensor<1x1x64x16xf16>, tensor<1x1x64xf32>, tensor<1x1x64x16xf16> -> tensor<1x1x64x16xf16>, tensor<1x1x64x16xf16>, tensor<1x1x64x16xf16>
  return %dq : tensor<1x1x64x16xf16>
}

// -----

// Linear cross-entropy N = 64, D = 32, V = 256, bf16, 32-token blocks:
//   tiled (Cut Cross-Entropy): hidden 64*32*2 = 4096 B once, the weight
//   256*32*2 = 16384 B once per token block (2 blocks), labels 512 B; the
//   loss 4 B.
//   unfused: hidden and weight once, the [64, 256] f32 logits (65536 B)
//   written twice and read four times.
func.func @linear_cross_entropy(%h: tensor<64x32xbf16>, %w: tensor<256x32xbf16>, %y: tensor<64xi64>) -> tensor<f32> {
  // expected-remark @+1 {{attn-io-report: attn.linear_cross_entropy under #attn.schedule<block_m = 32, block_n = 64, block_d = 32, chip = "host">: tiled read 37376 B, write 4 B, 1048576 FLOP, 16384 exp; unfused read 283136 B, write 131076 B, 1048576 FLOP, 16384 exp; traffic 11.08x}}
  %l = attn.linear_cross_entropy %h, %w, %y {schedule = #attn.schedule<block_m = 32, block_n = 64, block_d = 32, chip = "host">} : tensor<64x32xbf16>, tensor<256x32xbf16>, tensor<64xi64> -> tensor<f32>
  return %l : tensor<f32>
}

// -----

func.func @dynamic(%x: tensor<?x100xf32>) -> tensor<?x100xf32> {
  // expected-remark @+1 {{attn-io-report: no estimate for dynamic shapes}}
  %0 = attn.softmax %x, dim = 1 : tensor<?x100xf32> -> tensor<?x100xf32>
  return %0 : tensor<?x100xf32>
}

// -----

// Split-KV 4 ways for decoding (M = 1, N = 256, D = 64, f16, 64-key tiles,
// 2 heads): every key is visited once, 256 (row, key) pairs per head.
//   tiled: 2 heads * (Q 128 B + K and V 256*128*2 = 65536 B) = 131328 B,
//   plus the f32 partials 4 splits * 2 heads * (64 + 1) * 4 = 2080 B
//   written and read back by the combine; O 256 B written;
//   2*2*256*128 = 131072 FLOP; 512 exp + 2*2080/4 for the combine.
//   unfused: q, k, v 131328 B + 5 reads of the f32 scores (2048 B each),
//   3 writes of them + O.
func.func @split_kv(%q: tensor<1x2x1x64xf16>, %k: tensor<1x2x256x64xf16>, %v: tensor<1x2x256x64xf16>) -> tensor<1x2x1x64xf16> {
  // expected-remark @+1 {{attn-io-report: attn.attention under #attn.schedule<block_m = 16, block_n = 64, split = 4, chip = "host">: tiled read 133408 B, write 2336 B, 131072 FLOP, 1552 exp; unfused read 141568 B, write 6400 B, 131072 FLOP, 1024 exp; traffic 1.09x}}
  %o = attn.attention %q, %k, %v {schedule = #attn.schedule<block_m = 16, block_n = 64, split = 4, chip = "host">} : tensor<1x2x1x64xf16>, tensor<1x2x256x64xf16>, tensor<1x2x256x64xf16> -> tensor<1x2x1x64xf16>
  return %o : tensor<1x2x1x64xf16>
}

// -----

// Without a schedule, the default for sm_90a; the report names the kernel
// its plan launches (the launch facts beside the IO figures).
func.func @kernel_facts(%q: tensor<1x4x256x128xbf16>) -> tensor<1x4x256x128xbf16> {
  // expected-remark @+1 {{attn-io-report: attn.attention under #attn.schedule<block_m = 128, block_n = 128, warps = 8, stages = 2, pipeline = "tma_pingpong">: tiled read 1310720 B, write 262144 B, 134217728 FLOP, 262144 exp; unfused read 6029312 B, write 3407872 B, 134217728 FLOP, 524288 exp; traffic 6.00x; kernel: attention on wgmma.m64n128k16, 384 threads, grid 2x4x1, 164864 B shared}}
  %o = attn.attention %q, %q, %q : tensor<1x4x256x128xbf16>, tensor<1x4x256x128xbf16>, tensor<1x4x256x128xbf16> -> tensor<1x4x256x128xbf16>
  return %o : tensor<1x4x256x128xbf16>
}

// -----

// Empty and huge shapes have a defined answer: an empty reduced dim still
// has rows (no division by its size), a causal mask over 2^40 queries is
// not walked tile by tile, and counts beyond int64 are refused, not wrapped.
func.func @empty_row(%x: tensor<4x0xf32>) -> tensor<4xf32> {
  // expected-remark @+1 {{attn-io-report: attn.logsumexp under #attn.schedule<block_m = 1, block_n = 4096, warps = 16, passes = 2>: tiled read 0 B, write 16 B, 0 FLOP, 0 exp}}
  %0 = attn.logsumexp %x, dim = 1 : tensor<4x0xf32> -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

func.func @huge_causal(%q: tensor<1x1x1099511627776x64xf16>) -> tensor<1x1x1099511627776x64xf16> {
  // expected-remark @+1 {{attn-io-report: no estimate for more than 1048576 query tiles under a causal or window mask}}
  %o = attn.attention %q, %q, %q {causal} : tensor<1x1x1099511627776x64xf16>, tensor<1x1x1099511627776x64xf16>, tensor<1x1x1099511627776x64xf16> -> tensor<1x1x1099511627776x64xf16>
  return %o : tensor<1x1x1099511627776x64xf16>
}

func.func @huge_counts(%q: tensor<1x1x1099511627776x64xf16>) -> tensor<1x1x1099511627776x64xf16> {
  // expected-remark @+1 {{attn-io-report: no estimate for byte or FLOP counts beyond int64}}
  %o = attn.attention %q, %q, %q : tensor<1x1x1099511627776x64xf16>, tensor<1x1x1099511627776x64xf16>, tensor<1x1x1099511627776x64xf16> -> tensor<1x1x1099511627776x64xf16>
  return %o : tensor<1x1x1099511627776x64xf16>
}

// -----

// The other gradients (f32 unless noted, default schedules on sm_90a).
// softmax_grad 10 x 100 (one pass): tiled reads y and dy once (8000 B),
// writes dx (4000 B); unfused: the row sum reads y and dy, the output
// generic reads them again and the [10] sum (16040 B), writes the sum and
// dx (4040 B). log_softmax_grad: the row sum reads dy alone (12040 B), one
// exp per element. logsumexp_grad: one elementwise pass reading x, lse and
// dlse (4080 B) both ways. cross_entropy_grad 8 x 1000 bf16, i64 labels,
// mean: logits 16000 B + labels 64 B + lse 32 B + the scalar 4 B + the
// labels again for the mean's count 64 B, both ways.
func.func @softmax_grad(%y: tensor<10x100xf32>) -> tensor<10x100xf32> {
  // expected-remark @+1 {{attn-io-report: attn.softmax_grad under #attn.schedule<block_m = 4, block_n = 100>: tiled read 8000 B, write 4000 B, 0 FLOP, 0 exp; unfused read 16040 B, write 4040 B, 0 FLOP, 0 exp; traffic 1.67x}}
  %0 = attn.softmax_grad %y, %y, dim = 1 : tensor<10x100xf32>, tensor<10x100xf32> -> tensor<10x100xf32>
  return %0 : tensor<10x100xf32>
}
func.func @log_softmax_grad(%y: tensor<10x100xf32>) -> tensor<10x100xf32> {
  // expected-remark @+1 {{attn-io-report: attn.log_softmax_grad under #attn.schedule<block_m = 4, block_n = 100>: tiled read 8000 B, write 4000 B, 0 FLOP, 1000 exp; unfused read 12040 B, write 4040 B, 0 FLOP, 1000 exp; traffic 1.34x}}
  %0 = attn.log_softmax_grad %y, %y, dim = 1 : tensor<10x100xf32>, tensor<10x100xf32> -> tensor<10x100xf32>
  return %0 : tensor<10x100xf32>
}
func.func @logsumexp_grad(%x: tensor<10x100xf32>, %l: tensor<10xf32>) -> tensor<10x100xf32> {
  // expected-remark @+1 {{attn-io-report: attn.logsumexp_grad under #attn.schedule<block_m = 4>: tiled read 4080 B, write 4000 B, 0 FLOP, 1000 exp; unfused read 4080 B, write 4000 B, 0 FLOP, 1000 exp; traffic 1.00x}}
  %0 = attn.logsumexp_grad %x, %l, %l, dim = 1 : tensor<10x100xf32>, tensor<10xf32>, tensor<10xf32> -> tensor<10x100xf32>
  return %0 : tensor<10x100xf32>
}
func.func @cross_entropy_grad(%z: tensor<8x1000xbf16>, %y: tensor<8xi64>, %lse: tensor<8xf32>, %dl: tensor<f32>) -> tensor<8x1000xbf16> {
  // expected-remark @+1 {{attn-io-report: attn.cross_entropy_grad under #attn.schedule<block_m = 4>: tiled read 16164 B, write 16000 B, 0 FLOP, 8000 exp; unfused read 16164 B, write 16000 B, 0 FLOP, 8000 exp; traffic 1.00x}}
  %0 = attn.cross_entropy_grad %z, %y, %lse, %dl : tensor<8x1000xbf16>, tensor<8xi64>, tensor<8xf32>, tensor<f32> -> tensor<8x1000xbf16>
  return %0 : tensor<8x1000xbf16>
}

// -----

// linear_cross_entropy_grad N = 32, D = 16, V = 100, f32, sum, 16 x 32
// tiles: the token vectors are labels 256 B + lse 128 B + the scalar 4 B.
//   tiled: dh pass h once (2048 B) + the weight per token block 2 * 6400 B
//   + the token vectors; dW pass the weight once (6400 B) + h and the token
//   vectors per vocabulary block 4 * (2048 + 388) B: 31380 B; writes dh and
//   dW 8448 B; the logits twice plus dh and dW: 8 * 32 * 100 * 16 FLOP; an
//   exp per logit per pass.
//   unfused: h and W for the logits (8448 B), the f32 [32, 100] logits
//   (12800 B) read by the gradient generic, its f32 output read by dh and
//   dW (25600 B), h and W again (8448 B), the token vectors: 55684 B;
//   writes the logits, their gradient and the outputs: 34048 B.
func.func @linear_cross_entropy_grad(%h: tensor<32x16xf32>, %w: tensor<100x16xf32>, %y: tensor<32xi64>, %lse: tensor<32xf32>, %dl: tensor<f32>) -> tensor<32x16xf32> {
  // expected-remark @+1 {{attn-io-report: attn.linear_cross_entropy_grad under #attn.schedule<block_m = 16, block_n = 32, block_d = 16, chip = "host">: tiled read 31380 B, write 8448 B, 409600 FLOP, 6400 exp; unfused read 55684 B, write 34048 B, 307200 FLOP, 3200 exp; traffic 2.25x}}
  %dh, %dw = attn.linear_cross_entropy_grad %h, %w, %y, %lse, %dl {reduction = #attn.reduction<sum>, schedule = #attn.schedule<block_m = 16, block_n = 32, block_d = 16, chip = "host">} : tensor<32x16xf32>, tensor<100x16xf32>, tensor<32xi64>, tensor<32xf32>, tensor<f32> -> tensor<32x16xf32>, tensor<100x16xf32>
  return %dh : tensor<32x16xf32>
}

// -----

// attention_grad of a huge unmasked shape: closed form, no walk over the
// 2^34 tiles (it hung before), and counts beyond int64 are refused; a
// causal one is refused above 2^20 tiles.
func.func @huge_grad(%q: tensor<1x1x1099511627776x64xf16>, %l: tensor<1x1x1099511627776xf32>) -> tensor<1x1x1099511627776x64xf16> {
  // expected-remark @+1 {{attn-io-report: no estimate for byte or FLOP counts beyond int64}}
  %dq, %dk, %dv = attn.attention_grad %q, %q, %q, %q, %l, %q {schedule = #attn.schedule<block_m = 64, block_n = 64, chip = "host">} : tensor<1x1x1099511627776x64xf16>, tensor<1x1x1099511627776x64xf16>, tensor<1x1x1099511627776x64xf16>, tensor<1x1x1099511627776x64xf16>, tensor<1x1x1099511627776xf32>, tensor<1x1x1099511627776x64xf16> -> tensor<1x1x1099511627776x64xf16>, tensor<1x1x1099511627776x64xf16>, tensor<1x1x1099511627776x64xf16>
  return %dq : tensor<1x1x1099511627776x64xf16>
}
func.func @huge_grad_causal(%q: tensor<1x1x1099511627776x64xf16>, %l: tensor<1x1x1099511627776xf32>) -> tensor<1x1x1099511627776x64xf16> {
  // expected-remark @+1 {{attn-io-report: no estimate for more than 1048576 tiles under a causal or window mask}}
  %dq, %dk, %dv = attn.attention_grad %q, %q, %q, %q, %l, %q {causal, schedule = #attn.schedule<block_m = 64, block_n = 64, chip = "host">} : tensor<1x1x1099511627776x64xf16>, tensor<1x1x1099511627776x64xf16>, tensor<1x1x1099511627776x64xf16>, tensor<1x1x1099511627776x64xf16>, tensor<1x1x1099511627776xf32>, tensor<1x1x1099511627776x64xf16> -> tensor<1x1x1099511627776x64xf16>, tensor<1x1x1099511627776x64xf16>, tensor<1x1x1099511627776x64xf16>
  return %dq : tensor<1x1x1099511627776x64xf16>
}
