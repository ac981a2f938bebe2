// The arithmetic of embedding tables, shared by every EmbeddingStore (the
// persistent pool, the in-DRAM reference) and by host-side training, so that
// all of them compute bit-identical rows from the same inputs.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "prescient/embedding_store.h"

namespace prescient {

// Checks the bags' layout (offsets from 0, non-decreasing, ending at
// indices.size()) and that every index is below `rows`. The message names
// the first offending bag or position.
Status CheckBags(const Bags& bags, uint64_t rows);

// Checks that every row of `indices` is below `rows`; the message names the
// first that is not and `table`.
Status CheckRows(std::span<const uint32_t> indices, uint32_t table, uint64_t rows);

// The rows a batch touches: distinct, ascending.
std::vector<uint32_t> DistinctRows(const Bags& bags);

// out[b] = sum (or mean) of row_at(i) over bag b's indices i, in order.
void PoolBags(const Bags& bags, Pooling pooling, uint32_t dim,
              const std::function<const float*(uint32_t)>& row_at, float* out);

// One gradient per distinct row: rows ascending, grads rows.size() x dim,
// each the sum over the row's occurrences of its bag's pooled gradient
// (divided by the bag's length under mean pooling), added in bag order.
struct RowGradients {
  std::vector<uint32_t> rows;
  std::vector<float> grads;
};
RowGradients CoalesceGradients(const Bags& bags, Pooling pooling, uint32_t dim, const float* pooled_grad);

// One optimizer step on one row. `state` is the row's Adagrad accumulator
// (ignored by SGD): state += mean(g^2); row -= lr * g / (sqrt(state) + eps).
void StepRow(const SparseOptimizerConfig& optimizer, uint32_t dim, const float* grad, float* row, float* state);

// The deterministic initial value of a row, a function of (seed, table,
// row) only: uniform in [-1/sqrt(dim), 1/sqrt(dim)).
void InitialRow(uint64_t seed, uint32_t table, uint64_t row, uint32_t dim, float* out);

}  // namespace prescient
