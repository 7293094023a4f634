//===- Executor.h - Something that runs one compiled function ---*- C++ -*-===//
//
// The interface attn-run uses to run a compiled function: on the GPU from a
// kernel package (KernelPackage.h), or on the CPU through the MLIR JIT
// (tools/attn-run/MlirFrontend.h). Arguments are host buffers laid out as the
// function's FunctionSpec describes.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_RUNTIME_EXECUTOR_H
#define ATTN_RUNTIME_EXECUTOR_H

#include "attn/Runtime/FunctionSpec.h"

#include <string>
#include <vector>

namespace attn::runtime {

/// Runs one compiled function.
class Executor {
public:
  virtual ~Executor();

  /// Where the function runs, for reports ("NVIDIA H100 80GB HBM3").
  virtual std::string deviceName() const = 0;

  /// Runs once: hostArgs[i] points at host memory of spec.args[i] (inputs
  /// filled, outputs to be written). Returns false and sets `error` on
  /// failure.
  virtual bool run(const std::vector<void *> &hostArgs, std::string &error) = 0;

  /// Median milliseconds of `iterations` runs after `warmup` runs of the
  /// compute alone (device-resident data for the GPU), using the inputs of
  /// the last run().
  virtual bool time(int warmup, int iterations, double &medianMs,
                    std::string &error) = 0;
};

/// The median of `samples` (the mean of the middle two for an even count);
/// 0 for none. Reorders `samples`.
double medianOf(std::vector<double> &samples);

} // namespace attn::runtime

#endif // ATTN_RUNTIME_EXECUTOR_H
