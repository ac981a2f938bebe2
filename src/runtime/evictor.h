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

#include <cstdint>
#include <vector>

#include "runtime/region_core.h"
#include "runtime/worker_thread.h"

namespace prescient {

class Evictor {
 public:
  explicit Evictor(RegionCore* core);
  ~Evictor();
  void Start() { worker_.Start(); }
  void Stop() { worker_.Stop(); }

  // Nudges the background thread when residency nears the budget.
  void Notify() { worker_.Notify(); }
  // Evicts, on the calling thread, until `incoming` more pages fit within the
  // budget or nothing more can be evicted.
  void MakeRoom(uint64_t incoming);
  // Evicts every page in the residency queue.
  void EvictAll();

 private:
  // The background thread's body: evicts down to a margin below the budget.
  void EvictToMargin();
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
  WorkerThread worker_;
};

}  // namespace prescient
