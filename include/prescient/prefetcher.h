// Prefetcher: a policy that, told of each demand fault, names pages worth
// fetching before they are touched. The runtime and the simulator drive the
// same implementations through this interface; policies are chosen by name.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "prescient/status.h"

namespace prescient {

struct FaultEvent {
  uint64_t page_no = 0;     // page index within the region
  uint64_t time_ns = 0;     // monotonic time of the fault
  uint32_t thread_id = 0;   // faulting thread (0 when unknown)
  bool write = false;
};

// farsight's default lookahead (docs/decisions.md D100).
inline constexpr int kDefaultLookahead = 8;

struct PrefetchOptions {
  uint64_t region_pages = 0;   // candidates at or beyond this are ignored (0: no limit)
  uint32_t max_pages = 8;      // the most pages one fault may ask for; the
                               // readahead policies use the largest power of
                               // two <= this as the kernel's 1 << page_cluster
  // `farsight` only.
  std::string model_path;            // a RetNet weight file (prescient train)
  int lookahead = kDefaultLookahead; // model steps rolled forward per fault
  bool hybrid = true;                // readahead fills what the model leaves of max_pages
  bool reuse_rollout = true;         // false: roll the lookahead anew at every event (same pages, more steps)
  float min_confidence = 0.1f;       // least path probability worth a fetch
  uint64_t future_map_bytes = 64 << 20;  // hard bound on the resident Future Maps (0: none)
};

class Prefetcher {
 public:
  virtual ~Prefetcher() = default;
  virtual std::string_view name() const = 0;
  // Called for every demand fault, in fault order. Appends the page numbers
  // worth fetching to `out` (most useful first); may append none.
  virtual void on_fault(const FaultEvent& fault, std::vector<uint64_t>* out) = 0;
  // A page this policy asked for was touched before being evicted. A policy
  // may ask for more pages here (appending to `out`, as on_fault does): the
  // classic ones, like Linux's swap readahead, only learn from hits.
  virtual void on_prefetch_hit(uint64_t page_no, std::vector<uint64_t>* out) {}
  // What the policy wants in the run's report (its own counters, its memory).
  virtual nlohmann::json stats() const { return nlohmann::json::object(); }
  // How many steps of a learned model the policy has run so far; the
  // simulator charges each one. The classic policies run no model.
  virtual uint64_t model_steps() const { return 0; }
};

// Names the policies MakePrefetcher() knows, comma-separated.
std::string PrefetcherNames();
// The same names, one per element, in registry order.
std::vector<std::string> PrefetcherNameList();
// Null, with *status saying why, for an unknown name or options the policy
// cannot run with (farsight without a usable model, say).
std::unique_ptr<Prefetcher> MakePrefetcher(std::string_view name, const PrefetchOptions& options, Status* status);

}  // namespace prescient
