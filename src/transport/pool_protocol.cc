#include "transport/pool_protocol.h"

#include <cstring>

#include <fmt/format.h>

namespace prescient::wire {

const char* PoolOpName(uint16_t op) {
  switch (static_cast<PoolOp>(op)) {
    case PoolOp::kInfo: return "POOL_INFO";
    case PoolOp::kPrepare: return "POOL_PREPARE";
    case PoolOp::kLookup: return "POOL_LOOKUP";
    case PoolOp::kUpdate: return "POOL_UPDATE";
    case PoolOp::kCommit: return "POOL_COMMIT";
    case PoolOp::kGather: return "POOL_GATHER";
    case PoolOp::kScatter: return "POOL_SCATTER";
    case PoolOp::kReset: return "POOL_RESET";
    case PoolOp::kNextBatch: return "POOL_NEXT_BATCH";
    case PoolOp::kGatherState: return "POOL_GATHER_STATE";
    case PoolOp::kScatterState: return "POOL_SCATTER_STATE";
  }
  return "";
}

void PutBytes(std::vector<std::byte>* out, const void* data, size_t bytes) {
  size_t at = out->size();
  out->resize(at + bytes);
  if (bytes != 0) std::memcpy(out->data() + at, data, bytes);
}
void PutU32(std::vector<std::byte>* out, uint32_t v) { PutBytes(out, &v, 4); }
void PutU64(std::vector<std::byte>* out, uint64_t v) { PutBytes(out, &v, 8); }
void PutF32(std::vector<std::byte>* out, float v) { PutBytes(out, &v, 4); }

void PutBags(std::vector<std::byte>* out, const Bags& bags) {
  PutU32(out, static_cast<uint32_t>(bags.count()));
  PutU32(out, static_cast<uint32_t>(bags.indices.size()));
  // An empty offsets span (which CheckBags refuses) still encodes one
  // offset, so the block is well formed and the node gives the real error.
  if (bags.offsets.empty()) {
    PutU32(out, 0);
  } else {
    PutBytes(out, bags.offsets.data(), bags.offsets.size() * 4);
  }
  PutBytes(out, bags.indices.data(), bags.indices.size() * 4);
}

bool PayloadReader::Need(size_t bytes, const char* field) {
  if (!status_.ok()) return false;
  if (bytes > p_.size() - at_) {
    status_ = Status::Corruption(fmt::format("{} payload of {} bytes ends at byte {} inside {} (which needs {} bytes)", what_, p_.size(), at_, field, bytes));
    return false;
  }
  return true;
}

bool PayloadReader::U8(uint8_t* v) {
  if (!Need(1, "a u8 field")) return false;
  std::memcpy(v, p_.data() + at_, 1);
  at_ += 1;
  return true;
}
bool PayloadReader::U16(uint16_t* v) {
  if (!Need(2, "a u16 field")) return false;
  std::memcpy(v, p_.data() + at_, 2);
  at_ += 2;
  return true;
}
bool PayloadReader::U32(uint32_t* v) {
  if (!Need(4, "a u32 field")) return false;
  std::memcpy(v, p_.data() + at_, 4);
  at_ += 4;
  return true;
}
bool PayloadReader::U64(uint64_t* v) {
  if (!Need(8, "a u64 field")) return false;
  std::memcpy(v, p_.data() + at_, 8);
  at_ += 8;
  return true;
}
bool PayloadReader::F32(float* v) {
  if (!Need(4, "an f32 field")) return false;
  std::memcpy(v, p_.data() + at_, 4);
  at_ += 4;
  return true;
}

bool PayloadReader::U32s(size_t count, std::span<const uint32_t>* out, const char* field) {
  if (count > p_.size() / 4 || !Need(count * 4, field)) {
    if (status_.ok()) status_ = Status::Corruption(fmt::format("{} declares {} {}, more than its {}-byte payload holds", what_, count, field, p_.size()));
    return false;
  }
  *out = {reinterpret_cast<const uint32_t*>(p_.data() + at_), count};
  at_ += count * 4;
  return true;
}

bool PayloadReader::F32s(size_t count, std::span<const float>* out, const char* field) {
  if (count > p_.size() / 4 || !Need(count * 4, field)) {
    if (status_.ok()) status_ = Status::Corruption(fmt::format("{} declares {} {}, more than its {}-byte payload holds", what_, count, field, p_.size()));
    return false;
  }
  *out = {reinterpret_cast<const float*>(p_.data() + at_), count};
  at_ += count * 4;
  return true;
}

bool PayloadReader::Bags(prescient::Bags* out) {
  uint32_t bags = 0, indices = 0;
  if (!U32(&bags) || !U32(&indices)) return false;
  return U32s(size_t{bags} + 1, &out->offsets, "bag offsets") && U32s(indices, &out->indices, "indices");
}

bool PayloadReader::String(size_t bytes, std::string* out, const char* field) {
  if (!Need(bytes, field)) return false;
  out->assign(reinterpret_cast<const char*>(p_.data() + at_), bytes);
  at_ += bytes;
  return true;
}

bool PayloadReader::End() {
  if (!status_.ok()) return false;
  if (at_ != p_.size()) {
    status_ = Status::Corruption(fmt::format("{} payload has {} bytes after its last field", what_, p_.size() - at_));
    return false;
  }
  return true;
}

}  // namespace prescient::wire
