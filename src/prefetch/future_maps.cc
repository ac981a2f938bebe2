#include "prefetch/future_maps.h"

#include <algorithm>
#include <utility>

namespace prescient {

namespace {
constexpr uint32_t kEmpty = UINT32_MAX;
constexpr uint8_t kMaxCount = 255;
// What one root-table entry costs: the hash node with its key and iterator,
// and the list node with its pointer.
constexpr uint64_t kRootEntryBytes = 64;
}  // namespace

struct FutureMaps::Chunk {
  uint64_t id = 0;
  std::vector<uint32_t> successors;  // kChunkPages maps of K entries each
  std::vector<uint8_t> counts;       // the same layout
};

FutureMaps::FutureMaps(const FutureMapOptions& options)
    : ordinals_(std::clamp(options.ordinals, 1, 64)),
      ranking_(options.ranking),
      // A bound below one chunk would leave nowhere to record; it holds one.
      max_bytes_(options.max_bytes),
      map_bytes_(static_cast<uint64_t>(ordinals_) * (sizeof(uint32_t) + 1)),
      chunk_bytes_(map_bytes_ * kChunkPages) {}

FutureMaps::~FutureMaps() = default;

FutureMaps::Map FutureMaps::MapOf(uint64_t page, bool create) {
  const uint64_t id = page / kChunkPages;
  auto it = roots_.find(id);
  if (it != roots_.end()) {
    resident_.splice(resident_.begin(), resident_, it->second);  // most recently used first
  } else {
    auto spilled = far_.find(id);
    if (spilled == far_.end() && !create) return {};
    if (max_bytes_ != 0) {
      while (!resident_.empty() && footprint_bytes() + chunk_bytes_ + kRootEntryBytes > max_bytes_) SpillColdest();
    }
    auto chunk = std::make_unique<Chunk>();
    chunk->id = id;
    if (spilled != far_.end()) {
      *chunk = std::move(*spilled->second);
      far_.erase(spilled);
      ++refetches_;
    } else {
      chunk->id = id;
      chunk->successors.assign(static_cast<size_t>(kChunkPages) * ordinals_, kEmpty);
      chunk->counts.assign(static_cast<size_t>(kChunkPages) * ordinals_, 0);
    }
    resident_.push_front(std::move(chunk));
    it = roots_.emplace(id, resident_.begin()).first;
  }
  Chunk& c = **it->second;
  const size_t at = (page % kChunkPages) * ordinals_;
  return {c.successors.data() + at, c.counts.data() + at};
}

void FutureMaps::SpillColdest() {
  std::unique_ptr<Chunk> cold = std::move(resident_.back());
  resident_.pop_back();
  roots_.erase(cold->id);
  far_[cold->id] = std::move(cold);
  ++spills_;
}

int FutureMaps::Observe(uint64_t prev, uint64_t next) {
  if (next >= kEmpty || prev == next) return not_in_map();
  auto [succ, count] = MapOf(prev, /*create=*/true);
  const uint32_t target = static_cast<uint32_t>(next);
  int found = -1;
  for (int i = 0; i < ordinals_; ++i) {
    if (succ[i] == target) {
      found = i;
      break;
    }
  }
  if (ranking_ == FutureMapRanking::kRecency) {
    // Move (or bring) `next` to the front; the rest shift down one rank.
    const int from = found >= 0 ? found : ordinals_ - 1;
    for (int i = from; i > 0; --i) succ[i] = succ[i - 1];
    succ[0] = target;
    return found >= 0 ? found : not_in_map();
  }
  if (found < 0) {
    // A newcomer takes the lowest rank, displacing whatever held it.
    int last = ordinals_ - 1;
    succ[last] = target;
    count[last] = 1;
    // Over empty slots it moves up to the first free one, so ranks stay dense.
    while (last > 0 && succ[last - 1] == kEmpty) {
      std::swap(succ[last - 1], succ[last]);
      std::swap(count[last - 1], count[last]);
      --last;
    }
    return not_in_map();
  }
  if (count[found] == kMaxCount) {
    for (int i = 0; i < ordinals_; ++i) count[i] = static_cast<uint8_t>(count[i] / 2);  // age the whole map
  }
  ++count[found];
  for (int i = found; i > 0 && count[i] > count[i - 1]; --i) {
    std::swap(succ[i - 1], succ[i]);
    std::swap(count[i - 1], count[i]);
  }
  return found;
}

std::optional<uint64_t> FutureMaps::Successor(uint64_t page, int ordinal) {
  if (ordinal < 0 || ordinal >= ordinals_) return std::nullopt;
  Map map = MapOf(page, /*create=*/false);
  if (!map.successors) return std::nullopt;
  uint32_t s = map.successors[ordinal];
  if (s == kEmpty) return std::nullopt;
  return s;
}

int FutureMaps::Known(uint64_t page) {
  const uint32_t* succ = MapOf(page, /*create=*/false).successors;
  if (!succ) return 0;
  int n = 0;
  while (n < ordinals_ && succ[n] != kEmpty) ++n;
  return n;
}

uint64_t FutureMaps::footprint_bytes() const { return resident_.size() * (chunk_bytes_ + kRootEntryBytes); }

}  // namespace prescient
