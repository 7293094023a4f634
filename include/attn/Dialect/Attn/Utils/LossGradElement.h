//===- LossGradElement.h - d loss / d logit of one element ------*- C++ -*-===//
//
// The one statement of the cross-entropy gradient with respect to one
// logit, on scalar f32 values: attn-decompose (cross_entropy_grad),
// attn-tile (the Cut-Cross-Entropy backward) and the GPU row kernel of
// cross_entropy_grad build it inside their own loop bodies.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_ATTN_UTILS_LOSSGRADELEMENT_H
#define ATTN_DIALECT_ATTN_UTILS_LOSSGRADELEMENT_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/Builders.h"

#include <optional>

namespace mlir::attn {

/// What the derivative of the per-token loss with respect to one logit
/// reads besides the element: the loss op's attributes and eps / V.
struct LossGradSpec {
  int64_t ignoreIndex;
  double labelSmoothing;
  double zLoss;
  std::optional<double> softcap;
  Value smoothingOverV; // eps / V as an f32 value; null when eps is 0
  /// linear_cross_entropy_grad's grad_filter: elements of d loss / d logit
  /// below it in magnitude are taken as 0.
  std::optional<double> filter = std::nullopt;
};

/// Whether the integer `label` is `ignoreIndex`.
inline Value isIgnoredLabel(OpBuilder &b, Location loc, Value label,
                            int64_t ignoreIndex) {
  return arith::CmpIOp::create(
      b, loc, arith::CmpIPredicate::eq, label,
      arith::ConstantOp::create(
          b, loc, b.getIntegerAttr(label.getType(), ignoreIndex)));
}

/// upstream * d loss[n] / d logits[n, v] for one element, in f32, and 0 for
/// an ignored token. `logit` is the raw logit in f32 (before soft-capping),
/// `column` the class index v in the labels' integer type, `lse` and
/// `upstream` the token's.
///   d loss / d z_v = p_v (1 + 2 z_loss lse) - (1 - eps) [v == y] - eps / V
///   d z / d logit  = 1 - (z / cap)^2                   (soft-capping)
/// and, with a filter, 0 where |d loss / d logit| < filter.
inline Value buildLossGradElement(OpBuilder &b, Location loc,
                                  const LossGradSpec &spec, Value logit,
                                  Value label, Value column, Value lse,
                                  Value upstream) {
  auto f32 = [&](double v) {
    return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v));
  };
  Value z = logit;
  if (spec.softcap) {
    Value c = f32(*spec.softcap);
    z = arith::MulFOp::create(
        b, loc, c,
        math::TanhOp::create(b, loc, arith::DivFOp::create(b, loc, z, c)));
  }
  Value d = math::ExpOp::create(b, loc, arith::SubFOp::create(b, loc, z, lse));
  if (spec.zLoss != 0.0)
    d = arith::MulFOp::create(
        b, loc, d,
        arith::AddFOp::create(
            b, loc, f32(1.0),
            arith::MulFOp::create(b, loc, f32(2.0 * spec.zLoss), lse)));
  if (spec.labelSmoothing != 1.0) {
    Value hit =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, column, label);
    d = arith::SubFOp::create(
        b, loc, d,
        arith::SelectOp::create(b, loc, hit, f32(1.0 - spec.labelSmoothing),
                                f32(0.0)));
  }
  if (spec.smoothingOverV)
    d = arith::SubFOp::create(b, loc, d, spec.smoothingOverV);
  if (spec.softcap) {
    Value t = arith::DivFOp::create(b, loc, z, f32(*spec.softcap));
    d = arith::MulFOp::create(
        b, loc, d,
        arith::SubFOp::create(b, loc, f32(1.0),
                              arith::MulFOp::create(b, loc, t, t)));
  }
  if (spec.filter)
    d = arith::SelectOp::create(
        b, loc,
        arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT,
                              math::AbsFOp::create(b, loc, d),
                              f32(*spec.filter)),
        f32(0.0), d);
  d = arith::MulFOp::create(b, loc, d, upstream);
  return arith::SelectOp::create(
      b, loc, isIgnoredLabel(b, loc, label, spec.ignoreIndex), f32(0.0), d);
}

} // namespace mlir::attn

#endif // ATTN_DIALECT_ATTN_UTILS_LOSSGRADELEMENT_H
