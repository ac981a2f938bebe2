#include "memnode/dram_embedding_store.h"

#include <cstring>

#include <fmt/format.h>

namespace prescient {

DramEmbeddingStore::DramEmbeddingStore(std::vector<TableSpec> tables, uint64_t seed) : tables_(std::move(tables)) {
  for (uint32_t t = 0; t < tables_.size(); ++t) {
    const TableSpec& spec = tables_[t];
    values_.emplace_back(spec.rows * spec.dim);
    states_.emplace_back(spec.rows, 0.0f);
    for (uint64_t r = 0; r < spec.rows; ++r) InitialRow(seed, t, r, spec.dim, values_[t].data() + r * spec.dim);
  }
}

Status DramEmbeddingStore::CheckTable(uint32_t table) const {
  if (table >= tables_.size()) return Status::InvalidArgument(fmt::format("no table {} (the store has {})", table, tables_.size()));
  return Status::Ok();
}

Status DramEmbeddingStore::Prepare(uint64_t batch, std::span<const Bags> per_table) {
  if (batch != next_batch_) return Status::InvalidArgument(fmt::format("prepare of batch {} but the store expects batch {}", batch, next_batch_));
  if (per_table.size() != tables_.size()) {
    return Status::InvalidArgument(fmt::format("prepare of batch {} names {} tables; the store has {}", batch, per_table.size(), tables_.size()));
  }
  for (uint32_t t = 0; t < tables_.size(); ++t) PRESCIENT_RETURN_IF_ERROR(CheckBags(per_table[t], tables_[t].rows));
  prepared_ = true;
  return Status::Ok();
}

Status DramEmbeddingStore::Lookup(uint32_t table, const Bags& bags, Pooling pooling, float* out) {
  PRESCIENT_RETURN_IF_ERROR(CheckTable(table));
  PRESCIENT_RETURN_IF_ERROR(CheckBags(bags, tables_[table].rows));
  PoolBags(bags, pooling, tables_[table].dim, [&](uint32_t r) { return row(table, r); }, out);
  return Status::Ok();
}

Status DramEmbeddingStore::Update(uint64_t batch, uint32_t table, const Bags& bags, Pooling pooling,
                                  const float* pooled_grad, const SparseOptimizerConfig& optimizer) {
  if (!prepared_ || batch != next_batch_) return Status::InvalidArgument(fmt::format("update of batch {} before its prepare", batch));
  PRESCIENT_RETURN_IF_ERROR(CheckTable(table));
  PRESCIENT_RETURN_IF_ERROR(CheckBags(bags, tables_[table].rows));
  const uint32_t dim = tables_[table].dim;
  const RowGradients g = CoalesceGradients(bags, pooling, dim, pooled_grad);
  for (size_t i = 0; i < g.rows.size(); ++i) {
    StepRow(optimizer, dim, g.grads.data() + i * dim, values_[table].data() + uint64_t{g.rows[i]} * dim, &states_[table][g.rows[i]]);
  }
  return Status::Ok();
}

Status DramEmbeddingStore::Commit(uint64_t batch) {
  if (!prepared_ || batch != next_batch_) return Status::InvalidArgument(fmt::format("commit of batch {} but batch {} is the one in flight", batch, next_batch_));
  prepared_ = false;
  ++next_batch_;
  return Status::Ok();
}

Status DramEmbeddingStore::GatherRows(uint32_t table, std::span<const uint32_t> indices, float* out) {
  PRESCIENT_RETURN_IF_ERROR(CheckTable(table));
  PRESCIENT_RETURN_IF_ERROR(CheckRows(indices, table, tables_[table].rows));
  const uint32_t dim = tables_[table].dim;
  for (size_t i = 0; i < indices.size(); ++i) {
    std::memcpy(out + i * dim, row(table, indices[i]), dim * sizeof(float));
  }
  return Status::Ok();
}

Status DramEmbeddingStore::ScatterRows(uint32_t table, std::span<const uint32_t> indices, const float* rows) {
  PRESCIENT_RETURN_IF_ERROR(CheckTable(table));
  PRESCIENT_RETURN_IF_ERROR(CheckRows(indices, table, tables_[table].rows));
  const uint32_t dim = tables_[table].dim;
  for (size_t i = 0; i < indices.size(); ++i) {
    std::memcpy(values_[table].data() + uint64_t{indices[i]} * dim, rows + i * dim, dim * sizeof(float));
  }
  return Status::Ok();
}

Status DramEmbeddingStore::GatherAdagradState(uint32_t table, std::span<const uint32_t> indices, float* out) {
  PRESCIENT_RETURN_IF_ERROR(CheckTable(table));
  PRESCIENT_RETURN_IF_ERROR(CheckRows(indices, table, tables_[table].rows));
  for (size_t i = 0; i < indices.size(); ++i) {
    out[i] = states_[table][indices[i]];
  }
  return Status::Ok();
}

Status DramEmbeddingStore::ScatterAdagradState(uint32_t table, std::span<const uint32_t> indices, const float* state) {
  PRESCIENT_RETURN_IF_ERROR(CheckTable(table));
  PRESCIENT_RETURN_IF_ERROR(CheckRows(indices, table, tables_[table].rows));
  for (size_t i = 0; i < indices.size(); ++i) {
    states_[table][indices[i]] = state[i];
  }
  return Status::Ok();
}

Status DramEmbeddingStore::ResetNextBatch(uint64_t batch) {
  next_batch_ = batch;
  prepared_ = false;
  return Status::Ok();
}

}  // namespace prescient
