#include "memnode/session.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/clock.h"
#include "transport/socket_util.h"

namespace prescient {
namespace {

// A connection has this long to say HELLO (header and payload): a client
// sends it as soon as it connects, and a stranger's wait is bounded.
constexpr uint64_t kHelloTimeoutNs = 3'000'000'000;
// Once a request's header has arrived, the rest must follow within this.
constexpr uint64_t kPayloadTimeoutNs = 30'000'000'000;
// A client that stops reading its answers is dropped after this.
constexpr double kSendTimeoutS = 30.0;

// Compares in time that depends only on the expected token's length, so the
// answer time does not reveal how much of a guess was right.
bool TokenMatches(std::string_view given, std::string_view expected) {
  unsigned diff = given.size() == expected.size() ? 0u : 1u;
  for (size_t i = 0; i < expected.size(); ++i) {
    unsigned char g = i < given.size() ? static_cast<unsigned char>(given[i]) : 0;
    diff |= g ^ static_cast<unsigned char>(expected[i]);
  }
  return diff == 0;
}

}  // namespace

Status NodeServesItsMostClients(int max_clients) {
  return Status::Unavailable(fmt::format("memory node is serving its maximum of {} connections; try again later", max_clients));
}

// The dispatch table. Adding an op (e.g. the embedding-pool ops in the
// reserved 0x0100-0x01FF range) means adding a handler and a line here.
const Session::OpEntry Session::kOps[] = {
    {wire::Op::kHello, &Session::Hello},
    {wire::Op::kPing, &Session::Ping},
    {wire::Op::kStats, &Session::Stats},
    {wire::Op::kRead, &Session::Read},
    {wire::Op::kWrite, &Session::Write},
    {wire::Op::kDiscard, &Session::Discard},
};

Session::Session(MemnodeShared* shared, int fd, std::string peer, std::atomic<int>* stage)
    : shared_(shared), fd_(fd), peer_(std::move(peer)), stage_(stage) {
  shared_->connections.fetch_add(1, std::memory_order_relaxed);
}

Session::~Session() {
  if (shared_->pool != nullptr) shared_->pool->SessionEnded(reinterpret_cast<uintptr_t>(this));
  if (ns_ != nullptr) {
    shared_->store.Detach(ns_);
    shared_->clients.fetch_sub(1, std::memory_order_relaxed);
  }
  shared_->connections.fetch_sub(1, std::memory_order_relaxed);
}

void Session::Run() {
  Status st = SetSocketTimeouts(fd_, kSendTimeoutS, 0);
  if (!st.ok()) {
    spdlog::warn("connection from {}: {}", peer_, st.ToString());
    return;
  }
  for (;;) {
    wire::FrameHeader header;
    bool eof = false;
    st = ReadRequest(&header, &eof);
    if (!st.ok()) {
      if (st.code() == Status::Code::kCorruption) {
        CloseForProtocolError(header.op, header.request_id, st);
      } else if (stage_->load(std::memory_order_acquire) == kDropped) {
        spdlog::debug("connection from {} dropped before its HELLO, to make room for newer ones", peer_);
      } else if (st.code() == Status::Code::kTimedOut && ns_ == nullptr) {
        spdlog::warn("closing connection from {}: no HELLO within {} s", peer_, kHelloTimeoutNs / 1'000'000'000);
      } else if (eof) {
        if (ns_ != nullptr) spdlog::info("client {} disconnected", peer_);
      } else {
        spdlog::info("connection from {} ended: {}", peer_, st.message());
      }
      return;
    }
    shared_->requests.fetch_add(1, std::memory_order_relaxed);
    Outcome outcome;
    if (ns_ == nullptr && header.op != static_cast<uint16_t>(wire::Op::kHello)) {
      outcome = {Status::PermissionDenied(fmt::format("the first request must be HELLO, not {}", wire::OpName(header.op))), true};
    } else {
      outcome = Dispatch(header.op, in_);
    }
    if (outcome.close) {
      CloseForProtocolError(header.op, header.request_id, outcome.status);
      return;
    }
    st = SendReply(header, outcome);
    if (!st.ok()) {
      spdlog::info("connection from {} ended while answering: {}", peer_, st.message());
      return;
    }
  }
}

Status Session::ReadRequest(wire::FrameHeader* header, bool* eof) {
  std::byte header_bytes[wire::kHeaderSize];
  // Before HELLO the wait is bounded; after it a client may be idle for as
  // long as it likes (the server's shutdown wakes this read).
  uint64_t deadline = ns_ == nullptr ? NowNanos() + kHelloTimeoutNs : 0;
  PRESCIENT_RETURN_IF_ERROR(ReadFull(fd_, header_bytes, deadline, eof));
  PRESCIENT_RETURN_IF_ERROR(wire::ParseRequestHeader(header_bytes, header));
  // Before HELLO nothing larger than a HELLO is read, so a stranger cannot
  // make the node allocate a pool op's 64 MiB.
  const size_t hello_limit = wire::MaxRequestPayload(static_cast<uint16_t>(wire::Op::kHello));
  if (ns_ == nullptr && header->payload_len > hello_limit)
    return Status::Corruption(fmt::format("a request before HELLO carries {} bytes; the first request must be HELLO (at most {} bytes)", header->payload_len, hello_limit));
  // The size was checked against the op's limit above, so this allocation
  // is bounded whatever the client claims.
  in_.resize(header->payload_len);
  Status st = ReadFull(fd_, in_, ns_ == nullptr ? deadline : NowNanos() + kPayloadTimeoutNs);
  if (!st.ok()) return Status::Unavailable(fmt::format("incomplete {} request: {}", wire::OpName(header->op), st.message()));
  return Status::Ok();
}

Session::Outcome Session::Dispatch(uint16_t op, std::span<const std::byte> payload) {
  out_.clear();
  for (const OpEntry& entry : kOps) {
    if (static_cast<uint16_t>(entry.op) == op) return (this->*entry.handler)(payload);
  }
  if (wire::IsPoolOp(op) && shared_->pool != nullptr) {
    bool malformed = false;
    Status st = shared_->pool->Handle(op, payload, &out_, &malformed, reinterpret_cast<uintptr_t>(this));
    return {std::move(st), malformed};
  }
  // Unknown ops are answered, not fatal: a newer client can probe for them.
  if (wire::IsPoolOp(op))
    return {Status::InvalidArgument(fmt::format("{} is an embedding-pool operation, which this memory node does not serve", wire::OpName(op)))};
  return {Status::InvalidArgument(fmt::format("this memory node does not support {}", wire::OpName(op)))};
}

Status Session::SendReply(const wire::FrameHeader& request, const Outcome& outcome) {
  if (!outcome.status.ok()) return WriteFull(fd_, wire::EncodeError(request.op, request.request_id, outcome.status));
  std::byte header[wire::kHeaderSize];
  wire::EncodeHeader({request.op, 0, static_cast<uint32_t>(out_.size()), request.request_id}, header);
  iovec iov[2] = {{header, sizeof(header)}, {out_.data(), out_.size()}};
  return WriteFullV(fd_, iov, 2);
}

void Session::CloseForProtocolError(uint16_t op, uint64_t request_id, const Status& why) {
  spdlog::warn("closing connection from {}: {}", peer_, why.message());
  // Best effort, and briefly: the client may not be reading at all.
  SetSocketTimeouts(fd_, 1.0, 0);
  auto frame = wire::EncodeError(op, request_id, why);
  (void)WriteFull(fd_, frame);
}

Session::Outcome Session::Hello(std::span<const std::byte> payload) {
  if (ns_ != nullptr) return {Status::InvalidArgument("HELLO sent twice on one connection"), true};
  wire::HelloRequest hello;
  Status st = wire::ParseHello(payload, &hello);
  if (!st.ok()) return {st, true};
  if (hello.version != wire::kVersion)
    return {Status::InvalidArgument(fmt::format("client speaks protocol version {}, this memory node speaks {}", hello.version, wire::kVersion)), true};
  if (!shared_->token.empty() && !TokenMatches(hello.token, shared_->token)) {
    return {Status::PermissionDenied(hello.token.empty()
                                         ? "this memory node requires a token and none was presented (give the client the node's token with --token-file FILE or PRESCIENT_TOKEN)"
                                         : "wrong token: this memory node requires the token it was started with (its --token-file or PRESCIENT_TOKEN)"),
            true};
  }
  // Past the token: this connection leaves the handshakes for a client slot,
  // unless the server has just dropped it.
  int handshake = kHandshake;
  if (!stage_->compare_exchange_strong(handshake, kClient, std::memory_order_acq_rel))
    return {Status::Unavailable("the memory node dropped this connection before its HELLO; connect again"), true};
  if (shared_->clients.fetch_add(1, std::memory_order_acq_rel) >= shared_->max_clients) {
    shared_->clients.fetch_sub(1, std::memory_order_relaxed);
    spdlog::warn("refusing client {}: already serving {} clients", peer_, shared_->max_clients);
    return {NodeServesItsMostClients(shared_->max_clients), true};
  }
  ns_ = shared_->store.Attach(hello.namespace_id);
  spdlog::info("client {} connected (namespace {:016x})", peer_, hello.namespace_id);
  wire::HelloResponse response;
  response.capacity_bytes = shared_->store.capacity_bytes();
  auto frame = wire::EncodeHelloResponse(0, response);
  out_.assign(frame.begin() + wire::kHeaderSize, frame.end());
  return {};
}

Session::Outcome Session::Ping(std::span<const std::byte>) { return {}; }

Session::Outcome Session::Stats(std::span<const std::byte>) {
  uint64_t fields[static_cast<size_t>(wire::StatsField::kCount)] = {
      shared_->store.stored_pages(),
      shared_->store.capacity_bytes(),
      shared_->store.namespaces(),
      shared_->connections.load(std::memory_order_relaxed),
      shared_->pages_read.load(std::memory_order_relaxed),
      shared_->pages_written.load(std::memory_order_relaxed),
      shared_->requests.load(std::memory_order_relaxed),
  };
  auto frame = wire::EncodeStatsResponse(0, fields);
  out_.assign(frame.begin() + wire::kHeaderSize, frame.end());
  return {};
}

Session::Outcome Session::Read(std::span<const std::byte> payload) {
  wire::ReadRequest request;
  Status st = wire::ParseRead(payload, &request);
  if (!st.ok()) return {st, true};
  out_.resize(size_t{request.count()} * kPageSize);
  shared_->pages_read.fetch_add(request.count(), std::memory_order_relaxed);
  return {shared_->store.Read(*ns_, request, out_.data())};
}

Session::Outcome Session::Write(std::span<const std::byte> payload) {
  wire::WriteRequest request;
  Status st = wire::ParseWrite(payload, &request);
  if (!st.ok()) return {st, true};
  shared_->pages_written.fetch_add(request.count(), std::memory_order_relaxed);
  return {shared_->store.Write(*ns_, request)};
}

Session::Outcome Session::Discard(std::span<const std::byte> payload) {
  wire::DiscardRequest request;
  Status st = wire::ParseDiscard(payload, &request);
  if (!st.ok()) return {st, true};
  shared_->store.Discard(*ns_, request.first_page, request.page_count);
  return {};
}

}  // namespace prescient
