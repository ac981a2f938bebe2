// WorkerThread: a runtime thread that sleeps until woken, then runs a body.
// The evictor and the prefetch worker each own one.
//
// Notify() wakes the thread; notifications that arrive while it is awake are
// not lost, but coalesce into one more run of the body. Stop() wakes it for
// the last time and joins it: a thread asleep at that moment runs the body
// once more first, so a body that must not run on stop checks stopping().
// The thread marks itself a runtime thread (thread_role.h) before anything
// else.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace prescient {

class WorkerThread {
 public:
  // `body` runs on the thread, without the lock held, once per wake-up.
  explicit WorkerThread(std::function<void()> body);
  ~WorkerThread();  // Stop()
  WorkerThread(const WorkerThread&) = delete;
  WorkerThread& operator=(const WorkerThread&) = delete;

  void Start();
  // Idempotent; returns once the thread has finished.
  void Stop();
  void Notify();
  // True once Stop() has been called.
  bool stopping() const;

 private:
  void Run();

  std::function<void()> body_;
  std::thread thread_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool notified_ = false;
};

}  // namespace prescient
