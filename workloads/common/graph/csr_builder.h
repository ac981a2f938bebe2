// Builds a CSR from an EdgeSource without ever storing the edge list, so the
// build's peak footprint is the finished graph's and no more.
//
// GAP builds from a stored edge list and scatters every edge to its vertex's
// slot: random writes over the whole graph. Under far memory with a fraction
// of the footprint local, nearly every one of those writes would fault. Here
// one pass counts degrees, then the vertices are split into `rounds` ranges
// of about equal size and each range is filled by its own pass over the
// (regenerated) edges, writing only inside that range's slice. Each slice is
// then sorted, deduplicated and packed to the left before the next, so the
// random writes stay within about 1/rounds of the graph at a time.
//
// Under far memory the local budget is a share of the footprint touched so
// far, so the entry array, sized for the most entries there can be, is
// touched first: otherwise the degree count, with little else touched yet,
// would do its random increments against a budget of a few pages.
//
// The result does not depend on the thread count: entries land in a slice in
// any order but each neighbor list is sorted before it is used.
#pragma once

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>

#include "common/graph/csr.h"
#include "common/graph/edge_source.h"

namespace workload::graph {

// Which adjacency a directed edge (src, dst) contributes to: kOut stores dst
// at src, kIn stores src at dst, kBoth (undirected graphs) stores both.
enum class Orientation { kOut, kIn, kBoth };

template <typename Entry>
Entry MakeEntry(uint32_t vertex, uint32_t weight);
template <>
inline uint32_t MakeEntry<uint32_t>(uint32_t vertex, uint32_t) { return vertex; }
template <>
inline WeightedEntry MakeEntry<WeightedEntry>(uint32_t vertex, uint32_t weight) { return {vertex, weight}; }

namespace internal {

// Calls f(at, other, weight) for each adjacency entry the block contributes.
template <typename F>
void ForEachEntry(const EdgeSource& source, uint64_t block, Orientation orientation, F&& f) {
  source.ForEachEdge(block, [&](uint32_t src, uint32_t dst, uint32_t weight) {
    if (src == dst) return;  // GAP drops self loops too
    if (orientation != Orientation::kIn) f(src, dst, weight);
    if (orientation != Orientation::kOut) f(dst, src, weight);
  });
}

inline constexpr uint64_t kTouchChunk = uint64_t{1} << 20;

inline uint64_t AtomicIncrement(uint64_t& counter) {
  return std::atomic_ref<uint64_t>(counter).fetch_add(1, std::memory_order_relaxed);
}

// The build's atomic increments and writes land at random places in arrays
// far larger than the caches, and an x86 locked instruction waits for the
// stores before it, so done one edge at a time every one pays a full memory
// latency in turn. Gathering a batch first lets all of a batch's misses be
// in flight at once (prefetch, then increment, then write): several times
// faster.
template <typename Entry>
class ScatterBatch {
 public:
  static constexpr int kSize = 256;

  // Counts one entry at `at`.
  void Count(uint64_t* count, uint32_t at) {
    at_[size_++] = at;
    if (size_ == kSize) FlushCounts(count);
  }
  void FlushCounts(uint64_t* count) {
    for (int i = 0; i < size_; ++i) __builtin_prefetch(&count[at_[i]], 1);
    for (int i = 0; i < size_; ++i) AtomicIncrement(count[at_[i]]);
    size_ = 0;
  }

  // Writes `entry` to the next free slot of vertex `at`.
  void Place(uint64_t* cursor, Entry* entries, uint32_t at, Entry entry) {
    at_[size_] = at;
    entry_[size_++] = entry;
    if (size_ == kSize) FlushPlacements(cursor, entries);
  }
  void FlushPlacements(uint64_t* cursor, Entry* entries) {
    uint64_t position[kSize];
    for (int i = 0; i < size_; ++i) __builtin_prefetch(&cursor[at_[i]], 1);
    for (int i = 0; i < size_; ++i) {
      position[i] = AtomicIncrement(cursor[at_[i]]);
      __builtin_prefetch(&entries[position[i]], 1);
    }
    for (int i = 0; i < size_; ++i) entries[position[i]] = entry_[i];
    size_ = 0;
  }

 private:
  int size_ = 0;
  uint32_t at_[kSize];
  Entry entry_[kSize];
};

}  // namespace internal

template <typename Entry>
Csr<Entry> BuildCsr(const EdgeSource& source, Orientation orientation, int rounds = 4) {
  const int64_t n = static_cast<int64_t>(source.num_vertices());
  const int64_t blocks = static_cast<int64_t>(source.num_blocks());
  Csr<Entry> csr;
  csr.num_vertices = n;
  csr.entries = LargeArray<Entry>(orientation == Orientation::kBoth ? 2 * source.num_edges() : source.num_edges());
  const int64_t chunks = static_cast<int64_t>((csr.entries.bytes() + internal::kTouchChunk - 1) / internal::kTouchChunk);
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < chunks; ++i) {
    uint64_t at = i * internal::kTouchChunk;
    std::memset(reinterpret_cast<char*>(csr.entries.data()) + at, 0, std::min(internal::kTouchChunk, csr.entries.bytes() - at));
  }
  csr.offsets = LargeArray<uint64_t>(n + 1);

  // Until its round packs it, offsets[v] holds v's entry count (before dedup).
  uint64_t* count = csr.offsets.data();
#pragma omp parallel for schedule(static)
  for (int64_t v = 0; v <= n; ++v) count[v] = 0;
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t b = 0; b < blocks; ++b) {
    internal::ScatterBatch<Entry> batch;
    internal::ForEachEntry(source, b, orientation, [&](uint32_t at, uint32_t, uint32_t) { batch.Count(count, at); });
    batch.FlushCounts(count);
  }
  uint64_t total = 0;
  for (int64_t v = 0; v < n; ++v) total += count[v];

  Entry* entries = csr.entries.data();
  LargeArray<uint64_t> cursor(n);
  uint64_t packed = 0;  // entries[0, packed) are final
  uint64_t counted = 0;
  int64_t lo = 0;
  for (int round = 0; round < rounds && lo < n; ++round) {
    // The next range of vertices, and where each one's entries go for now:
    // right after the packed part, so that packing only moves them a little.
    const uint64_t target = total / rounds * (round + 1);
    int64_t hi = lo;
    for (uint64_t at = packed; hi < n && (counted < target || round == rounds - 1); ++hi) {
      cursor[hi] = at;
      at += count[hi];
      counted += count[hi];
    }

#pragma omp parallel for schedule(dynamic, 1)
    for (int64_t b = 0; b < blocks; ++b) {
      internal::ScatterBatch<Entry> batch;
      internal::ForEachEntry(source, b, orientation, [&](uint32_t at, uint32_t other, uint32_t weight) {
        if (at >= lo && at < hi) batch.Place(cursor.data(), entries, at, MakeEntry<Entry>(other, weight));
      });
      batch.FlushPlacements(cursor.data(), entries);
    }

    // cursor[v] is now the end of v's entries: sort them, keep one per
    // neighbor (the lightest), and leave the start in cursor[v].
#pragma omp parallel for schedule(dynamic, 256)
    for (int64_t v = lo; v < hi; ++v) {
      Entry* first = entries + (cursor[v] - count[v]);
      Entry* last = entries + cursor[v];
      std::sort(first, last);
      last = std::unique(first, last, [](const Entry& x, const Entry& y) { return EntryVertex(x) == EntryVertex(y); });
      cursor[v] = first - entries;
      count[v] = last - first;
    }
    for (int64_t v = lo; v < hi; ++v) {  // lists only move left, so this is safe in order
      uint64_t size = count[v];
      std::memmove(entries + packed, entries + cursor[v], size * sizeof(Entry));
      csr.offsets[v] = packed;
      packed += size;
    }
    lo = hi;
  }
  csr.offsets[n] = packed;
  csr.entries.Shrink(packed);
  return csr;
}

}  // namespace workload::graph
