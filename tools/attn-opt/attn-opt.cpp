//===- attn-opt.cpp - the attn-mlir optimizer driver ----------------------===//
//
// An mlir-opt for the attn dialect: parses MLIR, runs attn and upstream
// passes and pipelines (--attn-to-cubin among them), prints the result.
//
//===----------------------------------------------------------------------===//

#include "attn/InitAll.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  mlir::attn::registerAllDialects(registry);
  mlir::attn::registerAllPasses();
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "attn-mlir optimizer driver\n", registry));
}
