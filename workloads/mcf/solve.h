// Min-cost flow by LEMON's network simplex: the algorithm, and the memory
// behaviour, of SPEC's mcf (a spanning-tree basis walked by thread and parent
// arrays, candidate arcs priced block by block).
#pragma once

#include <cstdint>

#include "common/checksum.h"
#include "mcf/network.h"

namespace mcf {

struct Solution {
  bool optimal = false;
  int64_t total_cost = 0;
  int64_t vehicles = 0;        // flow out of the depots
  int64_t deadheads_used = 0;  // deadhead arcs carrying a vehicle
};

// Solves `network` and adds the outcome to `checksum`: the total cost, then
// every arc that carries flow with its flow, in arc id order. Network simplex
// with a fixed pivot rule is deterministic, so even among equal-cost optima
// the same flow comes out every time.
Solution Solve(const FlowNetwork& network, workload::Checksum* checksum);

// Bytes the whole run needs at its peak (graph, arc data, solver state) for a
// network of this size; the family sizes are calibrated with it.
uint64_t EstimateFootprintBytes(int64_t nodes, int64_t arcs);

}  // namespace mcf
