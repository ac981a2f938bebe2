#include "mcf/dimacs.h"

#include <cstdio>

#include <fmt/core.h>

namespace mcf {

bool WriteDimacs(const FlowNetwork& n, const std::string& path) {
  using Graph = FlowNetwork::Graph;
  std::FILE* out = std::fopen(path.c_str(), "w");
  if (out == nullptr) return false;
  const Graph& g = n.graph;
  // DIMACS numbers nodes from 1.
  fmt::print(out, "c vehicle scheduling network written by workloads/mcf\n");
  fmt::print(out, "p min {} {}\n", lemon::countNodes(g), lemon::countArcs(g));
  fmt::print(out, "n {} {}\n", g.id(n.source) + 1, n.supply);
  fmt::print(out, "n {} {}\n", g.id(n.sink) + 1, -n.supply);
  for (int id = 0; id <= g.maxArcId(); ++id) {
    Graph::Arc arc = g.arcFromId(id);
    fmt::print(out, "a {} {} {} {} {}\n", g.id(g.source(arc)) + 1, g.id(g.target(arc)) + 1, n.Lower(id), n.Upper(id),
               n.cost[static_cast<size_t>(id)]);
  }
  return std::fclose(out) == 0;
}

}  // namespace mcf
