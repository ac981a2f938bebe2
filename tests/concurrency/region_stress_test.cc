// The runtime under many faulting threads, with the embedded store: every
// byte must survive eviction, write-back and refetch, at several budgets,
// on both fault paths and under every fault-loop mode and prefetcher.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <optional>

#include "prescient/region.h"
#include "runtime/region_core.h"
#include "testutil/page_stress.h"

namespace prescient {
namespace {

using testing::RunPageStress;
using testing::StressOptions;

constexpr uint64_t kPages = 8192;  // a 32 MiB working set

std::unique_ptr<Region> MakeRegion(RegionOptions options, LinkModel link = {}) {
  options.reserve_bytes = size_t{1} << 30;
  Status st;
  auto region = Region::Create(options, MakeInProcessStore(link), &st);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return region;
}

// Runs the page stress on a new region and expects every byte to survive.
// Returns the region's stats, or nothing if it could not be made.
std::optional<RegionStats> StressNewRegion(const RegionOptions& options, const StressOptions& stress) {
  auto region = MakeRegion(options);
  if (!region) return std::nullopt;
  auto result = RunPageStress(*region, stress);
  EXPECT_EQ(result.mismatches, 0u) << result.ToString();
  return region->stats();
}

struct Case {
  int local_pct;
  const char* loop;
  const char* prefetch;
  const char* install = "map";
  const char* path = "thread";
  const char* tracking = "fault";
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.local_pct << "% " << c.path << " " << c.loop << " " << c.prefetch << " " << c.install << " " << c.tracking;
}

class RegionStress : public ::testing::TestWithParam<Case> {};

TEST_P(RegionStress, EveryByteSurvivesEvictionAndWriteBack) {
  const Case& c = GetParam();
  RegionOptions options;
  options.local_bytes = kPages * kPageSize * static_cast<uint64_t>(c.local_pct) / 100;
  ASSERT_TRUE(ParseFaultLoopMode(c.loop, &options.loop));
  options.prefetch = c.prefetch;
  ASSERT_TRUE(ParsePrefetchInstall(c.install, &options.prefetch_install));
  ASSERT_TRUE(ParseFaultPath(c.path, &options.fault_path));
  ASSERT_TRUE(ParseDirtyTracking(c.tracking, &options.dirty_tracking));
  StressOptions stress;
  stress.pages = kPages;
  std::optional<RegionStats> stats = StressNewRegion(options, stress);
  ASSERT_TRUE(stats);

  const RegionStats& s = *stats;
  EXPECT_EQ(FaultPathName(s.fault_path), std::string(c.path));
  EXPECT_GT(s.demand_faults, 0u);
  EXPECT_GT(s.pages_evicted, 0u);
  EXPECT_GT(s.pages_written_back, 0u);
  EXPECT_GT(s.pages_fetched, 0u);
  if (options.dirty_tracking == DirtyTracking::kFault) {
    EXPECT_GT(s.write_protect_faults, 0u) << "reads then writes must be caught as first writes";
  } else {
    // Both ways at once: pages that left clean come back write-protected,
    // pages that left dirty come back writable and are checked by digest.
    EXPECT_GT(s.write_protect_faults, 0u) << "reads then writes of pages that left clean must fault";
    EXPECT_GT(s.digest_mismatches, 0u) << "reads then writes of pages that left dirty must be caught at eviction";
  }
  // The budget holds, up to one fault batch in flight.
  EXPECT_LE(s.peak_resident_pages, s.budget_pages + 64) << "budget " << s.budget_pages;
  EXPECT_GT(s.fault_latency.count, 0u);
  EXPECT_GT(s.fault_latency.p99_us, 0.0);
  if (options.prefetch_install == PrefetchInstall::kStage) {
    EXPECT_GT(s.prefetch_staged, 0u) << "staged pages must race with the faults, the evictor and the checks";
  }
}

INSTANTIATE_TEST_SUITE_P(Budgets, RegionStress,
                         ::testing::Values(Case{10, "hybrid", "none"}, Case{25, "hybrid", "none"}, Case{50, "hybrid", "none"},
                                           Case{25, "poll", "none"}, Case{25, "spin", "none"}, Case{25, "hybrid", "readahead"},
                                           Case{10, "poll", "readahead"}, Case{25, "hybrid", "readahead", "stage"},
                                           Case{10, "poll", "readahead", "stage"}, Case{10, "hybrid", "none", "map", "signal"},
                                           Case{25, "hybrid", "none", "map", "signal"}, Case{50, "hybrid", "none", "map", "signal"},
                                           Case{25, "hybrid", "readahead", "map", "signal"}, Case{10, "hybrid", "readahead", "stage", "signal"},
                                           Case{10, "hybrid", "none", "map", "thread", "digest"}, Case{25, "hybrid", "none", "map", "thread", "digest"},
                                           Case{50, "hybrid", "none", "map", "thread", "digest"}, Case{10, "hybrid", "none", "map", "signal", "digest"},
                                           Case{25, "hybrid", "none", "map", "signal", "digest"}, Case{50, "hybrid", "none", "map", "signal", "digest"},
                                           Case{25, "hybrid", "readahead", "map", "signal", "digest"},
                                           Case{10, "poll", "readahead", "stage", "thread", "digest"}),
                         [](const auto& info) {
                           const std::string path = info.param.path;
                           const std::string tracking = info.param.tracking;
                           return std::to_string(info.param.local_pct) + "pct_" + (path == "signal" ? "signal" : info.param.loop) + "_" +
                                  info.param.prefetch + (std::string(info.param.install) == "map" ? "" : std::string("_") + info.param.install) +
                                  (tracking == "fault" ? "" : "_" + tracking);
                         });

TEST(Region, SequentialScanWithReadaheadPrefetchesAndUsesPages) {
  RegionOptions options;
  options.local_bytes = 2 << 20;
  options.prefetch = "readahead";
  auto region = MakeRegion(options);
  ASSERT_NE(region, nullptr);
  const uint64_t pages = 4096;
  for (uint64_t p = 0; p < pages; ++p) region->base()[p * kPageSize] = std::byte(p & 0xff);
  for (int pass = 0; pass < 2; ++pass) {
    for (uint64_t p = 0; p < pages; ++p) ASSERT_EQ(region->base()[p * kPageSize], std::byte(p & 0xff)) << "page " << p;
  }
  RegionStats s = region->stats();
  EXPECT_GT(s.prefetch_installed, 0u);
  EXPECT_GT(s.prefetch_used, 0u);
}

// Scans 4096 pages twice at a 2 MiB budget under readahead, checking every
// page, and returns the stats.
RegionStats ScanTwice(PrefetchInstall install, uint32_t stage_slots = 16384) {
  RegionOptions options;
  options.local_bytes = 2 << 20;
  options.prefetch = "readahead";
  options.prefetch_install = install;
  options.stage_slots = stage_slots;
  auto region = MakeRegion(options);
  if (!region) return {};
  const uint64_t pages = 4096;
  for (uint64_t p = 0; p < pages; ++p) region->base()[p * kPageSize + p % 4000] = std::byte(p & 0xff);
  for (int pass = 0; pass < 2; ++pass) {
    for (uint64_t p = 0; p < pages; ++p) {
      EXPECT_EQ(region->base()[p * kPageSize + p % 4000], std::byte(p & 0xff)) << "page " << p << " pass " << pass;
      if (::testing::Test::HasFailure()) return region->stats();
    }
  }
  return region->stats();
}

TEST(Region, StagedPrefetchesAreSeenWhenRead) {
  RegionStats mapped = ScanTwice(PrefetchInstall::kMap);
  RegionStats staged = ScanTwice(PrefetchInstall::kStage);
  EXPECT_EQ(mapped.prefetch_staged, 0u);
  EXPECT_GT(staged.prefetch_staged, 0u);
  // A read of a mapped prefetch is invisible (only those caught in flight
  // count); a read of a staged one faults, and a scan uses nearly every one.
  EXPECT_GT(staged.prefetch_used, staged.prefetch_staged * 9 / 10) << staged.prefetch_used << " of " << staged.prefetch_staged;
  // Hits are not demand faults: each of the 3 x 4096 touches counts once at
  // most. (A bound on faults alone would time the prefetcher against the scan,
  // and a loaded machine starves the prefetcher.)
  EXPECT_LE(staged.demand_faults + staged.prefetch_used, 3 * 4096u);
  EXPECT_LE(staged.peak_resident_pages, staged.budget_pages + 64);
  // The stage buffers add at most an eighth of the budget (or 64 pages).
  EXPECT_GT(staged.stage_peak_pages, 0u);
  EXPECT_LE(staged.stage_peak_pages, std::max<uint64_t>(64, staged.budget_pages / 8));
}

// Writes 4096 pages, then reads and rewrites each twice at a 2 MiB budget
// under readahead, checking every page, and returns the stats.
RegionStats RewriteTwice(bool writable_if_left_dirty) {
  RegionOptions options;
  options.local_bytes = 2 << 20;
  options.prefetch = "readahead";
  options.prefetch_writable_if_left_dirty = writable_if_left_dirty;
  options.dirty_tracking = DirtyTracking::kFault;  // the option is kFault's (D101)
  auto region = MakeRegion(options);
  if (!region) return {};
  const uint64_t pages = 4096;
  auto at = [&](uint64_t p) -> std::byte& { return region->base()[p * kPageSize + p % 4000]; };
  for (uint64_t p = 0; p < pages; ++p) at(p) = std::byte(p & 0xff);
  for (int pass = 1; pass <= 2; ++pass) {
    for (uint64_t p = 0; p < pages; ++p) {
      EXPECT_EQ(at(p), std::byte((p + pass - 1) & 0xff)) << "page " << p << " pass " << pass;
      if (::testing::Test::HasFailure()) return region->stats();
      at(p) = std::byte((p + pass) & 0xff);
    }
  }
  for (uint64_t p = 0; p < pages; ++p) EXPECT_EQ(at(p), std::byte((p + 2) & 0xff)) << "page " << p << " at the end";
  return region->stats();
}

// Every page left dirty, so a mapped prefetch installs it writable: its write
// raises no write-protect fault, and the write still reaches far memory (the
// final check reads pages evicted since).
TEST(Region, PrefetchesOfPagesThatLeftDirtyAreMappedWritable) {
  RegionStats on = RewriteTwice(true);
  RegionStats off = RewriteTwice(false);
  EXPECT_EQ(off.prefetch_writable, 0u);
  EXPECT_GT(on.prefetch_writable, 0u);
  EXPECT_LE(on.prefetch_writable, on.prefetch_installed);
  // With it on, a write-protect fault can only follow a demand read from far
  // memory (the scan reads a page before writing it); prefetched pages take
  // none. (The first pass's zero-fills are writes, installed dirty.)
  EXPECT_LE(on.write_protect_faults, on.demand_faults - on.zero_fills) << on.prefetch_writable << " writable prefetches";
}

TEST(Region, FullStageFallsBackToMapping) {
  RegionStats s = ScanTwice(PrefetchInstall::kStage, /*stage_slots=*/4);
  EXPECT_GT(s.prefetch_staged, 0u);
  EXPECT_LT(s.prefetch_staged, s.prefetch_installed) << "with 4 slots most prefetches must be mapped";
}

TEST(Region, StagedPagesCanBeDiscardedAndEvicted) {
  RegionOptions options;
  options.local_bytes = 1 << 20;
  options.prefetch = "readahead";
  options.prefetch_install = PrefetchInstall::kStage;
  auto region = MakeRegion(options);
  ASSERT_NE(region, nullptr);
  const size_t bytes = 8 << 20;
  std::memset(region->base(), 0xab, bytes);
  // A scan of the first 3/8 leaves readahead's window staged ahead of it,
  // inside the half that is then freed; evict_all takes any staged page left.
  for (size_t i = 0; i < bytes * 3 / 8; i += kPageSize) ASSERT_EQ(region->base()[i], std::byte{0xab});
  ASSERT_GT(region->stats().prefetch_staged, 0u);
  ASSERT_TRUE(region->discard(region->base(), bytes / 2).ok());
  ASSERT_TRUE(region->evict_all().ok());
  EXPECT_EQ(region->stats().resident_pages, 0u);
  for (size_t i = 0; i < bytes / 2; i += 1024) ASSERT_EQ(region->base()[i], std::byte{0}) << "offset " << i;
  for (size_t i = bytes / 2; i < bytes; i += 1024) ASSERT_EQ(region->base()[i], std::byte{0xab}) << "offset " << i;
}

TEST(Region, BudgetFollowsFootprintFraction) {
  RegionOptions options;
  options.local_fraction = 0.25;
  StressOptions stress;
  stress.pages = kPages;
  stress.threads = 2;
  stress.ops_per_thread = 3000;
  std::optional<RegionStats> s = StressNewRegion(options, stress);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->budget_pages, s->peak_footprint_pages / 4);
  EXPECT_GT(s->pages_evicted, 0u);
}

TEST(Region, NothingIsEvictedWhileTheFootprintFits) {
  RegionOptions options;
  options.local_fraction = 1.0;
  StressOptions stress;
  stress.pages = 4096;
  stress.threads = 2;
  stress.ops_per_thread = 4000;
  std::optional<RegionStats> s = StressNewRegion(options, stress);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->pages_evicted, 0u) << "at 100% local nothing needs to leave";
  EXPECT_EQ(s->pages_fetched, 0u);
}

// D106: at 100 % local a first touch maps the Empty pages after it to the
// zero page in one call; their writes are the kernel's copy-on-write faults,
// which the runtime never sees, so they must be kept as dirty.
TEST(Region, FirstTouchesFillZeroPagesAheadOnlyWhileTheBudgetCannotBind) {
  for (FaultPath path : {FaultPath::kThread, FaultPath::kSignal}) {
    SCOPED_TRACE(FaultPathName(path));
    RegionOptions options;
    options.local_fraction = 1.0;
    options.fault_path = path;
    auto region = MakeRegion(options);
    ASSERT_NE(region, nullptr);
    std::byte* base = region->base();
    const uint64_t pages = 4 * RegionCore::kZeroFillAhead;
    for (uint64_t p = 0; p < pages; ++p) ASSERT_EQ(base[p * kPageSize + 17], std::byte{0});
    for (uint64_t p = 0; p < pages; ++p) base[p * kPageSize + 17] = static_cast<std::byte>(p + 1);
    RegionStats s = region->stats();
    EXPECT_EQ(s.demand_faults, 4u) << "one fault per run of " << RegionCore::kZeroFillAhead + 1 << " pages";
    EXPECT_EQ(s.write_protect_faults, 0u);
    EXPECT_GE(s.zero_filled_ahead, pages - 4);
    // Written behind the runtime's back, yet nothing may be lost on eviction.
    ASSERT_TRUE(region->evict_all().ok());
    EXPECT_GE(region->stats().pages_written_back, pages);
    for (uint64_t p = 0; p < pages; ++p) ASSERT_EQ(base[p * kPageSize + 17], static_cast<std::byte>(p + 1)) << "page " << p;
  }
  // A budget that can bind takes no page nobody asked for.
  RegionOptions bounded;
  bounded.local_bytes = 8 << 20;
  auto region = MakeRegion(bounded);
  ASSERT_NE(region, nullptr);
  for (uint64_t p = 0; p < 256; ++p) region->base()[p * kPageSize] = std::byte{1};
  EXPECT_EQ(region->stats().zero_filled_ahead, 0u);
  EXPECT_EQ(region->stats().demand_faults, 256u);
}

TEST(Region, DiscardedPagesReadAsZeroAndLeaveTheFootprint) {
  RegionOptions options;
  options.local_bytes = 1 << 20;
  auto region = MakeRegion(options);
  ASSERT_NE(region, nullptr);
  const size_t bytes = 8 << 20;  // 8x the budget, so most of it is remote
  std::memset(region->base(), 0xab, bytes);
  ASSERT_TRUE(region->discard(region->base(), bytes).ok());
  EXPECT_EQ(region->stats().footprint_pages, 0u);
  EXPECT_EQ(region->stats().resident_pages, 0u);
  for (size_t i = 0; i < bytes; i += 1024) ASSERT_EQ(region->base()[i], std::byte{0}) << "offset " << i;
}

TEST(Region, PartialPagesAreNotDiscarded) {
  RegionOptions options;
  options.local_bytes = 1 << 20;
  auto region = MakeRegion(options);
  ASSERT_NE(region, nullptr);
  std::memset(region->base(), 0x5a, 3 * kPageSize);
  ASSERT_TRUE(region->discard(region->base() + 100, 2 * kPageSize).ok());  // covers only page 1 whole
  EXPECT_EQ(region->base()[0], std::byte{0x5a});
  EXPECT_EQ(region->base()[kPageSize], std::byte{0});
  EXPECT_EQ(region->base()[2 * kPageSize + 200], std::byte{0x5a});
}

TEST(Region, RefusesABudgetBelowTheMinimum) {
  RegionOptions options;
  options.local_bytes = 64 << 10;
  Status st;
  auto region = Region::Create(options, MakeInProcessStore({}), &st);
  EXPECT_EQ(region, nullptr);
  EXPECT_EQ(st.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(st.message().find("minimum"), std::string::npos) << st.message();
}

TEST(Region, RefusesAnUnknownPrefetcher) {
  RegionOptions options;
  options.prefetch = "clairvoyant";
  Status st;
  auto region = Region::Create(options, MakeInProcessStore({}), &st);
  EXPECT_EQ(region, nullptr);
  EXPECT_NE(st.message().find("readahead"), std::string::npos) << "should list the known policies: " << st.message();
}

}  // namespace
}  // namespace prescient
