// The on-disk layout shared by TraceWriter and TraceReader.
//
//   FileHeader (24 bytes) | header JSON | Block* | footer | trailer JSON
//   Block = BlockHeader (24 bytes) | zstd frame (with content checksum)
//
// The footer is a BlockHeader with kFooterMagic whose raw_bytes is the size
// of the trailer JSON after it (what the capture learned only at its end),
// compressed_bytes that JSON's Fnv1a32, and total_records the record count.
// Version 1 traces have no trailer (raw_bytes 0).
//
// A record is encoded as varints: a tag byte (event | write << 2), the thread,
// the page as a zigzag delta from the previous record's page, then `count`
// for discards or `compute_ns` otherwise. Deltas keep sequential streams to
// about one byte a field before zstd even starts.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace prescient::trace_format {

inline constexpr char kFileMagic[8] = {'P', 'R', 'S', 'C', 'T', 'R', 'C', '\0'};
inline constexpr uint32_t kBlockMagic = 0x314b4c42;   // "BLK1"
inline constexpr uint32_t kFooterMagic = 0x31444e45;  // "END1"
inline constexpr uint32_t kMaxHeaderJson = 1 << 20;
inline constexpr uint32_t kMaxBlockRaw = 8 << 20;
inline constexpr uint32_t kBlockRecords = 1 << 16;

struct FileHeader {
  char magic[8];
  uint32_t version;
  uint32_t json_bytes;
  uint32_t json_checksum;  // Fnv1a32 of the JSON
  uint32_t reserved;
};
static_assert(sizeof(FileHeader) == 24);

struct BlockHeader {
  uint32_t magic;
  uint32_t raw_bytes;
  uint32_t compressed_bytes;
  uint32_t records;
  uint64_t total_records;  // footer: all records; block: records before it
};
static_assert(sizeof(BlockHeader) == 24);


void PutVarint(std::string* out, uint64_t v);
// Reads a varint at *pos; false if it runs past the end or over 10 bytes.
bool GetVarint(std::string_view in, size_t* pos, uint64_t* v);
inline uint64_t ZigZag(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }
inline int64_t UnZigZag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

}  // namespace prescient::trace_format
