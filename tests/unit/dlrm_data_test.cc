// The synthetic click log: deterministic, Criteo-shaped, power-law indices,
// and a hidden rule a model can learn (its own logits set the AUC ceiling).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "recsys/click_log.h"
#include "recsys/metrics.h"

namespace prescient {
namespace {

ClickLogConfig Small() {
  ClickLogConfig c;
  c.seed = 7;
  c.max_rows = 5000;
  return c;
}

TEST(ClickLog, SampleIsAPureFunctionOfSeedStreamAndIndex) {
  ClickLog log(Small());
  ClickBatch a, b, c;
  log.Generate(ClickStream::kTrain, 1000, 64, &a);
  // The same samples reached as part of a different batch split.
  log.Generate(ClickStream::kTrain, 990, 100, &b);
  for (uint32_t i = 0; i < 64; ++i) {
    for (int j = 0; j < kDenseFeatures; ++j) EXPECT_EQ(a.dense[i * kDenseFeatures + j], b.dense[(i + 10) * kDenseFeatures + j]);
    for (int t = 0; t < kSparseFeatures; ++t) EXPECT_EQ(a.indices[t][i], b.indices[t][i + 10]);
    EXPECT_EQ(a.labels[i], b.labels[i + 10]);
  }
  ClickLog again(Small());
  again.Generate(ClickStream::kTrain, 1000, 64, &c);
  EXPECT_EQ(a.dense, c.dense);
  EXPECT_EQ(a.indices, c.indices);
  EXPECT_EQ(a.labels, c.labels);
  // The held-out stream is another stream, and another seed is other data.
  log.Generate(ClickStream::kHeldOut, 1000, 64, &c);
  EXPECT_NE(a.indices, c.indices);
  ClickLogConfig other = Small();
  other.seed = 8;
  ClickLog(other).Generate(ClickStream::kTrain, 1000, 64, &c);
  EXPECT_NE(a.dense, c.dense);
}

TEST(ClickLog, ShapeMatchesCriteo) {
  ClickLog log(Small());
  const auto rows = log.rows();
  ASSERT_EQ(rows.size(), 26u);
  EXPECT_EQ(rows[8], 3u);       // C9 has 3 values in Criteo
  EXPECT_EQ(rows[2], 5000u);    // C3 (10M) capped
  ClickBatch b;
  log.Generate(ClickStream::kTrain, 0, 20000, &b);
  ASSERT_EQ(b.dense.size(), 20000u * 13);
  ASSERT_EQ(b.offsets.size(), 20001u);
  for (int t = 0; t < kSparseFeatures; ++t)
    for (uint32_t idx : b.indices[t]) ASSERT_LT(idx, rows[t]);
  for (float x : b.dense) ASSERT_TRUE(std::isfinite(x) && x >= 0.0f);  // log1p of counts
  double ctr = 0;
  for (float y : b.labels) ctr += y;
  ctr /= b.labels.size();
  EXPECT_GT(ctr, 0.15);  // Criteo's is about 0.26
  EXPECT_LT(ctr, 0.40);
}

TEST(ClickLog, IndexPopularityFollowsItsPowerLaw) {
  ClickLog log(Small());
  ClickBatch b;
  log.Generate(ClickStream::kTrain, 0, 200000, &b);
  for (int t : {2, 9, 14}) {  // 5000-row tables with different exponents
    std::map<uint32_t, uint64_t> by_rank;
    for (uint32_t idx : b.indices[t]) ++by_rank[log.RankOf(t, idx)];
    const double s = log.config().ZipfExponent(t);
    // Frequency of rank r ~ (r+1)^-s: compare ranks 0..3 with 30..39 (averaged).
    double head = 0, tail = 0;
    for (uint32_t r = 0; r < 4; ++r) head += by_rank[r];
    for (uint32_t r = 30; r < 40; ++r) tail += by_rank[r];
    double ehead = 0, etail = 0;
    for (uint32_t r = 0; r < 4; ++r) ehead += std::pow(r + 1.5, -s);  // midpoints of the continuous law
    for (uint32_t r = 30; r < 40; ++r) etail += std::pow(r + 1.5, -s);
    const double ratio = (head / tail) / (ehead / etail);
    EXPECT_GT(ratio, 0.8) << "table " << t << " s=" << s;
    EXPECT_LT(ratio, 1.25) << "table " << t << " s=" << s;
    // And the popular rows are spread over the table, not at its start.
    EXPECT_NE(log.RankOf(t, 0), 0u);
  }
}

TEST(ClickLog, HiddenRuleIsLearnableButNoisy) {
  ClickLog log(Small());
  ClickBatch b;
  log.Generate(ClickStream::kHeldOut, 0, 50000, &b);
  const ClickMetrics ceiling = ScoreLogits(b.true_logits, b.labels);
  // A perfect model ranks well above chance but far from perfectly.
  EXPECT_GT(ceiling.auc, 0.75);
  EXPECT_LT(ceiling.auc, 0.95);
  RecordProperty("ceiling_auc", std::to_string(ceiling.auc));
  std::printf("ceiling: AUC %.4f, loss %.4f, accuracy %.4f\n", ceiling.auc, ceiling.loss, ceiling.accuracy);
}

}  // namespace
}  // namespace prescient
