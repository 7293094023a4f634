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
    Attaches to every public function an `attn.spec` attribute, an
    `#attn.function_spec` naming its arguments (inputs, then results as
    outputs) with dtype, static shape and the attn operand each one feeds,
    and, when the body is a single attn op, that op and its effective
    attributes (defaults filled in). `attn-emit-kernel-package` writes it
    into the manifest as JSON, where `attn-run` reads it to make inputs and
    compute the float64 reference.
    Dynamic shapes and element types the runtime cannot hold are errors.
  }];
  let dependentDialects = ["::mlir::attn::AttnDialect"];
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
    that is `attn-map-to-gpu`, which runs first in `attn-to-cubin`.
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
    The IO-aware GPU mapping: one rewrite pattern per kernel family
    (`populateAttnToGPUPatterns`). Each attn op a family computes on `chip`
    becomes `gpu.launch` ops over the op's buffers
    (`bufferization.to_buffer` of the operands, fresh allocations for the
    results), built exactly as the family's plan says for the op's schedule
    (`#attn.schedule`, or the default one for `chip`):

    - `attn.attention` (bf16/f16, static shapes, head dim a multiple of 16
      up to 256, no mask operand): the FlashAttention-2 forward, one block
      per (block_m packed query rows, kv head, batch x split). On sm_90a,
      with whole warpgroups, head dims in 64-column slabs and at least 4
      stages, QK^T and PV run on warpgroup MMA (128-byte-swizzled shared
      memory, P from registers, the next QK^T issued before the softmax);
      otherwise on `mma.sync.m16n8k16` fed by `ldmatrix`, 16 or 32 rows per
      warp. K/V tiles stream through `stages` cp.async buffers; online
      softmax in registers; causal/window block skipping with masks on
      boundary tiles only; GQA row packing; optional LSE; split-KV with a
      combine kernel.
    - `attn.softmax`, `attn.log_softmax`, `attn.logsumexp` over the last dim
      (f32/bf16/f16): a row per block or per warp, 16-byte accesses, one
      read (passes = 1) or two; on sm_90+ a row may span a cluster of
      `split` blocks exchanging max and sum through distributed shared
      memory.
    - `attn.cross_entropy`: the same row kernel, one read of each logits
      row, and a one-block reduction for sum and mean.
    - `attn.linear_cross_entropy` (bf16/f16, hidden size a multiple of 16):
      the Cut-Cross-Entropy kernel, logits tiles on wgmma (sm_90a) or
      mma.sync folded in registers, split-V partials and a per-token
      combine; no [N, V] buffer.

    Ops no kernel computes (masks, dynamic shapes, empty tensors, f32
    attention, a reduced dim that is not last) are left unchanged with a
    remark, for `attn-decompose` and the simple mapping of
    `attn-loops-to-gpu`. The op verifier already rejected schedules the
    plans refuse; the pass errors on a schedule written for a chip of
    another ISA than `chip`. The mapping, schedule and MMA instruction are
    recorded in the function's `#attn.function_spec`.
  }];
  let options = [
    Option<"chip", "chip", "std::string", "\"sm_90a\"",
           "target chip (lib/Target): the plans' facts and the default schedules">
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

def AttnExternDynamicShared : Pass<"attn-extern-dynamic-shared"> {
  let summary = "Declare a kernel module's dynamic shared memory as extern";
  let description = [{
    `convert-gpu-to-nvvm` gives `gpu.dynamic_shared_memory` an internal,
    zero-length global in address space 3. NVPTX prints it as a one-byte
    static `.shared` variable, so the kernel's dynamic buffer is addressed
    from a static object: where it lands among the other static shared
    variables (mbarriers, for one) is the assembler's choice, every access
    past its first byte is out of bounds for LLVM (which may fold such loads
    away), and nothing keeps a large offset from reaching another static
    variable. This pass makes each such global an external declaration,
    which NVPTX prints as `.extern .shared .b8 name[]`, CUDA's
    `extern __shared__` array: the launch's dynamic shared memory, placed
    after all static shared variables.

    Runs after `convert-gpu-to-nvvm` on any op: it rewrites the globals of
    every `gpu.module` at or under it (in `attn-to-cubin`, inside the
    `gpu.module` nest); host globals and other globals are left alone.
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

    With `assemble=0` it writes the PTX only: the manifest still names each
    binary's cubin (to be assembled elsewhere, e.g. on the GPU machine by
    tools/attn-tune-run/device_tune.sh) and lists no kernel resources.

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
           "then PATH)">,
    Option<"assemble", "assemble", "bool", "true",
           "run ptxas (0: write the PTX and a manifest that names the cubin "
           "to assemble elsewhere, with no kernel resources; for tuning "
           "batches assembled on the GPU machine)">
  ];
}

#endif // ATTN_CONVERSION_PASSES_TD
