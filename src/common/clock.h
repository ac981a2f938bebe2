// Monotonic time and short waits, in the units the runtime measures.
#pragma once

#include <cstdint>
#include <ctime>

namespace prescient {

inline uint64_t NowNanos() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

inline void CpuRelax() { __builtin_ia32_pause(); }

// Spins until the monotonic clock reaches `deadline_ns`. Used for modelled
// latencies of a few microseconds, far below what a sleep can honour.
inline void SpinUntil(uint64_t deadline_ns) {
  while (NowNanos() < deadline_ns) CpuRelax();
}

}  // namespace prescient
