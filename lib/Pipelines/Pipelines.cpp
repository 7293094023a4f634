//===- Pipelines.cpp - attn-mlir pass pipelines ---------------------------===//
//
// attn-to-llvm (CPU execution) and attn-to-cubin (GPU kernel packages).
// Written as textual pipelines of upstream and attn passes so that the
// exact sequence reads in one place and can be replayed with attn-opt.
//
//===----------------------------------------------------------------------===//

#include "attn/Pipelines/Pipelines.h"

#include "attn/Conversion/Passes.h"
#include "attn/CostModel/Passes.h"
#include "attn/Dialect/Attn/Transforms/Passes.h"
#include "attn/Target/Target.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"
#include "mlir/InitAllPasses.h"

#include <mutex>

using namespace mlir;

/// The textual pipelines below name passes: make sure they are registered,
/// also for a compiler that embeds attn-mlir and never called
/// attn::registerAllPasses(). Registering a pass twice is harmless.
static void ensurePassesRegistered() {
  static std::once_flag once;
  std::call_once(once, [] {
    mlir::registerAllPasses();
    attn::registerAttnPasses();
    attn::registerAttnConversionPasses();
    attn::registerAttnCostModelPasses();
  });
}

/// Appends a textual pipeline; a parse error is a bug in this file.
static void addPipeline(OpPassManager &pm, StringRef pipeline) {
  ensurePassesRegistered();
  std::string err;
  llvm::raw_string_ostream os(err);
  if (failed(parsePassPipeline(pipeline, pm, os)))
    llvm::report_fatal_error(llvm::Twine("attn pipeline does not parse: ") +
                             err);
}

void attn::buildAttnBufferizePipeline(OpPassManager &pm, bool tile) {
  if (tile)
    addPipeline(pm, "attn-tile");
  // Elementwise arith/math on tensors (the glue between attn ops, e.g. in
  // attn-grad's gradient functions) becomes linalg.generic, which bufferizes.
  addPipeline(pm, "attn-decompose,func.func(convert-elementwise-to-linalg),"
                  "canonicalize,cse,"
                  "eliminate-empty-tensors,empty-tensor-to-alloc-tensor,"
                  "one-shot-bufferize{bufferize-function-boundaries "
                  "allow-return-allocs-from-loops "
                  "function-boundary-type-conversion=identity-layout-map},"
                  "buffer-results-to-out-params{hoist-static-allocs "
                  "modify-public-functions},"
                  "canonicalize");
}

void attn::buildAttnToLLVMPipeline(OpPassManager &pm,
                                   const AttnToLLVMOptions &options) {
  // Tiled loops on the host: the cost model of the host chip picks their
  // schedules where one ships (none does yet: the defaults apply).
  if (options.tile)
    addPipeline(pm, llvm::formatv("attn-select-schedule{{chip=host model={0}}",
                                  options.model.getValue())
                        .str());
  buildAttnBufferizePipeline(pm, options.tile);
  addPipeline(pm,
              "scf-forall-to-for,buffer-deallocation-pipeline,"
              "func.func(attn-lower-host-copies,convert-linalg-to-loops),"
              "expand-strided-metadata,lower-affine,convert-scf-to-cf,"
              "arith-expand{include-bf16},convert-math-to-llvm,"
              "convert-math-to-libm,finalize-memref-to-llvm,"
              "convert-arith-to-llvm,convert-func-to-llvm,"
              "convert-cf-to-llvm,reconcile-unrealized-casts");
}

void attn::buildAttnToCubinPipeline(OpPassManager &pm,
                                    const AttnToCubinOptions &options) {
  addPipeline(pm, "attn-describe-functions");
  if (options.kernels)
    addPipeline(pm, llvm::formatv("attn-select-schedule{{chip={0} model={1} "
                                  "guard={2}},"
                                  "func.func(attn-map-to-gpu{{chip={0}})",
                                  options.chip.getValue(),
                                  options.model.getValue(),
                                  options.guard ? 1 : 0)
                        .str());
  buildAttnBufferizePipeline(pm);
  std::string ptxasOpt =
      options.ptxas.empty() ? "" : " ptxas=" + options.ptxas.getValue();
  if (!options.assemble)
    ptxasOpt += " assemble=0";
  // Kernels are planned for the named chip (an H200 and an H100 differ in
  // facts, not in ISA); PTX and ptxas take its ISA.
  std::string isa = options.chip.getValue();
  if (const ChipInfo *chip = lookupChip(isa); chip && chip->isGpu())
    isa = chip->isa.str();
  addPipeline(
      pm, llvm::formatv(
              "func.func(attn-lower-host-copies,"
              "convert-linalg-to-parallel-loops,canonicalize,"
              "attn-loops-to-gpu{{threads={0}}),"
              "gpu-kernel-outlining,attn-group-kernels,"
              "nvvm-attach-target{{chip={1} features={2}},"
              "gpu.module(expand-strided-metadata,lower-affine,"
              "convert-scf-to-cf,convert-nvgpu-to-nvvm,"
              "convert-gpu-to-nvvm{{use-bare-ptr-memref-call-conv},"
              "attn-extern-dynamic-shared,convert-nvvm-to-llvm,"
              "canonicalize,cse,reconcile-unrealized-casts),"
              "gpu-module-to-binary{{format=isa},"
              "attn-emit-kernel-package{{package-dir={3} chip={1}{4}}",
              options.threads.getValue(), isa,
              options.features.getValue(), options.packageDir.getValue(),
              ptxasOpt)
              .str());
}

void attn::registerAttnPipelines() {
  static std::once_flag once;
  std::call_once(once, [] {
  PassPipelineRegistration<AttnToLLVMOptions>(
      "attn-to-llvm",
      "Lower attn ops (tiled with tile=1, else decomposed) to the LLVM "
      "dialect for the host CPU",
      [](OpPassManager &pm, const AttnToLLVMOptions &options) {
        buildAttnToLLVMPipeline(pm, options);
      });
  PassPipelineRegistration<AttnToCubinOptions>(
      "attn-to-cubin",
      "Compile attn ops to a GPU kernel package (cubin + JSON manifest)",
      buildAttnToCubinPipeline);
  });
}
