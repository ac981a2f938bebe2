// Region: a range of virtual memory whose pages live in far memory and are
// brought into local DRAM on demand, within a local-memory budget.
//
// The range is reserved with mmap and registered with userfaultfd. A fault
// thread serves missing-page faults from the Backend, a prefetch worker
// installs pages the Prefetcher predicts, and an evictor writes dirty pages
// back and drops them when residency passes the budget. Clean pages are
// dropped without write-back; how a write makes a page dirty is
// RegionOptions::dirty_tracking.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "prescient/backend.h"
#include "prescient/prefetcher.h"
#include "prescient/status.h"

namespace prescient {

class Prefetcher;
class FaultObserver;

// How the fault thread waits for userfaultfd messages.
//   kPoll:   poll(2) and sleep; costs no CPU when idle, adds a wakeup per fault.
//   kSpin:   busy-poll read(2); lowest latency, burns a core.
//   kHybrid: spin for `spin_us` after each fault, then poll(2).
enum class FaultLoopMode { kPoll, kSpin, kHybrid };
bool ParseFaultLoopMode(const std::string& text, FaultLoopMode* mode);

// Which thread serves a fault (D105).
//   kThread: a fault thread reads userfaultfd messages, serves them and wakes
//            the faulting thread: a cross-thread round trip per fault.
//   kSignal: the kernel raises SIGBUS in the faulting thread itself
//            (UFFD_FEATURE_SIGBUS), which serves its own fault in the handler
//            (runtime/signal_faults.h); threads fault in parallel. A system
//            call that touches a non-resident page gets EFAULT instead of a
//            fault, so callers must pin such buffers first (Region::pin).
//   kAuto:   kSignal where the kernel offers it, else kThread.
enum class FaultPath { kAuto, kThread, kSignal };
bool ParseFaultPath(const std::string& text, FaultPath* path);
const char* FaultPathName(FaultPath path);

// How the runtime learns that a local page was written (D109).
//   kFault:  a clean page is mapped write-protected; its first write takes a
//            write-protect fault (a round trip) that marks it dirty.
//   kDigest: a clean page that left local memory dirty last time, and so is
//            likely to be written again, is mapped writable, with a digest of
//            what it held when it came in: its writes cost nothing. Eviction
//            write-protects such a victim, so writers wait, and writes it back
//            only if its digest no longer matches (runtime/page_digest.h).
//            Other clean pages are write-protected, as under kFault.
enum class DirtyTracking { kFault, kDigest };
bool ParseDirtyTracking(const std::string& text, DirtyTracking* mode);
const char* DirtyTrackingName(DirtyTracking mode);

// Where a prefetched page waits for its first touch (D67).
//   kMap:   mapped at once; the touch costs nothing, and the policy learns
//           of it only if the page is written (a write-protect fault).
//   kStage: held unmapped in a local buffer; the touch faults and is served
//           from the buffer, so the policy sees every prefetch hit, at the
//           cost of a fault round trip without a far read.
enum class PrefetchInstall { kMap, kStage };
bool ParsePrefetchInstall(const std::string& text, PrefetchInstall* mode);
const char* PrefetchInstallName(PrefetchInstall mode);

struct RegionOptions {
  size_t reserve_bytes = size_t{64} << 30;  // virtual size of the region
  // The local-memory budget. When local_bytes > 0 it is fixed; otherwise it is
  // local_fraction of the footprint: the high-water mark of populated pages.
  size_t local_bytes = 0;
  double local_fraction = 1.0;
  FaultPath fault_path = FaultPath::kThread;
  DirtyTracking dirty_tracking = DirtyTracking::kDigest;
  FaultLoopMode loop = FaultLoopMode::kHybrid;  // kThread's loop
  int spin_us = 50;
  int fault_threads = 1;
  size_t evict_batch_pages = 32;   // pages written back per batched request
  size_t prefetch_queue_pages = 1024;
  PrefetchInstall prefetch_install = PrefetchInstall::kMap;
  uint32_t stage_slots = 16384;    // kStage: at most this many pages wait staged (64 MiB)
  // A mapped prefetch of a page that left local memory dirty is installed
  // writable (and dirty), sparing the write-protect fault its next write
  // would likely take, at the price of writing it back when it leaves
  // again (docs/decisions.md D101). Under kDigest every install of such a
  // page is writable, and clean (InstallRun); this applies to kFault only.
  bool prefetch_writable_if_left_dirty = true;
  std::string prefetch = "none";   // policy name, see MakePrefetcher()
  PrefetchOptions prefetch_options;  // region_pages is filled in by the region
  // Whether demand refaults of recently evicted pages join the active list
  // (residency_queue.h). Off, eviction is plain FIFO: an access-trace
  // capture runs so, to keep hot pages from hiding in its cache (D28).
  bool activate_refaults = true;
  // Called once on an unrecoverable error (far memory lost or unreachable),
  // from a runtime thread. Application threads may be blocked in faults at
  // that point, so the default handler prints the error and _exit()s.
  std::function<void(const Status&)> on_fatal;
  // When set, told of every fault and discard (trace capture).
  std::shared_ptr<FaultObserver> observer;
};

// FaultObserver: told of every access the runtime sees, for trace capture.
// Called from the runtime's threads (or, for discards, the freeing thread)
// while the faulting thread is still blocked, so a per-thread CPU clock read
// here measures exactly the compute since that thread's previous event.
class FaultObserver {
 public:
  virtual ~FaultObserver() = default;
  // A missing-page fault: the first access to a page that was not local.
  virtual void OnFault(uint64_t page, uint32_t thread_id, bool write) = 0;
  // The first write to a local, clean page (a write-protect fault).
  virtual void OnFirstWrite(uint64_t page, uint32_t thread_id) = 0;
  // The application freed [first_page, first_page + count).
  virtual void OnDiscard(uint64_t first_page, uint64_t count) = 0;
};

// The smallest budget a region accepts: one eviction batch per fault thread
// plus room for the prefetch queue to make progress.
inline constexpr size_t kMinLocalBytes = size_t{1} << 20;

struct LatencySummary {
  double p50_us = 0, p90_us = 0, p99_us = 0, max_us = 0, mean_us = 0;
  uint64_t count = 0;
};

struct RegionStats {
  uint64_t demand_faults = 0;      // missing-page faults that started a read or zero-fill (waits on one in flight are not)
  uint64_t zero_fills = 0;         // of which: first touch, served without a read
  uint64_t zero_filled_ahead = 0;  // pages mapped to the zero page beside a first touch (D106), never faulted on
  uint64_t write_protect_faults = 0;  // first write to a clean resident page (DirtyTracking::kFault)
  uint64_t digest_mismatches = 0;  // clean victims found written by their digest, and written back (kDigest)
  uint64_t pages_fetched = 0;      // pages read from the backend (demand + prefetch)
  uint64_t pages_written_back = 0;
  uint64_t pages_evicted = 0;      // pages dropped from local memory
  uint64_t pages_discarded = 0;    // pages freed by the application
  uint64_t prefetch_issued = 0;
  uint64_t prefetch_installed = 0;
  uint64_t prefetch_used = 0;      // prefetched pages seen used: caught in flight, written, or (staged) touched
  uint64_t prefetch_staged = 0;    // of prefetch_installed: staged rather than mapped
  uint64_t prefetch_writable = 0;  // of prefetch_installed: mapped writable, having left dirty
  uint64_t stage_peak_pages = 0;   // most pages staged at once: the stage buffers' resident size
  PrefetchInstall prefetch_install = PrefetchInstall::kMap;
  uint64_t prefetch_late = 0;      // of which: faulted on while still in flight (not demand faults)
  uint64_t resident_pages = 0;
  uint64_t peak_resident_pages = 0;
  uint64_t footprint_pages = 0;    // populated pages: resident or held by the backend
  uint64_t peak_footprint_pages = 0;
  uint64_t budget_pages = 0;       // the budget in force now
  LatencySummary fault_latency;    // fault seen (message read, or signal taken) -> page installed
  FaultPath fault_path = FaultPath::kThread;  // the path that ran (never kAuto)
  DirtyTracking dirty_tracking = DirtyTracking::kFault;
  uint64_t pinned_waits = 0;       // evictions put off because a system call had the page pinned
};

class Region {
 public:
  // Reserves and registers the range and starts the runtime threads.
  static std::unique_ptr<Region> Create(const RegionOptions& options, std::unique_ptr<Backend> backend, Status* status);
  ~Region();  // stops the threads; the range is unmapped

  Region(const Region&) = delete;
  Region& operator=(const Region&) = delete;

  std::byte* base() const;
  size_t size() const;
  bool contains(const void* p) const;

  // Forgets the contents of the whole pages inside [addr, addr + len): local
  // copies are dropped, the backend is told, and the next touch reads zeros.
  Status discard(void* addr, size_t len);

  // Makes the whole pages under [addr, addr + len) resident, writable when
  // `for_write`, and keeps them from eviction until unpin() of the same
  // range: what a system call that reads or writes managed memory from the
  // kernel needs on the signal path, where a page that is not mapped gives
  // EFAULT instead of a fault. Pins at most a quarter of the budget (and at
  // least 64 pages); returns how many bytes from `addr` it pinned. On the
  // thread path the kernel's own accesses fault as usual: returns `len` and
  // does nothing.
  size_t pin(const void* addr, size_t len, bool for_write);
  void unpin(const void* addr, size_t len);
  FaultPath fault_path() const;

  // Writes back every dirty page and drops every resident page, as if the
  // budget were zero for a moment. For benchmarks and tests that need pages
  // to be remote, and before handing a region's backend to someone else.
  Status evict_all();

  RegionStats stats() const;
  // The prefetch policy's own report (Prefetcher::stats()).
  nlohmann::json prefetcher_stats() const;
  const Backend& backend() const;

  class Impl;

 private:
  explicit Region(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace prescient
