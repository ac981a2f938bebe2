// Parallel delta-stepping single-source shortest paths, as in GAP's sssp.cc
// (Meyer and Sanders' algorithm with GAP's thread-local bins): vertices are
// settled in buckets of distance width `delta`; each round relaxes the
// shared frontier of the lowest non-empty bucket, and a thread keeps
// relaxing its own part of the current bucket while it stays small.
#pragma once

#include <cstdint>

#include "common/graph/csr.h"
#include "common/graph/large_array.h"

namespace workload {

inline constexpr uint32_t kUnreachable = UINT32_MAX;

struct ShortestPaths {
  graph::LargeArray<uint32_t> distance;  // kUnreachable where no path exists
  uint64_t rounds = 0;                   // shared frontiers processed
};

// Distances are exact whatever the thread count or interleaving; only the
// work done to reach them varies. Path lengths must fit in 32 bits (at most
// 255 per edge, so up to 16 million edges on a path).
ShortestPaths DeltaStepping(const graph::Csr<graph::WeightedEntry>& graph, uint32_t source, uint32_t delta);

}  // namespace workload
