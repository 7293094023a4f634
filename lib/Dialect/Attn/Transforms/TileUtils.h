//===- TileUtils.h - shared pieces of the attn-tile rewrites ----*- C++ -*-===//
//
// Slicing tiles out of tensors, the running state of an online softmax
// (row max and sum of exponentials), and the patterns of each op.
// Internal to the Transforms library.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LIB_DIALECT_ATTN_TRANSFORMS_TILEUTILS_H
#define ATTN_LIB_DIALECT_ATTN_TRANSFORMS_TILEUTILS_H

#include "GenericBuilder.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::attn::detail {

/// `tensor.extract_slice` of `source` (unit strides) that keeps only the
/// dims listed in `kept` (the others must have size 1).
Value extractTile(OpBuilder &b, Location loc, Value source,
                  ArrayRef<OpFoldResult> offsets, ArrayRef<OpFoldResult> sizes,
                  ArrayRef<unsigned> kept);

/// `tensor.parallel_insert_slice` of `tile` into `dest` (unit strides), at
/// the current insertion point (inside an scf.forall.in_parallel).
void parallelInsertTile(OpBuilder &b, Location loc, Value tile, Value dest,
                        ArrayRef<OpFoldResult> offsets,
                        ArrayRef<OpFoldResult> sizes);

/// The running state of an online softmax over the columns of a [rows, cols]
/// tile sequence (Milakov and Gimelshein): the row max and the sum of
/// exp(x - max), both [rows] f32.
struct OnlineSoftmaxState {
  Value max;
  Value sum;
};

/// Folds the f32 tile `x` [rows, cols] into `state`: the new max, the sum
/// rescaled by exp(old max - new max) plus this tile's exponentials. With
/// `base2`, exponentials are exp2 (x is already in log2 units). Also returns
/// the rescaling factor alpha [rows] and, when `probabilities` is non-null,
/// the tile exp(x - new max) [rows, cols].
OnlineSoftmaxState foldTile(GenericBuilder &gb, OnlineSoftmaxState state,
                            Value x, ArrayRef<OpFoldResult> tileSizes,
                            bool base2, Value *alpha, Value *probabilities);

void populateTileAttentionPatterns(RewritePatternSet &patterns);
void populateTileAttentionGradPatterns(RewritePatternSet &patterns);
void populateTileSoftmaxPatterns(RewritePatternSet &patterns);
void populateTileLossPatterns(RewritePatternSet &patterns);

} // namespace mlir::attn::detail

#endif // ATTN_LIB_DIALECT_ATTN_TRANSFORMS_TILEUTILS_H
