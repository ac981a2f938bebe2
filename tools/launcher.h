// Starting the program of `prescient run` with the preload library in place,
// and waiting for it the way a shell would.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace prescient::cli {

struct Launch {
  std::string path;               // resolved executable
  std::vector<std::string> argv;  // argv[0] as the user typed it
  std::vector<std::string> env;   // "NAME=value", complete
};

// Forks and execs `launch`, adding PRESCIENT_ROOT_PID=<child pid> so only that
// process (and the images it execs) writes the report. While waiting,
// SIGINT and SIGQUIT are left to the child (the terminal sends them to both)
// and SIGTERM and SIGHUP are passed on to it. Returns the child's exit
// status, or 128 + signal (saying so on stderr) when a signal killed it.
int RunAndWait(const Launch& launch, const std::string& report_path);

// Where the processes of a run record work they lost: a forked child that
// touches far memory is stopped (fork without exec is not supported) and
// appends a byte here, and the run then fails even if the program ignored
// its child's exit status. An anonymous file of this process, so that it
// lives exactly as long as the run.
class LostWorkFile {
 public:
  LostWorkFile() = default;
  ~LostWorkFile();
  LostWorkFile(const LostWorkFile&) = delete;
  LostWorkFile& operator=(const LostWorkFile&) = delete;
  // Creates it; path() is then what RunConfig::lost_work_file should say.
  bool Open();
  const std::string& path() const { return path_; }
  // How many processes recorded lost work so far.
  uint64_t reports() const;

 private:
  int fd_ = -1;
  std::string path_;
};

// Runs `launch` once with its output discarded and returns its exit status
// (128 + signal if killed), storing the user CPU time of all its threads.
int RunForUserTime(const Launch& launch, uint64_t* user_cpu_ns);

// The sanitizer runtimes loaded into this process, in load order. When the
// build is sanitized the preload library is instrumented too, and these must
// come first in the child's LD_PRELOAD.
std::vector<std::string> LoadedSanitizerRuntimes();

// The environment for the child: ours minus PRESCIENT_* (the run is described
// afresh), plus `extra`, with `preload` prepended to any LD_PRELOAD.
std::vector<std::string> ChildEnvironment(const std::vector<std::string>& preload, const std::vector<std::string>& extra);

}  // namespace prescient::cli
