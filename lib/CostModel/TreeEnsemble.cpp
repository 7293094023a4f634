//===- TreeEnsemble.cpp - reading and evaluating XGBoost JSON models ------===//
//
// The reader checks every field it uses and reports the first problem with
// the JSON path of the offending value; the evaluator walks the flattened
// trees with XGBoost's float32 rule (left iff x < threshold).
//
//===----------------------------------------------------------------------===//

#include "attn/CostModel/TreeEnsemble.h"

#include "JsonPathReader.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"

#include <algorithm>
#include <cmath>
#include <limits>

using namespace mlir::attn;
using llvm::Error;
using llvm::Expected;
using llvm::StringRef;
using llvm::Twine;
namespace json = llvm::json;

namespace mlir::attn {

/// Turns the JSON document of an XGBoost model into a TreeEnsemble. Every
/// accessor takes the JSON path of what it reads so that its error can name
/// it ("learner.gradient_booster.model.trees[3].left_children[5]").
class TreeEnsembleReader : JsonPathReader {
public:
  explicit TreeEnsembleReader(StringRef file)
      : JsonPathReader((file + ": ").str()), file(file) {}

  Expected<TreeEnsemble> read(const json::Value &root);

private:
  Expected<int64_t> integerParam(const json::Object &parent, StringRef key,
                                 const Twine &path);
  /// An array of exactly `size` elements.
  Expected<const json::Array *> arrayOfSize(const json::Object &parent,
                                            StringRef key, size_t size,
                                            const Twine &path);
  Expected<int64_t> integer(const json::Value &value, const Twine &path);
  /// A number that is finite once rounded to XGBoost's float32.
  Expected<float> finiteFloat(const json::Value &value, const Twine &path);

  Error readFeatures(const json::Object &learner, TreeEnsemble &model);
  Error readAttributes(const json::Object &learner, TreeEnsemble &model);
  Error readTree(const json::Object &tree, const std::string &path,
                 TreeEnsemble &model);

  StringRef file;
};

} // namespace mlir::attn

/// The objectives whose prediction is the raw margin (identity link).
static constexpr StringRef kSupportedObjectives[] = {
    "reg:squarederror", "rank:pairwise", "rank:ndcg"};

Expected<const json::Array *>
TreeEnsembleReader::arrayOfSize(const json::Object &parent, StringRef key,
                                size_t size, const Twine &path) {
  Expected<const json::Array *> result = array(parent, key, path);
  if (!result)
    return result.takeError();
  if ((*result)->size() != size)
    return fail(path + "." + key, "has " + Twine((*result)->size()) +
                                      " elements, expected " + Twine(size) +
                                      " (tree_param.num_nodes)");
  return result;
}

Expected<int64_t> TreeEnsembleReader::integerParam(const json::Object &parent,
                                                   StringRef key,
                                                   const Twine &path) {
  Expected<const json::Value *> value = field(parent, key, path);
  if (!value)
    return value.takeError();
  if (std::optional<int64_t> number = (*value)->getAsInteger())
    return *number;
  int64_t result;
  std::optional<StringRef> text = (*value)->getAsString();
  if (!text || text->trim().getAsInteger(10, result))
    return fail(path + "." + key, "expected an integer");
  return result;
}

Expected<int64_t> TreeEnsembleReader::integer(const json::Value &value,
                                              const Twine &path) {
  if (std::optional<int64_t> result = value.getAsInteger())
    return *result;
  return fail(path, "expected an integer");
}

Expected<float> TreeEnsembleReader::finiteFloat(const json::Value &value,
                                                const Twine &path) {
  std::optional<double> number = value.getAsNumber();
  if (!number)
    return fail(path, "expected a number");
  float result = static_cast<float>(*number);
  if (!std::isfinite(result))
    return fail(path, "value " + llvm::formatv("{0:e}", *number).str() +
                          " is not a finite float32");
  return result;
}

Error TreeEnsembleReader::readFeatures(const json::Object &learner,
                                       TreeEnsemble &model) {
  const json::Value *value = learner.get("feature_names");
  if (!value)
    return Error::success();
  const json::Array *names = value->getAsArray();
  if (!names)
    return fail("learner.feature_names", "expected an array");
  if (names->empty())
    return Error::success();
  if (names->size() != model.featureCount)
    return fail("learner.feature_names",
                "has " + Twine(names->size()) + " names, but the model has " +
                    Twine(model.featureCount) +
                    " features (learner_model_param.num_feature)");
  for (auto [i, name] : llvm::enumerate(*names)) {
    std::optional<StringRef> text = name.getAsString();
    if (!text)
      return fail("learner.feature_names[" + Twine(i) + "]",
                  "expected a string");
    model.names.push_back(text->str());
  }
  return Error::success();
}

Error TreeEnsembleReader::readAttributes(const json::Object &learner,
                                         TreeEnsemble &model) {
  const json::Value *value = learner.get("attributes");
  if (!value)
    return Error::success();
  const json::Object *attributes = value->getAsObject();
  if (!attributes)
    return fail("learner.attributes", "expected an object");
  for (const auto &[key, attr] : *attributes) {
    std::optional<StringRef> text = attr.getAsString();
    if (!text)
      return fail("learner.attributes." + StringRef(key), "expected a string");
    model.attributes[key] = text->str();
  }
  return Error::success();
}

Error TreeEnsembleReader::readTree(const json::Object &tree,
                                   const std::string &path,
                                   TreeEnsemble &model) {
  Expected<const json::Object *> param = object(tree, "tree_param", path);
  if (!param)
    return param.takeError();
  std::string paramPath = path + ".tree_param";
  Expected<int64_t> numNodes = integerParam(**param, "num_nodes", paramPath);
  if (!numNodes)
    return numNodes.takeError();
  if (*numNodes < 1 || *numNodes > std::numeric_limits<int32_t>::max())
    return fail(paramPath + ".num_nodes",
                "node count " + Twine(*numNodes) + " out of range");
  if ((*param)->get("size_leaf_vector")) {
    Expected<int64_t> size =
        integerParam(**param, "size_leaf_vector", paramPath);
    if (!size)
      return size.takeError();
    // XGBoost 1.x writes 0 and 2.x writes 1 for scalar leaves.
    if (*size > 1)
      return fail(paramPath + ".size_leaf_vector",
                  "vector leaves (size " + Twine(*size) +
                      ") are not supported: one output per tree only");
  }
  size_t n = *numNodes;

  Expected<const json::Array *> lefts =
      arrayOfSize(tree, "left_children", n, path);
  if (!lefts)
    return lefts.takeError();
  Expected<const json::Array *> rights =
      arrayOfSize(tree, "right_children", n, path);
  if (!rights)
    return rights.takeError();
  Expected<const json::Array *> features =
      arrayOfSize(tree, "split_indices", n, path);
  if (!features)
    return features.takeError();
  Expected<const json::Array *> conditions =
      arrayOfSize(tree, "split_conditions", n, path);
  if (!conditions)
    return conditions.takeError();
  Expected<const json::Array *> defaultLeft =
      arrayOfSize(tree, "default_left", n, path);
  if (!defaultLeft)
    return defaultLeft.takeError();
  // Older XGBoost versions write no split types: all splits are numerical.
  const json::Array *splitTypes = nullptr;
  if (tree.get("split_type")) {
    Expected<const json::Array *> types =
        arrayOfSize(tree, "split_type", n, path);
    if (!types)
      return types.takeError();
    splitTypes = *types;
  }
  if (const json::Value *categories = tree.get("categories_nodes")) {
    const json::Array *catNodes = categories->getAsArray();
    if (!catNodes)
      return fail(path + ".categories_nodes", "expected an array");
    if (!catNodes->empty())
      return fail(path + ".categories_nodes",
                  "categorical splits are not supported (the tree has " +
                      Twine(catNodes->size()) + " categorical nodes)");
  }

  // Walk from the root, numbering the reached nodes so that the children of
  // a split are adjacent. A node reached twice means a cycle or a shared
  // subtree; with that excluded, the walk ends after at most n nodes.
  struct Pending {
    int64_t source;
    uint32_t slot;
    uint32_t depth;
  };
  uint32_t treeDepth = 0;
  std::vector<bool> reached(n, false);
  llvm::SmallVector<Pending, 64> worklist;
  if (model.nodes.size() + n > TreeEnsemble::kDefaultLeft)
    return fail(path, "the ensemble has too many nodes");
  uint32_t rootSlot = model.nodes.size();
  model.nodes.push_back({});
  model.treeRoots.push_back(rootSlot);
  worklist.push_back({0, rootSlot, 0});
  while (!worklist.empty()) {
    Pending item = worklist.pop_back_val();
    int64_t i = item.source;
    std::string at = "[" + std::to_string(i) + "]";
    if (reached[i])
      return fail(path, "node " + Twine(i) +
                            " is reached twice from the root (a cycle or a "
                            "shared subtree)");
    reached[i] = true;

    Expected<int64_t> left =
        integer((**lefts)[i], path + ".left_children" + at);
    if (!left)
      return left.takeError();
    Expected<int64_t> right =
        integer((**rights)[i], path + ".right_children" + at);
    if (!right)
      return right.takeError();
    Expected<float> value =
        finiteFloat((**conditions)[i], path + ".split_conditions" + at);
    if (!value)
      return value.takeError();

    if (*left == -1 && *right == -1) {
      model.nodes[item.slot] = {*value, model.featureCount, item.slot};
      treeDepth = std::max(treeDepth, item.depth);
      continue;
    }
    for (auto [name, child] :
         {std::pair<StringRef, int64_t>{"left_children", *left},
          std::pair<StringRef, int64_t>{"right_children", *right}}) {
      if (child < 0 || child >= static_cast<int64_t>(n))
        return fail(path + "." + name + at,
                    "child index " + Twine(child) + " out of range [0, " +
                        Twine(n) + ")" +
                        (child == -1 ? " (a split needs both children)" : ""));
    }
    if (splitTypes) {
      Expected<int64_t> type =
          integer((*splitTypes)[i], path + ".split_type" + at);
      if (!type)
        return type.takeError();
      if (*type == 1)
        return fail(path + ".split_type" + at,
                    "categorical splits are not supported");
      if (*type != 0)
        return fail(path + ".split_type" + at,
                    "unknown split type " + Twine(*type));
    }
    Expected<int64_t> feature =
        integer((**features)[i], path + ".split_indices" + at);
    if (!feature)
      return feature.takeError();
    if (*feature < 0 || *feature >= model.featureCount)
      return fail(path + ".split_indices" + at,
                  "feature index " + Twine(*feature) + " out of range [0, " +
                      Twine(model.featureCount) +
                      ") (learner_model_param.num_feature)");
    const json::Value &dl = (**defaultLeft)[i];
    bool missingGoesLeft;
    if (std::optional<bool> flag = dl.getAsBoolean()) {
      missingGoesLeft = *flag;
    } else {
      std::optional<int64_t> flagInt = dl.getAsInteger();
      if (!flagInt || (*flagInt != 0 && *flagInt != 1))
        return fail(path + ".default_left" + at, "expected 0 or 1");
      missingGoesLeft = *flagInt == 1;
    }

    uint32_t childSlot = model.nodes.size();
    model.nodes.push_back({});
    model.nodes.push_back({});
    model.nodes[item.slot] = {
        *value, static_cast<uint32_t>(*feature),
        childSlot | (missingGoesLeft ? TreeEnsemble::kDefaultLeft : 0u)};
    worklist.push_back({*right, childSlot + 1, item.depth + 1});
    worklist.push_back({*left, childSlot, item.depth + 1});
  }
  size_t treeIndex = model.treeRoots.size() - 1;
  if (treeIndex % TreeEnsemble::kLanes == 0)
    model.groupDepths.push_back(treeDepth);
  else
    model.groupDepths.back() = std::max(model.groupDepths.back(), treeDepth);
  return Error::success();
}

Expected<TreeEnsemble> TreeEnsembleReader::read(const json::Value &root) {
  const json::Object *top = root.getAsObject();
  if (!top)
    return fail("(top level)", "expected an object");
  Expected<const json::Object *> learner =
      object(*top, "learner", "(top level)");
  if (!learner)
    return learner.takeError();

  TreeEnsemble model;

  // The objective decides the link function; only the identity is supported.
  Expected<const json::Object *> objective =
      object(**learner, "objective", "learner");
  if (!objective)
    return objective.takeError();
  Expected<StringRef> objectiveName =
      string(**objective, "name", "learner.objective");
  if (!objectiveName)
    return objectiveName.takeError();
  if (!llvm::is_contained(kSupportedObjectives, *objectiveName))
    return fail("learner.objective.name",
                "unsupported objective '" + *objectiveName +
                    "' (supported: reg:squarederror, rank:pairwise, "
                    "rank:ndcg, whose prediction is the raw score)");
  model.objectiveName = objectiveName->str();

  Expected<const json::Object *> param =
      object(**learner, "learner_model_param", "learner");
  if (!param)
    return param.takeError();
  const char *paramPath = "learner.learner_model_param";
  Expected<int64_t> numFeature =
      integerParam(**param, "num_feature", paramPath);
  if (!numFeature)
    return numFeature.takeError();
  if (*numFeature < 0 || *numFeature >= TreeEnsemble::kDefaultLeft)
    return fail(Twine(paramPath) + ".num_feature",
                "feature count " + Twine(*numFeature) + " out of range");
  model.featureCount = *numFeature;
  for (StringRef key : {"num_class", "num_target"}) {
    if (!(*param)->get(key))
      continue;
    Expected<int64_t> count = integerParam(**param, key, paramPath);
    if (!count)
      return count.takeError();
    if (*count > 1)
      return fail(Twine(paramPath) + "." + key,
                  Twine(*count) + " outputs are not supported: one output "
                                  "group only");
  }
  // 1.x writes "5E-1"; 2.x writes "[5E-1]".
  Expected<StringRef> baseText = string(**param, "base_score", paramPath);
  if (!baseText)
    return baseText.takeError();
  StringRef baseDigits = baseText->trim();
  if (baseDigits.starts_with("[") && baseDigits.ends_with("]"))
    baseDigits = baseDigits.drop_front().drop_back().trim();
  double base;
  if (baseDigits.getAsDouble(base) || !std::isfinite(static_cast<float>(base)))
    return fail(Twine(paramPath) + ".base_score",
                "expected a finite number, got '" + *baseText + "'");
  model.base = static_cast<float>(base);

  if (Error err = readFeatures(**learner, model))
    return std::move(err);
  if (Error err = readAttributes(**learner, model))
    return std::move(err);

  Expected<const json::Object *> booster =
      object(**learner, "gradient_booster", "learner");
  if (!booster)
    return booster.takeError();
  Expected<StringRef> boosterName =
      string(**booster, "name", "learner.gradient_booster");
  if (!boosterName)
    return boosterName.takeError();
  if (*boosterName != "gbtree")
    return fail("learner.gradient_booster.name",
                "unsupported booster '" + *boosterName +
                    "' (only gbtree is supported)");
  Expected<const json::Object *> trees =
      object(**booster, "model", "learner.gradient_booster");
  if (!trees)
    return trees.takeError();
  const char *modelPath = "learner.gradient_booster.model";
  Expected<const json::Array *> treeList = array(**trees, "trees", modelPath);
  if (!treeList)
    return treeList.takeError();
  size_t numTrees = (*treeList)->size();

  if (const json::Value *gbParam = (*trees)->get("gbtree_model_param")) {
    const json::Object *gb = gbParam->getAsObject();
    std::string gbPath = std::string(modelPath) + ".gbtree_model_param";
    if (!gb)
      return fail(gbPath, "expected an object");
    Expected<int64_t> declared = integerParam(*gb, "num_trees", gbPath);
    if (!declared)
      return declared.takeError();
    if (*declared != static_cast<int64_t>(numTrees))
      return fail(gbPath + ".num_trees", "says " + Twine(*declared) +
                                             " trees, but '" + modelPath +
                                             ".trees' has " + Twine(numTrees));
  }
  Expected<const json::Array *> treeInfo =
      array(**trees, "tree_info", modelPath);
  if (!treeInfo)
    return treeInfo.takeError();
  if ((*treeInfo)->size() != numTrees)
    return fail(Twine(modelPath) + ".tree_info",
                "has " + Twine((*treeInfo)->size()) +
                    " entries, but there are " + Twine(numTrees) + " trees");
  for (auto [i, group] : llvm::enumerate(**treeInfo)) {
    std::string at =
        std::string(modelPath) + ".tree_info[" + std::to_string(i) + "]";
    Expected<int64_t> id = integer(group, at);
    if (!id)
      return id.takeError();
    if (*id != 0)
      return fail(at, "tree of output group " + Twine(*id) +
                          ": one output group only");
  }

  model.treeRoots.reserve(numTrees);
  for (auto [i, treeValue] : llvm::enumerate(**treeList)) {
    std::string path =
        std::string(modelPath) + ".trees[" + std::to_string(i) + "]";
    const json::Object *tree = treeValue.getAsObject();
    if (!tree)
      return fail(path, "expected an object");
    if (Error err = readTree(*tree, path, model))
      return std::move(err);
  }
  model.nodes.shrink_to_fit();
  return std::move(model);
}

Expected<TreeEnsemble> TreeEnsemble::parse(StringRef jsonText,
                                           StringRef nameForErrors) {
  Expected<json::Value> root = json::parse(jsonText);
  if (!root)
    return llvm::createStringError(
        nameForErrors + ": invalid JSON: " + llvm::toString(root.takeError()));
  return TreeEnsembleReader(nameForErrors).read(*root);
}

Expected<TreeEnsemble> TreeEnsemble::load(StringRef path) {
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      llvm::MemoryBuffer::getFile(path, /*IsText=*/true);
  if (!buffer)
    return llvm::createStringError("cannot read model '" + path +
                                   "': " + buffer.getError().message());
  return parse((*buffer)->getBuffer(), path);
}

double TreeEnsemble::predict(llvm::ArrayRef<double> features) const {
  // XGBoost's arithmetic: float32 features and thresholds, the sum in
  // float32 starting from base_score, trees in order. Features beyond
  // `features` are missing; the slot after the last is the leaves' -inf.
  llvm::SmallVector<float, 128> x(featureCount + 1,
                                  std::numeric_limits<float>::quiet_NaN());
  for (size_t i = 0, e = std::min<size_t>(features.size(), featureCount); i < e;
       ++i)
    x[i] = static_cast<float>(features[i]);
  x[featureCount] = -std::numeric_limits<float>::infinity();

  const Node *data = nodes.data();
  const float *xs = x.data();
  // One step of a walk: the child of `index` that the features take, or
  // `index` itself at a leaf. Left iff x < threshold; a missing (NaN)
  // feature compares false (right), flipped when missing values go left.
  auto step = [data, xs](uint32_t index) {
    const Node &node = data[index];
    float value = xs[node.feature];
    uint32_t goRight = !(value < node.value);
    goRight ^= static_cast<uint32_t>(value != value) & (node.left >> 31);
    return (node.left & ~kDefaultLeft) + goRight;
  };
  float sum = base;
  size_t numTrees = treeRoots.size();
  size_t tree = 0;
  for (uint32_t depth : groupDepths) {
    if (tree + kLanes <= numTrees) {
      uint32_t at[kLanes];
      for (unsigned lane = 0; lane < kLanes; ++lane)
        at[lane] = treeRoots[tree + lane];
      for (uint32_t d = 0; d < depth; ++d)
        for (unsigned lane = 0; lane < kLanes; ++lane)
          at[lane] = step(at[lane]);
      for (unsigned lane = 0; lane < kLanes; ++lane)
        sum += data[at[lane]].value;
      tree += kLanes;
      continue;
    }
    for (; tree < numTrees; ++tree) {
      uint32_t at = treeRoots[tree];
      for (uint32_t d = 0; d < depth; ++d)
        at = step(at);
      sum += data[at].value;
    }
  }
  return sum;
}

void TreeEnsemble::predictBatch(llvm::ArrayRef<llvm::ArrayRef<double>> rows,
                                llvm::MutableArrayRef<double> out) const {
  assert(rows.size() == out.size() && "one output per row");
  // Rows per block: their features (about 200 bytes each) stay in L1/L2
  // while every tree is walked for all of them.
  constexpr size_t kBlock = 256;
  const size_t stride = featureCount + 1;
  const Node *data = nodes.data();
  const size_t numTrees = treeRoots.size();
  std::vector<float> x;
  float sums[kBlock];
  for (size_t begin = 0; begin < rows.size(); begin += kBlock) {
    size_t count = std::min(kBlock, rows.size() - begin);
    // The same float32 features as predict(): missing ones are NaN, the
    // slot after the last is the leaves' -inf.
    x.assign(count * stride, std::numeric_limits<float>::quiet_NaN());
    for (size_t r = 0; r < count; ++r) {
      llvm::ArrayRef<double> row = rows[begin + r];
      float *xr = x.data() + r * stride;
      for (size_t i = 0, e = std::min<size_t>(row.size(), featureCount);
           i < e; ++i)
        xr[i] = static_cast<float>(row[i]);
      xr[featureCount] = -std::numeric_limits<float>::infinity();
      sums[r] = base;
    }
    auto step = [data](uint32_t index, const float *xs) {
      const Node &node = data[index];
      float value = xs[node.feature];
      uint32_t goRight = !(value < node.value);
      goRight ^= static_cast<uint32_t>(value != value) & (node.left >> 31);
      return (node.left & ~kDefaultLeft) + goRight;
    };
    // Trees in order, each added to every row's float32 sum: the order of
    // the additions is predict()'s, so the results are identical.
    size_t tree = 0;
    for (uint32_t depth : groupDepths) {
      size_t groupEnd = std::min(tree + kLanes, numTrees);
      for (; tree < groupEnd; ++tree) {
        uint32_t root = treeRoots[tree];
        size_t r = 0;
        // kLanes rows side by side: independent walks hide load latency.
        for (; r + kLanes <= count; r += kLanes) {
          uint32_t at[kLanes];
          for (unsigned lane = 0; lane < kLanes; ++lane)
            at[lane] = root;
          for (uint32_t d = 0; d < depth; ++d)
            for (unsigned lane = 0; lane < kLanes; ++lane)
              at[lane] = step(at[lane], x.data() + (r + lane) * stride);
          for (unsigned lane = 0; lane < kLanes; ++lane)
            sums[r + lane] += data[at[lane]].value;
        }
        for (; r < count; ++r) {
          uint32_t at = root;
          for (uint32_t d = 0; d < depth; ++d)
            at = step(at, x.data() + r * stride);
          sums[r] += data[at].value;
        }
      }
    }
    for (size_t r = 0; r < count; ++r)
      out[begin + r] = sums[r];
  }
}

std::optional<std::string> TreeEnsemble::attribute(llvm::StringRef key) const {
  auto it = attributes.find(key);
  if (it == attributes.end())
    return std::nullopt;
  return it->second;
}

std::vector<std::string> TreeEnsemble::attributeKeys() const {
  std::vector<std::string> keys;
  for (const auto &entry : attributes)
    keys.push_back(entry.getKey().str());
  llvm::sort(keys);
  return keys;
}
