#include "provenance.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <string>

#include <fmt/format.h>

#include "subprocess.h"

namespace prescient::cli {
namespace {

std::string ReadFirstLine(const std::string& path, const std::string& prefix) {
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);)
    if (line.rfind(prefix, 0) == 0) {
      const size_t colon = line.find(':');
      return colon == std::string::npos ? line : line.substr(line.find_first_not_of(" \t", colon + 1));
    }
  return "";
}

std::string Commit() {
  std::string commit = "unknown";
#ifdef PRESCIENT_SOURCE_DIR
  ChildResult r;
  ChildOptions quiet;
  quiet.timeout_s = 10;
  if (RunChild({"git", "-C", PRESCIENT_SOURCE_DIR, "rev-parse", "HEAD"}, quiet, &r).ok() && r.exit_code == 0) {
    commit = r.out.substr(0, r.out.find('\n'));
    if (RunChild({"git", "-C", PRESCIENT_SOURCE_DIR, "status", "--porcelain", "--untracked-files=no"}, quiet, &r).ok() && r.exit_code == 0 && !r.out.empty())
      commit += "-dirty";
  }
#endif
  return commit;
}

std::string UtcNow() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

}  // namespace

std::string CommandLine() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()), line;
  size_t start = 0;
  bool first = true;
  for (size_t i = 0; i <= all.size(); ++i) {
    if (i < all.size() && all[i] != '\0') continue;
    if (i == start && i == all.size()) break;
    std::string arg = all.substr(start, i - start);
    if (first) arg = "prescient";  // the path of the binary says nothing useful
    if (arg.find_first_of(" \t'\"$") != std::string::npos) arg = "'" + arg + "'";
    line += (first ? "" : " ") + arg;
    first = false;
    start = i + 1;
  }
  return line;
}

nlohmann::json Provenance() {
  nlohmann::json p;
  p["version"] = PRESCIENT_VERSION;
  p["commit"] = Commit();
  p["command"] = CommandLine();
  p["time"] = UtcNow();
  utsname u{};
  uname(&u);
  p["machine"] = {{"kernel", fmt::format("{} {} {}", u.sysname, u.release, u.machine)},
                  {"hostname", u.nodename},
                  {"cpus", sysconf(_SC_NPROCESSORS_ONLN)},
                  {"cpu_model", ReadFirstLine("/proc/cpuinfo", "model name")},
                  {"memory", ReadFirstLine("/proc/meminfo", "MemTotal")}};
  return p;
}

}  // namespace prescient::cli
