#include "recsys/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

namespace prescient {

double RocAuc(std::span<const float> scores, std::span<const float> labels) {
  const size_t n = scores.size();
  std::vector<uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0u);
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return scores[a] < scores[b]; });
  // Sum of the positives' ranks (1-based), tied scores sharing their mean rank.
  double positive_rank_sum = 0.0;
  uint64_t positives = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && scores[order[j]] == scores[order[i]]) ++j;
    const double mean_rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2.0;
    for (size_t k = i; k < j; ++k) {
      if (labels[order[k]] > 0.5f) {
        positive_rank_sum += mean_rank;
        ++positives;
      }
    }
    i = j;
  }
  const uint64_t negatives = n - positives;
  if (positives == 0 || negatives == 0) return 0.5;
  const double p = static_cast<double>(positives);
  return (positive_rank_sum - p * (p + 1.0) / 2.0) / (p * static_cast<double>(negatives));
}

ClickMetrics ScoreLogits(std::span<const float> logits, std::span<const float> labels) {
  ClickMetrics m;
  m.samples = logits.size();
  if (logits.empty()) return m;
  double loss = 0.0;
  uint64_t correct = 0;
  for (size_t i = 0; i < logits.size(); ++i) {
    const double z = logits[i], y = labels[i];
    // log(1 + exp(-|z|)) + max(z, 0) - z*y, stable for any z.
    loss += std::max(z, 0.0) - z * y + std::log1p(std::exp(-std::abs(z)));
    if ((z > 0.0) == (y > 0.5)) ++correct;
  }
  m.loss = loss / static_cast<double>(logits.size());
  m.accuracy = static_cast<double>(correct) / static_cast<double>(logits.size());
  m.auc = RocAuc(logits, labels);
  return m;
}

}  // namespace prescient
