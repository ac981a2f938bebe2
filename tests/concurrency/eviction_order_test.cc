// The runtime chooses and drops its eviction victims in the order of its
// faults, not at the pace of its background thread (D102). So a one-thread
// program takes exactly the same demand faults in every run, and the
// simulator, replaying every access the program made, counts exactly what
// the runtime counted: it models the runtime's eviction, not something like it.
#include <gtest/gtest.h>

#include <cstdio>
#include <random>

#include "prescient/region.h"
#include "prescient/trace.h"
#include "sim/simulator.h"
#include "testutil/testutil.h"

namespace prescient {
namespace {

constexpr uint64_t kPages = 4096;  // 16 MiB; at 30 % the budget is 1,228 pages
constexpr double kLocal = 0.30;

struct Touch {
  uint64_t page;
  bool write;
};

// Every page written once, then a hot set somewhat larger than the active
// list may hold, a scan cycling through everything, and random strays: a
// mix where the refault test and the eviction clock decide what stays.
std::vector<Touch> Program() {
  std::vector<Touch> touches;
  for (uint64_t p = 0; p < kPages; ++p) touches.push_back({p, true});
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> coin(0, 1);
  uint64_t scan = 0;
  for (int i = 0; i < 120000; ++i) {
    double c = coin(rng);
    uint64_t page = c < 0.6 ? rng() % 700 : c < 0.85 ? scan++ % kPages : rng() % kPages;
    touches.push_back({page, coin(rng) < 0.25});
  }
  return touches;
}

uint64_t RuntimeFaults(const std::vector<Touch>& touches) {
  RegionOptions options;
  options.reserve_bytes = kPages * 4096;
  options.local_fraction = kLocal;
  Status st;
  LinkModel link;
  link.write_latency_us = 200;  // write-back lags, so the background thread runs well behind the faults
  auto region = Region::Create(options, MakeInProcessStore(link), &st);
  EXPECT_TRUE(st.ok()) << st.ToString();
  if (!region) return 0;
  volatile std::byte* base = region->base();
  uint64_t sum = 0;
  for (size_t i = 0; i < touches.size(); ++i) {
    volatile std::byte* at = base + touches[i].page * 4096 + (i % 64) * 64;
    if (touches[i].write) {
      *at = static_cast<std::byte>(i);
    } else {
      sum += static_cast<uint64_t>(*at);
    }
  }
  EXPECT_GE(sum, 0u);
  return region->stats().demand_faults;
}

uint64_t SimulatedFaults(const std::vector<Touch>& touches) {
  testing::TempDir dir;
  Status st;
  auto writer = TraceWriter::Create(dir.file("all.trace"), {{"kind", kAccessKind}}, &st);
  EXPECT_NE(writer, nullptr) << st.ToString();
  if (!writer) return 0;
  for (const Touch& t : touches) {
    TraceRecord r;
    r.page = t.page;
    r.write = t.write;
    r.compute_ns = 100;
    EXPECT_TRUE(writer->Append(r).ok());
  }
  EXPECT_TRUE(writer->Finish(nlohmann::json::object()).ok());
  AccessStream stream;
  st = LoadAccessStream(dir.file("all.trace"), &stream);
  EXPECT_TRUE(st.ok()) << st.ToString();
  SimConfig config;
  config.policy = "none";
  config.local_fraction = kLocal;
  SimResult result;
  st = Simulate(stream, config, &result);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return result.demand_faults;
}

TEST(EvictionOrder, OneThreadFaultsAlikeInEveryRunAndAsSimulated) {
  const std::vector<Touch> touches = Program();
  const uint64_t simulated = SimulatedFaults(touches);
  ASSERT_GT(simulated, 2 * kPages) << "the program must page";
  const uint64_t first = RuntimeFaults(touches);
  const uint64_t second = RuntimeFaults(touches);
  std::printf("demand faults: simulated %lu, runtime %lu and %lu\n", static_cast<unsigned long>(simulated), static_cast<unsigned long>(first),
              static_cast<unsigned long>(second));
  EXPECT_EQ(first, second);
  EXPECT_EQ(simulated, first);
}

}  // namespace
}  // namespace prescient
