// HeapAccounting: live and peak bytes of the program's heap, split between
// the region (managed) and glibc (unmanaged), for the report. See
// runtime/report.h for the definitions.
//
// A small allocation costs one shared atomic add (and a compare with the
// peaks), so the path every malloc takes stays cheap; allocations are not
// counted there for the same reason. The unmanaged peak is sampled as (total - managed) at each
// unmanaged allocation, which is exact when the two are not racing.
#pragma once

#include <atomic>
#include <cstdint>

#include "runtime/report.h"

namespace prescient::preload {

class HeapAccounting {
 public:
  constexpr HeapAccounting() = default;

  void OnManagedAlloc(uint64_t bytes) {
    managed_allocations_.fetch_add(1, std::memory_order_relaxed);
    OnManagedGrow(bytes);
  }
  // A managed block grew in place.
  void OnManagedGrow(uint64_t bytes) {
    Raise(peak_managed_, managed_.fetch_add(Signed(bytes), std::memory_order_relaxed) + Signed(bytes));
    Raise(peak_total_, total_.fetch_add(Signed(bytes), std::memory_order_relaxed) + Signed(bytes));
  }
  void OnManagedFree(uint64_t bytes) {
    managed_.fetch_sub(Signed(bytes), std::memory_order_relaxed);
    total_.fetch_sub(Signed(bytes), std::memory_order_relaxed);
  }
  void OnUnmanagedAlloc(uint64_t bytes) {
    int64_t total = total_.fetch_add(Signed(bytes), std::memory_order_relaxed) + Signed(bytes);
    Raise(peak_total_, total);
    Raise(peak_unmanaged_, total - managed_.load(std::memory_order_relaxed));
  }
  void OnUnmanagedFree(uint64_t bytes) { total_.fetch_sub(Signed(bytes), std::memory_order_relaxed); }
  void OnFallback() { fallbacks_.fetch_add(1, std::memory_order_relaxed); }

  HeapUsage Snapshot(uint64_t min_alloc_bytes) const {
    HeapUsage u;
    u.peak_managed_bytes = Unsigned(peak_managed_.load(std::memory_order_relaxed));
    u.peak_unmanaged_bytes = Unsigned(peak_unmanaged_.load(std::memory_order_relaxed));
    u.peak_total_bytes = Unsigned(peak_total_.load(std::memory_order_relaxed));
    u.managed_allocations = managed_allocations_.load(std::memory_order_relaxed);
    u.fallback_allocations = fallbacks_.load(std::memory_order_relaxed);
    u.min_alloc_bytes = min_alloc_bytes;
    return u;
  }

 private:
  // Signed, because a block allocated before accounting started (the dynamic
  // loader's) may be freed after, and must not wrap the counter around.
  static int64_t Signed(uint64_t v) { return static_cast<int64_t>(v); }
  static uint64_t Unsigned(int64_t v) { return v < 0 ? 0 : static_cast<uint64_t>(v); }
  static void Raise(std::atomic<int64_t>& peak, int64_t value) {
    int64_t seen = peak.load(std::memory_order_relaxed);
    while (value > seen && !peak.compare_exchange_weak(seen, value, std::memory_order_relaxed)) {
    }
  }

  std::atomic<int64_t> managed_{0}, total_{0};
  std::atomic<int64_t> peak_managed_{0}, peak_unmanaged_{0}, peak_total_{0};
  std::atomic<uint64_t> managed_allocations_{0}, fallbacks_{0};
};

}  // namespace prescient::preload
