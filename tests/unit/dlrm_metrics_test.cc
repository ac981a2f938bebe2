// RocAuc against the definition, O(n^2): P(score+ > score-) + P(tie)/2.
#include <gtest/gtest.h>

#include <random>

#include "recsys/metrics.h"

namespace prescient {
namespace {

double NaiveAuc(const std::vector<float>& s, const std::vector<float>& y) {
  double wins = 0, pairs = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (y[i] < 0.5f) continue;
    for (size_t j = 0; j < s.size(); ++j) {
      if (y[j] > 0.5f) continue;
      pairs += 1;
      wins += s[i] > s[j] ? 1.0 : s[i] == s[j] ? 0.5 : 0.0;
    }
  }
  return pairs ? wins / pairs : 0.5;
}

TEST(RocAuc, MatchesTheNaiveDefinitionWithTies) {
  std::mt19937 rng(3);
  for (int trial = 0; trial < 50; ++trial) {
    const size_t n = 1 + rng() % 400;
    std::vector<float> s(n), y(n);
    for (size_t i = 0; i < n; ++i) {
      s[i] = static_cast<float>(rng() % (trial % 2 ? 7 : 100000)) * 0.25f;  // odd trials: many ties
      y[i] = (rng() % 3 == 0) ? 1.0f : 0.0f;
    }
    EXPECT_NEAR(RocAuc(s, y), NaiveAuc(s, y), 1e-12) << "trial " << trial;
  }
}

TEST(RocAuc, EdgeCases) {
  EXPECT_EQ(RocAuc(std::vector<float>{1, 2, 3}, std::vector<float>{1, 1, 1}), 0.5);
  EXPECT_EQ(RocAuc(std::vector<float>{1, 2}, std::vector<float>{0, 1}), 1.0);
  EXPECT_EQ(RocAuc(std::vector<float>{2, 1}, std::vector<float>{0, 1}), 0.0);
  EXPECT_EQ(RocAuc(std::vector<float>{5, 5}, std::vector<float>{0, 1}), 0.5);
}

TEST(ScoreLogits, LossAndAccuracy) {
  const std::vector<float> z = {0.0f, 2.0f, -3.0f, 100.0f};
  const std::vector<float> y = {1.0f, 0.0f, 0.0f, 1.0f};
  const ClickMetrics m = ScoreLogits(z, y);
  const double expect = (std::log(2.0) + (2.0 + std::log1p(std::exp(-2.0))) + std::log1p(std::exp(-3.0)) + std::log1p(std::exp(-100.0))) / 4;
  EXPECT_NEAR(m.loss, expect, 1e-9);
  EXPECT_DOUBLE_EQ(m.accuracy, 0.5);  // 0 counts as "no click"; 2 is wrong
  EXPECT_EQ(m.samples, 4u);
}

}  // namespace
}  // namespace prescient
