// A graph in compressed sparse row form: the neighbors of vertex v are
// entries[offsets[v] .. offsets[v+1]), sorted and free of duplicates and
// self loops. Vertex ids are 32-bit, positions 64-bit, as in GAP.
#pragma once

#include <cstdint>

#include "common/graph/large_array.h"

namespace workload::graph {

// An edge's far end and its weight (GAP's NodeWeight). Sorting by (vertex,
// weight) and keeping the first of each vertex keeps the lightest parallel edge.
struct WeightedEntry {
  uint32_t vertex;
  uint32_t weight;
  friend bool operator<(const WeightedEntry& x, const WeightedEntry& y) {
    return x.vertex != y.vertex ? x.vertex < y.vertex : x.weight < y.weight;
  }
};

inline uint32_t EntryVertex(uint32_t entry) { return entry; }
inline uint32_t EntryVertex(const WeightedEntry& entry) { return entry.vertex; }

// Entry is uint32_t (unweighted) or WeightedEntry.
template <typename Entry>
struct Csr {
  uint64_t num_vertices = 0;
  LargeArray<uint64_t> offsets;  // num_vertices + 1
  LargeArray<Entry> entries;

  uint64_t num_entries() const { return offsets[num_vertices]; }
  uint64_t degree(uint64_t v) const { return offsets[v + 1] - offsets[v]; }
  const Entry* begin(uint64_t v) const { return entries.data() + offsets[v]; }
  const Entry* end(uint64_t v) const { return entries.data() + offsets[v + 1]; }
  uint64_t bytes() const { return offsets.bytes() + entries.bytes(); }
};

}  // namespace workload::graph
