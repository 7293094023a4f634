//===- Passes.td - attn conversion passes ------------------*- tablegen -*-===//

#ifndef ATTN_CONVERSION_PASSES_TD
#define ATTN_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def AttnLowerHostCopies : Pass<"attn-lower-host-copies", "func::FuncOp"> {
  let summary = "Turn memref.copy into linalg.copy";
  let description = [{
    After bufferization a host function may still copy one buffer into
    another with `memref.copy` (for instance into an out-parameter). On the
    GPU path every buffer lives in device memory, so the host must not touch
    it: this pass rewrites each `memref.copy` into a `linalg.copy`, which the
    GPU mapping turns into a kernel like any other linalg op. The CPU
    pipeline uses it too, so that copies of strided views become loops
    rather than calls into a runtime library.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def AttnDescribeFunctions : Pass<"attn-describe-functions", "ModuleOp"> {
  let summary = "Record what each function computes, before it is lowered";
  let description = [{
    Attaches to every public function an `attn.spec` string attribute: a
    JSON object naming its arguments (inputs, then results as outputs) with
    dtype, static shape and the attn operand each one feeds, and, when the
    body is a single attn op, that op and its effective attributes (defaults
    filled in). `attn-emit-kernel-package` copies it into the manifest, where
    `attn-run` reads it to make inputs and compute the float64 reference.
    Dynamic shapes and element types the runtime cannot hold are errors.
  }];
}

def AttnLoopsToGPU : Pass<"attn-loops-to-gpu", "func::FuncOp"> {
  let summary = "Map the loops of a bufferized host function onto GPU launches";
  let description = [{
    The simple, correct GPU mapping of the first vertical slice: each
    top-level `scf.parallel` nest becomes a `gpu.launch` with one thread per
    iteration (the nest is linearized, innermost dimension fastest, so that
    neighbouring threads touch neighbouring elements), and its reduction
    loops run sequentially inside the thread. Any other top-level computation
    (a loop with no parallel dimension, scalar code from rank-0 ops) becomes
    a single-thread launch, so that the host only allocates and launches.
    Loop bounds must be static.

    This is not the IO-aware mapping (tiles in shared memory, tensor cores):
    that comes from `attn-tile` and the Hopper code generation.
  }];
  let options = [
    Option<"threads", "threads", "int64_t", "128",
           "threads per block">
  ];
  let dependentDialects = ["::mlir::gpu::GPUDialect", "::mlir::scf::SCFDialect",
                           "::mlir::arith::ArithDialect"];
}

def AttnMapToGPU : Pass<"attn-map-to-gpu", "func::FuncOp"> {
  let summary = "Replace attn ops by tensor-core and row GPU kernels";
  let description = [{
    The IO-aware GPU mapping. Each attn op it covers becomes `gpu.launch`
    ops over the op's buffers (`bufferization.to_buffer` of the operands,
    fresh allocations for the results), built from the op's schedule
    (`#attn.schedule`, or the default one for `chip`):

    - `attn.attention` (bf16/f16, static shapes, head dim a multiple of 16
      up to 256, no mask operand): the FlashAttention-2 forward. One block
      per (block_m query rows, kv head, batch x split), one or two 16-row
      tiles per warp (block_m = 16 or 32 x warps); the Q tile is loaded into
      registers with
      `ldmatrix`; K/V tiles of block_n keys stream through `stages`
      shared-memory buffers with `cp.async` (zero-filled past the sequence);
      QK^T and PV run on `mma.sync.m16n8k16` with f32 accumulation; the
      running max and sum stay in registers, P is repacked to bf16/f16 in
      registers; exp2 with log2(e) folded into the scale; causal and window
      block skipping, masks only on boundary tiles; GQA packs the query heads
      of a kv head into the row dimension, so K/V are read once per group;
      optional LSE; split > 1 adds split-KV partials and a combine kernel.
    - `attn.softmax`, `attn.log_softmax`, `attn.logsumexp` over the last dim
      (f32/bf16/f16): a row per block (block_m = 1) or per warp
      (block_m = warps), 16-byte loads and stores, the row held in registers
      and read once (passes = 1), or the online normalizer and a second read
      (passes = 2).

    - `attn.cross_entropy` (f32/bf16/f16 logits, i32/i64 labels): the same
      row kernel reads each logits row once (online normalizer, logit sum
      for label smoothing, soft-capping), one thread adds the target logit,
      z-loss and ignore_index; sum and mean reductions run in a one-block
      kernel over the per-token losses.

    Ops it does not cover (masks, dynamic shapes, a reduced dim that is not
    last, `attn.linear_cross_entropy`) are left unchanged with a remark
    (`linear_cross_entropy`: silently), for `attn-decompose`
    and the simple mapping of `attn-loops-to-gpu`. A schedule the kernel
    cannot run (block_m not 16 or 32 x warps for attention, too much shared
    memory, a row that does not fit the registers in one pass) is an error.
  }];
  let options = [
    Option<"chip", "chip", "std::string", "\"sm_90a\"",
           "target chip: default schedules and shared-memory limits">
  ];
  let dependentDialects = [
    "::mlir::gpu::GPUDialect", "::mlir::scf::SCFDialect",
    "::mlir::arith::ArithDialect", "::mlir::memref::MemRefDialect",
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::vector::VectorDialect", "::mlir::math::MathDialect",
    "::mlir::nvgpu::NVGPUDialect", "::mlir::NVVM::NVVMDialect",
    "::mlir::LLVM::LLVMDialect"];
}

def AttnGroupKernels : Pass<"attn-group-kernels", "ModuleOp"> {
  let summary = "Put the kernels of each host function into one gpu.module";
  let description = [{
    `gpu-kernel-outlining` makes one `gpu.module` per launch. This pass moves
    the kernels launched by each host function `@f` into a single
    `gpu.module @f_kernels` and updates the launches, so that a function's
    kernels are compiled into one PTX module and one cubin (one
    `cuModuleLoad` at run time). A kernel that several functions launch
    cannot be split between them and is an error.

    A launch in thread-block clusters (sm_90+) gives its kernel the static
    cluster shape as `nvvm.cluster_dim` (PTX `.reqnctapercluster`), so that
    a plain `cuLaunchKernel` launches it in those clusters; the shape must
    be constant.
  }];
}

def AttnEmitKernelPackage : Pass<"attn-emit-kernel-package", "ModuleOp"> {
  let summary = "Write a kernel package: cubin, PTX and a JSON manifest";
  let description = [{
    Expects a module after GPU lowering: host functions whose bodies only
    allocate device buffers (`memref.alloc`), take views of them, and launch
    kernels (`gpu.launch_func` with static grid and block sizes), and
    `gpu.binary` ops holding PTX (`gpu-module-to-binary{format=isa}`).

    For each binary it runs `ptxas` for the target chip to make a cubin, and
    records each kernel's registers, spills and shared memory from
    `ptxas -v`. It then writes `<package-dir>/manifest.json`: for every host
    function its arguments (inputs, then outputs as out-parameters) with
    dtypes and shapes, the temporary buffers, the launch sequence with grid,
    block and shared memory, and the attn op the function computes (so that
    `attn-run` can compare it with a float64 reference).

    Host code that cannot run as a launch sequence (a load or store on the
    host, a dynamic shape, a view with an offset) is an error at its
    location.
  }];
  let options = [
    Option<"packageDir", "package-dir", "std::string", "\"\"",
           "directory that receives manifest.json, .ptx and .cubin files (required)">,
    Option<"chip", "chip", "std::string", "\"sm_90a\"",
           "the -arch passed to ptxas">,
    Option<"ptxas", "ptxas", "std::string", "\"\"",
           "path of ptxas (default: $CUDA_HOME/bin, /usr/local/cuda/bin, "
           "then PATH)">
  ];
}

#endif // ATTN_CONVERSION_PASSES_TD
