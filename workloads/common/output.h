// The output convention shared by the workloads: plain lines on stdout, no
// progress meters or carriage returns (output is often a file), a header line
// first, optional `phase <name> <seconds> s` lines, and the checksum last
// (Checksum::Print in checksum.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace workload {

// Wall-clock time since construction or the last Restart().
class Stopwatch {
 public:
  Stopwatch() : start_(std::chrono::steady_clock::now()) {}
  void Restart() { start_ = std::chrono::steady_clock::now(); }
  double Seconds() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count(); }

 private:
  std::chrono::steady_clock::time_point start_;
};

// Prints `phase <name> <seconds> s`.
void PrintPhase(const std::string& name, double seconds);

// Peak resident set size of this process (VmHWM), 0 if unknown.
uint64_t PeakRssBytes();

// Prints `peak_rss <MiB> MiB`.
void PrintPeakRss();

// "1.00 GiB", "48.0 MiB", "512 B": for header lines.
std::string FormatBytes(uint64_t bytes);

}  // namespace workload
