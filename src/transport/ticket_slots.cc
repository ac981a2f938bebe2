#include "transport/ticket_slots.h"

#include <fmt/format.h>

namespace prescient {

TicketSlots::TicketSlots() : slots_(new Slot[kSlots]) {
  free_.reserve(kSlots);
  for (uint32_t i = kSlots; i > 0; --i) free_.push_back(i - 1);
}

IoTicket TicketSlots::Acquire(std::span<const PageIo> pages, bool is_read, uint32_t requests, Status* status) {
  std::lock_guard lock(mu_);
  if (closed_) {
    *status = closed_status_;
    return 0;
  }
  if (free_.empty()) {
    *status = Status::ResourceExhausted(fmt::format("{} requests are outstanding; wait() for some before submitting more", kSlots));
    return 0;
  }
  uint32_t index = free_.back();
  free_.pop_back();
  Slot& slot = slots_[index];
  slot.is_read = is_read;
  slot.requests = requests;
  slot.status = Status::Ok();
  slot.has_error.store(false, std::memory_order_relaxed);
  slot.dests.clear();
  if (is_read) {
    slot.dests.resize(pages.size());
    for (size_t i = 0; i < pages.size(); ++i) slot.dests[i] = pages[i].data;
  }
  slot.pending.store(requests, std::memory_order_relaxed);
  // Release: a receiver that sees kPending also sees the fields above.
  slot.state.store(requests == 0 ? kDone : kPending, std::memory_order_release);
  return (IoTicket{slot.generation.load(std::memory_order_relaxed)} << 32) | index;
}

TicketSlots::Slot* TicketSlots::Find(IoTicket ticket) {
  uint32_t index = static_cast<uint32_t>(ticket & 0xffffffff);
  if (index >= kSlots) return nullptr;
  Slot& slot = slots_[index];
  if (slot.generation.load(std::memory_order_relaxed) != static_cast<uint32_t>(ticket >> 32)) return nullptr;
  if (slot.state.load(std::memory_order_acquire) == kFree) return nullptr;
  return &slot;
}

bool TicketSlots::FindPending(uint64_t request_id, Slot** out, uint32_t* request) {
  uint32_t index = static_cast<uint32_t>(request_id & ((uint64_t{1} << kSlotBits) - 1));
  if (index >= kSlots) return false;
  Slot& slot = slots_[index];
  if (slot.state.load(std::memory_order_acquire) != kPending) return false;
  if (slot.generation.load(std::memory_order_relaxed) != static_cast<uint32_t>(request_id >> 32)) return false;
  *request = static_cast<uint32_t>((request_id >> kSlotBits) & (kMaxRequestsPerTicket - 1));
  if (*request >= slot.requests) return false;
  *out = &slot;
  return true;
}

void TicketSlots::CompleteRequest(Slot* slot, const Status& status) {
  if (!status.ok() && !slot->has_error.exchange(true, std::memory_order_acq_rel)) slot->status = status;
  if (slot->pending.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    slot->state.store(kDone, std::memory_order_release);
    slot->state.notify_all();
  }
}

void TicketSlots::Release(IoTicket ticket) {
  uint32_t index = static_cast<uint32_t>(ticket & 0xffffffff);
  std::lock_guard lock(mu_);
  Slot& slot = slots_[index];
  slot.state.store(kFree, std::memory_order_relaxed);
  uint32_t next = slot.generation.load(std::memory_order_relaxed) + 1;
  slot.generation.store(next == 0 ? 1 : next, std::memory_order_relaxed);  // tickets are never 0
  free_.push_back(index);
}

void TicketSlots::FailAll(const Status& status) {
  std::lock_guard lock(mu_);
  closed_ = true;
  closed_status_ = status;
  for (uint32_t i = 0; i < kSlots; ++i) {
    Slot& slot = slots_[i];
    if (slot.state.load(std::memory_order_acquire) != kPending) continue;
    if (!slot.has_error.exchange(true, std::memory_order_acq_rel)) slot.status = status;
    slot.pending.store(0, std::memory_order_relaxed);
    slot.state.store(kDone, std::memory_order_release);
    slot.state.notify_all();
  }
}

}  // namespace prescient
