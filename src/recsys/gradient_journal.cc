#include "recsys/gradient_journal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "common/file_io.h"

namespace prescient {

namespace {

constexpr char kMagic[8] = {'P', 'R', 'S', 'G', 'J', 'R', 'N', '1'};
constexpr uint32_t kVersion = 1;
constexpr uint64_t kHeaderBytes = 64;
constexpr uint64_t kRecordHeadBytes = 32;

}  // namespace

GradientJournal::GradientJournal(std::string path, int fd, uint32_t slots, uint64_t floats)
    : path_(std::move(path)), fd_(fd), slots_(slots), floats_(floats) {}

GradientJournal::~GradientJournal() {
  if (pending_.valid()) (void)pending_.get();
  ::close(fd_);
}

uint64_t GradientJournal::record_bytes() const { return kRecordHeadBytes + floats_ * sizeof(float); }

Status GradientJournal::Create(const std::string& path, uint64_t fingerprint, uint64_t floats, uint32_t slots,
                               std::unique_ptr<GradientJournal>* out) {
  if (slots == 0 || floats == 0) return Status::InvalidArgument(fmt::format("gradient journal {}: {} slots of {} floats", path, slots, floats));
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::FromErrno(fmt::format("creating gradient journal {}", tmp), errno);
  std::unique_ptr<GradientJournal> journal(new GradientJournal(path, fd, slots, floats));
  uint8_t header[kHeaderBytes] = {};
  std::memcpy(header, kMagic, 8);
  PutAt<uint32_t>(header, 8, kVersion);
  PutAt<uint32_t>(header, 12, slots);
  PutAt<uint64_t>(header, 16, floats);
  PutAt<uint64_t>(header, 24, fingerprint);
  PutAt<uint64_t>(header, 56, Fnv1a64(header, 56));
  PRESCIENT_RETURN_IF_ERROR(WriteAllAt(fd, header, kHeaderBytes, 0, "gradient journal " + tmp));
  // Empty slots are zeros, which fail the head checksum, so they read as absent.
  if (::ftruncate(fd, static_cast<off_t>(kHeaderBytes + slots * journal->record_bytes())) != 0)
    return Status::FromErrno(fmt::format("sizing gradient journal {}", tmp), errno);
  if (::fdatasync(fd) != 0) return Status::FromErrno(fmt::format("syncing gradient journal {}", tmp), errno);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return Status::FromErrno(fmt::format("renaming {} to {}", tmp, path), errno);
  *out = std::move(journal);
  return Status::Ok();
}

Status GradientJournal::Open(const std::string& path, uint64_t fingerprint, uint64_t floats, std::unique_ptr<GradientJournal>* out) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) return Status::NotFound(fmt::format("no gradient journal {}", path));
  if (fd < 0) return Status::FromErrno(fmt::format("opening gradient journal {}", path), errno);
  auto fail = [&](Status st) {
    ::close(fd);
    return st;
  };
  uint8_t header[kHeaderBytes];
  if (Status st = ReadAllAt(fd, header, kHeaderBytes, 0, "gradient journal " + path); !st.ok()) return fail(st);
  if (std::memcmp(header, kMagic, 8) != 0) return fail(Status::Corruption(fmt::format("{} is not a gradient journal (bad magic at offset 0)", path)));
  if (GetAt<uint64_t>(header, 56) != Fnv1a64(header, 56)) return fail(Status::Corruption(fmt::format("gradient journal {}: header checksum mismatch at offset 56", path)));
  if (GetAt<uint32_t>(header, 8) != kVersion)
    return fail(Status::Corruption(fmt::format("gradient journal {}: version {} at offset 8, expected {}", path, GetAt<uint32_t>(header, 8), kVersion)));
  if (GetAt<uint64_t>(header, 24) != fingerprint || GetAt<uint64_t>(header, 16) != floats)
    return fail(Status::InvalidArgument(fmt::format("gradient journal {} belongs to another model ({} floats)", path, GetAt<uint64_t>(header, 16))));
  const uint32_t slots = GetAt<uint32_t>(header, 12);
  if (slots == 0 || slots > (1u << 20)) return fail(Status::Corruption(fmt::format("gradient journal {}: {} slots at offset 12", path, slots)));
  std::unique_ptr<GradientJournal> journal(new GradientJournal(path, fd, slots, floats));
  struct stat st;
  if (::fstat(fd, &st) != 0) return Status::FromErrno(fmt::format("stat of gradient journal {}", path), errno);
  const uint64_t want = kHeaderBytes + slots * journal->record_bytes();
  if (static_cast<uint64_t>(st.st_size) < want)
    return Status::Corruption(fmt::format("gradient journal {}: truncated at offset {} (its {} slots need {} bytes)", path, st.st_size, slots, want));
  *out = std::move(journal);
  return Status::Ok();
}

void GradientJournal::Submit(uint64_t batch, std::vector<float> gradient) {
  // A write nobody waited for (the batch failed before its commit) finishes
  // first, so two never share the file; its error waits for WaitDurable.
  if (pending_.valid()) {
    Status st = pending_.get();
    if (deferred_.ok()) deferred_ = st;
  }
  pending_ = std::async(std::launch::async, [this, batch, g = std::move(gradient)] { return Write(batch, g); });
}

Status GradientJournal::WaitDurable() {
  Status st = pending_.valid() ? pending_.get() : Status::Ok();
  if (!deferred_.ok()) st = std::exchange(deferred_, Status::Ok());
  return st;
}

Status GradientJournal::Write(uint64_t batch, const std::vector<float>& gradient) {
  if (gradient.size() != floats_)
    return Status::InvalidArgument(fmt::format("gradient journal {}: a gradient of {} floats, expected {}", path_, gradient.size(), floats_));
  std::vector<uint8_t> buf(record_bytes());
  std::memcpy(buf.data() + kRecordHeadBytes, gradient.data(), floats_ * sizeof(float));
  PutAt<uint64_t>(buf.data(), 0, batch);
  PutAt<uint64_t>(buf.data(), 8, floats_);
  PutAt<uint64_t>(buf.data(), 16, Fnv1a64(buf.data() + kRecordHeadBytes, floats_ * sizeof(float)));
  PutAt<uint64_t>(buf.data(), 24, Fnv1a64(buf.data(), 24));
  const uint64_t off = kHeaderBytes + (batch % slots_) * record_bytes();
  PRESCIENT_RETURN_IF_ERROR(WriteAllAt(fd_, buf.data(), buf.size(), off, "gradient journal " + path_));
  if (::fdatasync(fd_) != 0) return Status::FromErrno(fmt::format("syncing gradient journal {}", path_), errno);
  bytes_written_ += buf.size();
  return Status::Ok();
}

bool GradientJournal::Read(uint64_t batch, std::vector<float>* out) const {
  std::vector<uint8_t> buf(record_bytes());
  const uint64_t off = kHeaderBytes + (batch % slots_) * record_bytes();
  if (!ReadAllAt(fd_, buf.data(), buf.size(), off, "gradient journal " + path_).ok()) return false;
  if (GetAt<uint64_t>(buf.data(), 24) != Fnv1a64(buf.data(), 24)) return false;
  if (GetAt<uint64_t>(buf.data(), 0) != batch || GetAt<uint64_t>(buf.data(), 8) != floats_) return false;
  if (GetAt<uint64_t>(buf.data(), 16) != Fnv1a64(buf.data() + kRecordHeadBytes, floats_ * sizeof(float))) return false;
  out->resize(floats_);
  std::memcpy(out->data(), buf.data() + kRecordHeadBytes, floats_ * sizeof(float));
  return true;
}

}  // namespace prescient
