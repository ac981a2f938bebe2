#include "runtime/page_allocator.h"

#include <sys/mman.h>

#include <atomic>
#include <cstring>
#include <mutex>

#include <gtest/gtest.h>

namespace prescient {
namespace {

constexpr size_t kPage = kPageSize;

// A plain anonymous mapping standing in for the region, and a discard
// callback that drops pages the way Region::discard does (they read as zero
// afterwards) and records what it was asked.
class Arena {
 public:
  explicit Arena(size_t size) : size_(size) {
    void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    EXPECT_NE(p, MAP_FAILED);
    base_ = static_cast<std::byte*>(p);
  }
  ~Arena() { munmap(base_, size_); }

  std::byte* base() const { return base_; }
  size_t size() const { return size_; }

  PageAllocator::DiscardFn Discard() {
    return [this](std::byte* addr, size_t len) {
      EXPECT_EQ(madvise(addr, len, MADV_DONTNEED), 0);
      discarded_bytes_ += len;
      discards_ += 1;
      std::lock_guard<std::mutex> lock(mu_);
      last_ = {addr, len};
      return !fail_discards_.load();
    };
  }

  uint64_t discards() const { return discards_; }
  uint64_t discarded_bytes() const { return discarded_bytes_; }
  std::pair<std::byte*, size_t> last() {
    std::lock_guard<std::mutex> lock(mu_);
    return last_;
  }
  void FailDiscards(bool fail) { fail_discards_ = fail; }

 private:
  std::byte* base_ = nullptr;
  size_t size_;
  std::atomic<uint64_t> discards_{0}, discarded_bytes_{0};
  std::atomic<bool> fail_discards_{false};
  std::mutex mu_;
  std::pair<std::byte*, size_t> last_{nullptr, 0};
};

std::byte* B(void* p) { return static_cast<std::byte*>(p); }

TEST(PageAllocatorTest, RunBytesRoundsUpToWholePages) {
  EXPECT_EQ(PageAllocator::RunBytes(0), kPage);
  EXPECT_EQ(PageAllocator::RunBytes(1), kPage);
  EXPECT_EQ(PageAllocator::RunBytes(kPage), kPage);
  EXPECT_EQ(PageAllocator::RunBytes(kPage + 1), 2 * kPage);
  EXPECT_EQ(PageAllocator::RunBytes(32 * 1024), 32 * 1024u);
}

TEST(PageAllocatorTest, FreshAllocationsAreBumpAllocatedAndDisjoint) {
  Arena arena(64 * kPage);
  PageAllocator pa(arena.base(), arena.size(), arena.Discard());
  void* a = pa.allocate(1);
  void* b = pa.allocate(3 * kPage);
  void* c = pa.allocate(kPage + 1);
  EXPECT_EQ(B(a), arena.base());
  EXPECT_EQ(B(b), arena.base() + kPage);
  EXPECT_EQ(B(c), arena.base() + 4 * kPage);
  EXPECT_EQ(pa.usable_size(a), kPage);
  EXPECT_EQ(pa.usable_size(b), 3 * kPage);
  EXPECT_EQ(pa.usable_size(c), 2 * kPage);
  EXPECT_TRUE(pa.owns(a));
  EXPECT_TRUE(pa.owns(arena.base() + arena.size() - 1));
  EXPECT_FALSE(pa.owns(arena.base() + arena.size()));
  EXPECT_FALSE(pa.owns(arena.base() - 1));
  PageAllocatorStats s = pa.stats();
  EXPECT_EQ(s.live_bytes, 6 * kPage);
  EXPECT_EQ(s.live_runs, 3u);
  EXPECT_EQ(s.top_bytes, 6 * kPage);
  EXPECT_EQ(s.allocations, 3u);
}

TEST(PageAllocatorTest, ReleaseDiscardsTheRunAndReusesIt) {
  Arena arena(64 * kPage);
  PageAllocator pa(arena.base(), arena.size(), arena.Discard());
  void* a = pa.allocate(4 * kPage);
  void* guard = pa.allocate(kPage);  // keeps `a` from merging into the top
  std::memset(a, 0xab, 4 * kPage);
  EXPECT_EQ(pa.release(a), 4 * kPage);
  EXPECT_EQ(arena.discards(), 1u);
  EXPECT_EQ(arena.last().first, B(a));
  EXPECT_EQ(arena.last().second, 4 * kPage);
  EXPECT_EQ(pa.usable_size(a), 0u);

  void* again = pa.allocate(4 * kPage);
  EXPECT_EQ(again, a);
  // The calloc guarantee: reused pages read as zero without a memset.
  for (size_t i = 0; i < 4 * kPage; ++i) ASSERT_EQ(static_cast<unsigned char>(B(again)[i]), 0) << i;
  pa.release(guard);
  pa.release(again);
  EXPECT_EQ(pa.stats().live_bytes, 0u);
}

TEST(PageAllocatorTest, RejectsPointersItDidNotHandOut) {
  Arena arena(16 * kPage);
  PageAllocator pa(arena.base(), arena.size(), arena.Discard());
  void* a = pa.allocate(2 * kPage);
  EXPECT_EQ(pa.release(B(a) + kPage), 0u);   // interior page
  EXPECT_EQ(pa.release(B(a) + 8), 0u);       // not page-aligned
  EXPECT_EQ(pa.release(arena.base() + 8 * kPage), 0u);  // never allocated
  int outside = 0;
  EXPECT_EQ(pa.release(&outside), 0u);
  EXPECT_EQ(pa.usable_size(B(a) + kPage), 0u);
  EXPECT_EQ(pa.release(a), 2 * kPage);
  EXPECT_EQ(pa.release(a), 0u);  // double free
  EXPECT_EQ(arena.discards(), 1u);
}

TEST(PageAllocatorTest, BestFitPicksTheSmallestRunThatFits) {
  Arena arena(128 * kPage);
  PageAllocator pa(arena.base(), arena.size(), arena.Discard());
  // Free runs of 10, 3 and 5 pages, each fenced by a live page.
  void* r10 = pa.allocate(10 * kPage);
  pa.allocate(kPage);
  void* r3 = pa.allocate(3 * kPage);
  pa.allocate(kPage);
  void* r5 = pa.allocate(5 * kPage);
  pa.allocate(kPage);
  pa.release(r10);
  pa.release(r3);
  pa.release(r5);
  EXPECT_EQ(pa.stats().free_runs, 3u);

  EXPECT_EQ(pa.allocate(4 * kPage), r5);
  EXPECT_EQ(pa.allocate(2 * kPage), r3);
  EXPECT_EQ(pa.allocate(9 * kPage), r10);
  // The leftovers (1 page each) are still free.
  PageAllocatorStats s = pa.stats();
  EXPECT_EQ(s.free_runs, 3u);
  EXPECT_EQ(s.free_bytes, 3 * kPage);
}

TEST(PageAllocatorTest, AdjacentFreeRunsCoalesce) {
  Arena arena(64 * kPage);
  PageAllocator pa(arena.base(), arena.size(), arena.Discard());
  void* a = pa.allocate(2 * kPage);
  void* b = pa.allocate(3 * kPage);
  void* c = pa.allocate(4 * kPage);
  void* fence = pa.allocate(kPage);
  pa.release(a);
  pa.release(c);
  EXPECT_EQ(pa.stats().free_runs, 2u);
  pa.release(b);  // merges with both neighbours
  PageAllocatorStats s = pa.stats();
  EXPECT_EQ(s.free_runs, 1u);
  EXPECT_EQ(s.free_bytes, 9 * kPage);
  EXPECT_EQ(pa.allocate(9 * kPage), a);
  (void)fence;
}

TEST(PageAllocatorTest, ARunThatReachesTheTopReturnsToBumpSpace) {
  Arena arena(64 * kPage);
  PageAllocator pa(arena.base(), arena.size(), arena.Discard());
  void* a = pa.allocate(2 * kPage);
  void* b = pa.allocate(3 * kPage);
  void* c = pa.allocate(4 * kPage);
  pa.release(b);
  EXPECT_EQ(pa.stats().top_bytes, 9 * kPage);
  pa.release(c);  // c and the free b below it both go back to the top
  PageAllocatorStats s = pa.stats();
  EXPECT_EQ(s.top_bytes, 2 * kPage);
  EXPECT_EQ(s.free_runs, 0u);
  pa.release(a);
  s = pa.stats();
  EXPECT_EQ(s.top_bytes, 0u);
  EXPECT_EQ(s.free_bytes, 0u);
  EXPECT_EQ(s.live_bytes, 0u);
  EXPECT_EQ(s.peak_live_bytes, 9 * kPage);
}

TEST(PageAllocatorTest, HonoursLargeAlignments) {
  const size_t kReserve = size_t{8} << 30;  // untouched, so it costs nothing
  Arena arena(kReserve);
  // Start the range one page past an aligned address, so alignment must be
  // of the address and not of the offset.
  PageAllocator pa(arena.base() + kPage, kReserve - kPage, arena.Discard());
  for (size_t align : {kPage, size_t{8} << 10, size_t{64} << 10, size_t{2} << 20, size_t{1} << 30}) {
    void* p = pa.allocate(5 * kPage, align);
    ASSERT_NE(p, nullptr) << align;
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % align, 0u) << align;
    EXPECT_EQ(pa.usable_size(p), 5 * kPage);
  }
  // Alignments below a page are satisfied by page alignment.
  void* small = pa.allocate(kPage, 16);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(small) % kPage, 0u);
  // Not a power of two: refused.
  EXPECT_EQ(pa.allocate(kPage, 3 * kPage), nullptr);
}

TEST(PageAllocatorTest, AlignedAllocationReusesAFreeRunAndKeepsTheRemainders) {
  Arena arena(size_t{64} << 20);
  PageAllocator pa(arena.base(), arena.size(), arena.Discard());
  void* big = pa.allocate(size_t{4} << 20);   // [0, 4 MiB)
  void* fence = pa.allocate(kPage);
  pa.release(big);
  const size_t align = size_t{1} << 20;
  void* p = pa.allocate(8 * kPage, align);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % align, 0u);
  EXPECT_GE(B(p), arena.base());
  EXPECT_LT(B(p), arena.base() + (size_t{4} << 20));  // came from the free run
  PageAllocatorStats s = pa.stats();
  EXPECT_EQ(s.free_bytes + 8 * kPage, size_t{4} << 20);
  pa.release(p);
  EXPECT_EQ(pa.stats().free_runs, 1u);  // everything merged back
  (void)fence;
}

TEST(PageAllocatorTest, GrowsInPlaceAtTheTop) {
  Arena arena(64 * kPage);
  PageAllocator pa(arena.base(), arena.size(), arena.Discard());
  void* a = pa.allocate(2 * kPage);
  EXPECT_TRUE(pa.try_grow_in_place(a, 2 * kPage - 5));  // already fits
  EXPECT_TRUE(pa.try_grow_in_place(a, 10 * kPage));
  EXPECT_EQ(pa.usable_size(a), 10 * kPage);
  EXPECT_EQ(pa.stats().top_bytes, 10 * kPage);
  EXPECT_FALSE(pa.try_grow_in_place(a, 65 * kPage));  // past the range
  EXPECT_EQ(pa.allocate(kPage), B(a) + 10 * kPage);
  EXPECT_EQ(pa.stats().grown_in_place, 1u);
}

TEST(PageAllocatorTest, GrowsInPlaceIntoAFollowingFreeRun) {
  Arena arena(64 * kPage);
  PageAllocator pa(arena.base(), arena.size(), arena.Discard());
  void* a = pa.allocate(2 * kPage);
  void* b = pa.allocate(5 * kPage);
  void* c = pa.allocate(kPage);
  EXPECT_FALSE(pa.try_grow_in_place(a, 3 * kPage));  // b is live
  pa.release(b);
  EXPECT_TRUE(pa.try_grow_in_place(a, 4 * kPage));
  EXPECT_EQ(pa.usable_size(a), 4 * kPage);
  PageAllocatorStats s = pa.stats();
  EXPECT_EQ(s.free_bytes, 3 * kPage);
  EXPECT_FALSE(pa.try_grow_in_place(a, 8 * kPage));  // 3 free pages, then c
  EXPECT_TRUE(pa.try_grow_in_place(a, 7 * kPage));   // takes the rest exactly
  EXPECT_EQ(pa.stats().free_runs, 0u);
  EXPECT_EQ(B(c), B(a) + 7 * kPage);
  EXPECT_FALSE(pa.try_grow_in_place(B(a) + kPage, 8 * kPage));  // not a run start
}

TEST(PageAllocatorTest, ShrinkInPlaceReleasesTheTail) {
  Arena arena(64 * kPage);
  PageAllocator pa(arena.base(), arena.size(), arena.Discard());
  void* a = pa.allocate(8 * kPage);
  void* fence = pa.allocate(kPage);
  std::memset(a, 0x5a, 8 * kPage);
  EXPECT_EQ(pa.shrink_in_place(a, 8 * kPage), 0u);
  EXPECT_EQ(pa.shrink_in_place(a, 3 * kPage - 1), 5 * kPage);
  EXPECT_EQ(pa.usable_size(a), 3 * kPage);
  EXPECT_EQ(arena.last().first, B(a) + 3 * kPage);
  EXPECT_EQ(arena.last().second, 5 * kPage);
  EXPECT_EQ(static_cast<unsigned char>(B(a)[3 * kPage - 1]), 0x5au);  // the kept part is intact
  void* tail = pa.allocate(5 * kPage);
  EXPECT_EQ(tail, B(a) + 3 * kPage);
  EXPECT_EQ(static_cast<unsigned char>(B(tail)[0]), 0u);
  (void)fence;
}

TEST(PageAllocatorTest, ReturnsNullWhenTheRangeIsFull) {
  Arena arena(8 * kPage);
  PageAllocator pa(arena.base(), arena.size(), arena.Discard());
  EXPECT_NE(pa.allocate(6 * kPage), nullptr);
  EXPECT_EQ(pa.allocate(3 * kPage), nullptr);
  EXPECT_NE(pa.allocate(2 * kPage), nullptr);
  EXPECT_EQ(pa.allocate(1), nullptr);
  EXPECT_EQ(pa.allocate(size_t{1} << 40), nullptr);
  EXPECT_EQ(pa.stats().failed_allocations, 3u);
}

TEST(PageAllocatorTest, ARunWhoseDiscardFailedIsNeverReused) {
  Arena arena(16 * kPage);
  PageAllocator pa(arena.base(), arena.size(), arena.Discard());
  void* a = pa.allocate(2 * kPage);
  void* fence = pa.allocate(kPage);
  arena.FailDiscards(true);
  EXPECT_EQ(pa.release(a), 2 * kPage);
  arena.FailDiscards(false);
  EXPECT_EQ(pa.stats().quarantined_bytes, 2 * kPage);
  void* b = pa.allocate(2 * kPage);
  EXPECT_NE(b, a);
  (void)fence;
}

}  // namespace
}  // namespace prescient
