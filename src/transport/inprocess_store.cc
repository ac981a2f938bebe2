// The embedded store: far memory emulated inside the process, with a modelled
// link so runs without a memory node still pay for remote transfers.
//
// Data moves at submission (a memcpy into or out of the PageTable); what the
// ticket carries is only when the modelled transfer would have completed, and
// wait() spins until then. An OK ticket therefore encodes its whole state in
// its value (deadline + 1) and needs no bookkeeping; only failed requests keep
// a Status aside, in a map that the fast path never touches.
//
// The link is modelled as full duplex, like a real NIC: reads and writes each
// have their own serialized direction. Within a direction, a batch of n pages
// occupies the link for n * 4 KiB / bandwidth after whatever is queued before
// it, and completes one latency after its last byte; latencies overlap.
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <unordered_map>

#include <fmt/format.h>

#include "common/clock.h"
#include "prescient/backend.h"
#include "transport/annotate.h"
#include "transport/page_table.h"

namespace prescient {
namespace {

constexpr IoTicket kErrorTicketBit = IoTicket{1} << 63;
// Spinning keeps modelled microsecond latencies honest; beyond this, sleep
// first so a long queue does not burn a core of a small VM.
constexpr uint64_t kSpinHorizonNs = 200'000;

class LinkDirection {
 public:
  LinkDirection(double latency_us, double bandwidth_gbps)
      : latency_ns_(latency_us > 0 ? static_cast<uint64_t>(latency_us * 1000.0) : 0),
        // bits / (Gbit/s) = ns; kept in picoseconds so 100 Gb/s stays exact.
        ps_per_page_(bandwidth_gbps > 0 ? static_cast<uint64_t>(kPageSize * 8 * 1000.0 / bandwidth_gbps) : 0),
        modelled_(latency_ns_ > 0 || ps_per_page_ > 0) {}

  bool modelled() const { return modelled_; }

  // Reserves the link for a transfer of `pages` and returns its completion time.
  uint64_t Reserve(size_t pages) {
    uint64_t now = NowNanos();
    if (ps_per_page_ == 0) return now + latency_ns_;
    uint64_t transfer_ns = pages * ps_per_page_ / 1000;
    uint64_t free_at = link_free_ns_.load(std::memory_order_relaxed);
    uint64_t done;
    do {
      done = std::max(now, free_at) + transfer_ns;
    } while (!link_free_ns_.compare_exchange_weak(free_at, done, std::memory_order_relaxed));
    return done + latency_ns_;
  }

 private:
  const uint64_t latency_ns_;
  const uint64_t ps_per_page_;
  const bool modelled_;
  alignas(64) std::atomic<uint64_t> link_free_ns_{0};
};

struct alignas(64) DirectionCounters {
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> pages{0};
};

class InProcessStore final : public Backend {
 public:
  explicit InProcessStore(const LinkModel& link)
      : read_link_(link.read_latency_us, link.bandwidth_gbps), write_link_(link.write_latency_us, link.bandwidth_gbps) {}

  IoTicket read_pages(std::span<const PageIo> pages, Status* status) override {
    reads_.requests.fetch_add(1, std::memory_order_relaxed);
    reads_.pages.fetch_add(pages.size(), std::memory_order_relaxed);
    for (const PageIo& io : pages) {
      if (!table_.Read(io.page_no, io.data))
        return ErrorTicket(Status::NotFound(fmt::format("page {} is not in the embedded store (never written, or discarded)", io.page_no)));
    }
    return OkTicket(read_link_, pages.size());
  }

  IoTicket write_pages(std::span<const PageIo> pages, Status* status) override {
    writes_.requests.fetch_add(1, std::memory_order_relaxed);
    writes_.pages.fetch_add(pages.size(), std::memory_order_relaxed);
    for (const PageIo& io : pages) {
      bool inserted;
      Status st = table_.Write(io.page_no, io.data, &inserted);
      if (!st.ok()) return ErrorTicket(Annotate(st, fmt::format("embedded store cannot hold page {}", io.page_no)));
    }
    return OkTicket(write_link_, pages.size());
  }

  Status discard_pages(uint64_t first_page, uint64_t count) override {
    table_.Discard(first_page, count);
    return Status::Ok();
  }

  Status wait(IoTicket ticket) override {
    if (ticket == 0) return Status::InvalidArgument("wait() on ticket 0, which no request returns");
    if (ticket & kErrorTicketBit) {
      std::lock_guard lock(errors_mu_);
      auto it = errors_.find(ticket);
      if (it == errors_.end()) return Status::InvalidArgument(fmt::format("wait() on unknown or already waited ticket {:#x}", ticket));
      Status st = std::move(it->second);
      errors_.erase(it);
      return st;
    }
    if (ticket > 1) WaitUntil(ticket - 1);
    return Status::Ok();
  }

  std::string describe() const override { return "embedded store"; }

  BackendStats stats() const override {
    BackendStats s;
    s.read_requests = reads_.requests.load(std::memory_order_relaxed);
    s.pages_read = reads_.pages.load(std::memory_order_relaxed);
    s.write_requests = writes_.requests.load(std::memory_order_relaxed);
    s.pages_written = writes_.pages.load(std::memory_order_relaxed);
    s.bytes_received = s.pages_read * kPageSize;
    s.bytes_sent = s.pages_written * kPageSize;
    return s;
  }

 private:
  // With an unmodelled link there is no clock read at all: this is the floor
  // that benchmarks compare against raw userfaultfd.
  static IoTicket OkTicket(LinkDirection& link, size_t pages) {
    if (!link.modelled()) return 1;
    return link.Reserve(pages) + 1;
  }

  IoTicket ErrorTicket(Status status) {
    std::lock_guard lock(errors_mu_);
    IoTicket ticket = kErrorTicketBit | ++errors_issued_;
    errors_.emplace(ticket, std::move(status));
    return ticket;
  }

  static void WaitUntil(uint64_t deadline_ns) {
    uint64_t now = NowNanos();
    if (deadline_ns > now + kSpinHorizonNs) std::this_thread::sleep_for(std::chrono::nanoseconds(deadline_ns - now - kSpinHorizonNs / 2));
    SpinUntil(deadline_ns);
  }

  PageTable table_;
  LinkDirection read_link_;
  LinkDirection write_link_;
  DirectionCounters reads_;
  DirectionCounters writes_;
  std::mutex errors_mu_;
  std::unordered_map<IoTicket, Status> errors_;
  uint64_t errors_issued_ = 0;
};

}  // namespace

std::unique_ptr<Backend> MakeInProcessStore(const LinkModel& link) { return std::make_unique<InProcessStore>(link); }

}  // namespace prescient
