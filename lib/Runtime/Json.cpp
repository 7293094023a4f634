//===- Json.cpp - Small JSON value, parser and writer ---------------------===//

#include "attn/Runtime/Json.h"

#include "ReadFile.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <new>

using namespace attn::runtime;

//===----------------------------------------------------------------------===//
// JsonValue
//===----------------------------------------------------------------------===//

JsonValue JsonValue::boolean(bool value) {
  JsonValue result;
  result.valueKind = Kind::Bool;
  result.boolValue = value;
  return result;
}

JsonValue JsonValue::number(double value) {
  JsonValue result;
  result.valueKind = Kind::Number;
  result.numberValue = value;
  // 2^63 is exactly representable; integral doubles in [-2^63, 2^63) fit.
  if (std::isfinite(value) && std::trunc(value) == value &&
      value >= -9223372036854775808.0 && value < 9223372036854775808.0) {
    result.hasInteger = true;
    result.integerValue = static_cast<int64_t>(value);
  }
  return result;
}

JsonValue JsonValue::integer(int64_t value) {
  JsonValue result;
  result.valueKind = Kind::Number;
  result.numberValue = static_cast<double>(value);
  result.hasInteger = true;
  result.integerValue = value;
  return result;
}

JsonValue JsonValue::string(std::string value) {
  JsonValue result;
  result.valueKind = Kind::String;
  result.stringValue = std::move(value);
  return result;
}

JsonValue JsonValue::array(std::vector<JsonValue> elements) {
  JsonValue result;
  result.valueKind = Kind::Array;
  result.elements = std::move(elements);
  return result;
}

JsonValue JsonValue::object(std::vector<Member> members) {
  JsonValue result;
  result.valueKind = Kind::Object;
  result.members = std::move(members);
  return result;
}

const JsonValue *JsonValue::find(const std::string &key) const {
  if (valueKind != Kind::Object)
    return nullptr;
  for (const Member &member : members)
    if (member.first == key)
      return &member.second;
  return nullptr;
}

void JsonValue::set(const std::string &key, JsonValue value) {
  for (Member &member : members) {
    if (member.first == key) {
      member.second = std::move(value);
      return;
    }
  }
  members.emplace_back(key, std::move(value));
}

std::string JsonValue::locationPrefix() const {
  if (sourceLine <= 0)
    return "";
  return std::to_string(sourceLine) + ":" + std::to_string(sourceColumn) + ": ";
}

const char *JsonValue::kindName(Kind kind) {
  switch (kind) {
  case Kind::Null:
    return "null";
  case Kind::Bool:
    return "a boolean";
  case Kind::Number:
    return "a number";
  case Kind::String:
    return "a string";
  case Kind::Array:
    return "an array";
  case Kind::Object:
    return "an object";
  }
  return "a value";
}

//===----------------------------------------------------------------------===//
// Parser
//===----------------------------------------------------------------------===//

namespace {

/// Recursive-descent parser over the whole document text. It tracks the line
/// and column of the current position for error messages and value
/// locations.
class JsonParser {
public:
  explicit JsonParser(const std::string &text) : text(text) {}

  bool parseDocument(JsonValue &result, std::string &error) {
    skipWhitespace();
    if (!parseValue(result, /*depth=*/0)) {
      error = message;
      return false;
    }
    skipWhitespace();
    if (pos != text.size()) {
      fail("unexpected text after the JSON value");
      error = message;
      return false;
    }
    return true;
  }

private:
  /// Deep enough for any manifest; shallow enough not to exhaust the stack.
  static constexpr int maxDepth = 256;

  const std::string &text;
  size_t pos = 0;
  int line = 1;
  int column = 1;
  std::string message;

  bool atEnd() const { return pos >= text.size(); }
  char peek() const { return atEnd() ? '\0' : text[pos]; }

  void advance() {
    if (text[pos] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
    ++pos;
  }

  bool fail(const std::string &what) {
    message = std::to_string(line) + ":" + std::to_string(column) + ": " + what;
    return false;
  }

  static std::string describe(char c) {
    if (c == '\0')
      return "end of input";
    if (static_cast<unsigned char>(c) < 0x20 ||
        static_cast<unsigned char>(c) >= 0x7f) {
      char buffer[16];
      std::snprintf(buffer, sizeof(buffer), "byte 0x%02x",
                    static_cast<unsigned char>(c));
      return buffer;
    }
    return std::string("'") + c + "'";
  }

  void skipWhitespace() {
    while (!atEnd() && (peek() == ' ' || peek() == '\t' || peek() == '\n' ||
                        peek() == '\r'))
      advance();
  }

  bool parseValue(JsonValue &result, int depth) {
    if (depth > maxDepth)
      return fail("values nested more than 256 deep");
    int startLine = line, startColumn = column;
    bool ok;
    switch (peek()) {
    case '{':
      ok = parseObject(result, depth);
      break;
    case '[':
      ok = parseArray(result, depth);
      break;
    case '"': {
      std::string value;
      ok = parseString(value);
      if (ok)
        result = JsonValue::string(std::move(value));
      break;
    }
    case 't':
      ok = parseKeyword("true", JsonValue::boolean(true), result);
      break;
    case 'f':
      ok = parseKeyword("false", JsonValue::boolean(false), result);
      break;
    case 'n':
      ok = parseKeyword("null", JsonValue::null(), result);
      break;
    default:
      if (peek() == '-' || (peek() >= '0' && peek() <= '9'))
        ok = parseNumber(result);
      else
        ok = fail("expected a JSON value, found " + describe(peek()));
      break;
    }
    if (ok)
      result.setLocation(startLine, startColumn);
    return ok;
  }

  bool parseKeyword(const char *keyword, JsonValue value, JsonValue &result) {
    for (const char *c = keyword; *c; ++c) {
      if (peek() != *c)
        return fail(std::string("invalid literal; expected '") + keyword + "'");
      advance();
    }
    result = std::move(value);
    return true;
  }

  bool parseObject(JsonValue &result, int depth) {
    advance(); // '{'
    result = JsonValue::object();
    skipWhitespace();
    if (peek() == '}') {
      advance();
      return true;
    }
    while (true) {
      if (peek() != '"')
        return fail("expected a member name string, found " + describe(peek()));
      int keyLine = line, keyColumn = column;
      std::string key;
      if (!parseString(key))
        return false;
      if (result.find(key)) {
        line = keyLine;
        column = keyColumn;
        return fail("duplicate member \"" + key + "\"");
      }
      skipWhitespace();
      if (peek() != ':')
        return fail("expected ':' after a member name, found " +
                    describe(peek()));
      advance();
      skipWhitespace();
      JsonValue value;
      if (!parseValue(value, depth + 1))
        return false;
      result.getObject().emplace_back(std::move(key), std::move(value));
      skipWhitespace();
      if (peek() == ',') {
        advance();
        skipWhitespace();
        continue;
      }
      if (peek() == '}') {
        advance();
        return true;
      }
      return fail("expected ',' or '}' in an object, found " +
                  describe(peek()));
    }
  }

  bool parseArray(JsonValue &result, int depth) {
    advance(); // '['
    result = JsonValue::array();
    skipWhitespace();
    if (peek() == ']') {
      advance();
      return true;
    }
    while (true) {
      JsonValue element;
      if (!parseValue(element, depth + 1))
        return false;
      result.push(std::move(element));
      skipWhitespace();
      if (peek() == ',') {
        advance();
        skipWhitespace();
        continue;
      }
      if (peek() == ']') {
        advance();
        return true;
      }
      return fail("expected ',' or ']' in an array, found " + describe(peek()));
    }
  }

  bool parseHexQuad(unsigned &value) {
    value = 0;
    for (int i = 0; i < 4; ++i) {
      char c = peek();
      unsigned digit;
      if (c >= '0' && c <= '9')
        digit = c - '0';
      else if (c >= 'a' && c <= 'f')
        digit = c - 'a' + 10;
      else if (c >= 'A' && c <= 'F')
        digit = c - 'A' + 10;
      else
        return fail("expected 4 hex digits after \\u");
      value = value * 16 + digit;
      advance();
    }
    return true;
  }

  static void appendUtf8(std::string &out, unsigned codePoint) {
    if (codePoint < 0x80) {
      out += static_cast<char>(codePoint);
    } else if (codePoint < 0x800) {
      out += static_cast<char>(0xC0 | (codePoint >> 6));
      out += static_cast<char>(0x80 | (codePoint & 0x3F));
    } else if (codePoint < 0x10000) {
      out += static_cast<char>(0xE0 | (codePoint >> 12));
      out += static_cast<char>(0x80 | ((codePoint >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (codePoint & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (codePoint >> 18));
      out += static_cast<char>(0x80 | ((codePoint >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((codePoint >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (codePoint & 0x3F));
    }
  }

  bool parseString(std::string &out) {
    advance(); // '"'
    while (true) {
      if (atEnd())
        return fail("unterminated string");
      char c = peek();
      if (c == '"') {
        advance();
        return true;
      }
      if (static_cast<unsigned char>(c) < 0x20)
        return fail("control character " + describe(c) +
                    " in a string (escape it)");
      if (c != '\\') {
        out += c;
        advance();
        continue;
      }
      advance(); // '\\'
      char escape = peek();
      switch (escape) {
      case '"':
      case '\\':
      case '/':
        out += escape;
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'u': {
        advance();
        unsigned codePoint;
        if (!parseHexQuad(codePoint))
          return false;
        if (codePoint >= 0xDC00 && codePoint <= 0xDFFF)
          return fail("unpaired low surrogate in \\u escape");
        if (codePoint >= 0xD800 && codePoint <= 0xDBFF) {
          if (peek() != '\\')
            return fail("high surrogate not followed by a low surrogate");
          advance();
          if (peek() != 'u')
            return fail("high surrogate not followed by a low surrogate");
          advance();
          unsigned low;
          if (!parseHexQuad(low))
            return false;
          if (low < 0xDC00 || low > 0xDFFF)
            return fail("high surrogate not followed by a low surrogate");
          codePoint = 0x10000 + ((codePoint - 0xD800) << 10) + (low - 0xDC00);
        }
        appendUtf8(out, codePoint);
        continue; // parseHexQuad already advanced past the digits.
      }
      default:
        return fail("invalid escape \\" + std::string(1, escape) +
                    " in a string");
      }
      advance();
    }
  }

  bool parseDigits() {
    if (!(peek() >= '0' && peek() <= '9'))
      return fail("expected a digit in a number, found " + describe(peek()));
    while (peek() >= '0' && peek() <= '9')
      advance();
    return true;
  }

  bool parseNumber(JsonValue &result) {
    size_t start = pos;
    bool integral = true;
    if (peek() == '-')
      advance();
    if (peek() == '0') {
      advance();
      if (peek() >= '0' && peek() <= '9')
        return fail("leading zeros are not allowed in a number");
    } else if (!parseDigits()) {
      return false;
    }
    if (peek() == '.') {
      integral = false;
      advance();
      if (!parseDigits())
        return false;
    }
    if (peek() == 'e' || peek() == 'E') {
      integral = false;
      advance();
      if (peek() == '+' || peek() == '-')
        advance();
      if (!parseDigits())
        return false;
    }
    std::string token = text.substr(start, pos - start);
    if (integral) {
      errno = 0;
      char *end = nullptr;
      long long value = std::strtoll(token.c_str(), &end, 10);
      if (errno == 0 && end && *end == '\0') {
        result = JsonValue::integer(value);
        return true;
      }
      // Out of int64 range: fall through and keep it as a double.
    }
    result = JsonValue::number(std::strtod(token.c_str(), nullptr));
    return true;
  }
};

} // namespace

bool attn::runtime::parseJson(const std::string &text, JsonValue &result,
                              std::string &error) {
  // Values take several times the bytes of their text: a large document can
  // exhaust memory, which is an error like any other.
  try {
    JsonParser parser(text);
    return parser.parseDocument(result, error);
  } catch (const std::bad_alloc &) {
    result = JsonValue();
    error = "out of memory parsing " + std::to_string(text.size()) +
            " bytes of JSON";
    return false;
  }
}

bool attn::runtime::parseJsonFile(const std::string &path, JsonValue &result,
                                  std::string &error) {
  std::string contents, reason;
  if (!detail::readWholeFile(path, maxJsonFileBytes, contents, reason)) {
    error = path + ": cannot read the file: " + reason;
    return false;
  }
  std::string parseError;
  if (!parseJson(contents, result, parseError)) {
    bool located =
        !parseError.empty() && parseError[0] >= '0' && parseError[0] <= '9';
    error = path + (located ? ":" : ": ") + parseError;
    return false;
  }
  return true;
}

//===----------------------------------------------------------------------===//
// Writer
//===----------------------------------------------------------------------===//

static void writeString(const std::string &value, std::string &out) {
  out += '"';
  for (char c : value) {
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\r':
      out += "\\r";
      break;
    case '\t':
      out += "\\t";
      break;
    case '\b':
      out += "\\b";
      break;
    case '\f':
      out += "\\f";
      break;
    default:
      if (static_cast<unsigned char>(c) < 0x20) {
        char buffer[8];
        std::snprintf(buffer, sizeof(buffer), "\\u%04x",
                      static_cast<unsigned char>(c));
        out += buffer;
      } else {
        out += c;
      }
    }
  }
  out += '"';
}

static void writeNumber(const JsonValue &value, std::string &out) {
  if (value.isInteger()) {
    out += std::to_string(value.getInteger());
    return;
  }
  double number = value.getNumber();
  if (!std::isfinite(number)) {
    out += "null";
    return;
  }
  // The shortest of %.15g/%.16g/%.17g that reads back exactly.
  char buffer[32];
  for (int precision = 15; precision <= 17; ++precision) {
    std::snprintf(buffer, sizeof(buffer), "%.*g", precision, number);
    if (std::strtod(buffer, nullptr) == number)
      break;
  }
  out += buffer;
}

static void writeValue(const JsonValue &value, int indent, int depth,
                       std::string &out) {
  auto newline = [&](int level) {
    if (indent <= 0)
      return;
    out += '\n';
    out.append(static_cast<size_t>(indent * level), ' ');
  };
  switch (value.kind()) {
  case JsonValue::Kind::Null:
    out += "null";
    return;
  case JsonValue::Kind::Bool:
    out += value.getBool() ? "true" : "false";
    return;
  case JsonValue::Kind::Number:
    writeNumber(value, out);
    return;
  case JsonValue::Kind::String:
    writeString(value.getString(), out);
    return;
  case JsonValue::Kind::Array: {
    const std::vector<JsonValue> &elements = value.getArray();
    if (elements.empty()) {
      out += "[]";
      return;
    }
    // Arrays of scalars (shapes, grids) stay on one line.
    bool allScalars = true;
    for (const JsonValue &element : elements)
      allScalars &= !element.isArray() && !element.isObject();
    out += '[';
    for (size_t i = 0; i < elements.size(); ++i) {
      if (i)
        out += allScalars || indent <= 0 ? ", " : ",";
      if (!allScalars)
        newline(depth + 1);
      writeValue(elements[i], indent, depth + 1, out);
    }
    if (!allScalars)
      newline(depth);
    out += ']';
    return;
  }
  case JsonValue::Kind::Object: {
    const std::vector<JsonValue::Member> &members = value.getObject();
    if (members.empty()) {
      out += "{}";
      return;
    }
    out += '{';
    for (size_t i = 0; i < members.size(); ++i) {
      if (i)
        out += indent <= 0 ? ", " : ",";
      newline(depth + 1);
      writeString(members[i].first, out);
      out += ": ";
      writeValue(members[i].second, indent, depth + 1, out);
    }
    newline(depth);
    out += '}';
    return;
  }
  }
}

std::string attn::runtime::writeJson(const JsonValue &value, int indent) {
  std::string out;
  writeValue(value, indent, 0, out);
  return out;
}
