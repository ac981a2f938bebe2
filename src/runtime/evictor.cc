#include "runtime/evictor.h"

#include <sys/mman.h>
#include <sys/uio.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <immintrin.h>

#include <fmt/format.h>

namespace prescient {

namespace {

// Copies a write-protected page out of the region. The ordering between the
// application's last write and this read comes from UFFDIO_WRITEPROTECT (the
// kernel flushes the TLB before it returns), which ThreadSanitizer cannot
// see; the copy is therefore uninstrumented, and written with intrinsics so
// the compiler cannot turn it back into an (intercepted) memcpy call.
__attribute__((no_sanitize("thread"))) void CopyProtectedPage(std::byte* dst, const std::byte* src) {
  for (size_t i = 0; i < kPageSize; i += sizeof(__m128i)) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i)));
  }
}

}  // namespace

Evictor::Evictor(RegionCore* core) : core_(core), worker_([this] { RetireQueued(); }) {}

Evictor::~Evictor() { Stop(); }

void Evictor::Stop() {
  worker_.Stop();
  // Chosen pages are Evicting: a thread touching one waits for its retirement.
  RetireQueued();
}

uint64_t Evictor::MarginPages(uint64_t budget) const {
  return std::max<uint64_t>(core_->options().evict_batch_pages, budget / 32);
}

bool Evictor::OutgrowsBudget(uint64_t budget) const {
  // While every page that holds data fits, evicting ahead of need would only
  // cause refetches (and at --local 100% a steady trickle of them).
  return core_->FootprintPages() > budget;
}

bool Evictor::NearsBudget(uint64_t incoming) const {
  uint64_t budget = core_->BudgetPages();
  return core_->ChargedPages() + incoming + MarginPages(budget) / 2 > budget && OutgrowsBudget(budget);
}

void Evictor::MakeRoom(uint64_t incoming) {
  if (NearsBudget(incoming)) {
    ChooseToMargin();
    worker_.Notify();
  }
  // The background thread is behind: retire on this thread, or wait for the
  // batch it is writing back, so that what leaves is still only what was
  // chosen.
  while (!core_->failed() && core_->ResidentPages() + incoming > core_->BudgetPages()) {
    if (RetireOneQueued()) continue;
    if (core_->ChargedPages() + incoming <= core_->BudgetPages()) {
      if (!AwaitRetirement()) break;
      continue;
    }
    if (!EvictOneBatch()) break;  // everything left is in flight; allow a brief overshoot
  }
}

bool Evictor::EvictOneBatch() {
  Batch batch;
  {
    std::lock_guard<std::mutex> lock(choose_mu_);
    if (!Choose(&batch)) return false;
  }
  Retire(batch);
  return true;
}

bool Evictor::AwaitRetirement() {
  std::unique_lock<std::mutex> lock(queue_mu_);
  const uint64_t evicting = core_->EvictingPages();
  if (evicting == 0 || core_->failed()) return false;
  // Bounded, so a failure (which retires nothing more) cannot hang us.
  retired_.wait_for(lock, std::chrono::milliseconds(10), [&] { return core_->EvictingPages() < evicting || core_->failed(); });
  return true;
}

void Evictor::ChooseToMargin() {
  std::lock_guard<std::mutex> lock(choose_mu_);
  while (!core_->failed()) {
    uint64_t budget = core_->BudgetPages();
    if (core_->ChargedPages() + MarginPages(budget) <= budget || !OutgrowsBudget(budget)) break;
    Batch batch;
    if (!Choose(&batch)) break;
    if (batch.dirty.empty()) continue;  // Choose dropped the clean ones already
    std::lock_guard<std::mutex> queue_lock(queue_mu_);
    queued_.push_back(std::move(batch));
  }
}

void Evictor::RetireQueued() {
  while (RetireOneQueued()) {
  }
}

bool Evictor::RetireOneQueued() {
  Batch batch;
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    if (queued_.empty()) return false;
    batch = std::move(queued_.front());
    queued_.pop_front();
  }
  Retire(batch);
  return true;
}

void Evictor::EvictAll() {
  RetireQueued();
  while (!core_->failed() && EvictOneBatch()) {
  }
  // A batch the background thread took may still be on its way out.
  while (AwaitRetirement()) {
  }
}

size_t Evictor::Demote(uint64_t at_least) {
  PageStateTable& table = core_->table();
  size_t moved = 0;
  std::vector<ResidencyEntry> entries;
  while (core_->ActivePages() > core_->ActiveTargetPages() || moved < at_least) {
    entries.clear();
    core_->active().PopOldest(core_->options().evict_batch_pages, &entries);
    if (entries.empty()) break;
    for (const ResidencyEntry& e : entries) {
      PageWord w = table.Load(e.page);
      while (w.generation() == e.generation && w.has(PageWord::kActive)) {
        if (w.state() == PageState::kUnprotecting) {
          // Its owner will rewrite the word from a copy that has kActive.
          core_->active().Push(e.page, e.generation);
          break;
        }
        if (!IsMapped(w.state())) break;  // being freed; discard accounts for it
        if (table.Cas(e.page, &w, w.clear(PageWord::kActive))) {
          core_->NoteActiveLeft();
          core_->inactive().Push(e.page, e.generation);
          ++moved;
          break;
        }
      }
    }
  }
  return moved;
}

bool Evictor::Choose(Batch* batch) {
  if (core_->failed()) return false;
  PageStateTable& table = core_->table();
  std::vector<ResidencyEntry> entries;
  std::vector<uint64_t> clean, staged, unverified;
  std::vector<uint64_t> chosen;  // in the order the eviction clock stamps them, as the simulator does
  Demote(0);
  while (clean.empty() && unverified.empty() && batch->dirty.empty()) {
    entries.clear();
    core_->inactive().PopOldest(core_->options().evict_batch_pages, &entries);
    // An empty inactive list is refilled from the oldest active pages.
    if (entries.empty() && Demote(core_->options().evict_batch_pages) > 0) continue;
    if (entries.empty()) return false;
    size_t pinned = 0;
    for (const ResidencyEntry& e : entries) {
      PageWord w = table.Load(e.page);
      // A stale entry (page freed, or evicted and installed again) is skipped.
      while (w.generation() == e.generation) {
        if (w.state() == PageState::kUnprotecting) {
          // Still resident, just mid-way to Dirty: keep it in line.
          core_->inactive().Push(e.page, e.generation);
          break;
        }
        if (!IsLocal(w.state()) || w.has(PageWord::kActive)) break;
        // Once Evicting, a clean page's writers wait until it has left (a
        // dirty page's writes land before the copy that write-protects it).
        if (table.Cas(e.page, &w, w.with_state(PageState::kEvicting))) {
          if (core_->Pinned(e.page)) {
            KeepPinned(e.page, w.state(), e.generation);
            ++pinned;
            break;
          }
          chosen.push_back(e.page);
          if (w.state() == PageState::kDirty) {
            batch->dirty.push_back(e.page);
          } else if (w.state() == PageState::kClean && core_->MappedWritable(e.page)) {
            unverified.push_back(e.page);
          } else {
            clean.push_back(e.page);
          }
          if (w.state() == PageState::kStaged) staged.push_back(e.page);
          break;
        }
      }
    }
    // Everything this pass found is pinned by system calls in progress: let
    // the caller overshoot briefly rather than go round the queue for ever.
    if (pinned == entries.size() && clean.empty() && unverified.empty() && batch->dirty.empty()) return false;
  }
  core_->BeginEvicting(clean.size() + unverified.size() + batch->dirty.size());
  // Every victim leaves the mapping now, so a touch from here on faults as it
  // would in the simulator, and the fault stream does not depend on when the
  // background thread runs. A dirty page's contents are copied out first;
  // only its write-back waits, and a touch waits for that (it is Evicting).
  // A staged page's buffer is freed before the page can be staged again
  // (before it leaves Evicting); it is not mapped, so dropping its range with
  // the others costs nothing.
  for (uint64_t page : staged) core_->stage().Release(page);
  // On failure the victims stay Evicting: whoever waits for them stays
  // blocked while the process ends with the error, never reading zeros.
  std::sort(unverified.begin(), unverified.end());
  if (!CopyOut(batch, unverified, &clean)) return false;
  for (uint64_t page : chosen) core_->NoteEvicted(page, std::binary_search(batch->dirty.begin(), batch->dirty.end(), page));
  std::vector<uint64_t> victims = clean;
  victims.insert(victims.end(), batch->dirty.begin(), batch->dirty.end());
  if (!DropRanges(victims)) return false;
  Publish(clean, /*written_back=*/false);
  return true;
}

void Evictor::KeepPinned(uint64_t page, PageState state, uint32_t generation) {
  PageStateTable& table = core_->table();
  PageWord w = table.Load(page);
  while (!table.Cas(page, &w, w.with_state(state).clear(PageWord::kWaiter))) {
  }
  if (w.has(PageWord::kWaiter)) core_->WakePage(page);
  // To the back of the line, as Linux rotates a page it finds in use.
  core_->inactive().Push(page, generation);
  core_->counters().pinned_waits.fetch_add(1, std::memory_order_relaxed);
}

bool Evictor::CopyOut(Batch* batch, const std::vector<uint64_t>& unverified, std::vector<uint64_t>* clean) {
  std::vector<uint64_t>& out = batch->dirty;
  out.insert(out.end(), unverified.begin(), unverified.end());
  std::sort(out.begin(), out.end());  // so that neighbours are protected in one call
  batch->contents.resize(out.size() * kPageSize);
  for (size_t i = 0; i < out.size();) {
    size_t j = i + 1;
    while (j < out.size() && out[j] == out[j - 1] + 1) ++j;
    // From here on writers block in a write-protect fault until the page is
    // published as Remote, and then fetch what they are about to change.
    Status st = core_->uffd().WriteProtect(core_->PageAddress(out[i]), (j - i) * kPageSize, /*protect=*/true, /*wake=*/false);
    if (!st.ok()) {
      core_->Fatal(st);
      return false;
    }
    for (; i < j; ++i) CopyProtectedPage(batch->contents.data() + i * kPageSize, core_->PageAddress(out[i]));
  }
  if (unverified.empty()) return true;
  // Keep, in order, only the pages to write back: the dirty ones, and the
  // unverified ones whose contents no longer match their digest. The digest
  // is of the copy, not of the page in place: the copy is what a write-back
  // would send, and reading it needs no exemption from ThreadSanitizer.
  size_t kept = 0;
  uint64_t mismatches = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    const std::byte* copy = batch->contents.data() + i * kPageSize;
    if (std::binary_search(unverified.begin(), unverified.end(), out[i])) {
      if (core_->StillClean(out[i], copy)) {
        clean->push_back(out[i]);
        continue;
      }
      ++mismatches;
    }
    if (kept != i) std::memcpy(batch->contents.data() + kept * kPageSize, copy, kPageSize);
    out[kept++] = out[i];
  }
  out.resize(kept);
  batch->contents.resize(kept * kPageSize);
  core_->counters().digest_mismatches.fetch_add(mismatches, std::memory_order_relaxed);
  return true;
}

void Evictor::Retire(Batch& batch) {
  const std::vector<uint64_t>& dirty = batch.dirty;
  if (dirty.empty()) return;
  std::vector<PageIo> ios;
  ios.reserve(dirty.size());
  for (size_t i = 0; i < dirty.size(); ++i) ios.push_back({dirty[i], batch.contents.data() + i * kPageSize});
  Status st;
  IoTicket t = core_->backend().write_pages(ios, &st);
  if (t != 0) st = core_->backend().wait(t);
  if (!st.ok()) {
    // The threads waiting for these pages stay blocked: never zeros in place of lost data.
    return core_->Fatal(Status::Unavailable(fmt::format("write-back of {} pages to {} failed: {}", dirty.size(), core_->backend().describe(), st.message())));
  }
  core_->counters().pages_written_back.fetch_add(dirty.size(), std::memory_order_relaxed);
  Publish(dirty, /*written_back=*/true);
}

void Evictor::Publish(const std::vector<uint64_t>& pages, bool written_back) {
  if (pages.empty()) return;
  PageStateTable& table = core_->table();
  uint64_t emptied = 0;
  for (uint64_t page : pages) {
    PageWord w = table.Load(page);
    PageWord next;
    const bool backed = written_back || w.has(PageWord::kBacked);
    do {
      next = w.with_state(backed ? PageState::kRemote : PageState::kEmpty).clear(PageWord::kWaiter | PageWord::kPrefetched);
      if (backed) next = next.set(PageWord::kBacked);
    } while (!table.Cas(page, &w, next));
    if (!backed) ++emptied;
    if (w.has(PageWord::kWaiter)) core_->WakePage(page);
  }
  core_->EndEvicting(pages.size());
  if (emptied) core_->ShrinkFootprint(emptied);
  core_->counters().pages_evicted.fetch_add(pages.size(), std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lock(queue_mu_);  // so a waiter cannot miss it between its test and its wait
  }
  retired_.notify_all();
}

// Drops the victims' frames: every run of consecutive pages in one
// process_madvise call where the kernel takes MADV_DONTNEED there (6.13+,
// D108), else one madvise per run.
bool Evictor::DropRanges(const std::vector<uint64_t>& pages) {
  std::vector<uint64_t> sorted = pages;
  std::sort(sorted.begin(), sorted.end());
  std::vector<iovec> runs;
  for (size_t i = 0; i < sorted.size();) {
    size_t j = i + 1;
    while (j < sorted.size() && sorted[j] == sorted[j - 1] + 1) ++j;
    runs.push_back({core_->PageAddress(sorted[i]), (j - i) * kPageSize});
    i = j;
  }
  if (runs.size() > 1 && core_->DropRuns(runs)) return !core_->failed();
  for (const iovec& run : runs) {
    if (madvise(run.iov_base, run.iov_len, MADV_DONTNEED) != 0) {
      core_->Fatal(Status::FromErrno("MADV_DONTNEED of evicted pages", errno));
      return false;
    }
  }
  return true;
}

}  // namespace prescient
