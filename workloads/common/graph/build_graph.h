// One entry point for building any family's graph.
#pragma once

#include <cstdint>

#include "common/graph/csr.h"
#include "common/graph/csr_builder.h"
#include "common/graph/edge_source.h"
#include "common/graph/graph_spec.h"
#include "common/graph/grid_builder.h"

namespace workload::graph {

// Undirected families are symmetrized; directed ones are stored as
// `directed_as` says (kIn for a pull-style kernel, kOut for a push-style one).
template <typename Entry>
Csr<Entry> BuildGraph(const GraphSpec& spec, uint64_t seed, Orientation directed_as) {
  if (spec.kind == GraphKind::kGrid) return BuildGridCsr<Entry>(spec, seed);
  return BuildCsr<Entry>(EdgeSource(spec, seed), spec.directed ? directed_as : Orientation::kBoth);
}

}  // namespace workload::graph
