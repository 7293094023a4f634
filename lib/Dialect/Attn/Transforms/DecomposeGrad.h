//===- DecomposeGrad.h - attn-decompose's gradient patterns -----*- C++ -*-===//
//
// The decompositions of the gradient ops, added to attn-decompose's pattern
// set by populateAttnDecomposePatterns. Internal to the Transforms library.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LIB_DIALECT_ATTN_TRANSFORMS_DECOMPOSEGRAD_H
#define ATTN_LIB_DIALECT_ATTN_TRANSFORMS_DECOMPOSEGRAD_H

#include "mlir/IR/PatternMatch.h"

namespace mlir::attn::detail {

/// The gradient ops (softmax family, cross-entropy, linear cross-entropy,
/// attention) to linalg.generic on tensors.
void populateDecomposeGradPatterns(RewritePatternSet &patterns);

} // namespace mlir::attn::detail

#endif // ATTN_LIB_DIALECT_ATTN_TRANSFORMS_DECOMPOSEGRAD_H
