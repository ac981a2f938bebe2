// TicketSlots: the TCP client's table of batches in flight.
//
// A fixed array of slots, allocated once, so submitting a batch allocates
// nothing on the hot path. A ticket names a slot and the slot's generation
// (bumped on every reuse), so a stale or repeated ticket is recognised. A
// batch larger than one wire request is split; each request's id also names
// its index within the batch, which tells the receiver where its pages go.
//
//   ticket     = generation << 32 | slot
//   request id = generation << 32 | request << 20 | slot
//
// Completion is lock-free: the receiver counts requests down and the last one
// publishes the slot as done and wakes a blocked waiter (a futex, through
// std::atomic::wait).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "prescient/backend.h"
#include "prescient/status.h"

namespace prescient {

class TicketSlots {
 public:
  static constexpr uint32_t kSlots = 8192;  // tickets outstanding at once
  static constexpr uint32_t kSlotBits = 20;
  static constexpr uint32_t kRequestBits = 12;
  static constexpr uint32_t kMaxRequestsPerTicket = uint32_t{1} << kRequestBits;
  // Id of requests no ticket waits for (fire-and-forget DISCARD).
  static constexpr uint64_t kControlRequestId = (uint64_t{1} << kSlotBits) - 1;

  enum State : uint32_t { kFree = 0, kPending = 1, kDone = 2 };

  struct Slot {
    std::atomic<uint32_t> state{kFree};
    std::atomic<uint32_t> generation{1};
    std::atomic<uint32_t> pending{0};  // requests not yet answered
    std::atomic<bool> has_error{false};
    bool is_read = false;
    uint32_t requests = 0;
    Status status;                  // the first error; read by the waiter once done
    std::vector<std::byte*> dests;  // where each page of a READ lands, in batch order
  };

  TicketSlots();

  // Registers a batch of `requests` wire requests (0: complete at once).
  // Returns 0 and sets *status when the table is full or has been closed.
  IoTicket Acquire(std::span<const PageIo> pages, bool is_read, uint32_t requests, Status* status);
  static uint64_t RequestId(IoTicket ticket, uint32_t request) {
    return (ticket & ~uint64_t{0xffffffff}) | (uint64_t{request} << kSlotBits) | (ticket & 0xffffffff);
  }

  // The slot a waiter owns, or null for a ticket that is not outstanding.
  Slot* Find(IoTicket ticket);
  // The pending slot a response belongs to; false for an unknown id.
  bool FindPending(uint64_t request_id, Slot** slot, uint32_t* request);
  // One request of the slot is answered; the last one completes the ticket.
  void CompleteRequest(Slot* slot, const Status& status);
  // Frees a completed slot once its waiter has taken the result.
  void Release(IoTicket ticket);
  // Completes every pending ticket with `status`, and refuses new ones with
  // it. Only call when no receiver can touch a slot any more.
  void FailAll(const Status& status);

 private:
  std::unique_ptr<Slot[]> slots_;
  std::mutex mu_;
  std::vector<uint32_t> free_;  // guarded by mu_
  bool closed_ = false;         // guarded by mu_
  Status closed_status_;        // guarded by mu_
};

}  // namespace prescient
