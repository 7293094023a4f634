//===- IOReport.cpp - the attn-io-report pass -----------------------------===//
//
// Prints the IO model of every attn op as a remark (see IOModel.h).
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/AttnToGPU/Plans.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Tuning/IOModel.h"
#include "attn/Tuning/Tuning.h"
#include "attn/Dialect/Attn/Transforms/Passes.h"

#include "llvm/Support/FormatVariadic.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNIOREPORT
#include "attn/Dialect/Attn/Transforms/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;

namespace {
/// What runs the tiled form on the schedule's chip: the plan's family and
/// launch facts (the cost model's other features).
std::string describePlan(Operation *op, ScheduleAttr schedule) {
  FailureOr<KernelPlan> plan = planKernel(op, schedule);
  if (failed(plan))
    return "no kernel plan";
  const LaunchFacts &f = plan->facts;
  if (f.family == KernelFamily::Loops)
    return "kernel: loops (" + plan->whyLoops + ")";
  std::string mma = f.tensorCore();
  return llvm::formatv("kernel: {0}{1}, {2} threads, grid {3}x{4}x{5}, {6} B "
                       "shared",
                       stringifyKernelFamily(f.family),
                       mma.empty() ? "" : " on " + mma, f.threads, f.grid[0],
                       f.grid[1], f.grid[2], f.sharedBytes)
      .str();
}

struct AttnIOReportPass : public attn::impl::AttnIOReportBase<AttnIOReportPass> {
  void runOnOperation() override {
    getOperation()->walk([](Operation *op) {
      if (!isa<AttnOpInterface>(op))
        return;
      ScheduleAttr schedule = getScheduleOrDefault(op);
      std::string whyNot;
      FailureOr<IOReport> report = estimateIO(op, schedule, &whyNot);
      if (failed(report)) {
        op->emitRemark() << "attn-io-report: no estimate for " << whyNot;
        return;
      }
      auto describe = [](const IOEstimate &e) {
        return llvm::formatv("read {0} B, write {1} B, {2} FLOP, {3} exp",
                             e.bytesRead, e.bytesWritten, e.flops,
                             e.transcendentals)
            .str();
      };
      double tiledBytes = report->tiled.bytesRead + report->tiled.bytesWritten;
      double unfusedBytes =
          report->unfused.bytesRead + report->unfused.bytesWritten;
      op->emitRemark() << "attn-io-report: " << op->getName() << " under "
                       << schedule << ": tiled " << describe(report->tiled)
                       << "; unfused " << describe(report->unfused)
                       << "; traffic "
                       << (tiledBytes > 0
                               ? llvm::formatv("{0:F2}x", unfusedBytes /
                                                              tiledBytes)
                                     .str()
                               : std::string("n/a (nothing moved)"))
                       << "; " << describePlan(op, schedule);
    });
  }
};
} // namespace
