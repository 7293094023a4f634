//===- StaticShape.h - static sizes of attn operands -------------*- C++ -*-===//
//
// Small helpers the schedule checks, the plans and the tuning policy share
// to read static sizes.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_ATTN_UTILS_STATICSHAPE_H
#define ATTN_DIALECT_ATTN_UTILS_STATICSHAPE_H

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Value.h"

namespace mlir::attn {

/// Dim `dim` of shaped value `v`, or `fallback` when it is dynamic.
inline int64_t staticDimOr(Value v, unsigned dim, int64_t fallback) {
  int64_t d = cast<ShapedType>(v.getType()).getDimSize(dim);
  return ShapedType::isDynamic(d) ? fallback : d;
}

/// ceil(a / b) for a >= 0, b > 0.
inline int64_t ceilDiv(int64_t a, int64_t b) { return a / b + (a % b != 0); }

} // namespace mlir::attn

#endif // ATTN_DIALECT_ATTN_UTILS_STATICSHAPE_H
