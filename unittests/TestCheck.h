//===- TestCheck.h - Minimal checks for the unit programs ------*- C++ -*-===//
//
// The unit programs under unittests/ must build with nothing but a C++
// compiler (the runtime-only build has no LLVM, hence no gtest), so they use
// these few checks instead of a test framework. Each failed check prints its
// location; the program ends with "N passed, M failed" and exits nonzero if
// any failed.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_UNITTESTS_TESTCHECK_H
#define ATTN_UNITTESTS_TESTCHECK_H

#include <cmath>
#include <cstdio>
#include <string>

namespace attn::test {

/// Counts of checks that passed and failed.
struct CheckCounts {
  int passed = 0;
  int failed = 0;
};

inline CheckCounts &checkCounts() {
  static CheckCounts counts;
  return counts;
}

inline bool recordCheck(bool ok, const char *file, int line,
                        const std::string &what) {
  if (ok) {
    ++checkCounts().passed;
    return true;
  }
  ++checkCounts().failed;
  std::printf("%s:%d: check failed: %s\n", file, line, what.c_str());
  return false;
}

/// True when `actual` is `expected` within `tolerance` (absolute plus
/// relative), or both are the same infinity.
inline bool nearlyEqual(double actual, double expected, double tolerance) {
  if (std::isinf(expected) || std::isinf(actual))
    return actual == expected;
  return std::fabs(actual - expected) <= tolerance * (1 + std::fabs(expected));
}

inline std::string describeNear(double actual, double expected) {
  char buffer[96];
  std::snprintf(buffer, sizeof(buffer), "got %.17g, expected %.17g", actual,
                expected);
  return buffer;
}

/// Prints the summary and returns the process exit code.
inline int reportChecks() {
  std::printf("%d passed, %d failed\n", checkCounts().passed,
              checkCounts().failed);
  return checkCounts().failed ? 1 : 0;
}

} // namespace attn::test

#define ATTN_CHECK(condition)                                                  \
  ::attn::test::recordCheck(static_cast<bool>(condition), __FILE__, __LINE__,  \
                            #condition)

#define ATTN_CHECK_MSG(condition, message)                                     \
  ::attn::test::recordCheck(static_cast<bool>(condition), __FILE__, __LINE__,  \
                            std::string(#condition) + ": " + (message))

#define ATTN_CHECK_NEAR(actual, expected, tolerance)                           \
  ::attn::test::recordCheck(                                                   \
      ::attn::test::nearlyEqual((actual), (expected), (tolerance)), __FILE__,  \
      __LINE__,                                                                \
      std::string(#actual) + ": " +                                            \
          ::attn::test::describeNear((actual), (expected)))

#endif // ATTN_UNITTESTS_TESTCHECK_H
