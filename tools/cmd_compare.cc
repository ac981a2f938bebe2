// `prescient compare A.json B.json ...`: run reports (`prescient run
// --report`) side by side, and the rows of `prescient sim --json` files
// beside them, each labelled by its file name or --label.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "common/units.h"
#include "provenance.h"

namespace prescient::cli {

namespace {

constexpr int kUsageError = 2;
constexpr char kCompareSchema[] = "prescient-compare/1";

double Number(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : 0.0;
}

// What is missing for `j` to be a run report, or "".
std::string NotARunReport(const nlohmann::json& j) {
  for (const char* key : {"wall_s", "demand_faults", "pages_fetched", "fault_latency_us"})
    if (!j.contains(key)) return fmt::format("it has no \"{}\"", key);
  if (!j["wall_s"].is_number() || !j["demand_faults"].is_number()) return "its \"wall_s\" or \"demand_faults\" is not a number";
  return "";
}

// What is wrong for `j` to be `prescient sim --json` output, or "".
std::string NotSimOutput(const nlohmann::json& j) {
  if (j.empty()) return "it holds no rows";
  for (size_t i = 0; i < j.size(); ++i) {
    const nlohmann::json& row = j[i];
    if (!row.is_object()) return fmt::format("row {} is not an object", i);
    for (const char* key : {"policy", "local_pct", "normalized_perf", "demand_faults"})
      if (!row.contains(key)) return fmt::format("row {} has no \"{}\"", i, key);
  }
  return "";
}

std::string Text(const nlohmann::json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

std::string LocalOf(const nlohmann::json& report) {
  if (report.contains("local_bytes")) return FormatBytes(static_cast<uint64_t>(Number(report, "local_bytes")));
  if (report.contains("local_fraction")) return fmt::format("{:g}%", Number(report, "local_fraction") * 100);
  return "?";
}

struct Input {
  std::string label, path;
  nlohmann::json json;
  bool sim = false;
};

int Compare(const std::vector<std::string>& files, const std::vector<std::string>& labels, const std::string& json_out) {
  auto fail = [](const std::string& message) {
    fmt::print(stderr, "prescient compare: {}\n", message);
    return kUsageError;
  };
  if (!labels.empty() && labels.size() != files.size())
    return fail(fmt::format("--label gives {} labels for {} files; give one per file, in order", labels.size(), files.size()));
  std::vector<Input> inputs;
  for (size_t i = 0; i < files.size(); ++i) {
    const std::string& f = files[i];
    std::ifstream in(f);
    if (!in) return fail(fmt::format("cannot open {}", f));
    Input input{labels.empty() ? std::filesystem::path(f).stem().string() : labels[i], f,
                nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false)};
    if (input.json.is_discarded()) return fail(fmt::format("{} is not JSON", f));
    if (input.json.is_array()) {
      if (std::string why = NotSimOutput(input.json); !why.empty())
        return fail(fmt::format("{} is a JSON list but not `prescient sim --json` output: {}", f, why));
      input.sim = true;
    } else if (std::string why = input.json.is_object() ? NotARunReport(input.json) : "it is not a JSON object"; !why.empty()) {
      return fail(fmt::format("{} is not a run report (`prescient run --report`) or `prescient sim --json` output: {}", f, why));
    }
    inputs.push_back(std::move(input));
  }

  nlohmann::json runs = nlohmann::json::array(), sims = nlohmann::json::array();
  double first_wall = 0;
  for (const Input& in : inputs) {
    if (in.sim || first_wall > 0) continue;
    first_wall = Number(in.json, "wall_s");
  }
  for (const Input& in : inputs) {
    const nlohmann::json& j = in.json;
    if (in.sim) {
      for (const nlohmann::json& row : j)
        sims.push_back({{"label", in.label}, {"file", in.path}, {"policy", row["policy"]}, {"local_pct", row["local_pct"]},
                        {"normalized_perf", row["normalized_perf"]}, {"demand_faults", row["demand_faults"]},
                        {"accuracy", Number(row, "accuracy")}, {"coverage", Number(row, "coverage")}});
      continue;
    }
    const double wall = Number(j, "wall_s");
    const nlohmann::json lat = j["fault_latency_us"].is_object() ? j["fault_latency_us"] : nlohmann::json::object();
    runs.push_back({{"label", in.label}, {"file", in.path}, {"policy", j.contains("prefetch") ? Text(j["prefetch"]) : "?"}, {"local", LocalOf(j)}, {"wall_s", wall},
                    {"speed_vs_first", wall > 0 ? first_wall / wall : 0.0}, {"demand_faults", Number(j, "demand_faults")},
                    {"pages_fetched", Number(j, "pages_fetched")}, {"prefetch_issued", Number(j, "prefetch_issued")},
                    {"prefetch_used", Number(j, "prefetch_used")}, {"pages_written_back", Number(j, "pages_written_back")},
                    {"fault_p50_us", Number(lat, "p50")}, {"fault_p99_us", Number(lat, "p99")}});
  }
  // With the JSON on stdout, the tables would make it unreadable.
  const bool tables = json_out != "-";
  if (tables && !runs.empty()) {
    fmt::print("| run | policy | local | wall s | speed vs first | demand faults | pages fetched | prefetch issued | prefetch used | written back | fault p50 us | fault p99 us |\n");
    fmt::print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (const nlohmann::json& r : runs)
      fmt::print("| {} | {} | {} | {:.2f} | {:.2f}x | {:.0f} | {:.0f} | {:.0f} | {:.0f} | {:.0f} | {:.1f} | {:.1f} |\n", r["label"].get<std::string>(),
                 r["policy"].get<std::string>(), r["local"].get<std::string>(), r["wall_s"].get<double>(), r["speed_vs_first"].get<double>(),
                 r["demand_faults"].get<double>(), r["pages_fetched"].get<double>(), r["prefetch_issued"].get<double>(),
                 r["prefetch_used"].get<double>(), r["pages_written_back"].get<double>(), r["fault_p50_us"].get<double>(),
                 r["fault_p99_us"].get<double>());
    fmt::print("\nspeed vs first: the first run's wall time divided by this run's (above 1: faster than the first).\n");
  }
  if (tables && !sims.empty()) {
    fmt::print("{}| simulated | policy | local % | normalized perf | demand faults | accuracy | coverage |\n", runs.empty() ? "" : "\n");
    fmt::print("|---|---|---:|---:|---:|---:|---:|\n");
    for (const nlohmann::json& r : sims)
      fmt::print("| {} | {} | {} | {:.3f} | {} | {:.3f} | {:.3f} |\n", r["label"].get<std::string>(), Text(r["policy"]), r["local_pct"].dump(),
                 r["normalized_perf"].is_number() ? r["normalized_perf"].get<double>() : 0.0, r["demand_faults"].dump(),
                 r["accuracy"].get<double>(), r["coverage"].get<double>());
  }
  if (!json_out.empty()) {
    nlohmann::json out = {{"schema", kCompareSchema}, {"provenance", Provenance()}, {"runs", runs}, {"sims", sims}};
    if (json_out == "-") {
      fmt::print("{}\n", out.dump(2));
    } else {
      std::ofstream f(json_out, std::ios::trunc);
      f << out.dump(2) << "\n";
      if (!f) {
        fmt::print(stderr, "prescient compare: cannot write {}\n", json_out);
        return 1;
      }
    }
  }
  return 0;
}

}  // namespace

void AddCompareCommand(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("compare", "Compare `prescient run --report` files, and `prescient sim --json` rows beside them");
  auto files = std::make_shared<std::vector<std::string>>();
  auto labels = std::make_shared<std::vector<std::string>>();
  auto json_out = std::make_shared<std::string>();
  cmd->add_option("reports", *files, "run reports and sim JSON files")->required()->check(CLI::ExistingFile);
  cmd->add_option("--label", *labels, "One label per file, comma-separated, in order (default: each file's name)")->delimiter(',')->allow_extra_args(false);
  cmd->add_option("--json", *json_out, "Also write the comparison as JSON to FILE, or - for stdout");
  cmd->callback([files, labels, json_out, exit_code] { *exit_code = Compare(*files, *labels, *json_out); });
}

}  // namespace prescient::cli
