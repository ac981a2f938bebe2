#include "common/graph/graph_spec.h"

#include <stdexcept>

namespace workload::graph {

uint64_t GraphSpec::ExpectedEntries() const {
  if (kind == GraphKind::kGrid) return static_cast<uint64_t>(keep * 2 * ((width - 1) * height + width * (height - 1)));
  return directed ? num_edges : 2 * num_edges;
}

const std::vector<std::string>& GraphFamilies() {
  static const std::vector<std::string> families = {"kron", "urand", "rmat-skewed", "grid"};
  return families;
}

GraphSpec MakeGraphSpec(const std::string& family, const GraphSize& size) {
  GraphSpec spec;
  spec.family = family;
  if (family == "grid") {
    spec.kind = GraphKind::kGrid;
    spec.width = spec.height = size.grid_side;
    spec.num_vertices = spec.width * spec.height;
    spec.keep = 0.7;  // above the square lattice's percolation threshold (0.5): one giant component
    return spec;
  }
  spec.scale = size.scale;
  spec.num_vertices = uint64_t{1} << size.scale;
  spec.num_edges = spec.num_vertices * size.degree;
  if (family == "kron") {
    spec.kind = GraphKind::kRmat;
    spec.a = 0.57, spec.b = 0.19, spec.c = 0.19;
    spec.permute_ids = true;
  } else if (family == "rmat-skewed") {
    spec.kind = GraphKind::kRmat;
    spec.a = 0.65, spec.b = 0.15, spec.c = 0.15;
    spec.permute_ids = true;
    spec.directed = true;
  } else if (family == "urand") {
    spec.kind = GraphKind::kUniform;
  } else {
    throw std::invalid_argument("unknown graph family " + family);
  }
  return spec;
}

}  // namespace workload::graph
