#include "memnode/embedding_ops.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <unordered_map>

#include <fmt/format.h>

namespace prescient {

Status CheckBags(const Bags& bags, uint64_t rows) {
  if (bags.offsets.empty()) return Status::InvalidArgument("bags: offsets is empty (it needs bags + 1 entries, starting at 0)");
  if (bags.offsets.front() != 0) return Status::InvalidArgument(fmt::format("bags: offsets[0] is {}, not 0", bags.offsets.front()));
  for (size_t b = 0; b + 1 < bags.offsets.size(); ++b) {
    if (bags.offsets[b + 1] < bags.offsets[b]) {
      return Status::InvalidArgument(fmt::format("bags: offsets[{}] = {} is below offsets[{}] = {}", b + 1, bags.offsets[b + 1], b, bags.offsets[b]));
    }
  }
  if (bags.offsets.back() != bags.indices.size()) {
    return Status::InvalidArgument(fmt::format("bags: the last offset is {} but there are {} indices", bags.offsets.back(), bags.indices.size()));
  }
  for (size_t i = 0; i < bags.indices.size(); ++i) {
    if (bags.indices[i] >= rows) {
      return Status::InvalidArgument(fmt::format("bags: index {} at position {} is out of range (the table has {} rows)", bags.indices[i], i, rows));
    }
  }
  return Status::Ok();
}

Status CheckRows(std::span<const uint32_t> indices, uint32_t table, uint64_t rows) {
  for (uint32_t r : indices)
    if (r >= rows) return Status::InvalidArgument(fmt::format("row {} is out of range (table {} has {} rows)", r, table, rows));
  return Status::Ok();
}

std::vector<uint32_t> DistinctRows(const Bags& bags) {
  std::vector<uint32_t> rows(bags.indices.begin(), bags.indices.end());
  std::sort(rows.begin(), rows.end());
  rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
  return rows;
}

void PoolBags(const Bags& bags, Pooling pooling, uint32_t dim,
              const std::function<const float*(uint32_t)>& row_at, float* out) {
  for (size_t b = 0; b < bags.count(); ++b) {
    float* acc = out + b * dim;
    std::fill(acc, acc + dim, 0.0f);
    const uint32_t begin = bags.offsets[b], end = bags.offsets[b + 1];
    for (uint32_t i = begin; i < end; ++i) {
      const float* row = row_at(bags.indices[i]);
      for (uint32_t d = 0; d < dim; ++d) acc[d] += row[d];
    }
    if (pooling == Pooling::kMean && end > begin) {
      const float scale = 1.0f / static_cast<float>(end - begin);
      for (uint32_t d = 0; d < dim; ++d) acc[d] *= scale;
    }
  }
}

RowGradients CoalesceGradients(const Bags& bags, Pooling pooling, uint32_t dim, const float* pooled_grad) {
  RowGradients result;
  result.rows = DistinctRows(bags);
  result.grads.assign(result.rows.size() * dim, 0.0f);
  std::unordered_map<uint32_t, size_t> slot;
  slot.reserve(result.rows.size() * 2);
  for (size_t i = 0; i < result.rows.size(); ++i) slot.emplace(result.rows[i], i);
  std::vector<float> scaled(dim);
  for (size_t b = 0; b < bags.count(); ++b) {
    const uint32_t begin = bags.offsets[b], end = bags.offsets[b + 1];
    if (end == begin) continue;
    const float* g = pooled_grad + b * dim;
    if (pooling == Pooling::kMean) {
      const float scale = 1.0f / static_cast<float>(end - begin);
      for (uint32_t d = 0; d < dim; ++d) scaled[d] = g[d] * scale;
      g = scaled.data();
    }
    for (uint32_t i = begin; i < end; ++i) {
      float* acc = result.grads.data() + slot.at(bags.indices[i]) * dim;
      for (uint32_t d = 0; d < dim; ++d) acc[d] += g[d];
    }
  }
  return result;
}

void StepRow(const SparseOptimizerConfig& optimizer, uint32_t dim, const float* grad, float* row, float* state) {
  if (optimizer.kind == SparseOptimizer::kSgd) {
    for (uint32_t d = 0; d < dim; ++d) row[d] -= optimizer.lr * grad[d];
    return;
  }
  float sum_sq = 0.0f;
  for (uint32_t d = 0; d < dim; ++d) sum_sq += grad[d] * grad[d];
  *state += sum_sq / static_cast<float>(dim);
  const float step = optimizer.lr / (std::sqrt(*state) + optimizer.eps);
  for (uint32_t d = 0; d < dim; ++d) row[d] -= step * grad[d];
}

namespace {
uint64_t SplitMix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}
}  // namespace

void InitialRow(uint64_t seed, uint32_t table, uint64_t row, uint32_t dim, float* out) {
  const float bound = 1.0f / std::sqrt(static_cast<float>(dim));
  uint64_t h = SplitMix64(seed ^ SplitMix64((uint64_t{table} << 40) ^ row));
  for (uint32_t d = 0; d < dim; ++d) {
    h = SplitMix64(h);
    const float unit = static_cast<float>(h >> 40) * (1.0f / 16777216.0f);  // [0, 1), 24 bits
    out[d] = (2.0f * unit - 1.0f) * bound;
  }
}

}  // namespace prescient
