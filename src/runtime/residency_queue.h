// ResidencyQueue: the eviction order. Pages are appended when they are
// installed and taken from the front (FIFO) by the evictor. A user-space pager
// cannot see the hardware accessed bits, so it cannot run the kernel's LRU
// approximation; FIFO is what it can do exactly, and the simulator models the
// same order (see docs/decisions.md).
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
  size_t size() const {
    std::lock_guard<std::mutex> lock(mu_);
    return queue_.size();
  }

 private:
  mutable std::mutex mu_;
  std::deque<ResidencyEntry> queue_;
};

}  // namespace prescient
