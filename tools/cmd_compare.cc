// `prescient compare A.json B.json ...`: the side-by-side table of run
// reports (one column set per run), so policies can be compared at a glance.
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.h"

namespace prescient::cli {

namespace {

double Number(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : 0.0;
}

int Compare(const std::vector<std::string>& files) {
  struct Row {
    std::string name;
    nlohmann::json report;
  };
  std::vector<Row> rows;
  for (const auto& f : files) {
    std::ifstream in(f);
    if (!in) {
      fmt::print(stderr, "prescient compare: cannot open {}\n", f);
      return 1;
    }
    nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) {
      fmt::print(stderr, "prescient compare: {} is not a JSON report\n", f);
      return 1;
    }
    std::string name = j.value("prefetch", f);
    rows.push_back({name, j});
  }
  double baseline = rows.empty() ? 0 : Number(rows.front().report, "wall_s");
  fmt::print("| run | wall s | vs first | demand faults | pages fetched | prefetch issued | prefetch used | written back | fault p50 us | fault p99 us |\n");
  fmt::print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const Row& r : rows) {
    const auto& j = r.report;
    double wall = Number(j, "wall_s");
    auto lat = j.contains("fault_latency_us") ? j["fault_latency_us"] : nlohmann::json::object();
    fmt::print("| {} | {:.2f} | {:.2f}x | {:.0f} | {:.0f} | {:.0f} | {:.0f} | {:.0f} | {:.1f} | {:.1f} |\n", r.name, wall,
               wall > 0 ? baseline / wall : 0.0, Number(j, "demand_faults"), Number(j, "pages_fetched"), Number(j, "prefetch_issued"),
               Number(j, "prefetch_used"), Number(j, "pages_written_back"), Number(lat, "p50"), Number(lat, "p99"));
  }
  return 0;
}

}  // namespace

void AddCompareCommand(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("compare", "Print a table comparing `prescient run --report` files");
  auto files = std::make_shared<std::vector<std::string>>();
  cmd->add_option("reports", *files, "report JSON files")->required()->check(CLI::ExistingFile);
  cmd->callback([files, exit_code] { *exit_code = Compare(*files); });
}

}  // namespace prescient::cli
