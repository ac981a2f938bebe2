// sssp: GAP-style delta-stepping shortest paths on a generated weighted graph,
// as a far-memory workload. Usage: see --help (workloads/common/workload_args.h).
#include <omp.h>

#include <algorithm>

#include <fmt/core.h>

#include "common/checksum.h"
#include "common/graph/build_graph.h"
#include "common/output.h"
#include "common/random.h"
#include "common/workload_args.h"
#include "sssp/delta_stepping.h"

namespace workload {
namespace {

// Sizes for a peak footprint of about 1 GiB (default) or 52 MiB (--small):
// the graph (8 B per vertex, 8 B per adjacency entry: neighbor and weight)
// and 4 B of distance per vertex.
graph::GraphSize SizeOf(const std::string& family, bool small) {
  if (family == "grid") return {.grid_side = small ? 1216u : 5600u};
  if (family == "rmat-skewed") return {.scale = small ? 18 : 22, .degree = small ? 24 : 30};
  return {.scale = small ? 18 : 22, .degree = small ? 12 : 15};  // kron, urand
}

// Bucket width. Weights are 1..255; on the low-diameter families a narrow
// bucket keeps wasted relaxations down, while the lattice's long paths
// need wide buckets or there would be tens of thousands of rounds.
uint32_t DeltaFor(const graph::GraphSpec& spec) { return spec.kind == graph::GraphKind::kGrid ? 512 : 32; }

uint64_t FootprintEstimate(const graph::GraphSpec& spec) {
  return 8 * (spec.num_vertices + 1) + 8 * spec.ExpectedEntries() + 4 * spec.num_vertices;
}

// GAP's SourcePicker: a random vertex that has an edge to follow.
uint32_t PickSource(const graph::Csr<graph::WeightedEntry>& graph, uint64_t seed) {
  Rng rng(Mix64(seed ^ 0xa54ff53a5f1d36f1ULL));
  while (true) {
    uint64_t v = rng.Uniform(graph.num_vertices);
    if (graph.degree(v) > 0) return static_cast<uint32_t>(v);
  }
}

int Main(int argc, char** argv) {
  WorkloadArgs args = ParseWorkloadArgs(argc, argv, "sssp", "GAP-style delta-stepping shortest paths on a generated graph",
                                        graph::GraphFamilies());
  if (args.threads > 0) omp_set_num_threads(args.threads);
  graph::GraphSpec spec = graph::MakeGraphSpec(args.input, SizeOf(args.input, args.small));
  fmt::print("sssp input={} seed={} vertices={} edges={} {} footprint~{} threads={}\n", spec.family, args.seed,
             spec.num_vertices, spec.directed ? spec.ExpectedEntries() : spec.ExpectedEntries() / 2,
             spec.directed ? "directed" : "undirected", FormatBytes(FootprintEstimate(spec)), omp_get_max_threads());
  std::fflush(stdout);

  Stopwatch watch;
  graph::Csr<graph::WeightedEntry> graph = graph::BuildGraph<graph::WeightedEntry>(spec, args.seed, graph::Orientation::kOut);
  PrintPhase("build", watch.Seconds());
  fmt::print("graph entries={} bytes={}\n", graph.num_entries(), FormatBytes(graph.bytes()));

  const uint32_t source = PickSource(graph, args.seed);
  const uint32_t delta = DeltaFor(spec);
  watch.Restart();
  ShortestPaths paths = DeltaStepping(graph, source, delta);
  PrintPhase("sssp", watch.Seconds());

  Checksum checksum;
  checksum.Add(source);
  uint64_t reached = 0;
  uint32_t farthest = 0;
  for (uint64_t v = 0; v < spec.num_vertices; ++v) {
    uint32_t d = paths.distance[v];
    checksum.Add(d);
    if (d != kUnreachable) {
      ++reached;
      farthest = std::max(farthest, d);
    }
  }
  fmt::print("source={} delta={} rounds={} reached={} max_distance={}\n", source, delta, paths.rounds, reached, farthest);
  PrintPeakRss();
  checksum.Print();
  return 0;
}

}  // namespace
}  // namespace workload

int main(int argc, char** argv) { return workload::Main(argc, argv); }
