#include "transport/remote_embedding_store.h"

#include <sys/random.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "common/clock.h"
#include "transport/pool_protocol.h"
#include "transport/protocol.h"

namespace prescient {
namespace {

using wire::PoolOp;

uint16_t OpCode(PoolOp op) { return static_cast<uint16_t>(op); }

// Gathers and scatters are split so each frame stays well inside the limit.
constexpr size_t kChunkBytes = size_t{16} << 20;

}  // namespace

RemoteEmbeddingStore::RemoteEmbeddingStore(Endpoint endpoint, const RemotePoolOptions& options)
    : endpoint_(std::move(endpoint)), name_("memory node " + endpoint_.ToString()), options_(options) {}

std::unique_ptr<RemoteEmbeddingStore> RemoteEmbeddingStore::Connect(const std::string& endpoint, const RemotePoolOptions& options, Status* status) {
  Endpoint e;
  *status = ParseEndpoint(endpoint, &e);
  if (!status->ok()) return nullptr;
  std::unique_ptr<RemoteEmbeddingStore> store(new RemoteEmbeddingStore(e, options));
  const int timeout_ms = static_cast<int>(std::min(std::max(options.request_timeout_s, 0.001), 30.0) * 1000) + 1;
  *status = ConnectTcp(e, timeout_ms, &store->fd_);
  if (status->ok()) *status = SetSocketTimeouts(store->fd_.get(), options.request_timeout_s, 0);
  if (status->ok()) *status = store->Handshake();
  if (status->ok()) *status = store->Info();
  if (!status->ok()) return nullptr;
  return store;
}

Status RemoteEmbeddingStore::Fail(Status st) {
  if (failed_.ok()) failed_ = Status::Unavailable(fmt::format("{}: {}", name_, st.message()));
  fd_.reset();
  return failed_;
}

Status RemoteEmbeddingStore::Call(uint16_t op) {
  PRESCIENT_RETURN_IF_ERROR(failed_);
  if (request_.size() > wire::kMaxPoolPayloadBytes)
    return Status::InvalidArgument(fmt::format("{} request of {} bytes is above the {}-byte limit of one request", wire::OpName(op), request_.size(),
                                               wire::kMaxPoolPayloadBytes));
  const uint64_t id = ++request_id_;
  std::byte header[wire::kHeaderSize];
  wire::EncodeHeader({op, 0, static_cast<uint32_t>(request_.size()), id}, header);
  iovec iov[2] = {{header, sizeof(header)}, {request_.data(), request_.size()}};
  Status st = WriteFullV(fd_.get(), iov, request_.empty() ? 1 : 2);
  if (!st.ok()) return Fail(Status::Unavailable(fmt::format("sending {}: {}", wire::OpName(op), st.message())));
  bytes_sent_ += sizeof(header) + request_.size();
  const uint64_t deadline = NowNanos() + static_cast<uint64_t>(std::max(options_.request_timeout_s, 0.001) * 1e9);
  std::byte reply[wire::kHeaderSize];
  st = ReadFull(fd_.get(), reply, deadline);
  if (!st.ok()) {
    if (st.code() == Status::Code::kTimedOut)
      return Fail(Status::TimedOut(fmt::format("no answer to {} within {:.1f} s", wire::OpName(op), options_.request_timeout_s)));
    return Fail(Status::Unavailable(fmt::format("waiting for the answer to {}: {}", wire::OpName(op), st.message())));
  }
  wire::FrameHeader h;
  st = wire::ParseHeader(reply, &h);
  if (!st.ok()) return Fail(Status::Corruption(fmt::format("malformed answer to {}: {}", wire::OpName(op), st.message())));
  if (h.status == 0 && (h.op != op || h.request_id != id))
    return Fail(Status::Corruption(fmt::format("answer to {} #{} came back as {} #{}", wire::OpName(op), id, wire::OpName(h.op), h.request_id)));
  response_.resize(h.payload_len);
  st = ReadFull(fd_.get(), response_, deadline);
  if (!st.ok()) return Fail(Status::Unavailable(fmt::format("reading the answer to {}: {}", wire::OpName(op), st.message())));
  bytes_received_ += sizeof(reply) + h.payload_len;
  if (h.status != 0) {
    std::string message(reinterpret_cast<const char*>(response_.data()), std::min<size_t>(response_.size(), wire::kMaxMessageBytes));
    Status err = wire::FromWireStatus(h.status, fmt::format("{}: {}", name_, message));
    // The node answers a malformed request by closing the connection, and
    // an answer to another request means the stream is out of step.
    if (h.op != op || h.request_id != id || err.code() == Status::Code::kCorruption) return Fail(err);
    return err;
  }
  return Status::Ok();
}

Status RemoteEmbeddingStore::Handshake() {
  uint64_t ns = 0;
  if (getrandom(&ns, sizeof(ns), 0) != sizeof(ns)) ns = NowNanos() ^ static_cast<uint64_t>(getpid());
  std::vector<std::byte> frame = wire::EncodeHello(0, {wire::kVersion, ns, options_.token});
  request_.assign(frame.begin() + wire::kHeaderSize, frame.end());
  Status st = Call(static_cast<uint16_t>(wire::Op::kHello));
  if (!st.ok()) return st;
  wire::HelloResponse hello;
  st = wire::ParseHelloResponse(response_, &hello);
  if (!st.ok()) return Fail(Status::Corruption(fmt::format("malformed HELLO answer: {}", st.message())));
  return Status::Ok();
}

Status RemoteEmbeddingStore::Info() {
  request_.clear();
  Status st = Call(OpCode(PoolOp::kInfo));
  if (!st.ok()) {
    if (st.message().find("does not serve") != std::string::npos)
      return Status::InvalidArgument(fmt::format("{} serves no embedding pool (start it with --pool FILE)", name_));
    return st;
  }
  wire::PayloadReader r(response_, "POOL_INFO answer");
  uint32_t count = 0, describe_len = 0;
  if (!r.U64(&next_batch_) || !r.U64(&seed_) || !r.U32(&count) || !r.U32(&describe_len)) return Fail(r.status());
  if (count == 0 || count > response_.size() / 16) return Fail(Status::Corruption(fmt::format("POOL_INFO answer declares {} tables", count)));
  tables_.clear();
  for (uint32_t t = 0; t < count; ++t) {
    TableSpec spec;
    uint32_t name_len = 0;
    if (!r.U64(&spec.rows) || !r.U32(&spec.dim) || !r.U32(&name_len) || !r.String(name_len, &spec.name, "a table name")) return Fail(r.status());
    if (spec.rows == 0 || spec.rows > (uint64_t{1} << 32) || spec.dim == 0 || spec.dim > 65536)
      return Fail(Status::Corruption(fmt::format("POOL_INFO answer describes table {} as {} rows of dim {}", t, spec.rows, spec.dim)));
    tables_.push_back(std::move(spec));
  }
  if (!r.String(describe_len, &remote_describe_, "the description") || !r.End()) return Fail(r.status());
  prepared_indices_.assign(count, {});
  prepared_offsets_.assign(count, {});
  return Status::Ok();
}

std::string RemoteEmbeddingStore::describe() const { return fmt::format("{}: {}", name_, remote_describe_); }

Status RemoteEmbeddingStore::CheckTable(uint32_t table) const {
  if (table >= tables_.size()) return Status::InvalidArgument(fmt::format("no table {} (the pool has {})", table, tables_.size()));
  return Status::Ok();
}

Status RemoteEmbeddingStore::ExpectResponse(const char* what, size_t bytes) const {
  if (response_.size() == bytes) return Status::Ok();
  return Status::Corruption(fmt::format("{}: the answer to {} is {} bytes, expected {}", name_, what, response_.size(), bytes));
}

bool RemoteEmbeddingStore::IsPrepared(uint32_t table, const Bags& bags) const {
  if (!prepared_) return false;
  const auto& idx = prepared_indices_[table];
  const auto& off = prepared_offsets_[table];
  return idx.size() == bags.indices.size() && off.size() == bags.offsets.size() &&
         std::equal(off.begin(), off.end(), bags.offsets.begin()) && std::equal(idx.begin(), idx.end(), bags.indices.begin());
}

Status RemoteEmbeddingStore::Prepare(uint64_t batch, std::span<const Bags> per_table) {
  request_.clear();
  wire::PutU64(&request_, batch);
  wire::PutU32(&request_, static_cast<uint32_t>(per_table.size()));
  wire::PutU32(&request_, 0);
  for (const Bags& b : per_table) wire::PutBags(&request_, b);
  prepared_ = false;
  PRESCIENT_RETURN_IF_ERROR(Call(OpCode(PoolOp::kPrepare)));
  if (Status st = ExpectResponse("POOL_PREPARE", 0); !st.ok()) return Fail(st);
  for (size_t t = 0; t < per_table.size() && t < tables_.size(); ++t) {
    prepared_indices_[t].assign(per_table[t].indices.begin(), per_table[t].indices.end());
    prepared_offsets_[t].assign(per_table[t].offsets.begin(), per_table[t].offsets.end());
  }
  prepared_ = true;
  return Status::Ok();
}

Status RemoteEmbeddingStore::Lookup(uint32_t table, const Bags& bags, Pooling pooling, float* out) {
  PRESCIENT_RETURN_IF_ERROR(CheckTable(table));
  const bool reuse = IsPrepared(table, bags);
  request_.clear();
  wire::PutU32(&request_, table);
  const uint8_t fields[4] = {static_cast<uint8_t>(pooling), reuse ? wire::kUsePreparedBags : uint8_t{0}, 0, 0};
  wire::PutBytes(&request_, fields, 4);
  if (!reuse) wire::PutBags(&request_, bags);
  PRESCIENT_RETURN_IF_ERROR(Call(OpCode(PoolOp::kLookup)));
  const size_t bytes = bags.count() * tables_[table].dim * 4;
  if (Status st = ExpectResponse("POOL_LOOKUP", bytes); !st.ok()) return Fail(st);
  if (bytes != 0) std::memcpy(out, response_.data(), bytes);
  return Status::Ok();
}

Status RemoteEmbeddingStore::Update(uint64_t batch, uint32_t table, const Bags& bags, Pooling pooling,
                                    const float* pooled_grad, const SparseOptimizerConfig& optimizer) {
  PRESCIENT_RETURN_IF_ERROR(CheckTable(table));
  const bool reuse = IsPrepared(table, bags);
  request_.clear();
  wire::PutU64(&request_, batch);
  wire::PutU32(&request_, table);
  const uint8_t fields[4] = {static_cast<uint8_t>(pooling), static_cast<uint8_t>(optimizer.kind), reuse ? wire::kUsePreparedBags : uint8_t{0}, 0};
  wire::PutBytes(&request_, fields, 4);
  wire::PutF32(&request_, optimizer.lr);
  wire::PutF32(&request_, optimizer.eps);
  if (!reuse) wire::PutBags(&request_, bags);
  const uint64_t floats = uint64_t{bags.count()} * tables_[table].dim;
  if (floats > UINT32_MAX) return Status::InvalidArgument("POOL_UPDATE: too many gradient floats for one request");
  wire::PutU32(&request_, static_cast<uint32_t>(floats));
  wire::PutU32(&request_, 0);
  wire::PutBytes(&request_, pooled_grad, floats * 4);
  PRESCIENT_RETURN_IF_ERROR(Call(OpCode(PoolOp::kUpdate)));
  if (Status st = ExpectResponse("POOL_UPDATE", 0); !st.ok()) return Fail(st);
  return Status::Ok();
}

Status RemoteEmbeddingStore::Commit(uint64_t batch) {
  request_.clear();
  wire::PutU64(&request_, batch);
  PRESCIENT_RETURN_IF_ERROR(Call(OpCode(PoolOp::kCommit)));
  if (Status st = ExpectResponse("POOL_COMMIT", 8); !st.ok()) return Fail(st);
  std::memcpy(&next_batch_, response_.data(), 8);
  prepared_ = false;
  return Status::Ok();
}

Status RemoteEmbeddingStore::GatherFloats(PoolOp op, uint32_t table, uint32_t floats_per_row, std::span<const uint32_t> indices, float* out) {
  PRESCIENT_RETURN_IF_ERROR(CheckTable(table));
  const size_t per_chunk = std::max<size_t>(1, kChunkBytes / (size_t{floats_per_row} * 4));
  for (size_t at = 0; at < indices.size(); at += per_chunk) {
    const size_t n = std::min(per_chunk, indices.size() - at);
    request_.clear();
    wire::PutU32(&request_, table);
    wire::PutU32(&request_, static_cast<uint32_t>(n));
    wire::PutBytes(&request_, indices.data() + at, n * 4);
    PRESCIENT_RETURN_IF_ERROR(Call(OpCode(op)));
    if (Status st = ExpectResponse(wire::PoolOpName(OpCode(op)), n * floats_per_row * 4); !st.ok()) return Fail(st);
    std::memcpy(out + at * floats_per_row, response_.data(), n * floats_per_row * 4);
  }
  return Status::Ok();
}

Status RemoteEmbeddingStore::ScatterFloats(PoolOp op, uint32_t table, uint32_t floats_per_row, std::span<const uint32_t> indices, const float* values) {
  PRESCIENT_RETURN_IF_ERROR(CheckTable(table));
  const size_t per_chunk = std::max<size_t>(1, kChunkBytes / (size_t{floats_per_row} * 4 + 4));
  for (size_t at = 0; at < indices.size(); at += per_chunk) {
    const size_t n = std::min(per_chunk, indices.size() - at);
    request_.clear();
    wire::PutU32(&request_, table);
    wire::PutU32(&request_, static_cast<uint32_t>(n));
    wire::PutBytes(&request_, indices.data() + at, n * 4);
    wire::PutBytes(&request_, values + at * floats_per_row, n * floats_per_row * 4);
    PRESCIENT_RETURN_IF_ERROR(Call(OpCode(op)));
    if (Status st = ExpectResponse(wire::PoolOpName(OpCode(op)), 0); !st.ok()) return Fail(st);
  }
  return Status::Ok();
}

Status RemoteEmbeddingStore::GatherRows(uint32_t table, std::span<const uint32_t> indices, float* out) {
  PRESCIENT_RETURN_IF_ERROR(CheckTable(table));
  return GatherFloats(PoolOp::kGather, table, tables_[table].dim, indices, out);
}

Status RemoteEmbeddingStore::ScatterRows(uint32_t table, std::span<const uint32_t> indices, const float* rows) {
  PRESCIENT_RETURN_IF_ERROR(CheckTable(table));
  return ScatterFloats(PoolOp::kScatter, table, tables_[table].dim, indices, rows);
}

Status RemoteEmbeddingStore::GatherAdagradState(uint32_t table, std::span<const uint32_t> indices, float* out) {
  return GatherFloats(PoolOp::kGatherState, table, 1, indices, out);
}

Status RemoteEmbeddingStore::ScatterAdagradState(uint32_t table, std::span<const uint32_t> indices, const float* state) {
  return ScatterFloats(PoolOp::kScatterState, table, 1, indices, state);
}

Status RemoteEmbeddingStore::ResetNextBatch(uint64_t batch) {
  request_.clear();
  wire::PutU64(&request_, batch);
  PRESCIENT_RETURN_IF_ERROR(Call(OpCode(PoolOp::kReset)));
  if (Status st = ExpectResponse("POOL_RESET", 0); !st.ok()) return Fail(st);
  next_batch_ = batch;
  prepared_ = false;
  return Status::Ok();
}

Status RemoteEmbeddingStore::FetchNextBatch(uint64_t* batch) {
  request_.clear();
  PRESCIENT_RETURN_IF_ERROR(Call(OpCode(PoolOp::kNextBatch)));
  if (Status st = ExpectResponse("POOL_NEXT_BATCH", 8); !st.ok()) return Fail(st);
  std::memcpy(&next_batch_, response_.data(), 8);
  *batch = next_batch_;
  return Status::Ok();
}

}  // namespace prescient
