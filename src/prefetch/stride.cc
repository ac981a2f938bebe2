// `stride`: a per-thread stride detector, the classic hardware-prefetcher
// rule applied to page faults. Threads are told apart by
// FaultEvent::thread_id, so interleaved threads with different strides do
// not spoil each other's deltas as they would in one global history.
//
// Per thread: two consecutive equal (non-zero) deltas confirm a stride;
// while confirmed, every fault prefetches the next max_pages pages along it;
// any other delta breaks the stride and becomes the new candidate.
//
// A confirmed stream also advances on hits: when a page we prefetched along
// a stream is touched, that becomes the stream's position. Otherwise a
// thread running through its prefetched pages would next fault max_pages + 1
// strides on, which reads as a break.
#include <array>
#include <cstdint>

#include "prefetch/candidates.h"
#include "prefetch/policies.h"

namespace prescient {

namespace {

// Threads tracked at once; the least recently active one is forgotten when
// a new thread appears. Fixed, so a fault never allocates.
constexpr int kMaxStreams = 32;

struct Stream {
  bool in_use = false;
  uint32_t thread_id = 0;
  uint64_t last_page = 0;   // the thread's latest access: fault, or hit on its run
  int64_t delta = 0;        // the latest delta; 0 = none yet
  bool confirmed = false;   // delta was seen twice in a row
  uint32_t ahead = 0;       // pages prefetched past last_page along delta
  uint64_t last_used = 0;   // for choosing which stream to forget
};

class StridePrefetcher final : public Prefetcher {
 public:
  explicit StridePrefetcher(const PrefetchOptions& options) : region_end_(RegionEnd(options)), max_pages_(options.max_pages) {}

  std::string_view name() const override { return "stride"; }

  void on_fault(const FaultEvent& fault, std::vector<uint64_t>* out) override {
    ++clock_;
    Stream* s = Find(fault.thread_id);
    if (s == nullptr) {
      Start(Claim(), fault);
      return;
    }
    s->last_used = clock_;
    UpdateStride(s, static_cast<int64_t>(fault.page_no - s->last_page));
    s->last_page = fault.page_no;
    s->ahead = 0;
    if (!s->confirmed) return;
    size_t before = out->size();
    AppendAlongDelta(fault.page_no, s->delta, max_pages_, region_end_, out);
    s->ahead = static_cast<uint32_t>(out->size() - before);
  }

  void on_prefetch_hit(uint64_t page, std::vector<uint64_t>*) override {
    for (Stream& s : streams_) {
      if (s.in_use && s.confirmed && AdvanceOnHit(&s, page)) return;
    }
  }

 private:
  // Two equal deltas in a row confirm; a different one resets to it.
  static void UpdateStride(Stream* s, int64_t delta) {
    if (delta != 0 && delta == s->delta) {
      s->confirmed = true;
      return;
    }
    s->delta = delta;
    s->confirmed = false;
  }

  // Whether `page` is one of the pages prefetched ahead of this stream; if
  // so the stream has reached it.
  static bool AdvanceOnHit(Stream* s, uint64_t page) {
    int64_t offset = static_cast<int64_t>(page - s->last_page);
    if (offset % s->delta != 0) return false;
    int64_t k = offset / s->delta;
    if (k < 1 || k > s->ahead) return false;
    s->last_page = page;
    s->ahead -= static_cast<uint32_t>(k);
    return true;
  }

  Stream* Find(uint32_t thread_id) {
    for (Stream& s : streams_) {
      if (s.in_use && s.thread_id == thread_id) return &s;
    }
    return nullptr;
  }

  // A free slot, or the least recently used one (lowest index on ties, so
  // the choice is deterministic).
  Stream* Claim() {
    Stream* victim = &streams_[0];
    for (Stream& s : streams_) {
      if (!s.in_use) return &s;
      if (s.last_used < victim->last_used) victim = &s;
    }
    return victim;
  }

  void Start(Stream* s, const FaultEvent& fault) {
    *s = Stream{};
    s->in_use = true;
    s->thread_id = fault.thread_id;
    s->last_page = fault.page_no;
    s->last_used = clock_;
  }

  const uint64_t region_end_;
  const uint32_t max_pages_;
  std::array<Stream, kMaxStreams> streams_{};
  uint64_t clock_ = 0;
};

}  // namespace

std::unique_ptr<Prefetcher> MakeStridePrefetcher(const PrefetchOptions& options) { return std::make_unique<StridePrefetcher>(options); }

}  // namespace prescient
