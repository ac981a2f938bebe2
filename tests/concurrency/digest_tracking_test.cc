// DirtyTracking::kDigest (D109): a clean page that left dirty last time is
// mapped writable, so writes to it take no fault, and eviction tells whether
// it was written by a digest. These tests race writers against eviction and
// count which pages went back to the backend.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include "prescient/region.h"

namespace prescient {
namespace {

std::unique_ptr<Region> MakeRegion(FaultPath path, size_t local_bytes) {
  RegionOptions options;
  options.reserve_bytes = size_t{1} << 30;
  options.local_bytes = local_bytes;
  options.fault_path = path;
  options.dirty_tracking = DirtyTracking::kDigest;
  Status st;
  auto region = Region::Create(options, MakeInProcessStore(LinkModel{}), &st);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return region;
}

// evict_all() can miss a page the fault thread has mapped (and so woken its
// faulter) but not yet queued for eviction; such a page is queued a moment later.
void EvictEverything(Region& region) {
  for (int attempt = 0; attempt < 1000; ++attempt) {
    ASSERT_TRUE(region.evict_all().ok());
    if (region.stats().resident_pages == 0) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  FAIL() << region.stats().resident_pages << " pages stay resident";
}

uint64_t* Word(std::byte* base, uint64_t page, size_t offset) { return reinterpret_cast<uint64_t*>(base + page * kPageSize + offset); }

class DigestTracking : public ::testing::TestWithParam<FaultPath> {};

// Each writer reads a page (after its first round installing it clean, and
// writable, as it left dirty) and then writes it, with no fault, while another thread evicts everything over and
// over: a write that lands before the evictor protects the page must be
// written back, and one after it must wait and land on the refetched page.
// A lost write shows as a page that reads one round behind.
TEST_P(DigestTracking, WritesRacingEvictionAreNeverLost) {
  auto region = MakeRegion(GetParam(), 4 << 20);
  ASSERT_NE(region, nullptr);
  std::byte* base = region->base();
  constexpr int kWriters = 3;
  constexpr uint64_t kPagesPerWriter = 32;
  constexpr uint64_t kRounds = 300;
  std::atomic<int> writers_left{kWriters};
  std::atomic<uint64_t> sweeps_started{0};
  std::atomic<uint64_t> lost{0};
  std::vector<std::thread> writers;
  for (int t = 0; t < kWriters; ++t) {
    writers.emplace_back([&, t] {
      for (uint64_t round = 1; round <= kRounds; ++round) {
        const uint64_t sweep = sweeps_started.load();
        for (uint64_t i = 0; i < kPagesPerWriter; ++i) {
          const uint64_t page = static_cast<uint64_t>(t) * kPagesPerWriter + i;
          // Both ends of the page, so a write-back of half a page would show.
          if (*Word(base, page, 0) != round - 1 || *Word(base, page, kPageSize - 8) != round - 1) lost.fetch_add(1);
          *Word(base, page, 0) = round;
          *Word(base, page, kPageSize - 8) = round;
        }
        // At least one sweep starts during each round, so writes race it.
        while (sweeps_started.load() == sweep) std::this_thread::yield();
      }
      writers_left.fetch_sub(1);
    });
  }
  uint64_t sweeps = 0;
  while (writers_left.load() > 0) {
    sweeps_started.fetch_add(1);
    ASSERT_TRUE(region->evict_all().ok());
    ++sweeps;
  }
  for (auto& w : writers) w.join();
  EXPECT_EQ(lost.load(), 0u) << "a page read a round behind its last write";
  for (uint64_t page = 0; page < kWriters * kPagesPerWriter; ++page) {
    ASSERT_EQ(*Word(base, page, 0), kRounds) << "page " << page;
    ASSERT_EQ(*Word(base, page, kPageSize - 8), kRounds) << "page " << page;
  }
  RegionStats s = region->stats();
  EXPECT_EQ(s.dirty_tracking, DirtyTracking::kDigest);
  // First touches have no history, and a page evicted between its read and
  // its write leaves clean: those are write-protected. Most writes are not.
  EXPECT_LT(s.write_protect_faults, kRounds * kWriters * kPagesPerWriter / 4);
  EXPECT_GT(s.digest_mismatches, 0u) << "pages read clean, then written, must be found by their digest (" << sweeps << " sweeps)";
  EXPECT_GT(s.pages_evicted, 0u);
}

// A page that left dirty comes back writable and goes without write-back
// unless its contents changed (a write that puts back what was there is no
// write); a page that left clean comes back write-protected, and its first
// write is a fault.
TEST_P(DigestTracking, PagesThatLeftDirtyComeBackWritableAndAreWrittenBackOnlyIfChanged) {
  auto region = MakeRegion(GetParam(), 4 << 20);
  ASSERT_NE(region, nullptr);
  std::byte* base = region->base();
  constexpr uint64_t kPages = 64;
  auto in = [&] {
    for (uint64_t p = 0; p < kPages; ++p) ASSERT_EQ(base[p * kPageSize + 8], static_cast<std::byte>(p + 1)) << "page " << p;
  };
  for (uint64_t p = 0; p < kPages; ++p) std::memset(base + p * kPageSize, static_cast<int>(p + 1), kPageSize);
  EvictEverything(*region);
  RegionStats s = region->stats();
  EXPECT_EQ(s.pages_written_back, kPages) << "first touches that were written are dirty";

  // All left dirty: back writable. Ten are changed, ten written with the
  // bytes they held, the rest only read.
  in();
  for (uint64_t p = 0; p < 10; ++p) base[p * kPageSize + 7] = std::byte{0};
  for (uint64_t p = 10; p < 20; ++p) base[p * kPageSize + 7] = static_cast<std::byte>(p + 1);
  EvictEverything(*region);
  s = region->stats();
  EXPECT_EQ(s.write_protect_faults, 0u);
  EXPECT_EQ(s.digest_mismatches, 10u);
  EXPECT_EQ(s.pages_written_back, kPages + 10);

  // Only the ten changed pages left dirty: they alone come back writable.
  in();
  for (uint64_t p = 0; p < kPages; ++p) base[p * kPageSize + 9] = std::byte{0xee};
  EvictEverything(*region);
  s = region->stats();
  EXPECT_EQ(s.write_protect_faults, kPages - 10);
  EXPECT_EQ(s.digest_mismatches, 20u);
  EXPECT_EQ(s.pages_written_back, 2 * kPages + 10);
  for (uint64_t p = 0; p < kPages; ++p) {
    ASSERT_EQ(base[p * kPageSize + 7], p < 10 ? std::byte{0} : static_cast<std::byte>(p + 1)) << "page " << p;
    ASSERT_EQ(base[p * kPageSize + 9], std::byte{0xee}) << "page " << p;
  }
}

// A system call that writes into a clean page mapped writable must find it
// pinned at once, not wait for a write-protect fault that never comes (the
// signal path pins a buffer before the kernel writes it, Region::pin).
TEST(DigestTrackingSignalPath, PinningACleanWritablePageForWriteReturns) {
  auto region = MakeRegion(FaultPath::kSignal, 4 << 20);
  ASSERT_NE(region, nullptr);
  if (region->fault_path() != FaultPath::kSignal) GTEST_SKIP() << "this kernel has no userfaultfd SIGBUS mode";
  std::byte* base = region->base();
  constexpr uint64_t kPages = 16;
  std::memset(base, 0x5a, kPages * kPageSize);
  EvictEverything(*region);  // they leave dirty, so they come back writable
  for (uint64_t p = 0; p < kPages; ++p) ASSERT_EQ(base[p * kPageSize], std::byte{0x5a});
  std::atomic<bool> pinned{false};
  size_t got = 0;
  std::thread pinner([&] {
    got = region->pin(base, kPages * kPageSize, /*for_write=*/true);
    pinned = true;
  });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!pinned && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (!pinned) {
    ADD_FAILURE() << "pin() of clean, writable pages for a write never returned";
    std::_Exit(1);  // the pinner spins for ever: end here rather than hang the suite
  }
  pinner.join();
  EXPECT_EQ(got, kPages * kPageSize);
  std::memset(base, 0x6b, kPages * kPageSize);  // as the kernel's write would
  region->unpin(base, kPages * kPageSize);
  EvictEverything(*region);
  for (uint64_t p = 0; p < kPages; ++p) ASSERT_EQ(base[p * kPageSize + 99], std::byte{0x6b}) << "page " << p;
  EXPECT_EQ(region->stats().digest_mismatches, kPages);
}

INSTANTIATE_TEST_SUITE_P(Paths, DigestTracking, ::testing::Values(FaultPath::kThread, FaultPath::kSignal),
                         [](const auto& info) { return std::string(FaultPathName(info.param)); });

}  // namespace
}  // namespace prescient
