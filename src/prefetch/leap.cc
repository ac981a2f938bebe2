// `leap`: Leap's prefetcher (Al Maruf & Chowdhury, ATC '20), after the
// paper's Algorithms 1 and 2 and its kernel code (mm/swap_state.c of
// SymbioticLab/Leap).
//
// Trend (Algorithm 1, FindTrend): a ring of the last 32 access deltas. Look
// at the newest w deltas for w = 8, 16, 32; a Boyer-Moore majority vote names
// a candidate and a second pass counts it; a candidate seen more than w/2
// times is the trend. Leap logs every swap-cache lookup, so the history holds
// demand faults *and* first touches of prefetched pages; without the latter a
// scan whose readahead is working would show deltas of window + 1, not 1.
//
// Window (Algorithm 2, GetPrefetchWindowSize): with h prefetch hits since the
// last fault, the window is RoundUpPow2(h + 1); with none, 1 page if this
// fault follows the trend and 0 (prefetching suspended) if not; capped at
// max_pages; never below half the previous window.
//
// Prefetch (DoPrefetch): with a trend, fault + k*delta for k = 1..window;
// without one, the window-aligned cluster around the fault, which is what
// Leap's kernel code falls back to (swapin_readahead's usual path).
#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <optional>
#include <utility>

#include "prefetch/candidates.h"
#include "prefetch/policies.h"

namespace prescient {

namespace {

// Leap's access history: the deltas between consecutive accesses, newest
// last. Fixed size, so recording never allocates.
class MajorityTrend {
 public:
  static constexpr int kHistory = 32;            // Leap's history size
  static constexpr int kFirstWindow = kHistory / 4;  // N_split = 4: w starts at 8

  // log_swap_trend(): the first access has no predecessor, so no delta.
  void Record(uint64_t page) {
    if (prev_page_) {
      deltas_[head_] = static_cast<int64_t>(page - *prev_page_);
      head_ = (head_ + 1) % kHistory;
      size_ = std::min(size_ + 1, kHistory);
    }
    prev_page_ = page;
  }

  // find_trend(): the majority delta of the smallest window that has one.
  std::optional<int64_t> Find() const {
    for (int w = kFirstWindow; w <= kHistory; w *= 2) {
      if (std::optional<int64_t> delta = MajorityIn(w)) return delta;
    }
    return std::nullopt;
  }

  // The delta the newest access made, if there is one.
  std::optional<int64_t> NewestDelta() const {
    if (size_ == 0) return std::nullopt;
    return Newest(0);
  }

 private:
  // The i-th newest delta (0 = newest); i < size_.
  int64_t Newest(int i) const { return deltas_[(head_ - 1 - i + kHistory) % kHistory]; }

  // find_trend_in_region(): Boyer-Moore vote over the newest w deltas, then
  // a count to check the candidate really holds a majority. Slots not yet
  // filled count against every candidate (Leap's ring starts zeroed), so a
  // young history needs more than w/2 equal deltas, not a majority of few.
  // A delta of 0 (the same page again) predicts nothing and is no trend.
  std::optional<int64_t> MajorityIn(int w) const {
    int n = std::min(w, size_);
    if (n == 0) return std::nullopt;
    int64_t candidate = Newest(0);
    int votes = 1;
    for (int i = 1; i < n; ++i) {
      if (Newest(i) == candidate) {
        ++votes;
      } else if (--votes == 0) {
        candidate = Newest(i);
        votes = 1;
      }
    }
    int count = 0;
    for (int i = 0; i < n; ++i) count += Newest(i) == candidate;
    if (count <= w / 2 || candidate == 0) return std::nullopt;
    return candidate;
  }

  std::array<int64_t, kHistory> deltas_{};
  int head_ = 0;  // where the next delta goes
  int size_ = 0;  // deltas recorded, at most kHistory
  std::optional<uint64_t> prev_page_;
};

class LeapPrefetcher final : public Prefetcher {
 public:
  explicit LeapPrefetcher(const PrefetchOptions& options) : region_end_(RegionEnd(options)), max_window_(options.max_pages) {}

  std::string_view name() const override { return "leap"; }

  // DoPrefetch().
  void on_fault(const FaultEvent& fault, std::vector<uint64_t>* out) override {
    uint64_t page = fault.page_no;
    history_.Record(page);
    std::optional<int64_t> trend = history_.Find();
    uint32_t window = PrefetchWindowSize(FollowsTrend(trend));
    if (window == 0) return;
    if (trend) {
      AppendAlongDelta(page, *trend, window, region_end_, out);
    } else {
      AppendAlignedCluster(page, std::bit_floor(window), region_end_, out);
    }
  }

  // A prefetched page's first touch is an access Leap sees (a swap-cache
  // hit): it feeds both the window and the trend.
  void on_prefetch_hit(uint64_t page, std::vector<uint64_t>*) override {
    ++hits_;
    history_.Record(page);
  }

 private:
  // "page_t follows the current trend": the step that brought us here is
  // the majority step.
  bool FollowsTrend(std::optional<int64_t> trend) const { return trend && history_.NewestDelta() == trend; }

  // GetPrefetchWindowSize(): grows with hits, drops to one page along a
  // trend with no hits, suspends without either, and shrinks by at most
  // half per fault.
  uint32_t PrefetchWindowSize(bool follows_trend) {
    uint64_t hits = std::exchange(hits_, 0);
    uint64_t pages;
    if (hits == 0) {
      pages = follows_trend ? 1 : 0;
    } else {
      pages = std::bit_ceil(std::min<uint64_t>(hits, max_window_) + 1);
    }
    pages = std::min<uint64_t>(pages, max_window_);
    pages = std::max<uint64_t>(pages, last_window_ / 2);  // shrink smoothly
    last_window_ = static_cast<uint32_t>(pages);
    return last_window_;
  }

  const uint64_t region_end_;
  const uint32_t max_window_;
  MajorityTrend history_;
  uint64_t hits_ = 0;
  uint32_t last_window_ = 0;
};

}  // namespace

std::unique_ptr<Prefetcher> MakeLeapPrefetcher(const PrefetchOptions& options) { return std::make_unique<LeapPrefetcher>(options); }

}  // namespace prescient
