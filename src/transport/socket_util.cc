#include "transport/socket_util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstring>

#include <fmt/format.h>

#include "common/clock.h"

namespace prescient {

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

Status ParseEndpoint(const std::string& text, Endpoint* endpoint) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
    return Status::InvalidArgument(fmt::format("'{}' is not an endpoint; expected HOST:PORT, e.g. 127.0.0.1:7000", text));
  std::string host = text.substr(0, colon);
  std::string port_text = text.substr(colon + 1);
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535)
    return Status::InvalidArgument(fmt::format("'{}' has an invalid port '{}'; expected 0-65535", text, port_text));

  Endpoint e;
  e.host = host;
  e.port = static_cast<uint16_t>(port);
  e.addr.sin_family = AF_INET;
  e.addr.sin_port = htons(e.port);
  if (inet_pton(AF_INET, host.c_str(), &e.addr.sin_addr) != 1) {
    addrinfo hints{};
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* result = nullptr;
    int rc = getaddrinfo(host.c_str(), nullptr, &hints, &result);
    if (rc != 0 || result == nullptr)
      return Status::InvalidArgument(fmt::format("cannot resolve host '{}' of endpoint '{}': {}", host, text, gai_strerror(rc)));
    e.addr.sin_addr = reinterpret_cast<const sockaddr_in*>(result->ai_addr)->sin_addr;
    freeaddrinfo(result);
  }
  *endpoint = e;
  return Status::Ok();
}

bool IsLoopback(const Endpoint& endpoint) { return (ntohl(endpoint.addr.sin_addr.s_addr) >> 24) == 127; }

static Status SetNoDelay(int fd) {
  int one = 1;
  if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0) return Status::FromErrno("setsockopt(TCP_NODELAY)", errno);
  return Status::Ok();
}

Status ConnectTcp(const Endpoint& endpoint, int timeout_ms, UniqueFd* out) {
  std::string name = endpoint.ToString();
  UniqueFd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) return Status::FromErrno(fmt::format("cannot create a socket for {}", name), errno);
  int rc = connect(fd.get(), reinterpret_cast<const sockaddr*>(&endpoint.addr), sizeof(endpoint.addr));
  if (rc != 0 && errno != EINPROGRESS) {
    return Status::FromErrno(fmt::format("cannot connect to memory node {} (is `prescient memnode` running there?)", name), errno);
  }
  if (rc != 0) {
    pollfd pfd{fd.get(), POLLOUT, 0};
    int n;
    do n = poll(&pfd, 1, timeout_ms); while (n < 0 && errno == EINTR);
    if (n == 0)
      return Status::TimedOut(fmt::format("cannot connect to memory node {}: no answer within {:.1f} s (host down or port filtered?)", name, timeout_ms / 1000.0));
    if (n < 0) return Status::FromErrno(fmt::format("cannot connect to memory node {}: poll", name), errno);
    int err = 0;
    socklen_t len = sizeof(err);
    getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0)
      return Status::FromErrno(fmt::format("cannot connect to memory node {} (is `prescient memnode` running there?)", name), err);
  }
  int flags = fcntl(fd.get(), F_GETFL);
  if (flags < 0 || fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK) != 0) return Status::FromErrno("fcntl(O_NONBLOCK)", errno);
  PRESCIENT_RETURN_IF_ERROR(SetNoDelay(fd.get()));
  *out = std::move(fd);
  return Status::Ok();
}

Status ListenTcp(const Endpoint& endpoint, int backlog, UniqueFd* out, uint16_t* bound_port) {
  std::string name = endpoint.ToString();
  UniqueFd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return Status::FromErrno("cannot create a socket", errno);
  int one = 1;
  setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(fd.get(), reinterpret_cast<const sockaddr*>(&endpoint.addr), sizeof(endpoint.addr)) != 0)
    return Status::FromErrno(fmt::format("cannot listen on {}", name), errno);
  if (listen(fd.get(), backlog) != 0) return Status::FromErrno(fmt::format("cannot listen on {}", name), errno);
  sockaddr_in bound{};
  socklen_t len = sizeof(bound);
  if (getsockname(fd.get(), reinterpret_cast<sockaddr*>(&bound), &len) != 0) return Status::FromErrno("getsockname", errno);
  *bound_port = ntohs(bound.sin_port);
  *out = std::move(fd);
  return Status::Ok();
}

static timeval ToTimeval(double seconds) {
  timeval tv{};
  if (seconds > 0) {
    tv.tv_sec = static_cast<time_t>(seconds);
    tv.tv_usec = static_cast<suseconds_t>((seconds - static_cast<double>(tv.tv_sec)) * 1e6);
    if (tv.tv_sec == 0 && tv.tv_usec == 0) tv.tv_usec = 1;
  }
  return tv;
}

Status SetSocketTimeouts(int fd, double send_timeout_s, double recv_timeout_s) {
  timeval snd = ToTimeval(send_timeout_s), rcv = ToTimeval(recv_timeout_s);
  if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &snd, sizeof(snd)) != 0) return Status::FromErrno("setsockopt(SO_SNDTIMEO)", errno);
  if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &rcv, sizeof(rcv)) != 0) return Status::FromErrno("setsockopt(SO_RCVTIMEO)", errno);
  return Status::Ok();
}

Status ReadFull(int fd, std::span<std::byte> buf, uint64_t deadline_ns, bool* eof) {
  if (eof) *eof = false;
  size_t done = 0;
  while (done < buf.size()) {
    if (deadline_ns != 0) {
      uint64_t now = NowNanos();
      if (now >= deadline_ns) return Status::TimedOut(fmt::format("peer sent {} of {} expected bytes in time", done, buf.size()));
      pollfd pfd{fd, POLLIN, 0};
      int timeout_ms = static_cast<int>(std::min<uint64_t>((deadline_ns - now) / 1000000 + 1, INT_MAX));
      int n = poll(&pfd, 1, timeout_ms);
      if (n < 0 && errno != EINTR) return Status::FromErrno("poll", errno);
      if (n <= 0) continue;
    }
    ssize_t n = recv(fd, buf.data() + done, buf.size() - done, 0);
    if (n > 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (n == 0) {
      if (done == 0 && eof) *eof = true;
      return Status::Unavailable(fmt::format("peer closed the connection after {} of {} expected bytes", done, buf.size()));
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return Status::TimedOut(fmt::format("peer sent {} of {} expected bytes in time", done, buf.size()));
    return Status::FromErrno("recv", errno);
  }
  return Status::Ok();
}

Status WriteFullV(int fd, iovec* iov, int iovcnt) {
  while (iovcnt > 0) {
    if (iov->iov_len == 0) {
      ++iov;
      --iovcnt;
      continue;
    }
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = static_cast<size_t>(std::min(iovcnt, IOV_MAX));
    ssize_t n = sendmsg(fd, &msg, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return Status::TimedOut("peer stopped reading (send timed out)");
      return Status::FromErrno("send", errno);
    }
    auto left = static_cast<size_t>(n);
    while (iovcnt > 0 && left >= iov->iov_len) {
      left -= iov->iov_len;
      ++iov;
      --iovcnt;
    }
    if (left > 0) {
      iov->iov_base = static_cast<char*>(iov->iov_base) + left;
      iov->iov_len -= left;
    }
  }
  return Status::Ok();
}

Status WriteFull(int fd, std::span<const std::byte> buf) {
  iovec iov{const_cast<std::byte*>(buf.data()), buf.size()};
  return WriteFullV(fd, &iov, 1);
}

std::string PeerName(int fd) {
  sockaddr_in addr{};
  socklen_t len = sizeof(addr);
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return "unknown peer";
  char ip[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &addr.sin_addr, ip, sizeof(ip));
  return fmt::format("{}:{}", ip, ntohs(addr.sin_port));
}

}  // namespace prescient
