//===- InitAll.h - register everything attn-mlir provides -------*- C++ -*-===//
//
// The one registration entry used by attn-opt, attn-run, the C API and the
// tests: the dialects attn-mlir parses and produces, their external
// interfaces, the passes and the pipelines.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_INITALL_H
#define ATTN_INITALL_H

namespace mlir {
class DialectRegistry;

namespace attn {

/// Adds the attn dialect and every upstream dialect that attn pipelines
/// produce (linalg, tensor, memref, scf, gpu, nvvm, llvm, ...), together with
/// the interfaces (bufferization, LLVM translation, NVVM target) they need.
void registerAllDialects(DialectRegistry &registry);

/// Registers the attn passes and pipelines, plus the upstream passes, so
/// that they can be named on the attn-opt command line.
void registerAllPasses();

} // namespace attn
} // namespace mlir

#endif // ATTN_INITALL_H
