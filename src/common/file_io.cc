#include "common/file_io.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>

namespace prescient {

uint32_t Fnv1a32(std::string_view bytes) {
  uint32_t h = 2166136261u;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 16777619u;
  }
  return h;
}

uint64_t Fnv1a64(std::string_view bytes) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

Status WriteAll(int fd, const void* data, size_t len, const std::string& what) {
  const char* p = static_cast<const char*>(data);
  while (len > 0) {
    ssize_t n = ::write(fd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::FromErrno(fmt::format("writing {}", what), errno);
    p += n;
    len -= static_cast<size_t>(n);
  }
  return Status::Ok();
}

Status WriteAllAt(int fd, const void* data, size_t len, uint64_t offset, const std::string& what) {
  const char* p = static_cast<const char*>(data);
  while (len > 0) {
    const ssize_t n = ::pwrite(fd, p, len, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::FromErrno(fmt::format("writing {} at offset {}", what, offset), errno);
    p += n;
    len -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
  return Status::Ok();
}

Status ReadAllAt(int fd, void* dst, size_t len, uint64_t offset, const std::string& what) {
  char* p = static_cast<char*>(dst);
  while (len > 0) {
    const ssize_t n = ::pread(fd, p, len, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::FromErrno(fmt::format("reading {} at offset {}", what, offset), errno);
    if (n == 0) return Status::Corruption(fmt::format("{}: truncated at offset {}", what, offset));
    p += n;
    len -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
  return Status::Ok();
}

Status CreateProcessFile(const char* name, int* fd, std::string* path) {
  const int f = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (f < 0) return Status::FromErrno(fmt::format("cannot create {} (memfd_create)", name), errno);
  if (fchmod(f, 0600) != 0) {
    const int err = errno;
    close(f);
    return Status::FromErrno(fmt::format("cannot make {} private (fchmod)", name), err);
  }
  *fd = f;
  *path = fmt::format("/proc/{}/fd/{}", getpid(), f);
  return Status::Ok();
}

}  // namespace prescient
