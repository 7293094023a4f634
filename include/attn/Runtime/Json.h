//===- Json.h - Small JSON value, parser and writer -------------*- C++ -*-===//
//
// The runtime reads kernel package manifests and writes attn-run's results as
// JSON. This is a deliberately small, dependency-free implementation: values
// remember where they were parsed so that errors in a manifest can point at
// the offending line and column.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_RUNTIME_JSON_H
#define ATTN_RUNTIME_JSON_H

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace attn::runtime {

/// One JSON value: null, a boolean, a number, a string, an array or an object.
/// Object members keep their order of appearance. Numbers are held as a
/// double and, when the number is integral and fits, also as an exact int64.
class JsonValue {
public:
  enum class Kind { Null, Bool, Number, String, Array, Object };
  using Member = std::pair<std::string, JsonValue>;

  JsonValue() = default;
  static JsonValue null() { return JsonValue(); }
  static JsonValue boolean(bool value);
  static JsonValue number(double value);
  static JsonValue integer(int64_t value);
  static JsonValue string(std::string value);
  static JsonValue array(std::vector<JsonValue> elements = {});
  static JsonValue object(std::vector<Member> members = {});

  Kind kind() const { return valueKind; }
  bool isNull() const { return valueKind == Kind::Null; }
  bool isBool() const { return valueKind == Kind::Bool; }
  bool isNumber() const { return valueKind == Kind::Number; }
  /// True for a number that is integral and representable as an int64.
  bool isInteger() const { return valueKind == Kind::Number && hasInteger; }
  bool isString() const { return valueKind == Kind::String; }
  bool isArray() const { return valueKind == Kind::Array; }
  bool isObject() const { return valueKind == Kind::Object; }

  /// Accessors; each must only be called on a value of the matching kind.
  bool getBool() const { return boolValue; }
  double getNumber() const { return numberValue; }
  int64_t getInteger() const { return integerValue; }
  const std::string &getString() const { return stringValue; }
  const std::vector<JsonValue> &getArray() const { return elements; }
  std::vector<JsonValue> &getArray() { return elements; }
  const std::vector<Member> &getObject() const { return members; }
  std::vector<Member> &getObject() { return members; }

  /// Returns the member named `key` of an object, or null when this is not an
  /// object or has no such member.
  const JsonValue *find(const std::string &key) const;
  /// Appends an element to an array value.
  void push(JsonValue element) { elements.push_back(std::move(element)); }
  /// Sets member `key` of an object value, replacing an existing one.
  void set(const std::string &key, JsonValue value);

  /// Where the value started in the parsed text (1-based), or 0 when the
  /// value was built in memory.
  int line() const { return sourceLine; }
  int column() const { return sourceColumn; }
  void setLocation(int line, int column) {
    sourceLine = line;
    sourceColumn = column;
  }
  /// "line:column: " for a parsed value, "" for a built one; the prefix of
  /// error messages about this value.
  std::string locationPrefix() const;

  /// A short name of the kind, for error messages ("an object", ...).
  static const char *kindName(Kind kind);

private:
  Kind valueKind = Kind::Null;
  bool boolValue = false;
  bool hasInteger = false;
  double numberValue = 0;
  int64_t integerValue = 0;
  std::string stringValue;
  std::vector<JsonValue> elements;
  std::vector<Member> members;
  int sourceLine = 0;
  int sourceColumn = 0;
};

/// Parses `text` as one JSON document. On failure returns false and sets
/// `error` to "line:column: message".
bool parseJson(const std::string &text, JsonValue &result, std::string &error);

/// The largest file parseJsonFile reads: far beyond any manifest (a few
/// KiB), small enough that its values fit in memory.
inline constexpr size_t maxJsonFileBytes = size_t(64) << 20;

/// Reads and parses the file at `path`. Errors are prefixed by the path; a
/// file that cannot be read (missing, a directory, an I/O error, larger than
/// maxJsonFileBytes) or does not fit in memory is an error, not an
/// exception.
bool parseJsonFile(const std::string &path, JsonValue &result,
                   std::string &error);

/// Serializes `value`. With `indent` > 0, nested values go on their own lines
/// indented by that many spaces per level; with 0 the output is one line.
/// Non-finite numbers, which JSON cannot represent, are written as null.
std::string writeJson(const JsonValue &value, int indent = 2);

} // namespace attn::runtime

#endif // ATTN_RUNTIME_JSON_H
