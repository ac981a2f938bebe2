// RemoteEmbeddingStore: an EmbeddingStore whose tables live in the
// embedding pool of a memory node (`prescient memnode --pool FILE`), reached
// over TCP with the pool ops of transport/pool_protocol.h.
//
// Lookups and updates run on the node: only indices, pooled vectors and
// pooled gradients cross the link. Lookup and Update of the batch in flight
// send no indices when their bags are the ones given to Prepare.
//
// One request is in flight at a time, on one connection. Every wait is
// bounded by request_timeout_s, so a node that dies or hangs gives an error
// promptly; after any transport failure the store fails every later call
// with the same error (the caller reconnects, and the node's recovery
// decides where training resumes). Nothing is ever made up: a failed Lookup
// leaves an error, not zeros.
//
// Not thread-safe: callers serialize.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "prescient/embedding_store.h"
#include "prescient/status.h"
#include "transport/pool_protocol.h"
#include "transport/socket_util.h"

namespace prescient {

struct RemotePoolOptions {
  std::string token;
  double request_timeout_s = 30.0;
};

class RemoteEmbeddingStore final : public EmbeddingStore {
 public:
  // Connects to HOST:PORT, says HELLO and reads the pool's tables.
  static std::unique_ptr<RemoteEmbeddingStore> Connect(const std::string& endpoint, const RemotePoolOptions& options, Status* status);

  const std::vector<TableSpec>& tables() const override { return tables_; }
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
  // "memory node HOST:PORT: pmem pool FILE (msync, undo log)"
  std::string describe() const override;

  uint64_t seed() const { return seed_; }
  // Asks the node (next_batch() is the value last seen).
  Status FetchNextBatch(uint64_t* batch);
  // Bytes of frames sent and received so far, headers included.
  uint64_t bytes_sent() const { return bytes_sent_; }
  uint64_t bytes_received() const { return bytes_received_; }

 private:
  RemoteEmbeddingStore(Endpoint endpoint, const RemotePoolOptions& options);
  Status Handshake();
  Status Info();
  // Sends `request_` as op and reads the answer into `response_`; a transport
  // failure fails the store for good.
  Status Call(uint16_t op);
  Status Fail(Status st);
  Status CheckTable(uint32_t table) const;
  bool IsPrepared(uint32_t table, const Bags& bags) const;
  Status ExpectResponse(const char* what, size_t bytes) const;
  // GATHER / GATHER_STATE (floats_per_row 1) in chunks.
  Status GatherFloats(wire::PoolOp op, uint32_t table, uint32_t floats_per_row, std::span<const uint32_t> indices, float* out);
  Status ScatterFloats(wire::PoolOp op, uint32_t table, uint32_t floats_per_row, std::span<const uint32_t> indices, const float* values);

  Endpoint endpoint_;
  std::string name_;
  RemotePoolOptions options_;
  UniqueFd fd_;
  Status failed_;
  uint64_t request_id_ = 0;
  std::vector<TableSpec> tables_;
  uint64_t seed_ = 0;
  uint64_t next_batch_ = 0;
  std::string remote_describe_;
  std::vector<std::byte> request_, response_;
  // What the batch in flight's PREPARE carried, per table.
  bool prepared_ = false;
  std::vector<std::vector<uint32_t>> prepared_indices_, prepared_offsets_;
  uint64_t bytes_sent_ = 0, bytes_received_ = 0;
};

}  // namespace prescient
