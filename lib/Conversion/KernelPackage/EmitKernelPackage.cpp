//===- EmitKernelPackage.cpp - write cubin + manifest for the runtime -----===//
//
// Reads a module after GPU lowering (host launch sequences and gpu.binary
// ops with PTX), assembles each binary with ptxas and writes the kernel
// package that the MLIR-free runtime loads.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/KernelPackage/FunctionSpec.h"
#include "attn/Conversion/Passes.h"
#include "attn/Dialect/Attn/IR/AttnDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/Regex.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNEMITKERNELPACKAGE
#include "attn/Conversion/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;
namespace json = llvm::json;

/// An attribute value of a function spec as JSON: unit is null.
static json::Value attributeToJson(Attribute attr) {
  if (auto b = dyn_cast<BoolAttr>(attr))
    return b.getValue();
  if (auto i = dyn_cast<IntegerAttr>(attr))
    return i.getInt();
  if (auto f = dyn_cast<FloatAttr>(attr))
    return f.getValueAsDouble();
  if (auto str = dyn_cast<StringAttr>(attr))
    return str.getValue().str();
  if (auto array = dyn_cast<DenseI64ArrayAttr>(attr))
    return json::Array(array.asArrayRef());
  return nullptr;
}

json::Object mlir::attn::functionSpecToJson(FunctionSpecAttr spec) {
  json::Array args;
  for (Attribute a : spec.getArgs()) {
    auto arg = cast<TensorArgAttr>(a);
    json::Object entry{{"name", arg.getName().str()},
                       {"role", arg.getRole().str()},
                       {"dtype", arg.getDtype().str()},
                       {"shape", json::Array(arg.getShape().asArrayRef())}};
    entry["operand"] = arg.getOperand().empty()
                           ? json::Value(nullptr)
                           : json::Value(arg.getOperand().str());
    args.push_back(std::move(entry));
  }
  json::Value op = nullptr;
  if (spec.getOp()) {
    json::Object attributes;
    if (DictionaryAttr dict = spec.getAttributes())
      for (NamedAttribute named : dict)
        attributes[named.getName().getValue()] =
            attributeToJson(named.getValue());
    json::Object described{{"name", spec.getOp().getValue().str()},
                           {"attributes", std::move(attributes)}};
    if (spec.getMapping())
      described["mapping"] = spec.getMapping().getValue().str();
    if (spec.getSchedule()) {
      std::string text;
      llvm::raw_string_ostream os(text);
      os << spec.getSchedule();
      described["schedule"] = text;
    }
    if (spec.getTensorCore())
      described["tensor_core"] = spec.getTensorCore().getValue().str();
    op = std::move(described);
  }
  return json::Object{{"name", spec.getName().str()},
                      {"op", std::move(op)},
                      {"args", std::move(args)}};
}

namespace {

/// Resource use of one kernel, as ptxas -v reports it.
struct KernelResources {
  int64_t registers = 0;
  int64_t spillBytes = 0;
  int64_t stackBytes = 0;
  int64_t sharedBytes = 0;
};

/// Finds ptxas: the option, $CUDA_HOME/bin, /usr/local/cuda/bin, then PATH.
FailureOr<std::string> findPtxas(StringRef configured) {
  if (!configured.empty()) {
    if (llvm::sys::fs::can_execute(configured))
      return configured.str();
    return failure();
  }
  SmallVector<std::string> candidates;
  if (const char *home = std::getenv("CUDA_HOME"))
    candidates.push_back((Twine(home) + "/bin/ptxas").str());
  candidates.push_back("/usr/local/cuda/bin/ptxas");
  for (const std::string &c : candidates)
    if (llvm::sys::fs::can_execute(c))
      return c;
  if (llvm::ErrorOr<std::string> p = llvm::sys::findProgramByName("ptxas"))
    return *p;
  return failure();
}

/// Parses the per-kernel lines of `ptxas -v`.
llvm::StringMap<KernelResources> parsePtxasInfo(StringRef log) {
  llvm::StringMap<KernelResources> result;
  llvm::Regex entry("Compiling entry function '([^']+)'");
  llvm::Regex props("Function properties for ([A-Za-z0-9_$.]+)");
  llvm::Regex frame("([0-9]+) bytes stack frame, ([0-9]+) bytes spill stores, "
                    "([0-9]+) bytes spill loads");
  llvm::Regex regs("Used ([0-9]+) registers");
  llvm::Regex smem("([0-9]+) bytes smem");
  std::string current;
  SmallVector<StringRef> lines;
  log.split(lines, '\n');
  for (StringRef line : lines) {
    SmallVector<StringRef> m;
    if (entry.match(line, &m) || props.match(line, &m)) {
      current = m[1].str();
      continue;
    }
    if (current.empty())
      continue;
    KernelResources &r = result[current];
    if (frame.match(line, &m)) {
      r.stackBytes = std::stoll(m[1].str());
      r.spillBytes = std::stoll(m[2].str()) + std::stoll(m[3].str());
    }
    if (regs.match(line, &m))
      r.registers = std::stoll(m[1].str());
    if (smem.match(line, &m))
      r.sharedBytes = std::stoll(m[1].str());
  }
  return result;
}

int64_t elementBytes(Type t) {
  if (t.isInteger(1))
    return 1;
  return std::max<int64_t>(1, t.getIntOrFloatBitWidth() / 8);
}

/// Where a host memref comes from: a function argument or a temporary.
struct BufferRef {
  StringRef kind; // "arg" or "temp"
  int64_t index;
};

class PackageWriter {
public:
  PackageWriter(ModuleOp module, StringRef dir) : module(module), dir(dir) {}

  /// Describes the launch sequence of host function `func`.
  FailureOr<json::Object> describeHost(func::FuncOp func);

  /// Writes the PTX of every gpu.binary, assembles it and describes it.
  /// With an empty `ptxasPath`, writes the PTX only (no cubin, no kernel
  /// resources).
  LogicalResult writeBinaries(StringRef ptxasPath, StringRef chip,
                              json::Array &binaries, json::Array &kernels);

private:
  FailureOr<BufferRef> traceBuffer(Value v, Operation *user);
  FailureOr<json::Value> describeLaunchArg(Value v, gpu::LaunchFuncOp launch);
  /// A tensor map the kernel takes as a pointer to its 128 bytes: what the
  /// runtime needs to encode it (cuTensorMapEncodeTiled) at launch time.
  FailureOr<json::Value> describeTensorMap(nvgpu::TmaCreateDescriptorOp op,
                                           gpu::LaunchFuncOp launch);
  /// Appends the temporaries and launches of the ops of `block`; a host
  /// loop (scf.for with constant bounds, no results) is unrolled into the
  /// sequence, its induction variable a constant in each copy.
  LogicalResult describeBlock(Block &block, json::Array &temps,
                              json::Array &launches);

  /// The most launches one host function may unroll into.
  static constexpr int64_t kMaxLaunches = 1 << 16;

  ModuleOp module;
  std::string dir;
  DenseMap<Value, BufferRef> buffers;
  /// The value of each enclosing host loop's induction variable.
  DenseMap<Value, int64_t> inductionValues;
};

FailureOr<BufferRef> PackageWriter::traceBuffer(Value v, Operation *user) {
  auto it = buffers.find(v);
  if (it != buffers.end())
    return it->second;
  Operation *def = v.getDefiningOp();
  if (isa_and_nonnull<memref::ExpandShapeOp, memref::CollapseShapeOp,
                      memref::CastOp>(def)) {
    // Reshapes of contiguous buffers keep the base pointer.
    FailureOr<BufferRef> base = traceBuffer(def->getOperand(0), user);
    if (succeeded(base))
      buffers[v] = *base;
    return base;
  }
  return user->emitError("attn-emit-kernel-package: kernel operand is not a "
                         "function argument, a temporary, or a reshape of "
                         "one");
}

FailureOr<json::Value>
PackageWriter::describeTensorMap(nvgpu::TmaCreateDescriptorOp op,
                                 gpu::LaunchFuncOp launch) {
  auto cast = op.getTensor().getDefiningOp<memref::CastOp>();
  auto type = cast ? dyn_cast<MemRefType>(cast.getSource().getType())
                   : MemRefType();
  if (!type || !type.hasStaticShape() || !type.getLayout().isIdentity())
    return launch.emitError("attn-emit-kernel-package: a tensor map must "
                            "describe a static memref with the identity "
                            "layout");
  FailureOr<BufferRef> ref = traceBuffer(cast.getSource(), launch);
  if (failed(ref))
    return failure();
  auto map = op.getTensorMap().getType();
  MemRefType boxType = map.getTensor();
  Type element = type.getElementType();
  StringRef dtype = element.isBF16()  ? "bf16"
                    : element.isF16() ? "f16"
                    : element.isF32() ? "f32"
                                      : "";
  if (dtype.empty() || boxType.getRank() != type.getRank() ||
      boxType.getElementType() != element)
    return launch.emitError("attn-emit-kernel-package: a tensor map of "
                            "bf16, f16 or f32 whose box has the tensor's "
                            "rank and element type is expected");
  json::Array shape, box;
  for (int64_t d : type.getShape())
    shape.push_back(d);
  for (int64_t d : boxType.getShape())
    box.push_back(d);
  // The enums count powers of two: swizzle 32 << (k - 1) bytes, L2
  // promotion 64 << (k - 1) bytes, 0 for none.
  auto bytesOf = [](uint32_t k, int64_t first) -> int64_t {
    return k == 0 ? 0 : first << (k - 1);
  };
  int64_t swizzle = bytesOf(static_cast<uint32_t>(map.getSwizzle()), 32);
  int64_t l2 = bytesOf(static_cast<uint32_t>(map.getL2promo()), 64);
  if (map.getInterleave() != nvgpu::TensorMapInterleaveKind::INTERLEAVE_NONE ||
      map.getOob() != nvgpu::TensorMapOOBKind::OOB_ZERO)
    return launch.emitError("attn-emit-kernel-package: tensor maps are "
                            "packaged without interleave and with zero fill "
                            "only");
  return json::Value(json::Object{
      {"kind", "tensor_map"},
      {"buffer", json::Object{{"kind", ref->kind}, {"index", ref->index}}},
      {"dtype", dtype},
      {"shape", std::move(shape)},
      {"box", std::move(box)},
      {"swizzle", swizzle},
      {"l2_promotion", l2}});
}

FailureOr<json::Value>
PackageWriter::describeLaunchArg(Value v, gpu::LaunchFuncOp launch) {
  // A tensor map: created on the host, passed as a pointer.
  if (auto cast = v.getDefiningOp<UnrealizedConversionCastOp>())
    if (cast->getNumOperands() == 1)
      if (auto create = cast->getOperand(0)
                            .getDefiningOp<nvgpu::TmaCreateDescriptorOp>())
        return describeTensorMap(create, launch);
  if (auto memref = dyn_cast<MemRefType>(v.getType())) {
    if (!memref.getLayout().isIdentity())
      return launch.emitError("attn-emit-kernel-package: kernel operands "
                              "must have the identity layout");
    FailureOr<BufferRef> ref = traceBuffer(v, launch);
    if (failed(ref))
      return failure();
    return json::Value(json::Object{{"kind", ref->kind}, {"index", ref->index}});
  }
  if (auto it = inductionValues.find(v); it != inductionValues.end())
    return json::Value(json::Object{{"kind", "i64"}, {"value", it->second}});
  Attribute cst;
  if (matchPattern(v, m_Constant(&cst))) {
    if (auto i = dyn_cast<IntegerAttr>(cst)) {
      StringRef kind = i.getType().isIndex() || i.getType().isInteger(64)
                           ? "i64"
                           : "i32";
      if (!i.getType().isIndex() && i.getType().getIntOrFloatBitWidth() > 64)
        return launch.emitError("attn-emit-kernel-package: integer kernel "
                                "argument wider than 64 bits");
      return json::Value(json::Object{{"kind", kind}, {"value", i.getInt()}});
    }
    if (auto f = dyn_cast<FloatAttr>(cst)) {
      if (!std::isfinite(f.getValueAsDouble()))
        return launch.emitError("attn-emit-kernel-package: non-finite "
                                "scalar kernel argument");
      return json::Value(
          json::Object{{"kind", f.getType().isF64() ? "f64" : "f32"},
                       {"value", f.getValueAsDouble()}});
    }
  }
  return launch.emitError("attn-emit-kernel-package: scalar kernel argument "
                          "is not a constant, so the manifest cannot hold it");
}

FailureOr<json::Object> PackageWriter::describeHost(func::FuncOp func) {
  buffers.clear();
  inductionValues.clear();
  for (auto [i, arg] : llvm::enumerate(func.getArguments()))
    buffers[arg] = BufferRef{"arg", static_cast<int64_t>(i)};
  json::Array temps, launches;
  if (failed(describeBlock(func.getBody().front(), temps, launches)))
    return failure();
  json::Object result;
  result["temps"] = std::move(temps);
  result["launches"] = std::move(launches);
  return result;
}

LogicalResult PackageWriter::describeBlock(Block &block, json::Array &temps,
                                           json::Array &launches) {
  for (Operation &op : block) {
    if (auto alloc = dyn_cast<memref::AllocOp>(op)) {
      MemRefType type = alloc.getType();
      if (!type.hasStaticShape())
        return alloc.emitError("attn-emit-kernel-package: temporary buffers "
                               "must have a static shape");
      if (!isa<func::FuncOp>(op.getParentOp()))
        return alloc.emitError("attn-emit-kernel-package: temporary buffers "
                               "must be allocated outside host loops");
      buffers[alloc.getResult()] =
          BufferRef{"temp", static_cast<int64_t>(temps.size())};
      temps.push_back(json::Object{
          {"bytes", type.getNumElements() * elementBytes(type.getElementType())}});
      continue;
    }
    if (auto loop = dyn_cast<scf::ForOp>(op)) {
      std::optional<int64_t> lb = getConstantIntValue(loop.getLowerBound());
      std::optional<int64_t> ub = getConstantIntValue(loop.getUpperBound());
      std::optional<int64_t> step = getConstantIntValue(loop.getStep());
      if (!lb || !ub || !step || *step <= 0 || loop.getNumResults() != 0)
        return loop.emitError("attn-emit-kernel-package: a host loop needs "
                              "constant bounds, a positive constant step and "
                              "no results");
      for (int64_t iv = *lb; iv < *ub; iv += *step) {
        inductionValues[loop.getInductionVar()] = iv;
        if (failed(describeBlock(*loop.getBody(), temps, launches)))
          return failure();
        if (int64_t(launches.size()) > kMaxLaunches)
          return loop.emitError()
                 << "attn-emit-kernel-package: the host loops unroll into "
                    "more than "
                 << kMaxLaunches << " launches";
      }
      inductionValues.erase(loop.getInductionVar());
      continue;
    }
    if (auto launch = dyn_cast<gpu::LaunchFuncOp>(op)) {
      auto constant = [&](Value v) -> std::optional<int64_t> {
        return v ? getConstantIntValue(v) : std::optional<int64_t>(0);
      };
      gpu::KernelDim3 grid = launch.getGridSizeOperandValues();
      gpu::KernelDim3 block = launch.getBlockSizeOperandValues();
      SmallVector<std::optional<int64_t>> dims = {
          constant(grid.x),  constant(grid.y),  constant(grid.z),
          constant(block.x), constant(block.y), constant(block.z),
          constant(launch.getDynamicSharedMemorySize())};
      if (llvm::any_of(dims, [](auto d) { return !d; }))
        return launch.emitError("attn-emit-kernel-package: grid, block and "
                                "shared memory sizes must be constants");
      json::Array args;
      for (Value v : launch.getKernelOperands()) {
        FailureOr<json::Value> arg = describeLaunchArg(v, launch);
        if (failed(arg))
          return failure();
        args.push_back(std::move(*arg));
      }
      launches.push_back(json::Object{
          {"binary", launch.getKernelModuleName().str()},
          {"kernel", launch.getKernelName().str()},
          {"grid", json::Array{*dims[0], *dims[1], *dims[2]}},
          {"block", json::Array{*dims[3], *dims[4], *dims[5]}},
          {"shared_bytes", *dims[6]},
          {"args", std::move(args)}});
      continue;
    }
    // Tensor maps are encoded at launch time from their descriptions
    // (describeTensorMap).
    if (isa<memref::ExpandShapeOp, memref::CollapseShapeOp, memref::CastOp,
            memref::DeallocOp, func::ReturnOp, scf::YieldOp,
            nvgpu::TmaCreateDescriptorOp, UnrealizedConversionCastOp>(op) ||
        op.hasTrait<OpTrait::ConstantLike>())
      continue;
    return op.emitError() << "attn-emit-kernel-package: host op '"
                          << op.getName()
                          << "' cannot run as part of a launch sequence";
  }
  return success();
}

LogicalResult PackageWriter::writeBinaries(StringRef ptxasPath, StringRef chip,
                                           json::Array &binaries,
                                           json::Array &kernels) {
  for (auto binary : module.getOps<gpu::BinaryOp>()) {
    if (binary.getObjects().size() != 1)
      return binary.emitError("attn-emit-kernel-package: expected one object "
                              "per gpu.binary");
    auto object = cast<gpu::ObjectAttr>(binary.getObjects()[0]);
    if (object.getFormat() != gpu::CompilationTarget::Assembly)
      return binary.emitError("attn-emit-kernel-package: expected PTX "
                              "(gpu-module-to-binary{format=isa})");
    std::string name = binary.getSymName().str();
    SmallString<256> ptxPath(dir), cubinPath(dir), logPath(dir);
    llvm::sys::path::append(ptxPath, name + ".ptx");
    llvm::sys::path::append(cubinPath, name + ".cubin");
    llvm::sys::path::append(logPath, name + ".ptxas.log");
    {
      std::error_code ec;
      llvm::raw_fd_ostream os(ptxPath, ec);
      if (ec)
        return binary.emitError() << "cannot write " << ptxPath << ": "
                                  << ec.message();
      os << object.getObject().getValue();
    }
    if (ptxasPath.empty()) {
      binaries.push_back(json::Object{{"name", name},
                                      {"ptx", name + ".ptx"},
                                      {"cubin", name + ".cubin"}});
      continue;
    }
    std::string arch = ("-arch=" + chip).str();
    SmallVector<StringRef> argv = {ptxasPath, arch, "-v", "-o", cubinPath,
                                   ptxPath};
    std::optional<StringRef> redirects[] = {std::nullopt, StringRef(logPath),
                                            StringRef(logPath)};
    std::string errMsg;
    int rc = llvm::sys::ExecuteAndWait(ptxasPath, argv, std::nullopt,
                                       redirects, 0, 0, &errMsg);
    auto log = llvm::MemoryBuffer::getFile(logPath);
    StringRef logText = log ? (*log)->getBuffer() : StringRef();
    if (rc != 0)
      return binary.emitError() << "ptxas failed on " << ptxPath << " ("
                                << (errMsg.empty() ? "exit " + std::to_string(rc)
                                                   : errMsg)
                                << "):\n"
                                << logText;
    llvm::StringMap<KernelResources> info = parsePtxasInfo(logText);
    llvm::sys::fs::remove(logPath);
    // ptxas's performance warnings (e.g. C7513: every wgmma serialized;
    // C7508: setmaxnreg ignored) mean a kernel runs far below what its
    // schedule promises: say so, and keep them in the manifest.
    json::Array warnings;
    SmallVector<StringRef> logLines;
    logText.split(logLines, '\n');
    for (StringRef line : logLines) {
      size_t at = line.find("Potential Performance Loss");
      if (at == StringRef::npos)
        continue;
      StringRef text = line.drop_front(line.find('(') < at ? line.find('(')
                                                            : at)
                           .trim();
      binary.emitWarning() << "ptxas: " << text;
      warnings.push_back(text.str());
    }
    binaries.push_back(json::Object{{"name", name},
                                    {"ptx", name + ".ptx"},
                                    {"cubin", name + ".cubin"},
                                    {"ptxas_warnings", std::move(warnings)}});
    // In name order, so that manifests are reproducible.
    SmallVector<StringRef> names;
    for (auto &entry : info)
      names.push_back(entry.getKey());
    llvm::sort(names);
    for (StringRef kernel : names) {
      auto &entry = *info.find(kernel);
      kernels.push_back(json::Object{
          {"binary", name},
          {"name", entry.getKey().str()},
          {"registers", entry.getValue().registers},
          {"spill_bytes", entry.getValue().spillBytes},
          {"stack_bytes", entry.getValue().stackBytes},
          {"shared_bytes", entry.getValue().sharedBytes}});
    }
  }
  return success();
}

struct AttnEmitKernelPackagePass
    : public attn::impl::AttnEmitKernelPackageBase<AttnEmitKernelPackagePass> {
  using AttnEmitKernelPackageBase::AttnEmitKernelPackageBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (packageDir.empty()) {
      module.emitError() << "attn-emit-kernel-package: no package-dir: name "
                            "the directory that receives the package "
                            "(--attn-to-cubin=\"package-dir=DIR ...\")";
      return signalPassFailure();
    }
    FailureOr<std::string> ptxasPath =
        assemble ? findPtxas(ptxas) : FailureOr<std::string>(std::string());
    if (failed(ptxasPath)) {
      module.emitError() << "attn-emit-kernel-package: cannot find ptxas"
                         << (ptxas.empty() ? "" : " at '" + ptxas + "'")
                         << "; install the CUDA toolkit (CUDA_HOME) or pass "
                         << "ptxas=<path>";
      return signalPassFailure();
    }
    if (std::error_code ec = llvm::sys::fs::create_directories(packageDir)) {
      module.emitError() << "attn-emit-kernel-package: cannot create '"
                         << packageDir << "': " << ec.message();
      return signalPassFailure();
    }
    PackageWriter writer(module, packageDir);
    json::Array functions;
    for (auto func : module.getOps<func::FuncOp>()) {
      Attribute attr = func->getAttr("attn.spec");
      if (func.isExternal() || !attr)
        continue;
      auto spec = dyn_cast<FunctionSpecAttr>(attr);
      if (!spec || !llvm::all_of(spec.getArgs(), llvm::IsaPred<TensorArgAttr>)) {
        func.emitError("attn-emit-kernel-package: attn.spec is not an "
                       "#attn.function_spec of #attn.tensor_arg entries");
        return signalPassFailure();
      }
      json::Object entry = functionSpecToJson(spec);
      size_t specArgs = spec.getArgs().size();
      if (specArgs != func.getNumArguments()) {
        func.emitError() << "attn-emit-kernel-package: attn.spec describes "
                         << specArgs
                         << " arguments, but the function has "
                         << func.getNumArguments()
                         << " (inputs, then one out-parameter per result)";
        return signalPassFailure();
      }
      FailureOr<json::Object> host = writer.describeHost(func);
      if (failed(host))
        return signalPassFailure();
      for (auto &kv : *host)
        entry[kv.first] = std::move(kv.second);
      functions.push_back(std::move(entry));
    }
    if (functions.empty()) {
      module.emitError("attn-emit-kernel-package: no public function to "
                       "package (run attn-describe-functions first)");
      return signalPassFailure();
    }
    json::Array binaries, kernels;
    if (failed(writer.writeBinaries(*ptxasPath, chip, binaries, kernels)))
      return signalPassFailure();

    json::Object manifest{{"format", "attn-kernel-package"},
                          {"version", 1},
                          {"chip", chip},
                          {"binaries", std::move(binaries)},
                          {"kernels", std::move(kernels)},
                          {"functions", std::move(functions)}};
    SmallString<256> path(packageDir);
    llvm::sys::path::append(path, "manifest.json");
    std::error_code ec;
    llvm::raw_fd_ostream os(path, ec);
    if (ec) {
      module.emitError() << "cannot write " << path << ": " << ec.message();
      return signalPassFailure();
    }
    os << llvm::formatv("{0:2}", json::Value(std::move(manifest))) << "\n";
  }
};

} // namespace
