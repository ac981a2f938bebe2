#include "runtime/region_core.h"

#include <limits.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include <fmt/format.h>

#include "runtime/page_digest.h"
#include "runtime/signal_faults.h"

namespace prescient {

namespace {

void UpdatePeak(std::atomic<uint64_t>& peak, uint64_t value) {
  uint64_t prev = peak.load(std::memory_order_relaxed);
  while (value > prev && !peak.compare_exchange_weak(prev, value, std::memory_order_relaxed)) {
  }
}

// Default fatal handler. Application threads may be blocked in faults that
// can no longer be served, so the only safe outcome is to end the process;
// exit() could run destructors that fault, hence _exit().
void DieOnFatal(const Status& status) {
  std::string msg = fmt::format("prescient: fatal: far memory lost: {}; the program cannot continue without its pages\n", status.message());
  ssize_t ignored = write(STDERR_FILENO, msg.data(), msg.size());
  (void)ignored;
  _exit(70);
}

}  // namespace

RegionCore::RegionCore(const RegionOptions& options, std::unique_ptr<Backend> backend)
    : options_(options), backend_(std::move(backend)) {
  if (!options_.on_fatal) options_.on_fatal = DieOnFatal;
  // An observer (a trace capture) is told of first writes, which only
  // write-protect faults show.
  if (options_.observer) options_.dirty_tracking = DirtyTracking::kFault;
  min_budget_pages_ = kMinLocalBytes >> kPageShift;
  if (options_.local_bytes > 0) fixed_budget_pages_ = options_.local_bytes >> kPageShift;
}

RegionCore::~RegionCore() {
  if (base_) munmap(base_, pages_ << kPageShift);
  if (last_eviction_) munmap(last_eviction_, pages_ * sizeof(LastEviction));
  if (pins_) munmap(pins_, pages_ * sizeof(uint16_t));
  if (clean_digests_) munmap(clean_digests_, pages_ * sizeof(uint64_t));
  if (self_pidfd_ >= 0) close(self_pidfd_);
}

Status RegionCore::Init() {
  if (options_.local_bytes > 0 && options_.local_bytes < kMinLocalBytes)
    return Status::InvalidArgument(fmt::format("a local budget of {} bytes is below the minimum of {} bytes (1 MiB); raise it", options_.local_bytes, kMinLocalBytes));
  if (options_.local_bytes == 0 && !(options_.local_fraction > 0 && options_.local_fraction <= 1.0))
    return Status::InvalidArgument(fmt::format("local fraction {} must be above 0 and at most 1", options_.local_fraction));
  if (options_.reserve_bytes < kPageSize) return Status::InvalidArgument("region size must be at least one page");
  pages_ = options_.reserve_bytes >> kPageShift;
  void* p = mmap(nullptr, pages_ << kPageShift, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return Status::FromErrno(fmt::format("cannot reserve {} bytes of address space for the region", pages_ << kPageShift), errno);
  base_ = static_cast<std::byte*>(p);
  // Huge pages would defeat per-page residency; khugepaged must leave us alone.
  madvise(base_, pages_ << kPageShift, MADV_NOHUGEPAGE);
  if (!table_.Init(pages_)) return Status::ResourceExhausted("cannot reserve the page table");
  void* stamps = mmap(nullptr, pages_ * sizeof(LastEviction), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (stamps == MAP_FAILED) return Status::ResourceExhausted("cannot reserve the eviction stamps");
  last_eviction_ = static_cast<LastEviction*>(stamps);
  void* pins = mmap(nullptr, pages_ * sizeof(uint16_t), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (pins == MAP_FAILED) return Status::ResourceExhausted("cannot reserve the pin counts");
  pins_ = static_cast<uint16_t*>(pins);
  if (tracks_by_digest()) {
    void* digests = mmap(nullptr, pages_ * sizeof(uint64_t), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (digests == MAP_FAILED) return Status::ResourceExhausted("cannot reserve the page digests");
    clean_digests_ = static_cast<uint64_t*>(digests);
  }
  if (options_.prefetch_install == PrefetchInstall::kStage) PRESCIENT_RETURN_IF_ERROR(stage_.Init(pages_, options_.stage_slots));
  self_pidfd_ = static_cast<int>(syscall(SYS_pidfd_open, getpid(), 0));
  if (self_pidfd_ < 0) drop_runs_works_ = false;
  fault_path_ = options_.fault_path;
  if (fault_path_ == FaultPath::kAuto) fault_path_ = KernelOffersSignalFaults() ? FaultPath::kSignal : FaultPath::kThread;
  if (fault_path_ == FaultPath::kSignal && !KernelOffersSignalFaults())
    return Status::Unavailable("this kernel's userfaultfd lacks UFFD_FEATURE_SIGBUS (Linux >= 4.14); use the thread fault path");
  PRESCIENT_RETURN_IF_ERROR(uffd_.Open(signal_path()));
  return uffd_.Register(base_, pages_ << kPageShift);
}

uint64_t RegionCore::BudgetPages() const {
  if (fixed_budget_pages_ > 0) return fixed_budget_pages_;
  auto share = static_cast<uint64_t>(options_.local_fraction * static_cast<double>(PeakFootprintPages()));
  return std::max(min_budget_pages_, share);
}

void RegionCore::Charge(uint64_t pages) { UpdatePeak(peak_resident_, charged_.fetch_add(pages, std::memory_order_relaxed) + pages + EvictingPages()); }

void RegionCore::GrowFootprint(uint64_t pages) {
  UpdatePeak(peak_footprint_, footprint_.fetch_add(pages, std::memory_order_relaxed) + pages);
}

bool RegionCore::BeginFetch(uint64_t page, bool for_prefetch, bool* was_empty) {
  PageWord w = table_.Load(page);
  while (true) {
    PageState s = w.state();
    if (s != PageState::kEmpty && s != PageState::kRemote) return false;
    // Prefetching a page that holds nothing would only waste memory.
    if (for_prefetch && s == PageState::kEmpty) return false;
    // A prefetch is marked from the start, so a fault that catches it in
    // flight is known to be a (late) prefetch hit rather than a demand fault.
    PageWord fetching = w.with_state(PageState::kFetching);
    if (for_prefetch) fetching = fetching.set(PageWord::kPrefetched);
    if (table_.Cas(page, &w, fetching)) {
      *was_empty = (s == PageState::kEmpty);
      Charge(1);
      if (*was_empty) GrowFootprint(1);
      return true;
    }
  }
}

bool RegionCore::RefaultedRecently(uint64_t page) const {
  uint32_t stamp = std::atomic_ref<uint32_t>(last_eviction_[page].clock).load(std::memory_order_relaxed);
  uint32_t distance = static_cast<uint32_t>(evictions_.load(std::memory_order_relaxed)) - stamp;
  return distance < BudgetPages();
}

Status RegionCore::InstallRun(uint64_t first, uint64_t count, const std::byte* data, bool dirty, bool backed, bool prefetched, bool wake_now) {
  // One copy per stretch of pages mapped alike: writable, or write-protected.
  for (uint64_t i = 0; i < count;) {
    const bool writable = dirty || MapsCleanWritable(first + i);
    uint64_t j = i + 1;
    while (j < count && (dirty || MapsCleanWritable(first + j)) == writable) ++j;
    // The digest is in place before the page is published Clean, which is
    // when the evictor may choose it and read the digest.
    if (tracks_by_digest()) {
      for (uint64_t k = i; k < j; ++k) {
        const uint64_t digest = writable && !dirty ? NonZeroDigest(data + (k << kPageShift)) : 0;
        std::atomic_ref<uint64_t>(clean_digests_[first + k]).store(digest, std::memory_order_relaxed);
      }
    }
    PRESCIENT_RETURN_IF_ERROR(uffd_.Copy(PageAddress(first + i), data + (i << kPageShift), (j - i) << kPageShift, /*write_protect=*/!writable, wake_now, nullptr));
    i = j;
  }
  MarkInstalled(first, count, dirty, backed, prefetched, wake_now);
  return Status::Ok();
}

void RegionCore::MarkInstalled(uint64_t first, uint64_t count, bool dirty, bool backed, bool prefetched, bool woken) {
  for (uint64_t page = first; page < first + count; ++page) {
    // Demand refaults of recently evicted pages join the active list; first
    // touches and prefetches start inactive, as readahead pages do in Linux.
    const bool activate = options_.activate_refaults && backed && !prefetched && RefaultedRecently(page);
    PageWord w = table_.Load(page);
    PageWord next;
    do {
      next = w.with_state(dirty ? PageState::kDirty : PageState::kClean).next_generation().clear(PageWord::kWaiter | PageWord::kPrefetched | PageWord::kActive);
      if (backed) next = next.set(PageWord::kBacked);
      if (activate) next = next.set(PageWord::kActive);
      // Still marked unless a fault already claimed it as a late hit.
      if (prefetched && w.has(PageWord::kPrefetched)) next = next.set(PageWord::kPrefetched);
    } while (!table_.Cas(page, &w, next));
    if (w.has(PageWord::kWaiter) && !woken) WakePage(page);
    if (activate) {
      active_pages_.fetch_add(1, std::memory_order_relaxed);
      active_.Push(page, next.generation());
    } else {
      inactive_.Push(page, next.generation());
    }
  }
}

bool RegionCore::FillsZeroAhead() const {
  // A trace must see every first touch, and only a budget that follows the
  // whole footprint can never push live data out for a page nobody touches.
  return options_.observer == nullptr && fixed_budget_pages_ == 0 && options_.local_fraction >= 1.0;
}

uint64_t RegionCore::FillZeroAhead(uint64_t first, uint64_t max_pages) {
  // Take the run of Empty pages into Fetching, so nobody else maps them.
  uint64_t taken = 0;
  for (; taken < max_pages && first + taken < pages_; ++taken) {
    PageWord w = table_.Load(first + taken);
    if (w.state() != PageState::kEmpty || !table_.Cas(first + taken, &w, w.with_state(PageState::kFetching))) break;
  }
  if (taken == 0) return 0;
  Charge(taken);
  GrowFootprint(taken);
  size_t mapped = 0;
  Status st = uffd_.ZeroPage(PageAddress(first), taken << kPageShift, &mapped);
  if (!st.ok()) {
    Fatal(st);
    return 0;
  }
  // Dirty: the kernel's copy-on-write of a write to them is invisible to us.
  const uint64_t filled = mapped >> kPageShift;
  MarkInstalled(first, filled, /*dirty=*/true, /*backed=*/false, /*prefetched=*/false, /*woken=*/false);
  // A page found present (which an Empty page never should be) stays ours to fault in.
  for (uint64_t page = first + filled; page < first + taken; ++page) AbandonFetch(page, /*was_empty=*/true);
  counters_.zero_filled_ahead.fetch_add(filled, std::memory_order_relaxed);
  return filled;
}

Status RegionCore::Stage(uint64_t page) {
  PageWord w = table_.Load(page);
  while (true) {
    // A fault that caught the prefetch in flight cleared the mark and waits.
    if (!w.has(PageWord::kPrefetched) || w.has(PageWord::kWaiter)) return InstallStaged(page, /*dirty=*/false, /*wake_now=*/false);
    PageWord next = w.with_state(PageState::kStaged).next_generation().set(PageWord::kBacked);
    if (table_.Cas(page, &w, next)) {
      counters_.prefetch_staged.fetch_add(1, std::memory_order_relaxed);
      inactive_.Push(page, next.generation());
      return Status::Ok();
    }
  }
}

Status RegionCore::InstallStaged(uint64_t page, bool dirty, bool wake_now) {
  // Once installed the page is no longer ours (it may be evicted and staged
  // again under another slot at once): take its slot first. Installed as a
  // prefetch, so a hit does not count as a refault to activate.
  const uint32_t slot = stage_.SlotOf(page);
  Status st = Install(page, stage_.Buffer(slot), dirty, /*backed=*/true, /*prefetched=*/true, wake_now);
  stage_.ReleaseSlot(slot);
  return st;
}

bool RegionCore::DropRuns(std::span<const iovec> runs) {
  if (!drop_runs_works_.load(std::memory_order_relaxed)) return false;
  // At most IOV_MAX runs a call; a short count means the rest is still mapped.
  size_t first = 0;
  size_t skip = 0;  // bytes of runs[first] already dropped
  while (first < runs.size()) {
    std::vector<iovec> chunk(runs.begin() + static_cast<ptrdiff_t>(first),
                             runs.begin() + static_cast<ptrdiff_t>(std::min(runs.size(), first + IOV_MAX)));
    chunk[0].iov_base = static_cast<std::byte*>(chunk[0].iov_base) + skip;
    chunk[0].iov_len -= skip;
    long dropped = syscall(SYS_process_madvise, self_pidfd_, chunk.data(), chunk.size(), MADV_DONTNEED, 0);
    if (dropped < 0) {
      if (first == 0 && skip == 0 && (errno == EINVAL || errno == ENOSYS || errno == EPERM)) {
        drop_runs_works_ = false;  // an older kernel: madvise it is
        return false;
      }
      Fatal(Status::FromErrno("process_madvise(MADV_DONTNEED) of evicted pages", errno));
      return true;  // nothing more to do: the region has failed
    }
    size_t left = static_cast<size_t>(dropped);
    while (first < runs.size() && left >= runs[first].iov_len - skip) {
      left -= runs[first].iov_len - skip;
      ++first;
      skip = 0;
    }
    skip += left;
  }
  return true;
}

uint64_t RegionCore::NonZeroDigest(const std::byte* page) {
  const uint64_t digest = PageDigest(page);
  return digest == 0 ? 1 : digest;  // 0 marks a page mapped write-protected
}

bool RegionCore::StillClean(uint64_t page, const std::byte* contents) const {
  return NonZeroDigest(contents) == std::atomic_ref<uint64_t>(clean_digests_[page]).load(std::memory_order_relaxed);
}

void RegionCore::AbandonFetch(uint64_t page, bool was_empty) {
  PageWord w = table_.Load(page);
  while (!table_.Cas(page, &w, w.with_state(was_empty ? PageState::kEmpty : PageState::kRemote).clear(PageWord::kWaiter))) {
  }
  Uncharge(1);
  if (was_empty) ShrinkFootprint(1);
  if (w.has(PageWord::kWaiter)) WakePage(page);
}

void RegionCore::WakePage(uint64_t page) {
  if (signal_path()) return table_.WakeAll(page);
  Status st = uffd_.Wake(PageAddress(page), kPageSize);
  if (!st.ok()) Fatal(st);
}

void RegionCore::NotePrefetchHit(uint64_t page) {
  counters_.prefetch_used.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(hits_mu_);
  // Bounded: with no faults to drain it, the policy only needs recent hits.
  if (prefetch_hits_.size() < 4096) prefetch_hits_.push_back(page);
}

void RegionCore::DrainPrefetchHits(std::vector<uint64_t>* out) {
  std::lock_guard<std::mutex> lock(hits_mu_);
  out->swap(prefetch_hits_);
  prefetch_hits_.clear();
}

void RegionCore::Fatal(const Status& status) {
  std::call_once(fatal_once_, [&] {
    failed_.store(true, std::memory_order_release);
    options_.on_fatal(status);
  });
}

}  // namespace prescient
