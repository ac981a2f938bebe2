#include "recsys/snapshot_checkpoint.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <numeric>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/clock.h"
#include "common/file_io.h"

namespace prescient {

namespace {

constexpr char kMagic[8] = {'P', 'R', 'S', 'S', 'N', 'A', 'P', '1'};
constexpr uint64_t kTrailer = 0x2150414E53444E45ull;  // "ENDSNAP!"
constexpr uint32_t kVersion = 2;  // 2: a u32 after the dense size says whether Adagrad state follows each table's rows
constexpr uint32_t kChunkMagic = 0x4B4E4843;  // "CHNK"
constexpr size_t kChunkBytes = 1 << 20;
constexpr size_t kRowBlock = 16384;

// Buffers a byte stream and writes it as checksummed chunks.
class ChunkWriter {
 public:
  ChunkWriter(int fd, std::string what) : fd_(fd), what_(std::move(what)) {}
  Status Append(const void* p, size_t n) {
    const auto* b = static_cast<const char*>(p);
    while (n > 0) {
      const size_t take = std::min(n, kChunkBytes - buf_.size());
      buf_.append(b, take);
      b += take;
      n -= take;
      if (buf_.size() == kChunkBytes) PRESCIENT_RETURN_IF_ERROR(Flush());
    }
    return Status::Ok();
  }
  template <typename T>
  Status Put(T v) { return Append(&v, sizeof v); }
  Status Flush() {
    if (buf_.empty()) return Status::Ok();
    const uint32_t head[2] = {kChunkMagic, static_cast<uint32_t>(buf_.size())};
    const uint64_t sum = Fnv1a64(buf_);
    PRESCIENT_RETURN_IF_ERROR(WriteAll(fd_, head, sizeof head, what_));
    PRESCIENT_RETURN_IF_ERROR(WriteAll(fd_, buf_.data(), buf_.size(), what_));
    PRESCIENT_RETURN_IF_ERROR(WriteAll(fd_, &sum, sizeof sum, what_));
    bytes_ += sizeof head + buf_.size() + sizeof sum;
    buf_.clear();
    return Status::Ok();
  }
  uint64_t bytes() const { return bytes_; }

 private:
  int fd_;
  std::string what_;
  std::string buf_;
  uint64_t bytes_ = 0;
};

// Reads the stream back, checking each chunk as it arrives.
class ChunkReader {
 public:
  ChunkReader(int fd, std::string path, uint64_t size) : fd_(fd), path_(std::move(path)), size_(size) {}
  Status Read(void* p, size_t n) {
    auto* b = static_cast<char*>(p);
    while (n > 0) {
      if (pos_ == buf_.size()) PRESCIENT_RETURN_IF_ERROR(NextChunk());
      const size_t take = std::min(n, buf_.size() - pos_);
      std::memcpy(b, buf_.data() + pos_, take);
      pos_ += take;
      b += take;
      n -= take;
    }
    return Status::Ok();
  }
  template <typename T>
  Status Get(T* v) { return Read(v, sizeof *v); }
  Status ExpectEnd() const {
    if (pos_ != buf_.size()) return Bad("unexpected bytes after the trailer");
    if (offset_ != size_) return Status::Corruption(fmt::format("checkpoint {}: unexpected bytes after offset {}", path_, offset_));
    return Status::Ok();
  }
  Status Bad(const std::string& what) const { return Status::Corruption(fmt::format("checkpoint {}: chunk at offset {}: {}", path_, chunk_offset_, what)); }

 private:
  Status PreadExact(void* dst, size_t n, uint64_t off) { return ReadAllAt(fd_, dst, n, off, "checkpoint " + path_); }
  Status NextChunk() {
    chunk_offset_ = offset_;
    if (size_ - offset_ < 8) {
      return Status::Corruption(fmt::format("checkpoint {}: truncated at offset {} (the file ends where a chunk should begin)", path_, size_));
    }
    uint32_t head[2];
    PRESCIENT_RETURN_IF_ERROR(PreadExact(head, sizeof head, offset_));
    if (head[0] != kChunkMagic) return Bad("bad chunk magic");
    if (head[1] == 0 || head[1] > kChunkBytes) return Bad(fmt::format("implausible chunk length {}", head[1]));
    if (size_ - offset_ < 8 + uint64_t{head[1]} + 8) {
      return Status::Corruption(fmt::format("checkpoint {}: truncated at offset {}: the chunk at offset {} declares {} bytes", path_, size_, offset_, head[1]));
    }
    buf_.resize(head[1]);
    PRESCIENT_RETURN_IF_ERROR(PreadExact(buf_.data(), head[1], offset_ + 8));
    uint64_t sum;
    PRESCIENT_RETURN_IF_ERROR(PreadExact(&sum, sizeof sum, offset_ + 8 + head[1]));
    if (sum != Fnv1a64(buf_)) return Bad("checksum mismatch");
    offset_ += 8 + uint64_t{head[1]} + 8;
    pos_ = 0;
    return Status::Ok();
  }

  int fd_;
  std::string path_;
  uint64_t size_;
  uint64_t offset_ = 0, chunk_offset_ = 0;
  std::string buf_;
  size_t pos_ = 0;
};

Status SyncDir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno(fmt::format("opening checkpoint directory {}", dir), errno);
  ::fsync(fd);
  ::close(fd);
  return Status::Ok();
}

constexpr const char* kDiffPrefix = "embeddings-diff-";

}  // namespace

SnapshotCheckpointer::SnapshotCheckpointer(std::string dir, std::vector<TableSpec> tables, uint64_t fingerprint, uint32_t full_every,
                                           bool with_state)
    : dir_(std::move(dir)), tables_(std::move(tables)), fingerprint_(fingerprint), full_every_(full_every), with_state_(with_state) {
  for (const TableSpec& t : tables_) changed_.emplace_back(full_every_ ? t.rows : 0, 0);
}

std::string SnapshotCheckpointer::full_path() const { return dir_ + "/embeddings-full.ckpt"; }
std::string SnapshotCheckpointer::diff_path(uint64_t batch) const { return fmt::format("{}/{}{:012}.ckpt", dir_, kDiffPrefix, batch); }

void SnapshotCheckpointer::Touch(uint32_t table, const std::vector<uint32_t>& rows) {
  if (full_every_ == 0) return;
  for (uint32_t r : rows) changed_[table][r] = 1;
}

Status SnapshotCheckpointer::WriteFile(const std::string& path, EmbeddingStore& store, bool full, uint64_t batch, uint64_t base_batch,
                                       const std::vector<float>& dense) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::FromErrno(fmt::format("creating checkpoint {}", tmp), errno);
  ChunkWriter w(fd, "checkpoint " + tmp);
  auto body = [&]() -> Status {
    PRESCIENT_RETURN_IF_ERROR(w.Append(kMagic, 8));
    PRESCIENT_RETURN_IF_ERROR(w.Put<uint32_t>(kVersion));
    PRESCIENT_RETURN_IF_ERROR(w.Put<uint32_t>(full ? 1 : 2));
    PRESCIENT_RETURN_IF_ERROR(w.Put<uint64_t>(batch));
    PRESCIENT_RETURN_IF_ERROR(w.Put<uint64_t>(base_batch));
    PRESCIENT_RETURN_IF_ERROR(w.Put<uint64_t>(fingerprint_));
    PRESCIENT_RETURN_IF_ERROR(w.Put<uint64_t>(tables_.size()));
    PRESCIENT_RETURN_IF_ERROR(w.Put<uint64_t>(dense.size()));
    PRESCIENT_RETURN_IF_ERROR(w.Put<uint32_t>(with_state_ ? 1 : 0));
    std::vector<uint32_t> ids;
    std::vector<float> rows;
    for (uint32_t t = 0; t < tables_.size(); ++t) {
      const TableSpec& spec = tables_[t];
      ids.clear();
      if (full) {
        ids.resize(spec.rows);
        std::iota(ids.begin(), ids.end(), 0u);
      } else {
        for (uint32_t r = 0; r < spec.rows; ++r)
          if (changed_[t][r]) ids.push_back(r);
      }
      PRESCIENT_RETURN_IF_ERROR(w.Put<uint64_t>(spec.rows));
      PRESCIENT_RETURN_IF_ERROR(w.Put<uint64_t>(spec.dim));
      PRESCIENT_RETURN_IF_ERROR(w.Put<uint64_t>(ids.size()));
      if (!full) PRESCIENT_RETURN_IF_ERROR(w.Append(ids.data(), ids.size() * sizeof(uint32_t)));
      for (size_t i = 0; i < ids.size(); i += kRowBlock) {
        const size_t n = std::min(kRowBlock, ids.size() - i);
        rows.resize(n * spec.dim);
        PRESCIENT_RETURN_IF_ERROR(store.GatherRows(t, std::span<const uint32_t>(ids.data() + i, n), rows.data()));
        PRESCIENT_RETURN_IF_ERROR(w.Append(rows.data(), rows.size() * sizeof(float)));
      }
      for (size_t i = 0; with_state_ && i < ids.size(); i += kRowBlock) {
        const size_t n = std::min(kRowBlock, ids.size() - i);
        rows.resize(n);
        PRESCIENT_RETURN_IF_ERROR(store.GatherAdagradState(t, std::span<const uint32_t>(ids.data() + i, n), rows.data()));
        PRESCIENT_RETURN_IF_ERROR(w.Append(rows.data(), rows.size() * sizeof(float)));
      }
      stats_.rows += ids.size();
    }
    PRESCIENT_RETURN_IF_ERROR(w.Append(dense.data(), dense.size() * sizeof(float)));
    PRESCIENT_RETURN_IF_ERROR(w.Put<uint64_t>(kTrailer));
    PRESCIENT_RETURN_IF_ERROR(w.Flush());
    if (::fsync(fd) != 0) return Status::FromErrno(fmt::format("syncing checkpoint {}", tmp), errno);
    return Status::Ok();
  };
  Status s = body();
  ::close(fd);
  if (!s.ok()) return s;
  if (::rename(tmp.c_str(), path.c_str()) != 0) return Status::FromErrno(fmt::format("renaming {} to {}", tmp, path), errno);
  stats_.bytes += w.bytes();
  return SyncDir(dir_);
}

Status SnapshotCheckpointer::Write(EmbeddingStore& store, uint64_t batch, const std::vector<float>& dense) {
  const uint64_t t0 = NowNanos();
  const bool full = !have_full_ || full_every_ == 0 || diffs_since_full_ >= full_every_;
  if (full) {
    PRESCIENT_RETURN_IF_ERROR(WriteFile(full_path(), store, true, batch, batch, dense));
    // The new full checkpoint supersedes every diff; drop them.
    PRESCIENT_RETURN_IF_ERROR(RemoveDiffs());
    diffs_since_full_ = 0;
    have_full_ = true;
    ++stats_.full;
  } else {
    PRESCIENT_RETURN_IF_ERROR(WriteFile(diff_path(batch), store, false, batch, last_batch_, dense));
    ++diffs_since_full_;
  }
  for (auto& flags : changed_) std::fill(flags.begin(), flags.end(), 0);
  last_batch_ = batch;
  ++stats_.checkpoints;
  stats_.nanos += NowNanos() - t0;
  return Status::Ok();
}

namespace {
std::vector<std::pair<uint64_t, std::string>> ListDiffs(const std::string& dir) {
  std::vector<std::pair<uint64_t, std::string>> diffs;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return diffs;
  while (dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    const size_t plen = std::strlen(kDiffPrefix);
    if (name.size() == plen + 12 + 5 && name.compare(0, plen, kDiffPrefix) == 0 && name.compare(plen + 12, 5, ".ckpt") == 0) {
      diffs.emplace_back(std::stoull(name.substr(plen, 12)), dir + "/" + name);
    }
  }
  ::closedir(d);
  std::sort(diffs.begin(), diffs.end());
  return diffs;
}
}  // namespace

Status SnapshotCheckpointer::Clear() {
  PRESCIENT_RETURN_IF_ERROR(RemoveDiffs());
  if (::unlink(full_path().c_str()) != 0 && errno != ENOENT) return Status::FromErrno(fmt::format("removing {}", full_path()), errno);
  have_full_ = false;
  return Status::Ok();
}

Status SnapshotCheckpointer::RemoveDiffs() {
  for (const auto& [batch, path] : ListDiffs(dir_)) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return Status::FromErrno(fmt::format("removing {}", path), errno);
  }
  return Status::Ok();
}

Status SnapshotCheckpointer::ReadFile(const std::string& path, EmbeddingStore* store, bool* full, uint64_t* batch, uint64_t* base_batch,
                                      std::vector<float>* dense) const {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT ? Status::NotFound(fmt::format("no checkpoint {}", path)) : Status::FromErrno(fmt::format("opening checkpoint {}", path), errno);
  struct stat st;
  ::fstat(fd, &st);
  ChunkReader r(fd, path, static_cast<uint64_t>(st.st_size));
  auto body = [&]() -> Status {
    char magic[8];
    uint32_t version, kind;
    uint64_t fingerprint, tables, dense_floats;
    PRESCIENT_RETURN_IF_ERROR(r.Read(magic, 8));
    if (std::memcmp(magic, kMagic, 8) != 0) return r.Bad("not a prescient embedding checkpoint (bad magic)");
    PRESCIENT_RETURN_IF_ERROR(r.Get(&version));
    if (version != kVersion) return r.Bad(fmt::format("version {}, this build reads {}", version, kVersion));
    PRESCIENT_RETURN_IF_ERROR(r.Get(&kind));
    PRESCIENT_RETURN_IF_ERROR(r.Get(batch));
    PRESCIENT_RETURN_IF_ERROR(r.Get(base_batch));
    PRESCIENT_RETURN_IF_ERROR(r.Get(&fingerprint));
    PRESCIENT_RETURN_IF_ERROR(r.Get(&tables));
    PRESCIENT_RETURN_IF_ERROR(r.Get(&dense_floats));
    uint32_t has_state = 0;
    PRESCIENT_RETURN_IF_ERROR(r.Get(&has_state));
    if (kind != 1 && kind != 2) return r.Bad(fmt::format("unknown kind {}", kind));
    if (has_state > 1) return r.Bad(fmt::format("unknown state flag {}", has_state));
    if ((has_state == 1) != with_state_) {
      return Status::InvalidArgument(fmt::format("checkpoint {} {} Adagrad state; this run needs it {}", path, has_state ? "holds" : "lacks",
                                                 with_state_ ? "with it" : "without"));
    }
    *full = kind == 1;
    if (fingerprint != fingerprint_ || tables != tables_.size()) {
      return Status::InvalidArgument(fmt::format("checkpoint {} was written for another model or data configuration", path));
    }
    std::vector<uint32_t> ids;
    std::vector<float> rows;
    for (uint32_t t = 0; t < tables; ++t) {
      uint64_t nrows, dim, count;
      PRESCIENT_RETURN_IF_ERROR(r.Get(&nrows));
      PRESCIENT_RETURN_IF_ERROR(r.Get(&dim));
      PRESCIENT_RETURN_IF_ERROR(r.Get(&count));
      if (nrows != tables_[t].rows || dim != tables_[t].dim || count > nrows || (*full && count != nrows)) {
        return r.Bad(fmt::format("table {} is {} x {} with {} rows stored; this model's is {} x {}", t, nrows, dim, count, tables_[t].rows, tables_[t].dim));
      }
      ids.resize(count);
      if (*full) {
        std::iota(ids.begin(), ids.end(), 0u);
      } else {
        PRESCIENT_RETURN_IF_ERROR(r.Read(ids.data(), count * sizeof(uint32_t)));
        for (uint32_t id : ids)
          if (id >= nrows) return r.Bad(fmt::format("table {} names row {} of {}", t, id, nrows));
      }
      for (size_t i = 0; i < count; i += kRowBlock) {
        const size_t n = std::min<size_t>(kRowBlock, count - i);
        rows.resize(n * dim);
        PRESCIENT_RETURN_IF_ERROR(r.Read(rows.data(), rows.size() * sizeof(float)));
        if (store) PRESCIENT_RETURN_IF_ERROR(store->ScatterRows(t, std::span<const uint32_t>(ids.data() + i, n), rows.data()));
      }
      for (size_t i = 0; has_state && i < count; i += kRowBlock) {
        const size_t n = std::min<size_t>(kRowBlock, count - i);
        rows.resize(n);
        PRESCIENT_RETURN_IF_ERROR(r.Read(rows.data(), rows.size() * sizeof(float)));
        if (store) PRESCIENT_RETURN_IF_ERROR(store->ScatterAdagradState(t, std::span<const uint32_t>(ids.data() + i, n), rows.data()));
      }
    }
    dense->resize(dense_floats);
    PRESCIENT_RETURN_IF_ERROR(r.Read(dense->data(), dense_floats * sizeof(float)));
    uint64_t trailer;
    PRESCIENT_RETURN_IF_ERROR(r.Get(&trailer));
    if (trailer != kTrailer) return r.Bad("bad trailer");
    return r.ExpectEnd();
  };
  Status s = body();
  ::close(fd);
  return s;
}

Status SnapshotCheckpointer::Recover(EmbeddingStore& store, uint64_t* batch, std::vector<float>* dense) {
  // The chain: the full checkpoint, then each diff that applies on the one before.
  bool full = false;
  uint64_t base = 0, at = 0;
  PRESCIENT_RETURN_IF_ERROR(ReadFile(full_path(), nullptr, &full, &at, &base, dense));
  if (!full) return Status::Corruption(fmt::format("checkpoint {} is not a full checkpoint", full_path()));
  std::vector<std::string> chain = {full_path()};
  for (const auto& [b, path] : ListDiffs(dir_)) {
    if (b <= at) continue;  // superseded by the full checkpoint (left by a crash before their removal)
    uint64_t diff_batch = 0;
    PRESCIENT_RETURN_IF_ERROR(ReadFile(path, nullptr, &full, &diff_batch, &base, dense));
    if (full || diff_batch != b || base != at) {
      return Status::Corruption(fmt::format("checkpoint {} applies on batch {}, but the checkpoints before it end at batch {}", path, base, at));
    }
    chain.push_back(path);
    at = b;
  }
  // Every file read cleanly; now apply them in order.
  for (const std::string& path : chain) PRESCIENT_RETURN_IF_ERROR(ReadFile(path, &store, &full, batch, &base, dense));
  PRESCIENT_RETURN_IF_ERROR(store.ResetNextBatch(*batch));
  have_full_ = true;
  last_batch_ = *batch;
  diffs_since_full_ = static_cast<uint32_t>(chain.size() - 1);
  for (auto& flags : changed_) std::fill(flags.begin(), flags.end(), 0);
  return Status::Ok();
}

}  // namespace prescient
