//===- TrainedDomain.cpp - the shapes a learned model was trained on ------===//
//
// The domain file is user-supplied, like the model: every field is checked
// and the first problem is an error naming the file and the JSON path.
//
//===----------------------------------------------------------------------===//

#include "attn/CostModel/TrainedDomain.h"

#include "attn/CostModel/Features.h"

#include "JsonPathReader.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <cmath>
#include <limits>

using namespace mlir::attn;
using llvm::Error;
using llvm::Expected;
using llvm::StringRef;
using llvm::Twine;
namespace json = llvm::json;

/// The one-hot feature of an op kind starts with this ("op_attention").
static constexpr StringRef kOpPrefix = "op_";
/// The version of the file format tools/attn-tune/domain.py writes.
static constexpr int64_t kDomainFormatVersion = 1;

/// The index of feature `name` in getFeatureNames(), if it is one.
static std::optional<unsigned> featureIndex(StringRef name) {
  llvm::ArrayRef<StringRef> names = getFeatureNames();
  const StringRef *it = llvm::find(names, name);
  if (it == names.end())
    return std::nullopt;
  return static_cast<unsigned>(it - names.begin());
}

namespace mlir::attn {

/// Turns the JSON document of a domain file into a TrainedDomain.
class TrainedDomainReader : JsonPathReader {
public:
  explicit TrainedDomainReader(StringRef file)
      : JsonPathReader(("trained domain " + file + ": ").str()), file(file) {}

  Expected<TrainedDomain> read(const json::Value &root);

private:
  Expected<int64_t> integer(const json::Object &parent, StringRef key,
                            const Twine &path);
  Expected<double> finite(const json::Object &parent, StringRef key,
                          const Twine &path);
  Expected<TrainedDomain::OpRegion> readRegion(const json::Object &region,
                                               const std::string &path);

  StringRef file;
};

} // namespace mlir::attn

Expected<int64_t> TrainedDomainReader::integer(const json::Object &parent,
                                               StringRef key,
                                               const Twine &path) {
  Expected<const json::Value *> value = field(parent, key, path);
  if (!value)
    return value.takeError();
  std::optional<int64_t> number = (*value)->getAsInteger();
  if (!number)
    return fail(path + "." + key, "expected an integer");
  return *number;
}

Expected<double> TrainedDomainReader::finite(const json::Object &parent,
                                             StringRef key, const Twine &path) {
  Expected<const json::Value *> value = field(parent, key, path);
  if (!value)
    return value.takeError();
  std::optional<double> number = (*value)->getAsNumber();
  if (!number || !std::isfinite(*number))
    return fail(path + "." + key, "expected a finite number");
  return *number;
}

Expected<TrainedDomain::OpRegion>
TrainedDomainReader::readRegion(const json::Object &region,
                                const std::string &path) {
  TrainedDomain::OpRegion result;
  Expected<int64_t> shapes = integer(region, "shapes", path);
  if (!shapes)
    return shapes.takeError();
  if (*shapes < 1 || *shapes > std::numeric_limits<int32_t>::max())
    return fail(path + ".shapes",
                "shape count " + Twine(*shapes) + " out of range [1, 2^31)");
  result.shapes = *shapes;
  Expected<StringRef> shapesOf = string(region, "shapes_of", path);
  if (!shapesOf)
    return shapesOf.takeError();
  if (shapesOf->trim().empty())
    return fail(path + ".shapes_of", "must name the ops of the shapes");
  result.shapesOf = shapesOf->str();
  Expected<const json::Value *> features = field(region, "features", path);
  if (!features)
    return features.takeError();
  const json::Object *bounds = (*features)->getAsObject();
  std::string boundsPath = path + ".features";
  if (!bounds)
    return fail(boundsPath, "expected an object");
  // In name order: the reasons of whyOutside() do not depend on the
  // object's hash order.
  std::vector<const json::Object::value_type *> sorted;
  for (const json::Object::value_type &entry : *bounds)
    sorted.push_back(&entry);
  llvm::sort(sorted, [](const auto *a, const auto *b) {
    return StringRef(a->first) < StringRef(b->first);
  });
  for (const json::Object::value_type *entry : sorted) {
    StringRef name = entry->first;
    std::string at = boundsPath + "." + name.str();
    std::optional<unsigned> index = featureIndex(name);
    if (!index || name.starts_with(kOpPrefix))
      return fail(at, "not a shape feature of this compiler "
                      "(include/attn/CostModel/Features.h)");
    const json::Object *bound = entry->second.getAsObject();
    if (!bound)
      return fail(at, "expected an object");
    Expected<double> min = finite(*bound, "min", at);
    if (!min)
      return min.takeError();
    Expected<double> max = finite(*bound, "max", at);
    if (!max)
      return max.takeError();
    Expected<double> margin = finite(*bound, "margin", at);
    if (!margin)
      return margin.takeError();
    if (*min > *max)
      return fail(at, "min " + llvm::formatv("{0}", *min).str() +
                          " is above max " + llvm::formatv("{0}", *max).str());
    if (*margin < 0)
      return fail(at + ".margin", "must not be negative");
    result.bounds.push_back({*index, *min, *max, *margin});
  }
  return result;
}

Expected<TrainedDomain> TrainedDomainReader::read(const json::Value &root) {
  const json::Object *top = root.getAsObject();
  if (!top)
    return fail("(top level)", "expected an object");
  TrainedDomain domain;
  Expected<int64_t> format =
      integer(*top, "attn_domain_version", "(top level)");
  if (!format)
    return format.takeError();
  if (*format != kDomainFormatVersion)
    return fail("attn_domain_version",
                "format " + Twine(*format) + " is not the format " +
                    Twine(kDomainFormatVersion) + " this compiler reads");
  Expected<StringRef> chip = string(*top, "chip", "(top level)");
  if (!chip)
    return chip.takeError();
  domain.chipName = chip->str();
  Expected<int64_t> version = integer(*top, "feature_version", "(top level)");
  if (!version)
    return version.takeError();
  domain.version = *version;
  Expected<StringRef> dataset = string(*top, "dataset", "(top level)");
  if (!dataset)
    return dataset.takeError();
  domain.datasetNames = dataset->str();

  Expected<const json::Value *> opsValue = field(*top, "ops", "(top level)");
  if (!opsValue)
    return opsValue.takeError();
  const json::Object *ops = (*opsValue)->getAsObject();
  if (!ops)
    return fail("ops", "expected an object");
  for (const auto &[key, value] : *ops) {
    std::string path = "ops." + StringRef(key).str();
    std::string oneHot = (kOpPrefix + StringRef(key)).str();
    if (!featureIndex(oneHot))
      return fail(path, "not an op this compiler computes features for");
    const json::Object *region = value.getAsObject();
    if (!region)
      return fail(path, "expected an object");
    Expected<TrainedDomain::OpRegion> read = readRegion(*region, path);
    if (!read)
      return read.takeError();
    domain.regions[oneHot] = std::move(*read);
  }
  return std::move(domain);
}

Expected<TrainedDomain> TrainedDomain::parse(StringRef jsonText,
                                             StringRef nameForErrors) {
  Expected<json::Value> root = json::parse(jsonText);
  if (!root)
    return llvm::createStringError(
        "trained domain " + nameForErrors +
        ": invalid JSON: " + llvm::toString(root.takeError()));
  return TrainedDomainReader(nameForErrors).read(*root);
}

Expected<TrainedDomain> TrainedDomain::load(StringRef path) {
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      llvm::MemoryBuffer::getFile(path, /*IsText=*/true);
  if (!buffer)
    return llvm::createStringError(
        "cannot read trained domain '" + path +
        "': " + buffer.getError().message() +
        " (tools/attn-tune/train.py writes it beside the model; "
        "tools/attn-tune/domain.py rebuilds it from the dataset)");
  return parse((*buffer)->getBuffer(), path);
}

std::optional<std::string>
TrainedDomain::whyOutside(llvm::ArrayRef<double> features) const {
  llvm::ArrayRef<StringRef> names = getFeatureNames();
  if (features.size() != names.size())
    return "the op has " + std::to_string(features.size()) +
           " features, not this compiler's " + std::to_string(names.size());
  const OpRegion *region = nullptr;
  StringRef op;
  for (auto [name, value] : llvm::zip(names, features)) {
    if (!name.starts_with(kOpPrefix) || value != 1.0)
      continue;
    op = name.drop_front(kOpPrefix.size());
    auto it = regions.find(name);
    if (it == regions.end())
      return "trained on no " + op.str() + " shape";
    region = &it->second;
    break;
  }
  if (!region)
    return std::string("no op_* feature is set");

  std::string reasons;
  llvm::raw_string_ostream os(reasons);
  for (const Bound &bound : region->bounds) {
    double value = features[bound.feature];
    double low = bound.min - bound.margin, high = bound.max + bound.margin;
    if (low <= value && value <= high)
      continue;
    os << (reasons.empty() ? "" : ", ") << names[bound.feature] << " "
       << llvm::formatv("{0:f2}", value);
    if (std::isnan(value)) {
      os << " is not a number";
      continue;
    }
    bool above = value > high;
    os << (above ? " > max " : " < min ")
       << llvm::formatv("{0:f2}", above ? bound.max : bound.min);
    if (bound.margin > 0)
      os << (above ? " + " : " - ") << "margin "
         << llvm::formatv("{0:f2}", bound.margin);
  }
  if (reasons.empty())
    return std::nullopt;
  return "trained on " + std::to_string(region->shapes) + " shapes of " +
         region->shapesOf + ": " + reasons;
}

std::string mlir::attn::domainPathFor(StringRef modelPath) {
  StringRef stem = modelPath;
  if (llvm::sys::path::extension(modelPath) == ".json")
    stem = modelPath.drop_back(StringRef(".json").size());
  return (stem + ".domain.json").str();
}
