#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <zstd.h>

#include "prescient/trace.h"
#include "common/file_io.h"
#include "trace/trace_format.h"

namespace prescient {

namespace tf = trace_format;

namespace {

// Reads exactly `len` bytes at `offset`. A part that runs past the end of
// the file is refused before reading, naming the part and where the file ends.
Status ReadAt(int fd, uint64_t file_size, uint64_t offset, void* dst, size_t len, const std::string& path, const char* what) {
  if (offset > file_size || len > file_size - offset)
    return Status::Corruption(fmt::format("trace {} is truncated: the {} at byte {} needs {} bytes, the file ends at byte {}", path, what, offset,
                                          len, file_size));
  return ReadAllAt(fd, dst, len, offset, "trace " + path);
}

}  // namespace

std::unique_ptr<TraceReader> TraceReader::Open(const std::string& path, Status* status) {
  std::unique_ptr<TraceReader> r(new TraceReader());
  r->path_ = path;
  r->fd_ = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (r->fd_ < 0) {
    *status = Status::FromErrno(fmt::format("cannot open trace {}", path), errno);
    return nullptr;
  }
  struct stat st;
  if (fstat(r->fd_, &st) != 0) {
    *status = Status::FromErrno(fmt::format("cannot stat trace {}", path), errno);
    return nullptr;
  }
  r->file_size_ = static_cast<uint64_t>(st.st_size);
  tf::FileHeader fh;
  *status = ReadAt(r->fd_, r->file_size_, 0, &fh, sizeof(fh), path, "file header");
  if (!status->ok()) return nullptr;
  if (std::memcmp(fh.magic, tf::kFileMagic, sizeof(fh.magic)) != 0) {
    *status = Status::Corruption(fmt::format("{} is not a prescient trace (bad magic at byte 0)", path));
    return nullptr;
  }
  if (fh.version < kOldestTraceVersion || fh.version > kTraceVersion) {
    *status = Status::Corruption(fmt::format("trace {} has format version {}; this build reads versions {} to {}", path, fh.version,
                                             kOldestTraceVersion, kTraceVersion));
    return nullptr;
  }
  if (fh.json_bytes > tf::kMaxHeaderJson) {
    *status = Status::Corruption(fmt::format("trace {}: header at byte 8 claims {} bytes of JSON (at most {})", path, fh.json_bytes, tf::kMaxHeaderJson));
    return nullptr;
  }
  std::string json(fh.json_bytes, '\0');
  *status = ReadAt(r->fd_, r->file_size_, sizeof(fh), json.data(), json.size(), path, "header JSON");
  if (!status->ok()) return nullptr;
  if (Fnv1a32(json) != fh.json_checksum) {
    *status = Status::Corruption(fmt::format("trace {}: the header JSON at byte {} fails its checksum", path, sizeof(fh)));
    return nullptr;
  }
  r->header_ = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (r->header_.is_discarded() || !r->header_.is_object()) {
    *status = Status::Corruption(fmt::format("trace {}: the header at byte {} is not a JSON object", path, sizeof(fh)));
    return nullptr;
  }
  r->offset_ = sizeof(fh) + fh.json_bytes;
  r->version_ = fh.version;
  *status = Status::Ok();
  return r;
}

TraceReader::~TraceReader() {
  if (fd_ >= 0) close(fd_);
}

Status TraceReader::LoadTrailer(const trace_format::BlockHeader& footer) {
  if (footer.raw_bytes == 0) return Status::Ok();
  const uint64_t at = offset_ + sizeof(footer);
  if (version_ < 2 || footer.raw_bytes > tf::kMaxHeaderJson)
    return Status::Corruption(fmt::format("trace {}: the footer at byte {} claims a {}-byte trailer", path_, offset_, footer.raw_bytes));
  std::string json(footer.raw_bytes, '\0');
  PRESCIENT_RETURN_IF_ERROR(ReadAt(fd_, file_size_, at, json.data(), json.size(), path_, "trailer JSON"));
  if (Fnv1a32(json) != footer.compressed_bytes)
    return Status::Corruption(fmt::format("trace {}: the trailer JSON at byte {} fails its checksum", path_, at));
  nlohmann::json trailer = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (trailer.is_discarded() || !trailer.is_object())
    return Status::Corruption(fmt::format("trace {}: the trailer at byte {} is not a JSON object", path_, at));
  trailer_ = std::move(trailer);
  return Status::Ok();
}

Status TraceReader::LoadBlock(bool* end) {
  *end = false;
  tf::BlockHeader bh;
  if (offset_ == file_size_)
    return Status::Corruption(fmt::format("trace {} is truncated at byte {}: it ends without its footer (was the capture interrupted?)", path_, offset_));
  PRESCIENT_RETURN_IF_ERROR(ReadAt(fd_, file_size_, offset_, &bh, sizeof(bh), path_, "block header"));
  if (bh.magic == tf::kFooterMagic) {
    if (bh.total_records != records_read_)
      return Status::Corruption(fmt::format("trace {}: the footer at byte {} counts {} records, the blocks hold {}", path_, offset_,
                                            bh.total_records, records_read_));
    *end = true;
    PRESCIENT_RETURN_IF_ERROR(LoadTrailer(bh));
    // Models and pools refuse trailing bytes; a trace does too.
    const uint64_t trace_end = offset_ + sizeof(bh) + bh.raw_bytes;
    if (file_size_ != trace_end)
      return Status::Corruption(fmt::format("trace {}: {} unexpected bytes after its footer and trailer, which end at byte {}", path_,
                                            file_size_ - trace_end, trace_end));
    return Status::Ok();
  }
  if (bh.magic != tf::kBlockMagic)
    return Status::Corruption(fmt::format("trace {}: no block header at byte {} (bad magic {:#x})", path_, offset_, bh.magic));
  if (bh.raw_bytes > tf::kMaxBlockRaw || bh.compressed_bytes > ZSTD_compressBound(tf::kMaxBlockRaw) || bh.records == 0 ||
      bh.total_records != records_read_)
    return Status::Corruption(fmt::format("trace {}: the block header at byte {} is inconsistent", path_, offset_));
  std::string compressed(bh.compressed_bytes, '\0');
  PRESCIENT_RETURN_IF_ERROR(ReadAt(fd_, file_size_, offset_ + sizeof(bh), compressed.data(), compressed.size(), path_, "block"));
  raw_.assign(bh.raw_bytes, '\0');
  size_t n = ZSTD_decompress(raw_.data(), raw_.size(), compressed.data(), compressed.size());
  if (ZSTD_isError(n) || n != bh.raw_bytes)
    return Status::Corruption(fmt::format("trace {}: the block at byte {} is corrupt ({})", path_, offset_,
                                          ZSTD_isError(n) ? ZSTD_getErrorName(n) : "wrong size"));
  block_offset_ = offset_;
  offset_ += sizeof(bh) + bh.compressed_bytes;
  raw_pos_ = 0;
  block_left_ = bh.records;
  return Status::Ok();
}

bool TraceReader::Next(TraceRecord* record, Status* status) {
  *status = Status::Ok();
  if (done_) return false;
  if (block_left_ == 0) {
    bool end = false;
    *status = LoadBlock(&end);
    if (!status->ok() || end) {
      done_ = true;
      return false;
    }
  }
  std::string_view in(raw_);
  auto bad = [&](const char* what) {
    *status = Status::Corruption(fmt::format("trace {}: record {} in the block at byte {} has a bad {}", path_, records_read_, block_offset_, what));
    done_ = true;
    return false;
  };
  if (raw_pos_ >= in.size()) return bad("length");
  auto tag = static_cast<uint8_t>(in[raw_pos_++]);
  if ((tag & 3) > 2 || (tag & ~7u) != 0) return bad("event tag");
  uint64_t thread, zz, last;
  if (!tf::GetVarint(in, &raw_pos_, &thread) || thread > UINT32_MAX) return bad("thread");
  if (!tf::GetVarint(in, &raw_pos_, &zz)) return bad("page");
  if (!tf::GetVarint(in, &raw_pos_, &last)) return bad("last field");
  record->event = static_cast<TraceEvent>(tag & 3);
  record->write = (tag & 4) != 0;
  record->thread = static_cast<uint32_t>(thread);
  prev_page_ += static_cast<uint64_t>(tf::UnZigZag(zz));
  record->page = prev_page_;
  record->count = record->event == TraceEvent::kDiscard ? last : 1;
  record->compute_ns = record->event == TraceEvent::kDiscard ? 0 : last;
  ++records_read_;
  --block_left_;
  if (block_left_ == 0 && raw_pos_ != in.size()) return bad("block length");
  return true;
}

Status TraceReader::ReadAll(std::vector<TraceRecord>* records) {
  TraceRecord r;
  Status st;
  while (Next(&r, &st)) records->push_back(r);
  return st;
}

}  // namespace prescient
