// Prefetcher: a policy that, told of each demand fault, names pages worth
// fetching before they are touched. The runtime and the simulator drive the
// same implementations through this interface; policies are chosen by name.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "prescient/status.h"

namespace prescient {

struct FaultEvent {
  uint64_t page_no = 0;     // page index within the region
  uint64_t time_ns = 0;     // monotonic time of the fault
  uint32_t thread_id = 0;   // faulting thread (0 when unknown)
  bool write = false;
};

struct PrefetchOptions {
  uint64_t region_pages = 0;   // candidates at or beyond this are ignored (0: no limit)
  uint32_t max_pages = 8;      // the most pages one fault may ask for; the
                               // readahead policies use the largest power of
                               // two <= this as the kernel's 1 << page_cluster
};

class Prefetcher {
 public:
  virtual ~Prefetcher() = default;
  virtual std::string_view name() const = 0;
  // Called for every demand fault, in fault order. Appends the page numbers
  // worth fetching to `out` (most useful first); may append none.
  virtual void on_fault(const FaultEvent& fault, std::vector<uint64_t>* out) = 0;
  // A page this policy asked for was touched before being evicted.
  virtual void on_prefetch_hit(uint64_t page_no) {}
};

// Names the policies MakePrefetcher() knows, comma-separated.
std::string PrefetcherNames();
// The same names, one per element, in registry order.
std::vector<std::string> PrefetcherNameList();
std::unique_ptr<Prefetcher> MakePrefetcher(std::string_view name, const PrefetchOptions& options, Status* status);

}  // namespace prescient
