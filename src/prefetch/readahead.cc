// `readahead`: Fastswap's prefetcher, which is Linux's swap cluster readahead
// (mm/swap_state.c: swapin_nr_pages() + swap_cluster_readahead()).
//
// The window is sized from how many earlier readahead pages were hit since
// the last fault (SwapinNrPages, shared with vma-readahead), and the pages
// read are the window-aligned cluster holding the fault. The kernel clusters
// by swap offset; our pages are stored one-to-one by region page number, so
// the page number plays the offset's part.
#include <optional>
#include <utility>

#include "prefetch/candidates.h"
#include "prefetch/policies.h"
#include "prefetch/swapin_window.h"

namespace prescient {

namespace {

class ReadaheadPrefetcher final : public Prefetcher {
 public:
  explicit ReadaheadPrefetcher(const PrefetchOptions& options)
      : region_end_(RegionEnd(options)), max_window_(SwapinMaxWindow(options.max_pages)) {}

  std::string_view name() const override { return "readahead"; }

  // swap_cluster_readahead(): no readahead for a window of one page.
  void on_fault(const FaultEvent& fault, std::vector<uint64_t>* out) override {
    uint32_t window = SwapinNrPagesForFault(fault.page_no);
    AppendAlignedCluster(fault.page_no, window, region_end_, out);
  }

  // lookup_swap_cache() found a readahead page: one global hit counter.
  void on_prefetch_hit(uint64_t, std::vector<uint64_t>*) override { ++hits_; }

 private:
  // swapin_nr_pages(): consumes the hits, and remembers the fault's offset
  // only when there were none. While readahead is hitting, the adjacency
  // test is not used, and the offset it will next compare against stays the
  // last fault that had to stand on its own.
  uint32_t SwapinNrPagesForFault(uint64_t page) {
    if (max_window_ <= 1) return 1;
    uint64_t hits = std::exchange(hits_, 0);
    uint32_t pages = SwapinNrPages(prev_offset_, page, hits, max_window_, last_readahead_pages_);
    if (hits == 0) prev_offset_ = page;
    last_readahead_pages_ = pages;
    return pages;
  }

  const uint64_t region_end_;
  const uint32_t max_window_;
  uint64_t hits_ = 0;
  std::optional<uint64_t> prev_offset_;
  uint32_t last_readahead_pages_ = 0;
};

}  // namespace

std::unique_ptr<Prefetcher> MakeReadaheadPrefetcher(const PrefetchOptions& options) {
  return std::make_unique<ReadaheadPrefetcher>(options);
}

}  // namespace prescient
