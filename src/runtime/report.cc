#include "runtime/report.h"

#include <fmt/format.h>

#include "common/units.h"

namespace prescient {

namespace {

uint64_t PageBytes(uint64_t pages) { return pages << kPageShift; }

nlohmann::json LatencyJson(const LatencySummary& l) {
  return {{"p50", l.p50_us}, {"p90", l.p90_us}, {"p99", l.p99_us}, {"max", l.max_us}, {"mean", l.mean_us}, {"count", l.count}};
}

}  // namespace

double HeapUsage::ManagedFraction() const {
  uint64_t denominator = peak_managed_bytes + peak_unmanaged_bytes;
  return denominator == 0 ? 0.0 : static_cast<double>(peak_managed_bytes) / static_cast<double>(denominator);
}

nlohmann::json ReportToJson(const RunReport& r) {
  const RegionStats& s = r.region;
  nlohmann::json j;
  j["schema"] = kRunReportSchema;
  // The fixed external interface (nlohmann::json orders keys by name).
  j["managed_bytes"] = r.heap.peak_managed_bytes;
  j["peak_footprint_bytes"] = r.heap.peak_total_bytes;
  j["managed_fraction"] = r.heap.ManagedFraction();
  j["demand_faults"] = s.demand_faults;
  j["pages_fetched"] = s.pages_fetched;
  j["pages_written_back"] = s.pages_written_back;
  j["fault_latency_us"] = LatencyJson(s.fault_latency);
  j["wall_s"] = r.wall_s;
  // Everything else worth knowing.
  j["zero_fills"] = s.zero_fills;
  j["zero_filled_ahead"] = s.zero_filled_ahead;
  j["write_protect_faults"] = s.write_protect_faults;
  j["digest_mismatches"] = s.digest_mismatches;
  j["pages_evicted"] = s.pages_evicted;
  j["pages_discarded"] = s.pages_discarded;
  j["prefetch_issued"] = s.prefetch_issued;
  j["prefetch_installed"] = s.prefetch_installed;
  j["prefetch_used"] = s.prefetch_used;
  j["prefetch_staged"] = s.prefetch_staged;
  j["prefetch_writable"] = s.prefetch_writable;
  j["pinned_waits"] = s.pinned_waits;
  j["stage_peak_bytes"] = PageBytes(s.stage_peak_pages);
  j["budget_bytes"] = PageBytes(s.budget_pages);
  j["resident_bytes"] = PageBytes(s.resident_pages);
  j["peak_resident_bytes"] = PageBytes(s.peak_resident_pages);
  j["region_footprint_bytes"] = PageBytes(s.footprint_pages);
  j["peak_region_footprint_bytes"] = PageBytes(s.peak_footprint_pages);
  if (r.local_bytes > 0) {
    j["local_bytes"] = r.local_bytes;
  } else {
    j["local_fraction"] = r.local_fraction;
  }
  j["prefetch"] = r.prefetch;
  j["prefetcher"] = r.prefetcher;
  // The Future Maps' resident size against the memory they describe.
  if (r.prefetcher.contains("future_map_bytes") && s.peak_footprint_pages > 0)
    j["prefetcher"]["future_map_fraction"] = r.prefetcher["future_map_bytes"].get<double>() / static_cast<double>(PageBytes(s.peak_footprint_pages));
  j["fault_loop"] = r.fault_loop;
  j["fault_path"] = FaultPathName(r.region.fault_path);
  j["dirty_tracking"] = DirtyTrackingName(r.region.dirty_tracking);
  j["prefetch_install"] = PrefetchInstallName(s.prefetch_install);
  j["backend"] = r.backend_description;
  j["backend_stats"] = {{"read_requests", r.backend.read_requests},   {"write_requests", r.backend.write_requests},
                        {"pages_read", r.backend.pages_read},         {"pages_written", r.backend.pages_written},
                        {"bytes_sent", r.backend.bytes_sent},         {"bytes_received", r.backend.bytes_received}};
  j["heap"] = {{"peak_managed_bytes", r.heap.peak_managed_bytes},
               {"peak_unmanaged_bytes", r.heap.peak_unmanaged_bytes},
               {"managed_allocations", r.heap.managed_allocations},
               {"fallback_allocations", r.heap.fallback_allocations},
               {"min_alloc_bytes", r.heap.min_alloc_bytes},
               {"interposed", r.interposed}};
  const PageAllocatorStats& a = r.allocator;
  j["allocator"] = {{"live_bytes", a.live_bytes},       {"peak_live_bytes", a.peak_live_bytes}, {"free_bytes", a.free_bytes},
                    {"free_runs", a.free_runs},         {"top_bytes", a.top_bytes},             {"allocations", a.allocations},
                    {"releases", a.releases},           {"grown_in_place", a.grown_in_place},   {"shrunk_in_place", a.shrunk_in_place},
                    {"failed_allocations", a.failed_allocations}, {"quarantined_bytes", a.quarantined_bytes}};
  j["program"] = r.program;
  return j;
}

std::string FormatReportSummary(const RunReport& r) {
  const RegionStats& s = r.region;
  std::string budget = r.local_bytes > 0 ? FormatBytes(r.local_bytes) : fmt::format("{:.0f}% of footprint", r.local_fraction * 100);
  std::string out;
  out += fmt::format("prescient: {:.2f} s, {} managed of {} peak heap ({:.1f}% managed), local budget {}, {}\n", r.wall_s,
                     FormatBytes(r.heap.peak_managed_bytes), FormatBytes(r.heap.peak_total_bytes), r.heap.ManagedFraction() * 100,
                     budget, r.backend_description);
  out += fmt::format("prescient: faults served by the {} path; writes seen by {}\n",
                     s.fault_path == FaultPath::kSignal ? "signal (on the faulting thread)" : "fault-thread",
                     s.dirty_tracking == DirtyTracking::kDigest ? "page digests at eviction" : "write-protect faults");
  out += fmt::format("prescient: {} demand faults ({} zero-fill), fault latency p50 {:.1f} us p99 {:.1f} us; {} pages fetched, {} written back, {} evicted\n",
                     s.demand_faults, s.zero_fills, s.fault_latency.p50_us, s.fault_latency.p99_us, s.pages_fetched, s.pages_written_back,
                     s.pages_evicted);
  if (r.prefetch != "none") {
    out += fmt::format("prescient: prefetch {} ({}): {} issued, {} seen used{}\n", r.prefetch, PrefetchInstallName(s.prefetch_install),
                       s.prefetch_issued, s.prefetch_used,
                       s.prefetch_install == PrefetchInstall::kMap ? " (reads of mapped prefetches are not seen)" : "");
  }
  if (!r.interposed) {
    out += "prescient: warning: another malloc preceded prescient's; the program's allocations were not managed\n";
  }
  if (r.heap.fallback_allocations > 0) {
    out += fmt::format("prescient: warning: {} large allocations went to the local heap because the region was full\n",
                       r.heap.fallback_allocations);
  }
  return out;
}

}  // namespace prescient
