//===- Passes.td - cost model passes -----------------------*- tablegen -*-===//

#ifndef ATTN_COSTMODEL_PASSES_TD
#define ATTN_COSTMODEL_PASSES_TD

include "mlir/Pass/PassBase.td"

def AttnSelectSchedule : Pass<"attn-select-schedule"> {
  let summary = "Attach the schedule a cost model predicts fastest to each "
                "attn op without one";
  let description = [{
    For each attn op that has no `schedule` attribute, enumerates the legal
    schedules on `chip` (exactly what the kernel plans accept), computes
    each candidate's features (include/attn/CostModel/Features.h), scores
    them with the cost model and attaches the cheapest as
    `#attn.schedule<...>`. A schedule the user wrote is never replaced.

    `model` is a path to a model written by `tools/attn-tune/train.py`,
    `analytic` (the roofline over the last wave's SM utilization), or
    `auto` (the default): the model that ships for the chip
    (`models/<chip>.json`), and where none ships, nothing is attached and
    the hand-written defaults apply; `none` attaches nothing (the defaults,
    e.g. as a baseline). A model that cannot be read, is not an
    attn-mlir model, was trained for another chip or on another feature
    list is an error naming its path; there is no silent fallback.

    A learned model is trusted only on the shapes it was trained on: its
    trained domain (`models/<chip>.domain.json` beside the model, written
    by `tools/attn-tune/train.py`) bounds, per op, the shape features of
    the training shapes with a margin. An op whose default schedule's
    features lie outside gets nothing attached, so the hand-written
    default applies, as with `model=none`; `guard=0` attaches the model's
    pick anyway. A missing or corrupt domain file is an error naming it.

    With `report`, each op gets a remark listing the `top` candidates with
    their predicted cost and main features, and how long the selection
    took; for an op outside the trained domain, the remark says why and
    which default schedule applies, and lists the ranking it did not use.

    docs/CostModel.md: the features, the training protocol and how well the
    shipped model picks.
  }];
  let options = [
    Option<"chip", "chip", "std::string", "\"sm_90a\"",
           "the chip the kernels are compiled for (lib/Target)">,
    Option<"model", "model", "std::string", "\"auto\"",
           "auto, analytic, none, or the path of a model JSON">,
    Option<"report", "report", "bool", "false",
           "emit a remark per op with the top candidates">,
    Option<"top", "top", "unsigned", "5",
           "candidates the report lists">,
    Option<"guard", "guard", "bool", "true",
           "keep the default schedule of ops outside the learned model's "
           "trained domain">
  ];
}

#endif // ATTN_COSTMODEL_PASSES_TD
