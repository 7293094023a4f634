//===- MlirFrontend.cpp - attn-run's MLIR-linked half ---------------------===//
//
// Compiles .mlir files for attn-run: to a kernel package with attn-to-cubin,
// or to host code with attn-to-llvm, JIT-compiled by the ExecutionEngine.
//
//===----------------------------------------------------------------------===//

#include "MlirFrontend.h"

#include "attn/Conversion/KernelPackage/FunctionSpec.h"
#include "attn/Conversion/Passes.h"
#include "attn/InitAll.h"
#include "attn/Pipelines/Pipelines.h"
#include "attn/Runtime/Json.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>

using namespace mlir;

namespace {

/// An MLIR context with everything attn registers, whose diagnostics are
/// collected as text instead of printed.
struct CompilerSession {
  CompilerSession() : context(makeRegistry()), handler(&context, [this](Diagnostic &d) {
                        llvm::raw_string_ostream os(diagnostics);
                        os << d.getLocation() << ": " << d << "\n";
                        for (Diagnostic &note : d.getNotes())
                          os << note.getLocation() << ": note: " << note
                             << "\n";
                        return success();
                      }) {}

  static DialectRegistry makeRegistry() {
    DialectRegistry registry;
    mlir::attn::registerAllDialects(registry);
    return registry;
  }

  OwningOpRef<ModuleOp> parse(const std::string &path, std::string &error) {
    OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(path, &context);
    if (!module)
      error = "cannot parse '" + path + "':\n" + diagnostics;
    return module;
  }

  MLIRContext context;
  std::string diagnostics;
  ScopedDiagnosticHandler handler;
};

/// The function to run: `name`, or the only public function with a body.
func::FuncOp pickFunction(ModuleOp module, const std::string &name,
                          std::string &error) {
  if (!name.empty()) {
    auto func = module.lookupSymbol<func::FuncOp>(name);
    if (!func || func.isExternal())
      error = "no function named '" + name + "' with a body";
    return func;
  }
  func::FuncOp found;
  for (auto func : module.getOps<func::FuncOp>()) {
    if (func.isExternal() || !func.isPublic())
      continue;
    if (found) {
      error = "the file has several functions; pick one with --function";
      return nullptr;
    }
    found = func;
  }
  if (!found)
    error = "the file has no public function with a body";
  return found;
}

/// Runs a function JIT-compiled for the host through its C interface,
/// passing each argument as a strided memref descriptor over host memory.
class CpuExecutor : public ::attn::runtime::Executor {
public:
  CpuExecutor(std::unique_ptr<ExecutionEngine> engine, std::string symbol,
              const ::attn::runtime::FunctionSpec &spec)
      : engine(std::move(engine)), symbol(std::move(symbol)), spec(spec) {}

  std::string deviceName() const override { return "CPU (MLIR JIT)"; }

  bool run(const std::vector<void *> &hostArgs, std::string &error) override {
    if (hostArgs.size() != spec.args.size()) {
      error = "expected " + std::to_string(spec.args.size()) + " arguments";
      return false;
    }
    lastArgs = hostArgs;
    return invoke(error);
  }

  bool time(int warmup, int iterations, double &medianMs,
            std::string &error) override {
    for (int i = 0; i < warmup; ++i)
      if (!invoke(error))
        return false;
    std::vector<double> samples;
    for (int i = 0; i < iterations; ++i) {
      auto start = std::chrono::steady_clock::now();
      if (!invoke(error))
        return false;
      std::chrono::duration<double, std::milli> ms =
          std::chrono::steady_clock::now() - start;
      samples.push_back(ms.count());
    }
    medianMs = ::attn::runtime::medianOf(samples);
    return true;
  }

private:
  bool invoke(std::string &error) {
    // Descriptor layout: allocated, aligned, offset, sizes[r], strides[r].
    std::vector<std::vector<int64_t>> descriptors;
    for (auto [i, arg] : llvm::enumerate(spec.args)) {
      std::vector<int64_t> d = {reinterpret_cast<int64_t>(lastArgs[i]),
                                reinterpret_cast<int64_t>(lastArgs[i]), 0};
      int64_t stride = 1;
      std::vector<int64_t> strides(arg.shape.size());
      for (size_t r = arg.shape.size(); r-- > 0;) {
        strides[r] = stride;
        stride *= arg.shape[r];
      }
      d.insert(d.end(), arg.shape.begin(), arg.shape.end());
      d.insert(d.end(), strides.begin(), strides.end());
      descriptors.push_back(std::move(d));
    }
    std::vector<void *> descriptorPtrs;
    for (auto &d : descriptors)
      descriptorPtrs.push_back(d.data());
    SmallVector<void *> packed;
    for (void *&p : descriptorPtrs)
      packed.push_back(&p);
    if (llvm::Error err = engine->invokePacked(symbol, packed)) {
      error = "JIT call failed: " + llvm::toString(std::move(err));
      return false;
    }
    return true;
  }

  std::unique_ptr<ExecutionEngine> engine;
  std::string symbol;
  ::attn::runtime::FunctionSpec spec;
  std::vector<void *> lastArgs;
};

} // namespace

bool ::attn::run::compileToPackage(const std::string &mlirPath,
                                 const std::string &chip,
                                 const std::string &packageDir,
                                 std::string &error) {
  CompilerSession session;
  OwningOpRef<ModuleOp> module = session.parse(mlirPath, error);
  if (!module)
    return false;
  PassManager pm(&session.context);
  mlir::attn::AttnToCubinOptions options;
  options.chip = chip;
  options.packageDir = packageDir;
  mlir::attn::buildAttnToCubinPipeline(pm, options);
  if (failed(pm.run(*module))) {
    error = "compiling '" + mlirPath + "' for " + chip + " failed:\n" +
            session.diagnostics;
    return false;
  }
  return true;
}

auto ::attn::run::createCpuExecutor(const std::string &mlirPath,
                                   const std::string &function, bool tile,
                                   ::attn::runtime::FunctionSpec &spec,
                                   std::string &error)
    -> std::unique_ptr<::attn::runtime::Executor> {
  CompilerSession session;
  OwningOpRef<ModuleOp> module = session.parse(mlirPath, error);
  if (!module)
    return nullptr;
  func::FuncOp func = pickFunction(*module, function, error);
  if (!func)
    return nullptr;
  FailureOr<mlir::attn::FunctionSpecAttr> description =
      mlir::attn::describeFunction(func);
  if (failed(description)) {
    error = session.diagnostics;
    return nullptr;
  }
  std::string text;
  llvm::raw_string_ostream os(text);
  os << llvm::json::Value(mlir::attn::functionSpecToJson(*description));
  ::attn::runtime::JsonValue json;
  if (!::attn::runtime::parseJson(text, json, error) ||
      !::attn::runtime::parseFunctionSpec(json, spec, error))
    return nullptr;

  std::string name = func.getSymName().str();
  func->setAttr("llvm.emit_c_interface", UnitAttr::get(&session.context));
  PassManager pm(&session.context);
  mlir::attn::AttnToLLVMOptions options;
  options.tile = tile;
  mlir::attn::buildAttnToLLVMPipeline(pm, options);
  if (failed(pm.run(*module))) {
    error = "lowering '" + mlirPath + "' to LLVM failed:\n" +
            session.diagnostics;
    return nullptr;
  }

  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  ExecutionEngineOptions engineOptions;
  engineOptions.jitCodeGenOptLevel = llvm::CodeGenOptLevel::Aggressive;
  auto engine = ExecutionEngine::create(*module, engineOptions);
  if (!engine) {
    error = "JIT compilation failed: " + llvm::toString(engine.takeError());
    return nullptr;
  }
  return std::make_unique<CpuExecutor>(std::move(*engine),
                                       "_mlir_ciface_" + name, spec);
}
