#include "mcf/timetable.h"

#include <algorithm>
#include <cstdlib>
#include <tuple>

#include "common/random.h"

namespace mcf {

const std::vector<FamilyShape>& Families() {
  // Sizes are calibrated so that the whole run peaks near 1 GiB by default
  // and near 60 MiB with --small (see EstimateFootprintBytes in solve.h).
  static const std::vector<FamilyShape> families = {
      // A city bus day: short trips on a small map, two rush hours. A trip's
      // arcs go to trips starting minutes after it ends, and node ids follow
      // time, so arcs form a narrow band along the diagonal: pricing and tree
      // updates stay near the current position.
      {.name = "dense-timetable",
       .trips = 42'000,
       .small_trips = 10'200,
       .regions = 1,
       .stops_per_region = 400,
       .region_radius_km = 10,
       .region_spacing_km = 0,
       .minutes_per_km = 2,
       .horizon = 19 * 60,
       .peak_percent = 60,
       .min_dwell = 5,
       .max_dwell = 40,
       .layover = 3,
       .max_wait = 120,
       .keep_percent = 40,
       .wait_skew = 3,
       .cross_region_percent = 0},
      // Intercity coaches over three days: trips of hours between distant
      // cities, waits of up to half a day, arcs spread evenly over that wait.
      // A trip's arcs reach a sixth of the whole node range ahead, and the
      // vehicles' chains are long, so the spanning tree is deep.
      {.name = "long-haul",
       .trips = 32'000,
       .small_trips = 7'800,
       .regions = 1,
       .stops_per_region = 200,
       .region_radius_km = 300,
       .region_spacing_km = 0,
       .minutes_per_km = 1,
       .horizon = 3 * 24 * 60,
       .peak_percent = 0,
       .min_dwell = 10,
       .max_dwell = 90,
       .layover = 15,
       .max_wait = 12 * 60,
       .keep_percent = 29,
       .wait_skew = 0,
       .cross_region_percent = 0},
      // Eight towns on a ring, each with its own depot. Trips stay in their
      // town and few deadheads leave it, but node ids follow global time
      // order, so a trip's successors are strided through the node range,
      // every eighth node or so, rather than adjacent to it.
      {.name = "clustered-depots",
       .trips = 44'000,
       .small_trips = 10'700,
       .regions = 8,
       .stops_per_region = 80,
       .region_radius_km = 8,
       .region_spacing_km = 30,
       .minutes_per_km = 2,
       .horizon = 19 * 60,
       .peak_percent = 30,
       .min_dwell = 5,
       .max_dwell = 30,
       .layover = 3,
       .max_wait = 240,
       .keep_percent = 100,
       .wait_skew = 2,
       .cross_region_percent = 5},
  };
  return families;
}

const FamilyShape* FindFamily(const std::string& name) {
  for (const FamilyShape& f : Families())
    if (f.name == name) return &f;
  return nullptr;
}

std::vector<std::string> FamilyNames() {
  std::vector<std::string> names;
  for (const FamilyShape& f : Families()) names.push_back(f.name);
  return names;
}

int32_t Timetable::Travel(const Stop& a, const Stop& b) const {
  return (std::abs(a.x_km - b.x_km) + std::abs(a.y_km - b.y_km)) * minutes_per_km;
}

namespace {

int32_t UniformIn(workload::Rng& rng, int32_t lo, int32_t hi) {  // [lo, hi]
  return lo + static_cast<int32_t>(rng.Uniform(static_cast<uint64_t>(hi - lo) + 1));
}

// Region centres on a ring (a single region sits at the origin), and a depot
// at each centre.
void PlaceStops(const FamilyShape& shape, workload::Rng& rng, Timetable* t) {
  // Integer ring positions: a regular polygon approximated on a square grid
  // keeps the generator free of floating-point trigonometry.
  static constexpr int32_t kRing[8][2] = {{2, 0}, {1, 1}, {0, 2}, {-1, 1}, {-2, 0}, {-1, -1}, {0, -2}, {1, -1}};
  for (int32_t r = 0; r < shape.regions; ++r) {
    int32_t cx = shape.regions == 1 ? 0 : kRing[r % 8][0] * shape.region_spacing_km * (1 + r / 8);
    int32_t cy = shape.regions == 1 ? 0 : kRing[r % 8][1] * shape.region_spacing_km * (1 + r / 8);
    t->depots.push_back({cx, cy, r});
    for (int32_t s = 0; s < shape.stops_per_region; ++s) {
      int32_t dx = UniformIn(rng, -shape.region_radius_km, shape.region_radius_km);
      int32_t dy = UniformIn(rng, -shape.region_radius_km, shape.region_radius_km);
      t->stops.push_back({cx + dx, cy + dy, r});
    }
  }
}

// Rush hours at 07:30 and 17:00 when service starts at 05:00; a triangular
// spread of +-90 minutes around each (sum of two uniforms).
int32_t StartTime(const FamilyShape& shape, workload::Rng& rng) {
  if (static_cast<int32_t>(rng.Uniform(100)) < shape.peak_percent) {
    int32_t centre = rng.Uniform(2) == 0 ? 150 : 720;
    int32_t start = centre + UniformIn(rng, -45, 45) + UniformIn(rng, -45, 45);
    return std::clamp(start, 0, shape.horizon - 1);
  }
  return UniformIn(rng, 0, shape.horizon - 1);
}

}  // namespace

Timetable GenerateTimetable(const FamilyShape& shape, int64_t trips, uint64_t seed) {
  Timetable t;
  t.minutes_per_km = shape.minutes_per_km;
  workload::Rng place_rng = workload::StreamRng(seed, 0);
  PlaceStops(shape, place_rng, &t);

  workload::Rng rng = workload::StreamRng(seed, 1);
  t.trips.reserve(static_cast<size_t>(trips));
  for (int64_t i = 0; i < trips; ++i) {
    Trip trip;
    trip.region = static_cast<int32_t>(rng.Uniform(static_cast<uint64_t>(shape.regions)));
    uint64_t base = static_cast<uint64_t>(trip.region) * static_cast<uint64_t>(shape.stops_per_region);
    trip.from = static_cast<int32_t>(base + rng.Uniform(static_cast<uint64_t>(shape.stops_per_region)));
    do {
      trip.to = static_cast<int32_t>(base + rng.Uniform(static_cast<uint64_t>(shape.stops_per_region)));
    } while (trip.to == trip.from && shape.stops_per_region > 1);
    trip.start = StartTime(shape, rng);
    trip.end =
        trip.start + t.Travel(t.stops[trip.from], t.stops[trip.to]) + UniformIn(rng, shape.min_dwell, shape.max_dwell);
    t.trips.push_back(trip);
  }
  // A total order, so equal start times cannot make the sort nondeterministic.
  std::sort(t.trips.begin(), t.trips.end(), [](const Trip& a, const Trip& b) {
    return std::tie(a.start, a.end, a.from, a.to) < std::tie(b.start, b.end, b.from, b.to);
  });
  return t;
}

}  // namespace mcf
