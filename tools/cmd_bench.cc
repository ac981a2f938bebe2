// `prescient bench paper`: the paper-style evaluation (bench_paper.h).
// `prescient bench micro`: the Google Benchmark micro-benchmarks, each
// printed against its goal.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <tuple>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "bench_paper.h"
#include "commands.h"
#include "common/log.h"
#include "list_flags.h"
#include "progress.h"
#include "subprocess.h"

namespace prescient::cli {

namespace fs = std::filesystem;

namespace {

struct PaperArgs {
  bool quick = false, small = false;
  bool train = false, no_ablations = false, reuse_traces = false;
  std::string mode = "both", out = "results/paper", workloads, local, runtime_local, policies, models, capture, workload_dir;
  int parallel_captures = 0;
  int reps = 0, epochs = 0;
  int64_t max_steps = -1;
  double timeout_s = 0;
  uint64_t seed = 1;
};

int Paper(const PaperArgs& a) {
  InstallStderrLogger("bench", "info");
  PaperOptions o;
  o.quick = a.quick;
  if (a.quick) {  // --small inputs, one repetition, a short training
    o.small = true;
    o.reps = 1;
    o.epochs = 1;
    o.max_steps = 300;
    o.cell_timeout_s = 1200;  // a deadline against hangs: a loaded VM has taken 5+ min for one --small capture
    o.runtime_locals = {50};  // the row the evaluation quotes; every size takes ~4x as long
    o.ablations = false;
  }
  if (a.no_ablations) o.ablations = false;
  o.reuse_traces = a.reuse_traces;
  if (a.small) o.small = true;
  if (a.mode != "sim" && a.mode != "runtime" && a.mode != "both") {
    fmt::print(stderr, "prescient bench paper: --mode {} is not one of sim, runtime, both\n", a.mode);
    return 2;
  }
  o.mode = a.mode;
  o.out = a.out;
  if (!a.workloads.empty()) o.workloads = SplitList(a.workloads);
  if (!a.policies.empty()) o.policies = SplitList(a.policies);
  for (auto [flag, text, into] : {std::tuple{"--local", &a.local, &o.locals}, std::tuple{"--runtime-local", &a.runtime_local, &o.runtime_locals}}) {
    if (text->empty()) continue;
    Status st = ParseLocalPercents(*text, into);
    if (!st.ok()) {
      fmt::print(stderr, "prescient bench paper: {} {}\n", flag, st.message());
      return 2;
    }
  }
  // --local alone sets both, as a user would expect.
  if (!a.local.empty() && a.runtime_local.empty()) o.runtime_locals = o.locals;
  for (const std::string& p : o.policies)
    if (p == "oracle") {
      fmt::print(stderr, "prescient bench paper: oracle is added to every simulation; leave it out of --policies (it cannot run in the runtime)\n");
      return 2;
    }
  if (a.reps > 0) o.reps = a.reps;
  if (a.epochs > 0) o.epochs = a.epochs;
  if (a.max_steps >= 0) o.max_steps = a.max_steps;
  if (a.timeout_s > 0) o.cell_timeout_s = a.timeout_s;
  if (!a.capture.empty()) {
    std::vector<double> pct;
    Status st = ParseLocalPercents(a.capture, &pct);
    if (!st.ok() || pct.size() != 1 || !a.capture.ends_with('%')) {
      fmt::print(stderr, "prescient bench paper: --capture {}: expected one percentage of the footprint, e.g. 5%\n", a.capture);
      return 2;
    }
    o.capture_pct = pct[0];
  }
  o.models = a.models;
#ifdef PRESCIENT_SOURCE_DIR
  // --quick evaluates the checked-in models (models/, reproduced by
  // scripts/train_models.sh) unless told to train; a full run trains.
  if (a.quick && !a.train && o.models.empty()) {
    const fs::path checked_in = fs::path(PRESCIENT_SOURCE_DIR) / "models";
    bool all = true;
    for (const std::string& w : o.workloads) all = all && fs::exists(checked_in / (w + ".model"));
    if (all) o.models = checked_in.string();
  }
#endif
  if (a.train) o.models.clear();
  o.workload_dir = a.workload_dir;
  if (a.parallel_captures > 0) o.parallel_captures = a.parallel_captures;
  o.seed = a.seed;
  return RunPaperBench(o);
}

// A goal for one micro-benchmark: its real time (or `counter`) must be below
// `limit`, or, with `versus`, its ratio to that benchmark's time.
struct MicroGoal {
  const char* binary;
  const char* benchmark;
  const char* versus;  // nullptr: an absolute goal in ns
  double limit;
  const char* what;
};

const std::vector<MicroGoal>& MicroGoals() {
  static const std::vector<MicroGoal> goals{
      {"fault_path_bench", "RuntimeFault/poll", "RawFault/poll", 1.3, "demand fault vs a bare userfaultfd handler (ratio)"},
      {"fault_path_bench", "RuntimeFault/spin", "RawFault/spin", 1.3, "demand fault vs a bare userfaultfd handler, busy-polling (ratio)"},
      {"inference_bench", "BM_KernelStep/avx2:1", nullptr, 500, "one model step (ns)"},
      {"inference_bench", "BM_KernelLookahead/depth:4/avx2:1", nullptr, 2000, "one d = 4 lookahead (ns)"},
      {"inference_bench", "BM_KernelStep/avx2:1", "BM_TorchParallelWindow/1", 1.0, "model step vs libtorch's forward of one token (ratio)"},
      {"future_maps_bench", "FutureMapObserve/pages:262144/bounded:0", nullptr, 1000, "Future Map update per fault (ns)"},
      {"future_maps_bench", "FutureMapObserve/pages:262144/bounded:1", nullptr, 1000, "Future Map update with chunks spilling (ns)"},
      {"sim_replay_bench", "SimReplay10M/none", nullptr, 10e9, "replay of 10 M accesses, none (ns)"},
      {"sim_replay_bench", "SimReplay10M/leap", nullptr, 10e9, "replay of 10 M accesses, leap (ns)"},
      {"sim_replay_bench", "SimReplay10M/oracle", nullptr, 10e9, "replay of 10 M accesses, oracle (ns)"},
  };
  return goals;
}

double ToNanos(const nlohmann::json& b) {
  const std::string unit = b.value("time_unit", "ns");
  const double scale = unit == "s" ? 1e9 : unit == "ms" ? 1e6 : unit == "us" ? 1e3 : 1.0;
  return b.at("real_time").get<double>() * scale;
}

int Micro(const std::string& out, const std::string& filter) {
  InstallStderrLogger("bench", "info");
  fs::create_directories(out);
  const fs::path bench_dir = fs::path(SelfExecutable()).parent_path() / "bench";
  std::vector<std::string> binaries;
  for (const MicroGoal& g : MicroGoals())
    if (std::find(binaries.begin(), binaries.end(), g.binary) == binaries.end()) binaries.push_back(g.binary);
  std::map<std::string, double> times;  // "binary benchmark" -> ns
  Progress progress("bench micro", static_cast<double>(binaries.size()));
  int failures = 0;
  for (const std::string& b : binaries) {
    const fs::path exe = bench_dir / b;
    const fs::path json = fs::path(out) / (b + ".json");
    if (!fs::exists(exe)) {
      progress.Finish();
      fmt::print(stderr, "prescient bench micro: no {} (build the bench/ targets)\n", exe.string());
      return 2;
    }
    fs::remove(json);  // a stale file must not stand for this run
    std::vector<std::string> argv{exe.string(), "--benchmark_out=" + json.string(), "--benchmark_out_format=json"};
    if (!filter.empty()) argv.push_back("--benchmark_filter=" + filter);
    ChildOptions options;
    options.timeout_s = 1800;
    // The scan benchmarks default to 4 GiB; a quarter of that shows the same ratios.
    if (std::getenv("PRESCIENT_BENCH_SCAN_BYTES") == nullptr) options.extra_env.push_back("PRESCIENT_BENCH_SCAN_BYTES=1073741824");
    ChildResult r;
    const int id = progress.Begin(b, 1);
    Status st = RunChild(argv, options, &r);
    progress.End(id);
    if (!st.ok() || r.exit_code != 0) {
      fmt::print(stderr, "prescient bench micro: {}\n", st.ok() ? DescribeFailure(argv, r) : st.message());
      ++failures;
      continue;
    }
    // With a filter that matches none of its benchmarks, a binary writes no
    // results (Google Benchmark leaves the file empty).
    if (!filter.empty() && (!fs::exists(json) || fs::file_size(json) == 0)) continue;
    try {
      const nlohmann::json j = nlohmann::json::parse(std::ifstream(json));
      for (const auto& bench : j.at("benchmarks")) times[b + " " + bench.at("name").get<std::string>()] = ToNanos(bench);
    } catch (const std::exception& e) {
      fmt::print(stderr, "prescient bench micro: {}: {}\n", json.string(), e.what());
      ++failures;
    }
  }
  progress.Finish();
  if (!filter.empty() && times.empty() && failures == 0) {
    fmt::print(stderr, "prescient bench micro: --filter {} matches no benchmark of {}; run a binary with --benchmark_list_tests to see the names\n",
               filter, fmt::join(binaries, ", "));
    return 2;
  }
  fmt::print("| goal | measured | limit | met |\n|---|---:|---:|---|\n");
  nlohmann::json summary = nlohmann::json::array();
  for (const MicroGoal& g : MicroGoals()) {
    auto it = times.find(fmt::format("{} {}", g.binary, g.benchmark));
    if (it == times.end()) continue;  // filtered out
    double value = it->second;
    if (g.versus != nullptr) {
      auto base = times.find(fmt::format("{} {}", g.binary, g.versus));
      if (base == times.end()) continue;
      value /= base->second;
    }
    const bool met = value <= g.limit;
    fmt::print("| {} | {:.4g} | {:g} | {} |\n", g.what, value, g.limit, met ? "yes" : "NO");
    summary.push_back({{"goal", g.what}, {"benchmark", g.benchmark}, {"measured", value}, {"limit", g.limit}, {"met", met}});
  }
  std::ofstream(fs::path(out) / "micro-goals.json") << summary.dump(2) << "\n";
  return failures == 0 ? 0 : 1;
}

}  // namespace

void AddBenchCommand(CLI::App& app, int* exit_code) {
  auto* bench = app.add_subcommand("bench", "Benchmarks: the paper-style evaluation, and the micro-benchmarks against their goals");
  bench->require_subcommand(1);

  auto* paper = bench->add_subcommand("paper", "The full matrix: workloads x local memory x policies, held-out inputs, sim and/or runtime");
  auto a = std::make_shared<PaperArgs>();
  paper->add_flag("--quick", a->quick, "--small inputs, one repetition, a short training: minutes, not hours");
  paper->add_option("--mode", a->mode, "sim, runtime or both")->capture_default_str();
  paper->add_option("--out", a->out, "Output directory")->capture_default_str();
  paper->add_flag("--small", a->small, "Use the workloads' --small inputs (implied by --quick)");
  paper->add_option("--workloads", a->workloads, "Workloads, comma-separated (default mcf,xgboost,pagerank,sssp)");
  paper->add_option("--local", a->local, "Local memory sizes in %, comma-separated (default 30,50,80,90); also the runtime's unless --runtime-local");
  paper->add_option("--runtime-local", a->runtime_local, "Sizes measured in the runtime (default: --local's; 50 with --quick)");
  paper->add_flag("--train", a->train, "Train the models even with --quick (which otherwise uses the checked-in ones in models/)");
  paper->add_option("--workload-dir", a->workload_dir, "Where the workload binaries are (default: build/workloads beside prescient)")->check(CLI::ExistingDirectory);
  paper->add_flag("--no-ablations", a->no_ablations, "Skip farsight's ablations (no lookahead, no Future Maps, synchronous inference, no hybrid; off with --quick)");
  paper->add_flag("--reuse-traces", a->reuse_traces, "Keep the traces an earlier run left in --out/traces instead of capturing again");
  paper->add_option("--parallel-captures", a->parallel_captures, "Trace captures run at once (default 2)");
  paper->add_option("--policies", a->policies, "Policies, comma-separated (default none,readahead,vma-readahead,leap,farsight; oracle is always simulated)");
  paper->add_option("--reps", a->reps, "Runtime repetitions per cell (default 3; 1 with --quick)");
  paper->add_option("--epochs", a->epochs, "Training epochs (default 4; 1 with --quick)");
  paper->add_option("--max-steps", a->max_steps, "Cap on training steps (default none; 300 with --quick)");
  paper->add_option("--capture", a->capture, "Capture cache for every access trace (default: a sixth of the smallest --local, 5% for 30, but 10% for pagerank; D103)");
  paper->add_option("--models", a->models, "Use DIR/W.model for each workload instead of training")->check(CLI::ExistingDirectory);
  paper->add_option("--timeout", a->timeout_s, "Seconds after which one step is killed and the run fails (default 3600; 1200 with --quick)");
  paper->add_option("--seed", a->seed, "Seed of the workloads' inputs, the training and the run order")->capture_default_str();
  paper->callback([a, exit_code] { *exit_code = Paper(*a); });

  auto* micro = bench->add_subcommand("micro", "Run the Google Benchmark micro-benchmarks and print each against its goal");
  auto out = std::make_shared<std::string>("results/micro");
  auto filter = std::make_shared<std::string>();
  micro->add_option("--out", *out, "Where the benchmarks' JSON goes")->capture_default_str();
  micro->add_option("--filter", *filter, "Passed to every benchmark as --benchmark_filter");
  micro->callback([out, filter, exit_code] { *exit_code = Micro(*out, *filter); });
}

}  // namespace prescient::cli
