#include "recsys/dense_checkpoint.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/clock.h"
#include "common/file_io.h"

namespace prescient {

namespace {

constexpr char kMagic[8] = {'P', 'R', 'S', 'D', 'E', 'N', 'S', '1'};
// 2: the trainer stores a packed state (each parameter beside its Adagrad
// accumulator, D96); a version 1 file holds the old layout and is refused.
constexpr uint32_t kVersion = 2;
constexpr uint32_t kSlotMagic = 0x544F4C53;  // "SLOT"
constexpr uint64_t kHeaderBytes = 64;
constexpr uint64_t kSlotHeaderBytes = 64;

uint64_t SliceFloats(uint64_t dense_floats, uint32_t slices, uint32_t granule) {
  const uint64_t even = (dense_floats + slices - 1) / slices;
  return (even + granule - 1) / granule * granule;
}

}  // namespace

DenseCheckpoint::DenseCheckpoint(std::string path, int fd, uint32_t slices, uint64_t dense_floats, uint32_t granule, uint64_t fingerprint)
    : path_(std::move(path)), fd_(fd), slices_(slices), dense_floats_(dense_floats), granule_(granule),
      slice_floats_(SliceFloats(dense_floats, slices, granule)),
      fingerprint_(fingerprint), current_slot_(slices, 0), durable_batch_(slices, 0) {
  slot_bytes_ = kSlotHeaderBytes + slice_floats_ * sizeof(float);
}

DenseCheckpoint::~DenseCheckpoint() {
  (void)Close();
  ::close(fd_);
}

uint64_t DenseCheckpoint::slice_end(uint32_t slice) const { return std::min(dense_floats_, slice_begin(slice) + slice_floats_); }

Status DenseCheckpoint::WriteSlot(uint32_t slice, uint64_t batch, const float* data) {
  const uint8_t target = current_slot_[slice] ^ 1;
  const uint64_t floats = slice_end(slice) - slice_begin(slice);
  std::vector<uint8_t> buf(kSlotHeaderBytes + floats * sizeof(float), 0);
  std::memcpy(buf.data() + kSlotHeaderBytes, data, floats * sizeof(float));
  PutAt<uint32_t>(buf.data(), 0, kSlotMagic);
  PutAt<uint32_t>(buf.data(), 4, slice);
  PutAt<uint64_t>(buf.data(), 8, batch);
  PutAt<uint64_t>(buf.data(), 16, ++seq_);
  PutAt<uint64_t>(buf.data(), 24, floats);
  PutAt<uint64_t>(buf.data(), 32, Fnv1a64(buf.data() + kSlotHeaderBytes, floats * sizeof(float)));
  PutAt<uint64_t>(buf.data(), 56, Fnv1a64(buf.data(), 56));
  const uint64_t off = kHeaderBytes + (uint64_t{slice} * 2 + target) * slot_bytes_;
  PRESCIENT_RETURN_IF_ERROR(WriteAllAt(fd_, buf.data(), buf.size(), off, "dense checkpoint " + path_));
  if (::fdatasync(fd_) != 0) return Status::FromErrno(fmt::format("syncing dense checkpoint {}", path_), errno);
  current_slot_[slice] = target;
  bytes_written_ += buf.size();
  return Status::Ok();
}

Status DenseCheckpoint::Create(const std::string& path, const std::vector<float>& state, uint32_t slices, uint64_t fingerprint,
                               uint64_t batch, std::unique_ptr<DenseCheckpoint>* out, uint32_t granule) {
  const uint64_t slice_floats = slices == 0 || granule == 0 ? 0 : SliceFloats(state.size(), slices, granule);
  if (slices == 0 || granule == 0 || state.empty() || slices > state.size() || slice_floats * (slices - 1) >= state.size()) {
    return Status::InvalidArgument(fmt::format("dense checkpoint: {} slices of {} floats", slices, state.size()));
  }
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::FromErrno(fmt::format("creating dense checkpoint {}", tmp), errno);
  std::unique_ptr<DenseCheckpoint> ckpt(new DenseCheckpoint(path, fd, slices, state.size(), granule, fingerprint));
  uint8_t header[kHeaderBytes] = {};
  std::memcpy(header, kMagic, 8);
  PutAt<uint32_t>(header, 8, kVersion);
  PutAt<uint32_t>(header, 12, slices);
  PutAt<uint64_t>(header, 16, state.size());
  PutAt<uint64_t>(header, 24, ckpt->slice_floats_);
  PutAt<uint64_t>(header, 32, fingerprint);
  PutAt<uint32_t>(header, 40, granule);
  PutAt<uint64_t>(header, 56, Fnv1a64(header, 56));
  PRESCIENT_RETURN_IF_ERROR(WriteAllAt(fd, header, kHeaderBytes, 0, "dense checkpoint " + tmp));
  const uint64_t size = kHeaderBytes + uint64_t{slices} * 2 * ckpt->slot_bytes_;
  if (::ftruncate(fd, static_cast<off_t>(size)) != 0) return Status::FromErrno(fmt::format("sizing dense checkpoint {}", tmp), errno);
  // Every slice's first copy goes to slot 1 (current_slot_ starts at 0).
  for (uint32_t s = 0; s < slices; ++s) PRESCIENT_RETURN_IF_ERROR(ckpt->WriteSlot(s, batch, state.data() + ckpt->slice_begin(s)));
  if (::rename(tmp.c_str(), path.c_str()) != 0) return Status::FromErrno(fmt::format("renaming {} to {}", tmp, path), errno);
  std::fill(ckpt->durable_batch_.begin(), ckpt->durable_batch_.end(), batch);
  ckpt->StartWriter();
  *out = std::move(ckpt);
  return Status::Ok();
}

Status DenseCheckpoint::Recover(const std::string& path, uint64_t fingerprint, uint64_t embedding_batch, RecoveredDense* recovered,
                                std::unique_ptr<DenseCheckpoint>* out) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno(fmt::format("opening dense checkpoint {}", path), errno);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return Status::FromErrno(fmt::format("stat of dense checkpoint {}", path), errno);
  }
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  auto fail = [&](std::string message) {
    ::close(fd);
    return Status::Corruption(fmt::format("dense checkpoint {}: {}", path, message));
  };
  if (size < kHeaderBytes) return fail(fmt::format("truncated at offset {} (the header needs {} bytes)", size, kHeaderBytes));
  uint8_t header[kHeaderBytes];
  if (Status s = ReadAllAt(fd, header, kHeaderBytes, 0, "dense checkpoint " + path); !s.ok()) {
    ::close(fd);
    return s;
  }
  if (std::memcmp(header, kMagic, 8) != 0) return fail("offset 0: not a prescient dense checkpoint (bad magic)");
  if (GetAt<uint64_t>(header, 56) != Fnv1a64(header, 56)) return fail("offset 56: header checksum mismatch");
  if (GetAt<uint32_t>(header, 8) != kVersion) return fail(fmt::format("offset 8: version {}, this build reads {}", GetAt<uint32_t>(header, 8), kVersion));
  const uint32_t slices = GetAt<uint32_t>(header, 12);
  const uint64_t dense_floats = GetAt<uint64_t>(header, 16);
  const uint64_t slice_floats = GetAt<uint64_t>(header, 24);
  const uint32_t granule = GetAt<uint32_t>(header, 40);
  // Every slice's two copies are in the file, so the state cannot hold more
  // floats than the file has bytes; that bound keeps the arithmetic below
  // from overflowing on a crafted header.
  if (granule != 1 && granule != 2) return fail(fmt::format("offset 40: slice granule {} (expected 1 or 2)", granule));
  if (slices == 0 || dense_floats == 0 || dense_floats > size || slices > dense_floats ||
      slice_floats != SliceFloats(dense_floats, slices, granule) || slice_floats * (slices - 1) >= dense_floats)
    return fail("offset 12: inconsistent slice layout");
  if (GetAt<uint64_t>(header, 32) != fingerprint) {
    ::close(fd);
    return Status::InvalidArgument(fmt::format("dense checkpoint {}: offset 32: written for another model or data configuration "
                                               "(fingerprint {:016x}, this run's is {:016x})", path, GetAt<uint64_t>(header, 32), fingerprint));
  }
  std::unique_ptr<DenseCheckpoint> ckpt(new DenseCheckpoint(path, fd, slices, dense_floats, granule, fingerprint));
  const uint64_t expected = kHeaderBytes + uint64_t{slices} * 2 * ckpt->slot_bytes_;
  if (size < expected) {
    const uint64_t slot = (size - kHeaderBytes) / ckpt->slot_bytes_;
    return Status::Corruption(fmt::format("dense checkpoint {}: truncated at offset {}: slice {} slot {} (offset {}) is incomplete; "
                                          "the header declares {} bytes",
                                          path, size, slot / 2, slot % 2, kHeaderBytes + slot * ckpt->slot_bytes_, expected));
  }
  if (size > expected) return Status::Corruption(fmt::format("dense checkpoint {}: {} unexpected bytes after offset {}", path, size - expected, expected));

  recovered->state.assign(dense_floats, 0.0f);
  recovered->slice_batch.assign(slices, 0);
  recovered->torn_slots = 0;
  uint64_t max_seq = 0;
  std::vector<uint8_t> buf(ckpt->slot_bytes_);
  for (uint32_t s = 0; s < slices; ++s) {
    const uint64_t floats = ckpt->slice_end(s) - ckpt->slice_begin(s);
    int chosen = -1;
    uint64_t chosen_batch = 0;
    std::string problems;
    bool ahead = false;
    int broken = 0;
    for (int k = 0; k < 2; ++k) {
      const uint64_t off = kHeaderBytes + (uint64_t{s} * 2 + k) * ckpt->slot_bytes_;
      PRESCIENT_RETURN_IF_ERROR(ReadAllAt(fd, buf.data(), kSlotHeaderBytes + floats * sizeof(float), off, "dense checkpoint " + path));
      if (std::all_of(buf.begin(), buf.begin() + kSlotHeaderBytes, [](uint8_t b) { return b == 0; })) continue;  // never written
      std::string problem;
      if (GetAt<uint32_t>(buf.data(), 0) != kSlotMagic || GetAt<uint64_t>(buf.data(), 56) != Fnv1a64(buf.data(), 56)) {
        problem = "slot header checksum mismatch";
      } else if (GetAt<uint32_t>(buf.data(), 4) != s || GetAt<uint64_t>(buf.data(), 24) != floats) {
        problem = "slot header names another slice";
      } else if (GetAt<uint64_t>(buf.data(), 32) != Fnv1a64(buf.data() + kSlotHeaderBytes, floats * sizeof(float))) {
        problem = "payload checksum mismatch";
      }
      if (!problem.empty()) {
        problems += fmt::format("; slot at offset {}: {}", off, problem);
        ++broken;
        continue;
      }
      const uint64_t batch = GetAt<uint64_t>(buf.data(), 8);
      max_seq = std::max(max_seq, GetAt<uint64_t>(buf.data(), 16));
      if (batch > embedding_batch) {
        ahead = true;
        continue;
      }
      if (chosen < 0 || batch > chosen_batch) {
        chosen = k;
        chosen_batch = batch;
        std::memcpy(recovered->state.data() + ckpt->slice_begin(s), buf.data() + kSlotHeaderBytes, floats * sizeof(float));
      }
    }
    if (chosen < 0) {
      return Status::Corruption(fmt::format("dense checkpoint {}: slice {} has no intact copy at or before batch {}{}{}", path, s, embedding_batch,
                                            ahead ? " (a copy belongs to a later batch: the embeddings are older than this file)" : "", problems));
    }
    recovered->torn_slots += static_cast<uint32_t>(broken);
    recovered->slice_batch[s] = chosen_batch;
    ckpt->current_slot_[s] = static_cast<uint8_t>(chosen);
    ckpt->durable_batch_[s] = chosen_batch;
  }
  ckpt->seq_ = max_seq;
  recovered->oldest_batch = *std::min_element(recovered->slice_batch.begin(), recovered->slice_batch.end());
  recovered->gap = embedding_batch - recovered->oldest_batch;
  ckpt->StartWriter();
  *out = std::move(ckpt);
  return Status::Ok();
}

void DenseCheckpoint::StartWriter() { writer_ = std::thread([this] { WriterLoop(); }); }

void DenseCheckpoint::WriterLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
    if (drop_) queue_.clear();
    if (queue_.empty()) {
      if (stop_) return;
      continue;
    }
    Job job = std::move(queue_.front());
    queue_.pop_front();
    if (!writer_status_.ok()) continue;  // a failed writer writes nothing more
    busy_ = true;
    lock.unlock();
    Status s = WriteSlot(job.slice, job.batch, job.data.data());
    lock.lock();
    busy_ = false;
    if (s.ok()) {
      durable_batch_[job.slice] = job.batch;
    } else {
      writer_status_ = s;
    }
    cv_.notify_all();
  }
}

void DenseCheckpoint::Submit(uint32_t slice, uint64_t batch, const float* state) {
  Job job{slice, batch, std::vector<float>(state + slice_begin(slice), state + slice_end(slice))};
  std::lock_guard<std::mutex> lock(mu_);
  queue_.push_back(std::move(job));
  cv_.notify_all();
}

Status DenseCheckpoint::WaitDurable(uint64_t min_batch, uint64_t* waited_ns) {
  const uint64_t t0 = NowNanos();
  std::unique_lock<std::mutex> lock(mu_);
  auto met = [&] { return std::all_of(durable_batch_.begin(), durable_batch_.end(), [&](uint64_t b) { return b >= min_batch; }); };
  // Idle with the bound unmet means no queued write can meet it: a bug in
  // the caller's schedule, reported rather than waited on forever.
  cv_.wait(lock, [&] { return !writer_status_.ok() || met() || (queue_.empty() && !busy_); });
  if (waited_ns) *waited_ns = NowNanos() - t0;
  PRESCIENT_RETURN_IF_ERROR(writer_status_);
  if (!met()) {
    const size_t s = std::min_element(durable_batch_.begin(), durable_batch_.end()) - durable_batch_.begin();
    return Status::Internal(fmt::format("dense checkpoint {}: slice {} is durable at batch {}, below {}, and no write is queued", path_, s,
                                        durable_batch_[s], min_batch));
  }
  return Status::Ok();
}

Status DenseCheckpoint::WriteAllNow(uint64_t batch, const float* state) {
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (!queue_.empty()) return Status::Internal("dense checkpoint: WriteAllNow with slices still queued");
    PRESCIENT_RETURN_IF_ERROR(writer_status_);
  }
  for (uint32_t s = 0; s < slices_; ++s) PRESCIENT_RETURN_IF_ERROR(WriteSlot(s, batch, state + slice_begin(s)));
  std::lock_guard<std::mutex> lock(mu_);
  std::fill(durable_batch_.begin(), durable_batch_.end(), batch);
  return Status::Ok();
}

uint64_t DenseCheckpoint::OldestDurable() const {
  std::lock_guard<std::mutex> lock(mu_);
  return *std::min_element(durable_batch_.begin(), durable_batch_.end());
}

Status DenseCheckpoint::Close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return writer_status_;
    closed_ = true;
    stop_ = true;
    cv_.notify_all();
  }
  if (writer_.joinable()) writer_.join();
  std::lock_guard<std::mutex> lock(mu_);
  return writer_status_;
}

void DenseCheckpoint::Abandon() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    drop_ = true;
  }
  (void)Close();
}

}  // namespace prescient
