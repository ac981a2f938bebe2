// The two ways `prescient run` serves a fault, end to end: `--fault-path
// thread` (a handler thread reads userfaultfd) and `--fault-path signal` (the
// faulting thread serves its own fault from a SIGBUS handler). The signal
// path makes promises the thread path never had to: a system call given a
// buffer in far memory must not fail with EFAULT, a program's own SIGBUS
// handler must still see its own signals, and a program that blocks SIGBUS
// must neither die of it nor see it unblocked. Each ordinary program in
// tests/programs/ below tests some of them; under either path, with a
// quarter of its footprint local, it must print its native checksum, and the
// report must name the path that ran. A kernel without userfaultfd's SIGBUS
// mode runs the thread path for `signal`: those cases are skipped. The two
// ways of seeing writes (--dirty-tracking) are checked at the end.
#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "testutil/program_run.h"
#include "testutil/testutil.h"

namespace prescient {
namespace {

using testing::BuildPath;
using testing::FinalChecksum;
using testing::Job;
using testing::kSanitizedBuild;
using testing::Outcome;
using testing::PrescientRun;
using testing::ReadReport;
using testing::TempDir;
using namespace std::chrono_literals;

const std::vector<std::string> kFaultPaths = {"thread", "signal"};
constexpr char kNoSignalPath[] = "this kernel has no userfaultfd SIGBUS mode: --fault-path signal ran the thread path";

struct Program {
  std::string name;
  std::vector<std::string> env;  // for native and managed runs alike
};

void PrintTo(const Program& p, std::ostream* os) { *os << p.name; }

// `prescient run` with a quarter of the footprint local, faults served by `path`.
std::vector<std::string> OnPath(const std::string& path, const std::string& report,
                                const std::vector<std::string>& command) {
  return PrescientRun({"--local", "25%", "--fault-path", path, "--quiet", "--report", report}, command);
}

const Program kPrograms[] = {
    {"syscall_buffers", {}},
    // AddressSanitizer would otherwise have a SIGBUS handler in place
    // before the program installs its own, which the program checks for.
    {"own_sigbus", {"ASAN_OPTIONS=handle_sigbus=0"}},
    {"blocked_signals", {}},
    {"realloc_growth", {}},
    {"fork_exec", {}},
    {"openmp_update", {}},
};

class FaultPathTest : public ::testing::TestWithParam<Program> {};

TEST_P(FaultPathTest, EveryPathGivesTheNativeChecksum) {
  const std::vector<std::string> command = {BuildPath("tests/" + GetParam().name)};
  TempDir dir;
  std::vector<Job> jobs = {{"native", command, GetParam().env}};
  for (const std::string& path : kFaultPaths)
    jobs.push_back({path, OnPath(path, dir.file(path + ".json"), command), GetParam().env});
  const std::vector<Outcome> runs = testing::RunAll(jobs, 240s);
  ASSERT_EQ(runs[0].status, 0) << runs[0].out << runs[0].err;
  const std::string native = FinalChecksum(runs[0].out);
  ASSERT_NE(native, "") << runs[0].out;

  bool signal_ran_as_thread = false;
  for (size_t i = 1; i < jobs.size(); ++i) {
    const std::string& path = jobs[i].label;
    SCOPED_TRACE("--fault-path " + path);
    EXPECT_EQ(runs[i].status, 0) << runs[i].out << runs[i].err;
    if (runs[i].status != 0) continue;
    EXPECT_EQ(FinalChecksum(runs[i].out), native) << runs[i].out;
    if (kSanitizedBuild) continue;  // nothing is managed there
    const nlohmann::json r = ReadReport(dir.file(path + ".json"));
    const std::string ran = r.value("fault_path", "");
    if (path == "signal" && ran == "thread") {
      signal_ran_as_thread = true;
    } else {
      EXPECT_EQ(ran, path) << r.dump(2);
    }
    // A quarter of the footprint cannot hold the program: pages left.
    EXPECT_TRUE(r.value("pages_written_back", 0) > 0 || r.value("pages_evicted", 0) > 0) << r.dump(2);
  }
  if (signal_ran_as_thread) GTEST_SKIP() << kNoSignalPath;
}

INSTANTIATE_TEST_SUITE_P(Programs, FaultPathTest, ::testing::ValuesIn(kPrograms),
                         [](const ::testing::TestParamInfo<Program>& info) { return info.param.name; });

TEST(FaultPathChoiceTest, AutoTakesTheSignalPathWhereTheKernelHasIt) {
  if (kSanitizedBuild) GTEST_SKIP() << "sanitized build: nothing is managed, so no fault path runs";
  const std::vector<std::string> command = {BuildPath("tests/page_walk"), "16"};
  TempDir dir;
  std::vector<Job> jobs;
  for (const std::string path : {"auto", "signal"})
    jobs.push_back({path, OnPath(path, dir.file(path + ".json"), command), {}});
  const std::vector<Outcome> runs = testing::RunAll(jobs, 120s);
  for (size_t i = 0; i < runs.size(); ++i) ASSERT_EQ(runs[i].status, 0) << jobs[i].label << ": " << runs[i].err;
  EXPECT_EQ(FinalChecksum(runs[0].out), FinalChecksum(runs[1].out));
  const std::string automatic = ReadReport(dir.file("auto.json")).value("fault_path", "");
  const std::string signal = ReadReport(dir.file("signal.json")).value("fault_path", "");
  EXPECT_EQ(automatic, signal) << "auto must run the signal path exactly where --fault-path signal can";
  if (signal == "thread") GTEST_SKIP() << kNoSignalPath;
  EXPECT_EQ(automatic, "signal");
}

TEST(FaultPathChoiceTest, AnUnknownPathIsRefusedNamingTheFlag) {
  testing::Child c(PrescientRun({"--fault-path", "sometimes"}, {"/bin/true"}));
  EXPECT_EQ(c.Wait(30s), 2);
  EXPECT_NE(c.Stderr().find("--fault-path sometimes"), std::string::npos) << c.Stderr();
}

// Both ways of seeing writes (D109) give the native output, and the report
// says which ran; only digest tracking finds writes by digest.
TEST(DirtyTrackingChoiceTest, EachTrackingGivesTheNativeChecksumAndIsReported) {
  const std::vector<std::string> command = {BuildPath("tests/page_walk"), "16"};
  TempDir dir;
  std::vector<Job> jobs = {{"native", command, {}}};
  for (const std::string tracking : {"fault", "digest"}) {
    jobs.push_back({tracking, PrescientRun({"--local", "25%", "--dirty-tracking", tracking, "--quiet", "--report", dir.file(tracking + ".json")}, command),
                    {}});
  }
  const std::vector<Outcome> runs = testing::RunAll(jobs, 120s);
  for (size_t i = 0; i < runs.size(); ++i) ASSERT_EQ(runs[i].status, 0) << jobs[i].label << ": " << runs[i].err;
  const std::string native = FinalChecksum(runs[0].out);
  ASSERT_NE(native, "") << runs[0].out;
  for (size_t i = 1; i < runs.size(); ++i) EXPECT_EQ(FinalChecksum(runs[i].out), native) << jobs[i].label;
  if (kSanitizedBuild) return;  // nothing is managed there
  const nlohmann::json fault = ReadReport(dir.file("fault.json"));
  const nlohmann::json digest = ReadReport(dir.file("digest.json"));
  EXPECT_EQ(fault.value("dirty_tracking", ""), "fault");
  EXPECT_EQ(digest.value("dirty_tracking", ""), "digest");
  EXPECT_EQ(fault.value("digest_mismatches", 1), 0) << fault.dump(2);
}

TEST(DirtyTrackingChoiceTest, AnUnknownTrackingIsRefusedNamingTheFlag) {
  testing::Child c(PrescientRun({"--dirty-tracking", "sometimes"}, {"/bin/true"}));
  EXPECT_EQ(c.Wait(30s), 2);
  EXPECT_NE(c.Stderr().find("--dirty-tracking sometimes"), std::string::npos) << c.Stderr();
}

}  // namespace
}  // namespace prescient
