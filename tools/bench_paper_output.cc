#include "bench_paper_output.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "progress.h"
#include "provenance.h"
#include "subprocess.h"

namespace prescient::cli {

namespace fs = std::filesystem;

const std::vector<PublishedPoint>& PublishedResults() {
  static const std::vector<PublishedPoint> points{
      {"FarSight", "mcf", 50, 0.34},      {"FarSight", "xgboost", 50, 0.86}, {"FarSight", "pagerank", 50, 0.80}, {"FarSight", "sssp", 50, 0.71},
      {"Fastswap", "mcf", 50, 0.13},      {"Fastswap", "xgboost", 50, 0.68}, {"Fastswap", "pagerank", 50, 0.60}, {"Fastswap", "sssp", 50, 0.38},
  };
  return points;
}

namespace {

nlohmann::json Provenance(const PaperRun& run) {
  nlohmann::json p = cli::Provenance();
  p["cost_model"] = run.cost_model;
  const PaperOptions& o = run.options;
  p["seeds"] = {{"workload_input", o.seed}, {"training", o.seed}, {"runtime_order", o.seed}};
  p["options"] = {{"quick", o.quick}, {"mode", o.mode}, {"small", o.small}, {"reps", o.reps}, {"epochs", o.epochs}, {"max_steps", o.max_steps},
                  {"capture", o.capture_pct > 0 ? fmt::format("{:g}%", o.capture_pct) : ""}, {"models", o.models}, {"locals", o.locals}, {"runtime_locals", o.runtime_locals}, {"policies", o.policies}, {"workload_dir", o.workload_dir}};
  nlohmann::json ws = nlohmann::json::array();
  for (const PaperWorkload& w : run.workloads)
    ws.push_back({{"workload", w.name}, {"train_inputs", w.train_inputs}, {"heldout_input", w.heldout_input}, {"capture", w.capture()}, {"args", w.args},
                  {"model", w.model_path}, {"native_checksum", w.native_checksum}, {"native_wall_s", w.native_wall_s}});
  p["workloads"] = ws;
  p["wall_s"] = run.wall_s;
  return p;
}

Status WriteFile(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  out.close();
  if (!out) return Status::IoError(fmt::format("cannot write {}", path.string()));
  return Status::Ok();
}

std::string Csv(const PaperRun& run) {
  std::string s = "mode,workload,policy,local_pct,normalized_perf,accuracy,coverage,normalized_perf_min,normalized_perf_max,demand_faults,bytes_moved,seconds,all_local_seconds,reps,input,checksum_ok\n";
  for (const PaperCell& c : run.cells)
    s += fmt::format("{},{},{},{:g},{:.6f},{:.6f},{:.6f},{:.6f},{:.6f},{:.0f},{:.0f},{:.6f},{:.6f},{},{},{}\n", c.mode, c.workload, c.policy, c.local_pct,
                     c.normalized_perf, c.accuracy, c.coverage, c.perf_min, c.perf_max, c.demand_faults, c.bytes_moved, c.seconds, c.all_local_seconds,
                     c.reps, c.input, c.checksum_ok ? 1 : 0);
  return s;
}

nlohmann::json Json(const PaperRun& run) {
  nlohmann::json cells = nlohmann::json::array();
  for (const PaperCell& c : run.cells)
    cells.push_back({{"mode", c.mode}, {"workload", c.workload}, {"input", c.input}, {"policy", c.policy}, {"local_pct", c.local_pct},
                     {"normalized_perf", c.normalized_perf}, {"normalized_perf_min", c.perf_min}, {"normalized_perf_max", c.perf_max},
                     {"accuracy", c.accuracy}, {"coverage", c.coverage}, {"demand_faults", c.demand_faults}, {"bytes_moved", c.bytes_moved},
                     {"seconds", c.seconds}, {"all_local_seconds", c.all_local_seconds}, {"reps", c.reps}, {"wall_samples", c.wall_samples},
                     {"checksum_ok", c.checksum_ok}});
  nlohmann::json published = nlohmann::json::array();
  for (const PublishedPoint& p : PublishedResults())
    published.push_back({{"system", p.system}, {"workload", p.workload}, {"local_pct", p.local_pct}, {"normalized_perf", p.normalized_perf}});
  return {{"provenance", Provenance(run)}, {"cells", cells}, {"published_for_reference", published}, {"errors", run.errors}};
}

std::vector<std::string> ModesOf(const PaperRun& run) {
  std::vector<std::string> modes;
  for (const char* m : {"sim", "runtime"})
    for (const PaperCell& c : run.cells)
      if (c.mode == m) {
        modes.push_back(m);
        break;
      }
  return modes;
}

// farsight with one of its pieces taken away: "farsight-no-lookahead", ...
bool IsAblation(const std::string& policy) { return policy.rfind("farsight-", 0) == 0; }

std::vector<std::string> PoliciesOf(const PaperRun& run, const std::string& mode, bool ablations = false) {
  std::vector<std::string> policies;
  for (const PaperCell& c : run.cells)
    if (c.mode == mode && IsAblation(c.policy) == ablations && std::find(policies.begin(), policies.end(), c.policy) == policies.end()) policies.push_back(c.policy);
  return policies;
}

std::vector<double> LocalsOf(const PaperRun& run, const std::string& mode) {
  std::vector<double> locals;
  for (const PaperCell& c : run.cells)
    if (c.mode == mode && std::find(locals.begin(), locals.end(), c.local_pct) == locals.end()) locals.push_back(c.local_pct);
  std::sort(locals.begin(), locals.end());
  return locals;
}

const PaperCell* Find(const PaperRun& run, const std::string& mode, const std::string& workload, const std::string& policy, double pct) {
  for (const PaperCell& c : run.cells)
    if (c.mode == mode && c.workload == workload && c.policy == policy && c.local_pct == pct) return &c;
  return nullptr;
}

std::string PerfText(const PaperCell* c) {
  if (c == nullptr) return "–";
  if (c->reps > 1 && c->perf_max > c->perf_min) return fmt::format("{:.3f} ({:.3f}–{:.3f})", c->normalized_perf, c->perf_min, c->perf_max);
  return fmt::format("{:.3f}", c->normalized_perf);
}

// Whether the simulator models the runtime it claims to: `none`'s demand
// faults in both, where both were measured.
std::string FidelityTable(const PaperRun& run) {
  const std::vector<double> locals = LocalsOf(run, "runtime");
  if (ModesOf(run).size() < 2 || locals.empty()) return "";
  std::string s =
      "## The simulator against the runtime\n\n`none`'s demand faults, simulated ÷ measured (the runtime's median over the repetitions), on the "
      "same held-out input; the simulator replays a trace captured with the cache shown (D103).\n\n| workload | capture |";
  for (double p : locals) s += fmt::format(" {:g} % |", p);
  s += "\n|---|---:|";
  for (size_t i = 0; i < locals.size(); ++i) s += "---:|";
  s += "\n";
  for (const PaperWorkload& w : run.workloads) {
    s += fmt::format("| {} | {} |", w.name, w.capture());
    for (double p : locals) {
      const PaperCell* sim = Find(run, "sim", w.name, "none", p);
      const PaperCell* measured = Find(run, "runtime", w.name, "none", p);
      if (sim == nullptr || measured == nullptr || measured->demand_faults <= 0) {
        s += " – |";
        continue;
      }
      s += fmt::format(" {:.3f} ({:.0f} / {:.0f}) |", sim->demand_faults / measured->demand_faults, sim->demand_faults, measured->demand_faults);
    }
    s += "\n";
  }
  return s + "\n";
}

std::string Markdown(const PaperRun& run) {
  const PaperOptions& o = run.options;
  std::string s = fmt::format("# prescient bench paper\n\nCommand: `{}` ({} reps, {} in all).\n\n", CommandLine(), o.reps, FormatDuration(run.wall_s));
  s += "Normalized performance is all-local time ÷ far-memory time (sim: simulated; runtime: median wall time of the repetitions, min–max in "
       "brackets, against the median native run). Accuracy is prefetched pages used ÷ issued; coverage is the demand faults avoided ÷ `none`'s at "
       "the same size. Every workload is evaluated on an input family its model never saw.\n\n";
  for (const std::string& mode : ModesOf(run)) {
    const std::vector<std::string> policies = PoliciesOf(run, mode);
    const std::vector<double> locals = LocalsOf(run, mode);
    s += fmt::format("## {} — normalized performance\n\n", mode);
    for (const PaperWorkload& w : run.workloads) {
      s += fmt::format("### {} (held-out input `{}`, trained on {})\n\n| policy |", w.name, w.heldout_input, fmt::format("`{}`", fmt::join(w.train_inputs, "`, `")));
      for (double p : locals) s += fmt::format(" {:g} % |", p);
      s += " accuracy @50 | coverage @50 |\n|---|";
      for (size_t i = 0; i < locals.size() + 2; ++i) s += "---:|";
      s += "\n";
      for (const std::string& policy : policies) {
        s += fmt::format("| {} |", policy);
        for (double p : locals) s += " " + PerfText(Find(run, mode, w.name, policy, p)) + " |";
        const PaperCell* c50 = Find(run, mode, w.name, policy, 50);
        s += c50 ? fmt::format(" {:.3f} | {:.3f} |\n", c50->accuracy, c50->coverage) : " – | – |\n";
      }
      s += "\n";
    }
  }
  s += FidelityTable(run);
  if (const std::vector<std::string> ablations = PoliciesOf(run, "sim", true); !ablations.empty()) {
    s += "## Ablations (sim): farsight with one piece taken away\n\nno-lookahead: `--lookahead 1`; no-maps: a model trained with `--ordinals 0` "
         "(a delta vocabulary, after Hashemi et al. 2018); sync-inference: the model's cost on the fault's critical path; no-hybrid: no "
         "readahead filling what the model leaves of a fault's budget.\n\n| workload | local % | farsight |";
    for (const std::string& a : ablations) s += " " + a.substr(9) + " |";
    s += "\n|---|---:|---:|";
    for (size_t i = 0; i < ablations.size(); ++i) s += "---:|";
    s += "\n";
    for (const PaperWorkload& w : run.workloads)
      for (double p : LocalsOf(run, "sim")) {
        s += fmt::format("| {} | {:g} | {} |", w.name, p, PerfText(Find(run, "sim", w.name, "farsight", p)));
        for (const std::string& a : ablations) s += " " + PerfText(Find(run, "sim", w.name, a, p)) + " |";
        s += "\n";
      }
    s += "\n";
  }
  s += "## The 50 % row, beside the published numbers\n\nPublished values are FarSight's and Fastswap's own results (docs/background.md, A), on their "
       "versions of the workloads and their hardware; they were **not measured here** and are given for reference only. The brief restates no "
       "Hermit numbers, so none are shown.\n\n| workload | mode | ";
  std::vector<std::string> all_policies;
  for (const std::string& mode : ModesOf(run))
    for (const std::string& p : PoliciesOf(run, mode))
      if (std::find(all_policies.begin(), all_policies.end(), p) == all_policies.end()) all_policies.push_back(p);
  for (const std::string& p : all_policies) s += p + " | ";
  s += "FarSight (published) | Fastswap (published) |\n|---|---|";
  for (size_t i = 0; i < all_policies.size() + 2; ++i) s += "---:|";
  s += "\n";
  for (const PaperWorkload& w : run.workloads)
    for (const std::string& mode : ModesOf(run)) {
      s += fmt::format("| {} | {} |", w.name, mode);
      for (const std::string& p : all_policies) s += " " + PerfText(Find(run, mode, w.name, p, 50)) + " |";
      for (const char* system : {"FarSight", "Fastswap"})
        for (const PublishedPoint& pp : PublishedResults())
          if (pp.system == std::string(system) && pp.workload == w.name) s += fmt::format(" {:.2f} |", pp.normalized_perf);
      s += "\n";
    }
  if (!run.errors.empty()) {
    s += "\n## Errors\n\n";
    for (const std::string& e : run.errors) s += "- " + e + "\n";
  }
  s += "\n## Plots\n\n";
  for (const std::string& mode : ModesOf(run))
    s += fmt::format("![normalized performance, {0}](plots/perf-{0}.png)\n\n![accuracy and coverage, {0}](plots/accuracy-coverage-{0}.png)\n\n", mode);
  return s;
}

// One data file per (mode, workload, policy): "local_pct perf min max".
Status WritePlots(const PaperRun& run, const fs::path& dir, std::vector<std::string>* pngs) {
  fs::create_directories(dir);
  for (const std::string& mode : ModesOf(run)) {
    const std::vector<std::string> policies = PoliciesOf(run, mode);
    const size_t n = run.workloads.size(), cols = std::min<size_t>(n, 2), panel_rows = (n + 1) / 2;
    std::string script = fmt::format(
        "set terminal pngcairo size {},{} font 'sans,11'\nset termoption noenhanced\nset output '{}/perf-{}.png'\n"
        "set multiplot layout {},{} title 'normalized performance vs local memory ({}; held-out inputs)'\n"
        "set xlabel 'local memory (% of footprint)'\nset ylabel 'normalized performance (all-local = 1)'\n"
        "set yrange [0:1.05]\nset xrange [25:95]\nset key outside right top\nset grid\n",
        800 * cols, 500 * panel_rows, dir.string(), mode, panel_rows, cols, mode);
    for (const PaperWorkload& w : run.workloads) {
      std::string plot;
      for (const std::string& policy : policies) {
        const fs::path data = dir / fmt::format("{}-{}-{}.dat", mode, w.name, policy);
        std::string rows;
        for (double p : LocalsOf(run, mode))
          if (const PaperCell* c = Find(run, mode, w.name, policy, p)) rows += fmt::format("{:g} {:.6f} {:.6f} {:.6f}\n", p, c->normalized_perf, c->perf_min, c->perf_max);
        PRESCIENT_RETURN_IF_ERROR(WriteFile(data, rows));
        plot += fmt::format("{}'{}' using 1:2:3:4 with yerrorlines lw 2 title '{}'", plot.empty() ? "" : ", ", data.string(), policy);
      }
      const fs::path published = dir / fmt::format("published-{}.dat", w.name);
      std::string rows;
      for (const char* system : {"FarSight", "Fastswap"})
        for (const PublishedPoint& pp : PublishedResults())
          if (pp.system == std::string(system) && pp.workload == w.name) rows += fmt::format("{:g} {:.2f}\n", pp.local_pct, pp.normalized_perf);
      PRESCIENT_RETURN_IF_ERROR(WriteFile(published, rows));
      if (!rows.empty()) {
        plot += fmt::format(", '{}' every ::0::0 using 1:2 with points pt 3 ps 3 lc rgb 'black' title 'FarSight (published)'", published.string());
        plot += fmt::format(", '{}' every ::1::1 using 1:2 with points pt 6 ps 3 lc rgb 'black' title 'Fastswap (published)'", published.string());
      }
      script += fmt::format("set title '{} (held-out {})'\nplot {}\n", w.name, w.heldout_input, plot);
    }
    script += "unset multiplot\n";
    // Accuracy and coverage at 50 % (or the first size given), one cluster per workload.
    const std::vector<double> locals = LocalsOf(run, mode);
    const double pct = std::find(locals.begin(), locals.end(), 50.0) != locals.end() ? 50.0 : locals.front();
    std::vector<std::string> prefetching;
    for (const std::string& p : policies)
      if (p != "none") prefetching.push_back(p);
    const fs::path bars = dir / fmt::format("{}-accuracy-coverage.dat", mode);
    std::string rows = "workload";
    for (const std::string& p : prefetching) rows += " " + p;
    rows += "\n";
    for (const char* metric : {"accuracy", "coverage"})
      for (const PaperWorkload& w : run.workloads) {
        rows += w.name;
        for (const std::string& p : prefetching) {
          const PaperCell* c = Find(run, mode, w.name, p, pct);
          rows += fmt::format(" {:.6f}", c == nullptr ? 0.0 : (metric == std::string("accuracy") ? c->accuracy : c->coverage));
        }
        rows += "\n";
      }
    PRESCIENT_RETURN_IF_ERROR(WriteFile(bars, rows));
    script += fmt::format(
        "set terminal pngcairo size 1400,700 font 'sans,11'\nset termoption noenhanced\nset output '{}/accuracy-coverage-{}.png'\nset multiplot layout 1,2 title 'prefetch "
        "accuracy and coverage at {:g} % local ({})'\nset style data histograms\nset style histogram clustered gap 1\nset style fill solid 0.8 border -1\n"
        "set boxwidth 0.9\nset yrange [-0.2:1.05]\nunset xrange\nset xlabel 'workload'\nset xtics rotate by -20\nset key top right\nset grid ytics\n",
        dir.string(), mode, pct, mode);
    for (int half = 0; half < 2; ++half) {
      const char* metric = half == 0 ? "accuracy" : "coverage";
      std::string plot;
      for (size_t i = 0; i < prefetching.size(); ++i)
        plot += fmt::format("{}'{}' every ::{}::{} using {}:xtic(1) title '{}'", i ? ", " : "", bars.string(), half * run.workloads.size() + 1,
                            (half + 1) * run.workloads.size(), i + 2, prefetching[i]);
      script += fmt::format("set ylabel '{}'\nset title '{}'\nplot {}\n", metric, metric, plot);
    }
    script += "unset multiplot\n";
    const fs::path gp = dir / fmt::format("plots-{}.gnuplot", mode);
    PRESCIENT_RETURN_IF_ERROR(WriteFile(gp, script));
    ChildResult r;
    ChildOptions options;
    options.timeout_s = 120;
    Status st = RunChild({"gnuplot", gp.string()}, options, &r);
    if (!st.ok()) return Status::Unavailable(fmt::format("cannot run gnuplot for the plots ({}); install gnuplot-nox (scripts/install-deps.sh)", st.message()));
    if (r.exit_code != 0) return Status::Internal(DescribeFailure({"gnuplot", gp.string()}, r));
    pngs->push_back((dir / fmt::format("perf-{}.png", mode)).string());
    pngs->push_back((dir / fmt::format("accuracy-coverage-{}.png", mode)).string());
  }
  return Status::Ok();
}

}  // namespace

Status WritePaperOutputs(const PaperRun& run) {
  const fs::path out(run.options.out);
  fs::create_directories(out);
  PRESCIENT_RETURN_IF_ERROR(WriteFile(out / "results.csv", Csv(run)));
  PRESCIENT_RETURN_IF_ERROR(WriteFile(out / "results.json", Json(run).dump(2) + "\n"));
  const std::string md = Markdown(run);
  PRESCIENT_RETURN_IF_ERROR(WriteFile(out / "results.md", md));
  std::vector<std::string> pngs;
  PRESCIENT_RETURN_IF_ERROR(WritePlots(run, out / "plots", &pngs));
  std::fputs(md.c_str(), stdout);
  std::fflush(stdout);
  spdlog::info("wrote {}/results.csv, results.json, results.md and {} plots", out.string(), pngs.size());
  return Status::Ok();
}

}  // namespace prescient::cli
