// PrefetchWorker: fetches the pages a Prefetcher asked for, off the fault
// path. The fault handler enqueues candidates and returns at once; the worker
// reads them in batches and installs them write-protected without waking
// anyone. A fault that arrives while a prefetch is in flight waits for it
// instead of reading the page a second time.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <span>
#include <thread>

#include "runtime/evictor.h"
#include "runtime/region_core.h"

namespace prescient {

class PrefetchWorker {
 public:
  PrefetchWorker(RegionCore* core, Evictor* evictor);
  ~PrefetchWorker();
  void Start();
  void Stop();

  // Queues candidates; drops them when the queue is full (prefetching is
  // advice, and a stale backlog is worth less than fresh predictions).
  void Enqueue(std::span<const uint64_t> pages);

 private:
  void Run();
  void FetchBatch(std::deque<uint64_t>& batch);

  RegionCore* core_;
  Evictor* evictor_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<uint64_t> queue_;
  bool stop_ = false;
};

}  // namespace prescient
