// Pull-direction PageRank as in GAP's pr.cc: every iteration each vertex sums
// the contributions (score / out-degree) of its in-neighbors. Vertices with no
// out-edges leak their score, as in GAP.
#pragma once

#include <cstdint>

#include "common/graph/csr.h"
#include "common/graph/large_array.h"

namespace workload {

struct PageRankOptions {
  double damping = 0.85;
  int max_iterations = 20;
  double tolerance = 1e-4;  // stop once the summed |score change| falls below it
};

struct PageRankResult {
  graph::LargeArray<double> scores;
  int iterations = 0;
  double error = 0;  // summed |score change| of the last iteration
};

// `in_graph` lists each vertex's in-neighbors. `out_degree` is null when the
// graph is undirected (out-degree = in-degree).
//
// The result does not depend on the thread count: each score is summed in
// neighbor order by one thread, and the convergence test adds per-vertex
// changes as integers (fixed point), whose sum is exact in any order, so the
// iteration count cannot differ between runs.
PageRankResult PageRankPull(const graph::Csr<uint32_t>& in_graph, const graph::LargeArray<uint32_t>* out_degree,
                            const PageRankOptions& options);

// The out-degrees of a graph given by its in-neighbors.
graph::LargeArray<uint32_t> OutDegrees(const graph::Csr<uint32_t>& in_graph);

}  // namespace workload
