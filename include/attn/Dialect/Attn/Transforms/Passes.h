//===- Passes.h - attn dialect transformation passes ------------*- C++ -*-===//
//
// Declares the passes of the attn dialect and the pattern sets behind them,
// so that other compilers can reuse the rewrites without the passes.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_ATTN_TRANSFORMS_PASSES_H
#define ATTN_DIALECT_ATTN_TRANSFORMS_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"

namespace mlir {
class RewritePatternSet;

namespace attn {

#define GEN_PASS_DECL
#include "attn/Dialect/Attn/Transforms/Passes.h.inc"

/// Adds the patterns that rewrite each attn op into materialized linalg.
void populateAttnDecomposePatterns(RewritePatternSet &patterns);

/// Adds the patterns that tile each attn op into its IO-aware loop form,
/// following the op's schedule (or the default one).
void populateAttnTilePatterns(RewritePatternSet &patterns);

/// Adds the patterns that raise unfused attention, softmax, log-softmax and
/// cross-entropy computations into attn ops.
void populateAttnFusePatterns(RewritePatternSet &patterns);

#define GEN_PASS_REGISTRATION
#include "attn/Dialect/Attn/Transforms/Passes.h.inc"

} // namespace attn
} // namespace mlir

#endif // ATTN_DIALECT_ATTN_TRANSFORMS_PASSES_H
