#include "runtime/page_allocator.h"

#include <algorithm>

namespace prescient {

namespace {

// Best fit with a large alignment may have to skip runs the alignment does
// not fit in; past this many candidates, fresh address space is cheaper.
constexpr int kMaxAlignedCandidates = 64;

uint64_t PagesFor(size_t bytes) { return std::max<uint64_t>(1, (uint64_t{bytes} + kPageSize - 1) >> kPageShift); }

uint64_t AlignPages(size_t alignment) { return alignment <= kPageSize ? 1 : alignment >> kPageShift; }

}  // namespace

PageAllocator::PageAllocator(std::byte* base, size_t size, DiscardFn discard)
    : base_(base),
      size_(size),
      limit_pages_(size >> kPageShift),
      base_page_(reinterpret_cast<uintptr_t>(base) >> kPageShift),
      discard_(std::move(discard)) {}

PageAllocator::Page PageAllocator::AlignUp(Page page, uint64_t align_pages) const {
  // Alignment is of the address, and the base need only be page-aligned.
  uint64_t absolute = base_page_ + page;
  return (absolute + align_pages - 1) / align_pages * align_pages - base_page_;
}

size_t PageAllocator::RunBytes(size_t bytes) { return PagesFor(bytes) << kPageShift; }

void* PageAllocator::allocate(size_t bytes, size_t alignment) {
  if (alignment == 0 || (alignment & (alignment - 1)) != 0) return nullptr;
  if (bytes > size_ || alignment > size_) {
    std::lock_guard<std::mutex> lock(mu_);
    ++failed_;
    return nullptr;
  }
  const uint64_t pages = PagesFor(bytes);
  const uint64_t align_pages = AlignPages(alignment);
  std::lock_guard<std::mutex> lock(mu_);
  Page start = 0;
  if (!TakeBestFit(pages, align_pages, &start) && !TakeFromTop(pages, align_pages, &start)) {
    ++failed_;
    return nullptr;
  }
  live_.emplace(start, pages);
  ++allocations_;
  NoteLiveChange(static_cast<int64_t>(pages));
  return AddressOf(start);
}

bool PageAllocator::TakeBestFit(uint64_t pages, uint64_t align_pages, Page* start) {
  int candidates = 0;
  for (auto it = free_by_size_.lower_bound({pages, 0}); it != free_by_size_.end(); ++it) {
    auto [len, run] = *it;
    Page aligned = AlignUp(run, align_pages);
    if (aligned + pages <= run + len) {
      RemoveFreeRun(free_by_start_.find(run));
      if (aligned > run) AddFreeRun(run, aligned - run);
      if (aligned + pages < run + len) AddFreeRun(aligned + pages, run + len - aligned - pages);
      *start = aligned;
      return true;
    }
    if (++candidates == kMaxAlignedCandidates) break;
  }
  return false;
}

bool PageAllocator::TakeFromTop(uint64_t pages, uint64_t align_pages, Page* start) {
  Page aligned = AlignUp(top_, align_pages);
  if (aligned > limit_pages_ || pages > limit_pages_ - aligned) return false;
  // The alignment gap stays free. It cannot merge with a free run below it:
  // no free run ends at the top.
  if (aligned > top_) AddFreeRun(top_, aligned - top_);
  top_ = aligned + pages;
  *start = aligned;
  return true;
}

void PageAllocator::AddFreeRun(Page start, uint64_t pages) {
  free_by_start_.emplace(start, pages);
  free_by_size_.emplace(pages, start);
  free_pages_ += pages;
}

void PageAllocator::RemoveFreeRun(RunMap::iterator it) {
  free_by_size_.erase({it->second, it->first});
  free_pages_ -= it->second;
  free_by_start_.erase(it);
}

void PageAllocator::FreeAndCoalesce(Page start, uint64_t pages) {
  auto next = free_by_start_.find(start + pages);
  if (next != free_by_start_.end()) {
    pages += next->second;
    RemoveFreeRun(next);
  }
  auto after = free_by_start_.lower_bound(start);
  if (after != free_by_start_.begin()) {
    auto prev = std::prev(after);
    if (prev->first + prev->second == start) {
      start = prev->first;
      pages += prev->second;
      RemoveFreeRun(prev);
    }
  }
  if (start + pages == top_) {
    top_ = start;  // give it back to the bump space
  } else {
    AddFreeRun(start, pages);
  }
}

void PageAllocator::NoteLiveChange(int64_t delta_pages) {
  live_pages_ += static_cast<uint64_t>(delta_pages);
  peak_live_pages_ = std::max(peak_live_pages_, live_pages_);
}

void PageAllocator::Retire(Page start, uint64_t pages) {
  bool zeroed = !discard_ || discard_(AddressOf(start), pages << kPageShift);
  std::lock_guard<std::mutex> lock(mu_);
  if (zeroed) {
    FreeAndCoalesce(start, pages);
  } else {
    quarantined_pages_ += pages;
  }
}

size_t PageAllocator::release(void* p) {
  if (!IsPageStart(p)) return 0;
  const Page start = PageOf(p);
  uint64_t pages = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = live_.find(start);
    if (it == live_.end()) return 0;
    pages = it->second;
    live_.erase(it);
    ++releases_;
    NoteLiveChange(-static_cast<int64_t>(pages));
  }
  // Until Retire() re-takes the lock the run is neither live nor free, so no
  // one can be handed pages that are still being discarded.
  Retire(start, pages);
  return pages << kPageShift;
}

size_t PageAllocator::usable_size(const void* p) const {
  if (!IsPageStart(p)) return 0;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = live_.find(PageOf(p));
  return it == live_.end() ? 0 : it->second << kPageShift;
}

bool PageAllocator::try_grow_in_place(void* p, size_t new_bytes) {
  if (!IsPageStart(p) || new_bytes > size_) return false;
  const Page start = PageOf(p);
  const uint64_t want = PagesFor(new_bytes);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = live_.find(start);
  if (it == live_.end()) return false;
  const uint64_t have = it->second;
  if (want <= have) return true;
  const uint64_t extra = want - have;
  const Page end = start + have;
  if (end == top_) {
    if (extra > limit_pages_ - top_) return false;
    top_ += extra;
  } else {
    auto next = free_by_start_.find(end);
    if (next == free_by_start_.end() || next->second < extra) return false;
    uint64_t left = next->second - extra;
    RemoveFreeRun(next);
    // What is left still cannot end at the top: the run it came from did not.
    if (left > 0) AddFreeRun(end + extra, left);
  }
  it->second = want;
  ++grown_;
  NoteLiveChange(static_cast<int64_t>(extra));
  return true;
}

size_t PageAllocator::shrink_in_place(void* p, size_t new_bytes) {
  if (!IsPageStart(p)) return 0;
  const Page start = PageOf(p);
  const uint64_t want = PagesFor(new_bytes);
  uint64_t cut = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = live_.find(start);
    if (it == live_.end() || want >= it->second) return 0;
    cut = it->second - want;
    it->second = want;
    ++shrunk_;
    NoteLiveChange(-static_cast<int64_t>(cut));
  }
  Retire(start + want, cut);
  return cut << kPageShift;
}

PageAllocatorStats PageAllocator::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  PageAllocatorStats s;
  s.live_bytes = live_pages_ << kPageShift;
  s.peak_live_bytes = peak_live_pages_ << kPageShift;
  s.live_runs = live_.size();
  s.free_bytes = free_pages_ << kPageShift;
  s.free_runs = free_by_start_.size();
  s.top_bytes = top_ << kPageShift;
  s.allocations = allocations_;
  s.releases = releases_;
  s.grown_in_place = grown_;
  s.shrunk_in_place = shrunk_;
  s.failed_allocations = failed_;
  s.quarantined_bytes = quarantined_pages_ << kPageShift;
  return s;
}

}  // namespace prescient
