// Region: wires the core, the evictor, the prefetch worker and the fault
// handler together, and implements free()-time discard.
#include "prescient/region.h"

#include <sched.h>
#include <sys/mman.h>

#include <algorithm>
#include <initializer_list>
#include <utility>

#include <fmt/format.h>

#include "prescient/prefetcher.h"
#include "runtime/evictor.h"
#include "runtime/fault_handler.h"
#include "runtime/prefetch_worker.h"
#include "runtime/region_core.h"

namespace prescient {

namespace {

// The words users type for each option's values, in one table per option.
template <typename E>
using NameTable = std::initializer_list<std::pair<const char*, E>>;

template <typename E>
bool ParseByName(const std::string& text, NameTable<E> names, E* value) {
  for (const auto& [name, v] : names) {
    if (text == name) {
      *value = v;
      return true;
    }
  }
  return false;
}

template <typename E>
const char* NameOf(E value, NameTable<E> names) {
  for (const auto& [name, v] : names) {
    if (v == value) return name;
  }
  return "?";
}

const NameTable<FaultLoopMode> kFaultLoopModes = {{"poll", FaultLoopMode::kPoll}, {"spin", FaultLoopMode::kSpin}, {"hybrid", FaultLoopMode::kHybrid}};
const NameTable<FaultPath> kFaultPaths = {{"auto", FaultPath::kAuto}, {"thread", FaultPath::kThread}, {"signal", FaultPath::kSignal}};
const NameTable<DirtyTracking> kDirtyTrackings = {{"fault", DirtyTracking::kFault}, {"digest", DirtyTracking::kDigest}};
const NameTable<PrefetchInstall> kPrefetchInstalls = {{"map", PrefetchInstall::kMap}, {"stage", PrefetchInstall::kStage}};

}  // namespace

bool ParseFaultLoopMode(const std::string& text, FaultLoopMode* mode) { return ParseByName(text, kFaultLoopModes, mode); }
bool ParseFaultPath(const std::string& text, FaultPath* path) { return ParseByName(text, kFaultPaths, path); }
const char* FaultPathName(FaultPath path) { return NameOf(path, kFaultPaths); }
bool ParseDirtyTracking(const std::string& text, DirtyTracking* mode) { return ParseByName(text, kDirtyTrackings, mode); }
const char* DirtyTrackingName(DirtyTracking mode) { return NameOf(mode, kDirtyTrackings); }
bool ParsePrefetchInstall(const std::string& text, PrefetchInstall* mode) { return ParseByName(text, kPrefetchInstalls, mode); }
const char* PrefetchInstallName(PrefetchInstall mode) { return NameOf(mode, kPrefetchInstalls); }

class Region::Impl {
 public:
  Impl(const RegionOptions& options, std::unique_ptr<Backend> backend)
      : core(options, std::move(backend)), evictor(&core), prefetch(&core, &evictor) {}

  ~Impl() {
    // Stop the producers of work before its consumers.
    if (faults) faults->Stop();
    prefetch.Stop();
    evictor.Stop();
  }

  RegionCore core;
  Evictor evictor;
  PrefetchWorker prefetch;
  std::unique_ptr<FaultHandler> faults;
};

Region::Region(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Region::~Region() = default;

std::unique_ptr<Region> Region::Create(const RegionOptions& options, std::unique_ptr<Backend> backend, Status* status) {
  if (!backend) {
    *status = Status::InvalidArgument("a region needs a backend");
    return nullptr;
  }
  auto impl = std::make_unique<Impl>(options, std::move(backend));
  *status = impl->core.Init();
  if (!status->ok()) return nullptr;
  PrefetchOptions popts = options.prefetch_options;
  popts.region_pages = impl->core.pages();
  auto prefetcher = MakePrefetcher(options.prefetch, popts, status);
  if (!prefetcher) return nullptr;
  impl->faults = std::make_unique<FaultHandler>(&impl->core, &impl->evictor, &impl->prefetch, std::move(prefetcher));
  impl->evictor.Start();
  impl->prefetch.Start();
  *status = impl->faults->Start();
  if (!status->ok()) return nullptr;
  return std::unique_ptr<Region>(new Region(std::move(impl)));
}

std::byte* Region::base() const { return impl_->core.base(); }
size_t Region::size() const { return impl_->core.pages() << kPageShift; }
bool Region::contains(const void* p) const {
  auto* b = static_cast<const std::byte*>(p);
  return b >= base() && b < base() + size();
}
const Backend& Region::backend() const { return impl_->core.backend(); }

nlohmann::json Region::prefetcher_stats() const { return impl_->faults->prefetcher_stats(); }

Status Region::discard(void* addr, size_t len) {
  RegionCore& core = impl_->core;
  auto start = reinterpret_cast<uint64_t>(addr);
  auto end = start + len;
  auto base = reinterpret_cast<uint64_t>(core.base());
  if (start < base || end > base + size() || end < start)
    return Status::InvalidArgument(fmt::format("discard of [{:#x}, {:#x}) is outside the region", start, end));
  uint64_t first = (start - base + kPageSize - 1) >> kPageShift;
  uint64_t last = (end - base) >> kPageShift;  // exclusive
  if (first >= last) return Status::Ok();

  // Take every page into Discarding; pages mid-transition finish first (their
  // owners never wait on us, so this cannot deadlock).
  PageStateTable& table = core.table();
  std::vector<PageWord> before(last - first);
  for (uint64_t p = first; p < last; ++p) {
    PageWord w = table.Load(p);
    while (IsTransient(w.state()) || !table.Cas(p, &w, w.with_state(PageState::kDiscarding))) {
      if (IsTransient(w.state())) {
        // A failed region finishes nothing (an Evicting page's write-back may be what failed).
        if (core.failed()) return Status::Unavailable("the region's backend failed");
        sched_yield();
        w = table.Load(p);
      }
    }
    before[p - first] = w;
  }
  if (madvise(core.PageAddress(first), (last - first) << kPageShift, MADV_DONTNEED) != 0)
    return Status::FromErrno("MADV_DONTNEED of freed pages", errno);

  uint64_t local = 0, populated = 0;
  bool any_backed = false;
  for (uint64_t p = first; p < last; ++p) {
    PageWord w = before[p - first];
    local += IsLocal(w.state()) ? 1 : 0;
    if (w.state() == PageState::kStaged) core.stage().Release(p);
    if (w.has(PageWord::kActive)) core.NoteActiveLeft();
    populated += w.state() != PageState::kEmpty ? 1 : 0;
    any_backed |= w.has(PageWord::kBacked);
    // Generation survives so stale residency entries stay recognisable.
    PageWord old = table.Exchange(p, PageWord{w.raw & ~(PageWord::kStateMask | PageWord::kWaiter | PageWord::kBacked | PageWord::kPrefetched | PageWord::kActive)});
    if (old.has(PageWord::kWaiter)) core.WakePage(p);
  }
  core.Uncharge(local);
  core.ShrinkFootprint(populated);
  if (FaultObserver* observer = core.options().observer.get()) observer->OnDiscard(first, last - first);
  core.counters().pages_discarded.fetch_add(populated, std::memory_order_relaxed);
  if (any_backed) return core.backend().discard_pages(first, last - first);
  return Status::Ok();
}

namespace {

// An access that faults the page in if it must: a write, for a page the
// kernel will write, that leaves the byte as it was even if another thread
// writes it meanwhile.
void TouchPage(const std::byte* page, bool write) {
  auto* byte = const_cast<char*>(reinterpret_cast<const char*>(page));
  if (write) {
    __atomic_fetch_add(byte, 0, __ATOMIC_RELAXED);
  } else {
    char c = *static_cast<volatile char*>(byte);
    (void)c;
  }
}

// The region's pages that [addr, addr + len) touches, first to last
// inclusive; false if it touches none. The parts outside the region are
// ordinary memory, which needs no pin.
bool PagesUnder(const RegionCore& core, const void* addr, size_t len, uint64_t* first, uint64_t* last) {
  const auto start = reinterpret_cast<uint64_t>(addr);
  const auto begin = reinterpret_cast<uint64_t>(core.base());
  const uint64_t end = begin + (core.pages() << kPageShift);
  if (len == 0 || start >= end || start + len <= begin) return false;
  *first = core.PageOf(std::max(start, begin));
  *last = core.PageOf(std::min(start + len, end) - 1);
  return true;
}

}  // namespace

size_t Region::pin(const void* addr, size_t len, bool for_write) {
  RegionCore& core = impl_->core;
  uint64_t first, last;
  if (!core.signal_path() || !PagesUnder(core, addr, len, &first, &last)) return len;
  const auto start = reinterpret_cast<uint64_t>(addr);
  const uint64_t limit = std::max<uint64_t>(64, core.BudgetPages() / 4);
  last = std::min(last, first + limit - 1);
  for (uint64_t p = first; p <= last; ++p) core.Pin(p);
  PageStateTable& table = core.table();
  for (uint64_t p = first; p <= last && !core.failed(); ++p) {
    // Pinned first, then found mapped: from here the evictor sees the pin.
    while (true) {
      PageState s = table.Load(p).state();
      // A Clean page mapped writable (digest tracking) takes the kernel's
      // write as it is; its digest tells the evictor.
      if (s == PageState::kDirty || (s == PageState::kClean && (!for_write || core.MappedWritable(p)))) break;
      TouchPage(core.PageAddress(p), for_write);
      if (IsTransient(table.Load(p).state())) sched_yield();  // an evictor backing off from our pin
    }
  }
  const uint64_t pinned_end = (last + 1) << kPageShift;
  return std::min<uint64_t>(len, reinterpret_cast<uint64_t>(core.base()) + pinned_end - start);
}

void Region::unpin(const void* addr, size_t len) {
  RegionCore& core = impl_->core;
  uint64_t first, last;
  if (!core.signal_path() || !PagesUnder(core, addr, len, &first, &last)) return;
  for (uint64_t p = first; p <= last; ++p) core.Unpin(p);
}

FaultPath Region::fault_path() const { return impl_->core.fault_path(); }

Status Region::evict_all() {
  impl_->evictor.EvictAll();
  return impl_->core.failed() ? Status::Unavailable("the region's backend failed") : Status::Ok();
}

RegionStats Region::stats() const {
  RegionCore& core = impl_->core;
  RegionCounters& c = core.counters();
  RegionStats s;
  s.demand_faults = c.demand_faults.load();
  s.zero_fills = c.zero_fills.load();
  s.zero_filled_ahead = c.zero_filled_ahead.load();
  s.write_protect_faults = c.write_protect_faults.load();
  s.digest_mismatches = c.digest_mismatches.load();
  s.pages_fetched = c.pages_fetched.load();
  s.pages_written_back = c.pages_written_back.load();
  s.pages_evicted = c.pages_evicted.load();
  s.pages_discarded = c.pages_discarded.load();
  s.prefetch_issued = c.prefetch_issued.load();
  s.prefetch_installed = c.prefetch_installed.load();
  s.prefetch_used = c.prefetch_used.load();
  s.prefetch_staged = c.prefetch_staged.load();
  s.prefetch_writable = c.prefetch_writable.load();
  s.stage_peak_pages = core.stage().enabled() ? core.stage().peak_in_use() : 0;
  s.prefetch_install = core.options().prefetch_install;
  s.prefetch_late = c.prefetch_late.load();
  s.pinned_waits = c.pinned_waits.load();
  s.fault_path = core.fault_path();
  s.dirty_tracking = core.options().dirty_tracking;
  s.resident_pages = core.ResidentPages();
  s.peak_resident_pages = core.PeakResidentPages();
  s.footprint_pages = core.FootprintPages();
  s.peak_footprint_pages = core.PeakFootprintPages();
  s.budget_pages = core.BudgetPages();
  s.fault_latency = core.fault_latency().Summarize();
  return s;
}

}  // namespace prescient
