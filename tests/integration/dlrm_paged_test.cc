// Issue 6, item 7: the DLRM's embedding tables in far memory through the
// runtime instead of in the pool. `prescient dlrm train --store dram` is run,
// unmodified, under `prescient run`, so its tables (and libtorch's tensors)
// are paged through userfaultfd; with one torch thread the model it trains
// must be the native run's to the last bit of its loss and AUC.
// bench/dlrm_paged.sh compares the two designs' speed.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "testutil/program_run.h"
#include "testutil/test_model.h"
#include "testutil/testutil.h"

namespace prescient {
namespace {

using namespace std::chrono_literals;
using testing::BuildPath;

std::vector<std::string> TrainOnDram() {
  return {BuildPath("prescient"), "dlrm", "train", "--store", "dram", "--small", "--batches", "10", "--seed", "5", "--hot", "4",
          "--checkpoint", "none", "--threads", "1", "--quiet", "--eval-samples", "2048"};
}

TEST(DlrmPaged, TablesPagedThroughTheRuntimeTrainTheSameModel) {
  testing::Outcome native = testing::RunToEnd(TrainOnDram(), 300s);
  ASSERT_EQ(native.status, 0) << native.err;
  const nlohmann::json want = testing::LastJsonLine(native.out);
  ASSERT_TRUE(want.is_object()) << native.out;
  for (const std::string policy : {"readahead", "farsight"}) {
    std::vector<std::string> flags = {"--quiet", "--local", "30%", "--prefetch", policy};
    if (policy == "farsight") flags.insert(flags.end(), {"--model", testing::TestModelPath()});
    testing::ManagedRun run = testing::RunManaged(flags, TrainOnDram(), 600s);
    ASSERT_EQ(run.outcome.status, 0) << policy << ": " << run.outcome.err;
    const nlohmann::json got = testing::LastJsonLine(run.outcome.out);
    ASSERT_TRUE(got.is_object()) << run.outcome.out;
    EXPECT_EQ(got["batches_done"], 10);
    // Bit for bit: paging moves bytes, it must not change one.
    EXPECT_EQ(got["loss"].get<double>(), want["loss"].get<double>()) << policy;
    EXPECT_EQ(got["auc"].get<double>(), want["auc"].get<double>()) << policy;
    ASSERT_TRUE(run.report.is_object()) << policy;
    if (testing::kSanitizedBuild) continue;  // nothing is managed there (D18)
    EXPECT_GT(run.report["pages_fetched"].get<uint64_t>(), 0u) << run.report.dump(2);
    EXPECT_GT(run.report["prefetch_issued"].get<uint64_t>(), 0u) << run.report.dump(2);
  }
}

}  // namespace
}  // namespace prescient
