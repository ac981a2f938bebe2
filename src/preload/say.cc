#include "preload/say.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>

#include <cerrno>
#include <string>

namespace prescient::preload {

namespace {
constinit std::atomic<int> g_stderr{STDERR_FILENO};
// Far above the descriptors programs use, so it does not take one a program
// expects to get from open() (some assume the lowest free number).
constexpr int kFirstPrivateFd = 500;
}  // namespace

void KeepStderr() {
  int fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, kFirstPrivateFd);
  if (fd >= 0) g_stderr.store(fd, std::memory_order_relaxed);
}

void SayRaw(std::string_view text) {
  int saved = errno;  // a message must not change what the program sees
  int fd = g_stderr.load(std::memory_order_relaxed);
  while (!text.empty()) {
    ssize_t n = write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.remove_prefix(static_cast<size_t>(n));
  }
  errno = saved;
}

void SayHex(uintptr_t value) {
  char buf[2 + 2 * sizeof(value)];
  char* end = buf + sizeof(buf);
  char* p = end;
  do {
    *--p = "0123456789abcdef"[value & 0xf];
    value >>= 4;
  } while (value != 0);
  *--p = 'x';
  *--p = '0';
  SayRaw(std::string_view(p, static_cast<size_t>(end - p)));
}

void Say(std::string_view text) {
  std::string line = "prescient: ";
  line.append(text);
  line.push_back('\n');
  SayRaw(line);
}

}  // namespace prescient::preload
