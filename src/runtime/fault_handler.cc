#include "runtime/fault_handler.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "common/clock.h"
#include "runtime/thread_role.h"

namespace prescient {

namespace {
constexpr size_t kMaxMessages = 64;
alignas(kPageSize) const std::byte kZeroPage[kPageSize] = {};
}  // namespace

FaultHandler::FaultHandler(RegionCore* core, Evictor* evictor, PrefetchWorker* prefetch, std::unique_ptr<Prefetcher> prefetcher)
    : core_(core), evictor_(evictor), prefetch_(prefetch), prefetcher_(std::move(prefetcher)) {}

FaultHandler::~FaultHandler() {
  Stop();
  if (stop_fd_ >= 0) close(stop_fd_);
}

Status FaultHandler::Start() {
  if (core_->signal_path()) return AttachSignalFaults(core_->base(), core_->pages() << kPageShift, this);
  stop_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (stop_fd_ < 0) return Status::FromErrno("eventfd", errno);
  int n = std::max(1, core_->options().fault_threads);
  for (int i = 0; i < n; ++i) threads_.emplace_back([this] { Run(); });
  return Status::Ok();
}

void FaultHandler::Stop() {
  if (stop_.exchange(true)) return;
  if (core_->signal_path()) return DetachSignalFaults(this);
  uint64_t one = 1;
  if (stop_fd_ >= 0) {
    ssize_t ignored = write(stop_fd_, &one, sizeof(one));
    (void)ignored;
  }
  for (auto& t : threads_) t.join();
  threads_.clear();
}

bool FaultHandler::AwaitMessages(uint64_t last_fault_ns) {
  const RegionOptions& opt = core_->options();
  bool spin = opt.loop == FaultLoopMode::kSpin ||
              (opt.loop == FaultLoopMode::kHybrid && NowNanos() - last_fault_ns < static_cast<uint64_t>(opt.spin_us) * 1000);
  if (spin) {
    CpuRelax();
    return !stop_.load(std::memory_order_relaxed);
  }
  pollfd fds[2] = {{core_->uffd().fd(), POLLIN, 0}, {stop_fd_, POLLIN, 0}};
  // The timeout is a safety net for a missed stop; messages wake us at once.
  int r = poll(fds, 2, 1000);
  if (r < 0 && errno != EINTR) core_->Fatal(Status::FromErrno("poll on userfaultfd", errno));
  return !stop_.load(std::memory_order_relaxed);
}

void FaultHandler::Run() {
  MarkRuntimeThread();
  uffd_msg msgs[kMaxMessages];
  uint64_t last_fault_ns = 0;
  while (!stop_.load(std::memory_order_relaxed) && !core_->failed()) {
    ssize_t n = read(core_->uffd().fd(), msgs, sizeof(msgs));
    if (n > 0) {
      HandleBatch(msgs, static_cast<size_t>(n) / sizeof(uffd_msg));
      last_fault_ns = NowNanos();
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
      core_->Fatal(Status::FromErrno("read from userfaultfd", errno));
      return;
    }
    if (!AwaitMessages(last_fault_ns)) return;
  }
}

void FaultHandler::HandleBatch(const uffd_msg* msgs, size_t count) {
  const uint64_t start_ns = NowNanos();
  std::vector<Pending> pending;
  pending.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    const uffd_msg& m = msgs[i];
    if (m.event != UFFD_EVENT_PAGEFAULT) continue;
    uint64_t page = core_->PageOf(m.arg.pagefault.address);
    if (page >= core_->pages()) continue;
    if (m.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WP) {
      OnWriteProtect(page, m.arg.pagefault.feat.ptid);
    } else {
      OnMissing(page, (m.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WRITE) != 0, m.arg.pagefault.feat.ptid, &pending);
    }
  }
  ServePending(pending, start_ns);
}

void FaultHandler::ServePending(const std::vector<Pending>& pending, uint64_t start_ns) {
  if (pending.empty()) {
    // Only hits (staged pages touched, prefetches caught in flight, first
    // writes): the policy acts on them now, not at the next demand fault.
    Predict(pending, start_ns);
    return;
  }
  evictor_->MakeRoom(0);
  // On the signal path nobody sleeps in the kernel; the install wakes
  // whoever waits on the page's futex.
  const bool wake_by_copy = !core_->signal_path();

  // Submit the reads first, so zero-fills and inference overlap the transfer.
  thread_local std::vector<std::byte> buffer(kMaxMessages * kPageSize);
  thread_local std::vector<PageIo> reads;
  reads.clear();
  for (size_t i = 0; i < pending.size(); ++i) {
    if (!pending[i].was_empty) reads.push_back({pending[i].page, buffer.data() + i * kPageSize});
  }
  Status st;
  IoTicket ticket = reads.empty() ? 0 : core_->backend().read_pages(reads, &st);
  if (!reads.empty() && ticket == 0) {
    core_->Fatal(Status::Unavailable(fmt::format("cannot read from {}: {}", core_->backend().describe(), st.message())));
    return;
  }
  for (const Pending& p : pending) {
    if (!p.was_empty) continue;
    // A zero page installed writable on a write fault saves a second fault;
    // where nothing is ever evicted, a clean page would save nothing (D106).
    const bool fill_ahead = core_->FillsZeroAhead();
    st = core_->Install(p.page, kZeroPage, /*dirty=*/p.write || fill_ahead, /*backed=*/false, /*prefetched=*/false, wake_by_copy);
    if (!st.ok()) return core_->Fatal(st);
    if (fill_ahead) core_->FillZeroAhead(p.page + 1, RegionCore::kZeroFillAhead);
    core_->fault_latency().Record(NowNanos() - start_ns);
  }
  core_->counters().zero_fills.fetch_add(pending.size() - reads.size(), std::memory_order_relaxed);
  Predict(pending, start_ns);

  if (ticket != 0) {
    st = core_->backend().wait(ticket);
    if (!st.ok()) {
      // Never zero-fill in place of lost data: the faulting threads stay
      // blocked and the process ends with the error.
      core_->Fatal(Status::Unavailable(fmt::format("reading {} pages from {} failed: {}", reads.size(), core_->backend().describe(), st.message())));
      return;
    }
    core_->counters().pages_fetched.fetch_add(reads.size(), std::memory_order_relaxed);
    for (size_t i = 0; i < pending.size(); ++i) {
      const Pending& p = pending[i];
      if (p.was_empty) continue;
      st = core_->Install(p.page, buffer.data() + i * kPageSize, /*dirty=*/p.write, /*backed=*/true, /*prefetched=*/false, wake_by_copy);
      if (!st.ok()) return core_->Fatal(st);
      core_->fault_latency().Record(NowNanos() - start_ns);
    }
  }
}

void FaultHandler::OnMissing(uint64_t page, bool write, uint32_t thread_id, std::vector<Pending>* pending) {
  PageStateTable& table = core_->table();
  PageWord w = table.Load(page);
  while (true) {
    PageState s = w.state();
    if (s == PageState::kEmpty || s == PageState::kRemote) {
      bool was_empty = false;
      if (core_->BeginFetch(page, /*for_prefetch=*/false, &was_empty)) {
        CountDemandFault(page, write, thread_id);
        pending->push_back({page, write, was_empty, thread_id});
        return;
      }
      w = table.Load(page);
      continue;
    }
    if (s == PageState::kStaged) {
      // A staged prefetch's first touch: the hit the policy should see.
      if (!table.Cas(page, &w, w.with_state(PageState::kFetching).clear(PageWord::kPrefetched))) continue;
      Status st = core_->InstallStaged(page, /*dirty=*/write, /*wake_now=*/!core_->signal_path());
      if (!st.ok()) return core_->Fatal(st);
      core_->NotePrefetchHit(page);
      return;
    }
    if (IsMapped(s)) {
      // Installed after this fault was raised: the access just needs a retry.
      if (w.has(PageWord::kPrefetched) && table.Cas(page, &w, w.clear(PageWord::kPrefetched))) core_->NotePrefetchHit(page);
      RetryFaulter(page);
      return;
    }
    // Someone else owns the page right now; its owner wakes us when done. A
    // prefetch caught in flight is a late prefetch hit, not a demand fault.
    bool late_prefetch = s == PageState::kFetching && w.has(PageWord::kPrefetched);
    PageWord waiting = w.set(PageWord::kWaiter).clear(late_prefetch ? PageWord::kPrefetched : 0);
    if (waiting.raw == w.raw || table.Cas(page, &w, waiting)) {
      if (late_prefetch) {
        core_->counters().prefetch_late.fetch_add(1, std::memory_order_relaxed);
        core_->NotePrefetchHit(page);
      } else if (s == PageState::kFetching) {
        NoteJoinedFetch(page, write, thread_id);
      }
      // Any other owner (evicting, freeing, unprotecting) leaves the page
      // where the retry finds it; that fault counts if it must fetch (D60).
      return;
    }
  }
}

void FaultHandler::NoteJoinedFetch(uint64_t page, bool write, uint32_t thread_id) {
  // The access waits on a read another fault started, which counted it: one
  // page read, one demand fault, as the simulator counts it. The trace still
  // records the access, for a smaller cache may not have held the page.
  if (FaultObserver* observer = core_->options().observer.get()) observer->OnFault(page, thread_id, write);
}

void FaultHandler::CountDemandFault(uint64_t page, bool write, uint32_t thread_id) {
  core_->counters().demand_faults.fetch_add(1, std::memory_order_relaxed);
  if (FaultObserver* observer = core_->options().observer.get()) observer->OnFault(page, thread_id, write);
}

void FaultHandler::OnWriteProtect(uint64_t page, uint32_t thread_id) {
  PageStateTable& table = core_->table();
  PageWord w = table.Load(page);
  while (true) {
    PageState s = w.state();
    if (s == PageState::kClean) {
      if (!table.Cas(page, &w, w.with_state(PageState::kUnprotecting))) continue;
      Status st = core_->uffd().WriteProtect(core_->PageAddress(page), kPageSize, /*protect=*/false, /*wake=*/!core_->signal_path());
      if (!st.ok()) return core_->Fatal(st);
      PageWord before = table.Exchange(page, w.with_state(PageState::kDirty).clear(PageWord::kPrefetched | PageWord::kWaiter));
      if (before.has(PageWord::kPrefetched)) core_->NotePrefetchHit(page);
      if (before.has(PageWord::kWaiter)) core_->WakePage(page);
      core_->counters().write_protect_faults.fetch_add(1, std::memory_order_relaxed);
      if (FaultObserver* observer = core_->options().observer.get()) observer->OnFirstWrite(page, thread_id);
      return;
    }
    if (IsTransient(s)) {
      if (w.has(PageWord::kWaiter) || table.Cas(page, &w, w.set(PageWord::kWaiter))) return;
      continue;
    }
    // Dirty already, or evicted since: the retry will find its way.
    RetryFaulter(page);
    return;
  }
}

void FaultHandler::RetryFaulter(uint64_t page) {
  if (!core_->signal_path()) core_->WakePage(page);
}

void FaultHandler::ServeSignalFault(uintptr_t address, bool write) {
  const uint64_t start_ns = NowNanos();
  static thread_local const uint32_t thread_id = static_cast<uint32_t>(gettid());
  const uint64_t page = core_->PageOf(address);
  // A write to a page mapped clean and write-protected is a write-protect
  // fault; anything else found mapped was installed since the fault was raised.
  PageWord w = core_->table().Load(page);
  if (write && w.state() == PageState::kClean && !core_->MappedWritable(page)) {
    OnWriteProtect(page, thread_id);
  } else if (!IsMapped(w.state())) {
    thread_local std::vector<Pending> pending;
    pending.clear();
    OnMissing(page, write, thread_id, &pending);
    if (!pending.empty()) ServePending(pending, start_ns);
  }
  AwaitOwner(page);
}

void FaultHandler::AwaitOwner(uint64_t page) {
  PageStateTable& table = core_->table();
  PageWord w = table.Load(page);
  while (IsTransient(w.state())) {
    // Far memory is lost: stay blocked, as a thread in the kernel would,
    // rather than retry the access into the same fault for ever.
    const uint64_t timeout_ns = core_->failed() ? uint64_t{1} << 40 : 50'000'000;
    if (w.has(PageWord::kWaiter) || table.Cas(page, &w, w.set(PageWord::kWaiter))) {
      table.WaitWhile(page, w.set(PageWord::kWaiter), timeout_ns);
    }
    w = table.Load(page);
  }
}

nlohmann::json FaultHandler::prefetcher_stats() {
  std::lock_guard<std::mutex> lock(prefetcher_mu_);
  return prefetcher_ ? prefetcher_->stats() : nlohmann::json::object();
}

void FaultHandler::Predict(const std::vector<Pending>& faults, uint64_t now_ns) {
  if (!prefetcher_) return;
  std::vector<uint64_t> candidates, hits;
  core_->DrainPrefetchHits(&hits);
  {
    std::lock_guard<std::mutex> lock(prefetcher_mu_);
    for (uint64_t page : hits) prefetcher_->on_prefetch_hit(page, &candidates);
    // A first touch is no swap-in: as in Linux, it neither triggers nor
    // teaches readahead (D29).
    for (const Pending& p : faults)
      if (!p.was_empty) prefetcher_->on_fault({p.page, now_ns, p.thread_id, p.write}, &candidates);
  }
  prefetch_->Enqueue(candidates);
}

}  // namespace prescient
