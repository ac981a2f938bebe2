// The simulator on synthetic traces whose answers are known.
#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "prescient/prefetcher.h"
#include "prescient/trace.h"
#include "sim/simulator.h"
#include "testutil/testutil.h"
#include "testutil/test_model.h"

namespace prescient {
namespace {

AccessStream StreamOf(const std::vector<TraceRecord>& records, const nlohmann::json& trailer = nlohmann::json::object()) {
  testing::TempDir dir;
  Status st;
  auto w = TraceWriter::Create(dir.file("t.trace"), {{"kind", kAccessKind}}, &st);
  for (const auto& r : records) EXPECT_TRUE(w->Append(r).ok());
  EXPECT_TRUE(w->Finish(trailer).ok());
  AccessStream stream;
  st = LoadAccessStream(dir.file("t.trace"), &stream);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return stream;
}

TraceRecord Access(uint64_t page, uint64_t compute_ns = 2000, bool write = false) {
  TraceRecord r;
  r.page = page;
  r.compute_ns = compute_ns;
  r.write = write;
  return r;
}

// `passes` sequential sweeps over `pages` pages (8 MiB at 2048).
std::vector<TraceRecord> Sweeps(uint64_t pages, int passes) {
  std::vector<TraceRecord> out;
  for (int pass = 0; pass < passes; ++pass) {
    for (uint64_t p = 0; p < pages; ++p) out.push_back(Access(1000 + p, 2000, pass == 0));
  }
  return out;
}

SimResult SimRun(const AccessStream& s, const std::string& policy, double local) {
  SimConfig c;
  c.policy = policy;
  c.local_fraction = local;
  if (policy == "farsight") c.prefetch.model_path = testing::TestModelPath();
  SimResult r;
  Status st = Simulate(s, c, &r);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return r;
}

TEST(Simulator, FifoThrashesOnASweepLargerThanTheBudget) {
  const uint64_t pages = 2048;
  auto stream = StreamOf(Sweeps(pages, 3));
  SimResult r = SimRun(stream, "none", 0.5);
  EXPECT_EQ(r.zero_fills, pages);
  EXPECT_EQ(r.demand_faults, 3 * pages) << "with FIFO every access of a sweep over twice the budget misses";
  EXPECT_EQ(r.pages_read, 2 * pages);
  EXPECT_EQ(r.pages_written, pages) << "the first pass dirtied every page; each is written back once, later passes only read";
  EXPECT_LT(r.normalized_perf, 1.0);
}

TEST(Simulator, EvictsWholeBatchesAsTheRuntimesEvictorDoes) {
  // One write sweep: nothing is reused and no queue entry goes stale, so
  // every page evicted is written back once, and Evictor::Choose takes
  // the oldest 32 entries at a time (D61). Evicting one page at a time would
  // stop at the margin's exact edge instead.
  std::vector<TraceRecord> sweep;
  for (uint64_t p = 0; p < 1000; ++p) sweep.push_back(Access(1000 + p, 2000, /*write=*/true));
  SimResult r = SimRun(StreamOf(sweep), "none", 0.5);
  ASSERT_EQ(r.final_budget_pages, 500u);
  EXPECT_EQ(r.pages_written % 32, 0u) << r.pages_written;
  const uint64_t resident = 1000 - r.pages_written;
  EXPECT_LE(resident + 32, 500u) << "the last wake-up evicts down to a margin (32 pages) below the budget";
  EXPECT_GT(resident + 32 + 32, 500u) << "but by less than one batch more";
}

TEST(Simulator, EverythingFitsAtFullLocalMemory) {
  auto stream = StreamOf(Sweeps(2048, 3));
  SimResult r = SimRun(stream, "none", 1.0);
  EXPECT_EQ(r.demand_faults, 2048u) << "only first touches";
  EXPECT_EQ(r.pages_read, 0u);
  EXPECT_NEAR(r.normalized_perf, 1.0, 1e-9);
}

TEST(Simulator, ReadaheadBeatsDemandPagingOnSweepsAndTheOracleBoundsEveryPolicy) {
  auto stream = StreamOf(Sweeps(4096, 4));
  for (double local : {0.3, 0.5, 0.8}) {
    SimResult none = SimRun(stream, "none", local);
    SimResult readahead = SimRun(stream, "readahead", local);
    SimResult oracle = SimRun(stream, "oracle", local);
    EXPECT_GT(readahead.normalized_perf, none.normalized_perf) << local;
    EXPECT_LT(readahead.demand_faults, none.demand_faults) << local;
    EXPECT_GT(readahead.accuracy, 0.5) << local;
    std::stringstream names(PrefetcherNames());
    for (std::string policy; std::getline(names, policy, ',');) {
      SimResult r = SimRun(stream, policy, local);
      EXPECT_GE(oracle.normalized_perf, r.normalized_perf * 0.999) << policy << " at " << local;
    }
  }
}

// As the runtime: a prefetched page that left dirty comes back writable, so
// rewriting sweeps take no first-write faults on prefetched pages, and their
// pages are written back whether or not they are written again.
TEST(Simulator, PrefetchesOfPagesThatLeftDirtyComeBackWritable) {
  std::vector<TraceRecord> rewrites;
  for (int pass = 0; pass < 3; ++pass) {
    for (uint64_t p = 0; p < 4096; ++p) rewrites.push_back(Access(1000 + p, 2000, true));
  }
  auto stream = StreamOf(rewrites);
  auto run = [&](bool writable) {
    SimConfig c;
    c.policy = "readahead";
    c.local_fraction = 0.3;
    c.prefetch_writable_if_left_dirty = writable;
    SimResult r;
    EXPECT_TRUE(Simulate(stream, c, &r).ok());
    return r;
  };
  SimResult on = run(true), off = run(false);
  EXPECT_GT(off.prefetch_used, 4096u) << "readahead follows the sweeps";
  EXPECT_GE(off.first_write_faults, off.prefetch_used - off.prefetch_late) << "every prefetched page is written (a late one as it lands)";
  EXPECT_EQ(on.first_write_faults, 0u) << "demand faults here are writes, and prefetches come back writable";
  EXPECT_GT(on.normalized_perf, off.normalized_perf);
}

TEST(Simulator, OracleBoundsPoliciesOnRandomAccessToo) {
  std::mt19937_64 rng(3);
  std::vector<TraceRecord> records;
  for (int i = 0; i < 40000; ++i) records.push_back(Access(rng() % 3000, 1500, rng() % 4 == 0));
  auto stream = StreamOf(records);
  SimResult oracle = SimRun(stream, "oracle", 0.3);
  std::stringstream names(PrefetcherNames());
  for (std::string policy; std::getline(names, policy, ',');) {
    SimResult r = SimRun(stream, policy, 0.3);
    EXPECT_GE(oracle.normalized_perf, r.normalized_perf * 0.999) << policy;
    EXPECT_LE(oracle.demand_faults, r.demand_faults) << policy;
  }
}

TEST(Simulator, FreedPagesComeBackAsZeroFillsNotReads) {
  std::vector<TraceRecord> records = Sweeps(1024, 1);
  TraceRecord discard;
  discard.event = TraceEvent::kDiscard;
  discard.page = 1000;
  discard.count = 1024;
  records.push_back(discard);
  for (uint64_t p = 0; p < 1024; ++p) records.push_back(Access(1000 + p));
  SimResult r = SimRun(StreamOf(records), "none", 0.3);
  EXPECT_EQ(r.zero_fills, 2048u);
  EXPECT_EQ(r.pages_read, 0u);
}

TEST(Simulator, ComputeStampsAreScaledDownToTheProgramsUserTime) {
  std::vector<TraceRecord> records = Sweeps(1000, 1);  // 2 us stamped each: 2 ms
  AccessStream unscaled = StreamOf(records);
  EXPECT_EQ(unscaled.compute_scale, 1.0) << "no user time in the trailer: nothing to scale to";
  AccessStream scaled = StreamOf(records, {{"program_user_cpu_ns", 500'000}});
  EXPECT_DOUBLE_EQ(scaled.compute_scale, 0.25);
  EXPECT_EQ(scaled.records[10].compute_ns, 500u);
  double ratio = SimRun(scaled, "none", 1.0).local_ns / SimRun(unscaled, "none", 1.0).local_ns;
  EXPECT_LT(ratio, 0.6) << "the all-local time shrinks with the compute (each access also costs 100 ns)";
  AccessStream more = StreamOf(records, {{"program_user_cpu_ns", 9'000'000}});
  EXPECT_EQ(more.compute_scale, 1.0) << "stamps are never scaled up";
}

TEST(Simulator, UnknownPolicyAndBadCostModelAreRefusedByName) {
  auto stream = StreamOf(Sweeps(64, 1));
  SimConfig c;
  c.policy = "psychic";
  SimResult r;
  Status st = Simulate(stream, c, &r);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("psychic"), std::string::npos);

  testing::TempDir dir;
  std::ofstream(dir.file("cost.json")) << R"({"far_read_us": 5, "warp_factor": 9})";
  CostModel model;
  st = LoadCostModel(dir.file("cost.json"), &model);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("warp_factor"), std::string::npos) << st.message();
  std::ofstream(dir.file("cost2.json")) << R"({"far_read_us": 5})";
  EXPECT_TRUE(LoadCostModel(dir.file("cost2.json"), &model).ok());
  EXPECT_EQ(model.far_read_us, 5);
  EXPECT_EQ(model.link_gbps, 100) << "fields not named keep their defaults";
}

}  // namespace
}  // namespace prescient
