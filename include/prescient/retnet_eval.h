// How well a RetNet predicts a token stream, measured the way it runs: the
// inference kernel reads the stream from its start, one token at a time, and
// each prediction of a scored position counts.
#pragma once

#include <cstdint>
#include <vector>

#include "prescient/retnet.h"

namespace prescient {

struct RetNetAccuracy {
  uint64_t predictions = 0;
  uint64_t top1_hits = 0;
  uint64_t topk_hits = 0;  // the true token among the k most likely
  double log_loss = 0.0;   // sum of -ln p(true token)
  std::vector<uint64_t> truth_counts;  // how often each token was the answer

  double top1() const { return predictions ? static_cast<double>(top1_hits) / predictions : 0.0; }
  double topk() const { return predictions ? static_cast<double>(topk_hits) / predictions : 0.0; }
  double mean_loss() const { return predictions ? log_loss / predictions : 0.0; }
  // The top-1 accuracy of always answering the most frequent true token.
  double majority_rate() const;
};

// Feeds `tokens` through the kernel from an empty state and scores the
// predictions of tokens[score_from..]: the prediction made after reading
// tokens[i-1] is scored against tokens[i]. Earlier tokens only build context.
// Adds into *acc.
void EvaluateRetNet(const RetNetWeights& weights, const std::vector<uint8_t>& tokens, size_t score_from, int topk, RetNetAccuracy* acc);

}  // namespace prescient
