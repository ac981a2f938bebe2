// PageStateTable: one 32-bit atomic word per page of a region, holding the page's
// state. Every transition is a compare-and-swap, and each transient state has
// exactly one owner, who alone may leave it:
//
//   Empty ──fault──▶ Fetching ──install──▶ Clean | Dirty        (fault thread,
//   Remote ─fault or prefetch─▶ Fetching                         prefetch worker)
//   Fetching ──stage──▶ Staged ──first touch──▶ Fetching          (prefetch worker,
//                                                                 fault thread)
//   Clean ──first write──▶ Unprotecting ──▶ Dirty                (fault thread;
//                                                                 write-protected Clean pages only)
//   Clean | Dirty | Staged ──evict──▶ Evicting ──▶ Remote | Empty (evictor, D102)
//   any stable state ──free()──▶ Discarding ──▶ Empty            (freeing thread)
//
// A fault that finds a page in a transient state sets the waiter bit instead
// of acting; the owner wakes the page's waiters when it leaves that state.
// That one rule is what keeps the fault, prefetch, eviction and free paths
// from losing a write or a wake-up to each other.
#pragma once

#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace prescient {

enum class PageState : uint8_t {
  kEmpty = 0,     // never written, or freed: reads as zeros, nothing stored
  kRemote,        // only the backend holds it
  kFetching,      // being read or zero-filled; not yet mapped
  kClean,         // mapped; matched the backend (or zero) when installed. Write-protected, or
                  // under DirtyTracking::kDigest perhaps writable and written since (D109)
  kDirty,         // mapped writable; newer than the backend
  kEvicting,      // chosen and dropped; its copy being written back
  kUnprotecting,  // first write seen; write-protection being lifted
  kDiscarding,    // being freed
  kStaged,        // prefetched into a stage buffer, not mapped: its first touch is a visible hit (stage_area.h)
};

inline bool IsTransient(PageState s) {
  return s == PageState::kFetching || s == PageState::kEvicting || s == PageState::kUnprotecting || s == PageState::kDiscarding;
}
inline bool IsMapped(PageState s) { return s == PageState::kClean || s == PageState::kDirty; }
// Holds data locally, so it is charged against the budget and can be evicted.
inline bool IsLocal(PageState s) { return IsMapped(s) || s == PageState::kStaged; }

// The packed word: state in bits 0-3, flags in 4-7, install generation above.
struct PageWord {
  static constexpr uint32_t kStateMask = 0xF;
  static constexpr uint32_t kWaiter = 1u << 4;      // a fault is waiting on this page
  static constexpr uint32_t kBacked = 1u << 5;      // the backend holds a valid copy
  static constexpr uint32_t kPrefetched = 1u << 6;  // installed by prefetch, not yet faulted on
  static constexpr uint32_t kActive = 1u << 7;      // on the active list (see residency_queue.h)
  static constexpr int kGenShift = 8;

  uint32_t raw = 0;

  PageState state() const { return static_cast<PageState>(raw & kStateMask); }
  bool has(uint32_t flag) const { return (raw & flag) != 0; }
  uint32_t generation() const { return raw >> kGenShift; }

  PageWord with_state(PageState s) const { return {(raw & ~kStateMask) | static_cast<uint32_t>(s)}; }
  PageWord set(uint32_t flag) const { return {raw | flag}; }
  PageWord clear(uint32_t flag) const { return {raw & ~flag}; }
  PageWord next_generation() const { return {raw + (1u << kGenShift)}; }
};

class PageStateTable {
 public:
  PageStateTable() = default;
  ~PageStateTable() {
    if (words_) munmap(words_, bytes());
  }
  PageStateTable(const PageStateTable&) = delete;
  PageStateTable& operator=(const PageStateTable&) = delete;

  // Reserves (not commits) one word per page; untouched words read as Empty.
  bool Init(uint64_t pages) {
    pages_ = pages;
    void* p = mmap(nullptr, bytes(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) return false;
    words_ = static_cast<std::atomic<uint32_t>*>(p);
    return true;
  }

  uint64_t pages() const { return pages_; }
  PageWord Load(uint64_t page) const { return {words_[page].load(std::memory_order_acquire)}; }
  // On failure refreshes *expected with the current word.
  bool Cas(uint64_t page, PageWord* expected, PageWord desired) {
    return words_[page].compare_exchange_strong(expected->raw, desired.raw, std::memory_order_acq_rel, std::memory_order_acquire);
  }
  // Sets the word unconditionally (only the owner of a transient state may).
  // Returns the previous word, so the owner sees a waiter bit set meanwhile.
  PageWord Exchange(uint64_t page, PageWord desired) { return {words_[page].exchange(desired.raw, std::memory_order_acq_rel)}; }

  // Blocks while the page's word still equals `seen`, for at most `timeout_ns`:
  // how a thread that serves its own faults (FaultPath::kSignal) waits for the
  // owner of a transient state, having set the waiter bit in `seen`. The owner
  // wakes it with WakeAll. A futex, not a condition variable: it may be
  // called from a signal handler.
  void WaitWhile(uint64_t page, PageWord seen, uint64_t timeout_ns) {
    timespec timeout{static_cast<time_t>(timeout_ns / 1000000000), static_cast<long>(timeout_ns % 1000000000)};
    syscall(SYS_futex, reinterpret_cast<uint32_t*>(&words_[page]), FUTEX_WAIT_PRIVATE, seen.raw, &timeout, nullptr, 0);
  }
  void WakeAll(uint64_t page) { syscall(SYS_futex, reinterpret_cast<uint32_t*>(&words_[page]), FUTEX_WAKE_PRIVATE, INT32_MAX, nullptr, nullptr, 0); }

 private:
  size_t bytes() const { return static_cast<size_t>(pages_) * sizeof(uint32_t); }
  std::atomic<uint32_t>* words_ = nullptr;
  uint64_t pages_ = 0;
};

}  // namespace prescient
