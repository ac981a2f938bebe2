#include "transport/protocol.h"

#include <cstring>

#include <fmt/format.h>

#include "transport/pool_protocol.h"

namespace prescient::wire {

namespace {

constexpr std::byte kMagic[3] = {std::byte{'P'}, std::byte{'M'}, std::byte{'N'}};
constexpr size_t kPageListPrefix = 8;  // u32 count + u32 reserved

// Shared by READ and WRITE: the count prefix and the page-number list.
Status ParsePageList(const char* what, std::span<const std::byte> payload, size_t bytes_per_page,
                     std::span<const std::byte>* page_numbers) {
  if (payload.size() < kPageListPrefix)
    return Status::Corruption(fmt::format("{} request of {} bytes is shorter than its 8-byte count prefix", what, payload.size()));
  uint32_t count = LoadU32(payload.data());
  if (LoadU32(payload.data() + 4) != 0) return Status::Corruption(fmt::format("{} request has non-zero reserved bits", what));
  if (count == 0) return Status::Corruption(fmt::format("{} request has a count of 0 pages", what));
  if (count > kMaxPagesPerRequest)
    return Status::Corruption(fmt::format("{} request count {} exceeds the limit of {} pages", what, count, kMaxPagesPerRequest));
  size_t expected = kPageListPrefix + size_t{count} * bytes_per_page;
  if (payload.size() != expected)
    return Status::Corruption(
        fmt::format("{} request payload is {} bytes but {} pages need exactly {}", what, payload.size(), count, expected));
  *page_numbers = payload.subspan(kPageListPrefix, size_t{count} * 8);
  for (uint32_t i = 0; i < count; ++i) {
    uint64_t page = LoadU64(page_numbers->data() + size_t{i} * 8);
    if (page >= kMaxPageNo)
      return Status::Corruption(fmt::format("{} request names page {}, beyond the limit of {}", what, page, kMaxPageNo));
  }
  return Status::Ok();
}

std::vector<std::byte> PageListFrame(Op op, uint64_t request_id, std::span<const uint64_t> pages, size_t data_bytes) {
  std::vector<std::byte> out(kHeaderSize + kPageListPrefix + pages.size() * 8 + data_bytes);
  FrameHeader h{static_cast<uint16_t>(op), 0, static_cast<uint32_t>(out.size() - kHeaderSize), request_id};
  EncodeHeader(h, out.data());
  StoreU32(out.data() + kHeaderSize, static_cast<uint32_t>(pages.size()));
  StoreU32(out.data() + kHeaderSize + 4, 0);
  std::memcpy(out.data() + kHeaderSize + kPageListPrefix, pages.data(), pages.size() * 8);
  return out;
}

}  // namespace

bool IsPoolOp(uint16_t op) { return op >= static_cast<uint16_t>(Op::kPoolFirst) && op <= static_cast<uint16_t>(Op::kPoolLast); }

std::string OpName(uint16_t op) {
  switch (static_cast<Op>(op)) {
    case Op::kHello: return "HELLO";
    case Op::kPing: return "PING";
    case Op::kStats: return "STATS";
    case Op::kRead: return "READ";
    case Op::kWrite: return "WRITE";
    case Op::kDiscard: return "DISCARD";
    default:
      if (!IsPoolOp(op)) return fmt::format("op {:#06x}", op);
      if (*PoolOpName(op) != '\0') return PoolOpName(op);
      return fmt::format("pool op {:#06x}", op);
  }
}

uint16_t ToWireStatus(Status::Code code) {
  switch (code) {
    case Status::Code::kOk: return 0;
    case Status::Code::kInvalidArgument: return static_cast<uint16_t>(WireStatus::kInvalidArgument);
    case Status::Code::kNotFound: return static_cast<uint16_t>(WireStatus::kNotFound);
    case Status::Code::kIoError: return static_cast<uint16_t>(WireStatus::kIoError);
    case Status::Code::kCorruption: return static_cast<uint16_t>(WireStatus::kCorruption);
    case Status::Code::kUnavailable: return static_cast<uint16_t>(WireStatus::kUnavailable);
    case Status::Code::kResourceExhausted: return static_cast<uint16_t>(WireStatus::kResourceExhausted);
    case Status::Code::kPermissionDenied: return static_cast<uint16_t>(WireStatus::kPermissionDenied);
    case Status::Code::kTimedOut: return static_cast<uint16_t>(WireStatus::kTimedOut);
    case Status::Code::kInternal: return static_cast<uint16_t>(WireStatus::kInternal);
  }
  return static_cast<uint16_t>(WireStatus::kInternal);
}

Status FromWireStatus(uint16_t wire_status, std::string message) {
  switch (static_cast<WireStatus>(wire_status)) {
    case WireStatus::kInvalidArgument: return Status::InvalidArgument(std::move(message));
    case WireStatus::kNotFound: return Status::NotFound(std::move(message));
    case WireStatus::kIoError: return Status::IoError(std::move(message));
    case WireStatus::kCorruption: return Status::Corruption(std::move(message));
    case WireStatus::kUnavailable: return Status::Unavailable(std::move(message));
    case WireStatus::kResourceExhausted: return Status::ResourceExhausted(std::move(message));
    case WireStatus::kPermissionDenied: return Status::PermissionDenied(std::move(message));
    case WireStatus::kTimedOut: return Status::TimedOut(std::move(message));
    case WireStatus::kUnsupported: return Status::InvalidArgument(std::move(message));
    default: return Status::Internal(std::move(message));
  }
}

void EncodeHeader(const FrameHeader& h, std::byte out[kHeaderSize]) {
  std::memcpy(out, kMagic, 3);
  out[3] = std::byte{kVersion};
  StoreU16(out + 4, h.op);
  StoreU16(out + 6, h.status);
  StoreU32(out + 8, h.payload_len);
  StoreU32(out + 12, 0);
  StoreU64(out + 16, h.request_id);
}

Status ParseHeader(std::span<const std::byte> bytes, FrameHeader* h) {
  if (bytes.size() < kHeaderSize)
    return Status::Corruption(fmt::format("truncated frame header: {} of {} bytes", bytes.size(), kHeaderSize));
  if (std::memcmp(bytes.data(), kMagic, 3) != 0)
    return Status::Corruption(fmt::format("bad magic {:02x} {:02x} {:02x}: not a prescient memory-node frame",
                                          static_cast<unsigned>(bytes[0]), static_cast<unsigned>(bytes[1]), static_cast<unsigned>(bytes[2])));
  auto version = static_cast<unsigned>(bytes[3]);
  if (version != kVersion)
    return Status::Corruption(fmt::format("frame uses protocol version {}; this build speaks version {}", version, kVersion));
  if (LoadU32(bytes.data() + 12) != 0) return Status::Corruption("frame has non-zero reserved flags");
  h->op = LoadU16(bytes.data() + 4);
  h->status = LoadU16(bytes.data() + 6);
  h->payload_len = LoadU32(bytes.data() + 8);
  h->request_id = LoadU64(bytes.data() + 16);
  const size_t limit = IsPoolOp(h->op) ? kMaxPoolPayloadBytes : kMaxPayloadBytes;
  if (h->payload_len > limit)
    return Status::Corruption(fmt::format("{} frame declares a {}-byte payload, above the limit of {}", OpName(h->op), h->payload_len, limit));
  return Status::Ok();
}

size_t MaxRequestPayload(uint16_t op) {
  switch (static_cast<Op>(op)) {
    case Op::kHello: return 16 + kMaxTokenBytes;
    case Op::kPing:
    case Op::kStats: return 0;
    case Op::kRead: return kPageListPrefix + size_t{kMaxPagesPerRequest} * 8;
    case Op::kWrite: return kMaxPayloadBytes;
    case Op::kDiscard: return 16;
    default: return IsPoolOp(op) ? kMaxPoolPayloadBytes : kMaxPayloadBytes;
  }
}

Status ParseRequestHeader(std::span<const std::byte> bytes, FrameHeader* h) {
  PRESCIENT_RETURN_IF_ERROR(ParseHeader(bytes, h));
  if (h->status != 0) return Status::Corruption(fmt::format("{} request carries a status ({})", OpName(h->op), h->status));
  size_t limit = MaxRequestPayload(h->op);
  if (h->payload_len > limit)
    return Status::Corruption(fmt::format("{} request declares a {}-byte payload, above its limit of {}", OpName(h->op), h->payload_len, limit));
  return Status::Ok();
}

uint64_t ReadRequest::page(uint32_t i) const { return LoadU64(page_numbers.data() + size_t{i} * 8); }
uint64_t WriteRequest::page(uint32_t i) const { return LoadU64(page_numbers.data() + size_t{i} * 8); }

Status ParseHello(std::span<const std::byte> payload, HelloRequest* out) {
  if (payload.size() < 16) return Status::Corruption(fmt::format("HELLO payload of {} bytes is shorter than 16", payload.size()));
  out->version = LoadU32(payload.data());
  uint32_t token_len = LoadU32(payload.data() + 4);
  out->namespace_id = LoadU64(payload.data() + 8);
  if (token_len > kMaxTokenBytes) return Status::Corruption(fmt::format("HELLO token of {} bytes exceeds {}", token_len, kMaxTokenBytes));
  if (payload.size() != 16 + size_t{token_len})
    return Status::Corruption(fmt::format("HELLO payload is {} bytes but a {}-byte token needs {}", payload.size(), token_len, 16 + token_len));
  out->token = std::string_view(reinterpret_cast<const char*>(payload.data() + 16), token_len);
  return Status::Ok();
}

Status ParseHelloResponse(std::span<const std::byte> payload, HelloResponse* out) {
  if (payload.size() != 24) return Status::Corruption(fmt::format("HELLO response is {} bytes, expected 24", payload.size()));
  out->version = LoadU32(payload.data());
  out->max_pages_per_request = LoadU32(payload.data() + 4);
  out->max_page_no = LoadU64(payload.data() + 8);
  out->capacity_bytes = LoadU64(payload.data() + 16);
  return Status::Ok();
}

Status ParseRead(std::span<const std::byte> payload, ReadRequest* out) {
  return ParsePageList("READ", payload, 8, &out->page_numbers);
}

Status ParseWrite(std::span<const std::byte> payload, WriteRequest* out) {
  PRESCIENT_RETURN_IF_ERROR(ParsePageList("WRITE", payload, 8 + kPageSize, &out->page_numbers));
  out->data = payload.subspan(kPageListPrefix + out->page_numbers.size());
  return Status::Ok();
}

Status ParseDiscard(std::span<const std::byte> payload, DiscardRequest* out) {
  if (payload.size() != 16) return Status::Corruption(fmt::format("DISCARD payload is {} bytes, expected 16", payload.size()));
  out->first_page = LoadU64(payload.data());
  out->page_count = LoadU64(payload.data() + 8);
  if (out->first_page >= kMaxPageNo || out->page_count > kMaxPageNo - out->first_page)
    return Status::Corruption(fmt::format("DISCARD of {} pages from page {} reaches beyond the limit of {}", out->page_count, out->first_page, kMaxPageNo));
  return Status::Ok();
}

void AppendFrame(const FrameHeader& header, std::span<const std::byte> payload, std::vector<std::byte>* out) {
  size_t at = out->size();
  out->resize(at + kHeaderSize + payload.size());
  FrameHeader h = header;
  h.payload_len = static_cast<uint32_t>(payload.size());
  EncodeHeader(h, out->data() + at);
  if (!payload.empty()) std::memcpy(out->data() + at + kHeaderSize, payload.data(), payload.size());
}

std::vector<std::byte> EncodeHello(uint64_t request_id, const HelloRequest& hello) {
  std::vector<std::byte> payload(16 + hello.token.size());
  StoreU32(payload.data(), hello.version);
  StoreU32(payload.data() + 4, static_cast<uint32_t>(hello.token.size()));
  StoreU64(payload.data() + 8, hello.namespace_id);
  if (!hello.token.empty()) std::memcpy(payload.data() + 16, hello.token.data(), hello.token.size());
  std::vector<std::byte> out;
  AppendFrame({static_cast<uint16_t>(Op::kHello), 0, 0, request_id}, payload, &out);
  return out;
}

std::vector<std::byte> EncodeHelloResponse(uint64_t request_id, const HelloResponse& hello) {
  std::byte payload[24];
  StoreU32(payload, hello.version);
  StoreU32(payload + 4, hello.max_pages_per_request);
  StoreU64(payload + 8, hello.max_page_no);
  StoreU64(payload + 16, hello.capacity_bytes);
  std::vector<std::byte> out;
  AppendFrame({static_cast<uint16_t>(Op::kHello), 0, 0, request_id}, payload, &out);
  return out;
}

std::vector<std::byte> EncodeRead(uint64_t request_id, std::span<const uint64_t> pages) {
  return PageListFrame(Op::kRead, request_id, pages, 0);
}

std::vector<std::byte> EncodeWrite(uint64_t request_id, std::span<const uint64_t> pages, std::span<const std::byte> data) {
  std::vector<std::byte> out = PageListFrame(Op::kWrite, request_id, pages, data.size());
  if (!data.empty()) std::memcpy(out.data() + out.size() - data.size(), data.data(), data.size());
  return out;
}

std::vector<std::byte> EncodeDiscard(uint64_t request_id, const DiscardRequest& discard) {
  std::byte payload[16];
  StoreU64(payload, discard.first_page);
  StoreU64(payload + 8, discard.page_count);
  std::vector<std::byte> out;
  AppendFrame({static_cast<uint16_t>(Op::kDiscard), 0, 0, request_id}, payload, &out);
  return out;
}

std::vector<std::byte> EncodeEmpty(Op op, uint64_t request_id) {
  std::vector<std::byte> out;
  AppendFrame({static_cast<uint16_t>(op), 0, 0, request_id}, {}, &out);
  return out;
}

std::vector<std::byte> EncodeError(uint16_t op, uint64_t request_id, const Status& status) {
  std::string_view msg = status.message();
  if (msg.size() > kMaxMessageBytes) msg = msg.substr(0, kMaxMessageBytes);
  uint16_t code = ToWireStatus(status.code());
  if (code == 0) code = static_cast<uint16_t>(WireStatus::kInternal);
  std::vector<std::byte> out;
  AppendFrame({op, code, 0, request_id}, std::as_bytes(std::span(msg.data(), msg.size())), &out);
  return out;
}

std::vector<std::byte> EncodeStatsResponse(uint64_t request_id, std::span<const uint64_t> fields) {
  std::vector<std::byte> payload(8 + fields.size() * 8);
  StoreU32(payload.data(), static_cast<uint32_t>(fields.size()));
  StoreU32(payload.data() + 4, 0);
  for (size_t i = 0; i < fields.size(); ++i) StoreU64(payload.data() + 8 + i * 8, fields[i]);
  std::vector<std::byte> out;
  AppendFrame({static_cast<uint16_t>(Op::kStats), 0, 0, request_id}, payload, &out);
  return out;
}

Status ParseStatsResponse(std::span<const std::byte> payload, std::vector<uint64_t>* fields) {
  if (payload.size() < 8) return Status::Corruption(fmt::format("STATS response of {} bytes is shorter than 8", payload.size()));
  uint32_t count = LoadU32(payload.data());
  if (payload.size() != 8 + size_t{count} * 8)
    return Status::Corruption(fmt::format("STATS response is {} bytes but {} fields need {}", payload.size(), count, 8 + size_t{count} * 8));
  fields->resize(count);
  for (uint32_t i = 0; i < count; ++i) (*fields)[i] = LoadU64(payload.data() + 8 + size_t{i} * 8);
  return Status::Ok();
}

Status DecodeFrame(std::span<const std::byte> bytes, Frame* frame, size_t* consumed) {
  PRESCIENT_RETURN_IF_ERROR(ParseHeader(bytes, &frame->header));
  size_t total = kHeaderSize + frame->header.payload_len;
  if (bytes.size() < total)
    return Status::Corruption(fmt::format("truncated {} frame: payload has {} of {} bytes", OpName(frame->header.op),
                                          bytes.size() - kHeaderSize, frame->header.payload_len));
  frame->payload = bytes.subspan(kHeaderSize, frame->header.payload_len);
  *consumed = total;
  return Status::Ok();
}

}  // namespace prescient::wire
