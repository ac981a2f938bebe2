// LatencyHistogram: lock-free recording of durations into log-linear buckets
// (8 sub-buckets per power of two, so any percentile is within 12.5 %).
// Recording is one relaxed atomic increment, cheap enough for the fault path.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

#include "prescient/region.h"

namespace prescient {

class LatencyHistogram {
 public:
  void Record(uint64_t nanos);
  LatencySummary Summarize() const;
  void Reset();

 private:
  static constexpr int kSubBits = 3;
  static constexpr int kBuckets = 64 << kSubBits;
  static int BucketOf(uint64_t nanos);
  static uint64_t BucketUpperBound(int bucket);
  std::array<std::atomic<uint64_t>, kBuckets> counts_{};
  std::atomic<uint64_t> total_ns_{0};
  std::atomic<uint64_t> max_ns_{0};
};

}  // namespace prescient
