// Sharded backend: one region's pages striped over several backends, so a
// run can use more far memory (and more links) than one node offers.
//
// Page p lives on shard (p / stripe_pages) % n. A batch is split by shard
// with a counting sort into one buffer (on the stack for ordinary batch
// sizes), each part is submitted to its shard, and the caller gets one ticket
// that stands for all the sub-tickets. Waiting on it waits every sub-ticket,
// even after one fails, because each backend ticket must be waited once.
#include <algorithm>
#include <mutex>
#include <vector>

#include <fmt/format.h>

#include "prescient/backend.h"
#include "transport/annotate.h"

namespace prescient {
namespace {

constexpr uint32_t kMaxOutstanding = 8192;
constexpr size_t kInlinePages = 256;
constexpr size_t kInlineShards = 64;

class ShardedBackend final : public Backend {
 public:
  ShardedBackend(std::vector<std::unique_ptr<Backend>> shards, uint64_t stripe_pages)
      : shards_(std::move(shards)), stripe_pages_(std::max<uint64_t>(stripe_pages, 1)), slots_(kMaxOutstanding) {
    free_.reserve(kMaxOutstanding);
    for (uint32_t i = kMaxOutstanding; i > 0; --i) free_.push_back(i - 1);
    for (Slot& slot : slots_) slot.subs.reserve(shards_.size());
  }

  IoTicket read_pages(std::span<const PageIo> pages, Status* status) override { return Submit(pages, false, status); }
  IoTicket write_pages(std::span<const PageIo> pages, Status* status) override { return Submit(pages, true, status); }

  Status discard_pages(uint64_t first_page, uint64_t count) override {
    // Each shard drops whatever it holds in the range; pages of other
    // stripes are simply not there. n calls instead of one per stripe.
    Status first_error;
    for (size_t i = 0; i < shards_.size(); ++i) {
      Status st = shards_[i]->discard_pages(first_page, count);
      if (!st.ok() && first_error.ok()) first_error = NameShard(i, st);
    }
    return first_error;
  }

  Status wait(IoTicket ticket) override {
    Slot* slot = Lookup(ticket);
    if (slot == nullptr) return Status::InvalidArgument(fmt::format("wait() on unknown or already waited ticket {:#x}", ticket));
    Status result = slot->submit_error;
    for (const auto& [shard, sub] : slot->subs) {
      Status st = shards_[shard]->wait(sub);
      if (!st.ok() && result.ok()) result = NameShard(shard, st);
    }
    Release(ticket);
    return result;
  }

  std::string describe() const override {
    std::string out = "sharded over [";
    for (size_t i = 0; i < shards_.size(); ++i) {
      std::string name = shards_[i]->describe();
      if (name.starts_with("memory node ")) name.erase(0, std::string_view("memory node ").size());
      out += (i ? ", " : "") + name;
    }
    return out + "]";
  }

  BackendStats stats() const override {
    BackendStats total;
    for (const auto& shard : shards_) {
      BackendStats s = shard->stats();
      total.read_requests += s.read_requests;
      total.write_requests += s.write_requests;
      total.pages_read += s.pages_read;
      total.pages_written += s.pages_written;
      total.bytes_sent += s.bytes_sent;
      total.bytes_received += s.bytes_received;
    }
    return total;
  }

 private:
  struct Slot {
    uint32_t generation = 1;
    bool in_use = false;
    Status submit_error;
    std::vector<std::pair<uint32_t, IoTicket>> subs;  // (shard, its ticket)
  };

  size_t ShardOf(uint64_t page_no) const { return (page_no / stripe_pages_) % shards_.size(); }

  Status NameShard(size_t shard, const Status& st) const {
    std::string node = shards_[shard]->describe();
    bool named = st.message().find(node) != std::string::npos;
    return Annotate(st, named ? fmt::format("shard {} of {}", shard, shards_.size())
                              : fmt::format("shard {} of {} ({})", shard, shards_.size(), node));
  }

  IoTicket Submit(std::span<const PageIo> pages, bool write, Status* status) {
    const size_t n = shards_.size();
    // Counting sort of the batch by shard. After the scatter, ends[s] is
    // where shard s's part ends and ends[s - 1] where it begins.
    uint32_t ends_inline[kInlineShards + 1];
    std::vector<uint32_t> ends_heap;
    uint32_t* ends = ends_inline;
    if (n > kInlineShards) {
      ends_heap.resize(n + 1);
      ends = ends_heap.data();
    }
    std::fill(ends, ends + n + 1, 0);
    for (const PageIo& io : pages) ++ends[ShardOf(io.page_no) + 1];
    for (size_t s = 0; s < n; ++s) ends[s + 1] += ends[s];

    PageIo sorted_inline[kInlinePages];
    std::vector<PageIo> sorted_heap;
    PageIo* sorted = sorted_inline;
    if (pages.size() > kInlinePages) {
      sorted_heap.resize(pages.size());
      sorted = sorted_heap.data();
    }
    for (const PageIo& io : pages) sorted[ends[ShardOf(io.page_no)]++] = io;

    IoTicket ticket = Acquire();
    if (ticket == 0) {
      *status = Status::ResourceExhausted(
          fmt::format("{} has {} requests outstanding; wait() for some before submitting more", describe(), kMaxOutstanding));
      return 0;
    }
    Slot& slot = slots_[SlotIndex(ticket)];
    for (size_t s = 0; s < n; ++s) {
      uint32_t begin = s == 0 ? 0 : ends[s - 1];
      std::span<const PageIo> part(sorted + begin, ends[s] - begin);
      if (part.empty()) continue;
      Status st;
      IoTicket sub = write ? shards_[s]->write_pages(part, &st) : shards_[s]->read_pages(part, &st);
      if (sub != 0) {
        slot.subs.emplace_back(static_cast<uint32_t>(s), sub);
      } else if (slot.submit_error.ok()) {
        slot.submit_error = NameShard(s, st.ok() ? Status::Internal("backend returned ticket 0 without an error") : st);
      }
    }
    // Nothing in flight and nothing to report later: fail the submission now.
    if (slot.subs.empty() && !slot.submit_error.ok()) {
      *status = slot.submit_error;
      Release(ticket);
      return 0;
    }
    return ticket;
  }

  static uint32_t SlotIndex(IoTicket ticket) { return static_cast<uint32_t>(ticket & 0xffffffffu); }

  IoTicket Acquire() {
    std::lock_guard lock(mu_);
    if (free_.empty()) return 0;
    uint32_t index = free_.back();
    free_.pop_back();
    Slot& slot = slots_[index];
    slot.in_use = true;
    slot.submit_error = Status::Ok();
    slot.subs.clear();
    return (IoTicket{slot.generation} << 32) | index;
  }

  Slot* Lookup(IoTicket ticket) {
    uint32_t index = SlotIndex(ticket);
    std::lock_guard lock(mu_);
    if (index >= slots_.size()) return nullptr;
    Slot& slot = slots_[index];
    if (!slot.in_use || slot.generation != static_cast<uint32_t>(ticket >> 32)) return nullptr;
    return &slot;
  }

  void Release(IoTicket ticket) {
    std::lock_guard lock(mu_);
    Slot& slot = slots_[SlotIndex(ticket)];
    slot.in_use = false;
    if (++slot.generation == 0) slot.generation = 1;  // tickets are never 0
    free_.push_back(SlotIndex(ticket));
  }

  std::vector<std::unique_ptr<Backend>> shards_;
  const uint64_t stripe_pages_;
  std::mutex mu_;
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_;
};

}  // namespace

std::unique_ptr<Backend> MakeSharded(std::vector<std::unique_ptr<Backend>> shards, uint64_t stripe_pages) {
  if (shards.empty()) return nullptr;
  if (shards.size() == 1) return std::move(shards.front());
  return std::make_unique<ShardedBackend>(std::move(shards), stripe_pages);
}

}  // namespace prescient
