// The checkpoint baselines (DESIGN.md B, "baselines"): training pauses and
// the embedding rows plus the whole dense state go to a file.
//   stop-the-world (CheckFreq-like): every row of every table, every K batches;
//   differential (Check-N-Run-like): only the rows changed since the previous
//   checkpoint, on top of a full one; a new full one every `full_every`.
// Recovery writes the rows back with ScatterRows and declares the batch with
// ResetNextBatch, so training resumes exactly at the checkpoint's batch.
//
// Files are written to a temporary name, synced and renamed, so a crash
// leaves the previous checkpoint whole. Their contents are a stream of
// chunks, each [u32 magic][u32 length][payload][u64 FNV-1a of payload];
// a damaged or truncated file is refused with the offset of the first bad
// chunk, and it is read through once before anything reaches the store.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "prescient/embedding_store.h"

namespace prescient {

struct SnapshotStats {
  uint64_t checkpoints = 0;
  uint64_t full = 0;
  uint64_t bytes = 0;       // bytes written, all files
  uint64_t rows = 0;        // rows written, all files
  uint64_t nanos = 0;       // time training was paused for them
};

class SnapshotCheckpointer {
 public:
  // `full_every` 0: every checkpoint is full (stop-the-world). `with_state`:
  // each row's row-wise Adagrad accumulator goes with it (GatherAdagradState),
  // so a restored Adagrad table steps exactly as the run it resumes.
  SnapshotCheckpointer(std::string dir, std::vector<TableSpec> tables, uint64_t fingerprint, uint32_t full_every, bool with_state = false);

  // Notes rows a batch changed, for the next differential checkpoint.
  void Touch(uint32_t table, const std::vector<uint32_t>& rows);
  // Writes the checkpoint of the state before batch `batch`.
  Status Write(EmbeddingStore& store, uint64_t batch, const std::vector<float>& dense);
  // Deletes this directory's checkpoint files (a fresh run).
  Status Clear();
  // Restores the newest checkpoint in the directory into `store` and
  // *dense; *batch is the batch to train next. NotFound when there is none.
  Status Recover(EmbeddingStore& store, uint64_t* batch, std::vector<float>* dense);

  const SnapshotStats& stats() const { return stats_; }
  std::string full_path() const;
  std::string diff_path(uint64_t batch) const;

 private:
  Status WriteFile(const std::string& path, EmbeddingStore& store, bool full, uint64_t batch, uint64_t base_batch,
                   const std::vector<float>& dense);
  // Reads `path`; with `store` null only verifies it.
  Status ReadFile(const std::string& path, EmbeddingStore* store, bool* full, uint64_t* batch, uint64_t* base_batch,
                  std::vector<float>* dense) const;
  Status RemoveDiffs();

  std::string dir_;
  std::vector<TableSpec> tables_;
  uint64_t fingerprint_;
  uint32_t full_every_;
  bool with_state_;
  uint32_t diffs_since_full_ = 0;
  bool have_full_ = false;
  uint64_t last_batch_ = 0;
  std::vector<std::vector<uint8_t>> changed_;  // per table, one flag per row
  SnapshotStats stats_;
};

}  // namespace prescient
