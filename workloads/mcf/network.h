// The min-cost flow network of vehicle scheduling, as in SPEC's mcf. A unit of
// flow is one vehicle's day:
//
//   source -fleet-> depot_out[r] -pull-out-> start(i) -trip-> end(i) -pull-in-> depot_in[r] -return-> sink
//                                            end(i) -deadhead-> start(j)   when trip j can follow trip i
//   source -idle-> sink                      (vehicles left in the depot)
//
// The source supplies one vehicle per trip and the sink absorbs them all. Each
// trip arc carries exactly one unit (lower = upper = 1), so every trip is run.
// A large fixed cost on pull-outs makes the optimum use the fewest vehicles
// first, then the least empty driving and idling.
#pragma once

#include <cstdint>
#include <vector>

#include <lemon/smart_graph.h>

#include "mcf/timetable.h"

namespace mcf {

enum class ArcKind : uint8_t { kFleet, kIdle, kReturn, kPullOut, kTrip, kDeadhead, kPullIn };

struct FlowNetwork {
  using Graph = lemon::SmartDigraph;

  Graph graph;
  Graph::Node source, sink;
  int32_t supply = 0;             // vehicles available: one per trip
  std::vector<int32_t> cost;      // by arc id
  std::vector<ArcKind> kind;      // by arc id; decides the bounds
  std::vector<int32_t> capacity;  // by region: the fleet arc's upper bound
  int64_t trips = 0;
  int64_t deadheads = 0;

  int32_t Lower(int arc) const { return kind[arc] == ArcKind::kTrip ? 1 : 0; }
  int32_t Upper(int arc) const;
};

// Cost of keeping one more vehicle: larger than any day of deadheading.
inline constexpr int32_t kVehicleCost = 100'000;
// Per minute of empty driving and of idling between trips.
inline constexpr int32_t kDriveCostPerMinute = 8;
inline constexpr int32_t kWaitCostPerMinute = 1;

// Deterministic for (timetable, shape, seed): the same arcs in the same order.
void BuildNetwork(const Timetable& timetable, const FamilyShape& shape, uint64_t seed, FlowNetwork* network);

}  // namespace mcf
