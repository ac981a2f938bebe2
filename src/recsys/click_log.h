// A deterministic synthetic click log shaped like Criteo's: 13 dense
// features, 26 sparse (categorical) features with Criteo's cardinalities
// (capped, like DLRM's --max-ind-range) and power-law popularity, and a
// hidden rule that decides the click probability, so that AUC and accuracy
// mean something.
//
// Sample i of stream s is a pure function of (seed, s, i): batch N of the
// training stream is samples [N*B, (N+1)*B) of stream 0, and the held-out
// set is stream 1, so a trainer that knows its batch number knows its data
// (DESIGN.md B: the data position is part of the checkpoint).
//
// The hidden rule, in logit space:
//   bias + sum_j w_j * dense_j                       (dense features, standardized)
//   + sum_{t in informative} a_t * effect_t(row)     (per-category effects)
//   + c * dot(u_p(row_p), u_q(row_q))                (one pairwise interaction)
//   + e * dense_0 * effect_2(row_2)                  (a dense x category term)
// label = Bernoulli(sigmoid(logit)). The true logit is kept with the
// sample, so the AUC of a perfect model (the ceiling) can be measured.
#pragma once

#include <cstdint>
#include <vector>

#include "prescient/embedding_store.h"

namespace prescient {

inline constexpr int kDenseFeatures = 13;
inline constexpr int kSparseFeatures = 26;

struct ClickLogConfig {
  uint64_t seed = 1;
  // Rows of every table: Criteo's cardinality capped at max_rows.
  uint64_t max_rows = 100000;
  // Zipf-like exponents of index popularity are spread over
  // [zipf_min, zipf_max] across the tables.
  double zipf_min = 0.9;
  double zipf_max = 1.3;
  // Sparse indices per sample per table (1: one-hot bags).
  uint32_t hot = 1;

  // Rows per table, in feature order (C1..C26).
  std::vector<uint64_t> TableRows() const;
  std::vector<TableSpec> Tables(uint32_t dim) const;
  double ZipfExponent(uint32_t table) const;
};

// A batch in the layout the store wants: per table, indices and
// EmbeddingBag offsets (count + 1 entries).
struct ClickBatch {
  uint64_t first_sample = 0;
  uint32_t count = 0;
  std::vector<float> dense;                      // count x 13, row-major, after log1p
  std::vector<std::vector<uint32_t>> indices;    // [table]: count * hot
  std::vector<uint32_t> offsets;                 // shared by every table: 0, hot, 2*hot, ...
  std::vector<float> labels;                     // 0 or 1
  std::vector<float> true_logits;                // the hidden rule's logit

  Bags bags(uint32_t table) const { return Bags{indices[table], offsets}; }
};

enum class ClickStream : uint32_t { kTrain = 0, kHeldOut = 1 };

class ClickLog {
 public:
  explicit ClickLog(ClickLogConfig config);

  const ClickLogConfig& config() const { return config_; }
  const std::vector<uint64_t>& rows() const { return rows_; }

  // Samples [first, first + count) of `stream`.
  void Generate(ClickStream stream, uint64_t first, uint32_t count, ClickBatch* out) const;
  // Batch `batch` of the training stream with `batch_size` samples.
  void TrainBatch(uint64_t batch, uint32_t batch_size, ClickBatch* out) const {
    Generate(ClickStream::kTrain, batch * batch_size, batch_size, out);
  }

  // The rank (0 = most popular) behind a sampled index, for tests of the
  // popularity shape: indices are a fixed permutation of ranks.
  uint32_t RankOf(uint32_t table, uint32_t index) const;

 private:
  float HiddenLogit(const float* dense, const uint32_t* first_index_per_table) const;

  ClickLogConfig config_;
  std::vector<uint64_t> rows_;
  std::vector<double> exponent_;
  std::vector<uint64_t> perm_mul_;  // index = (rank * mul + add) mod rows
  std::vector<uint64_t> perm_add_;
  std::vector<uint64_t> perm_inv_;  // rank = (index - add) * inv mod rows
};

}  // namespace prescient
