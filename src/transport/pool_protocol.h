// The embedding-pool operations of the memory-node protocol (ops
// 0x0100-0x01FF; framing, HELLO and errors as in protocol.h).
//
// Only indices, offsets, pooled vectors and pooled gradients cross the link
// for lookups and updates, never rows: the node gathers, reduces and steps.
// A "bag block" is u32 bag_count, u32 index_count, u32 offsets[bag_count + 1],
// u32 indices[index_count] (EmbeddingBag's layout). Lookups and updates of
// the batch in flight may instead set kUsePreparedBags and send no block:
// the node reuses the table's bags from PREPARE, so a batch's indices cross
// the link once.
//
// Request payloads [successful response payloads]:
//   INFO        empty [u64 next_batch, u64 seed, u32 table_count,
//               u32 describe_len, table_count x (u64 rows, u32 dim,
//               u32 name_len, name), describe]
//   PREPARE     u64 batch, u32 table_count, u32 0, table_count bag blocks [empty]
//   LOOKUP      u32 table, u8 pooling, u8 flags, u16 0, bag block?
//               [bag_count x dim f32]
//   UPDATE      u64 batch, u32 table, u8 pooling, u8 optimizer, u8 flags,
//               u8 0, f32 lr, f32 eps, bag block?, u32 grad_floats, u32 0,
//               f32 grad[grad_floats] (bag_count x dim) [empty]
//   COMMIT      u64 batch [u64 next_batch]
//   GATHER      u32 table, u32 count, u32 index[count] [count x dim f32]
//   SCATTER     u32 table, u32 count, u32 index[count], f32 rows[count x dim] [empty]
//   RESET       u64 batch [empty]
//   NEXT_BATCH  empty [u64 next_batch]
//   GATHER_STATE   as GATHER, one f32 (the row's Adagrad accumulator) per row
//   SCATTER_STATE  as SCATTER, one f32 per row
//
// Every field is checked against the payload's size before it is used, by
// PayloadReader below; the node then checks table ids, dims and index
// ranges against the pool.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "prescient/embedding_store.h"
#include "prescient/status.h"

namespace prescient::wire {

enum class PoolOp : uint16_t {
  kInfo = 0x0100,
  kPrepare = 0x0101,
  kLookup = 0x0102,
  kUpdate = 0x0103,
  kCommit = 0x0104,
  kGather = 0x0105,
  kScatter = 0x0106,
  kReset = 0x0107,
  kNextBatch = 0x0108,
  kGatherState = 0x0109,
  kScatterState = 0x010A,
};
inline constexpr uint8_t kUsePreparedBags = 1;

// Pool frames may be larger than page frames (a batch's indices or a
// table's rows); requests and responses both stay within this.
inline constexpr size_t kMaxPoolPayloadBytes = size_t{64} << 20;

// "POOL_LOOKUP", ... or "" for an op that is not a pool op.
const char* PoolOpName(uint16_t op);

// Appending little-endian fields to a payload.
void PutU32(std::vector<std::byte>* out, uint32_t v);
void PutU64(std::vector<std::byte>* out, uint64_t v);
void PutF32(std::vector<std::byte>* out, float v);
void PutBytes(std::vector<std::byte>* out, const void* data, size_t bytes);
void PutBags(std::vector<std::byte>* out, const Bags& bags);

// Bounds-checked reading of a payload. The first failure sticks, and
// status() names the op and what was being read where.
class PayloadReader {
 public:
  PayloadReader(std::span<const std::byte> payload, const char* what) : p_(payload), what_(what) {}
  bool U8(uint8_t* v);
  bool U16(uint16_t* v);
  bool U32(uint32_t* v);
  bool U64(uint64_t* v);
  bool F32(float* v);
  // Views into the payload (4-byte aligned, as every field before them is a
  // multiple of 4 bytes and the payload buffer is aligned).
  bool U32s(size_t count, std::span<const uint32_t>* out, const char* field);
  bool F32s(size_t count, std::span<const float>* out, const char* field);
  bool Bags(prescient::Bags* out);
  bool String(size_t bytes, std::string* out, const char* field);
  // Checks that every byte was consumed.
  bool End();
  Status status() const { return status_; }
  size_t remaining() const { return p_.size() - at_; }

 private:
  bool Need(size_t bytes, const char* field);
  std::span<const std::byte> p_;
  const char* what_;
  size_t at_ = 0;
  Status status_;
};

}  // namespace prescient::wire
