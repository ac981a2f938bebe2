#include "memnode/pool_file.h"

#include <fcntl.h>
#include <libpmem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>

#include <fmt/format.h>

#include "common/file_io.h"
#include "memnode/embedding_ops.h"

namespace prescient {
namespace {

constexpr uint64_t kAlign = 4096;
constexpr uint64_t kMaxDefaultLogBytes = uint64_t{256} << 20;
// A pool's header is small; one claiming more than this is not a pool.
constexpr uint64_t kMaxHeaderBytes = sizeof(PoolHeader) + uint64_t{kPoolMaxTables} * sizeof(PoolTableEntry) + 8;
// msync of clean pages costs a page-table walk only, so ranges closer than
// this are merged into one call.
constexpr uint64_t kMergeGapBytes = uint64_t{1} << 20;

uint64_t AlignUp(uint64_t x) { return (x + kAlign - 1) / kAlign * kAlign; }

uint64_t Mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xFF51AFD7ED558CCDull;
  x ^= x >> 33;
  x *= 0xC4CEB9FE1A85EC53ull;
  return x ^ (x >> 33);
}

uint16_t CommitCheck(uint64_t upper) { return static_cast<uint16_t>(Mix64(upper ^ 0x50524553434F4D4Dull) >> 49) & 0x7FFF; }

Status ReadAt(int fd, void* buf, size_t n, uint64_t offset, const std::string& path) { return ReadAllAt(fd, buf, n, offset, "pool " + path); }

Status CheckTables(const std::vector<TableSpec>& tables) {
  if (tables.empty()) return Status::InvalidArgument("a pool needs at least one table");
  if (tables.size() > kPoolMaxTables) return Status::InvalidArgument(fmt::format("{} tables; a pool holds at most {}", tables.size(), kPoolMaxTables));
  for (size_t i = 0; i < tables.size(); ++i) {
    const TableSpec& t = tables[i];
    if (t.name.empty() || t.name.size() >= kPoolTableNameBytes || t.name.find('\0') != std::string::npos)
      return Status::InvalidArgument(fmt::format("table {}: a name needs 1 to {} characters (got \"{}\")", i, kPoolTableNameBytes - 1, t.name));
    if (t.rows == 0 || t.rows > (uint64_t{1} << 32))
      return Status::InvalidArgument(fmt::format("table {} ({}): {} rows; a table needs 1 to 2^32 (indices are u32)", i, t.name, t.rows));
    if (t.dim == 0 || t.dim > kPoolMaxDim) return Status::InvalidArgument(fmt::format("table {} ({}): dim {} is not in [1, {}]", i, t.name, t.dim, kPoolMaxDim));
    for (size_t j = 0; j < i; ++j)
      if (tables[j].name == t.name) return Status::InvalidArgument(fmt::format("tables {} and {} are both named \"{}\"", j, i, t.name));
  }
  return Status::Ok();
}

}  // namespace

uint64_t EncodeCommitWord(CommitState s) {
  uint64_t upper = (s.next_batch << 16) | (s.in_flight ? uint64_t{1} << 15 : 0);
  return upper | CommitCheck(upper);
}

bool DecodeCommitWord(uint64_t word, CommitState* s) {
  uint64_t upper = word & ~uint64_t{0x7FFF};
  if ((word & 0x7FFF) != CommitCheck(upper)) return false;
  s->next_batch = word >> 16;
  s->in_flight = (word >> 15) & 1;
  return true;
}

uint64_t WordChecksum(const void* data, size_t bytes) {
  const auto* p = static_cast<const unsigned char*>(data);
  uint64_t h = 0x243F6A8885A308D3ull ^ bytes;
  size_t i = 0;
  for (; i + 8 <= bytes; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    h = (h ^ w) * 0x9E3779B97F4A7C15ull;
    h ^= h >> 31;
  }
  for (; i < bytes; ++i) h = (h ^ p[i]) * 0x100000001B3ull;
  return Mix64(h);
}

uint64_t DefaultLogBytes(const std::vector<TableSpec>& tables) {
  uint64_t bytes = 64;
  for (const TableSpec& t : tables) bytes += 32 + t.rows * (4 + 4 + uint64_t{t.dim} * 4);
  return std::min(AlignUp(bytes), kMaxDefaultLogBytes);
}

Status ComputePoolLayout(const std::vector<TableSpec>& tables, uint64_t log_bytes, PoolLayout* layout) {
  PRESCIENT_RETURN_IF_ERROR(CheckTables(tables));
  if (log_bytes < kAlign) return Status::InvalidArgument(fmt::format("an undo log of {} bytes is below the minimum of {}", log_bytes, kAlign));
  layout->header_bytes = static_cast<uint32_t>(sizeof(PoolHeader) + tables.size() * sizeof(PoolTableEntry) + 8);
  uint64_t at = AlignUp(layout->header_bytes);
  layout->commit_offset = at;
  at += kAlign;
  layout->rows_offset.clear();
  layout->state_offset.clear();
  for (const TableSpec& t : tables) {
    layout->rows_offset.push_back(at);
    at = AlignUp(at + t.rows * t.dim * 4);
    layout->state_offset.push_back(at);
    at = AlignUp(at + t.rows * 4);
  }
  layout->log_offset = at;
  layout->log_bytes = AlignUp(log_bytes);
  layout->file_bytes = at + layout->log_bytes;
  return Status::Ok();
}

PoolFile::~PoolFile() {
  if (base_ != nullptr) pmem_unmap(base_, mapped_bytes_);
}

Status PoolFile::Create(const std::string& path, const std::vector<TableSpec>& tables, uint64_t seed, uint64_t log_bytes) {
  PoolLayout layout;
  PRESCIENT_RETURN_IF_ERROR(ComputePoolLayout(tables, log_bytes == 0 ? DefaultLogBytes(tables) : log_bytes, &layout));
  struct stat st;
  if (lstat(path.c_str(), &st) == 0) {
    Status probe;
    auto existing = Open(path, &probe);
    if (existing != nullptr)
      return Status::InvalidArgument(fmt::format("refusing to create pool {}: it already exists ({} tables); open it, or delete it to start over", path, existing->tables().size()));
    return Status::InvalidArgument(fmt::format("refusing to create pool {}: the file exists and is not a usable prescient pool ({})", path, probe.message()));
  }
  // Built under a temporary name and renamed into place, so a crash while
  // creating leaves no half-made file at `path`.
  const std::string tmp = fmt::format("{}.creating.{}", path, getpid());
  int fd = open(tmp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Status::FromErrno(fmt::format("pool {}: cannot create {}", path, tmp), errno);
  auto fail = [&](Status s) {
    close(fd);
    unlink(tmp.c_str());
    return s;
  };
  // Allocated now, so running out of space is an error here and not a
  // SIGBUS in the middle of a batch.
  if (int err = posix_fallocate(fd, 0, static_cast<off_t>(layout.file_bytes)); err != 0)
    return fail(Status::FromErrno(fmt::format("pool {}: cannot allocate {} bytes", path, layout.file_bytes), err));
  size_t mapped = 0;
  int is_pmem = 0;
  auto* base = static_cast<std::byte*>(pmem_map_file(tmp.c_str(), 0, 0, 0, &mapped, &is_pmem));
  if (base == nullptr) return fail(Status::FromErrno(fmt::format("pool {}: pmem_map_file({})", path, tmp), errno));
  for (uint32_t t = 0; t < tables.size(); ++t) {
    auto* rows = reinterpret_cast<float*>(base + layout.rows_offset[t]);
    for (uint64_t r = 0; r < tables[t].rows; ++r) InitialRow(seed, t, r, tables[t].dim, rows + r * tables[t].dim);
    std::memset(base + layout.state_offset[t], 0, tables[t].rows * 4);
  }
  uint64_t word = EncodeCommitWord({0, false});
  std::memcpy(base + layout.commit_offset, &word, 8);
  PoolHeader h{};
  std::memcpy(h.magic, kPoolMagic, 8);
  h.version = kPoolFormatVersion;
  h.header_bytes = layout.header_bytes;
  h.file_bytes = layout.file_bytes;
  h.seed = seed;
  h.table_count = static_cast<uint32_t>(tables.size());
  h.commit_offset = layout.commit_offset;
  h.log_offset = layout.log_offset;
  h.log_bytes = layout.log_bytes;
  std::memcpy(base, &h, sizeof(h));
  for (uint32_t t = 0; t < tables.size(); ++t) {
    PoolTableEntry e{};
    std::memcpy(e.name, tables[t].name.data(), tables[t].name.size());
    e.rows = tables[t].rows;
    e.dim = tables[t].dim;
    e.rows_offset = layout.rows_offset[t];
    e.state_offset = layout.state_offset[t];
    std::memcpy(base + sizeof(PoolHeader) + t * sizeof(PoolTableEntry), &e, sizeof(e));
  }
  uint64_t sum = Fnv1a64(std::string_view(reinterpret_cast<const char*>(base), layout.header_bytes - 8));
  std::memcpy(base + layout.header_bytes - 8, &sum, 8);
  int rc = is_pmem ? (pmem_persist(base, mapped), 0) : pmem_msync(base, mapped);
  int err = errno;
  pmem_unmap(base, mapped);
  if (rc != 0) return fail(Status::FromErrno(fmt::format("pool {}: persisting the new pool", path), err));
  if (fsync(fd) != 0) return fail(Status::FromErrno(fmt::format("pool {}: fsync", path), errno));
  close(fd);
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    unlink(tmp.c_str());
    return Status::FromErrno(fmt::format("pool {}: cannot move {} into place", path, tmp), e);
  }
  std::string dir = path.find('/') == std::string::npos ? "." : path.substr(0, path.rfind('/') + 1);
  if (int dfd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    fsync(dfd);
    close(dfd);
  }
  return Status::Ok();
}

std::unique_ptr<PoolFile> PoolFile::Open(const std::string& path, Status* status) {
  auto refuse = [&](std::string what) {
    *status = Status::Corruption(fmt::format("pool {}: {}; refusing to open it (the file is left as it is)", path, what));
    return nullptr;
  };
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *status = Status::FromErrno(fmt::format("cannot open pool {}", path), errno);
    return nullptr;
  }
  struct CloseFd {
    int fd;
    ~CloseFd() { close(fd); }
  } closer{fd};
  struct stat st;
  if (fstat(fd, &st) != 0) {
    *status = Status::FromErrno(fmt::format("pool {}: fstat", path), errno);
    return nullptr;
  }
  if (!S_ISREG(st.st_mode)) return refuse("not a regular file");
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size < sizeof(PoolHeader)) return refuse(fmt::format("the file is {} bytes, shorter than a pool header ({} bytes): truncated, or not a pool", size, sizeof(PoolHeader)));
  PoolHeader h;
  if (Status s = ReadAt(fd, &h, sizeof(h), 0, path); !s.ok()) {
    *status = s;
    return nullptr;
  }
  if (std::memcmp(h.magic, kPoolMagic, 8) != 0) return refuse("bytes 0-7 are not the magic \"PRSCPOOL\": this is not a prescient pool file");
  if (h.version != kPoolFormatVersion) return refuse(fmt::format("format version {} at offset 8; this build reads version {}", h.version, kPoolFormatVersion));
  if (h.table_count == 0 || h.table_count > kPoolMaxTables) return refuse(fmt::format("table count {} at offset 32 is not in [1, {}]", h.table_count, kPoolMaxTables));
  const uint64_t expected_header = sizeof(PoolHeader) + uint64_t{h.table_count} * sizeof(PoolTableEntry) + 8;
  if (h.header_bytes != expected_header || h.header_bytes > kMaxHeaderBytes)
    return refuse(fmt::format("header size {} at offset 12 does not match {} tables ({} bytes)", h.header_bytes, h.table_count, expected_header));
  if (size < h.header_bytes) return refuse(fmt::format("the file is {} bytes, shorter than its {}-byte header: truncated", size, h.header_bytes));
  std::vector<std::byte> header(h.header_bytes);
  if (Status s = ReadAt(fd, header.data(), header.size(), 0, path); !s.ok()) {
    *status = s;
    return nullptr;
  }
  uint64_t stored_sum;
  std::memcpy(&stored_sum, header.data() + h.header_bytes - 8, 8);
  uint64_t sum = Fnv1a64(std::string_view(reinterpret_cast<const char*>(header.data()), h.header_bytes - 8));
  if (sum != stored_sum) return refuse(fmt::format("header checksum mismatch (bytes 0-{}: stored {:016x}, computed {:016x}): the header is corrupt", h.header_bytes - 9, stored_sum, sum));
  if (h.file_bytes != size)
    return refuse(fmt::format("the header says the pool is {} bytes but the file has {}: {}", h.file_bytes, size, size < h.file_bytes ? "truncated" : "it has trailing bytes"));
  if (h.flags != 0) return refuse(fmt::format("unknown flags {:#x} at offset 36", h.flags));
  std::unique_ptr<PoolFile> pool(new PoolFile());
  pool->path_ = path;
  pool->seed_ = h.seed;
  for (uint32_t t = 0; t < h.table_count; ++t) {
    PoolTableEntry e;
    std::memcpy(&e, header.data() + sizeof(PoolHeader) + t * sizeof(PoolTableEntry), sizeof(e));
    if (e.name[kPoolTableNameBytes - 1] != '\0') return refuse(fmt::format("table {}'s name (offset {}) is not NUL-terminated", t, sizeof(PoolHeader) + t * sizeof(PoolTableEntry)));
    pool->tables_.push_back({std::string(e.name), e.rows, e.dim});
  }
  Status s = ComputePoolLayout(pool->tables_, h.log_bytes, &pool->layout_);
  if (!s.ok()) return refuse(fmt::format("the table directory is invalid: {}", s.message()));
  const PoolLayout& l = pool->layout_;
  bool same = l.commit_offset == h.commit_offset && l.log_offset == h.log_offset && l.log_bytes == h.log_bytes && l.file_bytes == h.file_bytes;
  for (uint32_t t = 0; same && t < h.table_count; ++t) {
    PoolTableEntry e;
    std::memcpy(&e, header.data() + sizeof(PoolHeader) + t * sizeof(PoolTableEntry), sizeof(e));
    same = e.rows_offset == l.rows_offset[t] && e.state_offset == l.state_offset[t];
  }
  if (!same) return refuse("the header's region offsets are not the layout its tables imply");
  uint64_t word;
  if (Status r = ReadAt(fd, &word, 8, l.commit_offset, path); !r.ok()) {
    *status = r;
    return nullptr;
  }
  CommitState cs;
  if (!DecodeCommitWord(word, &cs)) return refuse(fmt::format("the commit record at offset {} is corrupt ({:016x} fails its check bits)", l.commit_offset, word));

  size_t mapped = 0;
  int is_pmem = 0;
  void* base = pmem_map_file(path.c_str(), 0, 0, 0, &mapped, &is_pmem);
  if (base == nullptr) {
    *status = Status::FromErrno(fmt::format("pool {}: pmem_map_file", path), errno);
    return nullptr;
  }
  pool->base_ = static_cast<std::byte*>(base);
  pool->mapped_bytes_ = mapped;
  pool->is_pmem_ = is_pmem != 0;
  if (mapped != size) {
    *status = Status::IoError(fmt::format("pool {}: mapped {} bytes of {}", path, mapped, size));
    return nullptr;
  }
  *status = Status::Ok();
  return pool;
}

Status PoolFile::Persist(const void* p, size_t n) {
  if (n == 0) return Status::Ok();
  ++persist_calls_;
  if (is_pmem_) {
    pmem_persist(p, n);
    return Status::Ok();
  }
  if (pmem_msync(p, n) != 0) return Status::FromErrno(fmt::format("pool {}: msync of {} bytes at offset {}", path_, n, offset_of(p)), errno);
  return Status::Ok();
}

Status PoolFile::PersistDirty() {
  if (dirty_.empty()) return Status::Ok();
  if (is_pmem_) {
    for (const Range& r : dirty_) pmem_flush(base_ + r.offset, r.bytes);
    pmem_drain();
    ++persist_calls_;
    dirty_.clear();
    return Status::Ok();
  }
  std::sort(dirty_.begin(), dirty_.end(), [](const Range& a, const Range& b) { return a.offset < b.offset; });
  uint64_t begin = dirty_[0].offset, end = begin + dirty_[0].bytes;
  Status result;
  auto flush = [&] {
    if (result.ok()) result = Persist(base_ + begin, end - begin);
  };
  for (size_t i = 1; i < dirty_.size(); ++i) {
    const Range& r = dirty_[i];
    if (r.offset > end + kMergeGapBytes) {
      flush();
      begin = r.offset;
    }
    end = std::max(end, r.offset + r.bytes);
  }
  flush();
  dirty_.clear();
  return result;
}

}  // namespace prescient
