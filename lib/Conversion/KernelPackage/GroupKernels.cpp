//===- GroupKernels.cpp - one gpu.module per host function ----------------===//
//
// Moves the kernels that each host function launches into a single
// gpu.module named after the function, so that each function becomes one
// PTX module and one cubin. Kernels launched in clusters get their static
// cluster shape.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/SymbolTable.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNGROUPKERNELS
#include "attn/Conversion/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;

namespace {
/// A launch in clusters (sm_90+) gives its kernel the static cluster shape
/// (`nvvm.cluster_dim`, PTX .reqnctapercluster), so that the runtime's
/// plain cuLaunchKernel launches it in those clusters.
LogicalResult fixClusterShape(gpu::LaunchFuncOp launch, gpu::GPUFuncOp kernel) {
  if (!launch.hasClusterSize())
    return success();
  SmallVector<int32_t> dims;
  for (Value v : {launch.getClusterSizeX(), launch.getClusterSizeY(),
                  launch.getClusterSizeZ()}) {
    std::optional<int64_t> c = getConstantIntValue(v);
    if (!c)
      return launch.emitError("attn-group-kernels: the cluster shape must be "
                              "constant");
    dims.push_back(static_cast<int32_t>(*c));
  }
  kernel->setAttr("nvvm.cluster_dim",
                  DenseI32ArrayAttr::get(kernel.getContext(), dims));
  return success();
}

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
        if (failed(fixClusterShape(launch, kernel)))
          return signalPassFailure();
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
