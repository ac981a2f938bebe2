// The runtime with its pages on real memory-node processes over loopback TCP:
// correctness at several budgets, sharding, and death of a node mid-run.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <thread>

#include "prescient/region.h"
#include "testutil/page_stress.h"
#include "testutil/testutil.h"

namespace prescient {
namespace {

using namespace std::chrono_literals;
using testing::Child;
using testing::Memnode;

constexpr uint64_t kPages = 8192;

void StressThrough(const std::string& memnodes, int local_pct, FaultPath path, DirtyTracking tracking) {
  Status st;
  auto backend = MakeBackend(memnodes, TcpOptions{}, LinkModel{}, &st);
  ASSERT_NE(backend, nullptr) << st.ToString();
  RegionOptions options;
  options.reserve_bytes = size_t{1} << 30;
  options.local_bytes = kPages * kPageSize * static_cast<uint64_t>(local_pct) / 100;
  options.fault_path = path;
  options.dirty_tracking = tracking;
  auto region = Region::Create(options, std::move(backend), &st);
  ASSERT_NE(region, nullptr) << st.ToString();
  testing::StressOptions stress;
  stress.pages = kPages;
  stress.ops_per_thread = 3000;
  auto result = testing::RunPageStress(*region, stress);
  EXPECT_EQ(result.mismatches, 0u) << result.ToString();
  RegionStats s = region->stats();
  EXPECT_GT(s.pages_evicted, 0u);
  EXPECT_GT(s.pages_written_back, 0u);
  EXPECT_GT(s.pages_fetched, 0u);
  EXPECT_GT(region->backend().stats().bytes_sent, 0u);
}

class RegionOverMemnode : public ::testing::TestWithParam<std::tuple<int, FaultPath, DirtyTracking>> {};

TEST_P(RegionOverMemnode, EveryByteSurvives) {
  Memnode node;
  StressThrough(node.endpoint(), std::get<0>(GetParam()), std::get<1>(GetParam()), std::get<2>(GetParam()));
}

TEST_P(RegionOverMemnode, EveryByteSurvivesShardedOverTwoNodes) {
  Memnode a, b;
  StressThrough(a.endpoint() + "," + b.endpoint(), std::get<0>(GetParam()), std::get<1>(GetParam()), std::get<2>(GetParam()));
}

INSTANTIATE_TEST_SUITE_P(Budgets, RegionOverMemnode,
                         ::testing::Combine(::testing::Values(10, 25, 50), ::testing::Values(FaultPath::kThread, FaultPath::kSignal),
                                            ::testing::Values(DirtyTracking::kFault, DirtyTracking::kDigest)),
                         [](const auto& info) {
                           return std::to_string(std::get<0>(info.param)) + "pct_" + FaultPathName(std::get<1>(info.param)) + "_" +
                                  DirtyTrackingName(std::get<2>(info.param));
                         });

TEST(RegionOverMemnode, NodeKilledMidRunEndsTheProgramWithItsName) {
  Memnode node;
  Child program({testing::BuildPath("tests/rt_region_stress"), "--memnode", node.endpoint(), "--local-bytes", "2097152", "--pages", "16384",
                 "--ops", "100000000"});
  std::this_thread::sleep_for(1500ms);
  ASSERT_TRUE(program.Running()) << program.Stderr();
  node.process().Kill(SIGKILL);
  auto killed_at = std::chrono::steady_clock::now();
  int status = program.Wait(5s);
  auto elapsed = std::chrono::steady_clock::now() - killed_at;
  ASSERT_NE(status, -1) << "still running 5 s after its memory node died";
  EXPECT_NE(status, 0);
  EXPECT_LT(elapsed, 5s);
  std::string err = program.Stderr();
  EXPECT_NE(err.find(node.endpoint()), std::string::npos) << "message should name the node: " << err;
  EXPECT_NE(err.find("far memory lost"), std::string::npos) << err;
}

TEST(RegionOverMemnode, UnreachableNodeFailsAtStartWithItsName) {
  Child program({testing::BuildPath("tests/rt_region_stress"), "--memnode", "127.0.0.1:1", "--ops", "10"});
  int status = program.Wait(10s);
  EXPECT_NE(status, 0);
  EXPECT_NE(status, -1);
  EXPECT_NE(program.Stderr().find("127.0.0.1:1"), std::string::npos) << program.Stderr();
}

}  // namespace
}  // namespace prescient
