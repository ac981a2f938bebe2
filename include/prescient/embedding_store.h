// EmbeddingStore: where a recommendation model's embedding tables live, and
// the few things a trainer asks of them (after TrainingCXL, DESIGN.md B).
//
// A batch goes through a store in this order:
//   Prepare(N, bags)   the store learns batch N's rows before they change
//                      (a persistent store copies their old values to its
//                      undo log and persists it here);
//   Lookup(...)        pooled vectors per bag, for the forward pass;
//   Update(N, ...)     the pooled gradients, applied to the rows;
//   Commit(N)          batch N is whole; next_batch() becomes N + 1.
// A store that crashes between Prepare(N) and Commit(N) recovers to the
// state before batch N, with next_batch() == N.
//
// Bags use PyTorch EmbeddingBag's layout: bag b of a table is
// indices[offsets[b] .. offsets[b + 1]), so offsets has bags + 1 entries,
// starts at 0 and ends at indices.size().
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "prescient/status.h"

namespace prescient {

enum class Pooling : uint8_t { kSum = 0, kMean = 1 };
enum class SparseOptimizer : uint8_t { kSgd = 0, kRowWiseAdagrad = 1 };

struct TableSpec {
  std::string name;
  uint64_t rows = 0;
  uint32_t dim = 0;
};

struct SparseOptimizerConfig {
  SparseOptimizer kind = SparseOptimizer::kSgd;
  float lr = 0.01f;
  float eps = 1e-8f;  // row-wise Adagrad: row -= lr * g / (sqrt(state) + eps)
};

struct Bags {
  std::span<const uint32_t> indices;
  std::span<const uint32_t> offsets;
  size_t count() const { return offsets.empty() ? 0 : offsets.size() - 1; }
};

class EmbeddingStore {
 public:
  virtual ~EmbeddingStore() = default;

  virtual const std::vector<TableSpec>& tables() const = 0;
  // The batch the store expects next: one past the last committed batch.
  virtual uint64_t next_batch() const = 0;

  // Announces batch `batch`'s rows, one Bags per table (tables().size()).
  // `batch` must equal next_batch().
  virtual Status Prepare(uint64_t batch, std::span<const Bags> per_table) = 0;
  // Writes bags.count() x dim floats to `out`, row-major: the sum or mean
  // of each bag's rows (an empty bag gives zeros).
  virtual Status Lookup(uint32_t table, const Bags& bags, Pooling pooling, float* out) = 0;
  // Applies `pooled_grad` (bags.count() x dim, the loss's gradient with
  // respect to Lookup's output) to the rows: gradients of a row that occurs
  // more than once are summed first, then the optimizer steps once per row.
  virtual Status Update(uint64_t batch, uint32_t table, const Bags& bags, Pooling pooling,
                        const float* pooled_grad, const SparseOptimizerConfig& optimizer) = 0;
  virtual Status Commit(uint64_t batch) = 0;

  // Row access for host-side training, checkpoints and verification:
  // indices.size() x dim floats.
  virtual Status GatherRows(uint32_t table, std::span<const uint32_t> indices, float* out) = 0;
  virtual Status ScatterRows(uint32_t table, std::span<const uint32_t> indices, const float* rows) = 0;

  // The row-wise Adagrad accumulators of `indices`, one float per row, so a
  // checkpoint can restore the optimizer with the rows (without them a
  // restored Adagrad table takes different steps than the run it resumes).
  // Rules as for GatherRows/ScatterRows. A store without the state says so.
  virtual Status GatherAdagradState(uint32_t table, std::span<const uint32_t> indices, float* out) {
    return Status::InvalidArgument(describe() + " does not expose its Adagrad state");
  }
  virtual Status ScatterAdagradState(uint32_t table, std::span<const uint32_t> indices, const float* state) {
    return Status::InvalidArgument(describe() + " does not expose its Adagrad state");
  }

  // For checkpoint-based recovery (the stop-the-world and differential
  // baselines): after the rows are restored with ScatterRows, declares that
  // the store holds the state before batch `batch`. Drops any prepared batch.
  virtual Status ResetNextBatch(uint64_t batch) = 0;
  // What the store is, for reports: "dram", "pmem pool /x (msync)", ...
  virtual std::string describe() const = 0;
};

}  // namespace prescient
