// RegionCore: the state the fault handler, prefetch worker, evictor and free()
// share: the mapping, the userfaultfd, the page table, the eviction order, the
// budget and the counters. The workers own the policy; the core owns the
// invariants (a page is installed and retired only through the calls below).
#pragma once

#include <sys/uio.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <mutex>
#include <vector>

#include "common/histogram.h"
#include "prescient/backend.h"
#include "prescient/region.h"
#include "runtime/page_states.h"
#include "runtime/residency_queue.h"
#include "runtime/stage_area.h"
#include "runtime/uffd.h"

namespace prescient {

struct RegionCounters {
  std::atomic<uint64_t> demand_faults{0};
  std::atomic<uint64_t> zero_fills{0};
  std::atomic<uint64_t> write_protect_faults{0};
  std::atomic<uint64_t> digest_mismatches{0};
  std::atomic<uint64_t> pages_fetched{0};
  std::atomic<uint64_t> pages_written_back{0};
  std::atomic<uint64_t> pages_evicted{0};
  std::atomic<uint64_t> pages_discarded{0};
  std::atomic<uint64_t> prefetch_issued{0};
  std::atomic<uint64_t> prefetch_installed{0};
  std::atomic<uint64_t> prefetch_staged{0};
  std::atomic<uint64_t> prefetch_writable{0};
  std::atomic<uint64_t> prefetch_used{0};
  std::atomic<uint64_t> prefetch_late{0};
  std::atomic<uint64_t> pinned_waits{0};
  std::atomic<uint64_t> zero_filled_ahead{0};
};

class RegionCore {
 public:
  RegionCore(const RegionOptions& options, std::unique_ptr<Backend> backend);
  ~RegionCore();
  // Reserves the range and registers it with userfaultfd, resolving the
  // fault path (options().fault_path may be kAuto; fault_path() never is).
  Status Init();

  const RegionOptions& options() const { return options_; }
  FaultPath fault_path() const { return fault_path_; }
  // Faulting threads serve their own faults and wait on futexes, not in the kernel.
  bool signal_path() const { return fault_path_ == FaultPath::kSignal; }
  // Under DirtyTracking::kDigest a clean page that left dirty last time is
  // mapped writable, its writes seen by its digest at eviction; the others
  // are write-protected, as under kFault (D109).
  bool tracks_by_digest() const { return options_.dirty_tracking == DirtyTracking::kDigest; }
  bool MapsCleanWritable(uint64_t page) const { return tracks_by_digest() && LeftDirty(page); }
  // Whether `page`, installed Clean, was mapped writable (so may have been
  // written since); read by the evictor once it owns the page.
  bool MappedWritable(uint64_t page) const {
    // Relaxed: a faulting thread may ask while an install rewrites it; the
    // page's state word orders it for the evictor.
    return clean_digests_ != nullptr && std::atomic_ref<uint64_t>(clean_digests_[page]).load(std::memory_order_relaxed) != 0;
  }
  std::byte* base() const { return base_; }
  uint64_t pages() const { return pages_; }
  std::byte* PageAddress(uint64_t page) const { return base_ + (page << kPageShift); }
  uint64_t PageOf(uint64_t address) const { return (address - reinterpret_cast<uint64_t>(base_)) >> kPageShift; }

  Userfaultfd& uffd() { return uffd_; }
  PageStateTable& table() { return table_; }
  ResidencyQueue& inactive() { return inactive_; }
  ResidencyQueue& active() { return active_; }
  // Pages on the active list now, and the most it should hold.
  uint64_t ActivePages() const { return active_pages_.load(std::memory_order_relaxed); }
  uint64_t ActiveTargetPages() const { return BudgetPages() / 2; }
  void NoteActiveLeft() { active_pages_.fetch_sub(1, std::memory_order_relaxed); }
  // Stamps `page` with the eviction clock as it is chosen to leave local
  // memory, and remembers whether it leaves dirty.
  void NoteEvicted(uint64_t page, bool dirty) {
    // Relaxed: the stamp is a hint, but the fault thread reads it concurrently.
    LastEviction& e = last_eviction_[page];
    std::atomic_ref<uint32_t>(e.clock).store(static_cast<uint32_t>(evictions_.fetch_add(1, std::memory_order_relaxed)), std::memory_order_relaxed);
    std::atomic_ref<uint8_t>(e.dirty).store(dirty ? 1 : 0, std::memory_order_relaxed);
  }
  // Whether `page` was dirty when it last left local memory (a hint).
  bool LeftDirty(uint64_t page) const { return std::atomic_ref<uint8_t>(last_eviction_[page].dirty).load(std::memory_order_relaxed) != 0; }
  Backend& backend() { return *backend_; }
  RegionCounters& counters() { return counters_; }
  LatencyHistogram& fault_latency() { return fault_latency_; }

  // --- Budget. Pages are charged when they enter Fetching, so in-flight
  // reads count against the budget, and uncharged when they are freed or
  // chosen to be evicted. A chosen page is counted as evicting until it is
  // published as Remote: dropped at once, its copy may still be on its way
  // to the backend.
  uint64_t BudgetPages() const;
  uint64_t ChargedPages() const { return charged_.load(std::memory_order_relaxed); }
  uint64_t EvictingPages() const { return evicting_.load(std::memory_order_relaxed); }
  uint64_t ResidentPages() const { return ChargedPages() + EvictingPages(); }
  uint64_t PeakResidentPages() const { return peak_resident_.load(std::memory_order_relaxed); }
  void Charge(uint64_t pages);
  void Uncharge(uint64_t pages) { charged_.fetch_sub(pages, std::memory_order_relaxed); }
  void BeginEvicting(uint64_t pages) {
    Uncharge(pages);  // first, so a concurrent peak never counts them twice
    evicting_.fetch_add(pages, std::memory_order_relaxed);
  }
  void EndEvicting(uint64_t pages) { evicting_.fetch_sub(pages, std::memory_order_relaxed); }
  // Footprint: pages that hold data (left Empty and not yet back to Empty).
  void GrowFootprint(uint64_t pages);
  void ShrinkFootprint(uint64_t pages) { footprint_.fetch_sub(pages, std::memory_order_relaxed); }
  uint64_t FootprintPages() const { return footprint_.load(std::memory_order_relaxed); }
  uint64_t PeakFootprintPages() const { return peak_footprint_.load(std::memory_order_relaxed); }

  // Takes `page` from Empty or Remote into Fetching, charging it. Returns
  // false (and leaves it alone) when it is in any other state. *was_empty
  // tells the caller to zero-fill rather than read.
  bool BeginFetch(uint64_t page, bool for_prefetch, bool* was_empty);
  // Maps `data` at `page`, which the caller holds in Fetching, and leaves it
  // Dirty (writable) or Clean (write-protected, or writable with its digest
  // kept: MapsCleanWritable). Wakes any waiters; with
  // `wake_now` the copy itself wakes the range (cheaper for demand faults).
  Status Install(uint64_t page, const std::byte* data, bool dirty, bool backed, bool prefetched, bool wake_now) {
    return InstallRun(page, 1, data, dirty, backed, prefetched, wake_now);
  }
  // A clean page mapped writable (MapsCleanWritable) has its digest kept, to
  // be checked by StillClean when it is evicted.
  // Install for `count` consecutive pages from `first` whose data lie
  // consecutively at `data`: one UFFDIO_COPY for the whole run.
  Status InstallRun(uint64_t first, uint64_t count, const std::byte* data, bool dirty, bool backed, bool prefetched, bool wake_now);
  // First touches at kernel cost (D106): while the budget cannot bind (it
  // follows the footprint at 100 %, so nothing is ever evicted), a first
  // touch also maps up to kZeroFillAhead following Empty pages to the shared
  // zero page, in one call. Their reads then cost nothing and their first
  // writes a kernel copy-on-write fault. Such a page is Dirty from the start:
  // the runtime cannot see the write. Returns how many pages it filled.
  static constexpr uint64_t kZeroFillAhead = 64;
  bool FillsZeroAhead() const;
  uint64_t FillZeroAhead(uint64_t first, uint64_t max_pages);
  // Leaves a prefetched page, held in Fetching with its data in its stage
  // buffer, Staged: charged and evictable but unmapped, so that its first
  // touch faults. If a fault caught it in flight, maps it now instead.
  Status Stage(uint64_t page);
  // Maps a page the caller holds in Fetching from its stage buffer, as
  // Install does, and frees the buffer. The fault thread calls it for a
  // staged page's first touch (dirty for a write).
  Status InstallStaged(uint64_t page, bool dirty, bool wake_now);
  StageArea& stage() { return stage_; }

  // Whether `contents`, copied from a page installed Clean and writable (and
  // write-protected since, by the evictor), still match what was installed.
  bool StillClean(uint64_t page, const std::byte* contents) const;

  // Drops the pages of every run with one process_madvise(MADV_DONTNEED)
  // call; false, having dropped nothing, where the kernel does not take
  // MADV_DONTNEED through process_madvise (before 6.13), and from then on.
  bool DropRuns(std::span<const iovec> runs);

  // Returns a page held in Fetching to its previous state after a failed read.
  void AbandonFetch(uint64_t page, bool was_empty);
  // Wakes threads blocked on `page` (in the kernel, or on its futex on the
  // signal path); failures are fatal.
  void WakePage(uint64_t page);

  // --- Pins. A pinned page is not chosen for eviction: a system call that
  // reads or writes it from the kernel needs it mapped throughout, since on
  // the signal path the kernel cannot fault it in (Region::pin). Counted, as
  // several threads may pin one page.
  void Pin(uint64_t page) { std::atomic_ref<uint16_t>(pins_[page]).fetch_add(1, std::memory_order_seq_cst); }
  void Unpin(uint64_t page) { std::atomic_ref<uint16_t>(pins_[page]).fetch_sub(1, std::memory_order_seq_cst); }
  // Read after the evictor has taken the page into Evicting: a pin taken
  // before that is seen here, and a pinner that comes later sees Evicting.
  bool Pinned(uint64_t page) const { return std::atomic_ref<uint16_t>(pins_[page]).load(std::memory_order_seq_cst) != 0; }

  // A prefetched page was used. Recorded here (from any runtime thread) and
  // handed to the single-threaded Prefetcher by the fault handler.
  void NotePrefetchHit(uint64_t page);
  void DrainPrefetchHits(std::vector<uint64_t>* out);

  // Reports an unrecoverable error once: far memory is lost or unreachable.
  void Fatal(const Status& status);
  bool failed() const { return failed_.load(std::memory_order_acquire); }

 private:
  RegionOptions options_;
  std::unique_ptr<Backend> backend_;
  std::byte* base_ = nullptr;
  uint64_t pages_ = 0;
  Userfaultfd uffd_;
  PageStateTable table_;
  // Publishes `count` pages from `first`, held in Fetching and now mapped, as
  // Dirty or Clean, and queues them for eviction; wakes their waiters unless
  // the mapping call `woken` them already.
  void MarkInstalled(uint64_t first, uint64_t count, bool dirty, bool backed, bool prefetched, bool woken);
  // Whether a page fetched back now refaulted within a budget's worth of evictions.
  bool RefaultedRecently(uint64_t page) const;

  StageArea stage_;
  ResidencyQueue inactive_, active_;
  std::atomic<uint64_t> active_pages_{0};
  std::atomic<uint64_t> evictions_{0};
  // What a page's last eviction left behind: the low bits of the eviction
  // clock then, and 1 if the page was dirty.
  struct LastEviction {
    uint32_t clock;
    uint8_t dirty;
  };
  LastEviction* last_eviction_ = nullptr;  // per page
  uint16_t* pins_ = nullptr;               // per page
  uint64_t* clean_digests_ = nullptr;      // per page, under kDigest: the digest at install, 0 if mapped write-protected
  static uint64_t NonZeroDigest(const std::byte* page);
  int self_pidfd_ = -1;                    // for process_madvise; -1 once it proves unusable
  std::atomic<bool> drop_runs_works_{true};
  FaultPath fault_path_ = FaultPath::kThread;
  RegionCounters counters_;
  LatencyHistogram fault_latency_;
  uint64_t fixed_budget_pages_ = 0;
  uint64_t min_budget_pages_ = 0;
  std::atomic<uint64_t> charged_{0}, evicting_{0}, peak_resident_{0};
  std::atomic<uint64_t> footprint_{0}, peak_footprint_{0};
  std::atomic<bool> failed_{false};
  std::mutex hits_mu_;
  std::vector<uint64_t> prefetch_hits_;
  std::once_flag fatal_once_;
};

}  // namespace prescient
