// libFuzzer target: the memory node's page protocol, end to end. The input
// is the byte stream one client sends on a connection; a real Session reads,
// checks and answers it over a socketpair, against a real PageStore. A crash,
// a sanitizer report, a leak or a hang (libFuzzer's -timeout) is a finding.
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <thread>

#include <spdlog/spdlog.h>

#include "memnode/session.h"

namespace {

prescient::MemnodeShared* Shared() {
  // Node-wide state outlives each connection, as in a server; the namespace
  // a connection opens is freed when it ends.
  // With a token, so the check of a wrong one is fuzzed too (the seeds say
  // HELLO with this one).
  static auto* shared = new prescient::MemnodeShared("fuzz-token", uint64_t{64} << 20, 4);
  return shared;
}

// The client's side: sends `input`, then reads answers until the node closes.
void Client(int fd, const uint8_t* input, size_t size) {
  size_t sent = 0;
  bool sending = size > 0;
  if (!sending) shutdown(fd, SHUT_WR);
  for (;;) {
    pollfd p{fd, static_cast<short>(POLLIN | (sending ? POLLOUT : 0)), 0};
    if (poll(&p, 1, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
      char sink[1 << 16];
      ssize_t n = read(fd, sink, sizeof(sink));
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return;
    }
    if (sending && (p.revents & POLLOUT)) {
      ssize_t n = send(fd, input + sent, size - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) sent += static_cast<size_t>(n);
      if (sent == size || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        shutdown(fd, SHUT_WR);
        sending = false;
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) return 0;
  std::thread client(Client, fds[1], data, size);
  {
    std::atomic<int> stage{prescient::kHandshake};
    prescient::Session session(Shared(), fds[0], "fuzz", &stage);
    session.Run();
  }
  shutdown(fds[0], SHUT_RDWR);
  client.join();
  close(fds[0]);
  close(fds[1]);
  return 0;
}
