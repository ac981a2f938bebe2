// The commands that need libtorch (train, bench, dlrm) live in prescient-ml,
// beside this binary: linking libtorch here would load its ~290 shared
// libraries, about 0.8 s of CPU, at the start of every `prescient run`
// (D107). In the light binary each of them is a stub that execs
// prescient-ml with the same command line, so both binaries take the same
// words and `prescient train ...` works as before.
#include <limits.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "commands.h"

namespace prescient::cli {

namespace {

std::vector<std::string> g_argv;

std::string HeavyBinary() {
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n <= 0) return "prescient-ml";
  std::string path(self, static_cast<size_t>(n));
  return path.substr(0, path.rfind('/') + 1) + "prescient-ml";
}

[[noreturn]] void ExecHeavy() {
  const std::string binary = HeavyBinary();
  // argv[0] stays what the user typed, so usage lines name `prescient`.
  std::vector<char*> argv;
  for (const std::string& word : g_argv) argv.push_back(const_cast<char*>(word.c_str()));
  argv.push_back(nullptr);
  execv(binary.c_str(), argv.data());
  std::fprintf(stderr, "prescient: cannot start %s, which this command needs: %s\n", binary.c_str(), std::strerror(errno));
  _exit(127);
}

void AddForwarded(CLI::App& app, const char* name, const char* description) {
  auto* cmd = app.add_subcommand(name, description);
  // Every word after the name, --help included, is prescient-ml's to parse.
  cmd->prefix_command();
  cmd->allow_extras();
  cmd->set_help_flag();
  cmd->callback([] { ExecHeavy(); });
}

}  // namespace

void SetForwardedArgv(int argc, char** argv) { g_argv.assign(argv, argv + argc); }

void AddForwardedCommands(CLI::App& app) {
  AddForwarded(app, "train", "Train the learned prefetcher's model on traces (runs prescient-ml)");
  AddForwarded(app, "bench", "Benchmarks: the paper-style evaluation, and the micro-benchmarks against their goals (runs prescient-ml)");
  AddForwarded(app, "dlrm", "Train a recommendation model on a far-memory embedding store (runs prescient-ml)");
}

}  // namespace prescient::cli
