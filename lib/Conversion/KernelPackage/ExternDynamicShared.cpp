//===- ExternDynamicShared.cpp - dynamic shared memory as an extern array -===//
//
// The launch's dynamic shared memory must be the `.extern .shared` array of
// CUDA, laid out after every static shared variable; an internal zero-length
// global is printed as a one-byte static instead (see Passes.td).
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNEXTERNDYNAMICSHARED
#include "attn/Conversion/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;

namespace {
/// Whether `global` is what convert-gpu-to-nvvm makes of
/// gpu.dynamic_shared_memory: a zero-length array in shared memory with no
/// initializer.
bool isDynamicSharedMemory(LLVM::GlobalOp global) {
  auto array = dyn_cast<LLVM::LLVMArrayType>(global.getGlobalType());
  return global.getAddrSpace() ==
             static_cast<unsigned>(NVVM::NVVMMemorySpace::Shared) &&
         array && array.getNumElements() == 0 && !global.getValueOrNull() &&
         global.getInitializerRegion().empty();
}

struct AttnExternDynamicSharedPass
    : public attn::impl::AttnExternDynamicSharedBase<
          AttnExternDynamicSharedPass> {
  void runOnOperation() override {
    // Kernel modules only: a host global is never the launch's memory.
    getOperation()->walk([](gpu::GPUModuleOp module) {
      for (auto global : module.getOps<LLVM::GlobalOp>()) {
        if (!isDynamicSharedMemory(global) ||
            global.getLinkage() == LLVM::Linkage::External)
          continue;
        global.setLinkage(LLVM::Linkage::External);
        // A declaration: dso_local and visibility have no meaning here.
        global.setDsoLocal(false);
        global.setVisibility_(LLVM::Visibility::Default);
      }
    });
  }
};
} // namespace
