// Which threads may touch the managed region.
//
// The runtime's own threads (fault handlers, prefetch worker, evictor, backend
// receivers) serve the region's faults, so they must never fault on it: a
// fault thread waiting on itself would hang the process. They mark themselves
// here, and the preload allocator sends every allocation they make to the
// ordinary libc heap.
#pragma once

namespace prescient {

// initial-exec: the preloaded library is loaded at start-up, so its TLS is in
// the static block and reading it can never call malloc (which would recurse).
inline thread_local bool t_is_runtime_thread __attribute__((tls_model("initial-exec"))) = false;

// Call first thing in every thread the runtime or a backend starts.
inline void MarkRuntimeThread() { t_is_runtime_thread = true; }
inline bool IsRuntimeThread() { return t_is_runtime_thread; }

}  // namespace prescient
