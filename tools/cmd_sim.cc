// `prescient sim --trace X.trace --local 30,50 --prefetch none,leap,oracle
//   [--cost-model FILE] [--json OUT]`: replays a trace under every
// (policy, local memory) pair and prints the comparison table.
#include <cstdio>
#include <fstream>

#include <fmt/format.h>

#include "commands.h"
#include "list_flags.h"
#include "model_flags.h"
#include "sim/simulator.h"

namespace prescient::cli {

namespace {

struct SimArgs {
  std::string trace, local = "30,50,80,90", prefetch = "none,readahead,vma-readahead,leap,stride,oracle", cost_model, json;
  uint32_t max_prefetch = 8;
  std::string model;
  int lookahead = kDefaultLookahead;
  bool no_hybrid = false;
};

int Fail(const std::string& message) {
  fmt::print(stderr, "prescient sim: {}\n", message);
  return 2;
}

int Simulate(const SimArgs& a) {
  SimConfig base;
  base.max_prefetch_pages = a.max_prefetch;
  Status checked = CheckModelFlags(a.prefetch, a.model, a.lookahead);
  if (!checked.ok()) return Fail(checked.message());
  base.prefetch.model_path = a.model;
  base.prefetch.lookahead = a.lookahead;
  base.prefetch.hybrid = !a.no_hybrid;
  if (!a.cost_model.empty()) {
    Status st = LoadCostModel(a.cost_model, &base.cost);
    if (!st.ok()) return Fail(st.message());
  }
  std::vector<double> locals;
  Status parsed = ParseLocalPercents(a.local, &locals);
  if (!parsed.ok()) return Fail(parsed.message());
  std::vector<std::string> policies = SplitList(a.prefetch);
  if (locals.empty() || policies.empty()) return Fail("--local and --prefetch each need at least one value");

  AccessStream stream;
  Status st = LoadAccessStream(a.trace, &stream);
  if (!st.ok()) {
    fmt::print(stderr, "prescient sim: {}\n", st.message());
    return 1;
  }
  // Discards are records too, but not accesses (SimResult::accesses).
  fmt::print(stderr, "prescient sim: {} accesses and {} discards over {} pages by {} threads from {}\n", stream.records.size() - stream.discards.size(),
             stream.discards.size(), stream.pages(), stream.threads, a.trace);
  if (stream.compute_scale < 1.0)
    fmt::print(stderr, "prescient sim: compute between faults scaled by {:.3f} to the program's user CPU time ({:.2f} s stamped, {:.2f} s user)\n",
               stream.compute_scale, stream.stamped_compute_ns / 1e9, stream.program_user_cpu_ns / 1e9);
  for (double pct : locals) {
    Status models = CheckTraceModels(a.local, a.trace, stream, pct);
    if (!models.ok()) return Fail(models.message());
    if (pct / 100.0 < kCaptureRatio * stream.capture_local_fraction)
      fmt::print(stderr, "prescient sim: warning: {:g}% is under {}x the {:g}% capture cache of {}; its fault counts may run low (D103)\n", pct, kCaptureRatio,
                 stream.capture_local_fraction * 100, a.trace);
  }

  nlohmann::json all = nlohmann::json::array();
  fmt::print("| policy | local % | normalized perf | demand faults | accuracy | coverage | bytes moved | replay s |\n");
  fmt::print("|---|---:|---:|---:|---:|---:|---:|---:|\n");
  for (double pct : locals) {
    SimConfig config = base;
    config.local_fraction = pct / 100.0;
    // Coverage is measured against demand paging at the same size.
    config.policy = "none";
    SimResult none;
    st = prescient::Simulate(stream, config, &none);
    if (!st.ok()) return Fail(st.message());
    for (const std::string& policy : policies) {
      SimResult r = none;
      if (policy != "none") {
        config.policy = policy;
        st = prescient::Simulate(stream, config, &r);
        if (!st.ok()) return Fail(fmt::format("--prefetch {}: {}", policy, st.message()));
      }
      r.coverage = none.demand_faults > 0 ? (static_cast<double>(none.demand_faults) - static_cast<double>(r.demand_faults)) / static_cast<double>(none.demand_faults) : 0.0;
      fmt::print("| {} | {:.0f} | {:.3f} | {} | {:.3f} | {:.3f} | {} | {:.2f} |\n", r.policy, pct, r.normalized_perf, r.demand_faults, r.accuracy,
                 r.coverage, r.bytes_moved(), r.replay_seconds);
      std::fflush(stdout);
      nlohmann::json j = r.ToJson();
      j["trace"] = a.trace;
      j["cost_model"] = config.cost.ToJson();
      all.push_back(j);
    }
  }
  if (!a.json.empty()) {
    std::ofstream out(a.json, std::ios::trunc);
    out << all.dump(2) << "\n";
    if (!out) return Fail(fmt::format("cannot write {}", a.json));
  }
  return 0;
}

}  // namespace

void AddSimCommand(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("sim", "Replay a trace under prefetch policies and local memory sizes");
  auto args = std::make_shared<SimArgs>();
  cmd->add_option("--trace", args->trace, "An access trace from `prescient trace`")->required()->check(CLI::ExistingFile);
  cmd->add_option("--local", args->local, "Local memory sizes, % of the footprint, comma-separated")->capture_default_str();
  cmd->add_option("--prefetch", args->prefetch, "Policies, comma-separated (registered ones and oracle)")->capture_default_str();
  cmd->add_option("--cost-model", args->cost_model, "JSON overriding cost-model fields (far_read_us, link_gbps, fault_overhead_us, local_access_ns, inference_step_ns, sync_inference)");
  cmd->add_option("--json", args->json, "Write every result to this JSON file");
  AddModelFlags(cmd, &args->model, &args->lookahead, &args->no_hybrid);
  cmd->add_option("--max-prefetch", args->max_prefetch, "The most pages a policy may prefetch per fault")->capture_default_str();
  cmd->callback([args, exit_code] { *exit_code = Simulate(*args); });
}

}  // namespace prescient::cli
