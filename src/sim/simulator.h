// Simulate: replays an access trace under one prefetch policy at one local
// memory size, with the runtime's own memory management: the same budget rule
// (a share of the peak footprint, never below 1 MiB, kept a margin below it
// by the evictor, in fault order as the runtime's, D102), the same active/inactive FIFO lists (see
// runtime/residency_queue.h), zero-filled first touches, and
// write-back of dirty pages only. The policy `oracle` instead knows the
// future: it evicts the page used furthest ahead (Belady's MIN) and keeps
// fetching the next pages the trace will touch, whenever the page it would
// displace is needed later than the one it brings in. It is the ceiling.
//
// Time is kept per thread. Each record first advances its thread's clock by
// the measured compute before it; then the access costs local_access_ns if
// the page is local, or a fault (handling plus a read on the shared link)
// if not. Prefetches occupy the link but not the thread. Normalized
// performance is the all-local time over the simulated time.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "prescient/prefetcher.h"
#include "prescient/status.h"
#include "sim/access_stream.h"
#include "sim/cost_model.h"

namespace prescient {

struct SimConfig {
  std::string policy = "none";  // a registered prefetch policy, or "oracle"
  double local_fraction = 0.5;  // of the peak footprint
  uint32_t max_prefetch_pages = 8;
  PrefetchOptions prefetch;  // the policy's own options (farsight's model); max_pages is max_prefetch_pages
  CostModel cost;
  // As RegionOptions::prefetch_writable_if_left_dirty: a prefetched page that
  // left dirty comes back dirty, so its next write takes no fault.
  bool prefetch_writable_if_left_dirty = true;
  // When set, receives the region page of every demand fault in order: the
  // event stream a policy sees (`prescient train` learns from it).
  std::vector<uint64_t>* fault_log = nullptr;
};

struct SimResult {
  std::string policy;
  double local_pct = 0;
  uint64_t accesses = 0;            // traced accesses replayed
  uint64_t demand_faults = 0;       // accesses that had to read or zero-fill their page (late prefetches are not)
  uint64_t zero_fills = 0;
  uint64_t first_write_faults = 0;  // first writes to clean local pages
  uint64_t prefetch_issued = 0;
  uint64_t prefetch_used = 0;       // prefetched pages touched before eviction (late ones included)
  uint64_t prefetch_late = 0;       // touched while still in flight
  uint64_t pages_read = 0, pages_written = 0;
  uint64_t peak_footprint_pages = 0, final_budget_pages = 0;
  double sim_ns = 0, local_ns = 0;
  double normalized_perf = 0, accuracy = 0, coverage = 0;
  double replay_seconds = 0;        // how long the replay itself took
  nlohmann::json policy_stats = nlohmann::json::object();  // Prefetcher::stats() at the end
  uint64_t bytes_moved() const { return (pages_read + pages_written) * 4096; }
  nlohmann::json ToJson() const;
};

Status Simulate(const AccessStream& stream, const SimConfig& config, SimResult* result);

}  // namespace prescient
