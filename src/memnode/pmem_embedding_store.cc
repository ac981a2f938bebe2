#include "memnode/pmem_embedding_store.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/clock.h"
#include "memnode/embedding_ops.h"

namespace prescient {
namespace {

// The undo log, at PoolFile::log(): this header, then one segment per table
// the batch touches:
//   u32 table, u32 count, u32 row[count] (padded to 8 bytes),
//   float value[count][dim], float state[count] (padded to 8 bytes).
// Its contents matter only while the commit word says the batch is in
// flight, and they are persisted before the word says so.
constexpr char kLogMagic[8] = {'P', 'R', 'S', 'C', 'U', 'N', 'D', 'O'};
constexpr uint32_t kLogKindUndo = 1;  // segments follow
constexpr uint32_t kLogKindNone = 2;  // no undo log: the batch cannot be rolled back
struct UndoLogHeader {
  char magic[8];
  uint64_t batch;
  uint32_t kind;
  uint32_t segments;
  uint64_t payload_bytes;
  uint64_t payload_checksum;
  uint64_t header_checksum;  // of the 40 bytes before it
  uint64_t reserved[2];
};
static_assert(sizeof(UndoLogHeader) == 64);

uint64_t Align8(uint64_t x) { return (x + 7) & ~uint64_t{7}; }
uint64_t SegmentBytes(uint64_t count, uint32_t dim) { return 8 + Align8(4 * count) + Align8(4 * count * (uint64_t{dim} + 1)); }

std::atomic<int64_t> g_crash_points{0};

int64_t CrashThreshold() {
  static const int64_t threshold = [] {
    const char* v = std::getenv("PRESCIENT_POOL_CRASH_AT");
    return v == nullptr ? int64_t{0} : std::atoll(v);
  }();
  return threshold;
}

}  // namespace

void PoolCrashPoint(const char* name) {
  const int64_t threshold = CrashThreshold();
  if (threshold <= 0) return;
  if (g_crash_points.fetch_add(1, std::memory_order_relaxed) + 1 != threshold) return;
  char msg[160];
  int n = std::snprintf(msg, sizeof(msg), "PRESCIENT_POOL_CRASH_AT=%lld: killed at %s\n", static_cast<long long>(threshold), name);
  if (n > 0) (void)!write(2, msg, static_cast<size_t>(std::min<int>(n, sizeof(msg) - 1)));
  raise(SIGKILL);
}

Status ParsePoolLatency(const std::string& text, PoolLatency* latency) {
  if (text.empty() || text == "off") {
    *latency = {};
    return Status::Ok();
  }
  if (text == "pmem") {
    *latency = PoolLatency::PmemLike();
    return Status::Ok();
  }
  char* end = nullptr;
  if (text.rfind("pmem:", 0) == 0) {
    unsigned long dram = std::strtoul(text.c_str() + 5, &end, 10);
    if (end != text.c_str() + 5 && *end == '\0' && dram <= 100000) {
      *latency = PoolLatency::PmemLike(static_cast<uint32_t>(dram));
      return Status::Ok();
    }
  } else if (size_t comma = text.find(','); comma != std::string::npos) {
    unsigned long r = std::strtoul(text.c_str(), &end, 10);
    bool ok = end == text.c_str() + comma;
    unsigned long w = std::strtoul(text.c_str() + comma + 1, &end, 10);
    ok = ok && end != text.c_str() + comma + 1 && *end == '\0' && r <= 1000000 && w <= 1000000;
    if (ok) {
      *latency = {static_cast<uint32_t>(r), static_cast<uint32_t>(w)};
      return Status::Ok();
    }
  }
  return Status::InvalidArgument(fmt::format(
      "pool latency \"{}\": expected off, pmem (reads +200 ns, writes +600 ns per 64-byte line), pmem:DRAM_NS, or READ_NS,WRITE_NS", text));
}

PmemEmbeddingStore::PmemEmbeddingStore(std::unique_ptr<PoolFile> pool, const PmemPoolOptions& options)
    : pool_(std::move(pool)), options_(options), prepared_rows_(pool_->tables().size()) {}

PmemEmbeddingStore::~PmemEmbeddingStore() { (void)AwaitLog(); }

Status PmemEmbeddingStore::AwaitLog() {
  if (!log_writer_.valid()) return Status::Ok();
  return Fail(log_writer_.get());
}

std::unique_ptr<PmemEmbeddingStore> PmemEmbeddingStore::Create(const std::string& path, const std::vector<TableSpec>& tables, uint64_t seed,
                                                               const PmemPoolOptions& options, Status* status) {
  *status = PoolFile::Create(path, tables, seed, options.log_bytes);
  if (!status->ok()) return nullptr;
  spdlog::info("created pool {} ({} tables)", path, tables.size());
  return Open(path, options, status);
}

std::unique_ptr<PmemEmbeddingStore> PmemEmbeddingStore::Open(const std::string& path, const PmemPoolOptions& options, Status* status) {
  auto pool = PoolFile::Open(path, status);
  if (pool == nullptr) return nullptr;
  std::unique_ptr<PmemEmbeddingStore> store(new PmemEmbeddingStore(std::move(pool), options));
  *status = store->Recover();
  if (!status->ok()) return nullptr;
  return store;
}

std::unique_ptr<PmemEmbeddingStore> PmemEmbeddingStore::OpenOrCreate(const std::string& path, const std::vector<TableSpec>& tables, uint64_t seed,
                                                                     const PmemPoolOptions& options, Status* status) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return Create(path, tables, seed, options, status);
  auto store = Open(path, options, status);
  if (store == nullptr) return nullptr;
  auto show = [](const std::vector<TableSpec>& ts) {
    std::string s;
    for (const TableSpec& t : ts) s += fmt::format("{}{}={}x{}", s.empty() ? "" : ",", t.name, t.rows, t.dim);
    return s;
  };
  bool same = store->tables().size() == tables.size();
  for (size_t i = 0; same && i < tables.size(); ++i)
    same = tables[i].name == store->tables()[i].name && tables[i].rows == store->tables()[i].rows && tables[i].dim == store->tables()[i].dim;
  if (!same) {
    *status = Status::InvalidArgument(fmt::format("pool {} holds tables {}, not the {} asked for", path, show(store->tables()), show(tables)));
    return nullptr;
  }
  if (store->seed() != seed) {
    *status = Status::InvalidArgument(fmt::format("pool {} was initialised with seed {}, not {}", path, store->seed(), seed));
    return nullptr;
  }
  return store;
}

std::string PmemEmbeddingStore::describe() const {
  std::string latency = options_.latency.enabled()
                            ? fmt::format(", latency +{}/+{} ns per line read/written", options_.latency.read_ns_per_line, options_.latency.write_ns_per_line)
                            : "";
  return fmt::format("pmem pool {} ({}, {}{})", pool_->path(), pool_->is_pmem() ? "pmem_persist" : "msync",
                     options_.undo_log ? "undo log" : "no undo log", latency);
}

Status PmemEmbeddingStore::Fail(Status st) {
  if (!st.ok() && failed_.ok()) {
    failed_ = Status::IoError(fmt::format("{}; the pool refuses further changes until it is reopened (and recovered)", st.message()));
    spdlog::error("{}", failed_.message());
  }
  return st;
}

Status PmemEmbeddingStore::CheckUsable() const { return failed_; }

Status PmemEmbeddingStore::CheckTable(uint32_t table) const {
  if (table >= tables().size()) return Status::InvalidArgument(fmt::format("no table {} (the pool has {})", table, tables().size()));
  return Status::Ok();
}

void PmemEmbeddingStore::Spin(uint64_t read_lines, uint64_t write_lines) const {
  if (!options_.latency.enabled()) return;
  SpinUntil(NowNanos() + read_lines * options_.latency.read_ns_per_line + write_lines * options_.latency.write_ns_per_line);
}

Status PmemEmbeddingStore::WriteCommitWord(CommitState state) { return Fail(PersistCommitWord(state)); }

Status PmemEmbeddingStore::PersistCommitWord(CommitState state) {
  std::atomic_ref<uint64_t>(*pool_->commit_word()).store(EncodeCommitWord(state), std::memory_order_release);
  PoolCrashPoint(state.in_flight ? "commit word set: batch in flight" : "commit word set: batch boundary");
  PRESCIENT_RETURN_IF_ERROR(pool_->Persist(pool_->commit_word(), 8));
  PoolCrashPoint(state.in_flight ? "commit word persisted: batch in flight" : "commit word persisted: batch boundary");
  return Status::Ok();
}

Status PmemEmbeddingStore::Recover() {
  const uint64_t start = NowNanos();
  CommitState cs;
  DecodeCommitWord(*pool_->commit_word(), &cs);  // checked by PoolFile::Open
  next_batch_ = cs.next_batch;
  if (!cs.in_flight) return Status::Ok();
  const std::string& path = pool_->path();
  auto corrupt = [&](std::string what) {
    return Status::Corruption(fmt::format("pool {}: batch {} is in flight but its undo log (at offset {}) {}; refusing to open the pool (it is left as it is)",
                                          path, cs.next_batch, pool_->offset_of(pool_->log()), what));
  };
  UndoLogHeader h;
  std::memcpy(&h, pool_->log(), sizeof(h));
  if (std::memcmp(h.magic, kLogMagic, 8) != 0) return corrupt("has no log magic");
  if (h.header_checksum != WordChecksum(&h, 40)) return corrupt("has a corrupt header (checksum mismatch)");
  if (h.batch != cs.next_batch) return corrupt(fmt::format("belongs to batch {}", h.batch));
  recovery_.batch = cs.next_batch;
  if (h.kind == kLogKindNone) {
    // Nothing to undo with: report it, and let the caller restore.
    spdlog::warn("pool {}: batch {} was in flight without an undo log; the tables may hold part of it", path, cs.next_batch);
    recovery_.torn = true;
    PRESCIENT_RETURN_IF_ERROR(WriteCommitWord({cs.next_batch, false}));
    recovery_.seconds = (NowNanos() - start) * 1e-9;
    return Status::Ok();
  }
  if (h.kind != kLogKindUndo) return corrupt(fmt::format("has unknown kind {}", h.kind));
  if (h.payload_bytes > pool_->log_bytes() - sizeof(UndoLogHeader)) return corrupt(fmt::format("claims {} bytes, more than the log holds", h.payload_bytes));
  const std::byte* payload = pool_->log() + sizeof(UndoLogHeader);
  if (h.payload_checksum != WordChecksum(payload, h.payload_bytes)) return corrupt("fails its checksum");
  // Every segment is checked before any row is touched.
  struct Segment {
    uint32_t table, count;
    const uint32_t* rows;
    const float* values;
  };
  std::vector<Segment> segments;
  uint64_t at = 0;
  for (uint32_t s = 0; s < h.segments; ++s) {
    if (at + 8 > h.payload_bytes) return corrupt(fmt::format("ends inside segment {}", s));
    Segment seg;
    std::memcpy(&seg.table, payload + at, 4);
    std::memcpy(&seg.count, payload + at + 4, 4);
    if (seg.table >= tables().size()) return corrupt(fmt::format("segment {} names table {}", s, seg.table));
    const TableSpec& t = tables()[seg.table];
    if (seg.count > t.rows) return corrupt(fmt::format("segment {} holds {} rows of a {}-row table", s, seg.count, t.rows));
    uint64_t bytes = SegmentBytes(seg.count, t.dim);
    if (at + bytes > h.payload_bytes) return corrupt(fmt::format("segment {} runs past the end", s));
    seg.rows = reinterpret_cast<const uint32_t*>(payload + at + 8);
    seg.values = reinterpret_cast<const float*>(payload + at + 8 + Align8(4 * uint64_t{seg.count}));
    for (uint32_t i = 0; i < seg.count; ++i)
      if (seg.rows[i] >= t.rows) return corrupt(fmt::format("segment {} names row {} of a {}-row table", s, seg.rows[i], t.rows));
    segments.push_back(seg);
    at += bytes;
  }
  if (at != h.payload_bytes) return corrupt("has bytes after its last segment");
  for (const Segment& seg : segments) {
    const uint32_t dim = tables()[seg.table].dim;
    float* rows = pool_->rows(seg.table);
    float* state = pool_->state(seg.table);
    const float* states = seg.values + uint64_t{seg.count} * dim;
    for (uint32_t i = 0; i < seg.count; ++i) {
      float* row = rows + uint64_t{seg.rows[i]} * dim;
      std::memcpy(row, seg.values + uint64_t{i} * dim, dim * 4);
      state[seg.rows[i]] = states[i];
      pool_->MarkDirty(row, dim * 4);
      pool_->MarkDirty(&state[seg.rows[i]], 4);
    }
    recovery_.rows_restored += seg.count;
    PoolCrashPoint("recovery: segment restored");
  }
  if (Status st = pool_->PersistDirty(); !st.ok()) return Fail(st);
  PoolCrashPoint("recovery: rows persisted");
  PRESCIENT_RETURN_IF_ERROR(WriteCommitWord({cs.next_batch, false}));
  recovery_.rolled_back = true;
  recovery_.seconds = (NowNanos() - start) * 1e-9;
  spdlog::info("pool {}: rolled back batch {} ({} rows) in {:.3f} s", path, cs.next_batch, recovery_.rows_restored, recovery_.seconds);
  return Status::Ok();
}

Status PmemEmbeddingStore::Rollback() {
  PRESCIENT_RETURN_IF_ERROR(AwaitLog());
  PRESCIENT_RETURN_IF_ERROR(CheckUsable());
  if (!prepared_) return Status::Ok();
  prepared_ = false;
  recovery_ = {};
  recovery_.batch = next_batch_;
  if (!options_.undo_log) {
    // The word still says "in flight", so a reopen reports it torn too.
    recovery_.torn = true;
    return Status::Ok();
  }
  // The word says batch next_batch_ is in flight and the log is valid:
  // exactly what recovery after a crash finds.
  return Recover();
}

Status PmemEmbeddingStore::Prepare(uint64_t batch, std::span<const Bags> per_table) {
  PRESCIENT_RETURN_IF_ERROR(CheckUsable());
  if (prepared_) return Status::InvalidArgument(fmt::format("prepare of batch {} while batch {} is prepared and not committed", batch, next_batch_));
  if (batch != next_batch_) return Status::InvalidArgument(fmt::format("prepare of batch {} but the pool expects batch {}", batch, next_batch_));
  if (batch >= kMaxPoolBatch) return Status::InvalidArgument(fmt::format("batch {} is beyond the pool's limit of {}", batch, kMaxPoolBatch - 1));
  if (per_table.size() != tables().size())
    return Status::InvalidArgument(fmt::format("prepare of batch {} names {} tables; the pool has {}", batch, per_table.size(), tables().size()));
  uint64_t payload_bytes = 0, read_lines = 0;
  uint32_t segments = 0;
  for (uint32_t t = 0; t < tables().size(); ++t) {
    PRESCIENT_RETURN_IF_ERROR(CheckBags(per_table[t], tables()[t].rows));
    prepared_rows_[t] = DistinctRows(per_table[t]);
    if (!prepared_rows_[t].empty()) {
      payload_bytes += SegmentBytes(prepared_rows_[t].size(), tables()[t].dim);
      read_lines += prepared_rows_[t].size() * (lines(t) + 1);
      ++segments;
    }
  }
  if (options_.undo_log && payload_bytes > pool_->log_bytes() - sizeof(UndoLogHeader)) {
    return Status::ResourceExhausted(fmt::format("batch {} needs {} bytes of undo log but pool {} has {} (create the pool with a larger log)",
                                                 batch, payload_bytes, pool_->path(), pool_->log_bytes() - sizeof(UndoLogHeader)));
  }
  if (options_.log_ahead) {
    // Marked prepared only once the writer runs: if it cannot be started,
    // no update may pass AwaitLog without a log.
    log_writer_ = std::async(std::launch::async, [=, this] { return WriteUndoLog(batch, payload_bytes, segments, read_lines); });
    prepared_ = true;
    return Status::Ok();
  }
  Status st = Fail(WriteUndoLog(batch, payload_bytes, segments, read_lines));
  prepared_ = st.ok();
  return st;
}

Status PmemEmbeddingStore::WriteUndoLog(uint64_t batch, uint64_t payload_bytes, uint32_t segments, uint64_t read_lines) {
  UndoLogHeader h{};
  std::memcpy(h.magic, kLogMagic, 8);
  h.batch = batch;
  h.kind = options_.undo_log ? kLogKindUndo : kLogKindNone;
  if (options_.undo_log) {
    std::byte* payload = pool_->log() + sizeof(UndoLogHeader);
    uint64_t at = 0;
    for (uint32_t t = 0; t < tables().size(); ++t) {
      const std::vector<uint32_t>& rows = prepared_rows_[t];
      if (rows.empty()) continue;
      const uint32_t dim = tables()[t].dim, count = static_cast<uint32_t>(rows.size());
      std::memcpy(payload + at, &t, 4);
      std::memcpy(payload + at + 4, &count, 4);
      std::memcpy(payload + at + 8, rows.data(), 4 * uint64_t{count});
      auto* values = reinterpret_cast<float*>(payload + at + 8 + Align8(4 * uint64_t{count}));
      float* states = values + uint64_t{count} * dim;
      const float* src = pool_->rows(t);
      const float* src_state = pool_->state(t);
      for (uint32_t i = 0; i < count; ++i) {
        std::memcpy(values + uint64_t{i} * dim, src + uint64_t{rows[i]} * dim, dim * 4);
        states[i] = src_state[rows[i]];
      }
      // Padding is zeroed so the checksum covers defined bytes.
      uint64_t used = 8 + 4 * uint64_t{count};
      std::memset(payload + at + used, 0, Align8(used) - used);
      used = 4 * uint64_t{count} * (dim + 1);
      std::memset(reinterpret_cast<std::byte*>(values) + used, 0, Align8(used) - used);
      at += SegmentBytes(count, dim);
    }
    h.segments = segments;
    h.payload_bytes = payload_bytes;
    h.payload_checksum = WordChecksum(payload, payload_bytes);
  }
  h.header_checksum = WordChecksum(&h, 40);
  std::memcpy(pool_->log(), &h, sizeof(h));
  PoolCrashPoint("prepare: undo log written");
  PRESCIENT_RETURN_IF_ERROR(pool_->Persist(pool_->log(), sizeof(h) + h.payload_bytes));
  PoolCrashPoint("prepare: undo log persisted");
  PRESCIENT_RETURN_IF_ERROR(PersistCommitWord({batch, true}));
  Spin(read_lines, options_.undo_log ? read_lines : 0);
  return Status::Ok();
}


Status PmemEmbeddingStore::CheckPrepared(uint32_t table, const std::vector<uint32_t>& sorted_rows, const char* what) const {
  const std::vector<uint32_t>& prepared = prepared_rows_[table];
  auto p = prepared.begin();
  for (uint32_t r : sorted_rows) {
    p = std::lower_bound(p, prepared.end(), r);
    if (p == prepared.end() || *p != r)
      return Status::InvalidArgument(fmt::format("{} of batch {} changes row {} of table {}, which its prepare did not name (the undo log could not restore it)",
                                                 what, next_batch_, r, table));
  }
  return Status::Ok();
}

Status PmemEmbeddingStore::CheckScatter(uint32_t table, std::span<const uint32_t> indices, const char* what) const {
  PRESCIENT_RETURN_IF_ERROR(CheckRows(indices, table, tables()[table].rows));
  if (!prepared_ || !options_.undo_log) return Status::Ok();
  std::vector<uint32_t> sorted(indices.begin(), indices.end());
  std::sort(sorted.begin(), sorted.end());
  return CheckPrepared(table, sorted, what);
}

Status PmemEmbeddingStore::Lookup(uint32_t table, const Bags& bags, Pooling pooling, float* out) {
  PRESCIENT_RETURN_IF_ERROR(CheckTable(table));
  PRESCIENT_RETURN_IF_ERROR(CheckBags(bags, tables()[table].rows));
  const float* rows = pool_->rows(table);
  const uint32_t dim = tables()[table].dim;
  PoolBags(bags, pooling, dim, [&](uint32_t r) { return rows + uint64_t{r} * dim; }, out);
  Spin(bags.indices.size() * lines(table), 0);
  return Status::Ok();
}

Status PmemEmbeddingStore::Update(uint64_t batch, uint32_t table, const Bags& bags, Pooling pooling,
                                  const float* pooled_grad, const SparseOptimizerConfig& optimizer) {
  PRESCIENT_RETURN_IF_ERROR(AwaitLog());
  PRESCIENT_RETURN_IF_ERROR(CheckUsable());
  if (!prepared_ || batch != next_batch_) return Status::InvalidArgument(fmt::format("update of batch {} before its prepare", batch));
  PRESCIENT_RETURN_IF_ERROR(CheckTable(table));
  PRESCIENT_RETURN_IF_ERROR(CheckBags(bags, tables()[table].rows));
  const uint32_t dim = tables()[table].dim;
  const RowGradients g = CoalesceGradients(bags, pooling, dim, pooled_grad);
  if (options_.undo_log) PRESCIENT_RETURN_IF_ERROR(CheckPrepared(table, g.rows, "update"));
  float* rows = pool_->rows(table);
  float* state = pool_->state(table);
  const bool adagrad = optimizer.kind == SparseOptimizer::kRowWiseAdagrad;
  for (size_t i = 0; i < g.rows.size(); ++i) {
    float* row = rows + uint64_t{g.rows[i]} * dim;
    StepRow(optimizer, dim, g.grads.data() + i * dim, row, &state[g.rows[i]]);
    pool_->MarkDirty(row, dim * 4);
    if (adagrad) pool_->MarkDirty(&state[g.rows[i]], 4);
    if (i == g.rows.size() / 2) PoolCrashPoint("update: half of a table's rows changed");
  }
  PoolCrashPoint("update: a table's rows changed");
  const uint64_t touched = g.rows.size() * (lines(table) + (adagrad ? 1 : 0));
  Spin(touched, touched);
  return Status::Ok();
}

Status PmemEmbeddingStore::Commit(uint64_t batch) {
  PRESCIENT_RETURN_IF_ERROR(AwaitLog());
  PRESCIENT_RETURN_IF_ERROR(CheckUsable());
  if (!prepared_ || batch != next_batch_)
    return Status::InvalidArgument(fmt::format("commit of batch {} but {}", batch, prepared_ ? fmt::format("batch {} is the one in flight", next_batch_) : std::string("no batch is prepared")));
  if (Status st = pool_->PersistDirty(); !st.ok()) return Fail(st);
  PoolCrashPoint("commit: rows persisted");
  PRESCIENT_RETURN_IF_ERROR(WriteCommitWord({batch + 1, false}));
  prepared_ = false;
  ++next_batch_;
  return Status::Ok();
}

Status PmemEmbeddingStore::GatherRows(uint32_t table, std::span<const uint32_t> indices, float* out) {
  PRESCIENT_RETURN_IF_ERROR(CheckTable(table));
  const TableSpec& t = tables()[table];
  PRESCIENT_RETURN_IF_ERROR(CheckRows(indices, table, t.rows));
  for (size_t i = 0; i < indices.size(); ++i) {
    std::memcpy(out + i * t.dim, pool_->rows(table) + uint64_t{indices[i]} * t.dim, t.dim * 4);
  }
  Spin(indices.size() * lines(table), 0);
  return Status::Ok();
}

Status PmemEmbeddingStore::ScatterRows(uint32_t table, std::span<const uint32_t> indices, const float* rows) {
  PRESCIENT_RETURN_IF_ERROR(AwaitLog());
  PRESCIENT_RETURN_IF_ERROR(CheckUsable());
  PRESCIENT_RETURN_IF_ERROR(CheckTable(table));
  const TableSpec& t = tables()[table];
  PRESCIENT_RETURN_IF_ERROR(CheckScatter(table, indices, "scatter"));
  for (size_t i = 0; i < indices.size(); ++i) {
    float* row = pool_->rows(table) + uint64_t{indices[i]} * t.dim;
    std::memcpy(row, rows + i * t.dim, t.dim * 4);
    pool_->MarkDirty(row, t.dim * 4);
  }
  Spin(0, indices.size() * lines(table));
  // Inside a batch the rows become durable with its commit; outside one
  // (restoring a checkpoint) now.
  if (!prepared_) {
    if (Status st = pool_->PersistDirty(); !st.ok()) return Fail(st);
  }
  return Status::Ok();
}

Status PmemEmbeddingStore::GatherAdagradState(uint32_t table, std::span<const uint32_t> indices, float* out) {
  PRESCIENT_RETURN_IF_ERROR(CheckTable(table));
  const TableSpec& t = tables()[table];
  PRESCIENT_RETURN_IF_ERROR(CheckRows(indices, table, t.rows));
  for (size_t i = 0; i < indices.size(); ++i) {
    out[i] = pool_->state(table)[indices[i]];
  }
  Spin(indices.size(), 0);
  return Status::Ok();
}

Status PmemEmbeddingStore::ScatterAdagradState(uint32_t table, std::span<const uint32_t> indices, const float* state) {
  PRESCIENT_RETURN_IF_ERROR(AwaitLog());
  PRESCIENT_RETURN_IF_ERROR(CheckUsable());
  PRESCIENT_RETURN_IF_ERROR(CheckTable(table));
  PRESCIENT_RETURN_IF_ERROR(CheckScatter(table, indices, "state scatter"));
  float* s = pool_->state(table);
  for (size_t i = 0; i < indices.size(); ++i) {
    s[indices[i]] = state[i];
    pool_->MarkDirty(&s[indices[i]], 4);
  }
  Spin(0, indices.size());
  if (!prepared_) {
    if (Status st = pool_->PersistDirty(); !st.ok()) return Fail(st);
  }
  return Status::Ok();
}

Status PmemEmbeddingStore::ResetNextBatch(uint64_t batch) {
  PRESCIENT_RETURN_IF_ERROR(AwaitLog());
  PRESCIENT_RETURN_IF_ERROR(CheckUsable());
  if (batch >= kMaxPoolBatch) return Status::InvalidArgument(fmt::format("batch {} is beyond the pool's limit of {}", batch, kMaxPoolBatch - 1));
  if (Status st = pool_->PersistDirty(); !st.ok()) return Fail(st);
  PRESCIENT_RETURN_IF_ERROR(WriteCommitWord({batch, false}));
  prepared_ = false;
  next_batch_ = batch;
  return Status::Ok();
}

}  // namespace prescient
