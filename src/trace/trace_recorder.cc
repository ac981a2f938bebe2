#include "trace/trace_recorder.h"

#include <unistd.h>

#include <ctime>

namespace prescient {

uint64_t ThreadCpuNanos(pid_t tid) {
  // MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED) from the kernel's posix-timers.h.
  const clockid_t clock = static_cast<clockid_t>((~static_cast<unsigned>(tid) << 3) | 6);
  timespec ts{};
  if (clock_gettime(clock, &ts) != 0) return 0;
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

uint64_t CalibrateFaultCpuNanos(std::byte* addr, size_t pages) {
  if (pages == 0) return 0;
  const pid_t self = gettid();
  uint64_t before = ThreadCpuNanos(self);
  for (size_t i = 0; i < pages; ++i) {
    // A read of an untouched page: one zero-fill fault each.
    (void)*static_cast<volatile std::byte*>(addr + i * 4096);
  }
  return (ThreadCpuNanos(self) - before) / pages;
}

void TraceRecorder::Start(std::unique_ptr<TraceWriter> writer) {
  std::lock_guard<std::mutex> lock(mu_);
  writer_ = std::move(writer);
}

Status TraceRecorder::Finish() {
  std::lock_guard<std::mutex> lock(mu_);
  if (writer_) {
    Status st = writer_->Finish();
    if (error_.ok()) error_ = st;
    writer_.reset();
  }
  return error_;
}

uint64_t TraceRecorder::records() const {
  std::lock_guard<std::mutex> lock(mu_);
  return records_;
}

void TraceRecorder::OnFault(uint64_t page, uint32_t thread_id, bool write) {
  Record(TraceEvent::kAccess, page, 1, static_cast<pid_t>(thread_id), write, /*stamp=*/true);
}

void TraceRecorder::OnFirstWrite(uint64_t page, uint32_t thread_id) {
  Record(TraceEvent::kFirstWrite, page, 1, static_cast<pid_t>(thread_id), /*write=*/true, /*stamp=*/true);
}

void TraceRecorder::OnDiscard(uint64_t first_page, uint64_t count) {
  // Called on the freeing thread itself, which is running: its clock is not
  // at a fault boundary, so the discard carries no compute.
  Record(TraceEvent::kDiscard, first_page, count, gettid(), /*write=*/false, /*stamp=*/false);
}

void TraceRecorder::Record(TraceEvent event, uint64_t page, uint64_t count, pid_t tid, bool write, bool stamp) {
  uint64_t cpu = stamp ? ThreadCpuNanos(tid) : 0;
  std::lock_guard<std::mutex> lock(mu_);
  if (!writer_ || !error_.ok()) return;
  auto [it, fresh] = threads_.try_emplace(tid, ThreadState{static_cast<uint32_t>(threads_.size()), cpu});
  TraceRecord r;
  r.event = event;
  r.write = write;
  r.thread = it->second.index;
  r.page = page;
  r.count = count;
  if (stamp) {
    // A thread's first event has no predecessor: its compute is unknown.
    r.compute_ns = fresh || cpu < it->second.last_cpu_ns ? 0 : cpu - it->second.last_cpu_ns;
    it->second.last_cpu_ns = cpu;
  }
  error_ = writer_->Append(r);
  ++records_;
}

}  // namespace prescient
