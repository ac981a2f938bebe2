// `vma-readahead`: Hermit's prefetcher, which is Linux's VMA-based swap
// readahead (mm/swap_state.c: swap_vma_ra_win(), called swap_ra_info()
// before 6.4, and swap_vma_readahead()).
//
// Unlike cluster readahead it works in virtual address order, so it follows
// the application's layout rather than the order pages were swapped out. The
// state is per VMA; a region is one VMA covering pages [0, region_pages).
//
//   window size:  SwapinNrPages() (the same heuristic as `readahead`), fed
//                 with this VMA's hits and the last address it saw, which is
//                 the last fault *or the last readahead hit*;
//   placement:    forward from the fault if it is one page after that
//                 address, backward if one page before, otherwise centred;
//   clipping:     to the VMA and to the page-table page holding the fault.
#include <algorithm>
#include <cstdint>
#include <optional>

#include "prefetch/candidates.h"
#include "prefetch/policies.h"
#include "prefetch/swapin_window.h"

namespace prescient {

namespace {

// SWAP_RA_ORDER_CEILING on 64-bit: the VMA window never exceeds 32 pages,
// whatever page_cluster says.
constexpr uint32_t kSwapRaMaxWindow = 1u << 5;
// SWAP_RA_HITS_MAX: hits are packed into the low bits of swap_readahead_info.
constexpr uint32_t kSwapRaHitsMax = (1u << 6) - 1;
// PTRS_PER_PTE on x86-64: the kernel copies the PTEs of one page-table page,
// so a window never crosses a 2 MiB (PMD) boundary. We assume the region
// starts 2 MiB-aligned, as large mappings do.
constexpr uint64_t kPtesPerTable = 512;

enum class Direction { kForward, kBackward, kCentred };

// [start, end) in pages, before clipping (start may be negative).
struct Span {
  int64_t start;
  int64_t end;
};

class VmaReadaheadPrefetcher final : public Prefetcher {
 public:
  explicit VmaReadaheadPrefetcher(const PrefetchOptions& options)
      : region_end_(RegionEnd(options)), max_window_(std::min(SwapinMaxWindow(options.max_pages), kSwapRaMaxWindow)) {}

  std::string_view name() const override { return "vma-readahead"; }

  // swap_vma_readahead(): read every page of the clipped window but the fault.
  void on_fault(const FaultEvent& fault, std::vector<uint64_t>* out) override {
    uint64_t page = fault.page_no;
    std::optional<uint64_t> prev = ra_addr_;
    uint32_t window = SwapVmaRaWin(page);
    if (window <= 1) return;
    Direction dir = ReadaheadDirection(prev, page);
    Span span = ClampToVmaAndTable(PlaceWindow(dir, page, window), page);
    if (span.start >= span.end) return;
    uint64_t start = static_cast<uint64_t>(span.start), end = static_cast<uint64_t>(span.end);
    if (dir == Direction::kBackward) {
      AppendDescending(start, end, page, out);
    } else {
      AppendAscending(start, end, page, out);
    }
  }

  // lookup_swap_cache() in VMA mode: a readahead hit counts towards the
  // VMA's next window and becomes the address the next fault is compared
  // with, so a scan that runs through its readahead still looks adjacent.
  void on_prefetch_hit(uint64_t page, std::vector<uint64_t>*) override {
    hits_ = std::min(hits_ + 1, kSwapRaHitsMax);
    ra_addr_ = page;
  }

 private:
  // swap_vma_ra_win(), sizing half: the window from this VMA's hits and last
  // address; then the fault becomes the VMA's address and the hits restart.
  uint32_t SwapVmaRaWin(uint64_t page) {
    if (max_window_ <= 1) return 1;
    uint32_t window = SwapinNrPages(ra_addr_, page, hits_, max_window_, ra_win_);
    ra_addr_ = page;
    ra_win_ = window;
    hits_ = 0;
    return window;
  }

  // Which way the application is moving: only a step of exactly one page
  // counts as a direction; anything else centres the window on the fault.
  static Direction ReadaheadDirection(std::optional<uint64_t> prev, uint64_t page) {
    if (prev && page == *prev + 1) return Direction::kForward;
    if (prev && *prev == page + 1) return Direction::kBackward;
    return Direction::kCentred;
  }

  // swap_vma_ra_win(), placement half: forward starts at the fault, backward
  // ends at it, centred puts (window - 1) / 2 pages before it.
  static Span PlaceWindow(Direction dir, uint64_t page, uint32_t window) {
    int64_t fault = static_cast<int64_t>(page);
    int64_t left = 0;
    switch (dir) {
      case Direction::kForward: left = fault; break;
      case Direction::kBackward: left = fault - window + 1; break;
      case Direction::kCentred: left = fault - (window - 1) / 2; break;
    }
    return {left, left + window};
  }

  // The clamps at the end of swap_vma_ra_win(): the window is cut, not
  // shifted, at the VMA's ends and at the page-table page's ends.
  Span ClampToVmaAndTable(Span span, uint64_t page) const {
    int64_t table_start = static_cast<int64_t>(page & ~(kPtesPerTable - 1));
    int64_t table_end = table_start + static_cast<int64_t>(kPtesPerTable);
    int64_t vma_end = region_end_ > static_cast<uint64_t>(INT64_MAX) ? INT64_MAX : static_cast<int64_t>(region_end_);
    return {std::max({span.start, int64_t{0}, table_start}), std::min({span.end, vma_end, table_end})};
  }

  const uint64_t region_end_;
  const uint32_t max_window_;
  // vma->swap_readahead_info: last address, last window, hits since.
  std::optional<uint64_t> ra_addr_;
  uint32_t ra_win_ = 0;
  uint32_t hits_ = 0;
};

}  // namespace

std::unique_ptr<Prefetcher> MakeVmaReadaheadPrefetcher(const PrefetchOptions& options) {
  return std::make_unique<VmaReadaheadPrefetcher>(options);
}

}  // namespace prescient
