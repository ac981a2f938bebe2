// Small, Status-returning wrappers over the socket calls the client and the
// memory node share. Every blocking call here is bounded by a deadline or can
// be woken by shutdown(2) of its socket, so no caller can hang on a peer.
#pragma once

#include <netinet/in.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "prescient/status.h"

namespace prescient {

struct Endpoint {
  std::string host;  // as the user wrote it
  uint16_t port = 0;
  sockaddr_in addr{};  // resolved IPv4 address
  std::string ToString() const { return host + ":" + std::to_string(port); }
};

// Parses and resolves "host:port": an IPv4 address, "localhost" or a host
// name with an IPv4 address. Port 0 is accepted (the kernel picks one).
Status ParseEndpoint(const std::string& text, Endpoint* endpoint);
bool IsLoopback(const Endpoint& endpoint);

// An owned file descriptor, closed on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) { reset(); fd_ = other.release(); }
    return *this;
  }
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() { int fd = fd_; fd_ = -1; return fd; }
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

// Connects a TCP socket with TCP_NODELAY, failing after `timeout_ms`. Errors
// name the endpoint.
Status ConnectTcp(const Endpoint& endpoint, int timeout_ms, UniqueFd* fd);
// Binds and listens. When the endpoint's port is 0, *bound_port is the
// kernel's choice.
Status ListenTcp(const Endpoint& endpoint, int backlog, UniqueFd* fd, uint16_t* bound_port);

// Bounds how long a blocking send()/recv() may take on `fd`.
Status SetSocketTimeouts(int fd, double send_timeout_s, double recv_timeout_s);

// Reads exactly buf.size() bytes. A peer that closes first gives kUnavailable
// with "closed the connection" in the message; `deadline_ns` (0: none) gives
// kTimedOut. A clean close before the first byte sets *eof when eof != null.
Status ReadFull(int fd, std::span<std::byte> buf, uint64_t deadline_ns, bool* eof = nullptr);
// Writes every byte of every iovec, never raising SIGPIPE. Modifies `iov`.
Status WriteFullV(int fd, iovec* iov, int iovcnt);
Status WriteFull(int fd, std::span<const std::byte> buf);

// "127.0.0.1:54321" for the peer of a connected socket.
std::string PeerName(int fd);

}  // namespace prescient
