// The farsight policy end to end on a stream no address rule can follow: a
// pointer chase through a random permutation of pages, visited again and
// again. The model is trained on one permutation and tested in the
// simulator on another it never saw; what carries over is only the ordinal
// ("the next page is this page's best-known successor").
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>
#include <vector>

#include "prefetch/vocabulary.h"
#include "prescient/retnet_train.h"
#include "prescient/trace.h"
#include "sim/access_stream.h"
#include "sim/simulator.h"
#include "testutil/testutil.h"

namespace prescient {
namespace {

// `laps` passes of a pointer chase over a random cycle of `pages` pages.
std::vector<uint64_t> Chase(uint64_t pages, int laps, uint64_t seed) {
  std::vector<uint64_t> order(pages);
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(seed);
  std::shuffle(order.begin(), order.end(), rng);
  std::vector<uint64_t> out;
  for (int lap = 0; lap < laps; ++lap) out.insert(out.end(), order.begin(), order.end());
  return out;
}

AccessStream StreamOf(const std::vector<uint64_t>& pages, const testing::TempDir& dir) {
  Status st;
  auto w = TraceWriter::Create(dir.file("chase.trace"), {{"kind", kAccessKind}}, &st);
  // The first lap writes every page, so later laps read it back from far memory.
  std::vector<bool> written(*std::max_element(pages.begin(), pages.end()) + 1);
  for (uint64_t p : pages) {
    EXPECT_TRUE(w->Append({TraceEvent::kAccess, !written[p], 0, p, 1, 2000}).ok());
    written[p] = true;
  }
  EXPECT_TRUE(w->Finish().ok());
  AccessStream stream;
  st = LoadAccessStream(dir.file("chase.trace"), &stream);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return stream;
}

TEST(FarsightTrain, TokenizerPrefersTheMapThenSmallSteps) {
  Tokenizer t({.map_ordinals = 2, .deltas = {1, -3}}, 0);
  EXPECT_EQ(t.Tokenize(10, 11), 2) << "not in the map yet: the +1 step";
  EXPECT_EQ(t.Tokenize(10, 11), 0) << "now the map's first successor";
  EXPECT_EQ(t.Tokenize(20, 17), 3) << "the -3 step";
  EXPECT_EQ(t.Tokenize(20, 500), 4) << "anything else";
  EXPECT_EQ(t.Resolve(10, 0), 11u);
  EXPECT_EQ(t.Resolve(20, 1), 500u);
  EXPECT_EQ(t.Resolve(100, 2), 101u);
  EXPECT_EQ(t.Resolve(100, 3), 97u);
  EXPECT_FALSE(t.Resolve(2, 3)) << "no page below 0";
  EXPECT_FALSE(t.Resolve(100, 4)) << "'anything else' names no page";
}

TEST(FarsightTrain, TheCommonestUnmappedStepsMakeTheVocabulary) {
  std::vector<uint64_t> scan;
  for (uint64_t p = 0; p < 300; ++p) scan.push_back(p * 2);  // +2 steps, each pair seen once
  for (uint64_t p = 0; p < 100; ++p) scan.push_back(10000 - p);  // -1 steps
  EXPECT_EQ(Vocabulary::CommonestDeltas({scan}, 8, 2), (std::vector<int64_t>{2, -1}));
}

TEST(FarsightTrain, ALearnedModelFollowsAChaseItNeverSaw) {
  const uint64_t pages = 3000;
  Vocabulary v{.map_ordinals = 4, .deltas = {1, -1}};
  TrainOptions opts;
  opts.model = RetNetConfig::Default(v.size() - 1);
  opts.window = 64;
  opts.epochs = 2;
  opts.provenance = {{"vocabulary", v.ToJson()}};
  RetNetWeights weights;
  TrainReport report;
  ASSERT_TRUE(TrainRetNet({TokensOf(Chase(pages, 6, 1), v)}, opts, &weights, &report).ok());
  EXPECT_GT(report.val_top1, 0.9) << "after the first lap every step is ordinal 0";

  testing::TempDir dir;
  const std::string model = dir.file("chase.model");
  ASSERT_TRUE(weights.Save(model).ok());
  AccessStream stream = StreamOf(Chase(pages, 6, 2), dir);
  auto run = [&](const std::string& policy) {
    SimConfig c;
    c.policy = policy;
    c.local_fraction = 0.3;
    c.prefetch.model_path = model;
    SimResult r;
    Status st = Simulate(stream, c, &r);
    EXPECT_TRUE(st.ok()) << st.ToString();
    return r;
  };
  SimResult none = run("none"), leap = run("leap"), farsight = run("farsight");
  EXPECT_GT(none.demand_faults, 5 * pages) << "a chase over a cycle larger than memory misses every lap";
  EXPECT_GT(leap.demand_faults, none.demand_faults * 9 / 10) << "no stride to find";
  // Lap 1 zero-fills and lap 2 teaches the maps; laps 3 to 6 are predicted.
  EXPECT_LT(farsight.demand_faults, 2 * pages + pages / 10) << farsight.policy_stats.dump();
  EXPECT_GT(farsight.accuracy, 0.8);
  EXPECT_LT(farsight.policy_stats["future_map_fraction"].get<double>(), 0.02) << "the maps cost under 2 % of the memory they map";
  EXPECT_GT(farsight.normalized_perf, leap.normalized_perf);
}

}  // namespace
}  // namespace prescient
