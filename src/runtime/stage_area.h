// StageArea: local buffers that hold prefetched pages, unmapped, until their
// first touch (D67, `--prefetch-install stage`).
//
// A page mapped by a prefetch is never faulted on again, so a policy cannot
// tell that it was used. A staged page is charged against the budget and can
// be evicted like a mapped one, but its first touch raises a missing-page
// fault that the fault handler serves from here: a prefetch hit the policy
// sees, at the cost of a fault round trip but no far read. FarSight's kernel
// design gets the same event as a minor fault.
//
// Thread safety: Acquire and ReleaseSlot may be called from any thread.
// SlotOf and Release(page) read the page's slot number, so only the thread
// that owns the page's state may call them (see page_states.h), and only
// while it owns it: once the page has left its hands it may be staged again
// under another slot. The state word's compare-and-swap orders the slot
// number written by Acquire before the owner that later reads it.
//
// Memory: a released buffer stays touched, and it is reused before any
// untouched one, so the buffers' resident size is the peak number of pages
// staged at once, which Acquire's `limit` bounds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

#include "prescient/status.h"

namespace prescient {

class StageArea {
 public:
  StageArea() = default;
  ~StageArea();
  StageArea(const StageArea&) = delete;
  StageArea& operator=(const StageArea&) = delete;

  // Reserves `slots` page buffers (touched only when used) for a region of
  // `region_pages` pages.
  Status Init(uint64_t region_pages, uint32_t slots);
  bool enabled() const { return buffers_ != nullptr; }

  // A free buffer, now reserved for `page`; nullptr when `limit` slots (or
  // all of them) are taken: the caller then maps the page as usual.
  std::byte* Acquire(uint64_t page, uint64_t limit);
  // The slot reserved for `page`, and a slot's buffer.
  uint32_t SlotOf(uint64_t page) const { return slot_of_[page]; }
  std::byte* Buffer(uint32_t slot) const;
  void ReleaseSlot(uint32_t slot);
  void Release(uint64_t page) { ReleaseSlot(SlotOf(page)); }

  uint32_t capacity() const { return slots_; }
  uint32_t peak_in_use() const;

 private:
  std::byte* buffers_ = nullptr;
  uint32_t* slot_of_ = nullptr;  // per region page; valid while the page holds a slot
  uint64_t region_pages_ = 0;
  uint32_t slots_ = 0;
  mutable std::mutex mu_;
  std::vector<uint32_t> free_;  // a stack: the most recently released slot is reused first
  uint32_t peak_in_use_ = 0;
};

}  // namespace prescient
