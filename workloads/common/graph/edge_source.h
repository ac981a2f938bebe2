// The edge list of an RMAT or uniform graph, generated on demand rather than
// stored: edges come in fixed blocks, each drawn from a random stream of its
// own, so any block can be regenerated in any order, on any thread, with the
// same result. The CSR builder makes several passes over it.
#pragma once

#include <cstdint>
#include <optional>

#include "common/graph/graph_spec.h"
#include "common/graph/rmat_sampler.h"
#include "common/graph/vertex_permutation.h"
#include "common/random.h"

namespace workload::graph {

class EdgeSource {
 public:
  static constexpr uint64_t kBlockEdges = uint64_t{1} << 16;

  EdgeSource(const GraphSpec& spec, uint64_t seed);

  uint64_t num_vertices() const { return spec_.num_vertices; }
  uint64_t num_edges() const { return spec_.num_edges; }
  uint64_t num_blocks() const { return (spec_.num_edges + kBlockEdges - 1) / kBlockEdges; }

  // Calls f(src, dst, weight) for each edge of `block`, self loops included.
  template <typename F>
  void ForEachEdge(uint64_t block, F&& f) const {
    Rng rng = StreamRng(seed_, block);
    uint64_t first = block * kBlockEdges;
    uint64_t count = spec_.num_edges - first < kBlockEdges ? spec_.num_edges - first : kBlockEdges;
    const int scale = spec_.scale;
    for (uint64_t i = 0; i < count; ++i) {
      uint64_t src, dst;
      uint32_t spare;  // 16 random bits
      if (rmat_) {
        spare = rmat_->Sample(rng, &src, &dst);
      } else {
        uint64_t r = rng.Next();  // both endpoints from one draw, and the spare bits too if they fit
        src = r >> (64 - scale);
        dst = (r << scale) >> (64 - scale);
        spare = static_cast<uint32_t>((2 * scale <= 48 ? r : rng.Next()) & 0xffff);
      }
      // GAP's range [1, 255], by multiply-shift rather than a division.
      uint32_t weight = 1 + ((spare * 255) >> 16);
      if (permutation_) {
        src = (*permutation_)(src);
        dst = (*permutation_)(dst);
      }
      f(static_cast<uint32_t>(src), static_cast<uint32_t>(dst), weight);
    }
  }

 private:
  GraphSpec spec_;
  uint64_t seed_;
  std::optional<RmatSampler> rmat_;
  std::optional<VertexPermutation> permutation_;
};

}  // namespace workload::graph
