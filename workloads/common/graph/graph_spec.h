// What graph to build: a family and its size. The families, after GAP's
// synthetic inputs plus a skewed directed RMAT and a road-like lattice, give
// a prefetcher distinct access patterns to train on and to be tested on:
//
//   kron         RMAT a=0.57 b=0.19 c=0.19 (Graph500/GAP "kron"), undirected,
//                vertex ids randomly permuted as GAP does
//   urand        uniformly random endpoints (GAP "urand"), undirected
//   rmat-skewed  RMAT a=0.65 b=0.15 c=0.15, directed, ids permuted: a heavier
//                tail and in/out asymmetry, like a web or social graph
//   grid         road-like: a width x height lattice, each of its edges kept
//                with probability 0.7, undirected, ids in row-major order
//                (spatial locality, long paths)
//
// Every generated edge carries a weight uniform in [1, 255] (GAP's range);
// unweighted users ignore it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace workload::graph {

enum class GraphKind { kRmat, kUniform, kGrid };

struct GraphSpec {
  std::string family;
  GraphKind kind = GraphKind::kRmat;
  bool directed = false;
  uint64_t num_vertices = 0;
  // kRmat, kUniform: 2^scale vertices and num_edges generated edges (before
  // self loops and duplicates are dropped and, if undirected, symmetrized).
  int scale = 0;
  uint64_t num_edges = 0;
  double a = 0, b = 0, c = 0;  // kRmat quadrant probabilities; d = 1 - a - b - c
  bool permute_ids = false;
  // kGrid
  uint64_t width = 0, height = 0;
  double keep = 0;

  // Adjacency entries (one per direction an edge is stored in) expected
  // before duplicates are dropped, for footprint estimates.
  uint64_t ExpectedEntries() const;
};

// The family names, in the order --list-inputs prints them; the first is the default.
const std::vector<std::string>& GraphFamilies();

// How big: kRmat and kUniform families use 2^scale vertices and
// degree * 2^scale generated edges; grid uses a grid_side x grid_side lattice.
struct GraphSize {
  int scale = 0;
  int degree = 0;
  uint64_t grid_side = 0;
};

// `family` must be one of GraphFamilies().
GraphSpec MakeGraphSpec(const std::string& family, const GraphSize& size);

}  // namespace workload::graph
