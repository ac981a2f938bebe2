// PmemEmbeddingStore: an EmbeddingStore whose tables and Adagrad state live
// in a persistent pool file (PoolFile), kept crash-consistent at batch
// boundaries by a batch-aware undo log (TrainingCXL, DESIGN.md B.2).
//
// For batch N, with the undo log on:
//   Prepare(N)  copies the old rows and accumulators of every distinct row of
//               every table into the log and persists it, then persists the
//               commit word "batch N in flight". Only then may rows change.
//               By default a helper thread writes the log while the caller
//               goes on to look rows up (reads never wait for it); the first
//               call that changes the pool waits for it instead.
//   Update(N)   changes the prepared rows in place (any other row is refused:
//               the log could not restore it).
//   Commit(N)   persists the changed rows, then persists the commit word
//               "next batch N + 1", one failure-atomic 8-byte store, which
//               also retires the log.
// Opening the pool runs recovery: a batch in flight is rolled back from the
// log, its rows persisted, and only then the word cleared, so a crash during
// recovery just recovers again. Every persistence point in that sequence is
// a place a test can kill the process (PRESCIENT_POOL_CRASH_AT, below).
//
// With the undo log off (the checkpointing baselines) Prepare only persists
// "batch N in flight"; a crash then leaves the tables holding part of batch
// N, which Open reports (recovery().torn) for the caller to repair from its
// own checkpoint with ScatterRows + ResetNextBatch.
//
// Not thread-safe: callers serialize (the memory node holds a mutex).
#pragma once

#include <cstdint>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "memnode/pool_file.h"
#include "prescient/embedding_store.h"

namespace prescient {

// Extra latency per 64-byte line the pool reads or writes, spun on the
// calling thread once per operation, to emulate memory slower than the DRAM
// (or page cache) the file really lives in. Zero: off.
struct PoolLatency {
  uint32_t read_ns_per_line = 0;
  uint32_t write_ns_per_line = 0;
  bool enabled() const { return read_ns_per_line != 0 || write_ns_per_line != 0; }
  // PMEM as TrainingCXL models it: reads 3x and writes 7x DRAM's latency, so
  // the extra is 2x and 6x `dram_ns`.
  static PoolLatency PmemLike(uint32_t dram_ns = 100) { return {2 * dram_ns, 6 * dram_ns}; }
};
// "pmem" (PmemLike()), "pmem:DRAM_NS", "READ_NS,WRITE_NS" or "off".
Status ParsePoolLatency(const std::string& text, PoolLatency* latency);

struct PmemPoolOptions {
  bool undo_log = true;
  // Write batch N's undo log beside its lookups (and the trainer's compute)
  // instead of inside Prepare; false is the synchronous baseline.
  bool log_ahead = true;
  PoolLatency latency;
  uint64_t log_bytes = 0;  // at creation only; 0: DefaultLogBytes
};

// What opening the pool found and did.
struct PoolRecovery {
  bool rolled_back = false;  // a batch was in flight and has been undone
  bool torn = false;         // a batch was in flight without an undo log
  uint64_t batch = 0;        // that batch (== next_batch())
  uint64_t rows_restored = 0;
  double seconds = 0;        // time spent in recovery
};

class PmemEmbeddingStore final : public EmbeddingStore {
 public:
  // Creates a new pool (the file must not exist) and opens it.
  static std::unique_ptr<PmemEmbeddingStore> Create(const std::string& path, const std::vector<TableSpec>& tables, uint64_t seed,
                                                    const PmemPoolOptions& options, Status* status);
  // Opens an existing pool and recovers it.
  static std::unique_ptr<PmemEmbeddingStore> Open(const std::string& path, const PmemPoolOptions& options, Status* status);
  // Open if `path` exists (and then its tables and seed must be these),
  // Create otherwise.
  static std::unique_ptr<PmemEmbeddingStore> OpenOrCreate(const std::string& path, const std::vector<TableSpec>& tables, uint64_t seed,
                                                          const PmemPoolOptions& options, Status* status);

  const std::vector<TableSpec>& tables() const override { return pool_->tables(); }
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
  // "pmem pool FILE (msync, undo log)", "... (pmem_persist, no undo log, latency +200/+600 ns per line)".
  std::string describe() const override;

  ~PmemEmbeddingStore() override;

  // Undoes the batch in flight (prepared, not committed) now, as recovery
  // would after a crash: for the memory node when the client that prepared
  // it goes away. Without the undo log the batch cannot be undone; it is
  // dropped and reported torn. A no-op when no batch is in flight.
  Status Rollback();
  // What the last recovery (at open, or by Rollback) found and did.
  const PoolRecovery& recovery() const { return recovery_; }
  uint64_t seed() const { return pool_->seed(); }
  bool is_pmem() const { return pool_->is_pmem(); }
  const float* row(uint32_t table, uint64_t r) const { return pool_->rows(table) + r * pool_->tables()[table].dim; }
  float adagrad_state(uint32_t table, uint64_t r) const { return pool_->state(table)[r]; }
  // Persistence calls (msync or flush+drain) so far, for the benchmarks.
  size_t persist_calls() const { return pool_->persist_calls(); }

 private:
  PmemEmbeddingStore(std::unique_ptr<PoolFile> pool, const PmemPoolOptions& options);
  Status Recover();
  Status CheckTable(uint32_t table) const;
  Status CheckUsable() const;
  // Refuses rows (ascending) outside the prepared set of `table`.
  Status CheckPrepared(uint32_t table, const std::vector<uint32_t>& sorted_rows, const char* what) const;
  // A direct write of `indices` (ScatterRows, ScatterAdagradState): rows in
  // range and, inside a logged batch, named by its prepare.
  Status CheckScatter(uint32_t table, std::span<const uint32_t> indices, const char* what) const;
  Status WriteCommitWord(CommitState state);
  // WriteCommitWord without recording a failure (for the log writer thread).
  Status PersistCommitWord(CommitState state);
  // Fills, checksums and persists the undo log of the prepared batch, then
  // marks it in flight. Touches only the log, the commit word and reads of
  // rows, so lookups may run beside it.
  Status WriteUndoLog(uint64_t batch, uint64_t payload_bytes, uint32_t segments, uint64_t read_lines);
  // Waits for the log writer, if one runs: every change to the pool first.
  Status AwaitLog();
  // Remembers a failed persist: after one, no later ordering can be trusted.
  Status Fail(Status st);
  void Spin(uint64_t read_lines, uint64_t write_lines) const;
  uint64_t lines(uint32_t table) const { return (uint64_t{pool_->tables()[table].dim} * 4 + 63) / 64; }

  std::unique_ptr<PoolFile> pool_;
  PmemPoolOptions options_;
  uint64_t next_batch_ = 0;
  bool prepared_ = false;
  std::vector<std::vector<uint32_t>> prepared_rows_;  // per table, ascending
  std::future<Status> log_writer_;                    // valid while the log is being written
  PoolRecovery recovery_;
  Status failed_;
};

// The test-only crash hook: with PRESCIENT_POOL_CRASH_AT=K in the
// environment, the process SIGKILLs itself at the K-th persistence point
// (counted from 1 across every pool of the process), after printing the
// point's name to stderr. Points are numbered in execution order, so a test
// that picks K at random kills at a random step of a random batch.
void PoolCrashPoint(const char* name);

}  // namespace prescient
