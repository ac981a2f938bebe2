// Helpers every policy uses to turn a decision into candidate pages. They
// keep the three promises a policy makes to its callers: never the faulting
// page, never a page at or past the region's end, never more than asked for.
// None of them allocates beyond appending to `out`.
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

#include "prescient/prefetcher.h"

namespace prescient {

// One past the last page a candidate may name. A region of 0 pages means the
// caller did not say, so nothing is clipped.
inline uint64_t RegionEnd(const PrefetchOptions& options) {
  return options.region_pages != 0 ? options.region_pages : std::numeric_limits<uint64_t>::max();
}

// Appends [start, end) in ascending order, skipping `fault`.
inline void AppendAscending(uint64_t start, uint64_t end, uint64_t fault, std::vector<uint64_t>* out) {
  for (uint64_t p = start; p < end; ++p) {
    if (p != fault) out->push_back(p);
  }
}

// Appends [start, end) in descending order, skipping `fault`: the pages
// nearest a backward-moving fault come first.
inline void AppendDescending(uint64_t start, uint64_t end, uint64_t fault, std::vector<uint64_t>* out) {
  for (uint64_t p = end; p > start; --p) {
    if (p - 1 != fault) out->push_back(p - 1);
  }
}

// swap_cluster_readahead()'s block: the `window`-aligned run of `window`
// pages holding `fault`, clipped to the region. `window` must be a power of
// two. Appends at most window - 1 pages.
inline void AppendAlignedCluster(uint64_t fault, uint64_t window, uint64_t region_end, std::vector<uint64_t>* out) {
  if (window <= 1) return;
  uint64_t start = fault & ~(window - 1);
  uint64_t end = start + window;  // fault < region_end, so no overflow in practice
  if (end > region_end || end < start) end = region_end;
  AppendAscending(start, end, fault, out);
}

// Appends fault + k*delta for k = 1..count, stopping at the first page that
// would fall below 0 or at/after region_end (the run is monotonic, so no
// later page could be valid). Steps one delta at a time so nothing overflows.
inline void AppendAlongDelta(uint64_t fault, int64_t delta, uint32_t count, uint64_t region_end, std::vector<uint64_t>* out) {
  if (delta == 0) return;
  uint64_t step = delta > 0 ? static_cast<uint64_t>(delta) : uint64_t{0} - static_cast<uint64_t>(delta);
  uint64_t page = fault;
  for (uint32_t k = 0; k < count; ++k) {
    if (delta > 0) {
      if (page >= region_end || region_end - page <= step) return;
      page += step;
    } else {
      if (page < step) return;
      page -= step;
      if (page >= region_end) return;  // only when the fault itself was out of range
    }
    out->push_back(page);
  }
}

}  // namespace prescient
