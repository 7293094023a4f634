//===- attn-tune.cpp - the schedule space of attn ops ---------------------===//
//
//   attn-tune list FILE.mlir [--chip sm_90a]
//     For every attn op of every function: one line per legal schedule (the
//     enumeration, exactly what the kernel plans accept), with the plan's
//     key facts; a header line per op names the default schedule and
//     whether the enumeration lists it (exit 1 if it does not).
//   attn-tune pin FILE.mlir --sample K --seed S -o DIR [--chip sm_90a]
//     Writes DIR/<function>.<op>.<i>.mlir: the function of op <op>, the op
//     pinned to a seeded sample of K enumerated schedules (the default, the
//     first and the last always among them), for compiling samples of the
//     space.
//   attn-tune rank FILE.mlir --model auto|analytic|PATH [--top K]
//                  [--chip sm_90a]
//     For every attn op: how long enumerating, computing features and
//     scoring every legal schedule takes (what attn-select-schedule does
//     per op), then the K cheapest with their costs. For an op outside the
//     learned model's trained domain, a line saying why: there
//     attn-select-schedule keeps the default schedule.
//   attn-tune generate SHAPES.mlir --sample K --seed S -o BATCH
//                      [--shard I --shards N] [--chip sm_90a]
//                      [--pipelines tma,tma_pingpong]
//     The cost model's candidates: for each function of SHAPES.mlir (one
//     attn op each: a shape), the same seeded sample as `pin` (every
//     schedule when the space has at most K), each compiled in process
//     into the PTX-only kernel package BATCH/pkgs/<function>.<i>
//     (attn-to-cubin with assemble=0: the GPU machine runs ptxas), and one
//     line of BATCH/candidates[-I-of-N].jsonl per candidate with its
//     schedule, the size of the space, whether it is the default, and its
//     features (lib/CostModel/Features.h). Shard I of N takes the functions
//     whose index is I modulo N, so that N processes share the work.
//     --pipelines samples only the schedules of those pipelines (and the
//     default): e.g. the TMA candidates of shapes measured before; pin
//     takes it too. --guide MODEL takes the default and the model's
//     --sample - 1 best-ranked schedules instead of a random sample: the
//     candidates a model would pick, measured to correct it where it is
//     wrong (active learning).
//   attn-tune featurize SHAPES.mlir --rows ROWS.jsonl -o OUT.jsonl
//                       [--chip sm_90a]
//     The features of measured candidates again, under this compiler's
//     feature list: ROWS.jsonl has one {"id", "shape", "schedule"} object
//     per line (a dataset's rows; "shape" names a function of SHAPES.mlir),
//     OUT.jsonl a {"meta": {"version", "chip", "names"}} line (the feature
//     list), then one {"id", "features", "default"} per row ("status":
//     "no_features" with the reason instead of the features when they
//     cannot be computed). tools/attn-tune/dataset.py refeaturize uses it
//     when the feature list changes, so that old measurements train a new
//     model.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/AttnToGPU/Plans.h"
#include "attn/CostModel/CostModel.h"
#include "attn/CostModel/Features.h"
#include "attn/InitAll.h"
#include "attn/Tuning/Tuning.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/JSON.h"

#include "mlir/AsmParser/AsmParser.h"
#include "llvm/ADT/MapVector.h"

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
namespace json = llvm::json;

static cl::opt<std::string> command(cl::Positional, cl::Required,
                                    cl::desc("<list|pin|rank|generate|"
                                             "featurize>"));
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
                                   cl::desc("pin, generate: output directory"));
static cl::opt<std::string> modelOption(
    "model", cl::init("auto"),
    cl::desc("rank: auto (the chip's shipped model), analytic, or a path"));
static cl::opt<unsigned> topCount("top", cl::init(5),
                                  cl::desc("rank: candidates to print"));
static cl::opt<unsigned> shard("shard", cl::init(0),
                               cl::desc("generate: this process's shard"));
static cl::opt<unsigned> shards("shards", cl::init(1),
                                cl::desc("generate: number of shards"));
static cl::list<std::string>
    pipelineFilter("pipelines", cl::CommaSeparated,
                   cl::desc("pin, generate: sample only schedules of "
                            "these pipelines (and the default)"));
static cl::opt<std::string>
    guideModel("guide", cl::init(""),
               cl::desc("generate: instead of a random sample, the default "
                        "and the top of this model's ranking (auto, or a "
                        "path)"));
static cl::opt<std::string> rowsFile("rows", cl::init(""),
                                     cl::desc("featurize: the rows (JSON "
                                              "lines with id, shape, "
                                              "schedule)"));

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
       << " ms); default " << def << (listed ? " (listed)" : " (NOT LISTED)")
       << "\n";
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

/// The default (first), the first and the last of the space, then a
/// sample seeded with `rngSeed`, as many of each pipeline as the others,
/// up to --sample schedules in all. With --pipelines, the space is first
/// cut to those pipelines' schedules and the default (the golden output
/// the runner checks the others against).
static SmallVector<ScheduleAttr> sampleSpace(Operation *op,
                                             ArrayRef<ScheduleAttr> space,
                                             const ChipInfo &chip,
                                             uint64_t rngSeed) {
  SmallVector<ScheduleAttr> picked;
  auto pick = [&](ScheduleAttr s) {
    if (!llvm::is_contained(picked, s))
      picked.push_back(s);
  };
  ScheduleAttr def = getDefaultSchedule(op, chip.name);
  SmallVector<ScheduleAttr> rest(space.begin(), space.end());
  if (!pipelineFilter.empty())
    llvm::erase_if(rest, [&](ScheduleAttr s) {
      return s != def &&
             !llvm::is_contained(pipelineFilter, s.getPipeline().str());
    });
  pick(def);
  if (rest.empty())
    return picked;
  pick(rest.front());
  pick(rest.back());
  std::mt19937_64 rng(rngSeed);
  std::shuffle(rest.begin(), rest.end(), rng);
  // Evenly over the pipelines, in the shuffled order within each: the
  // cp.async loop has more tilings than the TMA pipelines, and a uniform
  // sample would measure them 3:1. (With one pipeline this is the plain
  // shuffled order.)
  llvm::MapVector<StringRef, SmallVector<ScheduleAttr>> byPipeline;
  for (ScheduleAttr s : rest)
    byPipeline[s.getPipeline()].push_back(s);
  for (size_t i = 0; picked.size() < sampleCount; ++i) {
    bool any = false;
    for (auto &entry : byPipeline) {
      if (i >= entry.second.size() || picked.size() >= sampleCount)
        continue;
      any = true;
      pick(entry.second[i]);
    }
    if (!any)
      break;
  }
  return picked;
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
    SmallVector<ScheduleAttr> picked =
        sampleSpace(ref.op, space, chip, seed + which);
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

static int rank(ModuleOp module, const ChipInfo &chip) {
  llvm::Expected<std::optional<CostModel>> model =
      resolveCostModel(modelOption, chip);
  if (!model) {
    llvm::errs() << "attn-tune rank: " << llvm::toString(model.takeError())
                 << "\n";
    return 2;
  }
  if (!*model) {
    llvm::errs() << "attn-tune rank: no cost model ships for chip '"
                 << chip.name << "' (pass --model=analytic or a path)\n";
    return 2;
  }
  llvm::raw_ostream &os = llvm::outs();
  int rc = 0;
  for (const OpRef &ref : collectOps(module)) {
    auto start = std::chrono::steady_clock::now();
    std::string why;
    FailureOr<SmallVector<RankedSchedule>> ranked =
        rankSchedules(ref.op, chip, **model, &why);
    double ms = std::chrono::duration<double, std::milli>(
                    std::chrono::steady_clock::now() - start)
                    .count();
    os << "# @" << ref.function << " op " << ref.index << " "
       << ref.op->getName() << " on " << chip.name << ": ";
    if (failed(ranked)) {
      os << "nothing to rank (" << why << ")\n";
      rc = 1;
      continue;
    }
    os << ranked->size() << " candidates ranked by " << (*model)->describe()
       << " in " << llvm::format("%.1f", ms) << " ms\n";
    if (std::optional<std::string> outside =
            (*model)->whyOutsideTrainedDomain(ref.op, chip))
      os << "# outside the trained domain (" << *outside
         << "): attn-select-schedule keeps the default "
         << getDefaultSchedule(ref.op, chip.name) << "\n";
    for (unsigned i = 0; i < std::min<size_t>(topCount, ranked->size()); ++i)
      os << "@" << ref.function << "\t" << (i + 1) << "\t"
         << (*ranked)[i].schedule << "\t"
         << llvm::format("%.4g", (*ranked)[i].cost) << "\n";
  }
  return rc;
}

/// This compiler's feature list: {"version", "chip", "names"}.
static json::Object featureList(const ChipInfo &chip) {
  json::Array names;
  for (StringRef n : getFeatureNames())
    names.push_back(n.str());
  return json::Object{{"version", kFeatureVersion},
                      {"chip", chip.name.str()},
                      {"names", std::move(names)}};
}

static json::Object scheduleFields(ScheduleAttr s) {
  return json::Object{{"block_m", s.getBlockM()}, {"block_n", s.getBlockN()},
                      {"block_d", s.getBlockD()}, {"warps", s.getWarps()},
                      {"stages", s.getStages()},  {"split", s.getSplit()},
                      {"passes", s.getPasses()}};
}

/// Compiles the module `single` (one function) into the PTX-only package
/// `dir`; the diagnostics' text in `error` on failure.
static LogicalResult compilePackage(ModuleOp single, StringRef dir,
                                    const ChipInfo &chip, std::string &error) {
  MLIRContext *ctx = single.getContext();
  std::string diagnostics;
  ScopedDiagnosticHandler collect(ctx, [&](Diagnostic &d) {
    if (d.getSeverity() == DiagnosticSeverity::Error)
      diagnostics += d.str() + "; ";
    return success();
  });
  PassManager pm(ctx, ModuleOp::getOperationName());
  std::string pipeline = ("attn-to-cubin{chip=" + chip.name +
                          " package-dir=" + dir + " assemble=0}")
                             .str();
  if (failed(parsePassPipeline(pipeline, pm))) {
    error = "cannot parse the pipeline " + pipeline;
    return failure();
  }
  if (failed(pm.run(single))) {
    error = diagnostics.empty() ? "the pipeline failed" : diagnostics;
    return failure();
  }
  return success();
}

static int generate(ModuleOp module, const ChipInfo &chip) {
  if (outDir.empty() || shards == 0 || shard >= shards) {
    llvm::errs() << "attn-tune generate: -o BATCH is required, and --shard "
                    "must be below --shards\n";
    return 2;
  }
  SmallString<128> pkgs(outDir);
  llvm::sys::path::append(pkgs, "pkgs");
  if (std::error_code ec = llvm::sys::fs::create_directories(pkgs)) {
    llvm::errs() << "attn-tune generate: cannot create " << pkgs << ": "
                 << ec.message() << "\n";
    return 2;
  }
  std::string name = shards == 1
                         ? "candidates.jsonl"
                         : llvm::formatv("candidates-{0}-of-{1}.jsonl",
                                         shard.getValue(), shards.getValue())
                               .str();
  SmallString<128> listPath(outDir);
  llvm::sys::path::append(listPath, name);
  std::string err;
  auto list = openOutputFile(listPath, &err);
  if (!list) {
    llvm::errs() << "attn-tune generate: " << err << "\n";
    return 2;
  }
  if (shard == 0) {
    // The feature names, in the order the candidates list them.
    SmallString<128> namesPath(outDir);
    llvm::sys::path::append(namesPath, "features.json");
    auto names = openOutputFile(namesPath, &err);
    if (!names) {
      llvm::errs() << "attn-tune generate: " << err << "\n";
      return 2;
    }
    json::Object list = featureList(chip);
    list["seed"] = seed.getValue();
    list["sample"] = sampleCount.getValue();
    names->os() << json::Value(std::move(list)) << "\n";
    names->keep();
  }
  std::optional<CostModel> guide;
  if (!guideModel.empty()) {
    llvm::Expected<std::optional<CostModel>> model =
        resolveCostModel(guideModel, chip);
    if (!model || !*model) {
      llvm::errs() << "attn-tune generate: --guide "
                   << (model
                           ? guideModel + ": no model to rank with on chip '" +
                                 chip.name.str() + "'"
                           : llvm::toString(model.takeError()))
                   << "\n";
      return 2;
    }
    guide = std::move(**model);
  }
  SmallVector<OpRef> ops = collectOps(module);
  unsigned compiled = 0, failedCompiles = 0, unranked = 0;
  for (unsigned which = 0; which < ops.size(); ++which) {
    if (which % shards != shard)
      continue;
    const OpRef &ref = ops[which];
    SmallVector<ScheduleAttr> space = enumerateSchedules(ref.op, chip.name);
    if (space.empty()) {
      llvm::errs() << "attn-tune generate: @" << ref.function
                   << ": no legal schedule on " << chip.name << "\n";
      continue;
    }
    ScheduleAttr def = getDefaultSchedule(ref.op, chip.name);
    SmallVector<ScheduleAttr> picked;
    if (guide) {
      // The model's own top picks (after the default): measuring them is
      // what tells a model where it is wrong.
      picked.push_back(def);
      std::string why;
      FailureOr<SmallVector<RankedSchedule>> ranked =
          rankSchedules(ref.op, chip, *guide, &why);
      if (failed(ranked)) {
        llvm::errs() << "attn-tune generate: @" << ref.function
                     << ": the model ranks nothing (" << why << ")\n";
        ++unranked;
        continue;
      }
      for (const RankedSchedule &r : *ranked) {
        if (picked.size() >= sampleCount)
          break;
        if (!llvm::is_contained(picked, r.schedule))
          picked.push_back(r.schedule);
      }
    } else {
      picked = sampleSpace(ref.op, space, chip, seed + which);
    }
    auto func = ref.op->getParentOfType<func::FuncOp>();
    auto start = std::chrono::steady_clock::now();
    for (unsigned i = 0; i < picked.size(); ++i) {
      ScheduleAttr s = picked[i];
      std::string id = ref.function + "." + std::to_string(i);
      json::Object line{{"id", id},
                        {"shape", ref.function},
                        {"op", ref.op->getName().stripDialect().str()},
                        {"schedule", scheduleText(s)},
                        {"knobs", scheduleFields(s)},
                        {"default", s == def},
                        {"space_size", static_cast<int64_t>(space.size())},
                        {"sampled", space.size() > picked.size()}};
      std::string why;
      FailureOr<SmallVector<double>> features =
          computeFeatures(ref.op, s, chip, &why);
      if (failed(features)) {
        line["status"] = "no_features";
        line["reason"] = why;
      } else {
        line["features"] = json::Array(*features);
        ref.op->setAttr("schedule", s);
        OwningOpRef<ModuleOp> single = ModuleOp::create(module.getLoc());
        single->push_back(func.clone());
        ref.op->removeAttr("schedule");
        SmallString<128> dir(pkgs);
        llvm::sys::path::append(dir, id);
        std::string error;
        if (failed(compilePackage(*single, dir, chip, error))) {
          ++failedCompiles;
          line["status"] = "compile_error";
          line["reason"] = error;
        } else {
          ++compiled;
          line["package"] = ("pkgs/" + id);
        }
      }
      list->os() << json::Value(std::move(line)) << "\n";
    }
    list->os().flush();
    double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    llvm::errs() << "@" << ref.function << ": " << picked.size() << " of "
                 << space.size() << " schedules in " << llvm::format("%.1f", s)
                 << " s\n";
  }
  list->keep();
  llvm::errs() << "attn-tune generate: " << compiled << " packages, "
               << failedCompiles << " failed to compile\n";
  return failedCompiles || unranked ? 1 : 0;
}

static int featurize(ModuleOp module, const ChipInfo &chip) {
  if (outDir.empty() || rowsFile.empty()) {
    llvm::errs() << "attn-tune featurize: --rows ROWS.jsonl and -o OUT.jsonl "
                    "are required\n";
    return 2;
  }
  llvm::StringMap<Operation *> byShape;
  for (const OpRef &ref : collectOps(module))
    if (ref.index == 0)
      byShape[ref.function] = ref.op;
  std::string err;
  std::unique_ptr<llvm::MemoryBuffer> rows = openInputFile(rowsFile, &err);
  if (!rows) {
    llvm::errs() << "attn-tune featurize: " << err << "\n";
    return 2;
  }
  auto out = openOutputFile(outDir, &err);
  if (!out) {
    llvm::errs() << "attn-tune featurize: " << err << "\n";
    return 2;
  }
  out->os() << json::Value(json::Object{{"meta", featureList(chip)}}) << "\n";
  MLIRContext *ctx = module.getContext();
  unsigned lineNumber = 0, computed = 0, refused = 0;
  SmallVector<StringRef> lines;
  rows->getBuffer().split(lines, '\n', /*MaxSplit=*/-1, /*KeepEmpty=*/false);
  for (StringRef text : lines) {
    ++lineNumber;
    auto where = [&] {
      return (rowsFile + ":" + Twine(lineNumber) + ": ").str();
    };
    llvm::Expected<json::Value> value = json::parse(text);
    if (!value) {
      llvm::errs() << where() << llvm::toString(value.takeError()) << "\n";
      return 1;
    }
    const json::Object *row = value->getAsObject();
    std::optional<StringRef> id = row ? row->getString("id") : std::nullopt;
    std::optional<StringRef> shape =
        row ? row->getString("shape") : std::nullopt;
    std::optional<StringRef> scheduleString =
        row ? row->getString("schedule") : std::nullopt;
    if (!id || !shape || !scheduleString) {
      llvm::errs() << where()
                   << "expected an object with \"id\", \"shape\" and "
                      "\"schedule\" strings\n";
      return 1;
    }
    Operation *op = byShape.lookup(*shape);
    if (!op) {
      llvm::errs() << where() << "no function @" << *shape << " in "
                   << inputFile << "\n";
      return 1;
    }
    auto schedule = llvm::dyn_cast_or_null<ScheduleAttr>(
        parseAttribute(*scheduleString, ctx));
    if (!schedule) {
      llvm::errs() << where() << "not a schedule: " << *scheduleString << "\n";
      return 1;
    }
    json::Object line{
        {"id", *id},
        {"default", schedule == getDefaultSchedule(op, chip.name)}};
    std::string why;
    FailureOr<SmallVector<double>> features =
        computeFeatures(op, schedule, chip, &why);
    if (succeeded(features)) {
      ++computed;
      line["features"] = json::Array(*features);
    } else {
      ++refused;
      line["status"] = "no_features";
      line["reason"] = why;
    }
    out->os() << json::Value(std::move(line)) << "\n";
  }
  out->keep();
  llvm::errs() << "attn-tune featurize: " << computed << " rows, " << refused
               << " without features\n";
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
  if (command != "list" && command != "pin" && command != "generate" &&
      command != "rank" && command != "featurize") {
    llvm::errs() << "attn-tune: unknown command '" << command
                 << "' (list, pin, rank, generate or featurize)\n";
    return 2;
  }
  registerAllPasses();
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
  if (command == "generate")
    return generate(*module, *chip);
  if (command == "rank")
    return rank(*module, *chip);
  if (command == "featurize")
    return featurize(*module, *chip);
  return command == "list" ? list(*module, *chip) : pin(*module, *chip);
}
