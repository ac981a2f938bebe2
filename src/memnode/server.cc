#include "memnode/server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/units.h"
#include "memnode/session.h"
#include "transport/protocol.h"

namespace prescient {
namespace {

// How often the accept loop wakes to join finished session threads.
constexpr int kReapIntervalMs = 1000;

Status WritePortFile(const std::string& path, uint16_t port) {
  // Written under another name and renamed, so a reader never sees a
  // partial file: it is either absent or holds the port and a newline.
  std::string tmp = fmt::format("{}.tmp.{}", path, getpid());
  FILE* f = std::fopen(tmp.c_str(), "w");
  if (f == nullptr) return Status::FromErrno(fmt::format("cannot write port file {}", tmp), errno);
  bool ok = std::fprintf(f, "%u\n", static_cast<unsigned>(port)) > 0;
  ok = std::fclose(f) == 0 && ok;
  if (!ok) {
    std::remove(tmp.c_str());
    return Status::IoError(fmt::format("cannot write port file {}", tmp));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    std::remove(tmp.c_str());
    return Status::FromErrno(fmt::format("cannot move port file into place at {}", path), err);
  }
  return Status::Ok();
}

}  // namespace

uint64_t DefaultMemnodeCapacity() {
  long pages = sysconf(_SC_PHYS_PAGES);
  long page_size = sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page_size <= 0) return uint64_t{1} << 30;
  return static_cast<uint64_t>(pages) * static_cast<uint64_t>(page_size) / 4 * 3;
}

MemnodeServer::MemnodeServer(const MemnodeOptions& options, Endpoint endpoint)
    : options_(options), endpoint_(std::move(endpoint)) {}

std::unique_ptr<MemnodeServer> MemnodeServer::Create(const MemnodeOptions& options, Status* status) {
  Endpoint endpoint;
  *status = ParseEndpoint(options.listen, &endpoint);
  if (!status->ok()) return nullptr;
  if (!IsLoopback(endpoint) && !options.allow_remote) {
    *status = Status::PermissionDenied(fmt::format(
        "refusing to listen on {}, which is not a loopback address: pages would be reachable from the network. "
        "Pass --allow-remote to do it anyway, with a token", options.listen));
    return nullptr;
  }
  if (options.allow_remote && options.token.empty()) {
    *status = Status::InvalidArgument(
        "--allow-remote needs a token: without one, anyone who reaches the port can read and overwrite every page and pool row. "
        "Give the node a secret with --token-file FILE or the PRESCIENT_TOKEN environment variable, and its clients the same");
    return nullptr;
  }
  if (options.max_connections < 1 || options.max_handshakes < 1 || options.max_connections > kMostSessions || options.max_handshakes > kMostSessions) {
    *status = Status::InvalidArgument(fmt::format("--max-connections ({}) and --max-handshakes ({}) must each be from 1 to {} (a thread each)",
                                                  options.max_connections, options.max_handshakes, kMostSessions));
    return nullptr;
  }
  if (options.token.size() > wire::kMaxTokenBytes) {
    *status = Status::InvalidArgument(fmt::format("the token is {} bytes; at most {} are allowed", options.token.size(), wire::kMaxTokenBytes));
    return nullptr;
  }
  std::unique_ptr<MemnodeServer> server(new MemnodeServer(options, endpoint));
  if (server->options_.capacity_bytes == 0) server->options_.capacity_bytes = DefaultMemnodeCapacity();
  if (server->options_.capacity_bytes < kPageSize) {
    *status = Status::InvalidArgument(fmt::format("capacity {} is less than one page", server->options_.capacity_bytes));
    return nullptr;
  }
  *status = ListenTcp(endpoint, 128, &server->listen_fd_, &server->port_);
  if (!status->ok()) return nullptr;
  server->wake_fd_.reset(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!server->wake_fd_.valid()) {
    *status = Status::FromErrno("eventfd", errno);
    return nullptr;
  }
  server->shared_ = std::make_unique<MemnodeShared>(server->options_.token, server->options_.capacity_bytes, server->options_.max_connections);
  if (!options.pool_path.empty()) {
    std::unique_ptr<PmemEmbeddingStore> store =
        options.pool_create.empty() ? PmemEmbeddingStore::Open(options.pool_path, options.pool, status)
                                    : PmemEmbeddingStore::OpenOrCreate(options.pool_path, options.pool_create, options.pool_seed, options.pool, status);
    if (store == nullptr) return nullptr;
    const PoolRecovery& rec = store->recovery();
    if (rec.rolled_back) spdlog::info("pool recovery: rolled back batch {} ({} rows) in {:.3f} s", rec.batch, rec.rows_restored, rec.seconds);
    if (rec.torn) spdlog::warn("pool recovery: batch {} was in flight without an undo log; restore the tables from a checkpoint", rec.batch);
    spdlog::info("serving {} ({} tables, next batch {})", store->describe(), store->tables().size(), store->next_batch());
    server->pool_ = std::make_unique<PoolService>(std::move(store));
    server->shared_->pool = server->pool_.get();
  }
  return server;
}

MemnodeServer::~MemnodeServer() { CloseAll(); }

void MemnodeServer::Stop() {
  uint64_t one = 1;
  ssize_t rc = write(wake_fd_.get(), &one, sizeof(one));
  (void)rc;
}

Status MemnodeServer::Serve(int stop_fd) {
  spdlog::info("memory node listening on {}:{} (capacity {}, token {}, at most {} clients and {} pending handshakes)", endpoint_.host, port_,
               FormatBytes(options_.capacity_bytes), options_.token.empty() ? "off" : "on", options_.max_connections, options_.max_handshakes);
  for (;;) {
    pollfd fds[3] = {{listen_fd_.get(), POLLIN, 0}, {wake_fd_.get(), POLLIN, 0}, {stop_fd, POLLIN, 0}};
    int n = poll(fds, stop_fd >= 0 ? 3 : 2, kReapIntervalMs);
    if (n < 0 && errno != EINTR) {
      Status st = Status::FromErrno("poll", errno);
      CloseAll();
      return st;
    }
    ReapFinished();
    if (n <= 0) continue;
    if (fds[1].revents || (stop_fd >= 0 && fds[2].revents)) break;
    if (fds[0].revents & POLLIN) Accept();
  }
  CloseAll();
  return Status::Ok();
}

void MemnodeServer::Accept() {
  UniqueFd fd(accept4(listen_fd_.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!fd.valid()) {
    // Running out of descriptors or a connection aborted before accept: the
    // server itself is fine.
    if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) spdlog::warn("accept failed: {}", std::strerror(errno));
    return;
  }
  // A reply's last partial segment must not wait for the client's delayed
  // ACK (Nagle): that stalled one fault in a hundred for 40 ms.
  int one = 1;
  if (setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0)
    spdlog::warn("setsockopt(TCP_NODELAY) on a new connection failed: {}", std::strerror(errno));
  std::string peer = PeerName(fd.get());
  ReapFinished();  // so only live sessions count against the limits
  // Clients are counted at HELLO; this bounds the threads of connections
  // refused or dropped that have not ended yet. A dropped one ends at once.
  const size_t most_threads = static_cast<size_t>(options_.max_connections + 2 * options_.max_handshakes);
  for (auto it = sessions_.begin(); it != sessions_.end() && sessions_.size() >= most_threads;) {
    if (it->stage.load(std::memory_order_acquire) != kDropped) {
      ++it;
      continue;
    }
    it->thread.join();
    it = sessions_.erase(it);
  }
  if (sessions_.size() >= most_threads) {
    Reject(std::move(fd), peer);
    return;
  }
  DropOldestHandshakeIfFull();
  SessionThread& entry = sessions_.emplace_back();
  entry.fd = std::move(fd);
  int raw_fd = entry.fd.get();
  std::atomic<bool>* finished = &entry.finished;
  std::atomic<int>* stage = &entry.stage;
  MemnodeShared* shared = shared_.get();
  entry.thread = std::thread([shared, raw_fd, peer, finished, stage] {
    {
      Session session(shared, raw_fd, peer, stage);
      session.Run();
    }
    // The peer sees the end now; the descriptor itself stays open until the
    // thread is joined, so its number cannot be reused under CloseAll().
    shutdown(raw_fd, SHUT_RDWR);
    finished->store(true, std::memory_order_release);
  });
}

void MemnodeServer::DropOldestHandshakeIfFull() {
  SessionThread* oldest = nullptr;
  int pending = 0;
  for (SessionThread& s : sessions_) {
    if (s.finished.load(std::memory_order_acquire) || s.stage.load(std::memory_order_acquire) != kHandshake) continue;
    if (oldest == nullptr) oldest = &s;
    ++pending;
  }
  if (pending < options_.max_handshakes) return;
  int handshake = kHandshake;
  // Lost only to a HELLO that made it a client just now: room enough.
  if (!oldest->stage.compare_exchange_strong(handshake, kDropped, std::memory_order_acq_rel)) return;
  // Wakes the session's read; it ends, and the descriptor closes at the reap.
  shutdown(oldest->fd.get(), SHUT_RDWR);
  if (handshakes_dropped_++ % 1000 == 0)
    spdlog::warn("{} connections that had not said HELLO dropped so far, to make room for newer ones (at most {} wait at once)",
                 handshakes_dropped_, options_.max_handshakes);
}

void MemnodeServer::Reject(UniqueFd fd, const std::string& peer) {
  spdlog::warn("refusing connection from {}: {} connections are open or closing", peer, sessions_.size());
  auto frame = wire::EncodeError(static_cast<uint16_t>(wire::Op::kHello), 0,
                                 NodeServesItsMostClients(options_.max_connections));
  send(fd.get(), frame.data(), frame.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  shutdown(fd.get(), SHUT_WR);
  // Swallow what the client already sent, so closing does not reset the
  // connection before it reads the answer.
  std::byte sink[4096];
  while (recv(fd.get(), sink, sizeof(sink), MSG_DONTWAIT) > 0) {
  }
}

void MemnodeServer::ReapFinished() {
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    if (it->finished.load(std::memory_order_acquire)) {
      it->thread.join();
      it = sessions_.erase(it);
    } else {
      ++it;
    }
  }
}

void MemnodeServer::CloseAll() {
  // Shutting a socket down wakes its session's blocked read or write.
  for (SessionThread& s : sessions_) shutdown(s.fd.get(), SHUT_RDWR);
  for (SessionThread& s : sessions_) {
    if (s.thread.joinable()) s.thread.join();
  }
  sessions_.clear();
}

Status RunMemnodeServer(const MemnodeOptions& options) {
  // Signals are taken synchronously through a signalfd. They are blocked
  // before any thread starts, so every session thread inherits the mask and
  // SIGTERM can only end up in the accept loop.
  sigset_t stop_signals, old_mask;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, &old_mask);
  signal(SIGPIPE, SIG_IGN);
  UniqueFd signal_fd(signalfd(-1, &stop_signals, SFD_CLOEXEC | SFD_NONBLOCK));
  Status st;
  if (!signal_fd.valid()) st = Status::FromErrno("signalfd", errno);

  std::unique_ptr<MemnodeServer> server;
  if (st.ok()) server = MemnodeServer::Create(options, &st);
  if (st.ok() && !options.port_file.empty()) st = WritePortFile(options.port_file, server->port());
  if (st.ok()) {
    st = server->Serve(signal_fd.get());
    signalfd_siginfo info{};
    if (read(signal_fd.get(), &info, sizeof(info)) == sizeof(info))
      spdlog::info("received {}; memory node stopped", strsignal(static_cast<int>(info.ssi_signo)));
  }
  server.reset();
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  return st;
}

}  // namespace prescient
