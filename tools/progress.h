// A progress bar for long benchmark runs: overall progress, the cell in
// flight and an estimate of the time left. Work is measured in weights
// (expected seconds), so one slow cell does not make the bar lie. On a
// terminal it redraws one line every second; otherwise it prints a line per
// cell, and one more every 30 s (PRESCIENT_PROGRESS_SECONDS) while a long
// cell runs, which reads well in a CI log.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace prescient::cli {

class Progress {
 public:
  Progress(std::string title, double total_weight);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // Steps may overlap: Begin returns an id for the matching End.
  int Begin(const std::string& cell, double weight);
  void End(int id);
  // The remaining work shrank or grew (a skipped step, a re-estimate).
  void AdjustTotal(double delta);
  void Finish();

 private:
  std::string Line();
  void Tick();

  const std::string title_;
  const bool tty_;
  const uint64_t start_ns_;
  std::mutex mu_;
  std::condition_variable_any wake_;  // ends the ticker's wait at Finish
  struct InFlight {
    std::string cell;
    double weight;
    uint64_t start_ns;
  };
  double total_ = 0, done_ = 0;
  int cells_done_ = 0, next_id_ = 0;
  std::map<int, InFlight> in_flight_;
  bool finished_ = false;
  std::jthread ticker_;
};

// "1h02m", "3m10s", "42s".
std::string FormatDuration(double seconds);

}  // namespace prescient::cli
