//===- IOReport.cpp - the attn-io-report pass -----------------------------===//
//
// Prints the IO model of every attn op as a remark (see IOModel.h).
//
//===----------------------------------------------------------------------===//

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
struct AttnIOReportPass : public attn::impl::AttnIOReportBase<AttnIOReportPass> {
  void runOnOperation() override {
    getOperation()->walk([](Operation *op) {
      if (!isa<AttnOpInterface>(op))
        return;
      ScheduleAttr schedule = getScheduleOrDefault(op);
      FailureOr<IOReport> report = estimateIO(op, schedule);
      if (failed(report)) {
        op->emitRemark("attn-io-report: no estimate for dynamic shapes");
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
                       << llvm::formatv("{0:F2}", unfusedBytes / tiledBytes).str()
                       << "x";
    });
  }
};
} // namespace
