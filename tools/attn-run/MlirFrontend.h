//===- MlirFrontend.h - attn-run's MLIR-linked half -------------*- C++ -*-===//
//
// What attn-run can do only in a full (MLIR-linked) build: compile an .mlir
// file into a kernel package, or JIT it for the CPU. The runtime-only build
// (ATTN_RUNTIME_ONLY) leaves these out and takes prebuilt packages.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_TOOLS_ATTN_RUN_MLIRFRONTEND_H
#define ATTN_TOOLS_ATTN_RUN_MLIRFRONTEND_H

#include "attn/Runtime/Executor.h"

#include <memory>
#include <string>

namespace attn::run {

/// Compiles the .mlir file at `mlirPath` with the attn-to-cubin pipeline for
/// `chip` into the kernel package directory `packageDir`. Returns false and
/// sets `error` on failure.
bool compileToPackage(const std::string &mlirPath, const std::string &chip,
                      const std::string &packageDir, std::string &error);

/// Lowers function `function` of the .mlir file at `mlirPath` to LLVM (the
/// attn-to-llvm pipeline, tiled by attn-tile first when `tile`) and
/// JIT-compiles it for this CPU. Fills `spec` with
/// the function's description (the same JSON object a package manifest holds
/// under "functions"). Returns null and sets `error` on failure.
std::unique_ptr<runtime::Executor>
createCpuExecutor(const std::string &mlirPath, const std::string &function,
                  bool tile, runtime::FunctionSpec &spec, std::string &error);

} // namespace attn::run

#endif // ATTN_TOOLS_ATTN_RUN_MLIRFRONTEND_H
