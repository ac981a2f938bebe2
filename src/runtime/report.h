// The report of a transparent run (`prescient run`): a JSON document for
// tools and a few lines of summary for the person at the terminal.
//
// Heap accounting. "Live bytes" are the bytes of allocations the program has
// made and not yet freed, each counted at its usable size: whole pages for a
// managed allocation (one placed in the region), malloc_usable_size() for
// one left on glibc's heap. The runtime's own allocations (its threads, and
// work it does on the program's threads) are not the program's heap and are
// left out.
//
//   managed_bytes        = peak of managed live bytes
//   peak_footprint_bytes = peak of (managed + unmanaged) live bytes
//   managed_fraction     = peak managed / (peak managed + peak unmanaged)
//
// The two peaks in managed_fraction may fall at different moments; taking
// each at its peak means a short burst of small allocations cannot hide a
// steady large heap, nor the reverse.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "prescient/backend.h"
#include "prescient/region.h"
#include "runtime/page_allocator.h"

namespace prescient {

struct HeapUsage {
  uint64_t peak_managed_bytes = 0;
  uint64_t peak_unmanaged_bytes = 0;
  uint64_t peak_total_bytes = 0;
  uint64_t managed_allocations = 0;    // calls served from the region
  uint64_t fallback_allocations = 0;   // large enough to manage, but the region was full
  uint64_t min_alloc_bytes = 0;        // the threshold for managing an allocation
  // 0 when the program allocated nothing; see the definition above.
  double ManagedFraction() const;
};

struct RunReport {
  RegionStats region;
  BackendStats backend;
  std::string backend_description;
  PageAllocatorStats allocator;
  HeapUsage heap;
  std::string prefetch;
  double local_fraction = 1.0;   // configured; meaningful when local_bytes == 0
  uint64_t local_bytes = 0;      // configured fixed budget, 0 when a fraction
  std::string fault_loop;
  std::string program;
  bool interposed = true;        // false when another malloc won symbol lookup
  double wall_s = 0;
  nlohmann::json prefetcher = nlohmann::json::object();  // the policy's Prefetcher::stats()
};

// The report's JSON, under this schema (`prescient run` adds "provenance").
inline constexpr char kRunReportSchema[] = "prescient-run-report/1";
nlohmann::json ReportToJson(const RunReport& report);
// A few human-readable lines, each starting "prescient: ".
std::string FormatReportSummary(const RunReport& report);

}  // namespace prescient
