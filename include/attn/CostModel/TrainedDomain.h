//===- TrainedDomain.h - the shapes a learned model saw ---------*- C++ -*-===//
//
// A tree ensemble does not extrapolate: on a shape far from every shape it
// was trained on, its ranking can be worse than the hand-written defaults.
// The trained domain records, per op, the range of a few shape-level
// features (sizes, work, flags; log-scaled as Features.h computes them) over
// the shapes the model was fit on, and a margin beyond each range.
// tools/attn-tune/train.py writes it from the dataset beside the model
// (<model>.domain.json; tools/attn-tune/domain.py rebuilds it from the
// dataset alone); attn-select-schedule keeps the default schedule of an op
// whose default schedule's features lie outside it. docs/CostModel.md.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_COSTMODEL_TRAINEDDOMAIN_H
#define ATTN_COSTMODEL_TRAINEDDOMAIN_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <optional>
#include <string>

namespace mlir::attn {

/// The region of shapes a learned cost model was trained on.
class TrainedDomain {
public:
  /// Reads and checks the domain file at `path`: every error names it.
  static llvm::Expected<TrainedDomain> load(llvm::StringRef path);
  /// Checks the domain document `jsonText`; errors name `nameForErrors`.
  static llvm::Expected<TrainedDomain> parse(llvm::StringRef jsonText,
                                             llvm::StringRef nameForErrors);

  /// Why the features of an op (in getFeatureNames() order, computed for
  /// its default schedule) lie outside the domain, naming each feature
  /// beyond its range and margin ("trained on 37 shapes of
  /// linear_cross_entropy: log_flops 43.14 > max 40.97 + margin 1.00",
  /// "trained on no softmax shape"); nullopt when they lie inside.
  std::optional<std::string> whyOutside(llvm::ArrayRef<double> features) const;

  /// The chip and feature version the domain's data was computed for, and
  /// its dataset files (comma-separated, as the model's attn_dataset).
  llvm::StringRef chip() const { return chipName; }
  int64_t featureVersion() const { return version; }
  llvm::StringRef dataset() const { return datasetNames; }

private:
  TrainedDomain() = default;
  friend class TrainedDomainReader;

  /// A feature's trained range [min, max], trusted to `margin` beyond.
  struct Bound {
    unsigned feature;
    double min, max, margin;
  };
  /// The trained shapes an op kind is checked against: its own, or those
  /// of its family (the softmax family shares one kernel family).
  struct OpRegion {
    int64_t shapes = 0;
    /// The ops of those shapes ("softmax, log_softmax, logsumexp").
    std::string shapesOf;
    llvm::SmallVector<Bound> bounds;
  };

  /// Keyed by the op's one-hot feature name ("op_attention").
  llvm::StringMap<OpRegion> regions;
  std::string chipName;
  int64_t version = 0;
  std::string datasetNames;
};

/// Where the domain of the model at `modelPath` lies: beside it, with
/// ".json" replaced by ".domain.json" (models/h200-sxm.domain.json).
std::string domainPathFor(llvm::StringRef modelPath);

} // namespace mlir::attn

#endif // ATTN_COSTMODEL_TRAINEDDOMAIN_H
