#include "pagerank/pagerank.h"

#include <atomic>
#include <cmath>

namespace workload {
namespace {

// Units of the convergence sum: 2^-48. A score change is at most 1, and all
// changes together at most 2, so the sum cannot overflow 64 bits.
constexpr double kErrorScale = 281474976710656.0;

}  // namespace

graph::LargeArray<uint32_t> OutDegrees(const graph::Csr<uint32_t>& in_graph) {
  const int64_t n = static_cast<int64_t>(in_graph.num_vertices);
  graph::LargeArray<uint32_t> degree(n);
#pragma omp parallel for schedule(static)
  for (int64_t v = 0; v < n; ++v) degree[v] = 0;
  const int64_t entries = static_cast<int64_t>(in_graph.num_entries());
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < entries; ++i)
    std::atomic_ref<uint32_t>(degree[in_graph.entries[i]]).fetch_add(1, std::memory_order_relaxed);
  return degree;
}

PageRankResult PageRankPull(const graph::Csr<uint32_t>& in_graph, const graph::LargeArray<uint32_t>* out_degree,
                            const PageRankOptions& options) {
  const int64_t n = static_cast<int64_t>(in_graph.num_vertices);
  const double init_score = 1.0 / static_cast<double>(n);
  const double base_score = (1.0 - options.damping) / static_cast<double>(n);
  PageRankResult result;
  result.scores = graph::LargeArray<double>(n);
  graph::LargeArray<double> contribution(n);
  double* scores = result.scores.data();
#pragma omp parallel for schedule(static)
  for (int64_t v = 0; v < n; ++v) scores[v] = init_score;

  for (int iteration = 0; iteration < options.max_iterations; ++iteration) {
#pragma omp parallel for schedule(static)
    for (int64_t v = 0; v < n; ++v) {
      uint64_t degree = out_degree ? (*out_degree)[v] : in_graph.degree(v);
      contribution[v] = degree ? scores[v] / static_cast<double>(degree) : 0.0;
    }
    uint64_t error_units = 0;
#pragma omp parallel for schedule(dynamic, 16384) reduction(+ : error_units)
    for (int64_t u = 0; u < n; ++u) {
      double incoming = 0;
      for (const uint32_t* v = in_graph.begin(u); v != in_graph.end(u); ++v) incoming += contribution[*v];
      double score = base_score + options.damping * incoming;
      error_units += static_cast<uint64_t>(std::fabs(score - scores[u]) * kErrorScale);
      scores[u] = score;
    }
    result.iterations = iteration + 1;
    result.error = static_cast<double>(error_units) / kErrorScale;
    if (result.error < options.tolerance) break;
  }
  return result;
}

}  // namespace workload
