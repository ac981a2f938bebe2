// `prescient bench paper`: the paper-style evaluation. For every workload it
// captures access traces of three input families, trains a farsight model on
// the first two and evaluates every policy on the third, which training
// never saw: in the simulator, in the real runtime, or both. Each cell is a
// (mode, workload, policy, local %) with its normalized performance,
// accuracy and coverage; bench_paper_output.h writes them out.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace prescient::cli {

struct PaperOptions {
  bool quick = false;
  std::string mode = "both";  // sim | runtime | both
  std::string out = "results/paper";
  std::vector<std::string> workloads{"mcf", "xgboost", "pagerank", "sssp"};
  std::vector<double> locals{30, 50, 80, 90};          // simulated sizes
  std::vector<double> runtime_locals{30, 50, 80, 90};  // measured sizes
  std::vector<std::string> policies{"none", "readahead", "vma-readahead", "leap", "farsight"};  // + oracle in sim
  int reps = 3;            // runtime repetitions per cell
  int epochs = 4;          // training epochs
  int64_t max_steps = 0;   // training steps cap (0: none)
  double capture_pct = 0;  // the capture cache for every trace, in % of the footprint; 0: each workload's own (PaperWorkload::capture_pct)
  bool small = false;      // --small workload inputs
  std::string models;      // a directory of W.model files to use instead of training
  std::string workload_dir;  // where the workload binaries are (default: beside prescient)
  int parallel_captures = 2; // captures run concurrently (they leave the CPU idle in faults)
  bool ablations = true;
  bool reuse_traces = false; // keep traces already in out/traces (same workload flags assumed)     // simulate farsight with each of its pieces taken away
  double cell_timeout_s = 3600;
  uint64_t seed = 1;       // workload input seed (held-out family and training families alike)

  bool sim() const { return mode == "sim" || mode == "both"; }
  bool runtime() const { return mode == "runtime" || mode == "both"; }
};

struct PaperCell {
  std::string mode, workload, input, policy;
  double local_pct = 0;
  double normalized_perf = 0, perf_min = 0, perf_max = 0;  // min/max over repetitions (sim: all equal)
  double accuracy = 0, coverage = 0;
  double demand_faults = 0;  // median over repetitions
  double bytes_moved = 0;
  double seconds = 0;        // simulated time, or the median wall time
  double all_local_seconds = 0;
  int reps = 1;
  std::vector<double> wall_samples;  // runtime: every repetition's wall time
  bool checksum_ok = true;           // runtime: every repetition printed the native checksum
};

struct PaperWorkload {
  std::string name, binary;
  std::vector<std::string> train_inputs;
  std::string heldout_input;
  double capture_pct = 0;         // the capture cache of its traces, in % of the footprint (D103)
  std::string capture() const;     // as `prescient trace --local` takes it, e.g. "5%"
  std::vector<std::string> args;  // the workload arguments common to every run
  std::string model_path;
  std::string native_checksum;
  std::vector<double> native_wall_s;
};

struct PaperRun {
  PaperOptions options;
  std::vector<PaperWorkload> workloads;
  std::vector<PaperCell> cells;
  std::vector<std::string> errors;  // cells that failed, with why
  nlohmann::json cost_model;        // the simulator's, as it reported it
  double wall_s = 0;
};

// Runs the whole matrix and writes every output; returns the exit status.
int RunPaperBench(const PaperOptions& options);

}  // namespace prescient::cli
