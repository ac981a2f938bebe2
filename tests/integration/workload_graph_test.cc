// The graph workloads (workloads/pagerank, workloads/sssp) keep their fixed
// interface: --list-inputs, every family at --small ending in a checksum line,
// the checksum deterministic (across runs and thread counts) yet sensitive to
// seed and family, bad flags refused by name, and the same checksum natively
// and under `prescient run --local 30%` with each prefetch policy.
#include <algorithm>
#include <chrono>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "testutil/program_run.h"
#include "testutil/testutil.h"

namespace prescient {
namespace {

using testing::BuildPath;
using testing::Child;
using testing::FinalChecksum;
using testing::Job;
using testing::Lines;
using testing::Outcome;
using testing::RunAll;
using namespace std::chrono_literals;

constexpr auto kNativeTimeout = 120s;
constexpr auto kManagedTimeout = 300s;

// The final checksum of a run that must have succeeded ("" with a test
// failure otherwise).
std::string ChecksumOf(const Outcome& run, const std::string& what) {
  EXPECT_EQ(run.status, 0) << what << "\nstdout:\n" << run.out << "\nstderr:\n" << run.err;
  if (run.status != 0) return "";
  std::string checksum = FinalChecksum(run.out);
  EXPECT_NE(checksum, "") << what << ": the last line is not checksum=<16 hex digits>:\n" << run.out;
  return checksum;
}

struct Workload {
  std::string name;
  // The family used where any would do (repeat runs, far memory): the one
  // with the fewest faults at 30 % local, to keep the tests short.
  std::string quick_input;
};

class WorkloadGraphTest : public ::testing::TestWithParam<Workload> {
 protected:
  std::string Binary() const { return BuildPath("workloads/" + GetParam().name); }

  Job Native(const std::string& label, std::vector<std::string> args) const {
    args.insert(args.begin(), Binary());
    return Job{label, args, {}};
  }

  std::vector<std::string> Families() const {
    Child list({Binary(), "--list-inputs"});
    EXPECT_EQ(list.Wait(30s), 0) << list.Stderr();
    return Lines(list.Stdout());
  }
};

TEST_P(WorkloadGraphTest, ListsAtLeastThreeInputFamilies) {
  std::vector<std::string> families = Families();
  EXPECT_GE(families.size(), 3u);
  EXPECT_EQ(std::set<std::string>(families.begin(), families.end()).size(), families.size()) << "duplicates";
}

TEST_P(WorkloadGraphTest, EveryFamilyEndsInAChecksumThatDependsOnFamilyAndSeedOnly) {
  std::vector<std::string> families = Families();
  const std::string& quick = GetParam().quick_input;
  auto quick_at = std::find(families.begin(), families.end(), quick);
  ASSERT_NE(quick_at, families.end()) << quick;
  std::vector<Job> jobs;
  for (const std::string& family : families) jobs.push_back(Native(family, {"--small", "--input", family}));
  jobs.push_back(Native(quick + " again, one thread", {"--small", "--input", quick, "--threads", "1"}));
  jobs.push_back(Native(quick + " --seed 2", {"--small", "--input", quick, "--seed", "2"}));
  std::vector<Outcome> runs = RunAll(jobs, kNativeTimeout);
  std::vector<std::string> sums;
  for (size_t i = 0; i < runs.size(); ++i) sums.push_back(ChecksumOf(runs[i], jobs[i].label));
  const std::string& quick_sum = sums[quick_at - families.begin()];

  std::set<std::string> distinct;
  for (size_t i = 0; i < families.size(); ++i) {
    EXPECT_TRUE(distinct.insert(sums[i]).second) << families[i] << " repeats a checksum: " << sums[i];
    std::vector<std::string> lines = Lines(runs[i].out);
    std::string header = lines.empty() ? "" : lines.front();
    EXPECT_NE(header.find(families[i]), std::string::npos) << "the header should name the input: " << header;
    EXPECT_NE(header.find("footprint"), std::string::npos) << header;
  }
  EXPECT_EQ(sums[families.size()], quick_sum) << "not deterministic";
  EXPECT_NE(sums[families.size() + 1], quick_sum) << "the seed changes nothing";
}

TEST_P(WorkloadGraphTest, BadArgumentsFailNamingTheArgument) {
  struct Case {
    std::vector<std::string> args;
    std::string expect;
  } cases[] = {
      {{"--bogus"}, "--bogus"},
      {{"--input", "no-such-family"}, "no-such-family"},
      {{"--seed", "twelve"}, "--seed"},
      {{"--threads", "0"}, "--threads"},
      {{"--seed"}, "--seed"},
      {{"stray"}, "stray"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> argv = {Binary()};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    Child child(argv);
    EXPECT_EQ(child.Wait(30s), 2) << c.expect;
    EXPECT_NE(child.Stderr().find(c.expect), std::string::npos) << child.Stderr();
    EXPECT_EQ(child.Stdout(), "") << "a refused run must not look like output";
  }
}

TEST_P(WorkloadGraphTest, SameChecksumNativelyAndInFarMemoryUnderEveryPolicy) {
  const std::vector<std::string> args = {"--small", "--input", GetParam().quick_input};

  std::vector<Job> jobs = {Native("native", args)};
  // On both fault paths (auto is the signal path where the kernel has it).
  for (const std::string path : {"thread", "auto"}) {
    for (const std::string& policy : testing::kClassicPolicies) {
      if (testing::kSanitizedBuild && policy != "none") continue;  // nothing is managed there
      std::vector<std::string> command = {Binary()};
      command.insert(command.end(), args.begin(), args.end());
      jobs.push_back(Job{"--fault-path " + path + " --prefetch " + policy,
                         testing::PrescientRun({"--quiet", "--local", "30%", "--fault-path", path, "--prefetch", policy}, command), {}});
    }
  }
  std::vector<Outcome> runs = RunAll(jobs, kManagedTimeout);
  std::string native = ChecksumOf(runs[0], "native");
  ASSERT_NE(native, "");
  for (size_t i = 1; i < runs.size(); ++i) EXPECT_EQ(ChecksumOf(runs[i], jobs[i].label), native) << jobs[i].label;
}

INSTANTIATE_TEST_SUITE_P(Graph, WorkloadGraphTest,
                         ::testing::Values(Workload{"pagerank", "urand"}, Workload{"sssp", "rmat-skewed"}),
                         [](const ::testing::TestParamInfo<Workload>& info) { return info.param.name; });

}  // namespace
}  // namespace prescient
