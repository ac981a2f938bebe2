// PrefetchWorker: fetches the pages a Prefetcher asked for, off the fault
// path. The fault handler enqueues candidates and returns at once; the worker
// reads them in batches and installs them write-protected without waking
// anyone. A fault that arrives while a prefetch is in flight waits for it
// instead of reading the page a second time.
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <span>

#include "runtime/evictor.h"
#include "runtime/region_core.h"
#include "runtime/worker_thread.h"

namespace prescient {

class PrefetchWorker {
 public:
  PrefetchWorker(RegionCore* core, Evictor* evictor);
  ~PrefetchWorker();
  void Start() { worker_.Start(); }
  // A batch in flight completes; candidates still queued are dropped.
  void Stop() { worker_.Stop(); }

  // Queues candidates; drops them when the queue is full (prefetching is
  // advice, and a stale backlog is worth less than fresh predictions).
  void Enqueue(std::span<const uint64_t> pages);

 private:
  // The worker thread's body: fetches batches until the queue is empty or
  // the worker is stopping.
  void Drain();
  void FetchBatch(std::deque<uint64_t>& batch);

  RegionCore* core_;
  Evictor* evictor_;
  std::mutex mu_;
  std::deque<uint64_t> queue_;  // guarded by mu_
  std::deque<uint64_t> batch_;  // the worker thread's own
  WorkerThread worker_;
};

}  // namespace prescient
