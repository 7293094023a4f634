// attn-select-schedule: every attn op without a schedule gets the one the
// cost model scores cheapest among the legal candidates; a user-written
// schedule is kept.

// RUN: attn-opt %s --pass-pipeline='builtin.module(attn-select-schedule{chip=h200-sxm model=analytic})' | FileCheck %s
// RUN: attn-opt %s --pass-pipeline='builtin.module(attn-select-schedule{chip=h200-sxm model=analytic report=1 top=2})' -o /dev/null 2>&1 | FileCheck %s --check-prefix=REPORT
// RUN: attn-opt %s --pass-pipeline='builtin.module(attn-select-schedule{chip=h200-sxm model=%S/Inputs/select-h200.json report=1 top=1})' -o /dev/null 2>&1 | FileCheck %s --check-prefix=LEARNED
// A log2(time / roofline) model that predicts 0 everywhere costs each
// candidate exactly its roofline time over utilization: the same ranking and
// predicted times as model=analytic.
// RUN: attn-opt %s --pass-pipeline='builtin.module(attn-select-schedule{chip=h200-sxm model=analytic report=1 top=3})' -o /dev/null 2>&1 | grep '#[0-9] #attn' > %t.analytic
// RUN: attn-opt %s --pass-pipeline='builtin.module(attn-select-schedule{chip=h200-sxm model=%S/Inputs/select-ratio-constant.json report=1 top=3})' -o /dev/null 2>&1 | grep '#[0-9] #attn' > %t.ratio
// RUN: diff %t.analytic %t.ratio
// RUN: FileCheck %s --check-prefix=RATIO --input-file=%t.ratio
// RATIO: #1 #attn.schedule<{{.*}}>: predicted {{[0-9.]+}} us
// RATIO: #3 #attn.schedule<{{.*}}>: predicted {{[0-9.]+}} us
// A chip no model ships for, with model=auto: nothing is attached (the
// defaults apply later), and the report says so.
// RUN: attn-opt %s --pass-pipeline='builtin.module(attn-select-schedule{chip=sm_80 report=1})' 2>&1 | FileCheck %s --check-prefix=NOMODEL

// CHECK-LABEL: func.func @attention
// CHECK: attn.attention {{.*}}schedule = #attn.schedule<{{.*}}chip = "h200-sxm"
// REPORT: remark: attn-select-schedule: {{[0-9]+}} candidates scored by analytic in {{[0-9.]+}} ms
// REPORT-NEXT: #1 #attn.schedule<{{.*}}>: predicted {{[0-9.]+}} us (roofline {{[0-9.]+}} us, {{[0-9.]+}} waves, {{[0-9]+}} B shared, {{[0-9]+}} threads)
// REPORT-NEXT: #2 #attn.schedule<{{.*}}>: predicted
// LEARNED: remark: attn-select-schedule: {{[0-9]+}} candidates scored by learned (reg:squarederror) {{.*}}select-h200.json in
// LEARNED-NEXT: #1 #attn.schedule<{{.*}}>: predicted {{[0-9.]+}} us
// NOMODEL: remark: attn-select-schedule: no cost model ships for chip 'sm_80'; the hand-written default schedule applies
// NOMODEL: attn.attention %arg0, %arg1, %arg2 {causal} : 
func.func @attention(%q: tensor<2x8x1024x192xbf16>, %k: tensor<2x8x1024x192xbf16>,
                     %v: tensor<2x8x1024x192xbf16>) -> tensor<2x8x1024x192xbf16> {
  %o = attn.attention %q, %k, %v {causal} : tensor<2x8x1024x192xbf16>, tensor<2x8x1024x192xbf16>, tensor<2x8x1024x192xbf16> -> tensor<2x8x1024x192xbf16>
  return %o : tensor<2x8x1024x192xbf16>
}

// CHECK-LABEL: func.func @softmax
// CHECK: attn.softmax {{.*}}schedule = #attn.schedule<{{.*}}chip = "h200-sxm"
// REPORT: remark: attn-select-schedule: {{[0-9]+}} candidates scored by analytic
func.func @softmax(%x: tensor<4096x32768xbf16>) -> tensor<4096x32768xbf16> {
  %r = attn.softmax %x, dim = 1 : tensor<4096x32768xbf16> -> tensor<4096x32768xbf16>
  return %r : tensor<4096x32768xbf16>
}

// CHECK-LABEL: func.func @linear_cross_entropy
// CHECK: attn.linear_cross_entropy {{.*}}schedule = #attn.schedule<{{.*}}chip = "h200-sxm"
// REPORT: remark: attn-select-schedule: {{[0-9]+}} candidates scored by analytic
func.func @linear_cross_entropy(%h: tensor<4096x2048xbf16>, %w: tensor<65536x2048xbf16>,
                                %y: tensor<4096xi64>) -> tensor<f32> {
  %l = attn.linear_cross_entropy %h, %w, %y : tensor<4096x2048xbf16>, tensor<65536x2048xbf16>, tensor<4096xi64> -> tensor<f32>
  return %l : tensor<f32>
}

// A user-written schedule is never replaced, and is not reported.
// CHECK-LABEL: func.func @pinned
// CHECK: schedule = #attn.schedule<block_m = 1, block_n = 1000, warps = 1, chip = "h200-sxm">
// REPORT-NOT: attn-select-schedule.mlir:[[@LINE+2]]
func.func @pinned(%x: tensor<64x1000xbf16>) -> tensor<64x1000xbf16> {
  %r = attn.softmax %x, dim = 1 {schedule = #attn.schedule<block_m = 1, block_n = 1000, warps = 1, chip = "h200-sxm">} : tensor<64x1000xbf16> -> tensor<64x1000xbf16>
  return %r : tensor<64x1000xbf16>
}

// Dynamic shapes: nothing to choose; the default applies later.
// REPORT: attn-select-schedule.mlir:[[@LINE+4]]:8: remark: attn-select-schedule: nothing to choose (no candidate has features: not an attn op on static shapes); the default schedule applies
// CHECK-LABEL: func.func @dynamic
// CHECK: attn.softmax %{{.*}}, dim = 1 : tensor<?x1000xbf16>
func.func @dynamic(%x: tensor<?x1000xbf16>) -> tensor<?x1000xbf16> {
  %r = attn.softmax %x, dim = 1 : tensor<?x1000xbf16> -> tensor<?x1000xbf16>
  return %r : tensor<?x1000xbf16>
}

// Head dim 128 on the H200: the default is the TMA pipeline with
// ping-pong; the model ranks it among the cp.async loop's and the
// cooperative TMA pipeline's schedules (features pipeline_tma and
// pipeline_pingpong), and the report shows TMA candidates.
// CHECK-LABEL: func.func @attention_tma_default
// CHECK: attn.attention {{.*}}schedule = #attn.schedule<{{.*}}chip = "h200-sxm"
// REPORT: attn-select-schedule.mlir:[[@LINE+6]]:8: remark: attn-select-schedule: {{[0-9]+}} candidates scored by analytic
// RUN: attn-opt %s --pass-pipeline='builtin.module(attn-select-schedule{chip=h200-sxm model=analytic report=1 top=100000})' -o /dev/null 2>&1 \
// RUN:   | FileCheck %s --check-prefix=PIPELINES
// PIPELINES: pipeline = "tma"
// PIPELINES: pipeline = "tma_pingpong"
func.func @attention_tma_default(%q: tensor<2x8x1024x128xbf16>, %k: tensor<2x8x1024x128xbf16>, %v: tensor<2x8x1024x128xbf16>) -> tensor<2x8x1024x128xbf16> {
  %o = attn.attention %q, %k, %v : tensor<2x8x1024x128xbf16>, tensor<2x8x1024x128xbf16>, tensor<2x8x1024x128xbf16> -> tensor<2x8x1024x128xbf16>
  return %o : tensor<2x8x1024x128xbf16>
}

// The attention backward has features too (op_attention_grad): its
// schedules are ranked like the forward's.
// CHECK-LABEL: func.func @attention_grad
// CHECK: attn.attention_grad {{.*}}schedule = #attn.schedule<{{.*}}chip = "h200-sxm"
// REPORT: attn-select-schedule.mlir:[[@LINE+2]]:19: remark: attn-select-schedule: {{[0-9]+}} candidates scored by analytic
func.func @attention_grad(%q: tensor<1x8x512x64xbf16>, %k: tensor<1x2x512x64xbf16>, %v: tensor<1x2x512x64xbf16>, %o: tensor<1x8x512x64xbf16>, %lse: tensor<1x8x512xf32>, %do: tensor<1x8x512x64xbf16>) -> (tensor<1x8x512x64xbf16>, tensor<1x2x512x64xbf16>, tensor<1x2x512x64xbf16>) {
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do {causal} : tensor<1x8x512x64xbf16>, tensor<1x2x512x64xbf16>, tensor<1x2x512x64xbf16>, tensor<1x8x512x64xbf16>, tensor<1x8x512xf32>, tensor<1x8x512x64xbf16> -> tensor<1x8x512x64xbf16>, tensor<1x2x512x64xbf16>, tensor<1x2x512x64xbf16>
  return %dq, %dk, %dv : tensor<1x8x512x64xbf16>, tensor<1x2x512x64xbf16>, tensor<1x2x512x64xbf16>
}
