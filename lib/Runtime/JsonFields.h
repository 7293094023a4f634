//===- JsonFields.h - Checked reads of JSON object members ------*- C++ -*-===//
//
// Private to lib/Runtime: typed reads of manifest members that report what is
// wrong and where ("12:5: functions[0].args[1].dtype: expected a string").
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LIB_RUNTIME_JSONFIELDS_H
#define ATTN_LIB_RUNTIME_JSONFIELDS_H

#include "attn/Runtime/Json.h"

#include <cstdint>
#include <limits>
#include <string>

namespace attn::runtime::detail {

/// Sets `error` to a message about `value` at `path`; returns false.
inline bool failAt(const JsonValue &value, const std::string &path,
                   const std::string &message, std::string &error) {
  error = value.locationPrefix() + (path.empty() ? "" : path + ": ") + message;
  return false;
}

/// `path` extended by a member name or an array index.
inline std::string memberPath(const std::string &path, const std::string &key) {
  return path.empty() ? key : path + "." + key;
}
inline std::string elementPath(const std::string &path, size_t index) {
  return path + "[" + std::to_string(index) + "]";
}

/// Checks that `value` is an object.
inline bool expectObject(const JsonValue &value, const std::string &path,
                         std::string &error) {
  if (value.isObject())
    return true;
  return failAt(value, path,
                std::string("expected an object, found ") +
                    JsonValue::kindName(value.kind()),
                error);
}

/// Member `key` of `object`; fails (returns null) when it is absent.
inline const JsonValue *requireMember(const JsonValue &object,
                                      const std::string &path,
                                      const std::string &key,
                                      std::string &error) {
  if (const JsonValue *member = object.find(key))
    return member;
  failAt(object, path, "missing member \"" + key + "\"", error);
  return nullptr;
}

/// Reads a required string member.
inline bool readString(const JsonValue &object, const std::string &path,
                       const std::string &key, std::string &out,
                       std::string &error) {
  const JsonValue *member = requireMember(object, path, key, error);
  if (!member)
    return false;
  if (!member->isString())
    return failAt(*member, memberPath(path, key),
                  std::string("expected a string, found ") +
                      JsonValue::kindName(member->kind()),
                  error);
  out = member->getString();
  return true;
}

/// Checks that `value` is an integer in [minValue, maxValue].
inline bool checkInteger(const JsonValue &value, const std::string &path,
                         int64_t minValue, int64_t maxValue, int64_t &out,
                         std::string &error) {
  if (!value.isInteger())
    return failAt(value, path,
                  value.isNumber()
                      ? std::string("expected an integer, found ") +
                            writeJson(value, 0)
                      : std::string("expected an integer, found ") +
                            JsonValue::kindName(value.kind()),
                  error);
  int64_t integer = value.getInteger();
  if (integer < minValue && (minValue == 0 || minValue == 1))
    return failAt(value, path,
                  std::string("expected a ") +
                      (minValue == 0 ? "non-negative" : "positive") +
                      " integer, found " + std::to_string(integer),
                  error);
  if (integer < minValue || integer > maxValue)
    return failAt(value, path,
                  "value " + std::to_string(integer) + " is out of range [" +
                      std::to_string(minValue) + ", " +
                      std::to_string(maxValue) + "]",
                  error);
  out = integer;
  return true;
}

/// Reads a required integer member in [minValue, maxValue].
inline bool
readInteger(const JsonValue &object, const std::string &path,
            const std::string &key, int64_t &out, std::string &error,
            int64_t minValue = std::numeric_limits<int64_t>::min(),
            int64_t maxValue = std::numeric_limits<int64_t>::max()) {
  const JsonValue *member = requireMember(object, path, key, error);
  if (!member)
    return false;
  return checkInteger(*member, memberPath(path, key), minValue, maxValue, out,
                      error);
}

/// Reads a required array member.
inline const JsonValue *readArray(const JsonValue &object,
                                  const std::string &path,
                                  const std::string &key, std::string &error) {
  const JsonValue *member = requireMember(object, path, key, error);
  if (!member)
    return nullptr;
  if (!member->isArray()) {
    failAt(*member, memberPath(path, key),
           std::string("expected an array, found ") +
               JsonValue::kindName(member->kind()),
           error);
    return nullptr;
  }
  return member;
}

} // namespace attn::runtime::detail

#endif // ATTN_LIB_RUNTIME_JSONFIELDS_H
