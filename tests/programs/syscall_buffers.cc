// An ordinary program that hands large malloc'd buffers to system calls and
// stdio: as the destination of read (a pipe and a regular file), pread,
// readv, recv, recvfrom, recvmsg and fread, and as the source of write,
// pwrite, writev, send, sendto, sendmsg and fwrite. Some buffers were never
// touched before the call, others were written and then pushed out of a
// small cache by sweeping other memory, which is where far memory would have
// sent them. Every byte that arrives is checked, and a failing call is named
// with its errno (EFAULT is what a kernel gives for a buffer it could not
// reach). About 220 MiB; prints checksum= last.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "common/checksum.h"
#include "program_checks.h"

namespace {

using program::Fail;

constexpr size_t kMiB = size_t{1} << 20;
constexpr size_t kFillerBytes = 64 * kMiB;

// Sweeping the filler writes a word in each of its pages: more than a
// quarter of the footprint, so whatever was touched before is the oldest
// memory by far.
uint64_t* g_filler = nullptr;

void PushOut() {
  for (size_t i = 0; i < kFillerBytes / sizeof(uint64_t); i += 4096 / sizeof(uint64_t)) ++g_filler[i];
}

// A block of the heap handed to the calls.
struct Buffer {
  uint8_t* data;
  size_t size;
};

// Every buffer lives until the end, so that no "untouched" one can be
// memory an earlier one used.
std::vector<void*> g_allocated;

// Never touched: malloc'd (a destination) or calloc'd, so known to be zeros
// (a source, stream 0).
Buffer Untouched(size_t size, bool zeroed) {
  void* p = zeroed ? std::calloc(size, 1) : std::malloc(size);
  if (p == nullptr) Fail("cannot allocate %zu bytes", size);
  g_allocated.push_back(p);
  return {static_cast<uint8_t*>(p), size};
}

// Filled with stream `seed` (a source's content, or a destination's stale
// bytes), to be pushed out before the call.
Buffer Written(size_t size, uint64_t seed) {
  Buffer b = Untouched(size, false);
  program::FillPattern(b.data, size, seed);
  return b;
}

// What a file or a connection carries: the streams its sources were
// written with, one after another.
struct Segment {
  uint64_t seed;
  size_t size;
};

// Fails unless dest holds bytes [offset, offset + dest.size) of `stream`.
void ExpectStream(const Buffer& dest, const std::vector<Segment>& stream, size_t offset, const char* what) {
  size_t checked = 0, start = 0;
  for (const Segment& s : stream) {
    const size_t from = std::max(offset + checked, start), to = std::min(offset + dest.size, start + s.size);
    if (from < to) {
      const size_t bad = program::FirstMismatch(dest.data + (from - offset), to - from, s.seed, from - start);
      if (bad != to - from)
        Fail("%s: byte %zu of %zu is 0x%02x, expected 0x%02x", what, from - offset + bad, dest.size,
             dest.data[from - offset + bad], program::PatternByte(s.seed, from - start + bad));
      checked += to - from;
    }
    start += s.size;
  }
  if (checked != dest.size) Fail("%s: the stream is shorter than the buffer", what);
}

// Repeats `call` (which moves bytes from `done` on and returns what the
// system call did) until `total` bytes moved, failing on an error or an
// early end of file.
void MoveAll(const char* name, size_t total, const std::function<ssize_t(size_t done)>& call) {
  for (size_t done = 0; done < total;) {
    const ssize_t n = call(done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      Fail("%s failed after %zu of %zu bytes: errno %d (%s)%s", name, done, total, errno, std::strerror(errno),
           errno == EFAULT ? ": the kernel could not reach the buffer" : "");
    if (n == 0) Fail("%s: end of data after %zu of %zu bytes", name, done, total);
    done += static_cast<size_t>(n);
  }
}

// The iovecs over buffers, from byte `skip` of their concatenation on.
std::vector<iovec> IoVecs(const std::vector<Buffer>& buffers, size_t skip) {
  std::vector<iovec> iov;
  for (const Buffer& b : buffers) {
    if (skip >= b.size) {
      skip -= b.size;
      continue;
    }
    iov.push_back({b.data + skip, b.size - skip});
    skip = 0;
  }
  return iov;
}

size_t TotalSize(const std::vector<Buffer>& buffers) {
  size_t total = 0;
  for (const Buffer& b : buffers) total += b.size;
  return total;
}

msghdr Message(std::vector<iovec>& iov) {
  msghdr m{};
  m.msg_iov = iov.data();
  m.msg_iovlen = iov.size();
  return m;
}

// write -> pipe -> read, the writer on a thread of its own (a pipe holds
// only 64 KiB).
void Pipe(workload::Checksum* sum) {
  Buffer source = Written(8 * kMiB, 11), zeros = Untouched(8 * kMiB, true);
  Buffer fresh = Untouched(8 * kMiB, false), stale = Written(8 * kMiB, 12);
  PushOut();
  int fds[2];
  if (pipe(fds) != 0) Fail("pipe: %s", std::strerror(errno));
  std::thread writer([&] {
    for (const Buffer& b : {source, zeros})
      MoveAll("write (pipe)", b.size, [&](size_t done) { return write(fds[1], b.data + done, b.size - done); });
    close(fds[1]);
  });
  for (const Buffer& b : {fresh, stale})
    MoveAll("read (pipe)", b.size, [&](size_t done) { return read(fds[0], b.data + done, b.size - done); });
  writer.join();
  close(fds[0]);
  const std::vector<Segment> stream = {{11, source.size}, {0, zeros.size}};
  ExpectStream(fresh, stream, 0, "read from a pipe into an untouched buffer");
  ExpectStream(stale, stream, fresh.size, "read from a pipe into a pushed-out buffer");
  program::AddBytes(sum, fresh.data, fresh.size);
  program::AddBytes(sum, stale.data, stale.size);
}

// A temporary file written with write, pwrite, writev and fwrite, read back
// with read, pread, readv, fread and fread_unlocked. It is unlinked at once, so nothing is
// left behind whatever happens.
void File(workload::Checksum* sum) {
  const char* dir = std::getenv("TMPDIR");
  std::string path = std::string(dir != nullptr && *dir != '\0' ? dir : "/tmp") + "/syscall_buffers.XXXXXX";
  const int fd = mkstemp(path.data());
  if (fd < 0) Fail("mkstemp %s: %s", path.c_str(), std::strerror(errno));
  unlink(path.c_str());
  FILE* file = fdopen(dup(fd), "r+");
  if (file == nullptr) Fail("fdopen: %s", std::strerror(errno));

  Buffer by_write = Written(8 * kMiB, 21), by_pwrite = Written(8 * kMiB, 22);
  std::vector<Buffer> by_writev = {Written(4 * kMiB, 23), Untouched(4 * kMiB, true)};
  Buffer by_fwrite = Written(8 * kMiB, 24);
  const std::vector<Segment> stream = {{21, 8 * kMiB}, {22, 8 * kMiB}, {23, 4 * kMiB}, {0, 4 * kMiB}, {24, 8 * kMiB}};
  Buffer by_read = Untouched(8 * kMiB, false), by_pread = Written(12 * kMiB, 25);
  std::vector<Buffer> by_readv = {Untouched(5 * kMiB, false), Written(7 * kMiB, 26)};
  Buffer by_fread = Untouched(16 * kMiB, false);
  Buffer by_fread_unlocked = Untouched(8 * kMiB, false);  // what GNU coreutils call
  PushOut();

  MoveAll("write (file)", by_write.size,
          [&](size_t done) { return write(fd, by_write.data + done, by_write.size - done); });
  MoveAll("pwrite", by_pwrite.size,
          [&](size_t done) { return pwrite(fd, by_pwrite.data + done, by_pwrite.size - done, 8 * kMiB + done); });
  if (lseek(fd, 16 * kMiB, SEEK_SET) < 0) Fail("lseek: %s", std::strerror(errno));
  MoveAll("writev", TotalSize(by_writev), [&](size_t done) {
    std::vector<iovec> iov = IoVecs(by_writev, done);
    return writev(fd, iov.data(), static_cast<int>(iov.size()));
  });
  if (fseek(file, 24 * kMiB, SEEK_SET) != 0) Fail("fseek: %s", std::strerror(errno));
  MoveAll("fwrite", by_fwrite.size, [&](size_t done) -> ssize_t {
    const size_t n = fwrite(by_fwrite.data + done, 1, by_fwrite.size - done, file);
    return n == 0 && ferror(file) ? -1 : static_cast<ssize_t>(n);
  });
  if (fflush(file) != 0) Fail("fflush: %s", std::strerror(errno));
  PushOut();  // the destinations, and the sources once more

  if (lseek(fd, 0, SEEK_SET) < 0) Fail("lseek: %s", std::strerror(errno));
  MoveAll("read (file)", by_read.size, [&](size_t done) { return read(fd, by_read.data + done, by_read.size - done); });
  MoveAll("pread", by_pread.size,
          [&](size_t done) { return pread(fd, by_pread.data + done, by_pread.size - done, 6 * kMiB + done); });
  if (lseek(fd, 3 * kMiB, SEEK_SET) < 0) Fail("lseek: %s", std::strerror(errno));
  MoveAll("readv", TotalSize(by_readv), [&](size_t done) {
    std::vector<iovec> iov = IoVecs(by_readv, done);
    return readv(fd, iov.data(), static_cast<int>(iov.size()));
  });
  if (fseek(file, 8 * kMiB, SEEK_SET) != 0) Fail("fseek: %s", std::strerror(errno));
  MoveAll("fread", by_fread.size, [&](size_t done) -> ssize_t {
    const size_t n = fread(by_fread.data + done, 1, by_fread.size - done, file);
    return n == 0 && ferror(file) ? -1 : static_cast<ssize_t>(n);
  });
  if (fseek(file, 0, SEEK_SET) != 0) Fail("fseek: %s", std::strerror(errno));
  MoveAll("fread_unlocked", by_fread_unlocked.size, [&](size_t done) -> ssize_t {
    const size_t n = fread_unlocked(by_fread_unlocked.data + done, 1, by_fread_unlocked.size - done, file);
    return n == 0 && ferror(file) ? -1 : static_cast<ssize_t>(n);
  });
  fclose(file);
  close(fd);

  ExpectStream(by_read, stream, 0, "read from a file into an untouched buffer");
  ExpectStream(by_pread, stream, 6 * kMiB, "pread into a pushed-out buffer");
  ExpectStream(by_readv[0], stream, 3 * kMiB, "readv into an untouched buffer");
  ExpectStream(by_readv[1], stream, 8 * kMiB, "readv into a pushed-out buffer");
  ExpectStream(by_fread, stream, 8 * kMiB, "fread into an untouched buffer");
  ExpectStream(by_fread_unlocked, stream, 0, "fread_unlocked into an untouched buffer");
  for (const Buffer& b : {by_read, by_pread, by_readv[0], by_readv[1], by_fread, by_fread_unlocked})
    program::AddBytes(sum, b.data, b.size);
}

// send, sendto and sendmsg on one end of a socketpair (on a thread of its
// own), recv, recvfrom and recvmsg on the other, each receive cutting the
// stream in places the sends did not.
void Socket(workload::Checksum* sum) {
  Buffer by_send = Written(8 * kMiB, 31), by_sendto = Untouched(4 * kMiB, true);
  std::vector<Buffer> by_sendmsg = {Written(4 * kMiB, 32), Written(4 * kMiB, 33)};
  const std::vector<Segment> stream = {{31, 8 * kMiB}, {0, 4 * kMiB}, {32, 4 * kMiB}, {33, 4 * kMiB}};
  Buffer by_recv = Untouched(6 * kMiB, false), by_recvfrom = Written(6 * kMiB, 34);
  std::vector<Buffer> by_recvmsg = {Untouched(3 * kMiB, false), Written(5 * kMiB, 35)};
  PushOut();

  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) Fail("socketpair: %s", std::strerror(errno));
  std::thread sender([&] {
    MoveAll("send", by_send.size,
            [&](size_t done) { return send(fds[0], by_send.data + done, by_send.size - done, 0); });
    MoveAll("sendto", by_sendto.size, [&](size_t done) {
      return sendto(fds[0], by_sendto.data + done, by_sendto.size - done, 0, nullptr, 0);
    });
    MoveAll("sendmsg", TotalSize(by_sendmsg), [&](size_t done) {
      std::vector<iovec> iov = IoVecs(by_sendmsg, done);
      msghdr m = Message(iov);
      return sendmsg(fds[0], &m, 0);
    });
  });
  MoveAll("recv", by_recv.size, [&](size_t done) { return recv(fds[1], by_recv.data + done, by_recv.size - done, 0); });
  MoveAll("recvfrom", by_recvfrom.size, [&](size_t done) {
    sockaddr_storage from;
    socklen_t from_size = sizeof(from);
    return recvfrom(fds[1], by_recvfrom.data + done, by_recvfrom.size - done, 0, reinterpret_cast<sockaddr*>(&from),
                    &from_size);
  });
  MoveAll("recvmsg", TotalSize(by_recvmsg), [&](size_t done) {
    std::vector<iovec> iov = IoVecs(by_recvmsg, done);
    msghdr m = Message(iov);
    return recvmsg(fds[1], &m, 0);
  });
  sender.join();
  close(fds[0]);
  close(fds[1]);

  ExpectStream(by_recv, stream, 0, "recv into an untouched buffer");
  ExpectStream(by_recvfrom, stream, 6 * kMiB, "recvfrom into a pushed-out buffer");
  ExpectStream(by_recvmsg[0], stream, 12 * kMiB, "recvmsg into an untouched buffer");
  ExpectStream(by_recvmsg[1], stream, 15 * kMiB, "recvmsg into a pushed-out buffer");
  for (const Buffer& b : {by_recv, by_recvfrom, by_recvmsg[0], by_recvmsg[1]}) program::AddBytes(sum, b.data, b.size);
}

}  // namespace

int main() {
  g_filler = static_cast<uint64_t*>(std::calloc(kFillerBytes, 1));
  if (g_filler == nullptr) Fail("cannot allocate the filler");
  workload::Checksum sum;
  Pipe(&sum);
  std::printf("pipe ok\n");
  File(&sum);
  std::printf("file ok\n");
  Socket(&sum);
  std::printf("socket ok\n");
  for (size_t i = 0; i < kFillerBytes / sizeof(uint64_t); i += 4096 / sizeof(uint64_t)) sum.Add(g_filler[i]);
  std::free(g_filler);
  for (void* p : g_allocated) std::free(p);
  sum.Print();
  return 0;
}
