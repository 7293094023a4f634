//===- Executor.cpp - Something that runs one compiled function -----------===//

#include "attn/Runtime/Executor.h"

#include <algorithm>

using namespace attn::runtime;

Executor::~Executor() = default;

double attn::runtime::medianOf(std::vector<double> &samples) {
  if (samples.empty())
    return 0;
  size_t middle = samples.size() / 2;
  std::nth_element(samples.begin(), samples.begin() + middle, samples.end());
  double upper = samples[middle];
  if (samples.size() % 2)
    return upper;
  double lower = *std::max_element(samples.begin(), samples.begin() + middle);
  return (lower + upper) / 2;
}
