// Which threads may touch the managed region.
//
// The runtime's own threads (fault handlers, prefetch worker, evictor, backend
// receivers) serve the region's faults, so they must never fault on it: a
// fault thread waiting on itself would hang the process. They mark themselves
// here, and the preload allocator sends every allocation they make to the
// ordinary libc heap.
#pragma once

namespace prescient {

inline thread_local bool t_is_runtime_thread = false;

// Call first thing in every thread the runtime or a backend starts.
inline void MarkRuntimeThread() { t_is_runtime_thread = true; }
inline bool IsRuntimeThread() { return t_is_runtime_thread; }

}  // namespace prescient
