#include "mcf/solve.h"

#include <lemon/network_simplex.h>

namespace mcf {
namespace {

using Graph = FlowNetwork::Graph;
using Simplex = lemon::NetworkSimplex<Graph, int32_t, int64_t>;

// Read-only arc maps over the network's compact per-arc data: the solver
// copies them into its own arrays, so full LEMON maps would only double the
// memory for nothing.
struct LowerMap {
  using Key = Graph::Arc;
  using Value = int32_t;
  const FlowNetwork* n;
  Value operator[](Key arc) const { return n->Lower(Graph::id(arc)); }
};

struct UpperMap {
  using Key = Graph::Arc;
  using Value = int32_t;
  const FlowNetwork* n;
  Value operator[](Key arc) const { return n->Upper(Graph::id(arc)); }
};

struct CostMap {
  using Key = Graph::Arc;
  using Value = int64_t;
  const FlowNetwork* n;
  Value operator[](Key arc) const { return n->cost[static_cast<size_t>(Graph::id(arc))]; }
};

}  // namespace

Solution Solve(const FlowNetwork& network, workload::Checksum* checksum) {
  Simplex simplex(network.graph);
  simplex.lowerMap(LowerMap{&network})
      .upperMap(UpperMap{&network})
      .costMap(CostMap{&network})
      .stSupply(network.source, network.sink, network.supply);

  Solution solution;
  solution.optimal = simplex.run() == Simplex::OPTIMAL;
  if (!solution.optimal) return solution;
  solution.total_cost = simplex.totalCost<int64_t>();
  checksum->Add(static_cast<uint64_t>(solution.total_cost));
  for (int id = 0; id <= network.graph.maxArcId(); ++id) {
    int32_t flow = simplex.flow(network.graph.arcFromId(id));
    if (flow == 0) continue;
    checksum->Add(static_cast<uint64_t>(id));
    checksum->Add(static_cast<uint64_t>(flow));
    ArcKind kind = network.kind[static_cast<size_t>(id)];
    if (kind == ArcKind::kPullOut) solution.vehicles += flow;
    if (kind == ArcKind::kDeadhead) ++solution.deadheads_used;
  }
  return solution;
}

uint64_t EstimateFootprintBytes(int64_t nodes, int64_t arcs) {
  // Per arc: SmartDigraph 16 B; our cost and kind 5 B; the simplex's source,
  // target, lower, upper, cap, flow, arc id (4 B each), cost (8 B) and state
  // (1 B) = 37 B. The simplex keeps one artificial arc per node too.
  // Per node: SmartDigraph 8 B; the simplex's supply, node id, parent, pred,
  // thread, rev_thread, succ_num, last_succ (4 B each), potential (8 B),
  // pred_dir (1 B), plus its artificial arc (37 B).
  constexpr uint64_t kPerArc = 16 + 5 + 37;
  constexpr uint64_t kPerNode = 8 + 32 + 8 + 1 + 37;
  return static_cast<uint64_t>(arcs) * kPerArc + static_cast<uint64_t>(nodes) * kPerNode;
}

}  // namespace mcf
