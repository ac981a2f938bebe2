#include "sim/access_stream.h"

#include <algorithm>
#include <unordered_map>

#include <fmt/format.h>

namespace prescient {

namespace {

// The stamps hold the compute plus the kernel's share of each fault beyond
// the start-up calibration; under heavy paging (TLB shootdowns from eviction,
// contention) that share grows many times over. The program's user CPU time
// is closer to its compute, so stamps that add up to more are scaled down to
// it (D27).
void ScaleComputeToUserTime(uint64_t user_cpu_ns, AccessStream* s) {
  uint64_t stamped = 0;
  for (const StreamRecord& r : s->records) stamped += r.compute_ns;
  s->stamped_compute_ns = stamped;
  s->program_user_cpu_ns = user_cpu_ns;
  if (user_cpu_ns == 0 || user_cpu_ns >= stamped) return;
  s->compute_scale = static_cast<double>(user_cpu_ns) / static_cast<double>(stamped);
  for (StreamRecord& r : s->records) r.compute_ns = static_cast<uint32_t>(r.compute_ns * s->compute_scale);
}

}  // namespace

Status LoadAccessStream(const std::string& path, AccessStream* stream) {
  Status st;
  auto reader = TraceReader::Open(path, &st);
  if (!reader) return st;
  AccessStream s;
  s.kind = reader->header().value("kind", "");
  s.fault_cpu_overhead_ns = reader->header().value("fault_cpu_overhead_ns", uint64_t{0});
  s.capture_local_fraction = reader->header().value("local_fraction", 0.0);
  std::unordered_map<uint64_t, uint32_t> dense;
  auto id_of = [&](uint64_t page) {
    auto [it, fresh] = dense.try_emplace(page, static_cast<uint32_t>(s.region_page.size()));
    if (fresh) s.region_page.push_back(page);
    return it->second;
  };
  TraceRecord r;
  while (reader->Next(&r, &st)) {
    StreamRecord out{};
    out.event = r.event;
    out.write = r.write;
    out.thread = r.thread;
    s.threads = std::max(s.threads, r.thread + 1);
    if (r.event == TraceEvent::kDiscard) {
      // Only pages the trace has seen matter; a freed range may be huge.
      std::vector<uint32_t> freed;
      if (r.count <= dense.size()) {
        for (uint64_t p = r.page; p < r.page + r.count; ++p) {
          auto it = dense.find(p);
          if (it != dense.end()) freed.push_back(it->second);
        }
      } else {
        for (const auto& [page, id] : dense) {
          if (page >= r.page && page < r.page + r.count) freed.push_back(id);
        }
      }
      out.discard_index = static_cast<uint32_t>(s.discards.size());
      s.discards.push_back(std::move(freed));
    } else {
      out.page = id_of(r.page);
      uint64_t compute = r.compute_ns > s.fault_cpu_overhead_ns ? r.compute_ns - s.fault_cpu_overhead_ns : 0;
      out.compute_ns = static_cast<uint32_t>(std::min<uint64_t>(compute, UINT32_MAX));
    }
    s.records.push_back(out);
  }
  if (!st.ok()) return st;
  if (s.records.empty()) return Status::InvalidArgument(fmt::format("trace {} holds no records", path));
  // A native run's user time is the compute alone; the capture's own user
  // time also holds the TLB and cache refills its paging caused.
  const nlohmann::json& trailer = reader->trailer();
  ScaleComputeToUserTime(trailer.value("native_user_cpu_ns", trailer.value("program_user_cpu_ns", uint64_t{0})), &s);
  *stream = std::move(s);
  return Status::Ok();
}

}  // namespace prescient
