#include "testutil/page_stress.h"

#include <atomic>
#include <cstring>
#include <memory>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include <fmt/format.h>

namespace prescient::testing {

namespace {

uint64_t Mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  return x ^ (x >> 33);
}

uint64_t Checksum(const std::byte* page) {
  uint64_t h = 0x9e3779b97f4a7c15ULL;
  const auto* words = reinterpret_cast<const uint64_t*>(page);
  for (size_t i = 0; i < kPageSize / 8; ++i) h = Mix(h ^ words[i]) + i;
  return h;
}

class Stress {
 public:
  Stress(Region& region, const StressOptions& options)
      : region_(region), options_(options), checksums_(options.pages), locks_(kStripes) {
    // A never-touched page reads as zeros.
    std::vector<std::byte> zero(kPageSize);
    uint64_t zero_sum = Checksum(zero.data());
    for (auto& c : checksums_) c = zero_sum;
  }

  StressResult Run() {
    std::vector<std::thread> threads;
    for (int t = 0; t < options_.threads; ++t) threads.emplace_back([this, t] { Worker(t); });
    for (auto& th : threads) th.join();
    for (uint64_t p = 0; p < options_.pages; ++p) Verify(p);
    result_.reads = reads_.load();
    result_.writes = writes_.load();
    result_.mismatches = mismatches_.load();
    result_.first_bad_page = first_bad_.load();
    return result_;
  }

 private:
  static constexpr size_t kStripes = 1024;
  std::byte* Page(uint64_t p) const { return region_.base() + p * kPageSize; }

  void Verify(uint64_t p) {
    if (Checksum(Page(p)) != checksums_[p]) {
      mismatches_.fetch_add(1);
      uint64_t expected = ~uint64_t{0};
      first_bad_.compare_exchange_strong(expected, p);
    }
  }

  void Worker(int t) {
    std::mt19937_64 rng(options_.seed * 1000003 + static_cast<uint64_t>(t));
    std::uniform_int_distribution<uint64_t> page_dist(0, options_.pages - 1);
    std::uniform_real_distribution<double> coin(0, 1);
    for (uint64_t i = 0; i < options_.ops_per_thread; ++i) {
      uint64_t p = page_dist(rng);
      std::lock_guard<std::mutex> lock(locks_[p % kStripes]);
      if (coin(rng) < options_.write_fraction) {
        // Half the writes rewrite a 64-byte slice only, so a page is often read
        // (faulted in clean) and then dirtied by its first write.
        auto* words = reinterpret_cast<uint64_t*>(Page(p));
        uint64_t v = rng();
        if (coin(rng) < 0.5) {
          size_t slice = (v % (kPageSize / 64)) * 8;
          for (size_t w = 0; w < 8; ++w) words[slice + w] = Mix(v + w);
        } else {
          for (size_t w = 0; w < kPageSize / 8; ++w) words[w] = Mix(v + w);
        }
        checksums_[p] = Checksum(Page(p));
        writes_.fetch_add(1, std::memory_order_relaxed);
      } else {
        Verify(p);
        reads_.fetch_add(1, std::memory_order_relaxed);
      }
    }
  }

  Region& region_;
  StressOptions options_;
  std::vector<uint64_t> checksums_;
  std::vector<std::mutex> locks_;
  std::atomic<uint64_t> reads_{0}, writes_{0}, mismatches_{0}, first_bad_{~uint64_t{0}};
  StressResult result_;
};

}  // namespace

std::string StressResult::ToString() const {
  return fmt::format("{} reads, {} writes, {} mismatched pages (first: {})", reads, writes, mismatches,
                     mismatches ? std::to_string(first_bad_page) : "none");
}

StressResult RunPageStress(Region& region, const StressOptions& options) {
  Stress stress(region, options);
  return stress.Run();
}

}  // namespace prescient::testing
