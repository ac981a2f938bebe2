// System calls that read or write managed memory from the kernel, made safe
// for the signal fault path (runtime/signal_faults.h, D105).
//
// On that path the kernel cannot fault a region page in for itself: a read()
// into a page that is not mapped, or not writable, fails with EFAULT (and a
// datagram socket drops the datagram). So each libc entry point below pins
// the part of its buffers that lies in the region (Region::pin: resident,
// writable if the kernel writes it, not evicted until unpinned) around the
// real call. A buffer larger than a pin (a quarter of the budget) is served a
// pin at a time: a write goes on to the next chunk while each completes, and
// so does a read of a regular file, where a short count would look like the
// end of the file; other reads return the short count, as a socket may.
// Vectored calls pin what they can and shorten the vector there.
//
// Covered: read, pread(64), readv, preadv(64), recv, recvfrom, recvmsg,
// write, pwrite(64), writev, pwritev(64), send, sendto, sendmsg, fread,
// fwrite, their _unlocked forms, and the _FORTIFY_SOURCE forms __read_chk,
// __pread(64)_chk, __recv_chk, __recvfrom_chk, __fread(_unlocked)_chk. Not covered (they still see
// EFAULT on a page that is not resident): raw system calls, other calls
// that take buffers (getdents, epoll_wait, io_uring, aio, vmsplice, ...),
// O_DIRECT, and another process's process_vm_readv. --fault-path thread
// serves all of these.
#include <dlfcn.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>

#include "preload/heap.h"
#include "preload/startup.h"
#include "prescient/region.h"

using prescient::FaultPath;
using prescient::Region;
using namespace prescient::preload;

namespace {

template <typename Fn>
Fn Next(const char* name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
}

// The region, when [buf, buf + len) starts or ends in it and its faults are
// served by signal; null when the call needs no pin.
Region* PinningRegion(const void* buf, size_t len) {
  if (buf == nullptr || len == 0) return nullptr;
  if (!InRegion(buf) && !InRegion(static_cast<const char*>(buf) + len - 1)) return nullptr;
  Region* region = ManagedRegion();
  return region != nullptr && region->fault_path() == FaultPath::kSignal ? region : nullptr;
}

bool IsRegularFile(int fd) {
  struct stat st;
  int saved = errno;
  bool regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  errno = saved;
  return regular;
}

// Runs io(at, n, done) over [buf, buf + len) a pinned chunk at a time, where
// `done` bytes precede `at`. Goes on past a completed chunk only if
// go_on() says so.
template <typename Io, typename GoOn>
ssize_t InPinnedChunks(Region* region, const void* buf, size_t len, bool kernel_writes, Io io, GoOn go_on) {
  size_t done = 0;
  while (true) {
    const char* at = static_cast<const char*>(buf) + done;
    const size_t want = len - done;
    const size_t n = region->pin(at, want, kernel_writes);
    const ssize_t got = io(const_cast<char*>(at), n, done);
    const int saved = errno;
    region->unpin(at, n);
    errno = saved;
    if (got < 0) return done > 0 ? static_cast<ssize_t>(done) : got;
    done += static_cast<size_t>(got);
    if (static_cast<size_t>(got) < n || n == want || !go_on()) return static_cast<ssize_t>(done);
  }
}

ssize_t PinnedRead(const void* buf, size_t len, int fd, auto io) {
  Region* region = PinningRegion(buf, len);
  if (region == nullptr) return io(const_cast<void*>(buf), len, 0);
  return InPinnedChunks(region, buf, len, /*kernel_writes=*/true, io, [fd] { return IsRegularFile(fd); });
}

ssize_t PinnedWrite(const void* buf, size_t len, auto io) {
  Region* region = PinningRegion(buf, len);
  if (region == nullptr) return io(const_cast<void*>(buf), len, 0);
  return InPinnedChunks(region, buf, len, /*kernel_writes=*/false, io, [] { return true; });
}

// Pins the region parts of a vector, shortening it at the first buffer
// that could not be pinned whole; Unpin undoes exactly that.
class PinnedVector {
 public:
  PinnedVector(const iovec* iov, int count, bool kernel_writes) : iov_(iov), count_(count) {
    for (int i = 0; i < count && i < kMax; ++i) {
      Region* region = PinningRegion(iov[i].iov_base, iov[i].iov_len);
      if (region == nullptr) continue;
      if (region_ == nullptr) {
        region_ = region;
        // The shortened copy is only needed once something is pinned.
        std::copy(iov, iov + std::min(count, kMax), copy_);
      }
      size_t n = region->pin(iov[i].iov_base, iov[i].iov_len, kernel_writes);
      copy_[i].iov_len = n;
      pinned_ = i + 1;
      if (n < iov[i].iov_len) {
        count_ = i + 1;
        break;
      }
    }
    if (region_ != nullptr && count_ > kMax) count_ = kMax;
  }
  ~PinnedVector() {
    const int saved = errno;
    for (int i = 0; region_ != nullptr && i < pinned_; ++i) {
      if (PinningRegion(copy_[i].iov_base, copy_[i].iov_len) != nullptr) region_->unpin(copy_[i].iov_base, copy_[i].iov_len);
    }
    errno = saved;
  }
  const iovec* iov() const { return region_ != nullptr ? copy_ : iov_; }
  int count() const { return count_; }

 private:
  static constexpr int kMax = 64;  // a longer vector is shortened to this many buffers
  const iovec* iov_;
  int count_;
  Region* region_ = nullptr;
  int pinned_ = 0;
  iovec copy_[kMax];
};

// A message header whose vector is pinned.
struct PinnedMessage {
  PinnedMessage(const msghdr* msg, bool kernel_writes) : vector(msg->msg_iov, static_cast<int>(msg->msg_iovlen), kernel_writes), header(*msg) {
    header.msg_iov = const_cast<iovec*>(vector.iov());
    header.msg_iovlen = static_cast<size_t>(vector.count());
  }
  PinnedVector vector;
  msghdr header;
};

using ReadFn = ssize_t (*)(int, void*, size_t);
using PreadFn = ssize_t (*)(int, void*, size_t, off_t);
using WriteFn = ssize_t (*)(int, const void*, size_t);
using PwriteFn = ssize_t (*)(int, const void*, size_t, off_t);
using VecFn = ssize_t (*)(int, const iovec*, int);
using PvecFn = ssize_t (*)(int, const iovec*, int, off_t);
using RecvFn = ssize_t (*)(int, void*, size_t, int);
using RecvfromFn = ssize_t (*)(int, void*, size_t, int, sockaddr*, socklen_t*);
using SendFn = ssize_t (*)(int, const void*, size_t, int);
using SendtoFn = ssize_t (*)(int, const void*, size_t, int, const sockaddr*, socklen_t);
using RecvmsgFn = ssize_t (*)(int, msghdr*, int);
using SendmsgFn = ssize_t (*)(int, const msghdr*, int);
using FreadFn = size_t (*)(void*, size_t, size_t, FILE*);
using FwriteFn = size_t (*)(const void*, size_t, size_t, FILE*);
using ReadChkFn = ssize_t (*)(int, void*, size_t, size_t);
using PreadChkFn = ssize_t (*)(int, void*, size_t, off_t, size_t);
using RecvChkFn = ssize_t (*)(int, void*, size_t, size_t, int);
using RecvfromChkFn = ssize_t (*)(int, void*, size_t, size_t, int, sockaddr*, socklen_t*);
using FreadChkFn = size_t (*)(void*, size_t, size_t, size_t, FILE*);

// fread and fwrite move whole elements: a chunk is the whole elements a pin covers.
template <typename Io>
size_t InPinnedElements(const void* ptr, size_t size, size_t count, bool kernel_writes, Io io) {
  size_t total = 0;
  if (size == 0 || __builtin_mul_overflow(size, count, &total)) return io(const_cast<void*>(ptr), count);
  Region* region = PinningRegion(ptr, total);
  if (region == nullptr) return io(const_cast<void*>(ptr), count);
  size_t done = 0;
  while (done < count) {
    char* at = static_cast<char*>(const_cast<void*>(ptr)) + done * size;
    const size_t bytes = region->pin(at, (count - done) * size, kernel_writes);
    const size_t elements = std::max<size_t>(1, bytes / size);
    const size_t got = io(at, elements);
    region->unpin(at, bytes);
    done += got;
    if (got < elements) break;
  }
  return done;
}

size_t PinnedFread(FreadFn real, void* ptr, size_t size, size_t count, FILE* stream) {
  return InPinnedElements(ptr, size, count, /*kernel_writes=*/true, [&](void* at, size_t n) { return real(at, size, n, stream); });
}

size_t PinnedFreadChk(FreadChkFn real, void* ptr, size_t ptrlen, size_t size, size_t count, FILE* stream) {
  return InPinnedElements(ptr, size, count, /*kernel_writes=*/true, [&](void* at, size_t n) {
    return real(at, ptrlen - static_cast<size_t>(static_cast<char*>(at) - static_cast<char*>(ptr)), size, n, stream);
  });
}

size_t PinnedFwrite(FwriteFn real, const void* ptr, size_t size, size_t count, FILE* stream) {
  return InPinnedElements(ptr, size, count, /*kernel_writes=*/false, [&](void* at, size_t n) { return real(at, size, n, stream); });
}

}  // namespace

#define PRESCIENT_NEXT(type, name) static const type real = Next<type>(name)

extern "C" {

__attribute__((visibility("default"))) ssize_t read(int fd, void* buf, size_t n) {
  PRESCIENT_NEXT(ReadFn, "read");
  return PinnedRead(buf, n, fd, [&](void* at, size_t len, size_t) { return real(fd, at, len); });
}

__attribute__((visibility("default"))) ssize_t __read_chk(int fd, void* buf, size_t n, size_t buflen) {
  PRESCIENT_NEXT(ReadChkFn, "__read_chk");
  return PinnedRead(buf, n, fd, [&](void* at, size_t len, size_t done) { return real(fd, at, len, buflen - done); });
}

__attribute__((visibility("default"))) ssize_t pread(int fd, void* buf, size_t n, off_t offset) {
  PRESCIENT_NEXT(PreadFn, "pread");
  return PinnedRead(buf, n, fd, [&](void* at, size_t len, size_t done) { return real(fd, at, len, offset + static_cast<off_t>(done)); });
}

__attribute__((visibility("default"))) ssize_t pread64(int fd, void* buf, size_t n, off_t offset) { return pread(fd, buf, n, offset); }

__attribute__((visibility("default"))) ssize_t __pread_chk(int fd, void* buf, size_t n, off_t offset, size_t buflen) {
  PRESCIENT_NEXT(PreadChkFn, "__pread_chk");
  return PinnedRead(buf, n, fd, [&](void* at, size_t len, size_t done) { return real(fd, at, len, offset + static_cast<off_t>(done), buflen - done); });
}

__attribute__((visibility("default"))) ssize_t __pread64_chk(int fd, void* buf, size_t n, off_t offset, size_t buflen) {
  return __pread_chk(fd, buf, n, offset, buflen);
}

__attribute__((visibility("default"))) ssize_t write(int fd, const void* buf, size_t n) {
  PRESCIENT_NEXT(WriteFn, "write");
  return PinnedWrite(buf, n, [&](void* at, size_t len, size_t) { return real(fd, at, len); });
}

__attribute__((visibility("default"))) ssize_t pwrite(int fd, const void* buf, size_t n, off_t offset) {
  PRESCIENT_NEXT(PwriteFn, "pwrite");
  return PinnedWrite(buf, n, [&](void* at, size_t len, size_t done) { return real(fd, at, len, offset + static_cast<off_t>(done)); });
}

__attribute__((visibility("default"))) ssize_t pwrite64(int fd, const void* buf, size_t n, off_t offset) { return pwrite(fd, buf, n, offset); }

__attribute__((visibility("default"))) ssize_t recv(int fd, void* buf, size_t n, int flags) {
  PRESCIENT_NEXT(RecvFn, "recv");
  return PinnedRead(buf, n, -1, [&](void* at, size_t len, size_t) { return real(fd, at, len, flags); });
}

__attribute__((visibility("default"))) ssize_t __recv_chk(int fd, void* buf, size_t n, size_t buflen, int flags) {
  PRESCIENT_NEXT(RecvChkFn, "__recv_chk");
  return PinnedRead(buf, n, -1, [&](void* at, size_t len, size_t done) { return real(fd, at, len, buflen - done, flags); });
}

__attribute__((visibility("default"))) ssize_t recvfrom(int fd, void* buf, size_t n, int flags, sockaddr* from, socklen_t* fromlen) {
  PRESCIENT_NEXT(RecvfromFn, "recvfrom");
  return PinnedRead(buf, n, -1, [&](void* at, size_t len, size_t) { return real(fd, at, len, flags, from, fromlen); });
}

__attribute__((visibility("default"))) ssize_t __recvfrom_chk(int fd, void* buf, size_t n, size_t buflen, int flags, sockaddr* from,
                                                               socklen_t* fromlen) {
  PRESCIENT_NEXT(RecvfromChkFn, "__recvfrom_chk");
  return PinnedRead(buf, n, -1, [&](void* at, size_t len, size_t done) { return real(fd, at, len, buflen - done, flags, from, fromlen); });
}

__attribute__((visibility("default"))) ssize_t send(int fd, const void* buf, size_t n, int flags) {
  PRESCIENT_NEXT(SendFn, "send");
  return PinnedWrite(buf, n, [&](void* at, size_t len, size_t) { return real(fd, at, len, flags); });
}

__attribute__((visibility("default"))) ssize_t sendto(int fd, const void* buf, size_t n, int flags, const sockaddr* to, socklen_t tolen) {
  PRESCIENT_NEXT(SendtoFn, "sendto");
  return PinnedWrite(buf, n, [&](void* at, size_t len, size_t) { return real(fd, at, len, flags, to, tolen); });
}

__attribute__((visibility("default"))) ssize_t readv(int fd, const iovec* iov, int count) {
  PRESCIENT_NEXT(VecFn, "readv");
  PinnedVector v(iov, count, /*kernel_writes=*/true);
  return real(fd, v.iov(), v.count());
}

__attribute__((visibility("default"))) ssize_t writev(int fd, const iovec* iov, int count) {
  PRESCIENT_NEXT(VecFn, "writev");
  PinnedVector v(iov, count, /*kernel_writes=*/false);
  return real(fd, v.iov(), v.count());
}

__attribute__((visibility("default"))) ssize_t preadv(int fd, const iovec* iov, int count, off_t offset) {
  PRESCIENT_NEXT(PvecFn, "preadv");
  PinnedVector v(iov, count, /*kernel_writes=*/true);
  return real(fd, v.iov(), v.count(), offset);
}

__attribute__((visibility("default"))) ssize_t preadv64(int fd, const iovec* iov, int count, off_t offset) { return preadv(fd, iov, count, offset); }

__attribute__((visibility("default"))) ssize_t pwritev(int fd, const iovec* iov, int count, off_t offset) {
  PRESCIENT_NEXT(PvecFn, "pwritev");
  PinnedVector v(iov, count, /*kernel_writes=*/false);
  return real(fd, v.iov(), v.count(), offset);
}

__attribute__((visibility("default"))) ssize_t pwritev64(int fd, const iovec* iov, int count, off_t offset) { return pwritev(fd, iov, count, offset); }

__attribute__((visibility("default"))) ssize_t recvmsg(int fd, msghdr* msg, int flags) {
  PRESCIENT_NEXT(RecvmsgFn, "recvmsg");
  PinnedMessage m(msg, /*kernel_writes=*/true);
  ssize_t got = real(fd, &m.header, flags);
  // What the kernel reports back lives in the header: hand it on.
  msg->msg_namelen = m.header.msg_namelen;
  msg->msg_controllen = m.header.msg_controllen;
  msg->msg_flags = m.header.msg_flags;
  return got;
}

__attribute__((visibility("default"))) ssize_t sendmsg(int fd, const msghdr* msg, int flags) {
  PRESCIENT_NEXT(SendmsgFn, "sendmsg");
  PinnedMessage m(msg, /*kernel_writes=*/false);
  return real(fd, &m.header, flags);
}

__attribute__((visibility("default"))) size_t fread(void* ptr, size_t size, size_t count, FILE* stream) {
  PRESCIENT_NEXT(FreadFn, "fread");
  return PinnedFread(real, ptr, size, count, stream);
}

__attribute__((visibility("default"))) size_t __fread_chk(void* ptr, size_t ptrlen, size_t size, size_t count, FILE* stream) {
  PRESCIENT_NEXT(FreadChkFn, "__fread_chk");
  return PinnedFreadChk(real, ptr, ptrlen, size, count, stream);
}

__attribute__((visibility("default"))) size_t fwrite(const void* ptr, size_t size, size_t count, FILE* stream) {
  PRESCIENT_NEXT(FwriteFn, "fwrite");
  return PinnedFwrite(real, ptr, size, count, stream);
}

// The unlocked forms, which GNU coreutils (md5sum, sort, ...) use throughout.
__attribute__((visibility("default"))) size_t fread_unlocked(void* ptr, size_t size, size_t count, FILE* stream) {
  PRESCIENT_NEXT(FreadFn, "fread_unlocked");
  return PinnedFread(real, ptr, size, count, stream);
}

__attribute__((visibility("default"))) size_t __fread_unlocked_chk(void* ptr, size_t ptrlen, size_t size, size_t count, FILE* stream) {
  PRESCIENT_NEXT(FreadChkFn, "__fread_unlocked_chk");
  return PinnedFreadChk(real, ptr, ptrlen, size, count, stream);
}

__attribute__((visibility("default"))) size_t fwrite_unlocked(const void* ptr, size_t size, size_t count, FILE* stream) {
  PRESCIENT_NEXT(FwriteFn, "fwrite_unlocked");
  return PinnedFwrite(real, ptr, size, count, stream);
}

}  // extern "C"
