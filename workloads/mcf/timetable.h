// The input of vehicle scheduling, the problem SPEC CPU's 429.mcf/505.mcf
// solve: a timetable of trips, each of which one vehicle must run. A vehicle
// leaves a depot, runs trips one after another (driving empty, "deadheading",
// between them) and returns. The families differ in how trips spread over
// time and space, which decides how many trips can follow one another and so
// the shape of the flow network built from them (network.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mcf {

// The generator parameters of one input family.
struct FamilyShape {
  std::string name;
  int64_t trips;        // default size
  int64_t small_trips;  // --small

  // Geography: `regions` clusters of stops, each with a depot at its centre.
  int32_t regions;
  int32_t stops_per_region;
  int32_t region_radius_km;
  int32_t region_spacing_km;
  int32_t minutes_per_km;

  // Time: trips start within `horizon` minutes; `peak_percent` of them in
  // the two rush hours.
  int32_t horizon;
  int32_t peak_percent;
  int32_t min_dwell, max_dwell;  // minutes a trip takes beyond the bare drive

  // Which trips may follow which (network.cc).
  int32_t layover;               // minimum minutes between two trips of one vehicle
  int32_t max_wait;              // a vehicle idles at most this long between trips
  int32_t keep_percent;          // share of feasible pairs that become arcs, at the shortest wait
  int32_t wait_skew;             // how fast that share falls with the wait: 0 = not at all
  int32_t cross_region_percent;  // the share into another region, relative to the home region
};

// Every family, the default first.
const std::vector<FamilyShape>& Families();
const FamilyShape* FindFamily(const std::string& name);
std::vector<std::string> FamilyNames();

struct Stop {
  int32_t x_km, y_km;
  int32_t region;
};

struct Trip {
  int32_t start, end;  // minutes after the start of service
  int32_t from, to;    // stop indices
  int32_t region;
};

struct Timetable {
  std::vector<Stop> stops;
  std::vector<Stop> depots;  // one per region
  std::vector<Trip> trips;   // sorted by start time

  int32_t minutes_per_km = 1;
  int32_t Travel(const Stop& a, const Stop& b) const;  // minutes of empty driving
};

// Deterministic for (shape, trips, seed).
Timetable GenerateTimetable(const FamilyShape& shape, int64_t trips, uint64_t seed);

}  // namespace mcf
