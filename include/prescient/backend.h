// Backend: where far memory lives. The runtime moves 4 KiB pages to and from
// a Backend in batches. Submission never blocks on the transfer itself;
// completion is collected with wait(). This lets the fault thread run the
// prefetcher while a demand read is in flight.
//
// Pages are named by their index in the owning region (page_no), not by an
// address, so the same backend contents are valid wherever the region is
// mapped. A page that was never written is not in the backend: reading it is
// an error (the runtime zero-fills such pages itself and never asks).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "prescient/status.h"

namespace prescient {

inline constexpr size_t kPageSize = 4096;
inline constexpr int kPageShift = 12;

// One page of a batched transfer. For reads, `data` is where the page lands;
// for writes, where it is taken from. It must stay valid until wait() returns.
struct PageIo {
  uint64_t page_no;
  std::byte* data;
};

// Identifies a submitted batch. 0 is never a valid ticket.
using IoTicket = uint64_t;

struct BackendStats {
  uint64_t read_requests = 0;
  uint64_t write_requests = 0;
  uint64_t pages_read = 0;
  uint64_t pages_written = 0;
  uint64_t bytes_sent = 0;
  uint64_t bytes_received = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;

  // Starts reading every page of `pages`. Returns a ticket, or sets `*status`
  // and returns 0 when the request could not be submitted.
  virtual IoTicket read_pages(std::span<const PageIo> pages, Status* status) = 0;
  // Starts writing every page of `pages`; same contract as read_pages().
  virtual IoTicket write_pages(std::span<const PageIo> pages, Status* status) = 0;
  // Tells the backend these pages' contents are no longer needed (freed).
  // Best-effort and asynchronous; reading them afterwards is an error.
  virtual Status discard_pages(uint64_t first_page, uint64_t count) = 0;
  // Blocks until the batch completes. Returns its outcome; a failed read
  // leaves its destination buffers unspecified. Each ticket is waited once.
  virtual Status wait(IoTicket ticket) = 0;

  // Human-readable identity for error messages, e.g. "memnode 127.0.0.1:7000".
  virtual std::string describe() const = 0;
  virtual BackendStats stats() const = 0;
};

// Modelled link of the embedded store: each request costs `latency_us` per
// page-sized unit of its first page plus size ÷ bandwidth, with transfers
// serialized on one link (as on a real NIC) and latencies overlapping.
struct LinkModel {
  double read_latency_us = 3.0;   // per 4 KiB read request
  double write_latency_us = 3.0;
  double bandwidth_gbps = 100.0;  // gigabits per second; <= 0 means unlimited
  bool zero() const { return read_latency_us <= 0 && write_latency_us <= 0 && bandwidth_gbps <= 0; }
};

// The embedded in-process store (the default backend).
std::unique_ptr<Backend> MakeInProcessStore(const LinkModel& link);

// A TCP client of one memory node. `endpoint` is "host:port". Connects and
// authenticates before returning; on failure returns nullptr and sets *status.
struct TcpOptions {
  std::string token;              // shared secret; empty when the node has none
  double request_timeout_s = 3.0; // a request unanswered this long fails the backend
  int connections = 1;
};
std::unique_ptr<Backend> ConnectMemnode(const std::string& endpoint, const TcpOptions& options, Status* status);

// Spreads one region's pages over several backends in stripes of
// `stripe_pages` consecutive pages.
std::unique_ptr<Backend> MakeSharded(std::vector<std::unique_ptr<Backend>> shards, uint64_t stripe_pages = 16);

// Builds the backend a run asks for: the embedded store when `memnodes` is
// empty, else one TCP client per comma-separated endpoint, sharded.
std::unique_ptr<Backend> MakeBackend(const std::string& memnodes, const TcpOptions& tcp, const LinkModel& link, Status* status);

}  // namespace prescient
