// Traces: the page-level access stream of a run, for the simulator and for
// training prefetchers.
//
// A trace is a file: a fixed header, a JSON description of the run (what was
// traced, how, with which budget), then zstd-compressed blocks of records,
// then a footer that holds the record count. A trace missing its footer was
// cut short. Every block is checksummed, so a corrupt or truncated file gives
// an error that names the byte offset where it went wrong.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "prescient/status.h"

namespace prescient {

namespace trace_format {
struct BlockHeader;
}

enum class TraceEvent : uint8_t {
  kAccess = 0,      // a page fault: an access to a page that was not local
  kFirstWrite = 1,  // the first write to a local, clean page
  kDiscard = 2,     // pages freed by the program
};

struct TraceRecord {
  TraceEvent event = TraceEvent::kAccess;
  bool write = false;       // kAccess: the faulting access was a write
  uint32_t thread = 0;      // dense thread index, in order of first appearance
  uint64_t page = 0;        // region page number (kDiscard: the first page)
  uint64_t count = 1;       // kDiscard: how many pages; otherwise 1
  uint64_t compute_ns = 0;  // CPU time `thread` spent since its previous record
};

// What a trace holds, in its header's "kind": every page transition the
// runtime saw with a tiny budget (kAccessKind), or the demand-fault stream of
// a run at a given budget (kFaultsKind).
inline constexpr char kAccessKind[] = "access";
inline constexpr char kFaultsKind[] = "faults";
inline constexpr uint32_t kTraceVersion = 2;
inline constexpr uint32_t kOldestTraceVersion = 1;  // still read: no trailer

class TraceWriter {
 public:
  // Creates (truncates) `path`. `header` must be a JSON object; it should
  // hold at least "kind".
  static std::unique_ptr<TraceWriter> Create(const std::string& path, const nlohmann::json& header, Status* status);
  ~TraceWriter();
  Status Append(const TraceRecord& record);
  // Writes the last block, the footer and `trailer` (a JSON object of what
  // was learned only at the end of the capture). The trace is complete only
  // after.
  Status Finish(const nlohmann::json& trailer = nlohmann::json::object());
  uint64_t records() const { return records_; }

 private:
  TraceWriter() = default;
  Status FlushBlock();

  int fd_ = -1;
  std::string path_;
  std::string raw_;  // the block being filled, encoded
  uint32_t block_records_ = 0;
  uint64_t records_ = 0;
  uint64_t prev_page_ = 0;
  bool finished_ = false;
};

class TraceReader {
 public:
  static std::unique_ptr<TraceReader> Open(const std::string& path, Status* status);
  ~TraceReader();
  const nlohmann::json& header() const { return header_; }
  // The next record. False at the end of the trace (*status OK) or on an
  // error (*status says what and at which byte offset).
  bool Next(TraceRecord* record, Status* status);
  // Reads every remaining record.
  Status ReadAll(std::vector<TraceRecord>* records);
  // The trailer JSON object: empty until the last record has been read.
  const nlohmann::json& trailer() const { return trailer_; }

 private:
  TraceReader() = default;
  Status LoadBlock(bool* end);
  Status LoadTrailer(const trace_format::BlockHeader& footer);

  int fd_ = -1;
  std::string path_;
  uint64_t offset_ = 0;  // file offset of the next block header
  uint64_t file_size_ = 0;
  nlohmann::json header_;
  nlohmann::json trailer_ = nlohmann::json::object();
  uint32_t version_ = 0;
  std::string raw_;
  size_t raw_pos_ = 0;
  uint32_t block_left_ = 0;
  uint64_t block_offset_ = 0;
  uint64_t records_read_ = 0;
  uint64_t prev_page_ = 0;
  bool done_ = false;
};

}  // namespace prescient
