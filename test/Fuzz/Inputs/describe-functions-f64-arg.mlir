// Found by tools/attn-fuzz (seed 1, mutant 12: attn-fuse.mlir's
// cross_entropy_bf16 with bf16 -> f64). attn-describe-functions (and so
// attn-to-cubin) crashes with SIGSEGV in TensorArgAttr::get on any public
// function when the input holds no attn op: the attn dialect is then not
// loaded, and the pass did not list it as a dependent dialect. Fixed: the
// pass now depends on the attn dialect; this input must run clean.
//   attn-opt describe-functions-f64-arg.mlir --attn-describe-functions
func.func @f(%x: tensor<4xf64>) -> tensor<4xf64> {
  return %x : tensor<4xf64>
}
