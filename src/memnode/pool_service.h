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
  Status Handle(uint16_t op, std::span<const std::byte> payload, std::vector<std::byte>* out, bool* malformed);
  std::string describe() const { return store_->describe(); }

 private:
  Status Info(std::vector<std::byte>* out);
  Status Prepare(std::span<const std::byte> payload, std::vector<std::byte>* out, bool* malformed);
  Status Lookup(std::span<const std::byte> payload, std::vector<std::byte>* out, bool* malformed);
  Status Update(std::span<const std::byte> payload, std::vector<std::byte>* out, bool* malformed);
  Status Gather(std::span<const std::byte> payload, std::vector<std::byte>* out, bool* malformed);
  Status Scatter(std::span<const std::byte> payload, std::vector<std::byte>* out, bool* malformed);
  Status BatchOp(uint16_t op, std::span<const std::byte> payload, std::vector<std::byte>* out, bool* malformed);
  Status CheckTable(uint32_t table) const;
  // The bags of `table` from the batch in flight's PREPARE.
  Status PreparedBags(uint32_t table, Bags* bags) const;

  std::mutex mu_;
  std::unique_ptr<PmemEmbeddingStore> store_;
  bool has_prepared_ = false;
  uint64_t prepared_batch_ = 0;
  std::vector<std::vector<uint32_t>> prepared_indices_, prepared_offsets_;
};

}  // namespace prescient
