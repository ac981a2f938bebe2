#include "memnode/pool_service.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "transport/pool_protocol.h"

namespace prescient {
namespace {

using wire::PayloadReader;
using wire::PoolOp;

// What a response may carry; a request asking for more is refused before
// anything is allocated.
Status CheckResponseSize(const char* what, uint64_t floats) {
  if (floats > wire::kMaxPoolPayloadBytes / 4)
    return Status::InvalidArgument(fmt::format("{} would answer with {} floats, above the {}-byte limit of one response; split the request",
                                               what, floats, wire::kMaxPoolPayloadBytes));
  return Status::Ok();
}

Status Malformed(const PayloadReader& r, bool* malformed) {
  *malformed = true;
  return r.status();
}

}  // namespace

PoolService::PoolService(std::unique_ptr<PmemEmbeddingStore> store) : store_(std::move(store)) {
  prepared_indices_.resize(store_->tables().size());
  prepared_offsets_.resize(store_->tables().size());
}

Status PoolService::Handle(uint16_t op, std::span<const std::byte> payload, std::vector<std::byte>* out, bool* malformed, uint64_t session) {
  std::lock_guard<std::mutex> lock(mu_);
  *malformed = false;
  out->clear();
  switch (static_cast<PoolOp>(op)) {
    case PoolOp::kInfo:
      if (!payload.empty()) return (*malformed = true, Status::Corruption("POOL_INFO request carries a payload"));
      return Info(out);
    case PoolOp::kPrepare: return Prepare(payload, out, malformed, session);
    case PoolOp::kLookup: return Lookup(payload, out, malformed, session);
    case PoolOp::kUpdate: return Update(payload, out, malformed, session);
    case PoolOp::kGather: return Gather(payload, out, malformed, false);
    case PoolOp::kScatter: return Scatter(payload, out, malformed, false, session);
    case PoolOp::kGatherState: return Gather(payload, out, malformed, true);
    case PoolOp::kScatterState: return Scatter(payload, out, malformed, true, session);
    case PoolOp::kCommit:
    case PoolOp::kReset:
    case PoolOp::kNextBatch: return BatchOp(op, payload, out, malformed, session);
  }
  return Status::InvalidArgument(fmt::format("this memory node does not support pool op {:#06x}", op));
}

Status PoolService::CheckTable(uint32_t table) const {
  if (table >= store_->tables().size()) return Status::InvalidArgument(fmt::format("no table {} (the pool has {})", table, store_->tables().size()));
  return Status::Ok();
}

Status PoolService::CheckNotAnotherSessionsBatch(uint64_t session, const char* what) const {
  if (has_prepared_ && owner_ != session)
    return Status::InvalidArgument(fmt::format("{} refused: batch {} is in flight, prepared by another connection; only that connection "
                                               "may change the tables until it commits or goes",
                                               what, prepared_batch_));
  return Status::Ok();
}

Status PoolService::PreparedBags(uint32_t table, uint64_t session, Bags* bags) const {
  if (!has_prepared_ || prepared_batch_ != store_->next_batch())
    return Status::InvalidArgument("the request refers to the prepared bags, but no batch is prepared");
  PRESCIENT_RETURN_IF_ERROR(CheckNotAnotherSessionsBatch(session, "a request for the prepared bags"));
  *bags = {prepared_indices_[table], prepared_offsets_[table]};
  return Status::Ok();
}

Status PoolService::Info(std::vector<std::byte>* out) {
  const std::string describe = store_->describe();
  wire::PutU64(out, store_->next_batch());
  wire::PutU64(out, store_->seed());
  wire::PutU32(out, static_cast<uint32_t>(store_->tables().size()));
  wire::PutU32(out, static_cast<uint32_t>(describe.size()));
  for (const TableSpec& t : store_->tables()) {
    wire::PutU64(out, t.rows);
    wire::PutU32(out, t.dim);
    wire::PutU32(out, static_cast<uint32_t>(t.name.size()));
    wire::PutBytes(out, t.name.data(), t.name.size());
  }
  wire::PutBytes(out, describe.data(), describe.size());
  return Status::Ok();
}

void PoolService::SessionEnded(uint64_t session) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!has_prepared_ || owner_ != session) return;
  has_prepared_ = false;
  Status st = store_->Rollback();
  if (!st.ok()) {
    spdlog::error("rolling back batch {} after its client left: {}", prepared_batch_, st.ToString());
    return;
  }
  const PoolRecovery& r = store_->recovery();
  if (r.torn) {
    spdlog::warn("the client of batch {} left before committing it; without an undo log the tables may hold part of it", r.batch);
  } else {
    spdlog::info("the client of batch {} left before committing it: rolled back {} rows", r.batch, r.rows_restored);
  }
}

Status PoolService::Prepare(std::span<const std::byte> payload, std::vector<std::byte>*, bool* malformed, uint64_t session) {
  PayloadReader r(payload, "POOL_PREPARE");
  uint64_t batch = 0;
  uint32_t tables = 0, zero = 0;
  if (!r.U64(&batch) || !r.U32(&tables) || !r.U32(&zero)) return Malformed(r, malformed);
  if (tables > payload.size() / 8) return (*malformed = true, Status::Corruption(fmt::format("POOL_PREPARE declares {} tables in {} bytes", tables, payload.size())));
  std::vector<Bags> bags(tables);
  for (Bags& b : bags)
    if (!r.Bags(&b)) return Malformed(r, malformed);
  if (!r.End()) return Malformed(r, malformed);
  PRESCIENT_RETURN_IF_ERROR(CheckNotAnotherSessionsBatch(session, fmt::format("POOL_PREPARE of batch {}", batch).c_str()));
  // A refused prepare leaves the batch in flight, if any, as it was.
  PRESCIENT_RETURN_IF_ERROR(store_->Prepare(batch, bags));
  for (uint32_t t = 0; t < tables; ++t) {
    prepared_indices_[t].assign(bags[t].indices.begin(), bags[t].indices.end());
    prepared_offsets_[t].assign(bags[t].offsets.begin(), bags[t].offsets.end());
  }
  has_prepared_ = true;
  prepared_batch_ = batch;
  owner_ = session;
  return Status::Ok();
}

Status PoolService::Lookup(std::span<const std::byte> payload, std::vector<std::byte>* out, bool* malformed, uint64_t session) {
  PayloadReader r(payload, "POOL_LOOKUP");
  uint32_t table = 0;
  uint8_t pooling = 0, flags = 0;
  uint16_t zero = 0;
  Bags bags;
  if (!r.U32(&table) || !r.U8(&pooling) || !r.U8(&flags) || !r.U16(&zero)) return Malformed(r, malformed);
  if (!(flags & wire::kUsePreparedBags) && !r.Bags(&bags)) return Malformed(r, malformed);
  if (!r.End()) return Malformed(r, malformed);
  if (pooling > 1 || flags > 1) return Status::InvalidArgument(fmt::format("POOL_LOOKUP: unknown pooling {} or flags {}", pooling, flags));
  PRESCIENT_RETURN_IF_ERROR(CheckTable(table));
  if (flags & wire::kUsePreparedBags) PRESCIENT_RETURN_IF_ERROR(PreparedBags(table, session, &bags));
  const uint32_t dim = store_->tables()[table].dim;
  PRESCIENT_RETURN_IF_ERROR(CheckResponseSize("POOL_LOOKUP", uint64_t{bags.count()} * dim));
  out->resize(bags.count() * dim * 4);
  return store_->Lookup(table, bags, static_cast<Pooling>(pooling), reinterpret_cast<float*>(out->data()));
}

Status PoolService::Update(std::span<const std::byte> payload, std::vector<std::byte>*, bool* malformed, uint64_t session) {
  PayloadReader r(payload, "POOL_UPDATE");
  uint64_t batch = 0;
  uint32_t table = 0, grad_floats = 0, zero32 = 0;
  uint8_t pooling = 0, optimizer = 0, flags = 0, zero8 = 0;
  SparseOptimizerConfig config;
  Bags bags;
  std::span<const float> grads;
  if (!r.U64(&batch) || !r.U32(&table) || !r.U8(&pooling) || !r.U8(&optimizer) || !r.U8(&flags) || !r.U8(&zero8) || !r.F32(&config.lr) ||
      !r.F32(&config.eps))
    return Malformed(r, malformed);
  if (!(flags & wire::kUsePreparedBags) && !r.Bags(&bags)) return Malformed(r, malformed);
  if (!r.U32(&grad_floats) || !r.U32(&zero32) || !r.F32s(grad_floats, &grads, "gradient floats") || !r.End()) return Malformed(r, malformed);
  if (pooling > 1 || optimizer > 1 || flags > 1)
    return Status::InvalidArgument(fmt::format("POOL_UPDATE: unknown pooling {}, optimizer {} or flags {}", pooling, optimizer, flags));
  config.kind = static_cast<SparseOptimizer>(optimizer);
  PRESCIENT_RETURN_IF_ERROR(CheckTable(table));
  PRESCIENT_RETURN_IF_ERROR(CheckNotAnotherSessionsBatch(session, "POOL_UPDATE"));
  if (flags & wire::kUsePreparedBags) PRESCIENT_RETURN_IF_ERROR(PreparedBags(table, session, &bags));
  const uint32_t dim = store_->tables()[table].dim;
  if (uint64_t{grad_floats} != uint64_t{bags.count()} * dim)
    return Status::InvalidArgument(fmt::format("POOL_UPDATE of table {}: {} gradient floats for {} bags of dim {} (expected {})", table, grad_floats,
                                               bags.count(), dim, uint64_t{bags.count()} * dim));
  return store_->Update(batch, table, bags, static_cast<Pooling>(pooling), grads.data(), config);
}

Status PoolService::Gather(std::span<const std::byte> payload, std::vector<std::byte>* out, bool* malformed, bool state) {
  const char* what = state ? "POOL_GATHER_STATE" : "POOL_GATHER";
  PayloadReader r(payload, what);
  uint32_t table = 0, count = 0;
  std::span<const uint32_t> indices;
  if (!r.U32(&table) || !r.U32(&count) || !r.U32s(count, &indices, "row indices") || !r.End()) return Malformed(r, malformed);
  PRESCIENT_RETURN_IF_ERROR(CheckTable(table));
  const uint32_t dim = state ? 1 : store_->tables()[table].dim;
  PRESCIENT_RETURN_IF_ERROR(CheckResponseSize(what, uint64_t{count} * dim));
  out->resize(size_t{count} * dim * 4);
  auto* floats = reinterpret_cast<float*>(out->data());
  return state ? store_->GatherAdagradState(table, indices, floats) : store_->GatherRows(table, indices, floats);
}

Status PoolService::Scatter(std::span<const std::byte> payload, std::vector<std::byte>*, bool* malformed, bool state, uint64_t session) {
  const char* what = state ? "POOL_SCATTER_STATE" : "POOL_SCATTER";
  PayloadReader r(payload, what);
  uint32_t table = 0, count = 0;
  std::span<const uint32_t> indices;
  std::span<const float> values;
  if (!r.U32(&table) || !r.U32(&count) || !r.U32s(count, &indices, "row indices")) return Malformed(r, malformed);
  PRESCIENT_RETURN_IF_ERROR(CheckTable(table));
  const uint32_t dim = state ? 1 : store_->tables()[table].dim;
  if (r.remaining() != uint64_t{count} * dim * 4)
    return (*malformed = true, Status::Corruption(fmt::format("{} of {} rows of {} floats carries {} bytes of values, not {}", what, count, dim,
                                                              r.remaining(), uint64_t{count} * dim * 4)));
  if (!r.F32s(size_t{count} * dim, &values, "values") || !r.End()) return Malformed(r, malformed);
  PRESCIENT_RETURN_IF_ERROR(CheckNotAnotherSessionsBatch(session, what));
  return state ? store_->ScatterAdagradState(table, indices, values.data()) : store_->ScatterRows(table, indices, values.data());
}

Status PoolService::BatchOp(uint16_t op, std::span<const std::byte> payload, std::vector<std::byte>* out, bool* malformed, uint64_t session) {
  if (static_cast<PoolOp>(op) == PoolOp::kNextBatch) {
    if (!payload.empty()) return (*malformed = true, Status::Corruption("POOL_NEXT_BATCH request carries a payload"));
    wire::PutU64(out, store_->next_batch());
    return Status::Ok();
  }
  PayloadReader r(payload, wire::PoolOpName(op));
  uint64_t batch = 0;
  if (!r.U64(&batch) || !r.End()) return Malformed(r, malformed);
  PRESCIENT_RETURN_IF_ERROR(CheckNotAnotherSessionsBatch(session, wire::PoolOpName(op)));
  // Only a request the store accepts changes what is in flight.
  if (static_cast<PoolOp>(op) == PoolOp::kCommit) {
    PRESCIENT_RETURN_IF_ERROR(store_->Commit(batch));
    has_prepared_ = false;
    wire::PutU64(out, store_->next_batch());
    return Status::Ok();
  }
  PRESCIENT_RETURN_IF_ERROR(store_->ResetNextBatch(batch));
  has_prepared_ = false;
  return Status::Ok();
}

}  // namespace prescient
