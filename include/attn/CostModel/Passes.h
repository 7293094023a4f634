//===- Passes.h - cost model passes ------------------------------*- C++ -*-===//

#ifndef ATTN_COSTMODEL_PASSES_H
#define ATTN_COSTMODEL_PASSES_H

#include "mlir/Pass/Pass.h"

namespace mlir::attn {

#define GEN_PASS_DECL
#include "attn/CostModel/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "attn/CostModel/Passes.h.inc"

} // namespace mlir::attn

#endif // ATTN_COSTMODEL_PASSES_H
