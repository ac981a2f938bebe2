// AccessStream: a trace loaded for replay. Page numbers are renumbered
// densely (in order of first appearance) so the simulator's per-page state is
// a flat array; the original numbers are kept for the prefetch policies,
// which reason in region page numbers.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "prescient/status.h"
#include "prescient/trace.h"

namespace prescient {

struct StreamRecord {
  uint32_t page;        // dense page id (kDiscard: first dense id is not used; see discard_pages)
  uint32_t thread;
  uint32_t compute_ns;  // compute before this access, calibrated fault overhead removed
  TraceEvent event;
  bool write;
  uint32_t discard_index;  // kDiscard: index into AccessStream::discards
};

struct AccessStream {
  std::vector<StreamRecord> records;
  std::vector<uint64_t> region_page;            // dense id -> region page number
  std::vector<std::vector<uint32_t>> discards;  // dense ids freed by each discard record
  uint32_t threads = 0;
  uint64_t fault_cpu_overhead_ns = 0;
  // The share of the footprint the capture's cache held (0 for the 1 MiB
  // default): the trace holds only accesses that missed it, so it models
  // local sizes at or above this one.
  double capture_local_fraction = 0;
  // The compute the records were stamped with in total, the program's user
  // CPU time from the trace's trailer (a native run's if measured, else the
  // capture's; 0 if unknown), and the factor the stamps were scaled by to
  // match it (1 if they did not exceed it).
  uint64_t stamped_compute_ns = 0, program_user_cpu_ns = 0;
  double compute_scale = 1.0;
  std::string kind;
  uint64_t pages() const { return region_page.size(); }
};

// A capture cache hides the accesses to the pages it holds. A simulated size
// at least this many times larger holds nearly all of them too (D103); below
// that, fault counts may run low.
inline constexpr int kCaptureRatio = 6;

Status LoadAccessStream(const std::string& path, AccessStream* stream);

}  // namespace prescient
