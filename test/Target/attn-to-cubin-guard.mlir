// attn-to-cubin forwards `guard` to attn-select-schedule: by default ops
// outside the cost model's trained domain keep the hand-written default;
// guard=0 lets the model's pick apply to them too (what the guard itself
// does is tested in test/CostModel/attn-select-schedule-domain.mlir).
// RUN: attn-opt %s --attn-to-cubin="chip=h200-sxm package-dir=%t.default assemble=0" --dump-pass-pipeline -o /dev/null 2>&1 | FileCheck %s --check-prefix=GUARD
// RUN: attn-opt %s --attn-to-cubin="chip=h200-sxm guard=0 package-dir=%t.noguard assemble=0" --dump-pass-pipeline -o /dev/null 2>&1 | FileCheck %s --check-prefix=NOGUARD
// GUARD: attn-select-schedule{chip=h200-sxm guard=true model=auto
// NOGUARD: attn-select-schedule{chip=h200-sxm guard=false model=auto
func.func @nothing() {
  return
}
