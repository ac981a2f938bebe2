// The relaxed checkpoint of a model's dense part (DESIGN.md B.3): the MLP
// parameters and their optimizer state, one flat float vector, written a
// slice at a time across batches by a background thread.
//
// Each slice carries the batch its copy belongs to ("the state before batch
// T"). A restored dense state is therefore a mix of slices from a few recent
// batches; its gap is the embedding store's next batch minus the oldest
// slice's batch. The trainer keeps that gap within a bound by waiting, before
// it commits a batch, for the writer to make old slices durable.
//
// File: a 64-byte header, then two 64-byte-headed slots per slice. A slice is
// written to the slot that does not hold its current durable copy, then
// fdatasync'd, so a crash mid-write leaves the previous copy intact (a torn
// slot fails its checksum and is skipped). Recovery takes, per slice, the
// newest intact copy whose batch is not past the store's next batch; a slice
// written ahead of an embedding commit that never happened is thereby
// ignored, which is what lets --strict align both sides exactly.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "prescient/status.h"

namespace prescient {

struct RecoveredDense {
  std::vector<float> state;
  std::vector<uint64_t> slice_batch;  // per slice, the batch its copy belongs to
  uint64_t oldest_batch = 0;
  uint64_t gap = 0;  // embedding batch - oldest_batch
  uint32_t torn_slots = 0;  // intact-looking-but-failed slots skipped in favour of the other copy
};

class DenseCheckpoint {
 public:
  ~DenseCheckpoint();

  // Creates `path` (replacing it) holding `state` as the state before batch
  // `batch` in every slice, written and synced before returning. Slice
  // boundaries fall on multiples of `granule` floats (2 keeps the pairs of a
  // packed parameter + accumulator state together).
  static Status Create(const std::string& path, const std::vector<float>& state, uint32_t slices, uint64_t fingerprint,
                       uint64_t batch, std::unique_ptr<DenseCheckpoint>* out, uint32_t granule = 1);
  // Reads `path` for an embedding store whose next batch is
  // `embedding_batch`. Refuses (naming the file and byte offset) a file that
  // is truncated, foreign, of another model (`fingerprint`), or has a slice
  // with no intact copy at or before `embedding_batch`. The file is not
  // written. On success *out can keep checkpointing into the same file.
  static Status Recover(const std::string& path, uint64_t fingerprint, uint64_t embedding_batch, RecoveredDense* recovered,
                        std::unique_ptr<DenseCheckpoint>* out);

  uint32_t slices() const { return slices_; }
  uint32_t granule() const { return granule_; }
  uint64_t dense_floats() const { return dense_floats_; }
  // The range of the flat state that slice `slice` covers.
  uint64_t slice_begin(uint32_t slice) const { return uint64_t{slice} * slice_floats_; }
  uint64_t slice_end(uint32_t slice) const;

  // Queues a copy of slice `slice` of `state` as the state before `batch`;
  // the copy is taken now, the write happens on the writer thread.
  void Submit(uint32_t slice, uint64_t batch, const float* state);
  // Blocks until every slice's durable copy belongs to a batch >= min_batch,
  // or the writer has failed. *waited_ns (if given) gets the time blocked.
  Status WaitDurable(uint64_t min_batch, uint64_t* waited_ns = nullptr);
  // Writes every slice of `state` as the state before `batch`, synchronously
  // on the calling thread (--strict, and the final flush). Nothing may be queued.
  Status WriteAllNow(uint64_t batch, const float* state);
  // The oldest durable slice's batch.
  uint64_t OldestDurable() const;
  // Waits for queued slices, stops the writer. Idempotent.
  Status Close();
  // For crash tests: stops the writer, dropping whatever is still queued.
  void Abandon();

  uint64_t bytes_written() const { return bytes_written_; }

 private:
  struct Job {
    uint32_t slice;
    uint64_t batch;
    std::vector<float> data;
  };
  DenseCheckpoint(std::string path, int fd, uint32_t slices, uint64_t dense_floats, uint32_t granule, uint64_t fingerprint);
  Status WriteSlot(uint32_t slice, uint64_t batch, const float* data);
  void WriterLoop();
  void StartWriter();

  const std::string path_;
  const int fd_;
  const uint32_t slices_;
  const uint64_t dense_floats_;
  const uint32_t granule_;
  const uint64_t slice_floats_;
  const uint64_t fingerprint_;
  uint64_t slot_bytes_ = 0;
  uint64_t seq_ = 0;                   // writer side only (or trainer while no writer runs)
  std::vector<uint8_t> current_slot_;  // per slice: which slot holds the durable copy
  uint64_t bytes_written_ = 0;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> queue_;
  std::vector<uint64_t> durable_batch_;  // per slice
  Status writer_status_;
  bool stop_ = false, drop_ = false, closed_ = false, busy_ = false;
  std::thread writer_;
};

}  // namespace prescient
