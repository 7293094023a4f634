// attn-select-schedule trusts a learned model only on the shapes it was
// trained on: its trained domain (<model>.domain.json beside it) bounds, per
// op, shape features of the training shapes with a margin. An op outside
// keeps the hand-written default schedule (nothing is attached, as with
// model=none) and the report says why; guard=0 attaches the model's pick.

// The test model select-h200.json beside guarded.domain.json: the attention
// and linear cross-entropy ranges of the H200 dataset, no softmax family.
// RUN: rm -rf %t && mkdir -p %t
// RUN: cp %S/Inputs/select-h200.json %t/guarded.json
// RUN: cp %S/Inputs/guarded.domain.json %t/guarded.domain.json
// RUN: attn-opt %s --pass-pipeline='builtin.module(attn-select-schedule{chip=h200-sxm model=%t/guarded.json})' | FileCheck %s
// RUN: attn-opt %s --pass-pipeline='builtin.module(attn-select-schedule{chip=h200-sxm model=%t/guarded.json report=1 top=1})' -o /dev/null 2>&1 | FileCheck %s --check-prefix=REPORT
// RUN: attn-opt %s --pass-pipeline='builtin.module(attn-select-schedule{chip=h200-sxm model=%t/guarded.json guard=0})' | FileCheck %s --check-prefix=NOGUARD
// RUN: attn-opt %s --pass-pipeline='builtin.module(attn-select-schedule{chip=h200-sxm model=%t/guarded.json guard=0 report=1 top=1})' -o /dev/null 2>&1 | FileCheck %s --check-prefix=NOGUARD-REPORT
// RUN: attn-tune rank %s --chip h200-sxm --model %t/guarded.json --top 1 | FileCheck %s --check-prefix=RANK
// The shipped H200 model and its domain (models/h200-sxm.domain.json):
// attention of the training grid's size is inside, an f32 input (never
// measured) is not.
// RUN: attn-opt %s --pass-pipeline='builtin.module(attn-select-schedule{chip=h200-sxm report=1 top=1})' -o /dev/null 2>&1 | FileCheck %s --check-prefix=SHIPPED

// Inside: the model's pick is attached.
// CHECK-LABEL: func.func @attention_inside
// CHECK: attn.attention {{.*}}schedule = #attn.schedule<{{.*}}chip = "h200-sxm"
// REPORT: attn-select-schedule-domain.mlir:[[@LINE+5]]:8: remark: attn-select-schedule: {{[0-9]+}} candidates scored by learned (reg:squarederror) {{.*}}guarded.json in
// SHIPPED: attn-select-schedule-domain.mlir:[[@LINE+4]]:8: remark: attn-select-schedule: {{[0-9]+}} candidates scored by learned ({{.*}}) {{.*}}h200-sxm.json in
// RANK: # @attention_inside op 0 attn.attention on h200-sxm: {{[0-9]+}} candidates ranked by
// RANK-NEXT: @attention_inside 1 #attn.schedule<
func.func @attention_inside(%q: tensor<2x8x1024x192xbf16>, %k: tensor<2x8x1024x192xbf16>, %v: tensor<2x8x1024x192xbf16>) -> tensor<2x8x1024x192xbf16> {
  %o = attn.attention %q, %k, %v {causal} : tensor<2x8x1024x192xbf16>, tensor<2x8x1024x192xbf16>, tensor<2x8x1024x192xbf16> -> tensor<2x8x1024x192xbf16>
  return %o : tensor<2x8x1024x192xbf16>
}

// The benchmark's linear cross-entropy: 4.4x the FLOPs of the largest
// trained shape, beyond the margin of 2x. The default applies.
// CHECK-LABEL: func.func @lce_benchmark
// CHECK: attn.linear_cross_entropy %{{.*}}, %{{.*}}, %{{.*}} : tensor<8192x2304xbf16>
// REPORT: attn-select-schedule-domain.mlir:[[@LINE+7]]:8: remark: attn-select-schedule: the hand-written default schedule #attn.schedule<block_m = 128, block_n = 256, block_d = 64, warps = 8, stages = 4, split = 35, pipeline = "tma", chip = "h200-sxm"> applies: the op lies outside the cost model's trained domain (trained on 37 shapes of linear_cross_entropy: log_flops 43.14 > max 40.97 + margin 1.00, log_unfused_bytes 35.59 > max 34.58 + margin 1.00); the model's ranking, not used: {{[0-9]+}} candidates scored by learned (reg:squarederror) {{.*}}guarded.json in
// REPORT-NEXT: #1 #attn.schedule<
// NOGUARD-LABEL: func.func @lce_benchmark
// NOGUARD: attn.linear_cross_entropy {{.*}}schedule = #attn.schedule<
// NOGUARD-REPORT: attn-select-schedule-domain.mlir:[[@LINE+3]]:8: remark: attn-select-schedule: the op lies outside the cost model's trained domain (trained on 37 shapes of linear_cross_entropy: log_flops 43.14 > max 40.97 + margin 1.00, log_unfused_bytes 35.59 > max 34.58 + margin 1.00), but guard=0: the model's pick applies; {{[0-9]+}} candidates scored by
// RANK: # outside the trained domain (trained on 37 shapes of linear_cross_entropy: log_flops 43.14 > max 40.97 + margin 1.00, log_unfused_bytes 35.59 > max 34.58 + margin 1.00): attn-select-schedule keeps the default #attn.schedule<block_m = 128, block_n = 256, block_d = 64, warps = 8, stages = 4, split = 35, pipeline = "tma", chip = "h200-sxm">
func.func @lce_benchmark(%h: tensor<8192x2304xbf16>, %w: tensor<256000x2304xbf16>, %y: tensor<8192xi64>) -> tensor<f32> {
  %l = attn.linear_cross_entropy %h, %w, %y : tensor<8192x2304xbf16>, tensor<256000x2304xbf16>, tensor<8192xi64> -> tensor<f32>
  return %l : tensor<f32>
}

// Small in every dimension: below the trained ranges.
// CHECK-LABEL: func.func @attention_tiny
// CHECK: attn.attention %{{.*}}, %{{.*}}, %{{.*}} : tensor<1x1x16x16xbf16>
// REPORT: attn-select-schedule-domain.mlir:[[@LINE+2]]:8: remark: attn-select-schedule: the hand-written default schedule #attn.schedule<{{.*}}> applies: the op lies outside the cost model's trained domain (trained on 164 shapes of attention: log_d 4.09 < min 6.02 - margin 1.00, log_flops 14.00 < min 23.00 - margin 1.00, log_n 4.09 < min 7.01 - margin 1.00, log_unfused_bytes {{.*}} < min 23.17 - margin 1.00); the model's ranking, not used:
func.func @attention_tiny(%q: tensor<1x1x16x16xbf16>, %k: tensor<1x1x16x16xbf16>, %v: tensor<1x1x16x16xbf16>) -> tensor<1x1x16x16xbf16> {
  %o = attn.attention %q, %k, %v : tensor<1x1x16x16xbf16>, tensor<1x1x16x16xbf16>, tensor<1x1x16x16xbf16> -> tensor<1x1x16x16xbf16>
  return %o : tensor<1x1x16x16xbf16>
}

// An op the domain has no shape of.
// CHECK-LABEL: func.func @softmax_untrained
// CHECK: attn.softmax %{{.*}}, dim = 1 : tensor<4096x32768xbf16>
// REPORT: attn-select-schedule-domain.mlir:[[@LINE+4]]:8: remark: attn-select-schedule: the hand-written default schedule #attn.schedule<{{.*}}> applies: the op lies outside the cost model's trained domain (trained on no softmax shape); the model's ranking, not used:
// NOGUARD-LABEL: func.func @softmax_untrained
// NOGUARD: attn.softmax {{.*}}schedule = #attn.schedule<
func.func @softmax_untrained(%x: tensor<4096x32768xbf16>) -> tensor<4096x32768xbf16> {
  %r = attn.softmax %x, dim = 1 : tensor<4096x32768xbf16> -> tensor<4096x32768xbf16>
  return %r : tensor<4096x32768xbf16>
}

// A flag admits no margin: every trained shape had bf16 inputs.
// CHECK-LABEL: func.func @softmax_f32
// CHECK: attn.softmax %{{.*}}, dim = 1 : tensor<4096x4096xf32>
// SHIPPED: attn-select-schedule-domain.mlir:[[@LINE+2]]:8: remark: attn-select-schedule: the hand-written default schedule #attn.schedule<block_m = 1, block_n = 4096, chip = "h200-sxm"> applies: the op lies outside the cost model's trained domain (trained on {{[0-9]+}} shapes of softmax, log_softmax, logsumexp: elem_bytes 4.00 > max 2.00); the model's ranking, not used:
func.func @softmax_f32(%x: tensor<4096x4096xf32>) -> tensor<4096x4096xf32> {
  %r = attn.softmax %x, dim = 1 : tensor<4096x4096xf32> -> tensor<4096x4096xf32>
  return %r : tensor<4096x4096xf32>
}

// A user-written schedule is neither replaced nor checked.
// CHECK-LABEL: func.func @pinned
// CHECK: schedule = #attn.schedule<block_m = 128, block_n = 128, block_d = 64, warps = 8, stages = 3, split = 16, chip = "h200-sxm">
// REPORT-NOT: attn-select-schedule-domain.mlir:[[@LINE+2]]
func.func @pinned(%h: tensor<8192x2304xbf16>, %w: tensor<256000x2304xbf16>, %y: tensor<8192xi64>) -> tensor<f32> {
  %l = attn.linear_cross_entropy %h, %w, %y {schedule = #attn.schedule<block_m = 128, block_n = 128, block_d = 64, warps = 8, stages = 3, split = 16, chip = "h200-sxm">} : tensor<8192x2304xbf16>, tensor<256000x2304xbf16>, tensor<8192xi64> -> tensor<f32>
  return %l : tensor<f32>
}
