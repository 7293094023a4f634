/*===- attn-c/Dialects.h - C API of attn-mlir ---------------------*- C -*-===*\
|*                                                                            *|
|* Registers the attn dialect, its passes and pipelines from C (and from any  *|
|* language with a C FFI), on top of the upstream MLIR C API.                 *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef ATTN_C_DIALECTS_H
#define ATTN_C_DIALECTS_H

#include "mlir-c/IR.h"
#include "mlir-c/Pass.h"

#ifdef __cplusplus
extern "C" {
#endif

/// mlirGetDialectHandle__attn__(): the handle of the attn dialect alone.
MLIR_DECLARE_CAPI_DIALECT_REGISTRATION(Attn, attn);

/// Adds the attn dialect and every upstream dialect and interface that the
/// attn pipelines produce (linalg, tensor, memref, scf, gpu, nvvm, llvm, ...)
/// to `registry`.
MLIR_CAPI_EXPORTED void attnRegisterAllDialects(MlirDialectRegistry registry);

/// Registers the attn passes and pipelines (attn-decompose, attn-to-llvm,
/// attn-to-cubin, ...) together with the upstream passes, so that
/// mlirParsePassPipeline can name them.
MLIR_CAPI_EXPORTED void attnRegisterAllPasses(void);

#ifdef __cplusplus
}
#endif

#endif /* ATTN_C_DIALECTS_H */
