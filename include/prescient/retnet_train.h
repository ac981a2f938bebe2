// Offline training of the prefetcher's RetNet (prescient/retnet.h) with
// libtorch: next-token cross-entropy over windows of ordinal streams, Adam,
// a held-out tail of every stream for validation.
//
// The caller turns traces into token streams (one per trace, tokens in
// [0, K]); this module knows nothing of pages or Future Maps.
#pragma once

#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

#include "prescient/retnet.h"
#include "prescient/status.h"

namespace prescient {

struct TrainOptions {
  RetNetConfig model = RetNetConfig::Default();
  int window = 128;            // tokens per training window (the parallel form is O(window²))
  int batch = 32;              // windows per optimizer step
  int epochs = 4;              // one epoch: as many windows as there are training tokens / window
  int64_t max_steps = 0;       // a cap on optimizer steps (0: none)
  double learning_rate = 3e-3; // Adam, cosine-decayed to a tenth over the run
  double grad_clip = 1.0;      // max gradient norm (0: none)
  double val_fraction = 0.1;   // the last fraction of every stream is held out
  int topk = 3;                // the k of the top-k accuracy
  uint64_t seed = 1;           // same seed, same data, same threads: same weights
  int threads = 1;             // torch intra-op threads
  nlohmann::json provenance = nlohmann::json::object();  // saved with the weights, e.g. {"traces": [...]}
};

struct TrainReport {
  uint64_t train_tokens = 0;
  uint64_t val_tokens = 0;     // scored validation predictions
  int64_t steps = 0;
  int epochs = 0;
  std::vector<double> epoch_train_loss;  // mean cross-entropy per epoch
  std::vector<double> epoch_val_loss;    // on validation windows, without prior context
  // The final model on the validation tails, run by the inference kernel
  // over each whole stream (the training part gives context only).
  double val_loss = 0.0;
  double val_top1 = 0.0;
  double val_topk = 0.0;
  double val_majority = 0.0;   // top-1 of always guessing the most frequent answer
  double seconds = 0.0;
  double tokens_per_second = 0.0;  // training tokens through forward+backward

  nlohmann::json ToJson() const;
};

// Trains a fresh model on `sequences` (tokens in [0, opts.model.vocab())).
// On success *out holds the weights, with the report and opts.provenance in
// its provenance, ready for RetNetWeights::Save.
Status TrainRetNet(const std::vector<std::vector<uint8_t>>& sequences, const TrainOptions& opts, RetNetWeights* out, TrainReport* report);

}  // namespace prescient
