//===- TreeEnsemble.h - XGBoost tree ensembles, read and evaluated -*- C++
//-*-===//
//
// The learned cost model is trained offline with XGBoost and saved with
// `Booster.save_model("model.json")`. The compiler evaluates it here, with no
// ML library linked: the JSON is checked field by field (it is a user-supplied
// file, so every problem is an llvm::Error naming the file and the JSON path,
// never a crash), and the trees are flattened into one compact node array.
//
// What is supported is what the cost model uses: the gbtree booster, one
// output group, numerical splits, and the objectives whose prediction is the
// raw margin (reg:squarederror, rank:pairwise, rank:ndcg). predict() then
// returns exactly what `Booster.predict(DMatrix(x))` returns: XGBoost's float32
// arithmetic, base_score plus each tree's leaf in tree order.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_COSTMODEL_TREEENSEMBLE_H
#define ATTN_COSTMODEL_TREEENSEMBLE_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mlir::attn {

/// An XGBoost gbtree model, validated and flattened for fast evaluation.
class TreeEnsemble {
public:
  /// Reads and checks the XGBoost JSON model at `path`.
  static llvm::Expected<TreeEnsemble> load(llvm::StringRef path);
  /// Checks the XGBoost JSON model `jsonText`; errors name `nameForErrors`.
  static llvm::Expected<TreeEnsemble> parse(llvm::StringRef jsonText,
                                            llvm::StringRef nameForErrors);

  /// The model's prediction for one feature vector (what
  /// `Booster.predict(..., output_margin=False)` gives). A NaN feature is
  /// missing and takes the split's default direction; so does a feature
  /// whose index is beyond `features.size()`.
  double predict(llvm::ArrayRef<double> features) const;

  /// predict() of each row into `out` (same size), bit for bit: the rows
  /// are walked in blocks, tree by tree, so that a tree's nodes are read
  /// once per block rather than once per row.
  void predictBatch(llvm::ArrayRef<llvm::ArrayRef<double>> rows,
                    llvm::MutableArrayRef<double> out) const;

  /// The number of features the model was trained on.
  unsigned numFeatures() const { return featureCount; }
  /// The trainer's feature names (empty when the model has none; else
  /// exactly numFeatures() of them).
  llvm::ArrayRef<std::string> featureNames() const { return names; }
  /// A string attribute set by the trainer (`Booster.set_attr(key=value)`).
  std::optional<std::string> attribute(llvm::StringRef key) const;
  /// Every attribute's key, sorted.
  std::vector<std::string> attributeKeys() const;

  /// The objective the model was trained with ("reg:squarederror", ...).
  llvm::StringRef objective() const { return objectiveName; }
  /// The constant every prediction starts from, as XGBoost's float32.
  float baseScore() const { return base; }
  unsigned numTrees() const { return treeRoots.size(); }
  /// Nodes reachable from the trees' roots (leaves included).
  unsigned numNodes() const { return nodes.size(); }

private:
  TreeEnsemble() = default;
  friend class TreeEnsembleReader;

  /// One node of the flattened forest, 12 bytes. The children of a split
  /// are adjacent: `left` and `left + 1`. A leaf is its own left child and
  /// tests the extra feature slot numFeatures(), which always holds -inf, so
  /// a walk that reaches a leaf stays there: every tree is walked for a
  /// fixed number of steps, without data-dependent branches.
  struct Node {
    /// The split threshold (go left iff x < value), or the leaf's value.
    float value;
    /// The split's feature index; numFeatures() for a leaf.
    uint32_t feature;
    /// The left child's index in `nodes` (a leaf's own index); bit 31 set
    /// when missing values go left.
    uint32_t left;
  };
  static constexpr uint32_t kDefaultLeft = 1u << 31;
  /// Trees walked side by side: independent walks hide each other's
  /// load latency.
  static constexpr unsigned kLanes = 8;

  std::vector<Node> nodes;
  std::vector<uint32_t> treeRoots;
  /// Per group of kLanes trees, the steps from the roots to the deepest leaf.
  std::vector<uint32_t> groupDepths;
  float base = 0;
  unsigned featureCount = 0;
  std::vector<std::string> names;
  std::string objectiveName;
  llvm::StringMap<std::string> attributes;
};

} // namespace mlir::attn

#endif // ATTN_COSTMODEL_TREEENSEMBLE_H
