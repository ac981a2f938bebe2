// TCP client of one memory node.
//
// Requests are pipelined: a submitting thread builds the frames of a batch
// (split into requests of at most 1024 pages) and sends them with one
// writev under the connection's send mutex, then returns a ticket at once.
// One receiver thread per connection reads responses, copies READ payloads
// straight into the caller's pages, and completes tickets.
//
// Failure is the normal case to design for: when the node closes or resets the
// connection, sends something malformed, or leaves a request unanswered for
// request_timeout_s (the receiver checks every 100 ms, so silence is seen
// too), the backend fails as a whole. All receivers stop, every pending
// ticket completes with an error naming the node, and later submissions are
// refused with the same error. Pages are never made up.
#include <poll.h>
#include <sys/random.h>
#include <sys/socket.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <chrono>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/clock.h"
#include "prescient/backend.h"
#include "runtime/thread_role.h"
#include "transport/protocol.h"
#include "transport/socket_util.h"
#include "transport/ticket_slots.h"

namespace prescient {
namespace {

constexpr int kPollTickMs = 100;
constexpr uint64_t kSpinBeforeBlockNs = 30'000;
constexpr size_t kReceiveBufferBytes = 64 * 1024;

uint64_t RandomNamespaceId() {
  uint64_t id = 0;
  if (getrandom(&id, sizeof(id), 0) != sizeof(id)) id = NowNanos() ^ (static_cast<uint64_t>(getpid()) << 32);
  return id;
}

struct Connection {
  UniqueFd fd;
  std::thread receiver;
  std::mutex send_mu;
  std::vector<std::byte> frame_buf;  // headers and page lists of one batch; guarded by send_mu
  std::vector<iovec> iov;            // guarded by send_mu
  std::atomic<int64_t> outstanding{0};       // requests sent and not yet answered
  std::atomic<uint64_t> last_progress_ns{0};  // last time bytes arrived, or the queue became non-empty
};

class TcpBackend final : public Backend {
 public:
  TcpBackend(Endpoint endpoint, const TcpOptions& options)
      : endpoint_(std::move(endpoint)), name_("memory node " + endpoint_.ToString()), options_(options),
        timeout_ns_(static_cast<uint64_t>(std::max(options.request_timeout_s, 0.001) * 1e9)), namespace_id_(RandomNamespaceId()) {}

  ~TcpBackend() override {
    Fail(Status::Unavailable(fmt::format("{}: the backend was closed while this request was outstanding", name_)), /*log=*/false);
    for (auto& conn : conns_) {
      if (conn->receiver.joinable()) conn->receiver.join();
    }
  }

  Status Connect() {
    int n = std::max(options_.connections, 1);
    for (int i = 0; i < n; ++i) {
      auto conn = std::make_unique<Connection>();
      int timeout_ms = static_cast<int>(std::min(options_.request_timeout_s, 30.0) * 1000) + 1;
      // A node drops the oldest connections still to say HELLO when more
      // arrive (D112): a flood of strangers can close ours, so try again.
      for (int attempt = 0;; ++attempt) {
        PRESCIENT_RETURN_IF_ERROR(ConnectTcp(endpoint_, timeout_ms, &conn->fd));
        Status st = Hello(conn->fd.get());
        if (st.ok()) break;
        if (attempt == kHandshakeAttempts - 1 || !DroppedDuringHandshake(st)) return st;
        std::this_thread::sleep_for(std::chrono::milliseconds(20 << attempt));
      }
      // A node that stops reading must not block a sender forever.
      PRESCIENT_RETURN_IF_ERROR(SetSocketTimeouts(conn->fd.get(), options_.request_timeout_s, 0));
      conns_.push_back(std::move(conn));
    }
    live_receivers_.store(n);
    for (auto& conn : conns_) {
      Connection* c = conn.get();
      c->receiver = std::thread([this, c] { ReceiverMain(c); });
    }
    return Status::Ok();
  }

  IoTicket read_pages(std::span<const PageIo> pages, Status* status) override { return Submit(pages, wire::Op::kRead, status); }
  IoTicket write_pages(std::span<const PageIo> pages, Status* status) override { return Submit(pages, wire::Op::kWrite, status); }

  Status discard_pages(uint64_t first_page, uint64_t count) override {
    if (first_page >= wire::kMaxPageNo || count == 0) return Status::Ok();
    count = std::min(count, wire::kMaxPageNo - first_page);
    if (failed_.load(std::memory_order_acquire)) return FailureStatus();
    // Built on the stack: discards come from free(), where allocating is unwelcome.
    std::byte frame[wire::kHeaderSize + 16];
    auto encode = [&](uint64_t request_id) {
      wire::EncodeHeader({static_cast<uint16_t>(wire::Op::kDiscard), 0, 16, request_id}, frame);
      wire::StoreU64(frame + wire::kHeaderSize, first_page);
      wire::StoreU64(frame + wire::kHeaderSize + 8, count);
    };
    if (conns_.size() == 1) {
      // One connection keeps order, so a later write of these pages lands
      // after the discard; no need to wait for the answer.
      encode(TicketSlots::kControlRequestId);
      SendControl(conns_[0].get(), frame);
      return Status::Ok();
    }
    // Several connections do not order against each other: wait, so that a
    // write on another connection cannot overtake the discard.
    Status st;
    IoTicket ticket = slots_.Acquire(/*pages=*/{}, /*is_read=*/false, /*requests=*/1, &st);
    if (ticket == 0) return st;
    encode(TicketSlots::RequestId(ticket, 0));
    SendControl(PickConnection(), frame);
    return wait(ticket);
  }

  Status wait(IoTicket ticket) override {
    TicketSlots::Slot* slot = slots_.Find(ticket);
    if (slot == nullptr) return Status::InvalidArgument(fmt::format("wait() on unknown or already waited ticket {:#x}", ticket));
    if (slot->state.load(std::memory_order_acquire) != TicketSlots::kDone) {
      uint64_t spin_until = NowNanos() + kSpinBeforeBlockNs;
      for (int i = 0; slot->state.load(std::memory_order_acquire) != TicketSlots::kDone; ++i) {
        if ((i & 63) == 63 && NowNanos() > spin_until) {
          slot->state.wait(TicketSlots::kPending, std::memory_order_acquire);
        } else {
          CpuRelax();
        }
      }
    }
    Status result = std::move(slot->status);
    slots_.Release(ticket);
    return result;
  }

  std::string describe() const override { return name_; }

  BackendStats stats() const override {
    BackendStats s;
    s.read_requests = read_requests_.load(std::memory_order_relaxed);
    s.write_requests = write_requests_.load(std::memory_order_relaxed);
    s.pages_read = pages_read_.load(std::memory_order_relaxed);
    s.pages_written = pages_written_.load(std::memory_order_relaxed);
    s.bytes_sent = bytes_sent_.load(std::memory_order_relaxed);
    s.bytes_received = bytes_received_.load(std::memory_order_relaxed);
    return s;
  }

 private:
  // Synchronous HELLO before the receiver starts; its answer says whether we
  // are welcome (right token, compatible version).
  Status Hello(int fd) {
    auto frame = wire::EncodeHello(0, {wire::kVersion, namespace_id_, options_.token});
    Status st = WriteFull(fd, frame);
    if (!st.ok()) return Status::Unavailable(fmt::format("{} dropped the connection during the handshake: {}", name_, st.message()));
    uint64_t deadline = NowNanos() + timeout_ns_;
    std::byte header_bytes[wire::kHeaderSize];
    st = ReadFull(fd, header_bytes, deadline);
    if (!st.ok()) return HandshakeError(st);
    wire::FrameHeader header;
    st = wire::ParseHeader(header_bytes, &header);
    if (!st.ok()) return Status::Corruption(fmt::format("{} is not a prescient memory node (or speaks another version): {}", name_, st.message()));
    if (header.payload_len > wire::kMaxMessageBytes) return Status::Corruption(fmt::format("{} sent an oversized handshake answer", name_));
    std::vector<std::byte> payload(header.payload_len);
    st = ReadFull(fd, payload, deadline);
    if (!st.ok()) return HandshakeError(st);
    if (header.status != 0) {
      std::string msg(reinterpret_cast<const char*>(payload.data()), payload.size());
      return wire::FromWireStatus(header.status, fmt::format("{} refused the connection: {}", name_, msg));
    }
    wire::HelloResponse hello;
    st = wire::ParseHelloResponse(payload, &hello);
    if (!st.ok()) return Status::Corruption(fmt::format("{} sent a malformed handshake answer: {}", name_, st.message()));
    if (hello.max_pages_per_request == 0) return Status::Corruption(fmt::format("{} accepts 0 pages per request", name_));
    pages_per_request_ = std::min(pages_per_request_, hello.max_pages_per_request);
    return Status::Ok();
  }

  static constexpr int kHandshakeAttempts = 6;  // 0.6 s of waits in all
  static bool DroppedDuringHandshake(const Status& st) {
    return st.code() == Status::Code::kUnavailable && st.message().find("serving its maximum") == std::string::npos;
  }

  Status HandshakeError(const Status& st) {
    if (st.code() == Status::Code::kTimedOut) return Status::TimedOut(fmt::format("{} did not answer the handshake within {:.1f} s", name_, options_.request_timeout_s));
    return Status::Unavailable(fmt::format("{} closed the connection during the handshake: {}", name_, st.message()));
  }

  Connection* PickConnection() {
    if (conns_.size() == 1) return conns_[0].get();
    return conns_[next_conn_.fetch_add(1, std::memory_order_relaxed) % conns_.size()].get();
  }

  IoTicket Submit(std::span<const PageIo> pages, wire::Op op, Status* status) {
    const bool is_read = op == wire::Op::kRead;
    for (const PageIo& io : pages) {
      if (io.page_no >= wire::kMaxPageNo) {
        *status = Status::InvalidArgument(fmt::format("page {} is beyond the largest page number {} supports ({})", io.page_no, name_, wire::kMaxPageNo - 1));
        return 0;
      }
    }
    size_t requests = (pages.size() + pages_per_request_ - 1) / pages_per_request_;
    if (requests > TicketSlots::kMaxRequestsPerTicket) {
      *status = Status::InvalidArgument(fmt::format("a batch of {} pages is too large for one ticket", pages.size()));
      return 0;
    }
    if (failed_.load(std::memory_order_acquire)) {
      *status = FailureStatus();
      return 0;
    }
    Status st;
    IoTicket ticket = slots_.Acquire(pages, is_read, static_cast<uint32_t>(requests), &st);
    if (ticket == 0) {
      *status = st.code() == Status::Code::kResourceExhausted ? Status::ResourceExhausted(fmt::format("{}: {}", name_, st.message())) : st;
      return 0;
    }
    (is_read ? read_requests_ : write_requests_).fetch_add(1, std::memory_order_relaxed);
    (is_read ? pages_read_ : pages_written_).fetch_add(pages.size(), std::memory_order_relaxed);
    if (requests == 0) return ticket;

    Connection* conn = PickConnection();
    std::lock_guard lock(conn->send_mu);
    // Lay out every request's header and page list first, so the buffer no
    // longer moves when the iovecs point into it.
    size_t list_bytes = wire::kHeaderSize + 8;
    conn->frame_buf.resize(requests * list_bytes + pages.size() * 8);
    conn->iov.clear();
    std::byte* out = conn->frame_buf.data();
    size_t sent_bytes = 0;
    for (size_t r = 0; r < requests; ++r) {
      auto part = pages.subspan(r * pages_per_request_, std::min<size_t>(pages_per_request_, pages.size() - r * pages_per_request_));
      size_t payload = 8 + part.size() * 8 + (is_read ? 0 : part.size() * kPageSize);
      wire::EncodeHeader({static_cast<uint16_t>(op), 0, static_cast<uint32_t>(payload), TicketSlots::RequestId(ticket, static_cast<uint32_t>(r))}, out);
      wire::StoreU32(out + wire::kHeaderSize, static_cast<uint32_t>(part.size()));
      wire::StoreU32(out + wire::kHeaderSize + 4, 0);
      std::byte* list = out + list_bytes;
      for (size_t i = 0; i < part.size(); ++i) wire::StoreU64(list + i * 8, part[i].page_no);
      size_t head = list_bytes + part.size() * 8;
      conn->iov.push_back({out, head});
      out += head;
      sent_bytes += wire::kHeaderSize + payload;
      if (is_read) continue;
      bool last_is_data = false;
      for (const PageIo& io : part) {
        iovec& last = conn->iov.back();
        if (last_is_data && static_cast<std::byte*>(last.iov_base) + last.iov_len == io.data) {
          last.iov_len += kPageSize;  // adjacent pages go out as one iovec
        } else {
          conn->iov.push_back({io.data, kPageSize});
          last_is_data = true;
        }
      }
    }
    bytes_sent_.fetch_add(sent_bytes, std::memory_order_relaxed);
    SendBatch(conn, conn->iov.data(), static_cast<int>(conn->iov.size()), static_cast<int64_t>(requests));
    return ticket;
  }

  // Sends with conn->send_mu held. A send failure
  // fails the backend; the tickets involved complete with that error.
  void SendBatch(Connection* conn, iovec* iov, int iovcnt, int64_t requests) {
    if (conn->outstanding.fetch_add(requests, std::memory_order_acq_rel) == 0)
      conn->last_progress_ns.store(NowNanos(), std::memory_order_relaxed);
    Status st = WriteFullV(conn->fd.get(), iov, iovcnt);
    if (st.ok()) return;
    if (st.code() == Status::Code::kTimedOut)
      Fail(Status::TimedOut(fmt::format("{} did not accept data within {:.1f} s (is it overloaded or stopped?)", name_, options_.request_timeout_s)));
    else
      Fail(Status::Unavailable(fmt::format("{} closed the connection (did it crash?): {}", name_, st.message())));
  }

  void SendControl(Connection* conn, std::span<std::byte> frame) {
    std::lock_guard lock(conn->send_mu);
    iovec iov{frame.data(), frame.size()};
    bytes_sent_.fetch_add(frame.size(), std::memory_order_relaxed);
    SendBatch(conn, &iov, 1, 1);
  }

  // ---- failure ----

  void Fail(const Status& status, bool log = true) {
    {
      std::lock_guard lock(failure_mu_);
      if (failed_.load(std::memory_order_relaxed)) return;
      failure_ = status;
      failed_.store(true, std::memory_order_release);
    }
    if (log) spdlog::error("{}", status.message());
    // Wakes receivers blocked in poll() and senders blocked in send().
    for (auto& conn : conns_) shutdown(conn->fd.get(), SHUT_RDWR);
  }

  Status FailureStatus() {
    std::lock_guard lock(failure_mu_);
    return failure_;
  }

  // ---- receiving ----

  void ReceiverMain(Connection* conn) {
    MarkRuntimeThread();
    Receiver receiver{this, conn, std::vector<std::byte>(kReceiveBufferBytes)};
    Status st = receiver.Run();
    if (!st.ok()) Fail(st);
    // The last receiver out completes whatever is still pending: no one else
    // can touch those tickets' buffers any more.
    if (live_receivers_.fetch_sub(1, std::memory_order_acq_rel) == 1) slots_.FailAll(FailureStatus());
  }

  struct Receiver {
    TcpBackend* backend;
    Connection* conn;
    std::vector<std::byte> buf;
    size_t begin = 0, end = 0;

    Status Run();
    Status ReadBytes(std::byte* dst, size_t len);
    Status Fill(std::byte* dst, size_t len);
    Status HandleResponse(const wire::FrameHeader& h);
    Status Malformed(std::string_view what) const {
      return Status::Corruption(fmt::format("{} sent a malformed response ({}); dropping the connection", backend->name_, what));
    }
  };

  const Endpoint endpoint_;
  const std::string name_;
  const TcpOptions options_;
  const uint64_t timeout_ns_;
  const uint64_t namespace_id_;
  uint32_t pages_per_request_ = wire::kMaxPagesPerRequest;
  std::vector<std::unique_ptr<Connection>> conns_;
  std::atomic<uint32_t> next_conn_{0};
  TicketSlots slots_;

  std::mutex failure_mu_;
  Status failure_;  // guarded by failure_mu_
  std::atomic<bool> failed_{false};
  std::atomic<int> live_receivers_{0};

  std::atomic<uint64_t> read_requests_{0}, write_requests_{0}, pages_read_{0}, pages_written_{0};
  std::atomic<uint64_t> bytes_sent_{0}, bytes_received_{0};
};

Status TcpBackend::Receiver::Run() {
  for (;;) {
    std::byte header_bytes[wire::kHeaderSize];
    PRESCIENT_RETURN_IF_ERROR(ReadBytes(header_bytes, sizeof(header_bytes)));
    wire::FrameHeader header;
    Status st = wire::ParseHeader(header_bytes, &header);
    if (!st.ok()) return Malformed(st.message());
    PRESCIENT_RETURN_IF_ERROR(HandleResponse(header));
    backend->bytes_received_.fetch_add(wire::kHeaderSize + header.payload_len, std::memory_order_relaxed);
    conn->outstanding.fetch_sub(1, std::memory_order_acq_rel);
    conn->last_progress_ns.store(NowNanos(), std::memory_order_relaxed);
  }
}

Status TcpBackend::Receiver::HandleResponse(const wire::FrameHeader& h) {
  std::string message;
  if (h.status != 0) {
    if (h.payload_len > wire::kMaxMessageBytes) return Malformed(fmt::format("{}-byte error message", h.payload_len));
    message.resize(h.payload_len);
    PRESCIENT_RETURN_IF_ERROR(ReadBytes(reinterpret_cast<std::byte*>(message.data()), message.size()));
  }
  if (h.request_id == TicketSlots::kControlRequestId) {
    if (h.status == 0 && h.payload_len != 0) return Malformed("payload on a control answer");
    if (h.status != 0) spdlog::warn("{} rejected {}: {}", backend->name_, wire::OpName(h.op), message);
    return Status::Ok();
  }
  TicketSlots::Slot* slot = nullptr;
  uint32_t request = 0;
  if (!backend->slots_.FindPending(h.request_id, &slot, &request)) return Malformed(fmt::format("unknown request id {:#x}", h.request_id));
  if (h.status != 0) {
    backend->slots_.CompleteRequest(slot, wire::FromWireStatus(h.status, fmt::format("{}: {}", backend->name_, message)));
    return Status::Ok();
  }
  if (!slot->is_read) {
    if (h.payload_len != 0) return Malformed("payload on a WRITE answer");
    backend->slots_.CompleteRequest(slot, Status::Ok());
    return Status::Ok();
  }
  uint32_t per_request = backend->pages_per_request_;
  size_t first = size_t{request} * per_request;
  size_t count = std::min<size_t>(per_request, slot->dests.size() - first);
  if (h.payload_len != count * kPageSize) return Malformed(fmt::format("READ answer of {} bytes for {} pages", h.payload_len, count));
  for (size_t i = 0; i < count; ++i) PRESCIENT_RETURN_IF_ERROR(ReadBytes(slot->dests[first + i], kPageSize));
  backend->slots_.CompleteRequest(slot, Status::Ok());
  return Status::Ok();
}

Status TcpBackend::Receiver::ReadBytes(std::byte* dst, size_t len) {
  size_t buffered = std::min(len, end - begin);
  std::memcpy(dst, buf.data() + begin, buffered);
  begin += buffered;
  if (buffered == len) return Status::Ok();
  return Fill(dst + buffered, len - buffered);
}

// Reads `len` bytes into dst, reading ahead into the buffer in the same
// system call. Between polls it checks for failure and for an unanswered
// request older than the time-out, so a silent node is caught too.
Status TcpBackend::Receiver::Fill(std::byte* dst, size_t len) {
  const std::string& name = backend->name_;
  while (len > 0) {
    if (backend->failed_.load(std::memory_order_acquire)) return backend->FailureStatus();
    pollfd pfd{conn->fd.get(), POLLIN, 0};
    int n = poll(&pfd, 1, kPollTickMs);
    if (n < 0 && errno != EINTR) return Status::FromErrno(fmt::format("{}: poll", name), errno);
    if (n <= 0) {
      if (conn->outstanding.load(std::memory_order_acquire) > 0 &&
          NowNanos() - conn->last_progress_ns.load(std::memory_order_relaxed) > backend->timeout_ns_)
        return Status::TimedOut(fmt::format("{} did not answer within {:.1f} s", name, backend->options_.request_timeout_s));
      continue;
    }
    iovec iov[2] = {{dst, len}, {buf.data(), buf.size()}};
    ssize_t got = readv(conn->fd.get(), iov, 2);
    if (got == 0) {
      if (backend->failed_.load(std::memory_order_acquire)) return backend->FailureStatus();
      return Status::Unavailable(fmt::format("{} closed the connection (did it crash?)", name));
    }
    if (got < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      if (backend->failed_.load(std::memory_order_acquire)) return backend->FailureStatus();
      if (errno == ECONNRESET) return Status::Unavailable(fmt::format("{} reset the connection (did it crash?)", name));
      return Status::FromErrno(fmt::format("{}: receive failed", name), errno);
    }
    conn->last_progress_ns.store(NowNanos(), std::memory_order_relaxed);
    auto bytes = static_cast<size_t>(got);
    if (bytes >= len) {
      begin = 0;
      end = bytes - len;
      return Status::Ok();
    }
    dst += bytes;
    len -= bytes;
  }
  return Status::Ok();
}

}  // namespace

std::unique_ptr<Backend> ConnectMemnode(const std::string& endpoint_text, const TcpOptions& options, Status* status) {
  Endpoint endpoint;
  Status st = ParseEndpoint(endpoint_text, &endpoint);
  if (!st.ok()) {
    *status = st;
    return nullptr;
  }
  auto backend = std::make_unique<TcpBackend>(endpoint, options);
  st = backend->Connect();
  if (!st.ok()) {
    *status = st;
    return nullptr;
  }
  return backend;
}

}  // namespace prescient
