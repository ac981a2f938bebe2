// DramEmbeddingStore: an EmbeddingStore in ordinary memory, with no
// persistence. It is the reference the persistent pool is checked against
// (a replay to batch N must equal the pool recovered at N, bit for bit), and
// the store for tests of the trainer that need no pool.
#pragma once

#include <memory>
#include <vector>

#include "memnode/embedding_ops.h"

namespace prescient {

class DramEmbeddingStore final : public EmbeddingStore {
 public:
  // Every row starts at InitialRow(seed, table, row).
  DramEmbeddingStore(std::vector<TableSpec> tables, uint64_t seed);

  const std::vector<TableSpec>& tables() const override { return tables_; }
  uint64_t next_batch() const override { return next_batch_; }
  Status Prepare(uint64_t batch, std::span<const Bags> per_table) override;
  Status Lookup(uint32_t table, const Bags& bags, Pooling pooling, float* out) override;
  Status Update(uint64_t batch, uint32_t table, const Bags& bags, Pooling pooling,
                const float* pooled_grad, const SparseOptimizerConfig& optimizer) override;
  Status Commit(uint64_t batch) override;
  Status GatherRows(uint32_t table, std::span<const uint32_t> indices, float* out) override;
  Status ScatterRows(uint32_t table, std::span<const uint32_t> indices, const float* rows) override;
  Status GatherAdagradState(uint32_t table, std::span<const uint32_t> indices, float* out) override;
  Status ScatterAdagradState(uint32_t table, std::span<const uint32_t> indices, const float* state) override;
  Status ResetNextBatch(uint64_t batch) override;
  std::string describe() const override { return "dram"; }

  const float* row(uint32_t table, uint64_t r) const { return values_[table].data() + r * tables_[table].dim; }
  float adagrad_state(uint32_t table, uint64_t r) const { return states_[table][r]; }

 private:
  Status CheckTable(uint32_t table) const;

  std::vector<TableSpec> tables_;
  std::vector<std::vector<float>> values_;  // per table: rows x dim
  std::vector<std::vector<float>> states_;  // per table: one Adagrad accumulator per row
  uint64_t next_batch_ = 0;
  bool prepared_ = false;
};

}  // namespace prescient
