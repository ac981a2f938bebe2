// PoolFile: the persistent embedding-table pool's file, mapped with libpmem.
//
// Layout (little-endian; every region starts on a 4 KiB boundary):
//   0               header: PoolHeader, one PoolTableEntry per table, then
//                   an FNV-1a-64 checksum of everything before it
//   commit_offset   the commit word (one u64, alone on its page; see
//                   CommitWord below)
//   rows_offset[t]  table t's rows: rows x dim float32, row-major
//   state_offset[t] table t's row-wise Adagrad accumulators: rows float32
//   log_offset      the undo log: a UndoLogHeader, then per-table segments
//                   (see pmem_embedding_store.cc), log_bytes in all
//
// Only the header, the commit word and the undo log are checked on open; the
// tables are not checksummed (that would cost a pass over them per batch).
// Opening checks everything it reads before it maps the file, and a refused
// file is never written. Nothing else in the pool is variable: the layout is
// a function of the table list and log_bytes, and Open recomputes it and
// insists on equality, so a header cannot point a region anywhere odd.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "prescient/embedding_store.h"
#include "prescient/status.h"

namespace prescient {

inline constexpr char kPoolMagic[8] = {'P', 'R', 'S', 'C', 'P', 'O', 'O', 'L'};
inline constexpr uint32_t kPoolFormatVersion = 1;
inline constexpr size_t kPoolTableNameBytes = 64;  // NUL-padded, so at most 63 characters
inline constexpr uint32_t kPoolMaxTables = 4096;
inline constexpr uint32_t kPoolMaxDim = 65536;

struct PoolHeader {
  char magic[8];
  uint32_t version;
  uint32_t header_bytes;  // PoolHeader + entries + the u64 checksum
  uint64_t file_bytes;
  uint64_t seed;          // what InitialRow was given at creation
  uint32_t table_count;
  uint32_t flags;         // 0
  uint64_t commit_offset;
  uint64_t log_offset;
  uint64_t log_bytes;
  uint64_t reserved[4];
};
static_assert(sizeof(PoolHeader) == 96);

struct PoolTableEntry {
  char name[kPoolTableNameBytes];
  uint64_t rows;
  uint32_t dim;
  uint32_t reserved;
  uint64_t rows_offset;
  uint64_t state_offset;
};
static_assert(sizeof(PoolTableEntry) == 96);

// Where everything goes, computed from the tables and the log size alone.
struct PoolLayout {
  uint32_t header_bytes = 0;
  uint64_t commit_offset = 0;
  std::vector<uint64_t> rows_offset, state_offset;
  uint64_t log_offset = 0, log_bytes = 0;
  uint64_t file_bytes = 0;
};
Status ComputePoolLayout(const std::vector<TableSpec>& tables, uint64_t log_bytes, PoolLayout* layout);
// The undo log a pool gets unless told otherwise: room for every row of
// every table (so no batch can overflow it) up to 256 MiB.
uint64_t DefaultLogBytes(const std::vector<TableSpec>& tables);

// The commit word: the pool's whole persistent state machine in one
// failure-atomic 8-byte store. Bits 63..16 are next_batch, bit 15 says a
// batch (next_batch itself) is in flight with its undo log valid, and bits
// 14..0 check the rest, so a zeroed or scribbled word is refused rather than
// read as batch 0.
struct CommitState {
  uint64_t next_batch = 0;
  bool in_flight = false;
};
inline constexpr uint64_t kMaxPoolBatch = (uint64_t{1} << 48) - 1;
uint64_t EncodeCommitWord(CommitState state);
bool DecodeCommitWord(uint64_t word, CommitState* state);

// A fast checksum of 8-byte words, for the undo log (which is rewritten every
// batch, so byte-wise FNV would cost too much).
uint64_t WordChecksum(const void* data, size_t bytes);

class PoolFile {
 public:
  // Creates `path`, which must not exist, atomically (written under a
  // temporary name, persisted, renamed), with every row at InitialRow(seed)
  // and every accumulator 0. log_bytes 0: DefaultLogBytes.
  static Status Create(const std::string& path, const std::vector<TableSpec>& tables, uint64_t seed, uint64_t log_bytes);
  // Validates and maps an existing pool. Errors name the file and what is
  // wrong where; a refused file is left untouched.
  static std::unique_ptr<PoolFile> Open(const std::string& path, Status* status);
  ~PoolFile();

  const std::string& path() const { return path_; }
  const std::vector<TableSpec>& tables() const { return tables_; }
  uint64_t seed() const { return seed_; }
  bool is_pmem() const { return is_pmem_; }
  uint64_t file_bytes() const { return layout_.file_bytes; }

  float* rows(uint32_t table) const { return reinterpret_cast<float*>(base_ + layout_.rows_offset[table]); }
  float* state(uint32_t table) const { return reinterpret_cast<float*>(base_ + layout_.state_offset[table]); }
  uint64_t* commit_word() const { return reinterpret_cast<uint64_t*>(base_ + layout_.commit_offset); }
  std::byte* log() const { return base_ + layout_.log_offset; }
  uint64_t log_bytes() const { return layout_.log_bytes; }
  uint64_t offset_of(const void* p) const { return static_cast<uint64_t>(static_cast<const std::byte*>(p) - base_); }

  // Makes [p, p + n) durable now: pmem_persist on persistent memory,
  // pmem_msync (whole pages) otherwise.
  Status Persist(const void* p, size_t n);
  // Deferred persistence: ranges are collected and made durable together by
  // PersistDirty, which merges neighbouring pages into few msync calls (or,
  // on persistent memory, flushes each range and drains once).
  void MarkDirty(const void* p, size_t n) { dirty_.push_back({offset_of(p), n}); }
  Status PersistDirty();
  size_t persist_calls() const { return persist_calls_.load(std::memory_order_relaxed); }

 private:
  PoolFile() = default;
  struct Range {
    uint64_t offset;
    uint64_t bytes;
  };

  std::string path_;
  std::vector<TableSpec> tables_;
  uint64_t seed_ = 0;
  PoolLayout layout_;
  std::byte* base_ = nullptr;
  size_t mapped_bytes_ = 0;
  bool is_pmem_ = false;
  std::vector<Range> dirty_;
  std::atomic<size_t> persist_calls_{0};  // Persist runs on the undo-log writer too
};

}  // namespace prescient
