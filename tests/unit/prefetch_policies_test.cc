// Pins each prefetch policy's decisions on hand-made fault sequences, and
// checks the promises every policy makes: never the faulting page, never a
// page past the region, never more than max_pages, same input → same output.
#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "prescient/prefetcher.h"
#include "testutil/test_model.h"

namespace prescient {
namespace {

using Pages = std::vector<uint64_t>;

std::unique_ptr<Prefetcher> Make(const std::string& name, uint64_t region_pages = uint64_t{1} << 20, uint32_t max_pages = 8) {
  PrefetchOptions options;
  options.region_pages = region_pages;
  options.max_pages = max_pages;
  if (name == "farsight") options.model_path = testing::TestModelPath();
  Status st;
  auto p = MakePrefetcher(name, options, &st);
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_NE(p, nullptr) << name;
  return p;
}

Pages Fault(Prefetcher* p, uint64_t page, uint32_t thread = 0) {
  Pages out;
  p->on_fault({page, 0, thread, false}, &out);
  return out;
}

void Hit(Prefetcher* p, std::initializer_list<uint64_t> pages) {
  Pages ignored;
  for (uint64_t page : pages) p->on_prefetch_hit(page, &ignored);
}
void Hit(Prefetcher* p, const Pages& pages) {
  Pages ignored;
  for (uint64_t page : pages) p->on_prefetch_hit(page, &ignored);
}
void Hits(Prefetcher* p, int n) {
  Pages ignored;
  for (int i = 0; i < n; ++i) p->on_prefetch_hit(0, &ignored);
}

// fault + k*delta for k = 1..n.
Pages Along(uint64_t fault, int64_t delta, int n) {
  Pages pages;
  for (int k = 1; k <= n; ++k) pages.push_back(fault + static_cast<uint64_t>(k * delta));
  return pages;
}

// Feeds faults at `start` + the running sum of `deltas`; returns the last
// fault's candidates and its page.
Pages FaultByDeltas(Prefetcher* p, uint64_t start, const std::vector<int64_t>& deltas, uint64_t* last) {
  uint64_t page = start;
  Pages out = Fault(p, page);
  for (int64_t d : deltas) {
    page += static_cast<uint64_t>(d);
    out = Fault(p, page);
  }
  *last = page;
  return out;
}

// ---------------------------------------------------------------- registry

TEST(PrefetchRegistryTest, NamesAreTheFixedInterface) {
  std::vector<std::string> names = PrefetcherNameList();
  for (const char* want : {"none", "readahead", "vma-readahead", "leap", "stride"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), want), names.end()) << want;
  }
  std::string joined;
  for (const std::string& n : names) joined += (joined.empty() ? "" : ",") + n;
  EXPECT_EQ(PrefetcherNames(), joined);
  for (const std::string& n : names) EXPECT_EQ(Make(n)->name(), n);
}

TEST(PrefetchRegistryTest, UnknownNameListsTheKnownOnes) {
  Status st;
  auto p = MakePrefetcher("majority", PrefetchOptions{}, &st);
  EXPECT_EQ(p, nullptr);
  EXPECT_EQ(st.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(st.message().find("majority"), std::string::npos) << st.message();
  for (const std::string& n : PrefetcherNameList()) EXPECT_NE(st.message().find(n), std::string::npos) << st.message();
}

// --------------------------------------------------------------- readahead

TEST(ReadaheadTest, LoneFaultGetsNoReadahead) {
  auto p = Make("readahead");
  EXPECT_EQ(Fault(p.get(), 100), Pages{});
  EXPECT_EQ(Fault(p.get(), 500), Pages{});
  EXPECT_EQ(Fault(p.get(), 42), Pages{});
}

TEST(ReadaheadTest, AdjacentFaultWithoutHitsGetsAlignedPair) {
  auto p = Make("readahead");
  EXPECT_EQ(Fault(p.get(), 100), Pages{});
  EXPECT_EQ(Fault(p.get(), 101), (Pages{100}));  // block [100, 102)
  EXPECT_EQ(Fault(p.get(), 103), Pages{});       // not adjacent; floor 2/2 = 1
  EXPECT_EQ(Fault(p.get(), 201), Pages{});
  EXPECT_EQ(Fault(p.get(), 200), (Pages{201}));  // adjacent downwards too
}

TEST(ReadaheadTest, WindowGrowsWithHits) {
  auto p = Make("readahead");
  EXPECT_EQ(Fault(p.get(), 1000), Pages{});
  Hits(p.get(), 1);  // 1 + 2 = 3 → 4
  EXPECT_EQ(Fault(p.get(), 2001), (Pages{2000, 2002, 2003}));
  Hits(p.get(), 3);  // 3 + 2 = 5 → 8
  EXPECT_EQ(Fault(p.get(), 3005), (Pages{3000, 3001, 3002, 3003, 3004, 3006, 3007}));
  Hits(p.get(), 20);  // 22 → 32, capped at 8
  EXPECT_EQ(Fault(p.get(), 4000), (Pages{4001, 4002, 4003, 4004, 4005, 4006, 4007}));
}

TEST(ReadaheadTest, WindowShrinksByHalvesWithoutHits) {
  auto p = Make("readahead");
  Fault(p.get(), 1000);
  Hits(p.get(), 6);
  EXPECT_EQ(Fault(p.get(), 4000).size(), 7u);                  // window 8
  EXPECT_EQ(Fault(p.get(), 5000), (Pages{5001, 5002, 5003}));  // 4
  EXPECT_EQ(Fault(p.get(), 6002), (Pages{6003}));              // 2
  EXPECT_EQ(Fault(p.get(), 7000), Pages{});                    // 1
}

// swapin_nr_pages() remembers the offset only when a fault had no hits, so
// the adjacency test compares with the last fault that stood alone. Visible
// only when the cap (here 2) keeps the "half the last window" floor at 1.
TEST(ReadaheadTest, PreviousOffsetMovesOnlyOnFaultsWithoutHits) {
  auto p = Make("readahead", uint64_t{1} << 20, /*max_pages=*/2);
  EXPECT_EQ(Fault(p.get(), 100), Pages{});
  Hits(p.get(), 1);
  EXPECT_EQ(Fault(p.get(), 501), (Pages{500}));  // window 2; offset stays 100
  EXPECT_EQ(Fault(p.get(), 101), (Pages{100}));  // adjacent to 100, not to 501
}

TEST(ReadaheadTest, CapIsLargestPowerOfTwoAndClusterStopsAtRegionEnd) {
  auto p = Make("readahead", uint64_t{1} << 20, /*max_pages=*/12);
  Fault(p.get(), 10);
  Hits(p.get(), 30);
  EXPECT_EQ(Fault(p.get(), 4000).size(), 7u);  // window 8, not 12 or 16

  auto q = Make("readahead", /*region_pages=*/1003);
  Fault(q.get(), 10);
  Hits(q.get(), 1);
  EXPECT_EQ(Fault(q.get(), 1001), (Pages{1000, 1002}));  // block [1000, 1004) ∩ region

  auto none = Make("readahead", uint64_t{1} << 20, /*max_pages=*/1);
  Fault(none.get(), 10);
  Hits(none.get(), 5);
  EXPECT_EQ(Fault(none.get(), 11), Pages{});
}

// ----------------------------------------------------------- vma-readahead

TEST(VmaReadaheadTest, WindowGoesForwardOnAscendingFaults) {
  auto p = Make("vma-readahead");
  EXPECT_EQ(Fault(p.get(), 100), Pages{});        // no history: window 1
  EXPECT_EQ(Fault(p.get(), 101), (Pages{102}));   // adjacent: window 2, forward
  Hit(p.get(), {102});
  EXPECT_EQ(Fault(p.get(), 103), (Pages{104, 105, 106}));  // 1 hit → 4
  Hit(p.get(), {104, 105, 106});
  EXPECT_EQ(Fault(p.get(), 107), (Pages{108, 109, 110, 111, 112, 113, 114}));  // 3 hits → 8
}

TEST(VmaReadaheadTest, WindowGoesBackwardOnDescendingFaults) {
  auto p = Make("vma-readahead");
  EXPECT_EQ(Fault(p.get(), 300), Pages{});
  EXPECT_EQ(Fault(p.get(), 299), (Pages{298}));
  Hit(p.get(), {298});
  EXPECT_EQ(Fault(p.get(), 297), (Pages{296, 295, 294}));  // nearest first
  Hit(p.get(), {296, 295, 294});
  EXPECT_EQ(Fault(p.get(), 293), (Pages{292, 291, 290, 289, 288, 287, 286}));
}

// Only a step of exactly one page gives a direction; a longer step up or
// down centres the window, as in swap_vma_ra_win().
TEST(VmaReadaheadTest, WindowIsCentredWithoutAOnePageStep) {
  auto p = Make("vma-readahead");
  Fault(p.get(), 1000);
  Hit(p.get(), {5000});  // one hit, above
  EXPECT_EQ(Fault(p.get(), 3000), (Pages{2999, 3001, 3002}));  // (4-1)/2 = 1 page before
  Hit(p.get(), {6000});  // one hit, below
  EXPECT_EQ(Fault(p.get(), 7000), (Pages{6999, 7001, 7002}));
}

TEST(VmaReadaheadTest, WindowNeverLeavesTheRegion) {
  auto top = Make("vma-readahead", /*region_pages=*/1000);
  Fault(top.get(), 996);
  EXPECT_EQ(Fault(top.get(), 997), (Pages{998}));
  Hit(top.get(), {998});
  EXPECT_EQ(Fault(top.get(), 999), Pages{});  // [999, 1003) ∩ [0, 1000) is the fault alone

  auto bottom = Make("vma-readahead", 1000);
  Fault(bottom.get(), 3);
  EXPECT_EQ(Fault(bottom.get(), 2), (Pages{1}));
  Hit(bottom.get(), {1});
  EXPECT_EQ(Fault(bottom.get(), 0), Pages{});  // [-3, 1) cut at 0, not shifted

  auto centred = Make("vma-readahead", 1000);
  Fault(centred.get(), 500);
  Hit(centred.get(), {50, 60, 70});
  EXPECT_EQ(Fault(centred.get(), 2), (Pages{0, 1, 3, 4, 5, 6}));  // [-1, 7) cut at 0
}

TEST(VmaReadaheadTest, WindowStopsAtPageTableBoundary) {
  auto p = Make("vma-readahead");
  Fault(p.get(), 508);
  EXPECT_EQ(Fault(p.get(), 509), (Pages{510}));
  Hit(p.get(), {510});
  EXPECT_EQ(Fault(p.get(), 511), Pages{});  // [511, 515) cut at the 2 MiB boundary, 512
}

// -------------------------------------------------------------------- leap

TEST(LeapTest, FindsMajorityDeltaAmidRandomDeltas) {
  auto p = Make("leap");
  uint64_t f = 0;
  // Newest 8 deltas: five +3 (62.5 %) among three random ones.
  Pages out = FaultByDeltas(p.get(), 1000, {+3, +77, +3, -500, +3, +3, +1234, +3}, &f);
  EXPECT_EQ(f, 1826u);
  ASSERT_EQ(out, (Pages{f + 3}));  // no hits yet: one page along the trend
  // As the prefetched pages are used the window doubles, along the trend.
  Hit(p.get(), out);
  f += 6;
  out = Fault(p.get(), f);
  ASSERT_EQ(out, Along(f, 3, 2));
  Hit(p.get(), out);
  f = out.back() + 3;
  out = Fault(p.get(), f);
  ASSERT_EQ(out, Along(f, 3, 4));
  Hit(p.get(), out);
  f = out.back() + 3;
  out = Fault(p.get(), f);
  ASSERT_EQ(out, Along(f, 3, 8));
  Hit(p.get(), out);
  f = out.back() + 3;
  EXPECT_EQ(Fault(p.get(), f), Along(f, 3, 8));  // capped at max_pages
}

TEST(LeapTest, WithoutHitsOnlyAFaultAlongTheTrendPrefetches) {
  auto p = Make("leap");
  uint64_t f = 0;
  Pages out = FaultByDeltas(p.get(), 1000, {+3, +3, +3, +3, +3, +3}, &f);
  EXPECT_EQ(out, (Pages{f + 3}));
  EXPECT_EQ(Fault(p.get(), f + 100), Pages{});  // +3 is still the trend, but this fault is off it
  EXPECT_EQ(Fault(p.get(), f + 103), (Pages{f + 106}));
}

TEST(LeapTest, FourOfEightIsNoMajority) {
  auto p = Make("leap");
  uint64_t f = 0;
  Pages out = FaultByDeltas(p.get(), 1000, {+3, +77, +3, -500, +3, +91, +1234, +3}, &f);
  EXPECT_EQ(out, Pages{});  // 4 of 8 is not more than half; no hits → suspended
}

TEST(LeapTest, WidensTheWindowWhenTheNewestEightHaveNoMajority) {
  auto p = Make("leap");
  uint64_t f = 0;
  // Older 8: six +5. Newest 8: three +5. Of 16: nine > 8.
  Pages out = FaultByDeltas(p.get(), 100000, {+5, +5, +91, +5, +5, -300, +5, +5, /**/ +47, +5, -123, +211, +5, -77, +999, +5}, &f);
  EXPECT_EQ(out, (Pages{f + 5}));
}

TEST(LeapTest, DetectsNegativeDeltaAndStopsAtPageZero) {
  auto p = Make("leap");
  uint64_t f = 0;
  Pages out = FaultByDeltas(p.get(), 100, {-7, -7, -7, -7, -7}, &f);
  EXPECT_EQ(f, 65u);
  EXPECT_EQ(out, (Pages{58}));
  Hit(p.get(), out);
  EXPECT_EQ(Fault(p.get(), 51), (Pages{44, 37}));
  Hit(p.get(), {44, 37});
  EXPECT_EQ(Fault(p.get(), 30), (Pages{23, 16, 9, 2}));
  Hit(p.get(), {23, 16});
  EXPECT_EQ(Fault(p.get(), 9), (Pages{2}));  // window 4, but -5 is not a page
}

TEST(LeapTest, NoMajorityFallsBackToAlignedClusterAndShrinks) {
  auto p = Make("leap");
  for (uint64_t page : {5000, 123, 9876, 4444, 20000}) EXPECT_EQ(Fault(p.get(), page), Pages{});
  Hit(p.get(), {777, 31337});                                        // two hits → window 4
  EXPECT_EQ(Fault(p.get(), 1234), (Pages{1232, 1233, 1235}));        // block [1232, 1236)
  EXPECT_EQ(Fault(p.get(), 50000), (Pages{50001}));                  // no hits: half, 2
  EXPECT_EQ(Fault(p.get(), 70001), Pages{});                         // 1: a block of one
  EXPECT_EQ(Fault(p.get(), 90000), Pages{});                         // 0: suspended
}

TEST(LeapTest, SequentialScanWithHitsKeepsTrendOne) {
  // The history holds hits as well as faults, so a scan whose prefetches are
  // all used still reads as +1, not as +(window + 1).
  auto p = Make("leap");
  uint64_t f = 0;
  Pages out = FaultByDeltas(p.get(), 0, {1, 1, 1, 1, 1}, &f);
  for (int i = 0; i < 6; ++i) {
    ASSERT_FALSE(out.empty()) << "step " << i;
    ASSERT_EQ(out, Along(f, 1, static_cast<int>(out.size())));
    Hit(p.get(), out);
    f = out.back() + 1;
    out = Fault(p.get(), f);
  }
  EXPECT_EQ(out, Along(f, 1, 8));
}

// ------------------------------------------------------------------ stride

TEST(StrideTest, FindsPerThreadStridesInAnInterleaving) {
  auto p = Make("stride");
  EXPECT_EQ(Fault(p.get(), 1000, 1), Pages{});
  EXPECT_EQ(Fault(p.get(), 5000, 2), Pages{});
  EXPECT_EQ(Fault(p.get(), 1002, 1), Pages{});  // one +2: a candidate
  EXPECT_EQ(Fault(p.get(), 4995, 2), Pages{});
  EXPECT_EQ(Fault(p.get(), 1004, 1), Along(1004, +2, 8));  // +2 twice: confirmed
  EXPECT_EQ(Fault(p.get(), 4990, 2), Along(4990, -5, 8));
  EXPECT_EQ(Fault(p.get(), 1006, 1), Along(1006, +2, 8));

  // One global history sees no stride in the same sequence.
  auto global = Make("stride");
  for (uint64_t page : {1000, 5000, 1002, 4995, 1004, 4990, 1006}) EXPECT_EQ(Fault(global.get(), page), Pages{});
}

TEST(StrideTest, BreakResetsAndTwoEqualDeltasReconfirm) {
  auto p = Make("stride");
  Fault(p.get(), 1000, 7);
  Fault(p.get(), 1002, 7);
  ASSERT_EQ(Fault(p.get(), 1004, 7).size(), 8u);
  EXPECT_EQ(Fault(p.get(), 1100, 7), Pages{});  // break
  EXPECT_EQ(Fault(p.get(), 1102, 7), Pages{});  // +2 once after +96
  EXPECT_EQ(Fault(p.get(), 1104, 7), Along(1104, +2, 8));
  EXPECT_EQ(Fault(p.get(), 1104, 7), Pages{});  // a delta of 0 is a break too
}

TEST(StrideTest, HitsOnPrefetchedPagesAdvanceTheStream) {
  auto p = Make("stride");
  Fault(p.get(), 0, 1);
  Fault(p.get(), 3, 1);
  Pages out = Fault(p.get(), 6, 1);
  ASSERT_EQ(out, Along(6, 3, 8));  // 9..30
  Hit(p.get(), out);
  EXPECT_EQ(Fault(p.get(), 33, 1), Along(33, 3, 8));  // continues, not a +27 break
}

TEST(StrideTest, HitsAdvanceOnlyTheStreamTheyLieOn) {
  auto p = Make("stride");
  for (uint64_t page : {0, 4, 8}) Fault(p.get(), page, 1);  // +4: 12..40 ahead
  for (uint64_t page : {1, 4, 7}) Fault(p.get(), page, 2);  // +3: 10..31 ahead
  Hit(p.get(), {13});  // on thread 2's run only: 13 - 8 is not a multiple of 4
  EXPECT_EQ(Fault(p.get(), 12, 1), Along(12, 4, 8));
  EXPECT_EQ(Fault(p.get(), 16, 2), Along(16, 3, 8));
}

TEST(StrideTest, StopsAtRegionEnds) {
  auto p = Make("stride", /*region_pages=*/100);
  Fault(p.get(), 80);
  Fault(p.get(), 85);
  EXPECT_EQ(Fault(p.get(), 90), (Pages{95}));
  Fault(p.get(), 20, 3);
  Fault(p.get(), 14, 3);
  EXPECT_EQ(Fault(p.get(), 8, 3), (Pages{2}));
}

// ----------------------------------------------------- every policy at once

// A stand-in for the simulator: each access is a demand fault unless the
// page was prefetched earlier and not yet touched, in which case it is a hit.
// Returns every fault's candidates, in order.
struct Replay {
  std::vector<Pages> outputs;
  int faults = 0;
  int hits = 0;
};

struct Access {
  uint64_t page;
  uint32_t thread;
};

// Checks one batch of candidates against the policy contract and marks them
// prefetched.
void Admit(Pages& out, uint64_t page, uint64_t region_pages, uint32_t max_pages, Replay* r, std::set<uint64_t>* prefetched) {
  EXPECT_LE(out.size(), max_pages) << "at page " << page;
  std::set<uint64_t> seen;
  for (uint64_t c : out) {
    EXPECT_NE(c, page) << "the touched page itself was returned";
    EXPECT_LT(c, region_pages) << "at page " << page;
    EXPECT_TRUE(seen.insert(c).second) << c << " returned twice";
    prefetched->insert(c);
  }
  r->outputs.push_back(std::move(out));
}

Replay ReplayAccesses(Prefetcher* p, const std::vector<Access>& accesses, uint64_t region_pages, uint32_t max_pages) {
  Replay r;
  std::set<uint64_t> prefetched;
  for (const Access& a : accesses) {
    if (prefetched.erase(a.page)) {
      ++r.hits;
      Pages more;
      p->on_prefetch_hit(a.page, &more);
      if (!more.empty()) Admit(more, a.page, region_pages, max_pages, &r, &prefetched);
      continue;
    }
    ++r.faults;
    Pages out;
    p->on_fault({a.page, 0, a.thread, false}, &out);
    Admit(out, a.page, region_pages, max_pages, &r, &prefetched);
  }
  return r;
}

// Sequential runs up and down, strided runs, random jumps and re-faults, by
// three threads, hugging both ends of the region. Uses the engine's raw
// output only, so the sequence is the same on every platform.
std::vector<Access> MixedAccesses(uint64_t region_pages, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Access> out;
  while (out.size() < 20000) {
    uint32_t thread = static_cast<uint32_t>(rng() % 3);
    uint64_t page = rng() % 4 == 0 ? (rng() % 2 ? 0 : region_pages - 1) : rng() % region_pages;
    int64_t step = static_cast<int64_t>(rng() % 9) - 4;  // -4..4, 0 = the same page again
    int len = 1 + static_cast<int>(rng() % 40);
    for (int i = 0; i < len; ++i) {
      out.push_back({page, thread});
      int64_t next = static_cast<int64_t>(page) + step;
      if (next < 0 || next >= static_cast<int64_t>(region_pages)) break;
      page = static_cast<uint64_t>(next);
    }
  }
  return out;
}

TEST(PrefetchPolicyContractTest, NeverFaultPageNeverPastRegionNeverOverMax) {
  for (const std::string& name : PrefetcherNameList()) {
    for (uint64_t region : {uint64_t{37}, uint64_t{1000}, uint64_t{5000}}) {
      for (uint32_t max_pages : {0u, 1u, 3u, 8u, 16u}) {
        SCOPED_TRACE(name + " region " + std::to_string(region) + " max " + std::to_string(max_pages));
        auto p = Make(name, region, max_pages);
        Replay r = ReplayAccesses(p.get(), MixedAccesses(region, region * 31 + max_pages), region, max_pages);
        if (name != "none" && max_pages >= 3) {
          EXPECT_GT(r.hits, 0) << "vacuous: the policy never prefetched a used page";
        }
      }
    }
  }
}

TEST(PrefetchPolicyContractTest, EveryPolicyIsDeterministic) {
  std::vector<Access> accesses = MixedAccesses(5000, 7);
  for (const std::string& name : PrefetcherNameList()) {
    SCOPED_TRACE(name);
    auto a = Make(name, 5000);
    auto b = Make(name, 5000);
    Replay ra = ReplayAccesses(a.get(), accesses, 5000, 8);
    Replay rb = ReplayAccesses(b.get(), accesses, 5000, 8);
    EXPECT_EQ(ra.outputs, rb.outputs);
    EXPECT_EQ(ra.hits, rb.hits);
  }
}

TEST(PrefetchPolicyContractTest, EveryPrefetchingPolicyCutsFaultsOnASequentialScan) {
  std::vector<Access> scan;
  for (uint64_t p = 0; p < 4096; ++p) scan.push_back({p, 1});
  for (const std::string& name : PrefetcherNameList()) {
    SCOPED_TRACE(name);
    auto p = Make(name, 4096);
    Replay r = ReplayAccesses(p.get(), scan, 4096, 8);
    if (name == "none") {
      EXPECT_EQ(r.faults, 4096);
    } else {
      EXPECT_LT(r.faults, 4096 / 4) << r.faults << " faults";
    }
  }
}

}  // namespace
}  // namespace prescient
