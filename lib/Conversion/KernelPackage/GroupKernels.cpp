//===- GroupKernels.cpp - one gpu.module per host function ----------------===//
//
// Moves the kernels that each host function launches into a single
// gpu.module named after the function, so that each function becomes one
// PTX module and one cubin.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/SymbolTable.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNGROUPKERNELS
#include "attn/Conversion/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;

namespace {
struct AttnGroupKernelsPass
    : public attn::impl::AttnGroupKernelsBase<AttnGroupKernelsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    llvm::SmallPtrSet<Operation *, 8> emptied;
    for (auto func : module.getOps<func::FuncOp>()) {
      SmallVector<gpu::LaunchFuncOp> launches;
      func.walk([&](gpu::LaunchFuncOp l) { launches.push_back(l); });
      if (launches.empty())
        continue;
      OpBuilder b(module.getContext());
      b.setInsertionPointAfter(func);
      std::string name = (func.getSymName() + "_kernels").str();
      auto group = gpu::GPUModuleOp::create(b, func.getLoc(), name);
      symbols.insert(group);
      SymbolTable groupSymbols(group);
      for (gpu::LaunchFuncOp launch : launches) {
        auto source = symbols.lookup<gpu::GPUModuleOp>(
            launch.getKernelModuleName());
        if (!source) {
          launch.emitError("attn-group-kernels: kernel module not found");
          return signalPassFailure();
        }
        if (source == group)
          continue;
        auto kernel = source.lookupSymbol<gpu::GPUFuncOp>(launch.getKernelName());
        if (!kernel) {
          launch.emitError("attn-group-kernels: kernel not found (launched "
                           "by two host functions?)");
          return signalPassFailure();
        }
        kernel->moveBefore(group.getBody(), group.getBody()->end());
        groupSymbols.insert(kernel); // renames on a clash
        launch.setKernelAttr(SymbolRefAttr::get(
            group.getSymNameAttr(),
            ArrayRef<FlatSymbolRefAttr>{
                FlatSymbolRefAttr::get(kernel.getNameAttr())}));
        emptied.insert(source);
      }
    }
    for (Operation *op : emptied)
      if (cast<gpu::GPUModuleOp>(op).getBody()->empty())
        op->erase();
  }
};
} // namespace
