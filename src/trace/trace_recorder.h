// TraceRecorder: the FaultObserver that capture plugs into a Region. Each
// event is stamped with the faulting thread's CPU time since its previous
// event, read from that thread's CPU clock while it is blocked in the fault,
// so the compute between faults is measured without instrumenting the
// program. (This VM has no hardware instruction counters to use instead.)
#pragma once

#include <sys/types.h>

#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "prescient/region.h"
#include "prescient/trace.h"

namespace prescient {

class TraceRecorder final : public FaultObserver {
 public:
  TraceRecorder() = default;
  // Starts recording into `writer`. Events before this are ignored (the
  // start-up calibration faults, say).
  void Start(std::unique_ptr<TraceWriter> writer);
  // Finishes the trace with `trailer` (see TraceWriter::Finish); later events
  // are ignored. Returns the first error met while recording, if any.
  Status Finish(const nlohmann::json& trailer = nlohmann::json::object());
  uint64_t records() const;

  void OnFault(uint64_t page, uint32_t thread_id, bool write) override;
  void OnFirstWrite(uint64_t page, uint32_t thread_id) override;
  void OnDiscard(uint64_t first_page, uint64_t count) override;

 private:
  struct ThreadState {
    uint32_t index;
    uint64_t last_cpu_ns;
  };
  void Record(TraceEvent event, uint64_t page, uint64_t count, pid_t tid, bool write, bool stamp);

  mutable std::mutex mu_;
  std::unique_ptr<TraceWriter> writer_;
  std::unordered_map<pid_t, ThreadState> threads_;
  Status error_;
  uint64_t records_ = 0;
};

// CPU time consumed so far by thread `tid` of this process, in nanoseconds.
uint64_t ThreadCpuNanos(pid_t tid);

// User-mode CPU time of this process so far, every thread it ever ran
// (exited ones too) except `excluded` (threads still running), in ns. The kernel splits
// user from system time by sampling at each tick, so this is exact in total
// but only statistically: good over a run, not over one fault.
uint64_t ProgramUserCpuNanos(const std::vector<pid_t>& excluded);

// Measures the CPU time a faulting thread spends in the kernel per fault
// (entry, sleep, wake-up, retry) by touching `pages` fresh pages at `addr`,
// which must be untouched memory of a live region. Trace records include
// this overhead in compute_ns; the simulator subtracts it.
uint64_t CalibrateFaultCpuNanos(std::byte* addr, size_t pages);

}  // namespace prescient
