// The smoke version of `prescient bench paper`: a miniature workload (tests/programs/paper_mini.cc), one size, one
// repetition, both modes. Every cell of the matrix must be present and
// finite, and every output written.
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "testutil/program_run.h"
#include "testutil/testutil.h"

namespace prescient::testing {
namespace {

std::vector<std::string> SplitCsv(const std::string& line) {
  std::vector<std::string> cells;
  std::stringstream s(line);
  for (std::string c; std::getline(s, c, ',');) cells.push_back(c);
  return cells;
}

TEST(BenchPaper, SmokeRunWritesEveryCellAndOutput) {
  // A sanitized prescient manages nothing (D18), so its traces hold no
  // records and there is nothing to train on.
  if (kSanitizedBuild) GTEST_SKIP() << "trace capture needs an unsanitized build";
  TempDir dir;
  const std::string out = dir.file("paper");
  Outcome o = RunToEnd({BuildPath("prescient"), "bench", "paper", "--quick", "--mode", "both", "--workloads", "paper_mini", "--workload-dir", BuildPath("tests"), "--local", "50", "--train", "--max-steps", "60",
                        "--out", out},
                       std::chrono::seconds(900));
  ASSERT_EQ(o.status, 0) << o.err;

  const std::vector<std::string> rows = Lines(ReadFile(out + "/results.csv"));
  ASSERT_FALSE(rows.empty());
  const std::vector<std::string> header = SplitCsv(rows[0]);
  std::map<std::string, size_t> column;
  for (size_t i = 0; i < header.size(); ++i) column[header[i]] = i;
  for (const char* c : {"mode", "workload", "policy", "local_pct", "normalized_perf", "accuracy", "coverage"})
    ASSERT_TRUE(column.count(c)) << "results.csv lacks column " << c << ": " << rows[0];

  std::set<std::string> cells;
  std::map<std::string, double> perf;
  for (size_t r = 1; r < rows.size(); ++r) {
    const std::vector<std::string> v = SplitCsv(rows[r]);
    ASSERT_EQ(v.size(), header.size()) << rows[r];
    const std::string key = v[column["mode"]] + "/" + v[column["policy"]];
    EXPECT_TRUE(cells.insert(key).second) << "cell twice: " << key;
    EXPECT_EQ(v[column["workload"]], "paper_mini");
    EXPECT_EQ(std::stod(v[column["local_pct"]]), 50.0);
    for (const char* metric : {"normalized_perf", "accuracy", "coverage"}) {
      const double x = std::stod(v[column[metric]]);
      EXPECT_TRUE(std::isfinite(x)) << key << " " << metric << " = " << v[column[metric]];
    }
    const double p = std::stod(v[column["normalized_perf"]]);
    EXPECT_GT(p, 0.0) << key;
    perf[key] = p;
    const double accuracy = std::stod(v[column["accuracy"]]);
    EXPECT_GE(accuracy, 0.0) << key;
    EXPECT_LE(accuracy, 1.0) << key;
  }
  for (const char* mode : {"sim", "runtime"})
    for (const char* policy : {"none", "readahead", "vma-readahead", "leap", "farsight"})
      EXPECT_TRUE(cells.count(std::string(mode) + "/" + policy)) << "missing cell " << mode << "/" << policy;
  EXPECT_TRUE(cells.count("sim/oracle"));
  EXPECT_FALSE(cells.count("runtime/oracle")) << "oracle exists only in the simulator";
  // The ceiling bounds demand paging.
  EXPECT_GE(perf["sim/oracle"], perf["sim/none"]);

  const nlohmann::json j = nlohmann::json::parse(ReadFile(out + "/results.json"));
  EXPECT_FALSE(j["provenance"]["commit"].get<std::string>().empty());
  EXPECT_TRUE(j["provenance"]["cost_model"].contains("far_read_us"));
  EXPECT_EQ(j["provenance"]["workloads"][0]["native_checksum"].get<std::string>().size(), 16u);
  EXPECT_TRUE(j["errors"].empty()) << j["errors"].dump();
  const std::string md = ReadFile(out + "/results.md");
  EXPECT_NE(md.find("FarSight (published)"), std::string::npos);
  // The simulator against the runtime, with the capture a sixth of 50 %.
  EXPECT_NE(md.find("| paper_mini | 8% |"), std::string::npos) << md;
  EXPECT_EQ(j["provenance"]["workloads"][0]["capture"], "8%");
  for (const char* png : {"perf-sim.png", "perf-runtime.png", "accuracy-coverage-sim.png", "accuracy-coverage-runtime.png"})
    EXPECT_GT(std::filesystem::file_size(out + "/plots/" + png), 1000u) << png;
}

// The process groups of the processes whose parent is `pid`.
std::set<pid_t> ChildGroups(pid_t pid) {
  std::set<pid_t> groups;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    // pid (comm) state ppid pgrp ...: comm may hold spaces, so read after ')'.
    std::istringstream rest(line.substr(line.rfind(')') + 1));
    std::string state;
    pid_t ppid = 0, pgrp = 0;
    if (rest >> state >> ppid >> pgrp && ppid == pid) groups.insert(pgrp);
  }
  return groups;
}

// Issue 19, item 6: a SIGTERM stopped bench paper but left its children
// running, still writing into --out.
TEST(BenchPaper, SigtermStopsEveryChildToo) {
  if (kSanitizedBuild) GTEST_SKIP() << "trace capture needs an unsanitized build";
  TempDir dir;
  Child bench({BuildPath("prescient"), "bench", "paper", "--quick", "--mode", "both", "--workloads", "paper_mini", "--workload-dir", BuildPath("tests"),
               "--local", "50", "--train", "--max-steps", "60", "--out", dir.file("paper")});
  std::set<pid_t> groups;
  for (int i = 0; i < 600 && groups.empty() && bench.Running(); ++i) {
    groups = ChildGroups(bench.pid());
    groups.erase(getpgrp());
    if (groups.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_FALSE(groups.empty()) << "bench paper started no child in its own process group: " << bench.Stderr();
  bench.Kill(SIGTERM);
  EXPECT_EQ(bench.Wait(std::chrono::seconds(30)), 128 + SIGTERM) << bench.Stderr();
  for (pid_t group : groups) {
    bool gone = false;
    for (int i = 0; i < 100 && !gone; ++i) {
      gone = kill(-group, 0) != 0 && errno == ESRCH;
      if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    EXPECT_TRUE(gone) << "process group " << group << " outlived bench paper";
  }
}

// Issue 19, item 6: without a terminal, progress was printed only when a
// step began, so a long capture showed nothing for minutes.
TEST(BenchPaper, WithoutATerminalAProgressLineComesPeriodically) {
  TempDir dir;
  Child bench({BuildPath("prescient"), "bench", "paper", "--quick", "--mode", "both", "--workloads", "paper_mini", "--workload-dir", BuildPath("tests"),
               "--local", "50", "--train", "--max-steps", "60", "--out", dir.file("paper")},
              {"PRESCIENT_PROGRESS_SECONDS=0.5"});
  std::this_thread::sleep_for(std::chrono::seconds(4));
  bench.Kill(SIGTERM);
  bench.Wait(std::chrono::seconds(30));
  // A step's start prints a line too, but with one more step in flight; a
  // periodic line repeats the state of the line before it.
  size_t repeats = 0;
  std::string previous;
  std::istringstream err(bench.Stderr());
  for (std::string line; std::getline(err, line);) {
    const size_t done = line.find(" done, "), bar = line.find(" | ");
    if (done == std::string::npos || line.find(" elapsed, ") == std::string::npos) continue;
    const std::string state = line.substr(line.rfind(' ', done - 1), done - line.rfind(' ', done - 1)) + (bar == std::string::npos ? "" : line.substr(bar));
    repeats += state == previous ? 1 : 0;
    previous = state;
  }
  EXPECT_GE(repeats, 3u) << bench.Stderr();
}

TEST(BenchPaper, RefusesAnUnknownModeAndOracleInTheRuntime) {
  Outcome bad_mode = RunToEnd({BuildPath("prescient"), "bench", "paper", "--mode", "fast"}, std::chrono::seconds(60));
  EXPECT_EQ(bad_mode.status, 2);
  EXPECT_NE(bad_mode.err.find("--mode fast"), std::string::npos) << bad_mode.err;
  Outcome oracle = RunToEnd({BuildPath("prescient"), "bench", "paper", "--policies", "none,oracle"}, std::chrono::seconds(60));
  EXPECT_EQ(oracle.status, 2);
  EXPECT_NE(oracle.err.find("oracle"), std::string::npos) << oracle.err;
  Outcome workload = RunToEnd({BuildPath("prescient"), "bench", "paper", "--workloads", "nosuch", "--mode", "sim"}, std::chrono::seconds(60));
  EXPECT_NE(workload.status, 0);
  EXPECT_NE(workload.err.find("nosuch"), std::string::npos) << workload.err;
}

}  // namespace
}  // namespace prescient::testing
