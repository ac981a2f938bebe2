// Future Map upkeep, the per-fault bookkeeping of the farsight policy:
//   FutureMapObserve/<pattern>  one Observe(prev, next) on a stream of
//                               faults, with the maps unbounded or held to a
//                               bound small enough to spill chunks
//   FutureMapSuccessor          one Successor(page, ordinal) lookup
// Goal: well under the ~1 µs fault handling the cost model charges.
#include <random>
#include <vector>

#include <benchmark/benchmark.h>

#include "prefetch/future_maps.h"

namespace {

// A fault stream over `pages` pages: a fixed random walk (every page has a
// few habitual successors) with 10 % random jumps, as a pointer chase does.
std::vector<uint64_t> Stream(uint64_t pages, size_t length) {
  std::mt19937_64 rng(7);
  std::vector<std::vector<uint64_t>> next(pages);
  for (auto& n : next)
    for (int i = 0; i < 3; ++i) n.push_back(rng() % pages);
  std::vector<uint64_t> s{0};
  while (s.size() < length) {
    const uint64_t p = s.back();
    s.push_back(rng() % 10 == 0 ? rng() % pages : next[p][rng() % 3]);
  }
  return s;
}

void Observe(benchmark::State& state) {
  const uint64_t pages = static_cast<uint64_t>(state.range(0));
  const bool bounded = state.range(1) != 0;
  const std::vector<uint64_t> s = Stream(pages, 1 << 20);
  prescient::FutureMapOptions options;
  if (bounded) options.max_bytes = 1 << 20;  // far below the maps' ~40 B per page
  prescient::FutureMaps maps(options);
  size_t i = 1;
  for (auto _ : state) {
    benchmark::DoNotOptimize(maps.Observe(s[i - 1], s[i]));
    if (++i == s.size()) i = 1;
  }
  state.counters["footprint_KiB"] = static_cast<double>(maps.footprint_bytes()) / 1024;
  state.counters["spills"] = static_cast<double>(maps.chunks_spilled());
}
BENCHMARK(Observe)->Name("FutureMapObserve")->ArgNames({"pages", "bounded"})->Args({1 << 16, 0})->Args({1 << 18, 0})->Args({1 << 18, 1});

void Successor(benchmark::State& state) {
  const std::vector<uint64_t> s = Stream(1 << 16, 1 << 20);
  prescient::FutureMaps maps(prescient::FutureMapOptions{});
  for (size_t i = 1; i < s.size(); ++i) maps.Observe(s[i - 1], s[i]);
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(maps.Successor(s[i], static_cast<int>(i & 3)));
    if (++i == s.size()) i = 0;
  }
}
BENCHMARK(Successor)->Name("FutureMapSuccessor");

}  // namespace

BENCHMARK_MAIN();
