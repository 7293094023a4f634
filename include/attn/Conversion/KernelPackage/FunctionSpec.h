//===- FunctionSpec.h - what a kernel package says of a function -*- C++ -*-===//
//
// attn-describe-functions attaches to every public function the description
// the runtime needs (arguments, results, the op); attn-map-to-gpu adds how
// it mapped the op; attn-emit-kernel-package writes it into the manifest.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_CONVERSION_KERNELPACKAGE_FUNCTIONSPEC_H
#define ATTN_CONVERSION_KERNELPACKAGE_FUNCTIONSPEC_H

#include "attn/Dialect/Attn/IR/AttnDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Operation.h"
#include "llvm/Support/JSON.h"

namespace mlir::attn {

/// Describes `func` for attn-run and the kernel package manifest: its
/// arguments (inputs, then results as outputs) with dtype and shape, and,
/// when the body is a single attn op, that op's name and effective
/// attributes. Must be called on the tensor-level function, before
/// bufferization. Fails (with a diagnostic) on dynamic shapes or element
/// types the runtime cannot hold.
FailureOr<FunctionSpecAttr> describeFunction(func::FuncOp func);

/// The manifest's JSON entry of a function spec (docs/KernelPackage.md):
/// the one place that writes it (attn-emit-kernel-package, and attn-run's
/// CPU mode, which needs the same description).
llvm::json::Object functionSpecToJson(FunctionSpecAttr spec);

/// Records in the description of the function enclosing `op` (when it has
/// one) that attn-map-to-gpu computes `op` under `schedule` and, for
/// tensor-core kernels, with MMA instruction `tensorCore`; the manifest
/// carries it to the runtime and the benchmarks.
void recordKernelMapping(Operation *op, ScheduleAttr schedule,
                         StringRef tensorCore);

} // namespace mlir::attn

#endif // ATTN_CONVERSION_KERNELPACKAGE_FUNCTIONSPEC_H
