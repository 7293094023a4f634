//===- CostModel.cpp - scoring schedules without running them -------------===//

#include "attn/CostModel/CostModel.h"

#include "attn/CostModel/Features.h"
#include "attn/Tuning/Tuning.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"

#include <cmath>
#include <limits>

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
  if (*trainedFor != chip.name && (chip.alias.empty() ||
                                   *trainedFor != chip.alias))
    return modelError(path, "trained for chip '" + *trainedFor +
                                "', not for '" + chip.name + "'");
  std::optional<std::string> version =
      trees->attribute("attn_feature_version");
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
  else
    return modelError(path, "attn_target must be 'rank' or 'log2_time_us', "
                            "not '" +
                                target.value_or("(none)") + "'");
  return CostModel(kind, std::make_shared<TreeEnsemble>(std::move(*trees)),
                   path.str());
}

CostModel CostModel::analytic() { return CostModel(Kind::Analytic, {}, ""); }

double CostModel::cost(ArrayRef<double> features) const {
  switch (kind) {
  case Kind::Analytic: {
    static const size_t index =
        llvm::find(getFeatureNames(), "log_roofline_over_util_us") -
        getFeatureNames().begin();
    return std::exp2(features[index]) - 1.0;
  }
  case Kind::Rank:
    return -trees->predict(features);
  case Kind::LogTime:
    return std::exp2(trees->predict(features));
  }
  llvm_unreachable("unknown cost model kind");
}

std::string CostModel::describe() const {
  if (kind == Kind::Analytic)
    return "analytic";
  return "learned (" + trees->objective().str() + ") " + path;
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
    SmallString<256> dir(llvm::sys::path::parent_path(
        llvm::sys::path::parent_path(exe)));
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
  SmallVector<RankedSchedule> ranked;
  ranked.reserve(space.size());
  std::string why;
  for (ScheduleAttr s : space) {
    FailureOr<SmallVector<double>> features =
        computeFeatures(op, s, chip, &why);
    if (failed(features))
      continue;
    double cost = model.cost(*features);
    if (std::isnan(cost))
      cost = std::numeric_limits<double>::infinity();
    ranked.push_back({s, cost, std::move(*features)});
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
