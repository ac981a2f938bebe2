// ResidencyQueue: one FIFO of resident pages. A region keeps two, after
// Linux's active/inactive lists (mm/workingset.c): pages are installed on the
// inactive list and evicted from its front, except that a page refaulting
// soon after its eviction (within a budget's worth of evictions: it would
// have stayed with a larger FIFO) is installed on the active list. The
// active list is held to half the budget by moving its oldest pages to the
// back of the inactive list. A user-space pager cannot see the hardware
// accessed bits, but it sees refaults, and this keeps a hot set resident
// while streams pass through. The simulator models the same rules.
//
// Entries carry the page's install generation: a page freed or evicted and
// installed again leaves a stale entry behind, which the evictor recognises
// and skips instead of evicting the page early.
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <vector>

namespace prescient {

struct ResidencyEntry {
  uint64_t page;
  uint32_t generation;
};

class ResidencyQueue {
 public:
  void Push(uint64_t page, uint32_t generation) {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back({page, generation});
  }
  // Moves up to `max` of the oldest entries into *out.
  void PopOldest(size_t max, std::vector<ResidencyEntry>* out) {
    std::lock_guard<std::mutex> lock(mu_);
    while (max-- > 0 && !queue_.empty()) {
      out->push_back(queue_.front());
      queue_.pop_front();
    }
  }

 private:
  std::mutex mu_;
  std::deque<ResidencyEntry> queue_;
};

}  // namespace prescient
