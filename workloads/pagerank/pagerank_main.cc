// pagerank: GAP-style pull PageRank on a generated graph, as a far-memory
// workload. Usage: see --help (workloads/common/workload_args.h).
#include <omp.h>

#include <fmt/core.h>

#include "common/checksum.h"
#include "common/graph/build_graph.h"
#include "common/output.h"
#include "common/workload_args.h"
#include "pagerank/pagerank.h"

namespace workload {
namespace {

// Sizes for a peak footprint of about 1 GiB (default) or 52 MiB (--small):
// the graph (8 B per vertex, 4 B per adjacency entry) plus two 8 B score
// arrays per vertex, and 4 B of out-degree per vertex if directed.
graph::GraphSize SizeOf(const std::string& family, bool small) {
  if (family == "grid") return {.grid_side = small ? 1216u : 5500u};
  if (family == "rmat-skewed") return {.scale = small ? 19 : 23, .degree = small ? 19 : 25};
  return {.scale = small ? 19 : 23, .degree = small ? 10 : 13};  // kron, urand
}

uint64_t FootprintEstimate(const graph::GraphSpec& spec) {
  uint64_t n = spec.num_vertices;
  return 8 * (n + 1) + 4 * spec.ExpectedEntries() + 16 * n + (spec.directed ? 4 * n : 0);
}

int Main(int argc, char** argv) {
  WorkloadArgs args = ParseWorkloadArgs(argc, argv, "pagerank", "GAP-style pull PageRank on a generated graph",
                                        graph::GraphFamilies());
  if (args.threads > 0) omp_set_num_threads(args.threads);
  graph::GraphSpec spec = graph::MakeGraphSpec(args.input, SizeOf(args.input, args.small));
  fmt::print("pagerank input={} seed={} vertices={} edges={} {} footprint~{} threads={}\n", spec.family, args.seed,
             spec.num_vertices, spec.directed ? spec.ExpectedEntries() : spec.ExpectedEntries() / 2,
             spec.directed ? "directed" : "undirected", FormatBytes(FootprintEstimate(spec)), omp_get_max_threads());
  std::fflush(stdout);

  Stopwatch watch;
  graph::Csr<uint32_t> in_graph = graph::BuildGraph<uint32_t>(spec, args.seed, graph::Orientation::kIn);
  graph::LargeArray<uint32_t> out_degree;
  if (spec.directed) out_degree = OutDegrees(in_graph);
  PrintPhase("build", watch.Seconds());
  fmt::print("graph entries={} bytes={}\n", in_graph.num_entries(), FormatBytes(in_graph.bytes() + out_degree.bytes()));

  watch.Restart();
  PageRankResult result = PageRankPull(in_graph, spec.directed ? &out_degree : nullptr, PageRankOptions{});
  PrintPhase("pagerank", watch.Seconds());
  fmt::print("iterations={} error={:.3e}\n", result.iterations, result.error);

  // Scores are about 1/n: scaled by n they are about 1, kept to 1e-9.
  Checksum checksum;
  checksum.Add(result.iterations);
  const double n = static_cast<double>(spec.num_vertices);
  for (uint64_t v = 0; v < spec.num_vertices; ++v) checksum.AddFixedPoint(result.scores[v] * n, 1e-9);
  PrintPeakRss();
  checksum.Print();
  return 0;
}

}  // namespace
}  // namespace workload

int main(int argc, char** argv) { return workload::Main(argc, argv); }
