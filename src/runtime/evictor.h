// Evictor: keeps residency within the budget. The thread that charges a page
// (MakeRoom) chooses the victims, once residency comes within a margin of the
// budget, down to that margin, and drops them from the mapping there and
// then, as the simulator does: which pages leave, and where in the fault
// stream, does not depend on thread timing (D102). A dirty victim's contents
// are copied out first and written back by a background thread (or by a
// thread that would otherwise pass the budget); a touch meanwhile waits.
//
// Eviction of a dirty page never loses a concurrent write: the page is first
// write-protected (later writers block in a fault), then copied, then
// dropped, and its writers are woken only once the backend has acknowledged
// the write-back; they re-fault the page from the backend, which by then
// holds their data's base. Under DirtyTracking::kDigest a clean victim mapped
// writable may have been written without a fault: it goes the same way, and
// is dropped without write-back only if its copy still matches its digest.
#pragma once

#include <cstddef>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <vector>

#include "runtime/region_core.h"
#include "runtime/worker_thread.h"

namespace prescient {

class Evictor {
 public:
  explicit Evictor(RegionCore* core);
  ~Evictor();
  void Start() { worker_.Start(); }
  // Stops the background thread and retires what it left chosen.
  void Stop();

  // Called after charging pages: chooses victims once residency nears the
  // budget, and retires victims on the calling thread until `incoming` more
  // pages fit within the budget or nothing more can be evicted.
  void MakeRoom(uint64_t incoming);
  // Evicts every page in the residency queue.
  void EvictAll();

 private:
  struct Batch {
    std::vector<uint64_t> dirty;   // chosen and dropped, to be written back
    std::vector<std::byte> contents;  // their pages, in order
  };

  uint64_t MarginPages(uint64_t budget) const;
  bool OutgrowsBudget(uint64_t budget) const;
  bool NearsBudget(uint64_t incoming) const;
  // Chooses victims down to a margin below the budget and queues their dirty
  // pages for the background thread.
  void ChooseToMargin();
  // The background thread's body: retires every queued batch.
  void RetireQueued();
  // Retires one queued batch; false if none was queued.
  bool RetireOneQueued();
  // Chooses up to one batch from the front of the residency queue (demoting
  // active pages when needed): marks the victims Evicting, stamps them with
  // the eviction clock, moves them from charged to evicting and drops them;
  // publishes the clean ones and leaves the dirty ones, with their contents,
  // in *batch. False if nothing could be chosen.
  bool Choose(Batch* batch);
  // Returns a page Choose took into Evicting, but found pinned, to `state`
  // and to the back of the inactive list.
  void KeepPinned(uint64_t page, PageState state, uint32_t generation);
  // Chooses one batch and retires it on the calling thread; false if nothing
  // could be chosen.
  bool EvictOneBatch();
  // Write-protects the batch's dirty pages and the `unverified` ones (clean
  // but mapped writable under kDigest, perhaps written since) and copies them into its contents;
  // an unverified page whose copy matches its digest moves to *clean.
  bool CopyOut(Batch* batch, const std::vector<uint64_t>& unverified, std::vector<uint64_t>* clean);
  // Writes the batch's pages back, then publishes them.
  void Retire(Batch& batch);
  // Publishes each of `pages`, which are Evicting and dropped, as Remote (or
  // Empty, if it never held data), waking whoever waits for it.
  void Publish(const std::vector<uint64_t>& pages, bool written_back);
  // Moves the oldest active pages to the inactive list until the active list
  // is within its target and at least `at_least` pages moved; returns how many.
  size_t Demote(uint64_t at_least);
  // False (after reporting the failure) if a drop failed.
  bool DropRanges(const std::vector<uint64_t>& pages);
  // Waits briefly for some evicting page to be published; false if none is
  // evicting (or the region failed).
  bool AwaitRetirement();

  RegionCore* core_;
  std::mutex choose_mu_;  // one chooser at a time: the margin test and the choice belong together
  std::mutex queue_mu_;
  std::deque<Batch> queued_;
  std::condition_variable retired_;  // with queue_mu_: some evicting page was published
  WorkerThread worker_;
};

}  // namespace prescient
