#include "bench_paper.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <mutex>
#include <random>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "bench_paper_output.h"
#include "common/clock.h"
#include "prescient/trace.h"
#include "progress.h"
#include "sim/access_stream.h"
#include "subprocess.h"

namespace prescient::cli {

namespace fs = std::filesystem;

std::string PaperWorkload::capture() const { return fmt::format("{:g}%", capture_pct); }

namespace {

// Expected seconds per step at each size, for the progress estimate only.
struct StepWeights {
  double capture, train, sim_per_trace, run, native;
};
StepWeights WeightsFor(const PaperOptions& o) {
  // Measured on the 2-core VMs at --small: a capture 1-2 min, a run 5-35 s.
  if (o.small) return {90, o.max_steps > 0 ? 10.0 : 60.0 * o.epochs / 4, 20, 10, 2};
  return {1800, 900.0 * o.epochs / 4, 300, 200, 25};
}

std::string Join(const std::vector<std::string>& v, const char* sep = ",") {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : sep) + x;
  return s;
}

std::string LocalsList(const std::vector<double>& locals) {
  std::vector<std::string> v;
  for (double p : locals) v.push_back(fmt::format("{:g}", p));
  return Join(v);
}

double Median(std::vector<double> v) {
  if (v.empty()) return std::nan("");
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// The `checksum=...` line every workload prints last (workloads/common/checksum.h).
std::string ChecksumOf(const std::string& out) {
  const size_t at = out.rfind("checksum=");
  if (at == std::string::npos) return "";
  return out.substr(at + 9, out.find('\n', at) - at - 9);
}

// OK when `path` is a whole trace (every block and the trailer check out)
// of exactly `command`.
Status CompleteTraceOf(const std::string& path, const std::string& command, double capture_pct) {
  Status st;
  std::unique_ptr<TraceReader> reader = TraceReader::Open(path, &st);
  if (!reader) return st;
  if (reader->header().value("command", "") != command)
    return Status::InvalidArgument(fmt::format("it traces `{}`, not `{}`", reader->header().value("command", ""), command));
  const double fraction = reader->header().value("local_fraction", 0.0);
  if (std::abs(fraction * 100 - capture_pct) > 1e-6)
    return Status::InvalidArgument(fmt::format("it was captured with a {:g}% cache, not {:g}%", fraction * 100, capture_pct));
  TraceRecord record;
  while (reader->Next(&record, &st)) {
  }
  return st;
}

class PaperRunner {
 public:
  PaperRunner(const PaperOptions& options, PaperRun* run) : o_(options), run_(run), self_(SelfExecutable()), w_(WeightsFor(options)) {}

  int Run() {
    for (const std::string& name : o_.workloads) {
      PaperWorkload w;
      Status st = Describe(name, &w);
      if (!st.ok()) {
        spdlog::error("{}", st.message());
        return 2;
      }
      run_->workloads.push_back(std::move(w));
    }
    for (const char* sub : {"traces", "models", "sim", "runtime"}) fs::create_directories(fs::path(o_.out) / sub);
    Progress progress("bench paper", TotalWeight());
    progress_ = &progress;
    Status st = CaptureAll();
    for (PaperWorkload& w : run_->workloads) {
      if (!st.ok()) break;
      st = Train(&w);
      if (st.ok() && o_.sim()) st = Simulate(w);
      if (st.ok() && o_.runtime()) st = Measure(&w);
      if (!st.ok()) {
        st = Status::Internal(fmt::format("{}: {}", w.name, st.message()));
        break;
      }
    }
    progress.Finish();
    if (!st.ok()) {
      spdlog::error("{}", st.message());
      return 1;
    }
    return 0;
  }

 private:
  bool Training() const { return o_.models.empty(); }

  // Every trace the run needs, `parallel_captures` at a time: a capture's
  // program spends most of its time blocked in faults, so two of them use
  // the machine better than one.
  Status CaptureAll() {
    std::vector<std::pair<const PaperWorkload*, std::string>> jobs;
    for (const PaperWorkload& w : run_->workloads) {
      if (Training())
        for (const std::string& input : w.train_inputs) jobs.emplace_back(&w, input);
      if (o_.sim()) jobs.emplace_back(&w, w.heldout_input);
    }
    std::mutex mu;
    size_t next = 0;
    Status first_error;
    auto worker = [&] {
      for (;;) {
        std::pair<const PaperWorkload*, std::string> job;
        {
          std::lock_guard lock(mu);
          if (next == jobs.size() || !first_error.ok()) return;
          job = jobs[next++];
        }
        Status st = Capture(*job.first, job.second);
        std::lock_guard lock(mu);
        if (!st.ok() && first_error.ok()) first_error = Status::Internal(fmt::format("{}: {}", job.first->name, st.message()));
      }
    };
    std::vector<std::thread> threads;
    for (int i = 0; i < std::max(1, o_.parallel_captures); ++i) threads.emplace_back(worker);
    for (std::thread& t : threads) t.join();
    return first_error;
  }

  double TotalWeight() const {
    const double n = static_cast<double>(o_.workloads.size());
    double t = 0;
    if (!o_.reuse_traces) t += n * w_.capture * ((Training() ? 2 : 0) + (o_.sim() ? 1 : 0)) / std::max(1, o_.parallel_captures);
    if (Training()) t += n * w_.train * (o_.ablations && o_.sim() ? 2 : 1);
    if (o_.sim()) t += n * w_.sim_per_trace * (o_.ablations ? 2 : 1);
    if (o_.runtime()) t += n * o_.reps * (w_.native + w_.run * static_cast<double>(o_.runtime_locals.size() * o_.policies.size()));
    return t;
  }

  Status Child(const std::string& cell, double weight, const std::vector<std::string>& argv, ChildResult* r,
               const std::vector<std::string>& env = {}) {
    const int id = progress_->Begin(cell, weight);
    ChildOptions options;
    options.timeout_s = o_.cell_timeout_s;
    options.extra_env = env;
    Status st = RunChild(argv, options, r);
    progress_->End(id);
    if (!st.ok()) return st;
    if (r->exit_code != 0 || r->timed_out) return Status::Internal(DescribeFailure(argv, *r));
    return Status::Ok();
  }

  // A sixth of the smallest simulated size (D103). pagerank reads its rank
  // array, about 5 % of its footprint, at random on every edge: in a smaller
  // cache nearly every edge faults and the capture takes half an hour, while
  // its 10 % capture matches the runtime at every size.
  double DefaultCapturePct(const std::string& name) const {
    const double smallest = *std::min_element(o_.locals.begin(), o_.locals.end());
    const int pct = std::max(1, static_cast<int>(smallest / kCaptureRatio));
    return name == "pagerank" ? std::max(pct, 10) : pct;
  }

  Status Describe(const std::string& name, PaperWorkload* w) {
    w->name = name;
    const fs::path dir = o_.workload_dir.empty() ? fs::path(self_).parent_path() / "workloads" : fs::path(o_.workload_dir);
    w->binary = (dir / name).string();
    if (!fs::exists(w->binary)) return Status::NotFound(fmt::format("workload {}: no binary at {} (build it first)", name, w->binary));
    ChildResult r;
    ChildOptions options;
    options.timeout_s = 60;
    Status st = RunChild({w->binary, "--list-inputs"}, options, &r);
    if (!st.ok()) return st;
    if (r.exit_code != 0) return Status::Internal(DescribeFailure({w->binary, "--list-inputs"}, r));
    std::vector<std::string> families;
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);)
      if (!line.empty()) families.push_back(line);
    if (families.size() < 3) return Status::InvalidArgument(fmt::format("workload {} has {} input families; held-out evaluation needs 3", name, families.size()));
    w->train_inputs = {families[0], families[1]};
    w->heldout_input = families[2];
    w->capture_pct = o_.capture_pct > 0 ? o_.capture_pct : DefaultCapturePct(name);
    if (o_.small) w->args.push_back("--small");
    // One thread: the simulator replays one interleaving, and with several
    // threads the runtime's own fault count moves with the machine's load
    // (docs/decisions.md D62, D63).
    w->args.insert(w->args.end(), {"--seed", std::to_string(o_.seed), "--threads", "1"});
    return Status::Ok();
  }

  std::string TracePath(const PaperWorkload& w, const std::string& input) const {
    return (fs::path(o_.out) / "traces" / fmt::format("{}-{}.trace", w.name, input)).string();
  }

  Status Capture(const PaperWorkload& w, const std::string& input) {
    const std::string path = TracePath(w, input);
    std::vector<std::string> program{w.binary};
    program.insert(program.end(), w.args.begin(), w.args.end());
    program.insert(program.end(), {"--input", input});
    if (o_.reuse_traces && fs::exists(path)) {
      Status usable = CompleteTraceOf(path, Join(program, " "), w.capture_pct);
      if (usable.ok()) {
        spdlog::info("reusing {}", path);
        return Status::Ok();
      }
      spdlog::warn("not reusing {}: {}", path, usable.message());
    }
    std::vector<std::string> argv{self_, "trace", "--quiet", "--local", w.capture(), "--out", path, "--"};
    argv.insert(argv.end(), program.begin(), program.end());
    ChildResult r;
    return Child(fmt::format("capture {} --input {}", w.name, input), w_.capture, argv, &r);
  }

  Status Train(PaperWorkload* w) {
    if (!Training()) {
      w->model_path = (fs::path(o_.models) / (w->name + ".model")).string();
      if (!fs::exists(w->model_path)) return Status::NotFound(fmt::format("--models {}: no {}.model there", o_.models, w->name));
      return Status::Ok();
    }
    std::vector<std::string> traces;
    for (const std::string& input : w->train_inputs) traces.push_back(TracePath(*w, input));
    w->model_path = (fs::path(o_.out) / "models" / (w->name + ".model")).string();
    std::vector<std::string> argv{self_, "train", "--traces", Join(traces), "--local", LocalsList(o_.locals), "--epochs", std::to_string(o_.epochs),
                                  "--seed", std::to_string(o_.seed), "--threads", "1", "--out", w->model_path};
    if (o_.max_steps > 0) argv.insert(argv.end(), {"--max-steps", std::to_string(o_.max_steps)});
    // One torch thread: the same traces and seed then give the same weights, bit for bit.
    ChildResult r;
    PRESCIENT_RETURN_IF_ERROR(Child(fmt::format("train {} on {}", w->name, Join(w->train_inputs, " + ")), w_.train, argv, &r));
    if (!o_.ablations || !o_.sim()) return Status::Ok();
    // The no-Future-Maps ablation: a pure delta vocabulary (Hashemi et al. 2018).
    *(std::find(argv.begin(), argv.end(), "--out") + 1) = NoMapsModel(*w);
    argv.insert(argv.end(), {"--ordinals", "0", "--deltas", "16"});
    return Child(fmt::format("train {} without Future Maps", w->name), w_.train, argv, &r);
  }

  bool UsesModel() const { return std::find(o_.policies.begin(), o_.policies.end(), "farsight") != o_.policies.end(); }

  // The ablations of issue 4, each one piece of farsight taken away (sim only).
  struct Ablation {
    const char* name;
    std::vector<std::string> flags;
    bool no_maps_model = false;
  };
  std::vector<Ablation> Ablations() const {
    return {{"farsight-no-lookahead", {"--lookahead", "1"}},
            {"farsight-no-maps", {}, true},
            {"farsight-sync-inference", {"--cost-model", SyncCostModel()}},
            {"farsight-no-hybrid", {"--no-hybrid"}}};
  }
  std::string SyncCostModel() const { return (fs::path(o_.out) / "sim" / "sync-inference.json").string(); }
  std::string NoMapsModel(const PaperWorkload& w) const {
    return (fs::path(Training() ? fs::path(o_.out) / "models" : fs::path(o_.models)) / (w.name + "-no-maps.model")).string();
  }

  Status Simulate(const PaperWorkload& w) {
    std::vector<std::string> policies = o_.policies;
    policies.push_back("oracle");
    PRESCIENT_RETURN_IF_ERROR(SimulateOnce(w, w.name, policies, {}, ""));
    if (!o_.ablations || !UsesModel()) return Status::Ok();
    {
      std::ofstream cost(SyncCostModel(), std::ios::trunc);
      cost << "{\"sync_inference\": true}\n";
      if (!cost) return Status::IoError(fmt::format("cannot write {}", SyncCostModel()));
    }
    for (const Ablation& a : Ablations()) {
      std::vector<std::string> flags = a.flags;
      if (a.no_maps_model) {
        if (!fs::exists(NoMapsModel(w))) {
          spdlog::warn("{}: no {}; skipping the no-Future-Maps ablation", w.name, NoMapsModel(w));
          continue;
        }
        flags = {"--model", NoMapsModel(w)};
      }
      PRESCIENT_RETURN_IF_ERROR(SimulateOnce(w, fmt::format("{}-{}", w.name, a.name), {"farsight"}, flags, a.name));
    }
    return Status::Ok();
  }

  // One `prescient sim` of the held-out trace; `rename` relabels its
  // farsight rows (an ablation).
  Status SimulateOnce(const PaperWorkload& w, const std::string& label, const std::vector<std::string>& policies, const std::vector<std::string>& flags,
                      const std::string& rename) {
    const std::string json_path = (fs::path(o_.out) / "sim" / (label + ".json")).string();
    std::vector<std::string> argv{self_, "sim", "--trace", TracePath(w, w.heldout_input), "--local", LocalsList(o_.locals), "--prefetch", Join(policies),
                                  "--json", json_path};
    if (UsesModel() && std::find(flags.begin(), flags.end(), "--model") == flags.end()) argv.insert(argv.end(), {"--model", w.model_path});
    argv.insert(argv.end(), flags.begin(), flags.end());
    ChildResult r;
    PRESCIENT_RETURN_IF_ERROR(Child(fmt::format("sim {} --input {}{}", w.name, w.heldout_input, rename.empty() ? "" : " (" + rename + ")"),
                                    w_.sim_per_trace / (rename.empty() ? 1 : 4), argv, &r));
    nlohmann::json rows;
    try {
      rows = nlohmann::json::parse(std::ifstream(json_path));
      for (const auto& j : rows) {
        PaperCell c;
        c.mode = "sim";
        c.workload = w.name;
        c.input = w.heldout_input;
        c.policy = j.at("policy").get<std::string>();
        if (!rename.empty()) {
          if (c.policy != "farsight") continue;
          c.policy = rename;
        }
        c.local_pct = j.at("local_pct").get<double>();
        c.normalized_perf = c.perf_min = c.perf_max = j.at("normalized_perf").get<double>();
        c.accuracy = j.at("accuracy").get<double>();
        c.coverage = j.at("coverage").get<double>();
        c.demand_faults = j.at("demand_faults").get<double>();
        c.bytes_moved = j.at("bytes_moved").get<double>();
        c.seconds = j.at("sim_s").get<double>();
        c.all_local_seconds = j.at("all_local_s").get<double>();
        if (run_->cost_model.is_null() && rename.empty()) run_->cost_model = j.at("cost_model");
        run_->cells.push_back(c);
      }
    } catch (const std::exception& e) {
      return Status::Corruption(fmt::format("{}: unreadable simulator output: {}", json_path, e.what()));
    }
    return Status::Ok();
  }

  // One repetition of every (policy, size) and of the all-local run, in an
  // order shuffled per repetition, so a drift in the machine's speed spreads
  // over all cells instead of biasing the ones run last.
  Status Measure(PaperWorkload* w) {
    struct Config {
      std::string policy;  // "" = native, all local
      double pct = 100;
    };
    std::vector<Config> configs{{"", 100}};
    for (double pct : o_.runtime_locals)
      for (const std::string& p : o_.policies) configs.push_back({p, pct});
    std::map<std::pair<std::string, double>, std::vector<nlohmann::json>> reports;
    std::map<std::pair<std::string, double>, bool> checksums_ok;
    std::mt19937_64 rng(o_.seed);
    for (int rep = 0; rep < o_.reps; ++rep) {
      std::shuffle(configs.begin(), configs.end(), rng);
      for (const Config& c : configs) {
        std::vector<std::string> program{w->binary};
        program.insert(program.end(), w->args.begin(), w->args.end());
        program.insert(program.end(), {"--input", w->heldout_input});
        ChildResult r;
        if (c.policy.empty()) {
          PRESCIENT_RETURN_IF_ERROR(Child(fmt::format("runtime {} all-local, rep {}/{}", w->name, rep + 1, o_.reps), w_.native, program, &r));
          w->native_wall_s.push_back(r.wall_s);
          const std::string sum = ChecksumOf(r.out);
          if (sum.empty()) return Status::Internal(fmt::format("{} printed no checksum line", w->binary));
          if (!w->native_checksum.empty() && sum != w->native_checksum)
            return Status::Internal(fmt::format("{} is not deterministic: native checksums {} and {}", w->name, w->native_checksum, sum));
          w->native_checksum = sum;
          continue;
        }
        const std::string report = (fs::path(o_.out) / "runtime" / fmt::format("{}-{}-{:g}-rep{}.json", w->name, c.policy, c.pct, rep + 1)).string();
        std::vector<std::string> argv{self_, "run", "--quiet", "--local", fmt::format("{:g}%", c.pct), "--prefetch", c.policy, "--report", report};
        if (c.policy == "farsight") argv.insert(argv.end(), {"--model", w->model_path});
        argv.push_back("--");
        argv.insert(argv.end(), program.begin(), program.end());
        PRESCIENT_RETURN_IF_ERROR(Child(fmt::format("runtime {} {} {:g}%, rep {}/{}", w->name, c.policy, c.pct, rep + 1, o_.reps), w_.run, argv, &r));
        nlohmann::json j;
        try {
          j = nlohmann::json::parse(std::ifstream(report));
        } catch (const std::exception& e) {
          return Status::Corruption(fmt::format("{}: unreadable run report: {}", report, e.what()));
        }
        j["bench_wall_s"] = r.wall_s;
        j["bench_checksum"] = ChecksumOf(r.out);
        reports[{c.policy, c.pct}].push_back(j);
      }
    }
    // Checksums are compared once the native one is known (it may run last).
    for (auto& [key, js] : reports) {
      bool ok = true;
      for (const auto& j : js) ok = ok && j["bench_checksum"].get<std::string>() == w->native_checksum;
      checksums_ok[key] = ok;
      if (!ok) run_->errors.push_back(fmt::format("runtime {} {} {:g}%: checksum differs from the native run's {}", w->name, key.first, key.second, w->native_checksum));
    }
    const double native = Median(w->native_wall_s);
    for (double pct : o_.runtime_locals) {
      const double none_faults = reports.count({"none", pct}) ? MedianOf(reports[{"none", pct}], "demand_faults") : std::nan("");
      for (const std::string& p : o_.policies) {
        const auto& js = reports[{p, pct}];
        PaperCell c;
        c.mode = "runtime";
        c.workload = w->name;
        c.input = w->heldout_input;
        c.policy = p;
        c.local_pct = pct;
        c.reps = static_cast<int>(js.size());
        std::vector<double> walls, perfs;
        for (const auto& j : js) {
          walls.push_back(j["bench_wall_s"].get<double>());
          perfs.push_back(native / walls.back());
        }
        c.wall_samples = walls;
        c.seconds = Median(walls);
        c.all_local_seconds = native;
        c.normalized_perf = native / c.seconds;
        c.perf_min = *std::min_element(perfs.begin(), perfs.end());
        c.perf_max = *std::max_element(perfs.begin(), perfs.end());
        c.demand_faults = MedianOf(js, "demand_faults");
        const double issued = MedianOf(js, "prefetch_issued"), used = MedianOf(js, "prefetch_used");
        c.accuracy = issued > 0 ? used / issued : 0;
        c.coverage = none_faults > 0 ? (none_faults - c.demand_faults) / none_faults : 0;
        c.bytes_moved = (MedianOf(js, "pages_fetched") + MedianOf(js, "pages_written_back")) * 4096.0;
        c.checksum_ok = checksums_ok[{p, pct}];
        run_->cells.push_back(c);
      }
    }
    return Status::Ok();
  }

  static double MedianOf(const std::vector<nlohmann::json>& js, const char* key) {
    std::vector<double> v;
    for (const auto& j : js) v.push_back(j.value(key, 0.0));
    return Median(v);
  }

  const PaperOptions& o_;
  PaperRun* run_;
  const std::string self_;
  const StepWeights w_;
  Progress* progress_ = nullptr;
};

}  // namespace

int RunPaperBench(const PaperOptions& options) {
  PaperRun run;
  run.options = options;
  const uint64_t start = NowNanos();
  int rc = PaperRunner(options, &run).Run();
  run.wall_s = static_cast<double>(NowNanos() - start) / 1e9;
  if (rc != 0) return rc;
  Status st = WritePaperOutputs(run);
  if (!st.ok()) {
    spdlog::error("{}", st.message());
    return 1;
  }
  for (const std::string& e : run.errors) spdlog::error("{}", e);
  return run.errors.empty() ? 0 : 1;
}

}  // namespace prescient::cli
