//===- JsonPathReader.h - typed field access with JSON-path errors -*- C++ -*-===//
//
// The shared base of the readers of the cost model's JSON files (the
// XGBoost model, the trained domain): each accessor takes the JSON path of
// what it reads, so that its error names it
// ("learner.gradient_booster.model.trees[3].left_children").
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LIB_COSTMODEL_JSONPATHREADER_H
#define ATTN_LIB_COSTMODEL_JSONPATHREADER_H

#include "llvm/ADT/Twine.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

#include <optional>
#include <string>

namespace mlir::attn {

class JsonPathReader {
protected:
  /// `prefix` starts every error message (e.g. "<file>: ").
  explicit JsonPathReader(std::string prefix) : prefix(std::move(prefix)) {}

  llvm::Error fail(const llvm::Twine &path, const llvm::Twine &message) const {
    return llvm::createStringError(prefix + path + ": " + message);
  }

  llvm::Expected<const llvm::json::Value *>
  field(const llvm::json::Object &parent, llvm::StringRef key,
        const llvm::Twine &path) const {
    if (const llvm::json::Value *value = parent.get(key))
      return value;
    return fail(path, "missing field '" + key + "'");
  }

  llvm::Expected<const llvm::json::Object *>
  object(const llvm::json::Object &parent, llvm::StringRef key,
         const llvm::Twine &path) const {
    return typed<const llvm::json::Object *>(
        parent, key, path, "expected an object",
        [](const llvm::json::Value &v) { return v.getAsObject(); });
  }

  llvm::Expected<const llvm::json::Array *>
  array(const llvm::json::Object &parent, llvm::StringRef key,
        const llvm::Twine &path) const {
    return typed<const llvm::json::Array *>(
        parent, key, path, "expected an array",
        [](const llvm::json::Value &v) { return v.getAsArray(); });
  }

  llvm::Expected<llvm::StringRef> string(const llvm::json::Object &parent,
                                         llvm::StringRef key,
                                         const llvm::Twine &path) const {
    return typed<llvm::StringRef>(
        parent, key, path, "expected a string",
        [](const llvm::json::Value &v) { return v.getAsString(); });
  }

private:
  /// The field `key` of `parent` converted by `get` (an optional or a
  /// pointer that is empty when the value has another type).
  template <typename T, typename Getter>
  llvm::Expected<T> typed(const llvm::json::Object &parent,
                          llvm::StringRef key, const llvm::Twine &path,
                          llvm::StringRef expected, Getter get) const {
    llvm::Expected<const llvm::json::Value *> value = field(parent, key, path);
    if (!value)
      return value.takeError();
    auto result = get(**value);
    if (!result)
      return fail(path + "." + key, expected);
    return T(unwrap(result));
  }

  template <typename P> static P *unwrap(P *pointer) { return pointer; }
  static llvm::StringRef unwrap(std::optional<llvm::StringRef> text) {
    return *text;
  }

  std::string prefix;
};

} // namespace mlir::attn

#endif // ATTN_LIB_COSTMODEL_JSONPATHREADER_H
