#include "common/output.h"

#include <cstdio>
#include <fstream>

#include <fmt/core.h>

namespace workload {

void PrintPhase(const std::string& name, double seconds) {
  fmt::print("phase {} {:.3f} s\n", name, seconds);
  std::fflush(stdout);
}

uint64_t PeakRssBytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6)) * 1024;  // reported in kB
  }
  return 0;
}

void PrintPeakRss() {
  fmt::print("peak_rss {:.1f} MiB\n", static_cast<double>(PeakRssBytes()) / (1 << 20));
  std::fflush(stdout);
}

std::string FormatBytes(uint64_t bytes) {
  double b = static_cast<double>(bytes);
  if (bytes >= (uint64_t{1} << 30)) return fmt::format("{:.2f} GiB", b / (1 << 30));
  if (bytes >= (uint64_t{1} << 20)) return fmt::format("{:.1f} MiB", b / (1 << 20));
  if (bytes >= (uint64_t{1} << 10)) return fmt::format("{:.1f} KiB", b / (1 << 10));
  return fmt::format("{} B", bytes);
}

}  // namespace workload
