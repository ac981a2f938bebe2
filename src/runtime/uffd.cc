#include "runtime/uffd.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>

namespace prescient {

#ifndef USERFAULTFD_IOC_NEW
#define USERFAULTFD_IOC_NEW _IO(0xAA, 0x00)
#endif

Userfaultfd::~Userfaultfd() {
  if (fd_ >= 0) close(fd_);
}

namespace {

// /dev/userfaultfd works when the sysctl forbids unprivileged syscall use;
// the syscall is the fallback for kernels before 6.1.
int OpenFd() {
  int fd = -1;
  int dev = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);
  if (dev >= 0) {
    fd = ioctl(dev, USERFAULTFD_IOC_NEW, O_CLOEXEC | O_NONBLOCK);
    close(dev);
  }
  if (fd < 0) fd = static_cast<int>(syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK));
  return fd;
}

}  // namespace

uint64_t Userfaultfd::AvailableFeatures() {
  // A handshake asking for nothing answers with everything offered; it uses
  // up the descriptor, so it gets one of its own.
  int fd = OpenFd();
  if (fd < 0) return 0;
  uffdio_api api{};
  api.api = UFFD_API;
  uint64_t features = ioctl(fd, UFFDIO_API, &api) == 0 ? api.features : 0;
  close(fd);
  return features;
}

Status Userfaultfd::Open(bool sigbus) {
  int fd = OpenFd();
  if (fd < 0)
    return Status::FromErrno("cannot open userfaultfd (needs Linux >= 5.7, and root or vm.unprivileged_userfaultfd=1)", errno);
  uffdio_api api{};
  api.api = UFFD_API;
  api.features = UFFD_FEATURE_PAGEFAULT_FLAG_WP | UFFD_FEATURE_THREAD_ID | (sigbus ? UFFD_FEATURE_SIGBUS : 0);
  if (ioctl(fd, UFFDIO_API, &api) != 0) {
    int err = errno;
    close(fd);
    return Status::FromErrno("userfaultfd API handshake failed (write-protect faults unsupported?)", err);
  }
  fd_ = fd;
  return Status::Ok();
}

Status Userfaultfd::Register(void* addr, size_t len) {
  uffdio_register reg{};
  reg.range.start = reinterpret_cast<uint64_t>(addr);
  reg.range.len = len;
  reg.mode = UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP;
  if (ioctl(fd_, UFFDIO_REGISTER, &reg) != 0) return Status::FromErrno("userfaultfd register of the managed range failed", errno);
  const uint64_t needed = (uint64_t{1} << _UFFDIO_COPY) | (uint64_t{1} << _UFFDIO_WAKE) | (uint64_t{1} << _UFFDIO_WRITEPROTECT);
  if ((reg.ioctls & needed) != needed)
    return Status::Unavailable("this kernel's userfaultfd lacks COPY, WAKE or WRITEPROTECT on anonymous memory");
  return Status::Ok();
}

Status Userfaultfd::Copy(void* dst, const void* src, size_t len, bool write_protect, bool wake, bool* already_present) {
  if (already_present) *already_present = false;
  size_t done = 0;
  while (done < len) {
    uffdio_copy copy{};
    copy.dst = reinterpret_cast<uint64_t>(dst) + done;
    copy.src = reinterpret_cast<uint64_t>(src) + done;
    copy.len = len - done;
    copy.mode = (write_protect ? UFFDIO_COPY_MODE_WP : 0) | (wake ? 0 : UFFDIO_COPY_MODE_DONTWAKE);
    if (ioctl(fd_, UFFDIO_COPY, &copy) == 0) return Status::Ok();
    int err = errno;
    if (copy.copy > 0) done += static_cast<size_t>(copy.copy);
    if (err == EEXIST) {
      if (already_present) *already_present = true;
      // A racing install won; the waiters still need waking.
      return wake ? Wake(dst, len) : Status::Ok();
    }
    if (err == EAGAIN) continue;  // the range changed under us: retry the rest
    return Status::FromErrno(fmt::format("UFFDIO_COPY to {:#x}", copy.dst), err);
  }
  return Status::Ok();
}

Status Userfaultfd::ZeroPage(void* dst, size_t len, size_t* mapped) {
  *mapped = 0;
  while (*mapped < len) {
    uffdio_zeropage zero{};
    zero.range.start = reinterpret_cast<uint64_t>(dst) + *mapped;
    zero.range.len = len - *mapped;
    zero.mode = UFFDIO_ZEROPAGE_MODE_DONTWAKE;
    if (ioctl(fd_, UFFDIO_ZEROPAGE, &zero) == 0) {
      *mapped = len;
      return Status::Ok();
    }
    int err = errno;
    if (zero.zeropage > 0) *mapped += static_cast<size_t>(zero.zeropage);
    if (err == EAGAIN) continue;
    if (err == EEXIST) return Status::Ok();
    return Status::FromErrno(fmt::format("UFFDIO_ZEROPAGE at {:#x}", zero.range.start), err);
  }
  return Status::Ok();
}

Status Userfaultfd::WriteProtect(void* addr, size_t len, bool protect, bool wake) {
  uffdio_writeprotect wp{};
  wp.range.start = reinterpret_cast<uint64_t>(addr);
  wp.range.len = len;
  wp.mode = (protect ? UFFDIO_WRITEPROTECT_MODE_WP : 0) | (wake || protect ? 0 : UFFDIO_WRITEPROTECT_MODE_DONTWAKE);
  while (ioctl(fd_, UFFDIO_WRITEPROTECT, &wp) != 0) {
    if (errno == EAGAIN) continue;
    return Status::FromErrno(fmt::format("UFFDIO_WRITEPROTECT at {:#x}", wp.range.start), errno);
  }
  return Status::Ok();
}

Status Userfaultfd::Wake(void* addr, size_t len) {
  uffdio_range range{reinterpret_cast<uint64_t>(addr), len};
  if (ioctl(fd_, UFFDIO_WAKE, &range) != 0) return Status::FromErrno("UFFDIO_WAKE", errno);
  return Status::Ok();
}

}  // namespace prescient
