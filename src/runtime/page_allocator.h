// PageAllocator: hands out runs of whole pages from a fixed address range (the
// managed region) to the transparent heap, and takes them back.
//
// Free runs are reused best-fit and coalesced with their neighbours; address
// space never used before is bump-allocated from the top, and a free run that
// reaches the top is given back to it. All bookkeeping lives outside the range,
// in glibc's heap, so no operation here ever touches the range itself: a lock
// holder can never fault on far memory.
//
// Invariant: every page that is free (in a free run or above the top) reads as
// zero. Fresh region pages are zero-filled on first touch, and a released run
// is passed to the discard callback (Region::discard) before it is reused. So
// calloc needs no memset. A run whose discard fails is never handed out again.
//
// Thread-safe. One mutex; the discard callback runs outside it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <unordered_map>
#include <utility>

#include "prescient/backend.h"
#include "runtime/libc_allocator.h"

namespace prescient {

struct PageAllocatorStats {
  uint64_t live_bytes = 0;         // in runs handed out and not yet released
  uint64_t peak_live_bytes = 0;
  uint64_t live_runs = 0;
  uint64_t free_bytes = 0;         // in free runs below the top
  uint64_t free_runs = 0;
  uint64_t top_bytes = 0;          // address space bump-allocated so far (high-water offset)
  uint64_t allocations = 0;
  uint64_t releases = 0;
  uint64_t grown_in_place = 0;
  uint64_t shrunk_in_place = 0;
  uint64_t failed_allocations = 0; // range exhausted
  uint64_t quarantined_bytes = 0;  // discard failed, so never reused
};

class PageAllocator {
 public:
  // Forgets the contents of [addr, addr + len) so they read as zero next
  // time. Returns false when it could not.
  using DiscardFn = std::function<bool(std::byte* addr, size_t len)>;

  // Manages [base, base + size); both page-aligned. An empty `discard` means
  // released pages are trusted to read as zero already (tests).
  PageAllocator(std::byte* base, size_t size, DiscardFn discard);
  PageAllocator(const PageAllocator&) = delete;
  PageAllocator& operator=(const PageAllocator&) = delete;

  // The size of the run allocate(bytes) returns: whole pages, at least one.
  static size_t RunBytes(size_t bytes);

  // A run of RunBytes(bytes) aligned to `alignment` (a power of two; anything
  // up to a page is satisfied by page alignment). nullptr when the range has
  // no room.
  void* allocate(size_t bytes, size_t alignment = kPageSize);
  // Returns the run starting at `p`: discards it, then makes it reusable.
  // Returns its size, or 0 when `p` is not the start of a live run.
  size_t release(void* p);
  // The size of the live run starting at `p`, or 0 when there is none.
  size_t usable_size(const void* p) const;
  // Extends the live run at `p` to RunBytes(new_bytes) using the free pages
  // right after it (or the top). True if the run is now at least that large.
  bool try_grow_in_place(void* p, size_t new_bytes);
  // Cuts the live run at `p` down to RunBytes(new_bytes), releasing the tail.
  // Returns the bytes released (0 when nothing was cut).
  size_t shrink_in_place(void* p, size_t new_bytes);
  // Whether `p` lies inside the managed range (allocated or not).
  bool owns(const void* p) const {
    auto a = reinterpret_cast<uintptr_t>(p), b = reinterpret_cast<uintptr_t>(base_);
    return a >= b && a - b < size_;
  }

  std::byte* base() const { return base_; }
  size_t size() const { return size_; }
  PageAllocatorStats stats() const;

  // Held across fork() so the child inherits consistent bookkeeping.
  void lock() { mu_.lock(); }
  void unlock() { mu_.unlock(); }

 private:
  using Page = uint64_t;   // page index from base_
  using RunMap = std::map<Page, uint64_t, std::less<Page>, LibcAllocator<std::pair<const Page, uint64_t>>>;
  using SizeIndex = std::set<std::pair<uint64_t, Page>, std::less<std::pair<uint64_t, Page>>, LibcAllocator<std::pair<uint64_t, Page>>>;
  using LiveMap = std::unordered_map<Page, uint64_t, std::hash<Page>, std::equal_to<Page>, LibcAllocator<std::pair<const Page, uint64_t>>>;

  Page PageOf(const void* p) const { return static_cast<Page>(static_cast<const std::byte*>(p) - base_) >> kPageShift; }
  std::byte* AddressOf(Page page) const { return base_ + (page << kPageShift); }
  Page AlignUp(Page page, uint64_t align_pages) const;
  bool IsPageStart(const void* p) const { return owns(p) && (reinterpret_cast<uintptr_t>(p) & (kPageSize - 1)) == 0; }

  // All below require mu_.
  bool TakeBestFit(uint64_t pages, uint64_t align_pages, Page* start);
  bool TakeFromTop(uint64_t pages, uint64_t align_pages, Page* start);
  void AddFreeRun(Page start, uint64_t pages);     // no coalescing
  void RemoveFreeRun(RunMap::iterator it);
  void FreeAndCoalesce(Page start, uint64_t pages);
  void NoteLiveChange(int64_t delta_pages);

  // Discards [start, start+pages) outside the lock, then frees it (or
  // quarantines it if the discard failed).
  void Retire(Page start, uint64_t pages);

  std::byte* const base_;
  const size_t size_;
  const uint64_t limit_pages_;
  const uint64_t base_page_;   // base_ as an absolute page number
  const DiscardFn discard_;

  mutable std::mutex mu_;
  Page top_ = 0;               // first page never bump-allocated
  RunMap free_by_start_;       // start -> length; none ends at top_
  SizeIndex free_by_size_;     // (length, start), for best fit
  LiveMap live_;               // start -> length of runs handed out
  uint64_t live_pages_ = 0, peak_live_pages_ = 0, free_pages_ = 0;
  uint64_t allocations_ = 0, releases_ = 0, grown_ = 0, shrunk_ = 0, failed_ = 0, quarantined_pages_ = 0;
};

}  // namespace prescient
