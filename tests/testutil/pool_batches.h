// Deterministic embedding batches for the pool's tests, header-only so the
// crash child (tests/programs/pool_crash_child.cc) and the test that checks
// it generate identical batches from (seed, batch) alone.
#pragma once

#include <functional>

#include <cstring>
#include <string>
#include <vector>

#include "memnode/dram_embedding_store.h"
#include "prescient/embedding_store.h"

namespace prescient::testing {

// Four small tables with different shapes; dims cover a part of a cache
// line, exactly one, and several.
inline std::vector<TableSpec> PoolTestTables() {
  return {{"t0", 2000, 16}, {"t1", 500, 4}, {"t2", 3000, 32}, {"t3", 100, 8}};
}

// Alternating pooling, and SGD on every third table, so both optimizers and
// both poolings are crash-tested.
inline Pooling PoolingFor(uint32_t table) { return table % 2 == 0 ? Pooling::kSum : Pooling::kMean; }
inline SparseOptimizerConfig OptimizerFor(uint32_t table) {
  SparseOptimizerConfig c;
  c.kind = table % 3 == 2 ? SparseOptimizer::kSgd : SparseOptimizer::kRowWiseAdagrad;
  c.lr = 0.05f;
  return c;
}

struct PoolBatch {
  std::vector<std::vector<uint32_t>> indices, offsets;  // per table
  std::vector<std::vector<float>> grads;                // per table: bags x dim
  std::vector<Bags> bags() const {
    std::vector<Bags> out;
    for (size_t t = 0; t < indices.size(); ++t) out.push_back({indices[t], offsets[t]});
    return out;
  }
};

inline uint64_t PoolTestMix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// `samples` bags per table of 0-3 indices each, drawn with a power law
// (most indices near 0, so rows repeat within and across bags), and pooled
// gradients in [-1, 1).
inline PoolBatch MakePoolBatch(uint64_t seed, uint64_t batch, const std::vector<TableSpec>& tables, uint32_t samples) {
  PoolBatch b;
  uint64_t h = PoolTestMix(seed ^ PoolTestMix(batch));
  auto next = [&h] { return h = PoolTestMix(h); };
  auto unit = [&] { return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0); };
  for (const TableSpec& t : tables) {
    std::vector<uint32_t> idx, off = {0};
    for (uint32_t s = 0; s < samples; ++s) {
      uint32_t n = static_cast<uint32_t>(next() % 4);
      for (uint32_t i = 0; i < n; ++i) {
        double u = unit();
        idx.push_back(static_cast<uint32_t>(static_cast<double>(t.rows) * u * u * u));
      }
      off.push_back(static_cast<uint32_t>(idx.size()));
    }
    std::vector<float> g(size_t{samples} * t.dim);
    for (float& x : g) x = static_cast<float>(2.0 * unit() - 1.0);
    b.indices.push_back(std::move(idx));
    b.offsets.push_back(std::move(off));
    b.grads.push_back(std::move(g));
  }
  return b;
}

// One whole batch: Prepare, a Lookup and an Update per table, Commit.
// `after_prepare`, if given, runs while the batch is prepared, before its lookups.
inline Status RunPoolBatch(EmbeddingStore& store, uint64_t seed, uint64_t batch, uint32_t samples,
                           const std::function<void()>& after_prepare = {}) {
  const std::vector<TableSpec>& tables = store.tables();
  PoolBatch b = MakePoolBatch(seed, batch, tables, samples);
  std::vector<Bags> bags = b.bags();
  PRESCIENT_RETURN_IF_ERROR(store.Prepare(batch, bags));
  if (after_prepare) after_prepare();
  std::vector<float> pooled;
  for (uint32_t t = 0; t < tables.size(); ++t) {
    pooled.resize(bags[t].count() * tables[t].dim);
    PRESCIENT_RETURN_IF_ERROR(store.Lookup(t, bags[t], PoolingFor(t), pooled.data()));
  }
  for (uint32_t t = 0; t < tables.size(); ++t)
    PRESCIENT_RETURN_IF_ERROR(store.Update(batch, t, bags[t], PoolingFor(t), b.grads[t].data(), OptimizerFor(t)));
  return store.Commit(batch);
}

// "" if every row and Adagrad accumulator of `store` equals `reference`'s
// bit for bit, else where the first difference is. `row` and `state` read
// the store under test.
template <typename RowFn, typename StateFn>
std::string FirstDifference(const std::vector<TableSpec>& tables, const DramEmbeddingStore& reference, RowFn row, StateFn state) {
  for (uint32_t t = 0; t < tables.size(); ++t) {
    for (uint64_t r = 0; r < tables[t].rows; ++r) {
      if (std::memcmp(row(t, r), reference.row(t, r), tables[t].dim * 4) != 0)
        return "table " + std::to_string(t) + " row " + std::to_string(r) + " differs";
      float s = state(t, r), e = reference.adagrad_state(t, r);
      if (std::memcmp(&s, &e, 4) != 0) return "table " + std::to_string(t) + " row " + std::to_string(r) + " Adagrad state differs";
    }
  }
  return "";
}

}  // namespace prescient::testing
