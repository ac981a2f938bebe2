// The road-like "grid" family: a width x height lattice whose edges each
// exist with probability `keep`, weights uniform in [1, 255]. Every vertex's
// neighbors follow from its coordinates, so the CSR is written in one
// sequential pass with no edge list and no sorting.
#pragma once

#include <cstdint>
#include <utility>

#include "common/checksum.h"
#include "common/graph/csr.h"
#include "common/graph/csr_builder.h"
#include "common/graph/graph_spec.h"

namespace workload::graph {

namespace internal {

// Lattice edge e: 2*id is (x,y)-(x+1,y), 2*id+1 is (x,y)-(x,y+1), id = y*width + x.
class Lattice {
 public:
  Lattice(const GraphSpec& spec, uint64_t seed)
      : width_(spec.width), height_(spec.height), key_(Mix64(seed ^ 0x3c6ef372fe94f82bULL)),
        keep_below_(static_cast<uint64_t>(spec.keep * 18446744073709551616.0)) {}

  // Calls f(neighbor, weight) for v's neighbors in increasing order.
  template <typename F>
  void ForEachNeighbor(uint64_t v, F&& f) const {
    uint64_t x = v % width_, y = v / width_;
    if (y > 0) Visit(2 * (v - width_) + 1, v - width_, f);
    if (x > 0) Visit(2 * (v - 1), v - 1, f);
    if (x + 1 < width_) Visit(2 * v, v + 1, f);
    if (y + 1 < height_) Visit(2 * v + 1, v + width_, f);
  }

 private:
  template <typename F>
  void Visit(uint64_t edge, uint64_t neighbor, F& f) const {
    uint64_t h = Mix64(key_ + edge);
    if (h >= keep_below_) return;
    f(static_cast<uint32_t>(neighbor), 1 + static_cast<uint32_t>(((h & 0xffffffffULL) * 255) >> 32));
  }

  uint64_t width_, height_, key_, keep_below_;
};

}  // namespace internal

template <typename Entry>
Csr<Entry> BuildGridCsr(const GraphSpec& spec, uint64_t seed) {
  const internal::Lattice lattice(spec, seed);
  const int64_t n = static_cast<int64_t>(spec.num_vertices);
  Csr<Entry> csr;
  csr.num_vertices = n;
  csr.offsets = LargeArray<uint64_t>(n + 1);
#pragma omp parallel for schedule(static)
  for (int64_t v = 0; v < n; ++v) {
    uint64_t degree = 0;
    lattice.ForEachNeighbor(v, [&](uint32_t, uint32_t) { ++degree; });
    csr.offsets[v] = degree;
  }
  uint64_t total = 0;
  for (int64_t v = 0; v < n; ++v) total += std::exchange(csr.offsets[v], total);
  csr.offsets[n] = total;
  csr.entries = LargeArray<Entry>(total);
#pragma omp parallel for schedule(static)
  for (int64_t v = 0; v < n; ++v) {
    Entry* out = csr.entries.data() + csr.offsets[v];
    lattice.ForEachNeighbor(v, [&](uint32_t neighbor, uint32_t weight) { *out++ = MakeEntry<Entry>(neighbor, weight); });
  }
  return csr;
}

}  // namespace workload::graph
