// PoolService: the memory node's embedding-pool operations (near-memory
// lookup and update over the transport; transport/pool_protocol.h), served
// on a PmemEmbeddingStore that every session shares, one request at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "memnode/pmem_embedding_store.h"
#include "prescient/status.h"

namespace prescient {

class PoolService {
 public:
  explicit PoolService(std::unique_ptr<PmemEmbeddingStore> store);

  // Serves one pool request: on success *out holds the response payload. A
  // payload that breaks the protocol sets *malformed (the session then
  // closes the connection); other errors are answers.
  // `session` identifies the connection: the batch in flight belongs to the
  // one that prepared it.
  Status Handle(uint16_t op, std::span<const std::byte> payload, std::vector<std::byte>* out, bool* malformed, uint64_t session = 0);
  // A connection ended. If it had a batch in flight, its client is gone (a
  // crashed trainer) and the batch is rolled back, so the next client finds
  // the pool at a batch boundary, as it would after the node restarted.
  void SessionEnded(uint64_t session);
  std::string describe() const { return store_->describe(); }

 private:
  Status Info(std::vector<std::byte>* out);
  Status Prepare(std::span<const std::byte> payload, std::vector<std::byte>* out, bool* malformed, uint64_t session);
  Status Lookup(std::span<const std::byte> payload, std::vector<std::byte>* out, bool* malformed, uint64_t session);
  Status Update(std::span<const std::byte> payload, std::vector<std::byte>* out, bool* malformed, uint64_t session);
  // Rows, or with `state` the Adagrad accumulators (one float per row).
  Status Gather(std::span<const std::byte> payload, std::vector<std::byte>* out, bool* malformed, bool state);
  Status Scatter(std::span<const std::byte> payload, std::vector<std::byte>* out, bool* malformed, bool state, uint64_t session);
  Status BatchOp(uint16_t op, std::span<const std::byte> payload, std::vector<std::byte>* out, bool* malformed, uint64_t session);
  Status CheckTable(uint32_t table) const;
  // Refuses a request (`what`) that would change the tables or the batch in
  // flight when another session prepared that batch: only its owner may
  // update, commit or reset while it is in flight, and a refusal changes nothing.
  Status CheckNotAnotherSessionsBatch(uint64_t session, const char* what) const;
  // The bags of `table` from the batch in flight's PREPARE, for its owner.
  Status PreparedBags(uint32_t table, uint64_t session, Bags* bags) const;

  std::mutex mu_;
  std::unique_ptr<PmemEmbeddingStore> store_;
  bool has_prepared_ = false;
  uint64_t prepared_batch_ = 0;
  uint64_t owner_ = 0;  // the session that prepared the batch in flight
  std::vector<std::vector<uint32_t>> prepared_indices_, prepared_offsets_;
};

}  // namespace prescient
