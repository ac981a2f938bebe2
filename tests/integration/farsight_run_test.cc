// `prescient run --prefetch farsight` really runs a program under the learned
// policy, and refuses a missing or damaged model before starting anything.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "testutil/program_run.h"
#include "testutil/test_model.h"
#include "testutil/testutil.h"

namespace prescient {
namespace {

using namespace std::chrono_literals;
using testing::BuildPath;
using testing::PrescientRun;
using testing::RunToEnd;

TEST(FarsightRun, TheProgramGetsItsOwnAnswerAndTheReportShowsTheMaps) {
  testing::TempDir dir;
  testing::Outcome native = RunToEnd({BuildPath("tests/page_walk"), "16"}, 120s);
  ASSERT_EQ(native.status, 0) << native.err;
  std::string report = dir.file("r.json");
  testing::Outcome run = RunToEnd(PrescientRun({"--quiet", "--local", "30%", "--prefetch", "farsight", "--model", testing::TestModelPath(),
                                                "--report", report},
                                               {BuildPath("tests/page_walk"), "16"}),
                                  300s);
  ASSERT_EQ(run.status, 0) << run.err;
  EXPECT_EQ(run.out, native.out);
  nlohmann::json r = testing::ReadReport(report);
  EXPECT_EQ(r["prefetch"], "farsight");
  if (testing::kSanitizedBuild) GTEST_SKIP() << "sanitized build: nothing is managed, so nothing faults";
  const nlohmann::json& p = r["prefetcher"];
  EXPECT_GT(p["events"].get<uint64_t>(), 1000u) << p.dump();
  EXPECT_GT(p["future_map_bytes"].get<uint64_t>(), 0u);
  EXPECT_LT(p["future_map_fraction"].get<double>(), 0.02) << p.dump();
  EXPECT_GT(r["prefetch_issued"].get<uint64_t>(), 0u) << r.dump(2);
}

// With --prefetch-install stage the prefetched pages wait unmapped, so their
// reads reach the policy as hits; the program's answer is unchanged.
TEST(FarsightRun, StagedPrefetchesAreSeenAndChangeNothingElse) {
  testing::TempDir dir;
  testing::Outcome native = RunToEnd({BuildPath("tests/page_walk"), "16"}, 120s);
  ASSERT_EQ(native.status, 0) << native.err;
  for (const char* install : {"map", "stage"}) {
    std::string report = dir.file(std::string(install) + ".json");
    testing::Outcome run = RunToEnd(PrescientRun({"--quiet", "--local", "30%", "--prefetch", "farsight", "--model", testing::TestModelPath(),
                                                  "--prefetch-install", install, "--report", report},
                                                 {BuildPath("tests/page_walk"), "16"}),
                                    300s);
    ASSERT_EQ(run.status, 0) << install << ": " << run.err;
    EXPECT_EQ(run.out, native.out) << install;
    nlohmann::json r = testing::ReadReport(report);
    EXPECT_EQ(r["prefetch_install"], install);
    if (testing::kSanitizedBuild) continue;
    if (std::string(install) == "map") {
      EXPECT_EQ(r["prefetch_staged"].get<uint64_t>(), 0u);
    } else {
      EXPECT_GT(r["prefetch_staged"].get<uint64_t>(), 0u) << r.dump(2);
      EXPECT_GT(r["prefetch_used"].get<uint64_t>(), 0u) << r.dump(2);
    }
    // Every swap-in and every hit seen reaches the model as one event (a
    // few hits may land after the last decision).
    const double seen = static_cast<double>(r["demand_faults"].get<uint64_t>() - r["zero_fills"].get<uint64_t>() + r["prefetch_used"].get<uint64_t>());
    EXPECT_NEAR(r["prefetcher"]["events"].get<double>(), seen, seen * 0.01) << install;
  }
  testing::Outcome bad = RunToEnd(PrescientRun({"--prefetch-install", "lazy"}, {BuildPath("tests/page_walk"), "1"}), 60s);
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.err.find("--prefetch-install lazy is not a mode"), std::string::npos) << bad.err;
  EXPECT_EQ(bad.out, "") << "the program must not have run";
}

TEST(FarsightRun, AMissingOrDamagedModelIsRefusedBeforeTheProgramStarts) {
  testing::TempDir dir;
  testing::Outcome no_model = RunToEnd(PrescientRun({"--prefetch", "farsight"}, {BuildPath("tests/page_walk"), "1"}), 60s);
  EXPECT_EQ(no_model.status, 2);
  EXPECT_NE(no_model.err.find("needs --model"), std::string::npos) << no_model.err;
  EXPECT_EQ(no_model.out, "") << "the program must not have run";

  std::ifstream in(testing::TestModelPath(), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  std::string cut = dir.file("cut.model");
  std::ofstream(cut, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  testing::Outcome truncated = RunToEnd(PrescientRun({"--prefetch", "farsight", "--model", cut}, {BuildPath("tests/page_walk"), "1"}), 60s);
  EXPECT_EQ(truncated.status, 2);
  EXPECT_NE(truncated.err.find(cut), std::string::npos) << truncated.err;
  EXPECT_EQ(truncated.out, "");

  testing::Outcome stray = RunToEnd(PrescientRun({"--model", testing::TestModelPath()}, {BuildPath("tests/page_walk"), "1"}), 60s);
  EXPECT_EQ(stray.status, 2);
  EXPECT_NE(stray.err.find("only used with --prefetch farsight"), std::string::npos) << stray.err;
}

}  // namespace
}  // namespace prescient
