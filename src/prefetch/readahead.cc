// `readahead`: Fastswap's prefetcher, which is Linux's swap cluster readahead
// (mm/swap_state.c). The window is sized from how many earlier readahead
// pages were hit, and the pages read are the aligned cluster around the fault.
#include <algorithm>
#include <bit>

#include "prefetch/policies.h"

namespace prescient {

namespace {

class ReadaheadPrefetcher final : public Prefetcher {
 public:
  explicit ReadaheadPrefetcher(const PrefetchOptions& options)
      : options_(options), max_pages_(std::bit_floor(std::max<uint32_t>(1, options.max_pages))) {}

  std::string_view name() const override { return "readahead"; }

  void on_fault(const FaultEvent& fault, std::vector<uint64_t>* out) override {
    uint64_t window = NextWindow(fault.page_no);
    if (window <= 1) return;
    AppendCluster(fault.page_no, window, out);
  }

  void on_prefetch_hit(uint64_t) override { ++hits_; }

 private:
  // __swapin_nr_pages(): two pages more than the hits since the last fault,
  // rounded up to a power of two, capped; a lone fault with no hits and no
  // neighbour gets no readahead; the window shrinks by at most half a step.
  uint64_t NextWindow(uint64_t page) {
    uint64_t hits = std::exchange(hits_, 0);
    uint64_t pages = hits + 2;
    if (pages == 2) {
      bool adjacent = page == prev_page_ + 1 || page + 1 == prev_page_;
      if (!adjacent) pages = 1;
    } else {
      pages = std::bit_ceil(pages);
    }
    pages = std::min<uint64_t>(pages, max_pages_);
    prev_page_ = page;
    if (pages < last_window_ / 2) pages = last_window_ / 2;  // don't collapse at once
    last_window_ = pages;
    return pages;
  }

  // swap_cluster_readahead(): the aligned block of `window` pages holding the fault.
  void AppendCluster(uint64_t page, uint64_t window, std::vector<uint64_t>* out) const {
    uint64_t start = page & ~(window - 1);
    for (uint64_t p = start; p < start + window; ++p) {
      if (p == page) continue;
      if (options_.region_pages != 0 && p >= options_.region_pages) break;
      out->push_back(p);
    }
  }

  PrefetchOptions options_;
  uint32_t max_pages_;
  uint64_t hits_ = 0;
  uint64_t prev_page_ = ~uint64_t{0} - 1;
  uint64_t last_window_ = 0;
};

}  // namespace

std::unique_ptr<Prefetcher> MakeReadaheadPrefetcher(const PrefetchOptions& options) {
  return std::make_unique<ReadaheadPrefetcher>(options);
}

}  // namespace prescient
