// The mcf and xgboost workloads (workloads/mcf, workloads/xgboost) end to end:
// the command line every workload shares, checksums that depend on the input
// and nothing else, and the same answer natively and under `prescient run`
// with most of the heap in far memory. mcf's optimum is also checked by hand
// on a one-trip instance and against a different algorithm (LEMON's capacity
// scaling) on the DIMACS files it writes.
#include <chrono>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <lemon/capacity_scaling.h>
#include <lemon/dimacs.h>
#include <lemon/smart_graph.h>
#include <nlohmann/json.hpp>

#include "testutil/program_run.h"
#include "testutil/testutil.h"

namespace prescient {
namespace {

using testing::BuildPath;
using testing::FinalChecksum;
using testing::Job;
using testing::Outcome;
using testing::RunToEnd;
using testing::TempDir;
using namespace std::chrono_literals;

std::string Join(const std::vector<std::string>& argv) {
  std::string s;
  for (const std::string& a : argv) s += (s.empty() ? "" : " ") + a;
  return s;
}

struct Workload {
  std::string name;
  // The family run under every policy in far memory: the one with the
  // fewest faults at 30 % local, to keep the test short.
  std::string far_input;
  // The size a sanitized (unoptimized, ~10x slower) build runs instead of
  // --small, through the program's own size flags.
  std::vector<std::string> quick;
  std::string size_flag;
};

// Names the parameter in test listings (ctest shows it).
void PrintTo(const Workload& w, std::ostream* os) { *os << w.name; }

const Workload kWorkloads[] = {
    {"mcf", "dense-timetable", {"--trips", "2000"}, "--trips"},
    {"xgboost", "dense-regression", {"--rows", "4000", "--rounds", "4"}, "--rows"},
};

class WorkloadTest : public ::testing::TestWithParam<Workload> {
 protected:
  std::string Program() const { return BuildPath("workloads/" + GetParam().name); }

  std::vector<std::string> Families() const {
    Outcome o = RunToEnd({Program(), "--list-inputs"}, 30s);
    EXPECT_EQ(o.status, 0) << o.err;
    return testing::Lines(o.out);
  }

  // `--small --input family --seed seed`. A sanitized build is unoptimized
  // and ~10x slower, so it runs the quick size instead.
  std::vector<std::string> SmallArgs(const std::string& family, int seed) const {
    std::vector<std::string> argv = {Program(), "--input", family, "--seed", std::to_string(seed)};
    if (testing::kSanitizedBuild)
      argv.insert(argv.end(), GetParam().quick.begin(), GetParam().quick.end());
    else
      argv.push_back("--small");
    return argv;
  }

  // Small runs, remembered: several tests compare the same runs, and
  // repeating them would make this file slow.
  const Outcome& SmallRun(const std::string& family, int seed) const {
    static std::map<std::string, Outcome> runs;
    std::string key = GetParam().name + " " + family + " " + std::to_string(seed);
    auto it = runs.find(key);
    if (it == runs.end()) it = runs.emplace(key, RunToEnd(SmallArgs(family, seed), 180s)).first;
    return it->second;
  }
};

TEST_P(WorkloadTest, ListsAtLeastThreeInputFamilies) {
  std::vector<std::string> families = Families();
  EXPECT_GE(families.size(), 3u);
  for (const std::string& f : families) {
    EXPECT_FALSE(f.empty());
    EXPECT_EQ(f.find_first_of(" \t"), std::string::npos) << "'" << f << "'";
  }
  EXPECT_EQ(std::set<std::string>(families.begin(), families.end()).size(), families.size()) << "duplicates";
}

TEST_P(WorkloadTest, EveryFamilyEndsWithItsOwnChecksum) {
  std::map<std::string, std::string> by_checksum;
  for (const std::string& family : Families()) {
    const Outcome& o = SmallRun(family, 1);
    ASSERT_EQ(o.status, 0) << family << ": " << o.err;
    std::string checksum = FinalChecksum(o.out);
    ASSERT_NE(checksum, "") << family << " does not end with checksum=<16 hex digits>:\n" << o.out;
    auto [it, fresh] = by_checksum.emplace(checksum, family);
    EXPECT_TRUE(fresh) << family << " and " << it->second << " give the same checksum " << checksum;
  }
}

TEST_P(WorkloadTest, TheSameInputGivesTheSameChecksum) {
  std::string family = Families().at(0);
  const Outcome& first = SmallRun(family, 1);
  Outcome second = RunToEnd(SmallArgs(family, 1), 180s);
  ASSERT_EQ(first.status, 0) << first.err;
  ASSERT_EQ(second.status, 0) << second.err;
  EXPECT_NE(FinalChecksum(first.out), "");
  EXPECT_EQ(FinalChecksum(first.out), FinalChecksum(second.out));
}

TEST_P(WorkloadTest, AnotherSeedGivesAnotherChecksum) {
  std::string family = Families().at(0);
  const Outcome& one = SmallRun(family, 1);
  const Outcome& two = SmallRun(family, 2);
  ASSERT_EQ(one.status, 0) << one.err;
  ASSERT_EQ(two.status, 0) << two.err;
  EXPECT_NE(FinalChecksum(one.out), "");
  EXPECT_NE(FinalChecksum(one.out), FinalChecksum(two.out));
}

TEST_P(WorkloadTest, BadArgumentsFailNamingTheArgument) {
  const std::vector<std::vector<std::string>> cases = {
      {"--no-such-flag"},
      {"--input", "no-such-family"},
      {"--seed", "minus-one"},
      {GetParam().size_flag, "zero"},
  };
  for (const std::vector<std::string>& args : cases) {
    std::vector<std::string> argv = {Program()};
    argv.insert(argv.end(), args.begin(), args.end());
    Outcome o = RunToEnd(argv, 30s);
    EXPECT_NE(o.status, 0) << Join(args);
    for (const std::string& named : {args.front(), args.back()})
      EXPECT_NE(o.err.find(named), std::string::npos) << Join(args) << ": " << o.err;
    EXPECT_EQ(o.out, "") << Join(args);
  }
}

TEST_P(WorkloadTest, FarMemoryGivesTheNativeChecksumUnderEveryPolicy) {
  const Outcome& native = SmallRun(GetParam().far_input, 1);
  ASSERT_EQ(native.status, 0) << native.err;
  std::string expected = FinalChecksum(native.out);
  ASSERT_NE(expected, "") << native.out;

  // Each managed run writes its report into its own directory. Both fault
  // paths (auto is the signal path where the kernel has it).
  const std::vector<std::string> paths = {"thread", "auto"};
  std::vector<TempDir> dirs(testing::kClassicPolicies.size() * paths.size());
  std::vector<Job> jobs;  // job i reports into dirs[i]
  for (const std::string& path : paths) {
    for (const std::string& policy : testing::kClassicPolicies) {
      if (testing::kSanitizedBuild && policy != "none") continue;  // nothing is managed there
      const size_t d = jobs.size();
      jobs.push_back(Job{path + " " + policy,
                         testing::PrescientRun({"--local", "30%", "--fault-path", path, "--prefetch", policy, "--quiet", "--report",
                                                dirs[d].file("report.json")},
                                               SmallArgs(GetParam().far_input, 1)),
                         {}});
    }
  }
  std::vector<Outcome> runs = testing::RunAll(jobs, 300s);
  for (size_t i = 0; i < runs.size(); ++i) {
    const std::string& policy = jobs[i].label;
    ASSERT_EQ(runs[i].status, 0) << policy << ": " << runs[i].err;
    EXPECT_EQ(FinalChecksum(runs[i].out), expected) << policy << ":\n" << runs[i].out << runs[i].err;
    nlohmann::json r = testing::ReadReport(dirs[i].file("report.json"));
    if (testing::kSanitizedBuild) continue;
    EXPECT_TRUE(r["heap"]["interposed"].get<bool>()) << policy;
    EXPECT_GE(r["managed_fraction"].get<double>(), 0.8) << policy << ": " << r.dump(2);
    EXPECT_GT(r["demand_faults"].get<uint64_t>(), 0u) << policy;
  }
}

INSTANTIATE_TEST_SUITE_P(Workloads, WorkloadTest, ::testing::ValuesIn(kWorkloads),
                         [](const ::testing::TestParamInfo<Workload>& info) { return info.param.name; });

// mcf's optimum against an independent check.

struct DimacsNetwork {
  lemon::SmartDigraph graph;
  lemon::SmartDigraph::ArcMap<int> lower{graph}, upper{graph};
  lemon::SmartDigraph::ArcMap<long long> cost{graph};
  lemon::SmartDigraph::NodeMap<int> supply{graph};
};

// Runs mcf on `trips` trips, writing the network as DIMACS; returns the
// total cost mcf reports, or -1.
long long McfOptimum(const std::string& family, int trips, int seed, const std::string& dimacs) {
  Outcome o = RunToEnd({BuildPath("workloads/mcf"), "--input", family, "--seed", std::to_string(seed), "--trips",
                        std::to_string(trips), "--dimacs", dimacs},
                       60s);
  EXPECT_EQ(o.status, 0) << o.err;
  const std::string key = "total_cost=";
  size_t at = o.out.find(key);
  if (at == std::string::npos) {
    ADD_FAILURE() << "no total_cost in:\n" << o.out;
    return -1;
  }
  return std::stoll(o.out.substr(at + key.size()));
}

TEST(McfOptimumTest, OneTripNeedsOneVehicleOutAndBack) {
  // One trip: the only feasible flow sends one vehicle from the depot to the
  // trip and back, and every other arc (fleet, return, idle, the trip itself)
  // costs nothing. So the optimum is the sum of all arc costs, and it holds
  // the fixed cost of one vehicle.
  TempDir dir;
  for (const char* family : {"dense-timetable", "long-haul", "clustered-depots"}) {
    std::string path = dir.file(std::string(family) + ".dimacs");
    long long optimum = McfOptimum(family, 1, 7, path);
    std::ifstream in(path);
    long long sum = 0;
    int arcs = 0;
    for (std::string line; std::getline(in, line);) {
      if (line.rfind("a ", 0) != 0) continue;
      std::istringstream fields(line.substr(2));
      long long from, to, lower, upper, cost;
      fields >> from >> to >> lower >> upper >> cost;
      sum += cost;
      ++arcs;
    }
    EXPECT_GE(arcs, 6) << family;
    EXPECT_EQ(optimum, sum) << family;
    EXPECT_GE(optimum, 100'000) << family << ": one vehicle's fixed cost";
  }
}

TEST(McfOptimumTest, NetworkSimplexAgreesWithCapacityScaling) {
  TempDir dir;
  for (const char* family : {"dense-timetable", "long-haul", "clustered-depots"}) {
    for (int seed : {1, 2}) {
      std::string path = dir.file("net.dimacs");
      long long optimum = McfOptimum(family, 400, seed, path);
      DimacsNetwork n;
      std::ifstream in(path);
      lemon::readDimacsMin(in, n.graph, n.lower, n.upper, n.cost, n.supply);
      ASSERT_GT(lemon::countArcs(n.graph), 400) << family;
      lemon::CapacityScaling<lemon::SmartDigraph, int, long long> check(n.graph);
      check.lowerMap(n.lower).upperMap(n.upper).costMap(n.cost).supplyMap(n.supply);
      ASSERT_EQ(check.run(), decltype(check)::OPTIMAL) << family << " seed " << seed;
      EXPECT_EQ(optimum, check.totalCost()) << family << " seed " << seed;
    }
  }
}

}  // namespace
}  // namespace prescient
