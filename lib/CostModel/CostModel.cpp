//===- CostModel.cpp - scoring schedules without running them -------------===//

#include "attn/CostModel/CostModel.h"

#include "attn/CostModel/Features.h"
#include "attn/Tuning/Tuning.h"

#include "mlir/IR/Threading.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"

#include <cmath>
#include <limits>
#include <optional>

using namespace mlir;
using namespace mlir::attn;

static llvm::Error modelError(StringRef path, const Twine &what) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 "cost model " + path + ": " + what);
}

llvm::Expected<CostModel> CostModel::loadLearned(StringRef path,
                                                 const ChipInfo &chip) {
  llvm::Expected<TreeEnsemble> trees = TreeEnsemble::load(path);
  if (!trees)
    return trees.takeError();
  std::optional<std::string> trainedFor = trees->attribute("attn_chip");
  if (!trainedFor)
    return modelError(path, "no attn_chip attribute: not a model written by "
                            "tools/attn-tune/train.py");
  if (*trainedFor != chip.name &&
      (chip.alias.empty() || *trainedFor != chip.alias))
    return modelError(path, "trained for chip '" + *trainedFor +
                                "', not for '" + chip.name + "'");
  std::optional<std::string> version = trees->attribute("attn_feature_version");
  if (!version || *version != std::to_string(kFeatureVersion))
    return modelError(path, "trained on feature version " +
                                (version ? *version : "(none)") +
                                "; this compiler computes version " +
                                std::to_string(kFeatureVersion) +
                                " (retrain: docs/CostModel.md)");
  ArrayRef<StringRef> expected = getFeatureNames();
  ArrayRef<std::string> names = trees->featureNames();
  if (names.size() != expected.size() ||
      !llvm::equal(names, expected,
                   [](const std::string &a, StringRef b) { return a == b; }))
    return modelError(path, "its feature names differ from this compiler's "
                            "(retrain: docs/CostModel.md)");
  std::optional<std::string> target = trees->attribute("attn_target");
  Kind kind;
  if (target && *target == "rank")
    kind = Kind::Rank;
  else if (target && *target == "log2_time_us")
    kind = Kind::LogTime;
  else if (target && *target == "log2_time_over_roofline")
    kind = Kind::LogRatio;
  else
    return modelError(path, "attn_target must be 'rank', 'log2_time_us' or "
                            "'log2_time_over_roofline', not '" +
                                target.value_or("(none)") + "'");
  std::string domainPath = domainPathFor(path);
  llvm::Expected<TrainedDomain> domain = TrainedDomain::load(domainPath);
  if (!domain)
    return modelError(path, llvm::toString(domain.takeError()));
  auto domainError = [&](const Twine &what) {
    return modelError(path, "its trained domain " + domainPath + " " + what +
                                " (rebuild it: tools/attn-tune/domain.py, "
                                "docs/CostModel.md)");
  };
  if (domain->chip() != *trainedFor)
    return domainError("is for chip '" + domain->chip() + "', the model for '" +
                       *trainedFor + "'");
  if (domain->featureVersion() != kFeatureVersion)
    return domainError(
        "has feature version " + Twine(domain->featureVersion()) +
        "; this compiler computes version " + Twine(kFeatureVersion));
  // Models written by train.py name their dataset; the domain must come
  // from the same files.
  std::optional<std::string> dataset = trees->attribute("attn_dataset");
  if (dataset && *dataset != domain->dataset())
    return domainError("was computed from '" + domain->dataset() +
                       "', the model trained on '" + *dataset + "'");
  return CostModel(kind, std::make_shared<TreeEnsemble>(std::move(*trees)),
                   std::make_shared<TrainedDomain>(std::move(*domain)),
                   path.str());
}

CostModel CostModel::analytic() {
  return CostModel(Kind::Analytic, {}, {}, "");
}

/// The roofline time over the last wave's utilization, in microseconds,
/// from a candidate's features (at least 1e-3, as metrics.py's
/// roofline_us).
static double rooflineOverUtilization(ArrayRef<double> features) {
  static const size_t index =
      llvm::find(getFeatureNames(), "log_roofline_over_util_us") -
      getFeatureNames().begin();
  return std::exp2(features[index]) - 1.0;
}

/// The cost of a candidate from the model's raw prediction.
static double costFromPrediction(CostModel::Kind kind, double prediction,
                                 ArrayRef<double> features) {
  switch (kind) {
  case CostModel::Kind::Analytic:
    return rooflineOverUtilization(features);
  case CostModel::Kind::Rank:
    return -prediction;
  case CostModel::Kind::LogTime:
    return std::exp2(prediction);
  case CostModel::Kind::LogRatio:
    return std::exp2(prediction) *
           std::max(rooflineOverUtilization(features), 1e-3);
  }
  llvm_unreachable("unknown cost model kind");
}

double CostModel::cost(ArrayRef<double> features) const {
  if (kind == Kind::Analytic)
    return rooflineOverUtilization(features);
  return costFromPrediction(kind, trees->predict(features), features);
}

void CostModel::costs(ArrayRef<ArrayRef<double>> features,
                      MutableArrayRef<double> out) const {
  assert(features.size() == out.size() && "one cost per candidate");
  if (kind == Kind::Analytic) {
    for (auto [f, c] : llvm::zip(features, out))
      c = cost(f);
    return;
  }
  trees->predictBatch(features, out);
  for (auto [f, c] : llvm::zip(features, out))
    c = costFromPrediction(kind, c, f);
}

std::string CostModel::describe() const {
  if (kind == Kind::Analytic)
    return "analytic";
  return "learned (" + trees->objective().str() + ") " + path;
}

std::optional<std::string>
CostModel::whyOutsideTrainedDomain(Operation *op, const ChipInfo &chip) const {
  if (!domain)
    return std::nullopt;
  ScheduleAttr preferred = getDefaultSchedule(op, chip.name);
  FailureOr<SmallVector<double>> features =
      computeFeatures(op, preferred, chip);
  if (failed(features))
    return std::nullopt;
  return domain->whyOutside(*features);
}

/// Directories that may hold shipped models, in search order.
static SmallVector<std::string> modelDirs() {
  SmallVector<std::string> dirs;
  if (std::optional<std::string> env =
          llvm::sys::Process::GetEnv("ATTN_MODEL_DIR"))
    dirs.push_back(*env);
  // Beside the installed programs: <prefix>/bin/../share/attn-mlir/models.
  static int anchor;
  std::string exe = llvm::sys::fs::getMainExecutable(nullptr, &anchor);
  if (!exe.empty()) {
    SmallString<256> dir(
        llvm::sys::path::parent_path(llvm::sys::path::parent_path(exe)));
    llvm::sys::path::append(dir, "share", "attn-mlir", "models");
    dirs.push_back(dir.str().str());
  }
#ifdef ATTN_SOURCE_MODEL_DIR
  dirs.push_back(ATTN_SOURCE_MODEL_DIR);
#endif
  return dirs;
}

std::optional<std::string> mlir::attn::findShippedModel(const ChipInfo &chip) {
  for (const std::string &dir : modelDirs())
    for (StringRef name : {chip.name, chip.alias}) {
      if (name.empty())
        continue;
      SmallString<256> path(dir);
      llvm::sys::path::append(path, name + ".json");
      if (llvm::sys::fs::exists(path))
        return path.str().str();
    }
  return std::nullopt;
}

llvm::Expected<std::optional<CostModel>>
mlir::attn::resolveCostModel(StringRef option, const ChipInfo &chip) {
  if (option == "analytic")
    return std::optional<CostModel>(CostModel::analytic());
  if (option == "none")
    return std::optional<CostModel>();
  std::string path = option.str();
  if (option == "auto" || option.empty()) {
    std::optional<std::string> shipped = findShippedModel(chip);
    if (!shipped)
      return std::optional<CostModel>();
    path = *shipped;
  }
  llvm::Expected<CostModel> model = CostModel::loadLearned(path, chip);
  if (!model)
    return model.takeError();
  return std::optional<CostModel>(std::move(*model));
}

FailureOr<SmallVector<RankedSchedule>>
mlir::attn::rankSchedules(Operation *op, const ChipInfo &chip,
                          const CostModel &model, std::string *whyNot) {
  SmallVector<ScheduleAttr> space = enumerateSchedules(op, chip.name);
  if (space.empty()) {
    if (whyNot)
      *whyNot = "no legal schedule on " + chip.name.str();
    return failure();
  }
  // Features and scores of the candidates are independent: chunks of
  // candidates run on the context's threads (the largest spaces hold
  // thousands), each chunk scored in one batch. Each slot is written by
  // one task; the result does not depend on the thread count.
  constexpr size_t kChunk = 512;
  SmallVector<std::optional<RankedSchedule>> slots(space.size());
  SmallVector<std::string> whys(space.size());
  size_t chunks = (space.size() + kChunk - 1) / kChunk;
  mlir::parallelFor(op->getContext(), 0, chunks, [&](size_t chunk) {
    size_t begin = chunk * kChunk, end = std::min(space.size(), begin + kChunk);
    SmallVector<size_t> kept;
    SmallVector<SmallVector<double>> features;
    for (size_t i = begin; i < end; ++i) {
      FailureOr<SmallVector<double>> f =
          computeFeatures(op, space[i], chip, &whys[i]);
      if (failed(f))
        continue;
      kept.push_back(i);
      features.push_back(std::move(*f));
    }
    SmallVector<ArrayRef<double>> rows(features.begin(), features.end());
    SmallVector<double> scores(rows.size());
    model.costs(rows, scores);
    for (auto [i, f, cost] : llvm::zip(kept, features, scores)) {
      if (std::isnan(cost))
        cost = std::numeric_limits<double>::infinity();
      slots[i] = RankedSchedule{space[i], cost, std::move(f)};
    }
  });
  SmallVector<RankedSchedule> ranked;
  ranked.reserve(space.size());
  std::string why;
  for (auto [slot, slotWhy] : llvm::zip(slots, whys)) {
    if (slot)
      ranked.push_back(std::move(*slot));
    else if (why.empty())
      why = slotWhy;
  }
  if (ranked.empty()) {
    if (whyNot)
      *whyNot = "no candidate has features: " + why;
    return failure();
  }
  std::stable_sort(ranked.begin(), ranked.end(),
                   [](const RankedSchedule &a, const RankedSchedule &b) {
                     return a.cost < b.cost;
                   });
  return ranked;
}
