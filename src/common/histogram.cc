#include "common/histogram.h"

#include <bit>

namespace prescient {

int LatencyHistogram::BucketOf(uint64_t nanos) {
  if (nanos < (1u << kSubBits)) return static_cast<int>(nanos);
  int msb = 63 - std::countl_zero(nanos);
  int sub = static_cast<int>((nanos >> (msb - kSubBits)) & ((1u << kSubBits) - 1));
  return ((msb - kSubBits + 1) << kSubBits) + sub;
}

uint64_t LatencyHistogram::BucketUpperBound(int bucket) {
  if (bucket < (1 << kSubBits)) return static_cast<uint64_t>(bucket);
  int msb = (bucket >> kSubBits) + kSubBits - 1;
  uint64_t sub = static_cast<uint64_t>(bucket & ((1 << kSubBits) - 1));
  uint64_t low = (uint64_t{1} << msb) | (sub << (msb - kSubBits));
  return low + (uint64_t{1} << (msb - kSubBits)) - 1;
}

void LatencyHistogram::Record(uint64_t nanos) {
  counts_[BucketOf(nanos)].fetch_add(1, std::memory_order_relaxed);
  total_ns_.fetch_add(nanos, std::memory_order_relaxed);
  uint64_t prev = max_ns_.load(std::memory_order_relaxed);
  while (nanos > prev && !max_ns_.compare_exchange_weak(prev, nanos, std::memory_order_relaxed)) {
  }
}

LatencySummary LatencyHistogram::Summarize() const {
  LatencySummary s;
  std::array<uint64_t, kBuckets> snap;
  for (int i = 0; i < kBuckets; ++i) {
    snap[i] = counts_[i].load(std::memory_order_relaxed);
    s.count += snap[i];
  }
  if (s.count == 0) return s;
  auto percentile = [&](double q) {
    uint64_t rank = static_cast<uint64_t>(q * static_cast<double>(s.count - 1)) + 1;
    uint64_t seen = 0;
    for (int i = 0; i < kBuckets; ++i) {
      seen += snap[i];
      if (seen >= rank) return static_cast<double>(BucketUpperBound(i)) / 1000.0;
    }
    return 0.0;
  };
  s.p50_us = percentile(0.50);
  s.p90_us = percentile(0.90);
  s.p99_us = percentile(0.99);
  s.max_us = static_cast<double>(max_ns_.load(std::memory_order_relaxed)) / 1000.0;
  s.mean_us = static_cast<double>(total_ns_.load(std::memory_order_relaxed)) / 1000.0 / static_cast<double>(s.count);
  return s;
}

void LatencyHistogram::Reset() {
  for (auto& c : counts_) c.store(0, std::memory_order_relaxed);
  total_ns_.store(0);
  max_ns_.store(0);
}

}  // namespace prescient
