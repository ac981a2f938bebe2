// FaultHandler: serves missing-page and write-protect faults, on either path
// (RegionOptions::fault_path).
//
// Thread path: fault threads read userfaultfd messages in batches. For
// missing-page faults a thread takes the pages into Fetching, submits one
// batched backend read for all of them, and then, while that read is in
// flight, zero-fills first touches and asks the Prefetcher what comes next.
// Write-protect faults mark a clean page dirty. A fault on a page some other
// thread is already moving just records that it waits; that thread wakes it.
//
// Signal path: the faulting thread calls ServeSignalFault from its SIGBUS
// handler and does the same for its one fault, there and then; a fault on a
// page someone else owns waits on the page's futex instead of in the kernel.
#pragma once

#include <linux/userfaultfd.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "prescient/prefetcher.h"
#include "runtime/evictor.h"
#include "runtime/prefetch_worker.h"
#include "runtime/region_core.h"
#include "runtime/signal_faults.h"

namespace prescient {

class FaultHandler : public SignalFaultServer {
 public:
  FaultHandler(RegionCore* core, Evictor* evictor, PrefetchWorker* prefetch, std::unique_ptr<Prefetcher> prefetcher);
  ~FaultHandler();
  Status Start();
  void Stop();
  nlohmann::json prefetcher_stats();
  void ServeSignalFault(uintptr_t address, bool write) override;

 private:
  struct Pending {
    uint64_t page;
    bool write;
    bool was_empty;
    uint32_t thread_id;
  };

  void Run();
  // Blocks (per the loop mode) until messages may be readable; false on stop.
  bool AwaitMessages(uint64_t last_fault_ns);
  void HandleBatch(const uffd_msg* msgs, size_t count);
  // Reads or zero-fills the pages this thread took into Fetching, predicts
  // while the read is in flight, and installs them.
  void ServePending(const std::vector<Pending>& pending, uint64_t start_ns);
  // Lets the faulting thread retry its access: wakes it on the thread path;
  // on the signal path it is this thread, and returning is enough.
  void RetryFaulter(uint64_t page);
  // Signal path: blocks while another thread owns `page` (a transient state).
  void AwaitOwner(uint64_t page);
  // Classifies one missing-page fault; appends to *pending when this thread
  // now owns the page's fetch.
  void OnMissing(uint64_t page, bool write, uint32_t thread_id, std::vector<Pending>* pending);
  void OnWriteProtect(uint64_t page, uint32_t thread_id);
  void CountDemandFault(uint64_t page, bool write, uint32_t thread_id);
  // A fault that found its page already being fetched on demand.
  void NoteJoinedFetch(uint64_t page, bool write, uint32_t thread_id);
  void Predict(const std::vector<Pending>& faults, uint64_t now_ns);

  RegionCore* core_;
  Evictor* evictor_;
  PrefetchWorker* prefetch_;
  std::unique_ptr<Prefetcher> prefetcher_;
  std::mutex prefetcher_mu_;  // policies are single-threaded
  std::vector<std::thread> threads_;
  int stop_fd_ = -1;
  std::atomic<bool> stop_{false};
};

}  // namespace prescient
