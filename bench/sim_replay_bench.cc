// Simulator replay rate on a synthetic 10 M-access trace (a mix of sweeps and
// random accesses over 64 K pages), per policy. Goal: 10 M accesses in under
// 10 s per policy on one core, i.e. at least 1 M accesses/s.
#include <unistd.h>

#include <random>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include "prescient/prefetcher.h"
#include "prescient/trace.h"
#include "sim/simulator.h"

namespace {

const prescient::AccessStream& Stream() {
  static prescient::AccessStream stream = [] {
    std::string path = fmt::format("/tmp/prescient-sim-bench-{}.trace", getpid());
    prescient::Status st;
    auto w = prescient::TraceWriter::Create(path, {{"kind", prescient::kAccessKind}}, &st);
    std::mt19937_64 rng(1);
    constexpr uint64_t kPages = 1 << 16, kAccesses = 10'000'000;
    uint64_t seq = 0;
    for (uint64_t i = 0; i < kAccesses; ++i) {
      prescient::TraceRecord r;
      r.page = (i / 4096) % 2 == 0 ? seq++ % kPages : rng() % kPages;
      r.compute_ns = 500;
      r.write = i % 7 == 0;
      (void)w->Append(r);
    }
    (void)w->Finish();
    prescient::AccessStream s;
    st = prescient::LoadAccessStream(path, &s);
    unlink(path.c_str());
    if (!st.ok()) std::abort();
    return s;
  }();
  return stream;
}

void Replay(benchmark::State& state, const std::string& policy) {
  const auto& stream = Stream();
  prescient::SimConfig config;
  config.policy = policy;
  config.local_fraction = 0.5;
  for (auto _ : state) {
    prescient::SimResult r;
    if (!prescient::Simulate(stream, config, &r).ok()) std::abort();
    benchmark::DoNotOptimize(r.demand_faults);
  }
  state.counters["accesses_per_s"] =
      benchmark::Counter(static_cast<double>(stream.records.size()) * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

}  // namespace

int main(int argc, char** argv) {
  std::string names = prescient::PrefetcherNames() + ",oracle";
  for (size_t start = 0; start < names.size();) {
    size_t comma = names.find(',', start);
    if (comma == std::string::npos) comma = names.size();
    std::string policy = names.substr(start, comma - start);
    benchmark::RegisterBenchmark(("SimReplay10M/" + policy).c_str(), Replay, policy)->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();
    start = comma + 1;
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
