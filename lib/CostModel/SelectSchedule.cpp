//===- SelectSchedule.cpp - attach the schedule a cost model picks --------===//

#include "attn/CostModel/CostModel.h"
#include "attn/CostModel/Features.h"
#include "attn/CostModel/Passes.h"

#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Tuning/Tuning.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/FormatVariadic.h"

#include <chrono>
#include <cmath>

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNSELECTSCHEDULE
#include "attn/CostModel/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;

namespace {

/// The value of feature `name` in `features`.
double feature(ArrayRef<double> features, StringRef name) {
  ArrayRef<StringRef> names = getFeatureNames();
  return features[llvm::find(names, name) - names.begin()];
}

struct AttnSelectSchedulePass
    : public attn::impl::AttnSelectScheduleBase<AttnSelectSchedulePass> {
  using AttnSelectScheduleBase::AttnSelectScheduleBase;

  void runOnOperation() override {
    Operation *root = getOperation();
    const ChipInfo *info = lookupChip(chip);
    if (!info) {
      root->emitError() << "attn-select-schedule: unknown chip '" << chip
                        << "' (one of " << knownChipNames() << ")";
      return signalPassFailure();
    }
    SmallVector<Operation *> ops;
    root->walk([&](AttnOpInterface op) {
      if (!op->hasAttr("schedule"))
        ops.push_back(op);
    });
    if (ops.empty())
      return;
    llvm::Expected<std::optional<CostModel>> resolved =
        resolveCostModel(model, *info);
    if (!resolved) {
      root->emitError() << "attn-select-schedule: "
                        << llvm::toString(resolved.takeError());
      return signalPassFailure();
    }
    if (!*resolved) {
      if (report && model != "none")
        for (Operation *op : ops)
          op->emitRemark() << "attn-select-schedule: no cost model ships "
                              "for chip '"
                           << info->name
                           << "'; the hand-written default schedule applies";
      return;
    }
    const CostModel &costModel = **resolved;
    for (Operation *op : ops)
      select(op, *info, costModel);
  }

  void select(Operation *op, const ChipInfo &info, const CostModel &costModel) {
    auto start = std::chrono::steady_clock::now();
    // A tree ensemble does not extrapolate: outside the shapes it was
    // trained on, the hand-written default is the safer choice.
    std::optional<std::string> outside =
        costModel.whyOutsideTrainedDomain(op, info);
    bool keepDefault = outside && guard;
    if (keepDefault && !report)
      return;
    std::string why;
    FailureOr<SmallVector<RankedSchedule>> ranked =
        rankSchedules(op, info, costModel, &why);
    double ms = std::chrono::duration<double, std::milli>(
                    std::chrono::steady_clock::now() - start)
                    .count();
    if (failed(ranked)) {
      // Dynamic shapes and the like: the default schedule applies later.
      if (report)
        op->emitRemark() << "attn-select-schedule: nothing to choose (" << why
                         << "); the default schedule applies";
      return;
    }
    if (!keepDefault)
      op->setAttr("schedule", ranked->front().schedule);
    if (!report)
      return;
    InFlightDiagnostic remark = op->emitRemark();
    remark << "attn-select-schedule: ";
    if (keepDefault)
      remark << "the hand-written default schedule "
             << getDefaultSchedule(op, info.name)
             << " applies: the op lies outside the cost model's trained "
                "domain ("
             << *outside << "); the model's ranking, not used: ";
    else if (outside)
      remark << "the op lies outside the cost model's trained domain ("
             << *outside << "), but guard=0: the model's pick applies; ";
    remark << ranked->size() << " candidates scored by " << costModel.describe()
           << " in " << llvm::formatv("{0:f1}", ms) << " ms";
    unsigned shown = std::min<size_t>(top, ranked->size());
    for (unsigned i = 0; i < shown; ++i) {
      const RankedSchedule &r = (*ranked)[i];
      remark << "\n  #" << (i + 1) << " " << r.schedule << ": ";
      if (costModel.predictsTime())
        remark << "predicted " << llvm::formatv("{0:f1}", r.cost) << " us";
      else
        remark << "score " << llvm::formatv("{0:f3}", -r.cost);
      auto unlog = [&](StringRef name) {
        return std::exp2(feature(r.features, name)) - 1.0;
      };
      remark << llvm::formatv(
          " (roofline {0:f1} us, {1:f2} waves, {2} B shared, {3} threads)",
          unlog("log_roofline_us"), unlog("log_waves"),
          static_cast<int64_t>(std::llround(unlog("log_shared_bytes"))),
          static_cast<int64_t>(std::llround(unlog("log_threads"))));
    }
  }
};

} // namespace
