#include "mcf/network.h"

#include <algorithm>

#include "common/random.h"

namespace mcf {

int32_t FlowNetwork::Upper(int arc) const {
  switch (kind[arc]) {
    case ArcKind::kFleet:
      return capacity[arc];  // fleet arcs come first, one per region, in region order
    case ArcKind::kIdle:
    case ArcKind::kReturn:
      return supply;
    default:
      return 1;
  }
}

namespace {

// The trips of one region in start order, with their start times alongside
// for binary search.
struct RegionIndex {
  std::vector<int32_t> trip;
  std::vector<int32_t> start;

  // Positions [lo, hi) of the trips starting within [from, to].
  std::pair<size_t, size_t> Window(int32_t from, int32_t to) const {
    auto lo = std::lower_bound(start.begin(), start.end(), from);
    auto hi = std::upper_bound(lo, start.end(), to);
    return {static_cast<size_t>(lo - start.begin()), static_cast<size_t>(hi - start.begin())};
  }
};

// The trips that may follow each trip, as compressed rows: successors of trip
// i are next[first[i] .. first[i+1]). A vehicle can run j after i when it can
// drive from i's last stop to j's first in time. Every such pair within the
// wait window is considered, and a share of them becomes arcs (real inputs
// prune the pairs too): the share falls with the wait, steeply for a high
// `wait_skew`, and is `cross_region_percent` as high into another region.
struct Successors {
  std::vector<int64_t> first;
  std::vector<int32_t> next;
};

Successors ChooseSuccessors(const Timetable& t, const FamilyShape& shape, uint64_t seed) {
  std::vector<RegionIndex> regions(static_cast<size_t>(shape.regions));
  for (size_t i = 0; i < t.trips.size(); ++i) {
    RegionIndex& r = regions[static_cast<size_t>(t.trips[i].region)];
    r.trip.push_back(static_cast<int32_t>(i));
    r.start.push_back(t.trips[i].start);
  }

  workload::Rng rng = workload::StreamRng(seed, 2);
  Successors s;
  s.first.reserve(t.trips.size() + 1);
  std::vector<int32_t> picked;
  for (const Trip& trip : t.trips) {
    s.first.push_back(static_cast<int64_t>(s.next.size()));
    picked.clear();
    for (size_t region = 0; region < regions.size(); ++region) {
      double keep = shape.keep_percent / 100.0;
      if (static_cast<int32_t>(region) != trip.region) keep *= shape.cross_region_percent / 100.0;
      if (keep <= 0) continue;
      const RegionIndex& index = regions[region];
      auto [lo, hi] = index.Window(trip.end + shape.layover, trip.end + shape.max_wait);
      for (size_t k = lo; k < hi; ++k) {
        const Trip& next = t.trips[static_cast<size_t>(index.trip[k])];
        int32_t drive = t.Travel(t.stops[trip.to], t.stops[next.from]);
        int32_t slack = next.start - trip.end - shape.layover - drive;
        if (slack < 0) continue;
        double fade = 1.0 - static_cast<double>(slack) / shape.max_wait;
        double p = keep;
        for (int32_t e = 0; e < shape.wait_skew; ++e) p *= fade;
        if (rng.UniformDouble() < p) picked.push_back(index.trip[k]);
      }
    }
    std::sort(picked.begin(), picked.end());
    s.next.insert(s.next.end(), picked.begin(), picked.end());
  }
  s.first.push_back(static_cast<int64_t>(s.next.size()));
  return s;
}

}  // namespace

void BuildNetwork(const Timetable& t, const FamilyShape& shape, uint64_t seed, FlowNetwork* n) {
  using Node = FlowNetwork::Graph::Node;
  auto& g = n->graph;
  const size_t regions = t.depots.size();
  const size_t trips = t.trips.size();
  n->trips = static_cast<int64_t>(trips);
  n->supply = static_cast<int32_t>(trips);

  Successors successors = ChooseSuccessors(t, shape, seed);
  n->deadheads = static_cast<int64_t>(successors.next.size());
  // Sized exactly up front: growing these by doubling would briefly need
  // twice the memory of the largest structures in the run.
  const size_t arcs = 2 * regions + 1 + 3 * trips + successors.next.size();
  g.reserveNode(static_cast<int>(2 + 2 * regions + 2 * trips));
  g.reserveArc(static_cast<int>(arcs));
  n->cost.reserve(arcs);
  n->kind.reserve(arcs);
  auto add_arc = [&](Node from, Node to, ArcKind kind, int64_t cost) {
    g.addArc(from, to);
    n->kind.push_back(kind);
    n->cost.push_back(static_cast<int32_t>(cost));
  };

  n->source = g.addNode();
  n->sink = g.addNode();
  std::vector<Node> depot_out(regions), depot_in(regions);
  for (size_t r = 0; r < regions; ++r) {
    depot_out[r] = g.addNode();
    depot_in[r] = g.addNode();
  }
  // Node ids of trip i: start = base + 2i, end = base + 2i + 1, so node order
  // is time order whatever the region.
  const int base = g.id(depot_in.empty() ? n->sink : depot_in.back()) + 1;
  for (size_t i = 0; i < trips; ++i) {
    g.addNode();
    g.addNode();
  }
  auto start_of = [&](size_t trip) { return g.nodeFromId(base + static_cast<int>(2 * trip)); };
  auto end_of = [&](size_t trip) { return g.nodeFromId(base + static_cast<int>(2 * trip + 1)); };

  n->capacity.assign(regions, 0);
  for (const Trip& trip : t.trips) ++n->capacity[static_cast<size_t>(trip.region)];
  for (size_t r = 0; r < regions; ++r) add_arc(n->source, depot_out[r], ArcKind::kFleet, 0);
  for (size_t r = 0; r < regions; ++r) add_arc(depot_in[r], n->sink, ArcKind::kReturn, 0);
  add_arc(n->source, n->sink, ArcKind::kIdle, 0);

  for (size_t i = 0; i < trips; ++i) {
    const Trip& trip = t.trips[i];
    const Stop& depot = t.depots[static_cast<size_t>(trip.region)];
    add_arc(depot_out[static_cast<size_t>(trip.region)], start_of(i), ArcKind::kPullOut,
            kVehicleCost + int64_t{kDriveCostPerMinute} * t.Travel(depot, t.stops[trip.from]));
    add_arc(start_of(i), end_of(i), ArcKind::kTrip, 0);
    add_arc(end_of(i), depot_in[static_cast<size_t>(trip.region)], ArcKind::kPullIn,
            int64_t{kDriveCostPerMinute} * t.Travel(t.stops[trip.to], depot));
    for (int64_t k = successors.first[i]; k < successors.first[i + 1]; ++k) {
      size_t j = static_cast<size_t>(successors.next[static_cast<size_t>(k)]);
      const Trip& next = t.trips[j];
      int32_t drive = t.Travel(t.stops[trip.to], t.stops[next.from]);
      int32_t wait = next.start - trip.end - drive;
      add_arc(end_of(i), start_of(j), ArcKind::kDeadhead,
              int64_t{kDriveCostPerMinute} * drive + int64_t{kWaitCostPerMinute} * wait);
    }
  }
}

}  // namespace mcf
