#include "runtime/evictor.h"

#include <sys/mman.h>

#include <algorithm>
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

Evictor::Evictor(RegionCore* core) : core_(core), worker_([this] { EvictToMargin(); }) {}

Evictor::~Evictor() { Stop(); }

uint64_t Evictor::MarginPages(uint64_t budget) const {
  return std::max<uint64_t>(core_->options().evict_batch_pages, budget / 32);
}

bool Evictor::OutgrowsBudget(uint64_t budget) const {
  // While every page that holds data fits, evicting ahead of need would only
  // cause refetches (and at --local 100% a steady trickle of them).
  return core_->FootprintPages() > budget;
}

void Evictor::EvictToMargin() {
  // Work down to a margin below the budget so demand faults rarely have to
  // reclaim themselves.
  while (!core_->failed()) {
    uint64_t budget = core_->BudgetPages();
    uint64_t margin = MarginPages(budget);
    if (core_->ChargedPages() + margin <= budget || !OutgrowsBudget(budget)) break;
    if (EvictBatch() == 0) break;
  }
}

void Evictor::MakeRoom(uint64_t incoming) {
  uint64_t budget = core_->BudgetPages();
  if (core_->ChargedPages() + incoming + MarginPages(budget) / 2 > budget && OutgrowsBudget(budget)) Notify();
  while (!core_->failed() && core_->ChargedPages() + incoming > core_->BudgetPages()) {
    if (EvictBatch() == 0) break;  // everything left is in flight; allow a brief overshoot
  }
}

void Evictor::EvictAll() {
  while (!core_->failed() && EvictBatch() > 0) {
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

size_t Evictor::EvictBatch() {
  PageStateTable& table = core_->table();
  std::vector<uint64_t> victims, dirty, staged;
  std::vector<ResidencyEntry> entries;
  Demote(0);
  while (victims.empty()) {
    entries.clear();
    core_->inactive().PopOldest(core_->options().evict_batch_pages, &entries);
    // An empty inactive list is refilled from the oldest active pages.
    if (entries.empty() && Demote(core_->options().evict_batch_pages) > 0) continue;
    if (entries.empty()) return 0;
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
        if (table.Cas(e.page, &w, w.with_state(PageState::kEvicting))) {
          victims.push_back(e.page);
          if (w.state() == PageState::kDirty) dirty.push_back(e.page);
          if (w.state() == PageState::kStaged) staged.push_back(e.page);
          break;
        }
      }
    }
  }

  if (!dirty.empty()) {
    thread_local std::vector<std::byte> buffer;
    buffer.resize(dirty.size() * kPageSize);
    std::vector<PageIo> ios;
    ios.reserve(dirty.size());
    for (size_t i = 0; i < dirty.size(); ++i) {
      std::byte* addr = core_->PageAddress(dirty[i]);
      // From here on writers block in a write-protect fault until we drop it.
      Status st = core_->uffd().WriteProtect(addr, kPageSize, /*protect=*/true, /*wake=*/false);
      if (!st.ok()) {
        core_->Fatal(st);
        return 0;
      }
      CopyProtectedPage(buffer.data() + i * kPageSize, addr);
      ios.push_back({dirty[i], buffer.data() + i * kPageSize});
    }
    Status st;
    IoTicket t = core_->backend().write_pages(ios, &st);
    if (t != 0) st = core_->backend().wait(t);
    if (!st.ok()) {
      core_->Fatal(Status::Unavailable(fmt::format("write-back of {} pages to {} failed: {}", dirty.size(), core_->backend().describe(), st.message())));
      return 0;
    }
    core_->counters().pages_written_back.fetch_add(dirty.size(), std::memory_order_relaxed);
    std::sort(dirty.begin(), dirty.end());
  }

  // A staged page's buffer is freed before the page can be staged again
  // (that is, before it leaves Evicting). It is not mapped, so dropping its
  // range with the others costs nothing.
  for (uint64_t page : staged) core_->stage().Release(page);
  DropRanges(victims);

  uint64_t emptied = 0;
  for (uint64_t page : victims) {
    PageWord w = table.Load(page);
    PageWord next;
    bool was_dirty = std::binary_search(dirty.begin(), dirty.end(), page);
    bool backed = was_dirty || w.has(PageWord::kBacked);
    // Stamped before the page leaves Evicting, so the CAS that publishes it
    // as Remote also publishes the stamp to whoever fetches it next.
    core_->NoteEvicted(page, was_dirty);
    do {
      next = w.with_state(backed ? PageState::kRemote : PageState::kEmpty).clear(PageWord::kWaiter | PageWord::kPrefetched);
      if (backed) next = next.set(PageWord::kBacked);
    } while (!table.Cas(page, &w, next));
    if (!backed) ++emptied;
    if (w.has(PageWord::kWaiter)) core_->WakePage(page);
  }
  core_->Uncharge(victims.size());
  if (emptied) core_->ShrinkFootprint(emptied);
  core_->counters().pages_evicted.fetch_add(victims.size(), std::memory_order_relaxed);
  return victims.size();
}

// Drops the victims' frames, one madvise per run of consecutive pages.
void Evictor::DropRanges(const std::vector<uint64_t>& pages) {
  std::vector<uint64_t> sorted = pages;
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < sorted.size();) {
    size_t j = i + 1;
    while (j < sorted.size() && sorted[j] == sorted[j - 1] + 1) ++j;
    if (madvise(core_->PageAddress(sorted[i]), (j - i) * kPageSize, MADV_DONTNEED) != 0) {
      core_->Fatal(Status::FromErrno("MADV_DONTNEED of evicted pages", errno));
      return;
    }
    i = j;
  }
}

}  // namespace prescient
