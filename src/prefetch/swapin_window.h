// The readahead window heuristic Linux's swap-in paths share
// (mm/swap_state.c: __swapin_nr_pages()). Both `readahead` (cluster, by swap
// offset) and `vma-readahead` (by virtual address) size their window with it;
// they differ in what "previous offset" and "hits" mean and where the window
// is placed.
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <optional>

namespace prescient {

// The largest power-of-two window not above `max_pages`: the kernel's
// 1 << page_cluster. max_pages = 8 is page_cluster = 3, the kernel default.
// The window counts the faulting page, so a window of 8 prefetches 7 pages.
inline uint32_t SwapinMaxWindow(uint32_t max_pages) { return std::bit_floor(std::max<uint32_t>(1, max_pages)); }

// A fault with no readahead hits to judge by still gets a (two-page) window
// if it sits next to the previous one: "must not get stuck here forever".
// With no previous fault there is nothing to be adjacent to.
inline bool IsAdjacent(std::optional<uint64_t> prev, uint64_t page) {
  return prev && (page == *prev + 1 || page + 1 == *prev);
}

// __swapin_nr_pages(): two more pages than the readahead hits since the last
// fault, rounded up to a power of two (at least 4); with no hits, 2 pages for
// an adjacent fault and 1 (no readahead) otherwise; capped at `max_window`;
// and never below half the previous window, so one unlucky fault does not
// collapse a window that was working.
inline uint32_t SwapinNrPages(std::optional<uint64_t> prev, uint64_t page, uint64_t hits, uint32_t max_window, uint32_t prev_window) {
  // Hits beyond the cap cannot change the result; clamping keeps bit_ceil defined.
  uint64_t pages = std::min<uint64_t>(hits, max_window) + 2;
  if (pages == 2) {
    if (!IsAdjacent(prev, page)) pages = 1;
  } else {
    pages = std::max<uint64_t>(4, std::bit_ceil(pages));
  }
  pages = std::min<uint64_t>(pages, max_window);
  pages = std::max<uint64_t>(pages, prev_window / 2);  // don't shrink readahead too fast
  return static_cast<uint32_t>(pages);
}

}  // namespace prescient
