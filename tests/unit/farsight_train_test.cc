// The farsight policy end to end on a stream no address rule can follow: a
// pointer chase through a random permutation of pages, visited again and
// again. The model is trained on one permutation and tested in the
// simulator on another it never saw; what carries over is only the ordinal
// ("the next page is this page's best-known successor").
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <numeric>
#include <random>
#include <vector>

#include "prefetch/vocabulary.h"
#include "prescient/prefetcher.h"
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

// One model for the tests below: trained on a chase of 3,000 pages (seed 1).
class FarsightChase : public ::testing::Test {
 protected:
  static constexpr uint64_t kPages = 3000;

  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    Vocabulary v{.map_ordinals = 4, .deltas = {1, -1}};
    TrainOptions opts;
    opts.model = RetNetConfig::Default(v.size() - 1);
    opts.window = 64;
    opts.epochs = 2;
    opts.provenance = {{"vocabulary", v.ToJson()}};
    RetNetWeights weights;
    Status st = TrainRetNet({TokensOf(Chase(kPages, 6, 1), v)}, opts, &weights, &report_);
    ASSERT_TRUE(st.ok()) << st.ToString();
    model_ = dir_->file("chase.model");
    ASSERT_TRUE(weights.Save(model_).ok());
  }
  static void TearDownTestSuite() { delete dir_; }

  static std::unique_ptr<Prefetcher> Farsight(PrefetchOptions o) {
    o.model_path = model_;
    Status st;
    auto p = MakePrefetcher("farsight", o, &st);
    EXPECT_TRUE(p) << st.ToString();
    return p;
  }

  static SimResult Sim(const AccessStream& stream, const std::string& policy, CostModel cost = {}) {
    SimConfig c;
    c.policy = policy;
    c.local_fraction = 0.3;
    c.prefetch.model_path = model_;
    c.cost = cost;
    SimResult r;
    Status st = Simulate(stream, c, &r);
    EXPECT_TRUE(st.ok()) << st.ToString();
    return r;
  }

  static testing::TempDir* dir_;
  static std::string model_;
  static TrainReport report_;
};
testing::TempDir* FarsightChase::dir_ = nullptr;
std::string FarsightChase::model_;
TrainReport FarsightChase::report_;

TEST_F(FarsightChase, ALearnedModelFollowsAChaseItNeverSaw) {
  EXPECT_GT(report_.val_top1, 0.9) << "after the first lap every step is ordinal 0";
  testing::TempDir dir;
  AccessStream stream = StreamOf(Chase(kPages, 6, 2), dir);
  SimResult none = Sim(stream, "none"), leap = Sim(stream, "leap"), farsight = Sim(stream, "farsight");
  EXPECT_GT(none.demand_faults, 5 * kPages) << "a chase over a cycle larger than memory misses every lap";
  EXPECT_GT(leap.demand_faults, none.demand_faults * 9 / 10) << "no stride to find";
  // Lap 1 zero-fills and lap 2 teaches the maps; laps 3 to 6 are predicted.
  EXPECT_LT(farsight.demand_faults, 2 * kPages + kPages / 10) << farsight.policy_stats.dump();
  EXPECT_GT(farsight.accuracy, 0.8);
  EXPECT_LT(farsight.policy_stats["future_map_fraction"].get<double>(), 0.02) << "the maps cost under 2 % of the memory they map";
  EXPECT_GT(farsight.normalized_perf, leap.normalized_perf);
}

// The rollout kept from one event to the next must change no prediction,
// only how many model steps it takes to make them.
TEST_F(FarsightChase, ReusingTheRolloutChangesNoPredictionAndSavesSteps) {
  PrefetchOptions o;
  o.lookahead = 8;
  o.min_confidence = 0;  // this small model is unsure (p ~ 0.3 on its right guess): walk all 8 steps anyway
  o.hybrid = false;
  auto reused = Farsight(o);
  o.reuse_rollout = false;
  auto fresh = Farsight(o);
  ASSERT_TRUE(reused && fresh);
  const std::vector<uint64_t> chase = Chase(kPages, 3, 2);
  std::vector<uint64_t> a, b;
  size_t predicted = 0;
  uint64_t reused_lap1 = 0, fresh_lap1 = 0;  // steps in lap 1, where the maps are empty and no rollout comes true
  for (size_t i = 0; i < chase.size(); ++i) {
    if (i == kPages) reused_lap1 = reused->model_steps(), fresh_lap1 = fresh->model_steps();
    a.clear();
    b.clear();
    // Faults and prefetch hits alternate, as both feed the history.
    if (i % 2 == 0) {
      reused->on_fault({chase[i]}, &a);
      fresh->on_fault({chase[i]}, &b);
    } else {
      reused->on_prefetch_hit(chase[i], &a);
      fresh->on_prefetch_hit(chase[i], &b);
    }
    ASSERT_EQ(a, b) << "event " << i;
    predicted += a.size();
  }
  EXPECT_GT(predicted, chase.size()) << "laps 2 and 3 are predicted, several pages ahead";
  const uint64_t later = chase.size() - kPages;  // laps 2 and 3, which the model follows
  EXPECT_GT(fresh->model_steps() - fresh_lap1, 7 * later) << "a fresh rollout of 8 costs 8 steps";
  EXPECT_LT(reused->model_steps() - reused_lap1, later + later / 10) << "a followed stream costs about one step per event";
}

// Readahead fills what the model leaves of the fault's budget: the model's
// pages come first, readahead's cluster after them, never a page twice.
TEST_F(FarsightChase, TheHybridFillsTheBudgetWithReadahead) {
  PrefetchOptions o;
  o.max_pages = 8;
  auto hybrid = Farsight(o);
  o.hybrid = false;
  auto alone = Farsight(o);
  ASSERT_TRUE(hybrid && alone);
  std::vector<uint64_t> with, without;
  size_t filled = 0;
  for (uint64_t page = 100000; page < 100200; ++page) {
    with.clear();
    without.clear();
    hybrid->on_fault({page}, &with);
    alone->on_fault({page}, &without);
    EXPECT_LE(with.size(), 8u);
    ASSERT_GE(with.size(), without.size());
    EXPECT_TRUE(std::equal(without.begin(), without.end(), with.begin())) << "the model's pages first";
    std::vector<uint64_t> sorted = with;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(std::adjacent_find(sorted.begin(), sorted.end()), sorted.end()) << "no page twice";
    filled += with.size() - without.size();
  }
  EXPECT_GT(filled, 50u) << "adjacent faults give readahead a window " << hybrid->stats().dump();
  EXPECT_EQ(hybrid->stats()["fallback_pages"].get<uint64_t>(), filled);
}

// The simulator charges a learned policy for each model step it ran, and a
// classic policy for none.
TEST_F(FarsightChase, TheSimulatorChargesEveryModelStep) {
  testing::TempDir dir;
  AccessStream stream = StreamOf(Chase(kPages, 4, 2), dir);
  CostModel free_steps, dear_steps;
  free_steps.inference_step_ns = 0;
  dear_steps.inference_step_ns = 50000;
  free_steps.sync_inference = dear_steps.sync_inference = true;
  SimResult cheap = Sim(stream, "farsight", free_steps), dear = Sim(stream, "farsight", dear_steps);
  EXPECT_EQ(cheap.demand_faults, dear.demand_faults) << "with sync inference the same pages arrive, only later";
  EXPECT_LT(dear.normalized_perf, cheap.normalized_perf * 0.8);
  // The charge is per step, not per decision: the same predictions made
  // with fewer steps (the rollout kept) cost less.
  SimConfig c;
  c.policy = "farsight";
  c.local_fraction = 0.3;
  c.prefetch.model_path = model_;
  c.prefetch.min_confidence = 0;  // walk every step of the lookahead
  c.cost = dear_steps;
  SimResult reused, fresh;
  ASSERT_TRUE(Simulate(stream, c, &reused).ok());
  c.prefetch.reuse_rollout = false;
  ASSERT_TRUE(Simulate(stream, c, &fresh).ok());
  EXPECT_EQ(reused.prefetch_issued, fresh.prefetch_issued) << "the same pages";
  EXPECT_LT(reused.policy_stats["model_steps"].get<uint64_t>(), fresh.policy_stats["model_steps"].get<uint64_t>() * 3 / 4)
      << "lap 1 has no maps, so its rollouts never come true; the later laps reuse theirs";
  EXPECT_GT(reused.normalized_perf, fresh.normalized_perf);
  SimResult ra_cheap = Sim(stream, "readahead", free_steps), ra_dear = Sim(stream, "readahead", dear_steps);
  EXPECT_EQ(ra_cheap.sim_ns, ra_dear.sim_ns);
}

}  // namespace
}  // namespace prescient
