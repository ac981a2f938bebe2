#include "prescient/retnet_eval.h"

#include <algorithm>
#include <cmath>

#include "prescient/retnet_kernel.h"

namespace prescient {

double RetNetAccuracy::majority_rate() const {
  if (!predictions || truth_counts.empty()) return 0.0;
  return static_cast<double>(*std::max_element(truth_counts.begin(), truth_counts.end())) / predictions;
}

void EvaluateRetNet(const RetNetWeights& weights, const std::vector<uint8_t>& tokens, size_t score_from, int topk, RetNetAccuracy* acc) {
  RetNetKernel kernel(weights);
  const int V = kernel.vocab();
  acc->truth_counts.resize(static_cast<size_t>(V), 0);
  RetNetState state;
  kernel.Reset(&state);
  float probs[kRetNetMaxVocab];
  for (size_t i = 0; i + 1 < tokens.size(); ++i) {
    kernel.Step(&state, tokens[i], probs);
    const size_t next = i + 1;
    if (next < score_from) continue;
    const int truth = tokens[next] < V ? tokens[next] : V - 1;
    // Rank of the truth: how many tokens are strictly more likely.
    int above = 0;
    for (int t = 0; t < V; ++t) above += probs[t] > probs[truth];
    acc->predictions++;
    acc->top1_hits += above == 0;
    acc->topk_hits += above < topk;
    acc->log_loss += -std::log(std::max(probs[truth], 1e-30f));
    acc->truth_counts[static_cast<size_t>(truth)]++;
  }
}

}  // namespace prescient
