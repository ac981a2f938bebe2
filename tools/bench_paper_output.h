// The outputs of `prescient bench paper`, all in --out:
//   results.csv   one row per cell (the fixed columns mode, workload, policy,
//                 local_pct, normalized_perf, accuracy, coverage come first)
//   results.json  every cell plus provenance: commit, machine, cost model,
//                 seeds, options, the workloads' inputs and checksums
//   results.md    the tables, the 50 % row beside the published numbers
//   plots/        normalized performance vs local % per workload (one line
//                 per policy, published FarSight and Fastswap points marked)
//                 and accuracy/coverage bars, drawn by gnuplot
#pragma once

#include "bench_paper.h"
#include "prescient/status.h"

namespace prescient::cli {

Status WritePaperOutputs(const PaperRun& run);

// The published normalized performance at 50 % local memory (DESIGN.md A),
// for reference only: never measured here. NaN where the brief gives none.
struct PublishedPoint {
  const char* system;
  const char* workload;
  double local_pct;
  double normalized_perf;
};
const std::vector<PublishedPoint>& PublishedResults();

}  // namespace prescient::cli
