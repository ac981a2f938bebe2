#include "progress.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>

#include "common/clock.h"

namespace prescient::cli {

std::string FormatDuration(double seconds) {
  const int64_t s = static_cast<int64_t>(std::max(0.0, seconds) + 0.5);
  if (s >= 3600) return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
  if (s >= 60) return fmt::format("{}m{:02}s", s / 60, s % 60);
  return fmt::format("{}s", s);
}

namespace {

// How often a line is printed without a terminal.
std::chrono::milliseconds LogInterval() {
  const char* env = std::getenv("PRESCIENT_PROGRESS_SECONDS");
  const double s = env != nullptr ? std::atof(env) : 30.0;
  return std::chrono::milliseconds(static_cast<int64_t>(std::max(s, 0.1) * 1000));
}

}  // namespace

Progress::Progress(std::string title, double total_weight)
    : title_(std::move(title)), tty_(isatty(STDERR_FILENO) == 1), start_ns_(NowNanos()), total_(total_weight) {
  const auto interval = tty_ ? std::chrono::milliseconds(1000) : LogInterval();
  ticker_ = std::jthread([this, interval](std::stop_token stop) {
    std::unique_lock lock(mu_);
    while (!wake_.wait_for(lock, stop, interval, [] { return false; })) {
      if (stop.stop_requested() || finished_) return;
      lock.unlock();
      Tick();
      lock.lock();
    }
  });
}

Progress::~Progress() { Finish(); }

std::string Progress::Line() {
  const double elapsed = static_cast<double>(NowNanos() - start_ns_) / 1e9;
  // Credit the steps in flight with their elapsed time, up to their weight.
  double done = done_;
  std::string cells;
  for (const auto& [id, f] : in_flight_) {
    done += std::min(f.weight, static_cast<double>(NowNanos() - f.start_ns) / 1e9);
    cells += (cells.empty() ? "" : " + ") + f.cell;
  }
  const double fraction = total_ > 0 ? std::clamp(done / total_, 0.0, 1.0) : 1.0;
  constexpr int kWidth = 24;
  const int filled = static_cast<int>(fraction * kWidth);
  std::string bar(static_cast<size_t>(filled), '#');
  bar.resize(kWidth, '.');
  std::string eta = done > 0 && fraction > 0.01 ? FormatDuration(elapsed * (1 - fraction) / fraction) + " left" : "estimating";
  return fmt::format("{} [{}] {:3.0f}% {} done, {} elapsed, {}{}{}", title_, bar, fraction * 100, cells_done_, FormatDuration(elapsed), eta,
                     cells.empty() ? "" : " | ", cells);
}

void Progress::Tick() {
  std::lock_guard lock(mu_);
  if (finished_) return;
  fmt::print(stderr, "{}{}{}", tty_ ? "\r\033[K" : "", Line(), tty_ ? "" : "\n");
  std::fflush(stderr);
}

int Progress::Begin(const std::string& cell, double weight) {
  std::lock_guard lock(mu_);
  const int id = next_id_++;
  in_flight_[id] = {cell, weight, NowNanos()};
  fmt::print(stderr, "{}{}{}", tty_ ? "\r\033[K" : "", Line(), tty_ ? "" : "\n");
  std::fflush(stderr);
  return id;
}

void Progress::End(int id) {
  std::lock_guard lock(mu_);
  auto it = in_flight_.find(id);
  if (it == in_flight_.end()) return;
  done_ += it->second.weight;
  in_flight_.erase(it);
  ++cells_done_;
}

void Progress::AdjustTotal(double delta) {
  std::lock_guard lock(mu_);
  total_ = std::max(done_, total_ + delta);
}

void Progress::Finish() {
  {
    std::lock_guard lock(mu_);
    if (finished_) return;
    finished_ = true;
  }
  ticker_.request_stop();  // wakes its wait
  ticker_ = std::jthread();  // joins
  fmt::print(stderr, "{}{} done: {} steps in {}\n", tty_ ? "\r\033[K" : "", title_, cells_done_,
             FormatDuration(static_cast<double>(NowNanos() - start_ns_) / 1e9));
}

}  // namespace prescient::cli
