// Evictor: keeps residency within the budget. A background thread evicts
// ahead of need, once residency comes within a margin of the budget; threads
// that would otherwise pass the budget reclaim directly (MakeRoom).
//
// Eviction of a dirty page never loses a concurrent write: the page is first
// write-protected (later writers block in a fault), then copied and written
// back, and only dropped (MADV_DONTNEED) once the backend has acknowledged the
// write. Blocked writers are woken after the drop and re-fault the page from
// the backend, which by then holds their data's base.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "runtime/region_core.h"

namespace prescient {

class Evictor {
 public:
  explicit Evictor(RegionCore* core);
  ~Evictor();
  void Start();
  void Stop();

  // Nudges the background thread when residency nears the budget.
  void Notify();
  // Evicts, on the calling thread, until `incoming` more pages fit within the
  // budget or nothing more can be evicted.
  void MakeRoom(uint64_t incoming);
  // Evicts every page in the residency queue.
  void EvictAll();

 private:
  void Run();
  uint64_t MarginPages(uint64_t budget) const;
  bool OutgrowsBudget(uint64_t budget) const;
  // Evicts up to one batch from the front of the residency queue; returns the
  // number of pages dropped.
  size_t EvictBatch();
  // Moves the oldest active pages to the inactive list until the active list
  // is within its target and at least `at_least` pages moved; returns how many.
  size_t Demote(uint64_t at_least);
  void DropRanges(const std::vector<uint64_t>& pages);

  RegionCore* core_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool notified_ = false;
};

}  // namespace prescient
