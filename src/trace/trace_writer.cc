#include <fcntl.h>
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

std::unique_ptr<TraceWriter> TraceWriter::Create(const std::string& path, const nlohmann::json& header, Status* status) {
  if (!header.is_object()) {
    *status = Status::InvalidArgument("a trace header must be a JSON object");
    return nullptr;
  }
  nlohmann::json full = header;
  full["format_version"] = kTraceVersion;
  full["page_size"] = 4096;
  std::string json = full.dump();
  if (json.size() > tf::kMaxHeaderJson) {
    *status = Status::InvalidArgument("trace header JSON is larger than 1 MiB");
    return nullptr;
  }
  std::unique_ptr<TraceWriter> w(new TraceWriter());
  w->path_ = path;
  w->fd_ = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (w->fd_ < 0) {
    *status = Status::FromErrno(fmt::format("cannot create trace {}", path), errno);
    return nullptr;
  }
  tf::FileHeader fh{};
  std::memcpy(fh.magic, tf::kFileMagic, sizeof(fh.magic));
  fh.version = kTraceVersion;
  fh.json_bytes = static_cast<uint32_t>(json.size());
  fh.json_checksum = Fnv1a32(json);
  *status = WriteAll(w->fd_, &fh, sizeof(fh), "trace " + path);
  if (status->ok()) *status = WriteAll(w->fd_, json.data(), json.size(), "trace " + path);
  if (!status->ok()) return nullptr;
  return w;
}

TraceWriter::~TraceWriter() {
  if (fd_ >= 0) close(fd_);
}

Status TraceWriter::Append(const TraceRecord& r) {
  if (finished_) return Status::InvalidArgument(fmt::format("trace {} is already finished", "trace " + path_));
  raw_.push_back(static_cast<char>(static_cast<uint8_t>(r.event) | (r.write ? 4 : 0)));
  tf::PutVarint(&raw_, r.thread);
  tf::PutVarint(&raw_, tf::ZigZag(static_cast<int64_t>(r.page - prev_page_)));
  prev_page_ = r.page;
  tf::PutVarint(&raw_, r.event == TraceEvent::kDiscard ? r.count : r.compute_ns);
  ++block_records_;
  ++records_;
  if (block_records_ >= tf::kBlockRecords) return FlushBlock();
  return Status::Ok();
}

Status TraceWriter::FlushBlock() {
  if (block_records_ == 0) return Status::Ok();
  std::string compressed(ZSTD_compressBound(raw_.size()), '\0');
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, 3);
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);  // catches corrupt blocks
  size_t n = ZSTD_compress2(cctx, compressed.data(), compressed.size(), raw_.data(), raw_.size());
  ZSTD_freeCCtx(cctx);
  if (ZSTD_isError(n)) return Status::Internal(fmt::format("zstd: {}", ZSTD_getErrorName(n)));
  tf::BlockHeader bh{tf::kBlockMagic, static_cast<uint32_t>(raw_.size()), static_cast<uint32_t>(n), block_records_,
                     records_ - block_records_};
  PRESCIENT_RETURN_IF_ERROR(WriteAll(fd_, &bh, sizeof(bh), "trace " + path_));
  PRESCIENT_RETURN_IF_ERROR(WriteAll(fd_, compressed.data(), n, "trace " + path_));
  raw_.clear();
  block_records_ = 0;
  return Status::Ok();
}

Status TraceWriter::Finish(const nlohmann::json& trailer) {
  if (finished_) return Status::Ok();
  if (!trailer.is_object()) return Status::InvalidArgument("a trace trailer must be a JSON object");
  std::string json = trailer.dump();
  if (json.size() > tf::kMaxHeaderJson) return Status::InvalidArgument("trace trailer JSON is larger than 1 MiB");
  PRESCIENT_RETURN_IF_ERROR(FlushBlock());
  tf::BlockHeader footer{tf::kFooterMagic, static_cast<uint32_t>(json.size()), Fnv1a32(json), 0, records_};
  PRESCIENT_RETURN_IF_ERROR(WriteAll(fd_, &footer, sizeof(footer), "trace " + path_));
  PRESCIENT_RETURN_IF_ERROR(WriteAll(fd_, json.data(), json.size(), "trace " + path_));
  finished_ = true;
  if (fsync(fd_) != 0 && errno != EINVAL) return Status::FromErrno(fmt::format("fsync of trace {}", path_), errno);
  if (close(fd_) != 0) return Status::FromErrno(fmt::format("closing trace {}", path_), errno);
  fd_ = -1;
  return Status::Ok();
}

}  // namespace prescient
