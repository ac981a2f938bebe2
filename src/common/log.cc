#include "common/log.h"

#include <unistd.h>

#include <cerrno>
#include <mutex>
#include <string>

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

namespace prescient {

namespace {

class FdSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit FdSink(int fd) : fd_(fd) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    const char* p = formatted.data();
    size_t left = formatted.size();
    while (left > 0) {
      ssize_t n = ::write(fd_, p, left);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;  // nowhere to report a failure to log
      p += n;
      left -= static_cast<size_t>(n);
    }
  }
  void flush_() override {}

 private:
  int fd_;
};

}  // namespace

std::shared_ptr<spdlog::logger> MakeFdLogger(std::string_view name, int fd) {
  return std::make_shared<spdlog::logger>(std::string(name), std::make_shared<FdSink>(fd));
}

void InstallStderrLogger(std::string_view name, std::string_view level) {
  auto logger = MakeFdLogger(name, STDERR_FILENO);
  auto parsed = spdlog::level::from_str(std::string(level));
  // from_str maps unknown names to "off"; a typo must not silence errors.
  logger->set_level(parsed == spdlog::level::off && level != "off" ? spdlog::level::info : parsed);
  spdlog::set_default_logger(std::move(logger));
}

}  // namespace prescient
