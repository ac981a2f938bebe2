#include "sssp/delta_stepping.h"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <limits>
#include <vector>

namespace workload {
namespace {

constexpr size_t kNoBin = std::numeric_limits<size_t>::max();
// A thread keeps processing its own bin alone while it holds fewer vertices
// than this; sharing a small bin costs more in barriers than it saves (GAP).
constexpr size_t kLocalBinLimit = 1000;

using Bins = std::vector<std::vector<uint32_t>>;

uint32_t Load(const uint32_t& d) { return std::atomic_ref<const uint32_t>(d).load(std::memory_order_relaxed); }

// Lowers the distances of u's neighbors through u, filing each improved
// neighbor in the bin of its new distance.
void RelaxEdges(const graph::Csr<graph::WeightedEntry>& graph, uint32_t u, uint32_t delta, uint32_t* distance,
                Bins& bins) {
  for (const graph::WeightedEntry* e = graph.begin(u); e != graph.end(u); ++e) {
    std::atomic_ref<uint32_t> target(distance[e->vertex]);
    uint32_t old_distance = target.load(std::memory_order_relaxed);
    uint32_t new_distance = Load(distance[u]) + e->weight;
    while (new_distance < old_distance) {
      if (target.compare_exchange_weak(old_distance, new_distance, std::memory_order_relaxed)) {
        size_t bin = new_distance / delta;
        if (bin >= bins.size()) bins.resize(bin + 1);
        bins[bin].push_back(e->vertex);
        break;
      }
    }
  }
}

}  // namespace

ShortestPaths DeltaStepping(const graph::Csr<graph::WeightedEntry>& graph, uint32_t source, uint32_t delta) {
  const int64_t n = static_cast<int64_t>(graph.num_vertices);
  ShortestPaths result;
  result.distance = graph::LargeArray<uint32_t>(n);
  uint32_t* distance = result.distance.data();
#pragma omp parallel for schedule(static)
  for (int64_t v = 0; v < n; ++v) distance[v] = kUnreachable;
  distance[source] = 0;

  // The shared frontier: the vertices of the current bin, gathered from
  // every thread's local bin. It may hold a vertex more than once, and
  // vertices whose distance has since dropped below the bin (skipped). Each
  // entry is a successful relaxation, so it can never outgrow the edge count;
  // as in GAP it is sized so, but only the part ever used is touched.
  graph::LargeArray<uint32_t> frontier(graph.num_entries() + 1);
  frontier[0] = source;
  // Double-buffered as in GAP, so that a round needs only two barriers: one
  // slot describes the bin being processed, the other collects the next.
  size_t bin_index[2] = {0, kNoBin};
  size_t frontier_size[2] = {1, 0};
  uint64_t rounds = 0;

#pragma omp parallel
  {
    Bins bins;
    for (size_t iteration = 0; bin_index[iteration & 1] != kNoBin; ++iteration) {
      size_t& current_bin = bin_index[iteration & 1];
      size_t& next_bin = bin_index[(iteration + 1) & 1];
      size_t& current_size = frontier_size[iteration & 1];
      size_t& next_size = frontier_size[(iteration + 1) & 1];
      const uint64_t bin_start = delta * static_cast<uint64_t>(current_bin);

#pragma omp for nowait schedule(dynamic, 64)
      for (size_t i = 0; i < current_size; ++i) {
        uint32_t u = frontier[i];
        if (Load(distance[u]) >= bin_start) RelaxEdges(graph, u, delta, distance, bins);
      }
      while (current_bin < bins.size() && !bins[current_bin].empty() && bins[current_bin].size() < kLocalBinLimit) {
        std::vector<uint32_t> mine = std::move(bins[current_bin]);
        bins[current_bin].clear();
        for (uint32_t u : mine) RelaxEdges(graph, u, delta, distance, bins);
      }
      for (size_t i = current_bin; i < bins.size(); ++i) {
        if (!bins[i].empty()) {
#pragma omp critical(delta_stepping_next_bin)
          next_bin = std::min(next_bin, i);
          break;
        }
      }
#pragma omp barrier
      // Everyone has proposed and finished reading the frontier: retire
      // this round's slot and gather the next bin into the frontier.
#pragma omp single nowait
      {
        current_bin = kNoBin;
        current_size = 0;
        ++rounds;
      }
      if (next_bin < bins.size() && !bins[next_bin].empty()) {
        size_t offset = std::atomic_ref<size_t>(next_size).fetch_add(bins[next_bin].size(), std::memory_order_relaxed);
        std::copy(bins[next_bin].begin(), bins[next_bin].end(), frontier.data() + offset);
        bins[next_bin].clear();
      }
#pragma omp barrier
    }
  }
  result.rounds = rounds;
  return result;
}

}  // namespace workload
