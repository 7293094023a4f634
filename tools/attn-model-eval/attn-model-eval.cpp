//===- attn-model-eval.cpp - evaluate an XGBoost model on CSV rows --------===//
//
//   attn-model-eval MODEL.json FEATURES.csv
//     Prints the model's prediction for every data row of FEATURES.csv, one
//     per line with %.9g: what XGBoost's Booster.predict gives. The first
//     row names the features (it must match the model's feature names when
//     the model has them); an empty field or "nan" is a missing value; blank
//     lines are skipped. --batch evaluates the rows in one batched walk
//     (TreeEnsemble::predictBatch), which must print the same text.
//   attn-model-eval MODEL.json --describe
//     Prints the model's objective, size, base score, features and the
//     trainer's attributes.
//
// Errors (an unreadable file, a malformed model, a bad CSV line) go to
// stderr and exit with 1.
//
//===----------------------------------------------------------------------===//

#include "attn/CostModel/TreeEnsemble.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

using namespace mlir::attn;
using llvm::StringRef;
namespace cl = llvm::cl;

static cl::opt<std::string> modelFile(cl::Positional, cl::Required,
                                      cl::desc("<model.json>"));
static cl::opt<std::string> featuresFile(cl::Positional, cl::Optional,
                                         cl::desc("<features.csv>"));
static cl::opt<bool> describe("describe", cl::init(false),
                              cl::desc("print the model's summary and "
                                       "attributes instead of predictions"));

static cl::opt<bool> batch("batch", cl::init(false),
                           cl::desc("evaluate all rows in one batched walk "
                                    "(TreeEnsemble::predictBatch, what "
                                    "attn-select-schedule uses)"));

static int fail(const llvm::Twine &message) {
  llvm::WithColor::error(llvm::errs(), "attn-model-eval") << message << "\n";
  return 1;
}

static void printDescription(const TreeEnsemble &model) {
  llvm::raw_ostream &os = llvm::outs();
  os << "objective: " << model.objective() << "\n";
  os << "trees: " << model.numTrees() << "\n";
  os << "nodes: " << model.numNodes() << "\n";
  os << "base_score: " << llvm::format("%.9g", model.baseScore()) << "\n";
  os << "features: " << model.numFeatures();
  if (!model.featureNames().empty())
    os << " (" << llvm::join(model.featureNames(), ", ") << ")";
  os << "\n";
  for (const std::string &key : model.attributeKeys())
    os << "attribute " << key << ": " << *model.attribute(key) << "\n";
}

/// Splits a CSV line into trimmed fields (no quoting: names and numbers).
static llvm::SmallVector<StringRef> splitFields(StringRef line) {
  llvm::SmallVector<StringRef> fields;
  line.split(fields, ',');
  for (StringRef &field : fields)
    field = field.trim();
  return fields;
}

/// Checks the header against the model and evaluates every data row.
static int evaluateCsv(const TreeEnsemble &model, StringRef path,
                       StringRef text) {
  llvm::SmallVector<StringRef> lines;
  text.split(lines, '\n');
  unsigned lineNo = 0;
  size_t columns = 0;
  bool sawHeader = false;
  // All rows are read before any is evaluated: a bad line prints nothing.
  std::vector<double> rows;
  for (StringRef line : lines) {
    ++lineNo;
    line = line.rtrim("\r");
    if (line.trim().empty())
      continue;
    llvm::SmallVector<StringRef> fields = splitFields(line);
    std::string where = (path + ":" + llvm::Twine(lineNo)).str();
    if (!sawHeader) {
      sawHeader = true;
      columns = fields.size();
      llvm::ArrayRef<std::string> names = model.featureNames();
      if (columns != model.numFeatures())
        return fail(where + ": the header has " + llvm::Twine(columns) +
                    " columns, but the model has " +
                    llvm::Twine(model.numFeatures()) + " features");
      for (size_t i = 0; i < names.size(); ++i)
        if (fields[i] != names[i])
          return fail(where + ": column " + llvm::Twine(i + 1) + " is '" +
                      fields[i] + "', but the model's feature " +
                      llvm::Twine(i + 1) + " is '" + names[i] + "'");
      continue;
    }
    if (fields.size() != columns)
      return fail(where + ": " + llvm::Twine(fields.size()) +
                  " fields, but the header has " + llvm::Twine(columns));
    for (size_t i = 0; i < columns; ++i) {
      StringRef field = fields[i];
      double value = std::numeric_limits<double>::quiet_NaN();
      if (!field.empty() && !field.equals_insensitive("nan") &&
          field.getAsDouble(value))
        return fail(where + ": column " + llvm::Twine(i + 1) + ": '" + field +
                    "' is not a number");
      rows.push_back(value);
    }
  }
  if (!sawHeader)
    return fail(path + ": no header row");
  llvm::ArrayRef<double> all(rows);
  std::vector<llvm::ArrayRef<double>> each;
  for (size_t start = 0; start < rows.size(); start += columns)
    each.push_back(all.slice(start, columns));
  std::vector<double> predictions(each.size());
  if (batch)
    model.predictBatch(each, predictions);
  else
    for (auto [row, prediction] : llvm::zip(each, predictions))
      prediction = model.predict(row);
  for (double prediction : predictions)
    llvm::outs() << llvm::format("%.9g\n", prediction);
  return 0;
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::ParseCommandLineOptions(
      argc, argv,
      "attn-model-eval: evaluate an XGBoost JSON model on CSV feature rows\n");

  llvm::Expected<TreeEnsemble> model = TreeEnsemble::load(modelFile);
  if (!model)
    return fail(llvm::toString(model.takeError()));
  if (describe) {
    printDescription(*model);
    return 0;
  }
  if (featuresFile.empty())
    return fail("no features file (attn-model-eval MODEL.json FEATURES.csv)");

  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> csv =
      llvm::MemoryBuffer::getFile(featuresFile, /*IsText=*/true);
  if (!csv)
    return fail("cannot read features '" + featuresFile +
                "': " + csv.getError().message());
  return evaluateCsv(*model, featuresFile, (*csv)->getBuffer());
}
