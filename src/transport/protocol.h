// The memory-node wire protocol, shared by the TCP client and the server.
//
// Every message, in both directions, is one frame: a fixed 24-byte header and
// `payload_len` bytes of payload. All integers are little-endian.
//
//   offset  size  field
//        0     3  magic        "PMN"
//        3     1  version      kVersion
//        4     2  op           Op
//        6     2  status       0 in requests; a WireStatus in responses
//        8     4  payload_len  bytes after the header, <= MaxRequestPayload(op)
//       12     4  flags        reserved, must be 0
//       16     8  request_id   chosen by the client, echoed in the response
//
// Requests are pipelined: a client sends many without waiting, and the server
// answers each connection's requests in order, echoing request_id. A response
// with a non-zero status carries a UTF-8 message as its payload.
//
// Request payloads (responses to successful requests in brackets):
//   HELLO    u32 version, u32 token_len, u64 namespace_id, token
//            [u32 version, u32 max_pages_per_request, u64 max_page_no, u64 capacity_bytes]
//   PING     empty [empty]
//   STATS    empty [u32 field_count, u32 0, u64 field[field_count]; see StatsField]
//   READ     u32 count, u32 0, u64 page_no[count] [count pages of kPageSize, in order]
//   WRITE    u32 count, u32 0, u64 page_no[count], count pages [empty]
//   DISCARD  u64 first_page, u64 page_count [empty]
//
// The first request on a connection must be HELLO. Its namespace_id names the
// client's page space: connections presenting the same id share pages.
//
// Nothing read from a socket is trusted: the Parse* functions check every
// size against the op's limits before anything is allocated or copied.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "prescient/backend.h"
#include "prescient/status.h"

namespace prescient::wire {

static_assert(std::endian::native == std::endian::little, "the wire protocol is little-endian and so is every supported host");

inline constexpr uint8_t kVersion = 1;
inline constexpr size_t kHeaderSize = 24;
inline constexpr uint32_t kMaxPagesPerRequest = 1024;
inline constexpr uint64_t kMaxPageNo = uint64_t{1} << 40;  // page numbers are below this
inline constexpr size_t kMaxTokenBytes = 256;
inline constexpr size_t kMaxMessageBytes = 4096;  // error messages
// The largest payload any frame may carry (a full WRITE).
inline constexpr size_t kMaxPayloadBytes = 8 + kMaxPagesPerRequest * (8 + kPageSize);

enum class Op : uint16_t {
  kHello = 0x0001,
  kPing = 0x0002,
  kStats = 0x0003,
  kRead = 0x0010,
  kWrite = 0x0011,
  kDiscard = 0x0012,
  // 0x0100-0x01FF are reserved for the persistent embedding-table pool
  // (lookup, update, undo log), served by the same node.
  kPoolFirst = 0x0100,
  kPoolLast = 0x01FF,
};

bool IsPoolOp(uint16_t op);
// "READ", "WRITE", ... or "op 0x1234".
std::string OpName(uint16_t op);

// Stable on-the-wire numbering of Status::Code; 0 is success.
enum class WireStatus : uint16_t {
  kOk = 0, kInvalidArgument = 1, kNotFound = 2, kIoError = 3, kCorruption = 4, kUnavailable = 5,
  kResourceExhausted = 6, kPermissionDenied = 7, kTimedOut = 8, kInternal = 9, kUnsupported = 10,
};
uint16_t ToWireStatus(Status::Code code);
// An error Status with code `wire_status` and message `message`.
Status FromWireStatus(uint16_t wire_status, std::string message);

struct FrameHeader {
  uint16_t op = 0;
  uint16_t status = 0;
  uint32_t payload_len = 0;
  uint64_t request_id = 0;
};

void EncodeHeader(const FrameHeader& header, std::byte out[kHeaderSize]);
// Checks magic, version, reserved bits and payload_len <= kMaxPayloadBytes
// (kMaxPoolPayloadBytes for pool ops, see pool_protocol.h).
Status ParseHeader(std::span<const std::byte> bytes, FrameHeader* header);
// The largest payload a request with this op may carry; 0 for ops without one.
// Unknown ops are allowed kMaxPayloadBytes (pool ops kMaxPoolPayloadBytes)
// so the server can skip them.
size_t MaxRequestPayload(uint16_t op);
// ParseHeader plus the request-only rules: status 0, payload within the op's limit.
Status ParseRequestHeader(std::span<const std::byte> bytes, FrameHeader* header);

struct HelloRequest {
  uint32_t version = kVersion;
  uint64_t namespace_id = 0;
  std::string_view token;
};
struct HelloResponse {
  uint32_t version = kVersion;
  uint32_t max_pages_per_request = kMaxPagesPerRequest;
  uint64_t max_page_no = kMaxPageNo;
  uint64_t capacity_bytes = 0;
};
// Views into the payload; valid while it is.
struct ReadRequest {
  std::span<const std::byte> page_numbers;  // count little-endian u64s
  uint32_t count() const { return static_cast<uint32_t>(page_numbers.size() / 8); }
  uint64_t page(uint32_t i) const;
};
struct WriteRequest {
  std::span<const std::byte> page_numbers;
  std::span<const std::byte> data;  // count * kPageSize bytes
  uint32_t count() const { return static_cast<uint32_t>(page_numbers.size() / 8); }
  uint64_t page(uint32_t i) const;
  const std::byte* page_data(uint32_t i) const { return data.data() + size_t{i} * kPageSize; }
};
struct DiscardRequest {
  uint64_t first_page = 0;
  uint64_t page_count = 0;
};

Status ParseHello(std::span<const std::byte> payload, HelloRequest* out);
Status ParseHelloResponse(std::span<const std::byte> payload, HelloResponse* out);
Status ParseRead(std::span<const std::byte> payload, ReadRequest* out);
Status ParseWrite(std::span<const std::byte> payload, WriteRequest* out);
Status ParseDiscard(std::span<const std::byte> payload, DiscardRequest* out);

// Encoders append to `out`. Frames for READ and WRITE are usually built in
// place by the client (see tcp_client.cc); these are for everything else and
// for tests.
void AppendFrame(const FrameHeader& header, std::span<const std::byte> payload, std::vector<std::byte>* out);
std::vector<std::byte> EncodeHello(uint64_t request_id, const HelloRequest& hello);
std::vector<std::byte> EncodeHelloResponse(uint64_t request_id, const HelloResponse& hello);
std::vector<std::byte> EncodeRead(uint64_t request_id, std::span<const uint64_t> pages);
std::vector<std::byte> EncodeWrite(uint64_t request_id, std::span<const uint64_t> pages, std::span<const std::byte> data);
std::vector<std::byte> EncodeDiscard(uint64_t request_id, const DiscardRequest& discard);
std::vector<std::byte> EncodeEmpty(Op op, uint64_t request_id);
// A response with a non-OK `status`; the message is truncated to kMaxMessageBytes.
std::vector<std::byte> EncodeError(uint16_t op, uint64_t request_id, const Status& status);

// The fields of a STATS response, in wire order. New fields are appended.
enum class StatsField : uint32_t {
  kStoredPages, kCapacityBytes, kNamespaces, kConnections, kPagesRead, kPagesWritten, kRequests, kCount
};
std::vector<std::byte> EncodeStatsResponse(uint64_t request_id, std::span<const uint64_t> fields);
Status ParseStatsResponse(std::span<const std::byte> payload, std::vector<uint64_t>* fields);

// A whole frame in one buffer, as a test or a simple reader sees it. Sets
// *consumed to the frame's length. Reports a truncated frame as kCorruption.
struct Frame {
  FrameHeader header;
  std::span<const std::byte> payload;
};
Status DecodeFrame(std::span<const std::byte> bytes, Frame* frame, size_t* consumed);

inline void StoreU16(std::byte* p, uint16_t v) { __builtin_memcpy(p, &v, 2); }
inline void StoreU32(std::byte* p, uint32_t v) { __builtin_memcpy(p, &v, 4); }
inline void StoreU64(std::byte* p, uint64_t v) { __builtin_memcpy(p, &v, 8); }
inline uint16_t LoadU16(const std::byte* p) { uint16_t v; __builtin_memcpy(&v, p, 2); return v; }
inline uint32_t LoadU32(const std::byte* p) { uint32_t v; __builtin_memcpy(&v, p, 4); return v; }
inline uint64_t LoadU64(const std::byte* p) { uint64_t v; __builtin_memcpy(&v, p, 8); return v; }

}  // namespace prescient::wire
