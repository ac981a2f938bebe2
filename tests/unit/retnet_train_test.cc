// The trainer learns structure that only context reveals, reports it on
// held-out data, and is deterministic for a seed.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "prescient/retnet.h"
#include "prescient/retnet_eval.h"
#include "prescient/retnet_train.h"
#include "testutil/testutil.h"

namespace prescient {
namespace {

// A repeating walk of period 8 over ordinals, with 10% of tokens replaced by
// noise. After a 0 comes a 1 or a 3, and only the token before the 0 tells
// which, so a model must use more than the last token to beat ~0.7.
// The most frequent answer is right about a quarter of the time.
std::vector<std::vector<uint8_t>> Synthetic(int streams, size_t len, uint64_t seed) {
  static constexpr uint8_t kPattern[] = {0, 1, 2, 0, 3, 1, 4, 8};
  std::mt19937_64 rng(seed);
  std::vector<std::vector<uint8_t>> out;
  for (int s = 0; s < streams; ++s) {
    std::vector<uint8_t> t(len);
    size_t phase = rng() % 8;
    for (size_t i = 0; i < len; ++i) t[i] = rng() % 10 == 0 ? static_cast<uint8_t>(rng() % 9) : kPattern[(i + phase) % 8];
    out.push_back(std::move(t));
  }
  return out;
}

TEST(RetNetTrain, LearnsAPatternFarAboveTheMajorityRate) {
  auto data = Synthetic(4, 25000, 1);
  TrainOptions opts;
  opts.window = 64;
  opts.batch = 32;
  opts.epochs = 4;
  opts.provenance = {{"traces", {"synthetic"}}};
  RetNetWeights w;
  TrainReport report;
  Status s = TrainRetNet(data, opts, &w, &report);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(report.epochs, 4);
  EXPECT_EQ(report.train_tokens, 4u * 22500);
  EXPECT_EQ(report.val_tokens, 4u * 2500);
  EXPECT_LT(report.epoch_train_loss.back(), report.epoch_train_loss.front());
  EXPECT_LT(report.val_majority, 0.35);
  // The pattern's ceiling is about 0.9 × 0.9 + noise luck; the last token alone gives about 0.7.
  EXPECT_GT(report.val_top1, 0.75) << report.ToJson().dump();
  EXPECT_GT(report.val_top1, 2.5 * report.val_majority);
  EXPECT_GT(report.val_topk, report.val_top1);
  EXPECT_GT(report.tokens_per_second, 0);
  EXPECT_EQ(w.provenance()["traces"][0], "synthetic");
  EXPECT_EQ(w.provenance()["training"]["val_top1"], report.val_top1);

  // The report is the kernel's accuracy on held-out streams: a fresh stream
  // from the same process scores as well.
  RetNetAccuracy fresh;
  for (const auto& seq : Synthetic(2, 5000, 99)) EvaluateRetNet(w, seq, 0, 3, &fresh);
  EXPECT_GT(fresh.top1(), 0.75);

  // What the trainer returns saves and loads as it is.
  testing::TempDir dir;
  ASSERT_TRUE(w.Save(dir.file("m.bin")).ok());
  RetNetWeights back;
  ASSERT_TRUE(RetNetWeights::Load(dir.file("m.bin"), &back).ok());
  EXPECT_EQ(std::memcmp(back.data(), w.data(), 4 * w.parameter_count()), 0);
  EXPECT_EQ(back.provenance(), w.provenance());
}

TEST(RetNetTrain, IsDeterministicForASeed) {
  auto data = Synthetic(2, 6000, 2);
  TrainOptions opts;
  opts.window = 32;
  opts.batch = 8;
  opts.epochs = 1;
  opts.max_steps = 15;
  RetNetWeights a, b, c;
  TrainReport ra, rb, rc;
  ASSERT_TRUE(TrainRetNet(data, opts, &a, &ra).ok());
  ASSERT_TRUE(TrainRetNet(data, opts, &b, &rb).ok());
  opts.seed = 2;
  ASSERT_TRUE(TrainRetNet(data, opts, &c, &rc).ok());
  EXPECT_EQ(ra.steps, 15);
  EXPECT_EQ(std::memcmp(a.data(), b.data(), 4 * a.parameter_count()), 0);
  EXPECT_EQ(ra.val_top1, rb.val_top1);
  EXPECT_NE(std::memcmp(a.data(), c.data(), 4 * a.parameter_count()), 0);
}

// torch's intra-op pool (OpenMP) runs clean under the sanitizers too.
TEST(RetNetTrain, TrainsWithTwoThreads) {
  TrainOptions opts;
  opts.window = 32;
  opts.batch = 8;
  opts.max_steps = 5;
  opts.threads = 2;
  RetNetWeights w;
  TrainReport r;
  Status s = TrainRetNet(Synthetic(2, 4000, 4), opts, &w, &r);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(r.steps, 5);
}

TEST(RetNetTrain, RefusesBadInput) {
  TrainOptions opts;
  RetNetWeights w;
  TrainReport r;
  Status s = TrainRetNet({{0, 1, 2, 9, 1}}, opts, &w, &r);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(s.message().find("sequence 0 token 3 is 9"), std::string::npos) << s.message();
  s = TrainRetNet({{0, 1, 2, 3}}, opts, &w, &r);
  EXPECT_NE(s.message().find("smaller window"), std::string::npos) << s.message();
  opts.val_fraction = 1.5;
  EXPECT_FALSE(TrainRetNet(Synthetic(1, 1000, 3), opts, &w, &r).ok());
}

}  // namespace
}  // namespace prescient
