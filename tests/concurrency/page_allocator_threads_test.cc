// The page allocator under many threads; run under ThreadSanitizer in CI.
#include <sys/mman.h>

#include <atomic>
#include <random>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "runtime/page_allocator.h"

namespace prescient {
namespace {

constexpr size_t kPage = kPageSize;

// Threads allocate, fill, verify and free runs of random size and alignment.
// Overlapping runs would corrupt another thread's pattern; a run not zeroed
// before reuse would show a stale pattern on first read.
TEST(PageAllocatorThreadsTest, ManyThreadsNeverShareOrSeeStalePages) {
  const size_t kSize = size_t{1} << 30;
  void* range = mmap(nullptr, kSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  ASSERT_NE(range, MAP_FAILED);
  std::atomic<uint64_t> discards{0};
  // Drops the pages the way Region::discard does: they read as zero after.
  PageAllocator pa(static_cast<std::byte*>(range), kSize, [&discards](std::byte* addr, size_t len) {
    discards.fetch_add(1, std::memory_order_relaxed);
    return madvise(addr, len, MADV_DONTNEED) == 0;
  });
  constexpr int kThreads = 8;
  constexpr int kRounds = 1500;
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(1234 + t);
      struct Held { uint64_t* p; size_t words; uint64_t tag; };
      std::vector<Held> held;
      for (int i = 0; i < kRounds; ++i) {
        if (held.size() < 16 && (held.empty() || rng() % 3 != 0)) {
          size_t bytes = (1 + rng() % 24) * kPage - rng() % 100;
          size_t align = size_t{1} << (12 + rng() % 6);
          auto* p = static_cast<uint64_t*>(pa.allocate(bytes, align));
          if (p == nullptr || reinterpret_cast<uintptr_t>(p) % align != 0) { ++errors; continue; }
          size_t words = pa.usable_size(p) / sizeof(uint64_t);
          if (words * sizeof(uint64_t) < bytes) ++errors;
          if (p[0] != 0 || p[words - 1] != 0) ++errors;  // stale contents
          uint64_t tag = (uint64_t(t) << 32) | uint64_t(i);
          for (size_t w = 0; w < words; w += 64) p[w] = tag;
          p[words - 1] = tag;
          held.push_back({p, words, tag});
        } else {
          size_t k = rng() % held.size();
          Held h = held[k];
          held[k] = held.back();
          held.pop_back();
          for (size_t w = 0; w < h.words; w += 64) if (h.p[w] != h.tag) ++errors;
          if (h.p[h.words - 1] != h.tag) ++errors;
          if (rng() % 4 == 0 && pa.try_grow_in_place(h.p, (h.words * 8) + kPage)) {
            if (h.p[h.words] != 0) ++errors;  // grown pages must be zero too
          }
          if (pa.release(h.p) == 0) ++errors;
        }
      }
      for (const Held& h : held) pa.release(h.p);
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(errors.load(), 0);
  PageAllocatorStats s = pa.stats();
  EXPECT_EQ(s.live_bytes, 0u);
  EXPECT_EQ(s.live_runs, 0u);
  // Everything coalesced and went back to the top.
  EXPECT_EQ(s.free_runs, 0u);
  EXPECT_EQ(s.top_bytes, 0u);
  EXPECT_EQ(s.allocations, s.releases);
  EXPECT_GE(discards.load(), s.releases);
  munmap(range, kSize);
}

}  // namespace
}  // namespace prescient
