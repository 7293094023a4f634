//===- attn-tune.cpp - the schedule space of attn ops ---------------------===//
//
//   attn-tune list FILE.mlir [--chip sm_90a]
//     For every attn op of every function: one line per legal schedule (the
//     enumeration, exactly what the kernel plans accept), with the plan's
//     key facts; a header line per op names the default schedule and
//     whether the enumeration lists it (exit 1 if it does not).
//   attn-tune pin FILE.mlir --sample K --seed S -o DIR [--chip sm_90a]
//     Writes DIR/<function>.<op>.<i>.mlir: the function of op <op>, the op
//     pinned to a seeded sample of K enumerated schedules (the default, the first and
//     the last always among them), for compiling samples of the space.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/AttnToGPU/Plans.h"
#include "attn/InitAll.h"
#include "attn/Tuning/Tuning.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <random>

using namespace mlir;
using namespace mlir::attn;
namespace cl = llvm::cl;

static cl::opt<std::string> command(cl::Positional, cl::Required,
                                    cl::desc("<list|pin>"));
static cl::opt<std::string> inputFile(cl::Positional, cl::Required,
                                      cl::desc("<input .mlir>"));
static cl::opt<std::string> chipName("chip", cl::init("sm_90a"),
                                     cl::desc("target chip (attn-tune list "
                                              "--chip help: the known ones)"));
static cl::opt<unsigned> sampleCount("sample", cl::init(8),
                                     cl::desc("pin: schedules per op"));
static cl::opt<unsigned> seed("seed", cl::init(1),
                              cl::desc("pin: sampling seed"));
static cl::opt<std::string> outDir("o", cl::init(""),
                                   cl::desc("pin: output directory"));

namespace {
/// An attn op of the module: its function and index in that function.
struct OpRef {
  std::string function;
  unsigned index;
  Operation *op;
};
} // namespace

static SmallVector<OpRef> collectOps(ModuleOp module) {
  SmallVector<OpRef> ops;
  module.walk([&](func::FuncOp func) {
    unsigned index = 0;
    func.walk([&](Operation *op) {
      if (isa<AttnOpInterface>(op))
        ops.push_back({func.getSymName().str(), index++, op});
    });
  });
  return ops;
}

static std::string scheduleText(ScheduleAttr s) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << s;
  return text;
}

static void printFacts(llvm::raw_ostream &os, const KernelPlan &plan) {
  const LaunchFacts &f = plan.facts;
  os << "family=" << stringifyKernelFamily(f.family);
  if (f.family == KernelFamily::Loops) {
    os << " (" << plan.whyLoops << ")";
    return;
  }
  std::string mma = f.tensorCore();
  os << " mma=" << (mma.empty() ? "none" : mma) << " smem=" << f.sharedBytes
     << " grid=" << f.grid[0] << "x" << f.grid[1] << "x" << f.grid[2]
     << " threads=" << f.threads << " cluster=" << f.cluster
     << " acc_regs=" << f.accumulatorRegisters
     << " blocks_per_sm=" << f.blocksPerSM;
}

static int list(ModuleOp module, const ChipInfo &chip) {
  int rc = 0;
  llvm::raw_ostream &os = llvm::outs();
  for (const OpRef &ref : collectOps(module)) {
    auto start = std::chrono::steady_clock::now();
    SmallVector<ScheduleAttr> space = enumerateSchedules(ref.op, chip.name);
    double ms = std::chrono::duration<double, std::milli>(
                    std::chrono::steady_clock::now() - start)
                    .count();
    ScheduleAttr def = getDefaultSchedule(ref.op, chip.name);
    bool listed = llvm::is_contained(space, def);
    os << "# @" << ref.function << " op " << ref.index << " "
       << ref.op->getName() << " on " << chip.name << ": " << space.size()
       << " legal schedules (enumerated in " << llvm::format("%.1f", ms)
       << " ms); default " << def
       << (listed ? " (listed)" : " (NOT LISTED)") << "\n";
    if (!listed)
      rc = 1;
    for (ScheduleAttr s : space) {
      os << "@" << ref.function << "\t" << ref.index << "\t" << s << "\t";
      FailureOr<KernelPlan> plan = planKernel(ref.op, s, chip);
      if (succeeded(plan))
        printFacts(os, *plan);
      else
        os << "plan rejected (enumeration bug)";
      os << "\n";
    }
  }
  return rc;
}

static int pin(ModuleOp module, const ChipInfo &chip) {
  if (outDir.empty()) {
    llvm::errs() << "attn-tune pin: -o DIR is required\n";
    return 2;
  }
  if (std::error_code ec = llvm::sys::fs::create_directories(outDir)) {
    llvm::errs() << "attn-tune pin: cannot create " << outDir << ": "
                 << ec.message() << "\n";
    return 2;
  }
  SmallVector<OpRef> ops = collectOps(module);
  for (unsigned which = 0; which < ops.size(); ++which) {
    const OpRef &ref = ops[which];
    SmallVector<ScheduleAttr> space = enumerateSchedules(ref.op, chip.name);
    if (space.empty())
      continue;
    // The default, the first and the last, then a seeded sample.
    SmallVector<ScheduleAttr> picked;
    auto pick = [&](ScheduleAttr s) {
      if (!llvm::is_contained(picked, s))
        picked.push_back(s);
    };
    pick(getDefaultSchedule(ref.op, chip.name));
    pick(space.front());
    pick(space.back());
    std::mt19937_64 rng(seed + which);
    SmallVector<ScheduleAttr> rest(space.begin(), space.end());
    std::shuffle(rest.begin(), rest.end(), rng);
    for (ScheduleAttr s : rest) {
      if (picked.size() >= sampleCount)
        break;
      pick(s);
    }
    // The op's function alone, so that each file compiles one kernel.
    auto func = ref.op->getParentOfType<func::FuncOp>();
    for (unsigned i = 0; i < picked.size(); ++i) {
      ref.op->setAttr("schedule", picked[i]);
      OwningOpRef<ModuleOp> single = ModuleOp::create(module.getLoc());
      single->push_back(func.clone());
      SmallString<128> path(outDir);
      llvm::sys::path::append(path, ref.function + "." +
                                        std::to_string(ref.index) + "." +
                                        std::to_string(i) + ".mlir");
      std::string err;
      auto file = openOutputFile(path, &err);
      if (!file) {
        llvm::errs() << "attn-tune pin: " << err << "\n";
        return 2;
      }
      single->print(file->os());
      file->keep();
      llvm::outs() << path << "\t" << scheduleText(picked[i]) << "\n";
    }
    ref.op->removeAttr("schedule");
  }
  return 0;
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::ParseCommandLineOptions(argc, argv,
                              "attn-tune: the schedule space of attn ops\n");
  const ChipInfo *chip = lookupChip(chipName);
  if (!chip) {
    llvm::errs() << "attn-tune: unknown chip '" << chipName << "' (one of "
                 << knownChipNames() << ")\n";
    return 2;
  }
  if (command != "list" && command != "pin") {
    llvm::errs() << "attn-tune: unknown command '" << command
                 << "' (list or pin)\n";
    return 2;
  }
  DialectRegistry registry;
  registerAllDialects(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();
  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler handler(sourceMgr, &context);
  OwningOpRef<ModuleOp> module =
      parseSourceFile<ModuleOp>(inputFile, sourceMgr, &context);
  if (!module)
    return 1;
  // The schedules the file pins are not the question: enumerate unpinned.
  for (const OpRef &ref : collectOps(*module))
    ref.op->removeAttr("schedule");
  return command == "list" ? list(*module, *chip) : pin(*module, *chip);
}
