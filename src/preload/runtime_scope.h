// RuntimeScope: marks a stretch of an application thread as runtime work.
//
// When an application thread calls into the runtime (free() discarding pages,
// the report at exit, start-up), whatever the runtime allocates on its behalf
// must stay on glibc's heap, exactly as on a runtime thread: runtime data in
// the region could be evicted, and the next runtime access would wait on a
// fault the runtime itself has to serve. It is also not the program's heap,
// so the accounting for the report leaves it out.
#pragma once

#include "runtime/thread_role.h"

namespace prescient::preload {

class RuntimeScope {
 public:
  RuntimeScope() : saved_(t_is_runtime_thread) { t_is_runtime_thread = true; }
  ~RuntimeScope() { t_is_runtime_thread = saved_; }
  RuntimeScope(const RuntimeScope&) = delete;
  RuntimeScope& operator=(const RuntimeScope&) = delete;

 private:
  bool saved_;
};

}  // namespace prescient::preload
