#include "transport/lazy_backend.h"

#include <atomic>
#include <mutex>

#include <fmt/format.h>

namespace prescient {
namespace {

class LazyBackend final : public Backend {
 public:
  LazyBackend(BackendConnector connect, std::string description) : connect_(std::move(connect)), description_(std::move(description)) {}

  IoTicket read_pages(std::span<const PageIo> pages, Status* status) override {
    Backend* b = Connected(status);
    return b != nullptr ? b->read_pages(pages, status) : 0;
  }
  IoTicket write_pages(std::span<const PageIo> pages, Status* status) override {
    Backend* b = Connected(status);
    return b != nullptr ? b->write_pages(pages, status) : 0;
  }
  Status discard_pages(uint64_t first_page, uint64_t count) override {
    Backend* b = backend_.load(std::memory_order_acquire);
    return b != nullptr ? b->discard_pages(first_page, count) : Status::Ok();
  }
  // A ticket comes only from a connected backend.
  Status wait(IoTicket ticket) override { return backend_.load(std::memory_order_acquire)->wait(ticket); }
  std::string describe() const override {
    Backend* b = backend_.load(std::memory_order_acquire);
    return b != nullptr ? b->describe() : description_;
  }
  BackendStats stats() const override {
    Backend* b = backend_.load(std::memory_order_acquire);
    return b != nullptr ? b->stats() : BackendStats{};
  }

 private:
  Backend* Connected(Status* status) {
    if (Backend* b = backend_.load(std::memory_order_acquire)) return b;
    std::lock_guard<std::mutex> lock(mu_);
    if (Backend* b = backend_.load(std::memory_order_relaxed)) return b;
    if (failure_.ok()) {
      Status st;
      owned_ = connect_(&st);
      if (owned_ != nullptr) {
        backend_.store(owned_.get(), std::memory_order_release);
        return owned_.get();
      }
      failure_ = Status::Unavailable(fmt::format("connecting to {} on first need: {}", description_, st.message()));
    }
    *status = failure_;
    return nullptr;
  }

  const BackendConnector connect_;
  const std::string description_;
  std::mutex mu_;
  std::unique_ptr<Backend> owned_;  // guarded by mu_
  Status failure_;                  // guarded by mu_: a failed connection is not retried
  std::atomic<Backend*> backend_{nullptr};
};

}  // namespace

std::unique_ptr<Backend> MakeLazyBackend(BackendConnector connect, std::string description) {
  return std::make_unique<LazyBackend>(std::move(connect), std::move(description));
}

}  // namespace prescient
