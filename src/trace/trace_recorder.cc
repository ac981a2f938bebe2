#include "trace/trace_recorder.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>
#include <string>

#include <fmt/format.h>

namespace prescient {

uint64_t ThreadCpuNanos(pid_t tid) {
  // MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED) from the kernel's posix-timers.h.
  const clockid_t clock = static_cast<clockid_t>((~static_cast<unsigned>(tid) << 3) | 6);
  timespec ts{};
  if (clock_gettime(clock, &ts) != 0) return 0;
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

namespace {

// Field 14 (utime, in clock ticks) of a /proc/.../stat file, or 0.
uint64_t UserTicks(const std::string& stat_path) {
  std::ifstream in(stat_path);
  std::string line;
  if (!std::getline(in, line)) return 0;
  size_t comm_end = line.rfind(')');  // the command name may hold spaces
  if (comm_end == std::string::npos) return 0;
  std::istringstream fields(line.substr(comm_end + 1));
  std::string field;
  for (int i = 3; i <= 14 && fields >> field; ++i) {
    if (i == 14) return std::strtoull(field.c_str(), nullptr, 10);
  }
  return 0;
}

}  // namespace

uint64_t ProgramUserCpuNanos(const std::vector<pid_t>& excluded) {
  uint64_t ticks = UserTicks("/proc/self/stat");
  for (pid_t tid : excluded) {
    uint64_t t = UserTicks(fmt::format("/proc/self/task/{}/stat", tid));
    ticks -= std::min(ticks, t);
  }
  const uint64_t ticks_per_second = static_cast<uint64_t>(sysconf(_SC_CLK_TCK));
  return ticks * 1000000000ull / ticks_per_second;
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

Status TraceRecorder::Finish(const nlohmann::json& trailer) {
  std::lock_guard<std::mutex> lock(mu_);
  if (writer_) {
    Status st = writer_->Finish(trailer);
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
