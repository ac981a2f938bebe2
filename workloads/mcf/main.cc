// mcf: vehicle scheduling as min-cost flow, solved by network simplex (after
// SPEC CPU's 429.mcf/505.mcf). An ordinary program: it knows nothing of far
// memory. Usage: see workload_args.h, plus two flags of its own for checking
// the solver on tiny instances:
//   --trips N        N trips instead of the family's size
//   --dimacs FILE    also write the network in DIMACS min-cost flow format
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "common/checksum.h"
#include "common/output.h"
#include "common/workload_args.h"
#include "mcf/dimacs.h"
#include "mcf/network.h"
#include "mcf/solve.h"
#include "mcf/timetable.h"

namespace {

// Arcs grow with the square of the trips (more trips per hour, each with
// more successors); beyond this LEMON's int arc ids could overflow.
constexpr int64_t kMaxTrips = 200'000;

struct McfFlags {
  int64_t trips = 0;  // 0: the family's size
  std::string dimacs_path;
};

// Takes this program's own flags out of argv, leaving the shared ones for
// ParseWorkloadArgs (which rejects anything it does not know).
McfFlags TakeMcfFlags(int* argc, char** argv) {
  McfFlags flags;
  int kept = 1;
  for (int i = 1; i < *argc; ++i) {
    std::string arg = argv[i];
    bool trips = arg == "--trips", dimacs = arg == "--dimacs";
    if (!trips && !dimacs) {
      argv[kept++] = argv[i];
      continue;
    }
    if (i + 1 >= *argc) {
      fmt::print(stderr, "mcf: {} needs a value\n", arg);
      std::exit(2);
    }
    std::string value = argv[++i];
    if (dimacs) {
      flags.dimacs_path = value;
      continue;
    }
    char* end = nullptr;
    long long n = std::strtoll(value.c_str(), &end, 10);
    if (value.empty() || *end != '\0' || n < 1 || n > kMaxTrips) {
      fmt::print(stderr, "mcf: --trips '{}' must be an integer from 1 to {}\n", value, kMaxTrips);
      std::exit(2);
    }
    flags.trips = n;
  }
  *argc = kept;
  return flags;
}

}  // namespace

int main(int argc, char** argv) {
  McfFlags own = TakeMcfFlags(&argc, argv);
  workload::WorkloadArgs args = workload::ParseWorkloadArgs(
      argc, argv, "mcf", "vehicle scheduling as min-cost flow by network simplex (LEMON)", mcf::FamilyNames());
  const mcf::FamilyShape& shape = *mcf::FindFamily(args.input);
  int64_t trips = own.trips > 0 ? own.trips : args.small ? shape.small_trips : shape.trips;
  fmt::print("mcf: input={} seed={} size={} trips={}\n", args.input, args.seed, args.small ? "small" : "default",
             trips);
  std::fflush(stdout);

  workload::Stopwatch total;
  workload::Stopwatch phase;
  mcf::FlowNetwork network;
  {
    mcf::Timetable timetable = mcf::GenerateTimetable(shape, trips, args.seed);
    workload::PrintPhase("generate", phase.Seconds());
    phase.Restart();
    mcf::BuildNetwork(timetable, shape, args.seed, &network);
    workload::PrintPhase("build", phase.Seconds());
  }
  int64_t nodes = lemon::countNodes(network.graph), arcs = lemon::countArcs(network.graph);
  fmt::print("network: nodes={} arcs={} deadheads={} estimated_footprint={}\n", nodes, arcs, network.deadheads,
             workload::FormatBytes(mcf::EstimateFootprintBytes(nodes, arcs)));
  std::fflush(stdout);
  if (!own.dimacs_path.empty() && !mcf::WriteDimacs(network, own.dimacs_path)) {
    fmt::print(stderr, "mcf: --dimacs {}: cannot write: {}\n", own.dimacs_path, std::strerror(errno));
    return 1;
  }

  phase.Restart();
  workload::Checksum checksum;
  mcf::Solution solution = mcf::Solve(network, &checksum);
  workload::PrintPhase("solve", phase.Seconds());
  if (!solution.optimal) {
    fmt::print(stderr, "mcf: the network has no feasible flow (a generator bug)\n");
    return 1;
  }
  fmt::print("result: total_cost={} vehicles={} deadheads_used={}\n", solution.total_cost, solution.vehicles,
             solution.deadheads_used);
  workload::PrintPhase("total", total.Seconds());
  workload::PrintPeakRss();
  checksum.Print();
  return 0;
}
