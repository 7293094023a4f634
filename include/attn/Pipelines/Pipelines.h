//===- Pipelines.h - attn-mlir pass pipelines -------------------*- C++ -*-===//
//
// The end-to-end pipelines: attn ops to a CPU-executable LLVM module
// (attn-to-llvm) and to a GPU kernel package (attn-to-cubin).
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_PIPELINES_PIPELINES_H
#define ATTN_PIPELINES_PIPELINES_H

#include "mlir/Pass/PassOptions.h"

#include <string>

namespace mlir {
class OpPassManager;

namespace attn {

/// Options of the attn-to-cubin pipeline.
struct AttnToCubinOptions : public PassPipelineOptions<AttnToCubinOptions> {
  PassOptions::Option<std::string> chip{*this, "chip",
                                        llvm::cl::desc("target GPU (ptxas -arch)"),
                                        llvm::cl::init("sm_90a")};
  PassOptions::Option<std::string> features{
      *this, "features", llvm::cl::desc("NVPTX features (PTX version)"),
      llvm::cl::init("+ptx80")};
  PassOptions::Option<std::string> packageDir{
      *this, "package-dir",
      llvm::cl::desc("directory that receives the kernel package (required)"),
      llvm::cl::init("")};
  PassOptions::Option<int64_t> threads{
      *this, "threads",
      llvm::cl::desc("threads per block of the simple GPU mapping"),
      llvm::cl::init(128)};
  PassOptions::Option<std::string> ptxas{
      *this, "ptxas", llvm::cl::desc("path of ptxas (default: search)"),
      llvm::cl::init("")};
  PassOptions::Option<bool> assemble{
      *this, "assemble",
      llvm::cl::desc("run ptxas (0: PTX and manifest only, assembled "
                     "elsewhere)"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> kernels{
      *this, "kernels",
      llvm::cl::desc("map the ops attn-map-to-gpu covers onto its tensor-core "
                     "and row kernels (0: everything takes the simple "
                     "mapping)"),
      llvm::cl::init(true)};
  PassOptions::Option<std::string> model{
      *this, "model",
      llvm::cl::desc("cost model of attn-select-schedule for ops without a "
                     "schedule: auto (the chip's shipped model, else the "
                     "defaults), analytic, or a model file"),
      llvm::cl::init("auto")};
  PassOptions::Option<bool> guard{
      *this, "guard",
      llvm::cl::desc("keep the default schedule for ops outside the model's "
                     "trained domain (attn-select-schedule guard; 0: the "
                     "model's pick applies everywhere)"),
      llvm::cl::init(true)};
};

/// Options of the attn-to-llvm pipeline.
struct AttnToLLVMOptions : public PassPipelineOptions<AttnToLLVMOptions> {
  PassOptions::Option<bool> tile{
      *this, "tile",
      llvm::cl::desc("run attn-tile first (the IO-aware loop forms); ops it "
                     "leaves are decomposed"),
      llvm::cl::init(false)};
  PassOptions::Option<std::string> model{
      *this, "model",
      llvm::cl::desc("cost model of attn-select-schedule with tile=1: auto, "
                     "analytic, or a model file"),
      llvm::cl::init("auto")};
};

/// attn ops -> (tiled, with `tile`) decomposed linalg -> bufferized,
/// out-parameter host functions (shared by the CPU and GPU pipelines).
void buildAttnBufferizePipeline(OpPassManager &pm, bool tile = false);

/// attn ops -> LLVM dialect for the host CPU (standard memref descriptors;
/// functions marked `llvm.emit_c_interface` get C wrappers, as attn-run
/// marks the function it runs).
void buildAttnToLLVMPipeline(OpPassManager &pm,
                             const AttnToLLVMOptions &options = {});

/// attn ops -> gpu.binary + host launch sequence -> kernel package on disk.
void buildAttnToCubinPipeline(OpPassManager &pm,
                              const AttnToCubinOptions &options);

/// Registers attn-to-llvm and attn-to-cubin.
void registerAttnPipelines();

} // namespace attn
} // namespace mlir

#endif // ATTN_PIPELINES_PIPELINES_H
