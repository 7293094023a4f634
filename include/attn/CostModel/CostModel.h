//===- CostModel.h - scoring schedules without running them ------*- C++ -*-===//
//
// A cost model ranks the legal schedules of an op on a chip from their
// features (Features.h): the learned model (an XGBoost tree ensemble trained
// by tools/attn-tune/train.py on times measured on that chip, read by
// TreeEnsemble) or the analytic roofline model. `attn-select-schedule` and
// `attn-tune` use it; docs/CostModel.md describes both and how well each
// picks.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_COSTMODEL_COSTMODEL_H
#define ATTN_COSTMODEL_COSTMODEL_H

#include "attn/CostModel/TrainedDomain.h"
#include "attn/CostModel/TreeEnsemble.h"
#include "attn/Dialect/Attn/IR/AttnDialect.h"
#include "attn/Target/Target.h"

#include "mlir/IR/Operation.h"
#include "llvm/Support/Error.h"

#include <memory>
#include <optional>
#include <string>

namespace mlir::attn {

class CostModel {
public:
  /// Analytic: the roofline over utilization. Rank: -score of a
  /// rank:pairwise model. LogTime: 2^prediction, a regression on log2 us.
  /// LogRatio: 2^prediction x the candidate's roofline time, a regression on
  /// log2(time / roofline) (tools/attn-tune/metrics.py, TARGETS).
  enum class Kind { Analytic, Rank, LogTime, LogRatio };

  /// Loads a model written by tools/attn-tune/train.py and checks that it
  /// was trained for `chip` (its name or alias), on this compiler's feature
  /// list (version and names), with a known target; then its trained
  /// domain beside it (domainPathFor(path)), which must be for the same
  /// chip, feature version and dataset. Every failure is an error naming
  /// `path` (and the domain file's path for its own).
  static llvm::Expected<CostModel> loadLearned(llvm::StringRef path,
                                               const ChipInfo &chip);

  /// The roofline time (bytes at the measured copy rate, FLOPs at the
  /// measured matmul rate) divided by the SMs' utilization in the last
  /// wave: no training, no file.
  static CostModel analytic();

  /// The cost of a candidate from its features (lower is better): a
  /// predicted time in microseconds for the analytic and regression
  /// models, the negated ranking score for a ranking model.
  double cost(ArrayRef<double> features) const;
  /// cost() of each feature vector into `out` (same size), identical
  /// values, faster for many candidates (TreeEnsemble::predictBatch).
  void costs(ArrayRef<ArrayRef<double>> features,
             MutableArrayRef<double> out) const;

  /// Whether cost() is a time in microseconds.
  bool predictsTime() const { return kind != Kind::Rank; }

  /// "analytic", or "learned (rank:pairwise) <path>".
  std::string describe() const;

  /// Why `op` lies outside the shapes the learned model was trained on
  /// (TrainedDomain.h), checked on the features of the op's default
  /// schedule on `chip`; nullopt when it lies inside, for the analytic
  /// model (trained on nothing), and when the default has no features
  /// (dynamic shapes: rankSchedules has nothing to rank either).
  std::optional<std::string>
  whyOutsideTrainedDomain(Operation *op, const ChipInfo &chip) const;

private:
  CostModel(Kind kind, std::shared_ptr<TreeEnsemble> trees,
            std::shared_ptr<TrainedDomain> domain, std::string path)
      : kind(kind), trees(std::move(trees)), domain(std::move(domain)),
        path(std::move(path)) {}

  Kind kind;
  std::shared_ptr<TreeEnsemble> trees;
  std::shared_ptr<TrainedDomain> domain;
  std::string path;
};

/// The model that ships for `chip` (models/<name>.json, or under its
/// alias), searched in $ATTN_MODEL_DIR, beside the installed programs
/// (<prefix>/share/attn-mlir/models) and in the source tree; nullopt when
/// none ships.
std::optional<std::string> findShippedModel(const ChipInfo &chip);

/// Resolves a `model` option: "analytic", "auto" (the shipped model of the
/// chip, or nullopt when none ships: the hand-written defaults apply),
/// "none" (nullopt: the defaults) or a path. Errors name the path.
llvm::Expected<std::optional<CostModel>>
resolveCostModel(llvm::StringRef option, const ChipInfo &chip);

/// One scored candidate.
struct RankedSchedule {
  ScheduleAttr schedule;
  double cost;
  SmallVector<double> features;
};

/// Every legal schedule of `op` on `chip` (the enumeration) with its cost,
/// cheapest first (ties keep the enumeration's order). Fails with the reason
/// when no candidate has features (dynamic shapes, no legal schedule).
FailureOr<SmallVector<RankedSchedule>>
rankSchedules(Operation *op, const ChipInfo &chip, const CostModel &model,
              std::string *whyNot = nullptr);

} // namespace mlir::attn

#endif // ATTN_COSTMODEL_COSTMODEL_H
