// Which threads may touch the managed region.
//
// The runtime's own threads (fault handlers, prefetch worker, evictor, backend
// receivers) serve the region's faults, so they must never fault on it: a
// fault thread waiting on itself would hang the process. They mark themselves
// here, and the preload allocator sends every allocation they make to the
// ordinary libc heap.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <vector>

namespace prescient {

// initial-exec: the preloaded library is loaded at start-up, so its TLS is in
// the static block and reading it can never call malloc (which would recurse).
inline thread_local bool t_is_runtime_thread __attribute__((tls_model("initial-exec"))) = false;

// The thread ids of the first kMaxKnownRuntimeThreads runtime threads, so
// measurements of the program (a trace's CPU time) can leave them out.
inline constexpr int kMaxKnownRuntimeThreads = 64;
inline std::atomic<pid_t> g_runtime_thread_ids[kMaxKnownRuntimeThreads];
inline std::atomic<int> g_runtime_thread_count{0};

// Call first thing in every thread the runtime or a backend starts.
inline void MarkRuntimeThread() {
  t_is_runtime_thread = true;
  int slot = g_runtime_thread_count.fetch_add(1, std::memory_order_relaxed);
  if (slot < kMaxKnownRuntimeThreads) g_runtime_thread_ids[slot].store(gettid(), std::memory_order_release);
}

// The runtime threads started so far (those still running and those that
// have exited alike).
inline std::vector<pid_t> RuntimeThreadIds() {
  std::vector<pid_t> ids;
  int n = std::min(g_runtime_thread_count.load(std::memory_order_relaxed), kMaxKnownRuntimeThreads);
  for (int i = 0; i < n; ++i) {
    pid_t tid = g_runtime_thread_ids[i].load(std::memory_order_acquire);
    if (tid != 0) ids.push_back(tid);
  }
  return ids;
}
inline bool IsRuntimeThread() { return t_is_runtime_thread; }

}  // namespace prescient
