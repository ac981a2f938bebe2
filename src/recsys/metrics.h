// Held-out metrics of a click model: log loss, accuracy at 0.5, and ROC AUC.
#pragma once

#include <cstdint>
#include <span>

namespace prescient {

// ROC AUC of `scores` against 0/1 `labels`: the probability that a random
// positive scores above a random negative, ties counting one half
// (Mann-Whitney U, O(n log n)). 0.5 when either class is empty.
double RocAuc(std::span<const float> scores, std::span<const float> labels);

struct ClickMetrics {
  double loss = 0.0;      // mean binary cross-entropy of sigmoid(logit)
  double accuracy = 0.0;  // fraction with (logit > 0) == label
  double auc = 0.5;
  uint64_t samples = 0;
};
ClickMetrics ScoreLogits(std::span<const float> logits, std::span<const float> labels);

}  // namespace prescient
