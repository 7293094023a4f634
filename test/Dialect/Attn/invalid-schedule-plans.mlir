// RUN: attn-opt %s -split-input-file -verify-diagnostics

// Schedules that are well formed but that the kernel plan of the op's
// family rejects on the schedule's chip: the verifier asks the plans
// (attn/Conversion/AttnToGPU/Plans.h), and each diagnostic names the field
// and the limit.

func.func @rows_per_warp(%q: tensor<1x2x64x64xbf16>) -> tensor<1x2x64x64xbf16> {
  // expected-error @below {{schedule block_m (64) must be 16 x warps (128) or 32 x warps (256): each warp owns 16 or 32 query rows}}
  %o = attn.attention %q, %q, %q {schedule = #attn.schedule<block_m = 64, block_n = 64, warps = 8, stages = 2>} : tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16> -> tensor<1x2x64x64xbf16>
  return %o : tensor<1x2x64x64xbf16>
}

// -----

func.func @one_stage(%q: tensor<1x2x64x64xbf16>) -> tensor<1x2x64x64xbf16> {
  // expected-error @below {{schedule stages (1) must be at least 2: the key/value tiles are double-buffered}}
  %o = attn.attention %q, %q, %q {schedule = #attn.schedule<block_m = 64, block_n = 64, warps = 4, stages = 1>} : tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16> -> tensor<1x2x64x64xbf16>
  return %o : tensor<1x2x64x64xbf16>
}

// -----

// The plan counts the 16-byte row padding of the ldmatrix tiles.
func.func @too_much_shared(%q: tensor<1x2x256x256xbf16>) -> tensor<1x2x256x256xbf16> {
  // expected-error @below {{schedule tiles need 236560 bytes of shared memory; sm_90a allows 232448 per block}}
  %o = attn.attention %q, %q, %q {schedule = #attn.schedule<block_m = 64, block_n = 96, warps = 4, stages = 2>} : tensor<1x2x256x256xbf16>, tensor<1x2x256x256xbf16>, tensor<1x2x256x256xbf16> -> tensor<1x2x256x256xbf16>
  return %o : tensor<1x2x256x256xbf16>
}

// -----

// Two m16 row tiles per warp at head dim 256: the output and score
// accumulators alone exceed the register file of a thread.
func.func @accumulators_spill(%q: tensor<1x2x256x256xbf16>) -> tensor<1x2x256x256xbf16> {
  // expected-error @below {{schedule tiles keep 288 accumulator registers per thread; with 128 threads per block sm_90a leaves 231 (255 registers, 24 for addresses and loop state)}}
  %o = attn.attention %q, %q, %q {schedule = #attn.schedule<block_m = 128, block_n = 32, warps = 4, stages = 2>} : tensor<1x2x256x256xbf16>, tensor<1x2x256x256xbf16>, tensor<1x2x256x256xbf16> -> tensor<1x2x256x256xbf16>
  return %o : tensor<1x2x256x256xbf16>
}

// -----

// batch x split blocks along the grid's z: CUDA allows 65535.
func.func @grid_z(%q: tensor<40000x1x1x64xbf16>, %k: tensor<40000x1x128x64xbf16>) -> tensor<40000x1x1x64xbf16> {
  // expected-error @below {{schedule split gives a grid z of 80000 blocks; CUDA allows 1 to 65535}}
  %o = attn.attention %q, %k, %k {schedule = #attn.schedule<block_m = 16, block_n = 64, warps = 1, stages = 2, split = 2>} : tensor<40000x1x1x64xbf16>, tensor<40000x1x128x64xbf16>, tensor<40000x1x128x64xbf16> -> tensor<40000x1x1x64xbf16>
  return %o : tensor<40000x1x1x64xbf16>
}

// -----

func.func @row_split_over_warps(%x: tensor<4x1024xf32>) -> tensor<4x1024xf32> {
  // expected-error @below {{schedule block_m (2) must be 1 (a row per block) or warps (4, a row per warp)}}
  %y = attn.softmax %x, dim = 1 {schedule = #attn.schedule<block_m = 2, block_n = 1024, warps = 4>} : tensor<4x1024xf32> -> tensor<4x1024xf32>
  return %y : tensor<4x1024xf32>
}

// -----

func.func @row_too_long_for_registers(%x: tensor<4x32768xf32>) -> tensor<4x32768xf32> {
  // expected-error @below {{schedule warps (8) leave 128 row elements per thread in registers with passes = 1; the limit is 64 (use more warps, or passes = 2)}}
  %y = attn.softmax %x, dim = 1 {schedule = #attn.schedule<block_m = 1, block_n = 32768, warps = 8>} : tensor<4x32768xf32> -> tensor<4x32768xf32>
  return %y : tensor<4x32768xf32>
}

// -----

func.func @cluster_on_sm80(%x: tensor<4x8192xf32>) -> tensor<4x8192xf32> {
  // expected-error @below {{schedule split (2) spreads a row over a cluster of blocks; sm_80 has no clusters}}
  %0 = attn.softmax %x, dim = 1 {schedule = #attn.schedule<block_m = 1, block_n = 4096, warps = 16, split = 2, chip = "sm_80">} : tensor<4x8192xf32> -> tensor<4x8192xf32>
  return %0 : tensor<4x8192xf32>
}

// -----

func.func @cross_entropy_split(%z: tensor<8x1000xf32>, %y: tensor<8xi64>) -> tensor<f32> {
  // expected-error @below {{schedule split (2) must be 1: the cross-entropy row kernel reads each row in one block (split-V is a tiled-loops schedule)}}
  %0 = attn.cross_entropy %z, %y {schedule = #attn.schedule<block_m = 1, block_n = 512, split = 2>} : tensor<8x1000xf32>, tensor<8xi64> -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @lce_block_d(%h: tensor<16x96xbf16>, %w: tensor<64x96xbf16>, %y: tensor<16xi64>) -> tensor<f32> {
  // expected-error @below {{schedule block_d (64) must be a multiple of 16 dividing the hidden size (96)}}
  %0 = attn.linear_cross_entropy %h, %w, %y {schedule = #attn.schedule<block_m = 16, block_n = 64, block_d = 64, warps = 1, stages = 2>} : tensor<16x96xbf16>, tensor<64x96xbf16>, tensor<16xi64> -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @lce_rows_per_warp(%h: tensor<16x64xbf16>, %w: tensor<64x64xbf16>, %y: tensor<16xi64>) -> tensor<f32> {
  // expected-error @below {{schedule block_m (64) must be 16 x warps (16): one warp per 16 tokens}}
  %0 = attn.linear_cross_entropy %h, %w, %y {schedule = #attn.schedule<block_m = 64, block_n = 64, block_d = 64, warps = 1, stages = 2>} : tensor<16x64xbf16>, tensor<64x64xbf16>, tensor<16xi64> -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @lce_one_stage(%h: tensor<16x64xbf16>, %w: tensor<64x64xbf16>, %y: tensor<16xi64>) -> tensor<f32> {
  // expected-error @below {{schedule stages (1) must be at least 2}}
  %0 = attn.linear_cross_entropy %h, %w, %y {schedule = #attn.schedule<block_m = 16, block_n = 64, block_d = 64, warps = 1, stages = 1>} : tensor<16x64xbf16>, tensor<64x64xbf16>, tensor<16xi64> -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

// Shared-memory limits come from the schedule's chip (99 KiB per block on
// sm_86), with the 16-byte row padding of the mma.sync tiles.
func.func @lce_too_much_shared_sm86(%h: tensor<256x64xbf16>, %w: tensor<256x64xbf16>, %y: tensor<256xi64>) -> tensor<f32> {
  // expected-error @below {{schedule tiles need 122896 bytes of shared memory; sm_86 allows 101376 per block}}
  %0 = attn.linear_cross_entropy %h, %w, %y {schedule = #attn.schedule<block_m = 256, block_n = 256, block_d = 16, warps = 16, stages = 5, chip = "sm_86">} : tensor<256x64xbf16>, tensor<256x64xbf16>, tensor<256xi64> -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

// Ops no kernel computes (here f32 attention) take the loops: any well
// formed schedule runs there, whatever its tiles.
func.func @loops_take_any_schedule(%q: tensor<1x8x128x256xf32>) -> tensor<1x8x128x256xf32> {
  %o = attn.attention %q, %q, %q {schedule = #attn.schedule<block_m = 128, block_n = 128, stages = 4>} : tensor<1x8x128x256xf32>, tensor<1x8x128x256xf32>, tensor<1x8x128x256xf32> -> tensor<1x8x128x256xf32>
  return %o : tensor<1x8x128x256xf32>
}

// -----

// kv heads along the grid's y: CUDA allows 65535.
func.func @grid_y(%q: tensor<1x65536x16x64xbf16>) -> tensor<1x65536x16x64xbf16> {
  // expected-error @below {{schedule tiles give a grid y of 65536 blocks; CUDA allows 1 to 65535}}
  %o = attn.attention %q, %q, %q {schedule = #attn.schedule<block_m = 16, block_n = 16, warps = 1, stages = 2>} : tensor<1x65536x16x64xbf16>, tensor<1x65536x16x64xbf16>, tensor<1x65536x16x64xbf16> -> tensor<1x65536x16x64xbf16>
  return %o : tensor<1x65536x16x64xbf16>
}

// -----

// attention_grad's backward kernels: dK/dV tiles of up to 128 queries.
func.func @grad_query_tile(%q: tensor<1x2x64x64xbf16>, %l: tensor<1x2x64xf32>) -> tensor<1x2x64x64xbf16> {
  // expected-error @below {{schedule block_m (256, the queries of a dK/dV tile) must be a multiple of 16 up to 128}}
  %dq, %dk, %dv = attn.attention_grad %q, %q, %q, %q, %l, %q {schedule = #attn.schedule<block_m = 256, block_n = 64, warps = 4, stages = 2>} : tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16>, tensor<1x2x64xf32>, tensor<1x2x64x64xbf16> -> tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16>
  return %dq : tensor<1x2x64x64xbf16>
}

// -----

func.func @grad_one_stage(%q: tensor<1x2x64x64xbf16>, %l: tensor<1x2x64xf32>) -> tensor<1x2x64x64xbf16> {
  // expected-error @below {{schedule stages (1) must be at least 2: the tiles are double-buffered}}
  %dq, %dk, %dv = attn.attention_grad %q, %q, %q, %q, %l, %q {schedule = #attn.schedule<block_m = 64, block_n = 64, warps = 4, stages = 1>} : tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16>, tensor<1x2x64xf32>, tensor<1x2x64x64xbf16> -> tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16>
  return %dq : tensor<1x2x64x64xbf16>
}

// -----

// Head dim 128 with 128-query tiles: dK, dV (64 registers each), and the
// transposed scores and dP of the tile (64 each) exceed a thread's share.
func.func @grad_accumulators_spill(%q: tensor<1x2x64x128xbf16>, %l: tensor<1x2x64xf32>) -> tensor<1x2x64x128xbf16> {
  // expected-error @below {{schedule tiles keep 256 accumulator registers per thread; with 128 threads per block sm_90a leaves 231 (255 registers, 24 for addresses and loop state)}}
  %dq, %dk, %dv = attn.attention_grad %q, %q, %q, %q, %l, %q {schedule = #attn.schedule<block_m = 128, block_n = 64, warps = 4, stages = 2>} : tensor<1x2x64x128xbf16>, tensor<1x2x64x128xbf16>, tensor<1x2x64x128xbf16>, tensor<1x2x64x128xbf16>, tensor<1x2x64xf32>, tensor<1x2x64x128xbf16> -> tensor<1x2x64x128xbf16>, tensor<1x2x64x128xbf16>, tensor<1x2x64x128xbf16>
  return %dq : tensor<1x2x64x128xbf16>
}

// -----

// The shared-memory model of the dK/dV launch: K and V of 256 keys, 3
// stages of 128-query Q and dO tiles (rows padded by 8), and their LSE
// and D.
func.func @grad_too_much_shared(%q: tensor<1x2x64x64xbf16>, %l: tensor<1x2x64xf32>) -> tensor<1x2x64x64xbf16> {
  // expected-error @below {{schedule tiles need 187408 bytes of shared memory; sm_80 allows 166912 per block}}
  %dq, %dk, %dv = attn.attention_grad %q, %q, %q, %q, %l, %q {schedule = #attn.schedule<block_m = 128, block_n = 16, warps = 16, stages = 3, chip = "sm_80">} : tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16>, tensor<1x2x64xf32>, tensor<1x2x64x64xbf16> -> tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16>
  return %dq : tensor<1x2x64x64xbf16>
}

// -----

func.func @grad_key_tile(%q: tensor<1x2x64x64xbf16>, %l: tensor<1x2x64xf32>) -> tensor<1x2x64x64xbf16> {
  // expected-error @below {{schedule block_n (256, the keys of a dQ tile) must be a multiple of 16 up to 128}}
  %dq, %dk, %dv = attn.attention_grad %q, %q, %q, %q, %l, %q {schedule = #attn.schedule<block_m = 64, block_n = 256, warps = 4, stages = 2>} : tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16>, tensor<1x2x64xf32>, tensor<1x2x64x64xbf16> -> tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16>
  return %dq : tensor<1x2x64x64xbf16>
}

// -----

// The elementwise gradient rows: block_m is 1 (a row per block) or warps.
func.func @ce_grad_rows_per_block(%z: tensor<8x1000xbf16>, %y: tensor<8xi64>, %lse: tensor<8xf32>, %dl: tensor<f32>) -> tensor<8x1000xbf16> {
  // expected-error @below {{schedule block_m (3) must be 1 (a row per block) or warps (4, a row per warp)}}
  %0 = attn.cross_entropy_grad %z, %y, %lse, %dl {schedule = #attn.schedule<block_m = 3, warps = 4>} : tensor<8x1000xbf16>, tensor<8xi64>, tensor<8xf32>, tensor<f32> -> tensor<8x1000xbf16>
  return %0 : tensor<8x1000xbf16>
}

// linear_cross_entropy_grad's chunked backward kernels: product tiles on
// (warps / 2) x 2 warps or a warpgroup per 64 rows.
// -----

func.func @lce_grad_odd_warps(%h: tensor<64x64xbf16>, %w: tensor<1000x64xbf16>, %y: tensor<64xi64>, %l: tensor<64xf32>, %g: tensor<f32>) -> (tensor<64x64xbf16>, tensor<1000x64xbf16>) {
  // expected-error @below {{schedule warps (1) must be even: warps are laid out (warps / 2) x 2 over a tile}}
  %dh, %dw = attn.linear_cross_entropy_grad %h, %w, %y, %l, %g {schedule = #attn.schedule<block_m = 16, block_n = 64, block_d = 32, warps = 1, stages = 2>} : tensor<64x64xbf16>, tensor<1000x64xbf16>, tensor<64xi64>, tensor<64xf32>, tensor<f32> -> tensor<64x64xbf16>, tensor<1000x64xbf16>
  return %dh, %dw : tensor<64x64xbf16>, tensor<1000x64xbf16>
}

// -----

func.func @lce_grad_block_m(%h: tensor<64x64xbf16>, %w: tensor<1000x64xbf16>, %y: tensor<64xi64>, %l: tensor<64xf32>, %g: tensor<f32>) -> (tensor<64x64xbf16>, tensor<1000x64xbf16>) {
  // expected-error @below {{schedule block_m (48) must be a multiple of 16 x warps / 2 (32) up to 256}}
  %dh, %dw = attn.linear_cross_entropy_grad %h, %w, %y, %l, %g {schedule = #attn.schedule<block_m = 48, block_n = 64, block_d = 32, warps = 4, stages = 2>} : tensor<64x64xbf16>, tensor<1000x64xbf16>, tensor<64xi64>, tensor<64xf32>, tensor<f32> -> tensor<64x64xbf16>, tensor<1000x64xbf16>
  return %dh, %dw : tensor<64x64xbf16>, tensor<1000x64xbf16>
}

// -----

func.func @lce_grad_block_n(%h: tensor<64x64xbf16>, %w: tensor<1000x64xbf16>, %y: tensor<64xi64>, %l: tensor<64xf32>, %g: tensor<f32>) -> (tensor<64x64xbf16>, tensor<1000x64xbf16>) {
  // expected-error @below {{schedule block_n (48) must be a multiple of 32 up to 256: two warps of 16-column pairs across a tile}}
  %dh, %dw = attn.linear_cross_entropy_grad %h, %w, %y, %l, %g {schedule = #attn.schedule<block_m = 64, block_n = 48, block_d = 32, warps = 4, stages = 2>} : tensor<64x64xbf16>, tensor<1000x64xbf16>, tensor<64xi64>, tensor<64xf32>, tensor<f32> -> tensor<64x64xbf16>, tensor<1000x64xbf16>
  return %dh, %dw : tensor<64x64xbf16>, tensor<1000x64xbf16>
}

// -----

func.func @lce_grad_block_d(%h: tensor<64x64xbf16>, %w: tensor<1000x64xbf16>, %y: tensor<64xi64>, %l: tensor<64xf32>, %g: tensor<f32>) -> (tensor<64x64xbf16>, tensor<1000x64xbf16>) {
  // expected-error @below {{schedule block_d (256) must be a multiple of 16 up to 128}}
  %dh, %dw = attn.linear_cross_entropy_grad %h, %w, %y, %l, %g {schedule = #attn.schedule<block_m = 64, block_n = 64, block_d = 256, warps = 4, stages = 2>} : tensor<64x64xbf16>, tensor<1000x64xbf16>, tensor<64xi64>, tensor<64xf32>, tensor<f32> -> tensor<64x64xbf16>, tensor<1000x64xbf16>
  return %dh, %dw : tensor<64x64xbf16>, tensor<1000x64xbf16>
}

// -----

func.func @lce_grad_one_stage(%h: tensor<64x64xbf16>, %w: tensor<1000x64xbf16>, %y: tensor<64xi64>, %l: tensor<64xf32>, %g: tensor<f32>) -> (tensor<64x64xbf16>, tensor<1000x64xbf16>) {
  // expected-error @below {{schedule stages (1) must be at least 2: the steps are double-buffered}}
  %dh, %dw = attn.linear_cross_entropy_grad %h, %w, %y, %l, %g {schedule = #attn.schedule<block_m = 64, block_n = 64, block_d = 32, warps = 4, stages = 1>} : tensor<64x64xbf16>, tensor<1000x64xbf16>, tensor<64xi64>, tensor<64xf32>, tensor<f32> -> tensor<64x64xbf16>, tensor<1000x64xbf16>
  return %dh, %dw : tensor<64x64xbf16>, tensor<1000x64xbf16>
}

// -----

func.func @lce_grad_shared_memory(%h: tensor<64x64xbf16>, %w: tensor<1000x64xbf16>, %y: tensor<64xi64>, %l: tensor<64xf32>, %g: tensor<f32>) -> (tensor<64x64xbf16>, tensor<1000x64xbf16>) {
  // expected-error @below {{schedule tiles need 557072 bytes of shared memory; sm_90a allows 232448 per block}}
  %dh, %dw = attn.linear_cross_entropy_grad %h, %w, %y, %l, %g {schedule = #attn.schedule<block_m = 256, block_n = 256, block_d = 128, warps = 8, stages = 4>} : tensor<64x64xbf16>, tensor<1000x64xbf16>, tensor<64xi64>, tensor<64xf32>, tensor<f32> -> tensor<64x64xbf16>, tensor<1000x64xbf16>
  return %dh, %dw : tensor<64x64xbf16>, tensor<1000x64xbf16>
}

// linear_cross_entropy_grad's tma pipeline: a producer warpgroup beside one
// or two computing ones, 64-deep steps, whole 64-column slabs.
// -----

func.func @lce_grad_tma_sm80(%h: tensor<64x64xbf16>, %w: tensor<1000x64xbf16>, %y: tensor<64xi64>, %l: tensor<64xf32>, %g: tensor<f32>) -> (tensor<64x64xbf16>, tensor<1000x64xbf16>) {
  // expected-error @below {{schedule pipeline "tma" needs sm_90a's TMA and warpgroup MMA; sm_80 has neither}}
  %dh, %dw = attn.linear_cross_entropy_grad %h, %w, %y, %l, %g {schedule = #attn.schedule<block_m = 64, block_n = 64, block_d = 64, warps = 4, stages = 2, pipeline = "tma", chip = "sm_80">} : tensor<64x64xbf16>, tensor<1000x64xbf16>, tensor<64xi64>, tensor<64xf32>, tensor<f32> -> tensor<64x64xbf16>, tensor<1000x64xbf16>
  return %dh, %dw : tensor<64x64xbf16>, tensor<1000x64xbf16>
}

// -----

func.func @lce_grad_tma_pingpong(%h: tensor<64x64xbf16>, %w: tensor<1000x64xbf16>, %y: tensor<64xi64>, %l: tensor<64xf32>, %g: tensor<f32>) -> (tensor<64x64xbf16>, tensor<1000x64xbf16>) {
  // expected-error @below {{schedule pipeline "tma_pingpong" does not apply to linear_cross_entropy_grad: its warpgroups share each product tile, so "tma" is its TMA pipeline}}
  %dh, %dw = attn.linear_cross_entropy_grad %h, %w, %y, %l, %g {schedule = #attn.schedule<block_m = 128, block_n = 64, block_d = 64, warps = 8, stages = 2, pipeline = "tma_pingpong">} : tensor<64x64xbf16>, tensor<1000x64xbf16>, tensor<64xi64>, tensor<64xf32>, tensor<f32> -> tensor<64x64xbf16>, tensor<1000x64xbf16>
  return %dh, %dw : tensor<64x64xbf16>, tensor<1000x64xbf16>
}

// -----

func.func @lce_grad_tma_warps(%h: tensor<64x64xbf16>, %w: tensor<1000x64xbf16>, %y: tensor<64xi64>, %l: tensor<64xf32>, %g: tensor<f32>) -> (tensor<64x64xbf16>, tensor<1000x64xbf16>) {
  // expected-error @below {{schedule warps (2) must be 4 or 8 with pipeline "tma": one or two computing warpgroups}}
  %dh, %dw = attn.linear_cross_entropy_grad %h, %w, %y, %l, %g {schedule = #attn.schedule<block_m = 32, block_n = 64, block_d = 64, warps = 2, stages = 2, pipeline = "tma">} : tensor<64x64xbf16>, tensor<1000x64xbf16>, tensor<64xi64>, tensor<64xf32>, tensor<f32> -> tensor<64x64xbf16>, tensor<1000x64xbf16>
  return %dh, %dw : tensor<64x64xbf16>, tensor<1000x64xbf16>
}

// -----

func.func @lce_grad_tma_block_m(%h: tensor<64x64xbf16>, %w: tensor<1000x64xbf16>, %y: tensor<64xi64>, %l: tensor<64xf32>, %g: tensor<f32>) -> (tensor<64x64xbf16>, tensor<1000x64xbf16>) {
  // expected-error @below {{schedule block_m (64) must be 16 x warps (128) with pipeline "tma": a warpgroup per 64 rows}}
  %dh, %dw = attn.linear_cross_entropy_grad %h, %w, %y, %l, %g {schedule = #attn.schedule<block_m = 64, block_n = 64, block_d = 64, warps = 8, stages = 2, pipeline = "tma">} : tensor<64x64xbf16>, tensor<1000x64xbf16>, tensor<64xi64>, tensor<64xf32>, tensor<f32> -> tensor<64x64xbf16>, tensor<1000x64xbf16>
  return %dh, %dw : tensor<64x64xbf16>, tensor<1000x64xbf16>
}

// -----

func.func @lce_grad_tma_block_d(%h: tensor<64x64xbf16>, %w: tensor<1000x64xbf16>, %y: tensor<64xi64>, %l: tensor<64xf32>, %g: tensor<f32>) -> (tensor<64x64xbf16>, tensor<1000x64xbf16>) {
  // expected-error @below {{schedule block_d (32) must be 64 with pipeline "tma": one 128-byte swizzled slab per step}}
  %dh, %dw = attn.linear_cross_entropy_grad %h, %w, %y, %l, %g {schedule = #attn.schedule<block_m = 64, block_n = 64, block_d = 32, warps = 4, stages = 2, pipeline = "tma">} : tensor<64x64xbf16>, tensor<1000x64xbf16>, tensor<64xi64>, tensor<64xf32>, tensor<f32> -> tensor<64x64xbf16>, tensor<1000x64xbf16>
  return %dh, %dw : tensor<64x64xbf16>, tensor<1000x64xbf16>
}

// -----

func.func @lce_grad_tma_block_n(%h: tensor<64x64xbf16>, %w: tensor<1000x64xbf16>, %y: tensor<64xi64>, %l: tensor<64xf32>, %g: tensor<f32>) -> (tensor<64x64xbf16>, tensor<1000x64xbf16>) {
  // expected-error @below {{schedule block_n (96) must be a multiple of 64 with pipeline "tma": whole 64-column slabs}}
  %dh, %dw = attn.linear_cross_entropy_grad %h, %w, %y, %l, %g {schedule = #attn.schedule<block_m = 64, block_n = 96, block_d = 64, warps = 4, stages = 2, pipeline = "tma">} : tensor<64x64xbf16>, tensor<1000x64xbf16>, tensor<64xi64>, tensor<64xf32>, tensor<f32> -> tensor<64x64xbf16>, tensor<1000x64xbf16>
  return %dh, %dw : tensor<64x64xbf16>, tensor<1000x64xbf16>
}

// -----

func.func @lce_grad_tma_shared_memory(%h: tensor<64x64xbf16>, %w: tensor<1000x64xbf16>, %y: tensor<64xi64>, %l: tensor<64xf32>, %g: tensor<f32>) -> (tensor<64x64xbf16>, tensor<1000x64xbf16>) {
  // expected-error @below {{schedule tiles need 295952 bytes of shared memory; sm_90a allows 232448 per block}}
  %dh, %dw = attn.linear_cross_entropy_grad %h, %w, %y, %l, %g {schedule = #attn.schedule<block_m = 128, block_n = 256, block_d = 64, warps = 8, stages = 6, pipeline = "tma">} : tensor<64x64xbf16>, tensor<1000x64xbf16>, tensor<64xi64>, tensor<64xf32>, tensor<f32> -> tensor<64x64xbf16>, tensor<1000x64xbf16>
  return %dh, %dw : tensor<64x64xbf16>, tensor<1000x64xbf16>
}

// -----

// The tma pipeline (warp specialization) needs sm_90a's TMA.
func.func @tma_pipeline_sm80(%q: tensor<1x2x64x64xbf16>) -> tensor<1x2x64x64xbf16> {
  // expected-error @below {{schedule pipeline "tma" needs sm_90a's TMA and warpgroup MMA; sm_80 has neither}}
  %o = attn.attention %q, %q, %q {schedule = #attn.schedule<block_m = 128, block_n = 64, warps = 8, stages = 2, pipeline = "tma", chip = "sm_80">} : tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16> -> tensor<1x2x64x64xbf16>
  return %o : tensor<1x2x64x64xbf16>
}

// -----

func.func @tma_pipeline_warps(%q: tensor<1x2x64x64xbf16>) -> tensor<1x2x64x64xbf16> {
  // expected-error @below {{schedule warps (16) must be 4 or 8 with pipeline "tma": one or two computing warpgroups}}
  %o = attn.attention %q, %q, %q {schedule = #attn.schedule<block_m = 256, block_n = 64, warps = 16, stages = 2, pipeline = "tma">} : tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16> -> tensor<1x2x64x64xbf16>
  return %o : tensor<1x2x64x64xbf16>
}

// -----

// The diagnostics name the pipeline the schedule asks for.
func.func @tma_pingpong_sm80(%q: tensor<1x2x64x64xbf16>) -> tensor<1x2x64x64xbf16> {
  // expected-error @below {{schedule pipeline "tma_pingpong" needs sm_90a's TMA and warpgroup MMA; sm_80 has neither}}
  %o = attn.attention %q, %q, %q {schedule = #attn.schedule<block_m = 128, block_n = 64, warps = 8, stages = 2, pipeline = "tma_pingpong", chip = "sm_80">} : tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16> -> tensor<1x2x64x64xbf16>
  return %o : tensor<1x2x64x64xbf16>
}

// -----

// Ping-pong alternates two computing warpgroups.
func.func @tma_pingpong_warps(%q: tensor<1x2x64x64xbf16>) -> tensor<1x2x64x64xbf16> {
  // expected-error @below {{schedule warps (4) must be 8 with pipeline "tma_pingpong": two computing warpgroups take turns}}
  %o = attn.attention %q, %q, %q {schedule = #attn.schedule<block_m = 64, block_n = 64, warps = 4, stages = 2, pipeline = "tma_pingpong">} : tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16> -> tensor<1x2x64x64xbf16>
  return %o : tensor<1x2x64x64xbf16>
}

// -----

func.func @tma_pipeline_rows(%q: tensor<1x2x64x64xbf16>) -> tensor<1x2x64x64xbf16> {
  // expected-error @below {{schedule block_m (256) must be 16 x warps with pipeline "tma": a warpgroup per 64 query rows}}
  %o = attn.attention %q, %q, %q {schedule = #attn.schedule<block_m = 256, block_n = 64, warps = 8, stages = 2, pipeline = "tma">} : tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16> -> tensor<1x2x64x64xbf16>
  return %o : tensor<1x2x64x64xbf16>
}

// -----

func.func @tma_pipeline_head_dim(%q: tensor<1x2x64x80xbf16>) -> tensor<1x2x64x80xbf16> {
  // expected-error @below {{schedule pipeline "tma" needs a head dim that is a multiple of 64 (whole 128-byte swizzled slabs), but it is 80}}
  %o = attn.attention %q, %q, %q {schedule = #attn.schedule<block_m = 128, block_n = 64, warps = 8, stages = 2, pipeline = "tma">} : tensor<1x2x64x80xbf16>, tensor<1x2x64x80xbf16>, tensor<1x2x64x80xbf16> -> tensor<1x2x64x80xbf16>
  return %o : tensor<1x2x64x80xbf16>
}

// -----

// Q, three stages of 256-key K and V tiles at head dim 128, and the
// mbarriers exceed the H200's 227 KiB.
func.func @tma_pipeline_shared(%q: tensor<1x2x64x128xbf16>) -> tensor<1x2x64x128xbf16> {
  // expected-error @below {{schedule tiles need 427024 bytes of shared memory; sm_90a allows 232448 per block}}
  %o = attn.attention %q, %q, %q {schedule = #attn.schedule<block_m = 128, block_n = 256, warps = 8, stages = 3, pipeline = "tma">} : tensor<1x2x64x128xbf16>, tensor<1x2x64x128xbf16>, tensor<1x2x64x128xbf16> -> tensor<1x2x64x128xbf16>
  return %o : tensor<1x2x64x128xbf16>
}


// -----

// linear_cross_entropy on the tma pipeline (warp specialization): sm_90a
// only, one or two computing warpgroups, 64-column steps, at most 256
// vocabulary columns per tile, its stages and mbarriers within shared
// memory, and no ping-pong (its warpgroups share each logits tile).
func.func @lce_tma_sm80(%h: tensor<128x128xbf16>, %w: tensor<1000x128xbf16>, %y: tensor<128xi64>) -> tensor<f32> {
  // expected-error @below {{schedule pipeline "tma" needs sm_90a's TMA and warpgroup MMA; sm_80 has neither}}
  %0 = attn.linear_cross_entropy %h, %w, %y {schedule = #attn.schedule<block_m = 128, block_n = 128, block_d = 64, warps = 8, stages = 2, pipeline = "tma", chip = "sm_80">} : tensor<128x128xbf16>, tensor<1000x128xbf16>, tensor<128xi64> -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @lce_tma_warps(%h: tensor<128x128xbf16>, %w: tensor<1000x128xbf16>, %y: tensor<128xi64>) -> tensor<f32> {
  // expected-error @below {{schedule warps (2) must be 4 or 8 with pipeline "tma": one or two computing warpgroups}}
  %0 = attn.linear_cross_entropy %h, %w, %y {schedule = #attn.schedule<block_m = 32, block_n = 128, block_d = 64, warps = 2, stages = 2, pipeline = "tma">} : tensor<128x128xbf16>, tensor<1000x128xbf16>, tensor<128xi64> -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @lce_tma_block_d(%h: tensor<128x128xbf16>, %w: tensor<1000x128xbf16>, %y: tensor<128xi64>) -> tensor<f32> {
  // expected-error @below {{schedule block_d (32) must be 64 with pipeline "tma": one 128-byte swizzled slab per step}}
  %0 = attn.linear_cross_entropy %h, %w, %y {schedule = #attn.schedule<block_m = 128, block_n = 128, block_d = 32, warps = 8, stages = 2, pipeline = "tma">} : tensor<128x128xbf16>, tensor<1000x128xbf16>, tensor<128xi64> -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @lce_tma_block_n(%h: tensor<128x128xbf16>, %w: tensor<1000x128xbf16>, %y: tensor<128xi64>) -> tensor<f32> {
  // expected-error @below {{schedule block_n (320) must be at most 256 with pipeline "tma": the TMA box and wgmma's N}}
  %0 = attn.linear_cross_entropy %h, %w, %y {schedule = #attn.schedule<block_m = 64, block_n = 320, block_d = 64, warps = 4, stages = 2, pipeline = "tma">} : tensor<128x128xbf16>, tensor<1000x128xbf16>, tensor<128xi64> -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @lce_tma_pingpong(%h: tensor<128x128xbf16>, %w: tensor<1000x128xbf16>, %y: tensor<128xi64>) -> tensor<f32> {
  // expected-error @below {{schedule pipeline "tma_pingpong" does not apply to linear_cross_entropy: its warpgroups share each tile, so "tma" is its TMA pipeline}}
  %0 = attn.linear_cross_entropy %h, %w, %y {schedule = #attn.schedule<block_m = 128, block_n = 128, block_d = 64, warps = 8, stages = 2, pipeline = "tma_pingpong">} : tensor<128x128xbf16>, tensor<1000x128xbf16>, tensor<128xi64> -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

// Five stages of 128-row hidden and 256-row weight chunks (48 KiB each),
// the alignment room and the mbarriers exceed the H200's 227 KiB.
func.func @lce_tma_shared(%h: tensor<128x128xbf16>, %w: tensor<1000x128xbf16>, %y: tensor<128xi64>) -> tensor<f32> {
  // expected-error @below {{schedule tiles need 246800 bytes of shared memory; sm_90a allows 232448 per block}}
  %0 = attn.linear_cross_entropy %h, %w, %y {schedule = #attn.schedule<block_m = 128, block_n = 256, block_d = 64, warps = 8, stages = 5, pipeline = "tma">} : tensor<128x128xbf16>, tensor<1000x128xbf16>, tensor<128xi64> -> tensor<f32>
  return %0 : tensor<f32>
}
