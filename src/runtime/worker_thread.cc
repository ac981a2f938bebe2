#include "runtime/worker_thread.h"

#include <utility>

#include "runtime/thread_role.h"

namespace prescient {

WorkerThread::WorkerThread(std::function<void()> body) : body_(std::move(body)) {}

WorkerThread::~WorkerThread() { Stop(); }

void WorkerThread::Start() { thread_ = std::thread([this] { Run(); }); }

void WorkerThread::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void WorkerThread::Notify() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    notified_ = true;
  }
  cv_.notify_one();
}

bool WorkerThread::stopping() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stop_;
}

void WorkerThread::Run() {
  MarkRuntimeThread();
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    cv_.wait(lock, [&] { return stop_ || notified_; });
    notified_ = false;
    lock.unlock();
    body_();
    lock.lock();
  }
}

}  // namespace prescient
