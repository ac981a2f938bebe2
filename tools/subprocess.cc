#include "subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <time.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>

#include <fmt/format.h>

#include "common/clock.h"

extern char** environ;

namespace prescient::cli {

namespace {

std::string TailOfFile(const std::string& path, size_t max_lines) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    lines.push_back(line);
    if (lines.size() > max_lines) lines.erase(lines.begin());
  }
  std::string tail;
  for (const std::string& l : lines) tail += l + "\n";
  return tail;
}

// Children run in process groups of their own, recorded here, so that a
// SIGINT, SIGTERM or SIGHUP that stops this process stops them and whatever
// they started, instead of leaving them writing into its output.
constexpr int kStopSignals[] = {SIGINT, SIGTERM, SIGHUP};
constexpr size_t kMostLiveGroups = 256;
std::atomic<pid_t> g_live_groups[kMostLiveGroups];

// Spawns between their start and their record: the handler waits them out,
// since the signal may run on any thread, not the one spawning.
std::atomic<int> g_spawns_in_flight{0};
std::atomic<bool> g_stopping{false};

void SleepMs(long ms) {
  timespec t{0, ms * 1000000};
  nanosleep(&t, nullptr);
}

// Sends `sig` (0: none, only a check) to every recorded group; true when
// any of them still exists.
bool SignalGroups(int sig) {
  bool any = false;
  for (std::atomic<pid_t>& group : g_live_groups) {
    const pid_t g = group.load(std::memory_order_acquire);
    if (g > 0 && kill(-g, sig) == 0) any = true;
  }
  return any;
}

void StopChildrenAndDie(int sig) {
  g_stopping.store(true);
  for (int i = 0; i < 1000 && g_spawns_in_flight.load() > 0; ++i) SleepMs(1);
  SignalGroups(SIGTERM);
  // A second to end cleanly (prescient run passes SIGTERM on to its
  // program), then whatever is left is killed.
  for (int i = 0; i < 100 && SignalGroups(0); ++i) SleepMs(10);
  SignalGroups(SIGKILL);
  // Then what the signal would have done (the handler was installed with
  // SA_RESETHAND, so the default action is back).
  raise(sig);
}

void InstallStopHandlersOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    for (int sig : kStopSignals) {
      struct sigaction current {};
      sigaction(sig, nullptr, &current);
      if (current.sa_handler == SIG_IGN) continue;  // nohup: stay immune
      struct sigaction stop {};
      stop.sa_handler = StopChildrenAndDie;
      stop.sa_flags = SA_RESETHAND;
      sigemptyset(&stop.sa_mask);
      sigaction(sig, &stop, nullptr);
    }
  });
}

// Claims a slot for the group `pid` leads; -1 when all are taken (the child
// then runs unrecorded, as before).
int RecordGroup(pid_t pid) {
  for (size_t i = 0; i < kMostLiveGroups; ++i) {
    pid_t empty = 0;
    if (g_live_groups[i].compare_exchange_strong(empty, pid, std::memory_order_acq_rel)) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace

std::string SelfExecutable() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return "prescient";
  const std::string self(buf, static_cast<size_t>(n));
  const std::string light = self.substr(0, self.rfind('/') + 1) + "prescient";
  return access(light.c_str(), X_OK) == 0 ? light : self;
}

Status RunChild(const std::vector<std::string>& argv, const ChildOptions& options, ChildResult* result) {
  *result = ChildResult{};
  if (argv.empty()) return Status::InvalidArgument("RunChild: empty command");
  std::string err_path = options.stderr_path;
  bool temporary_err = false;
  if (err_path.empty()) {
    char tmpl[] = "/tmp/prescient-child-XXXXXX";
    int fd = mkstemp(tmpl);
    if (fd < 0) return Status::FromErrno("mkstemp", errno);
    close(fd);
    err_path = tmpl;
    temporary_err = true;
  }
  int out_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) return Status::FromErrno("pipe2", errno);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);

  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
  for (const std::string& extra : options.extra_env) {
    const std::string name = extra.substr(0, extra.find('=') + 1);
    std::erase_if(env, [&](const std::string& v) { return v.rfind(name, 0) == 0; });
    env.push_back(extra);
  }
  std::vector<char*> cargv, cenv;
  for (const std::string& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  for (const std::string& e : env) cenv.push_back(const_cast<char*>(e.c_str()));
  cenv.push_back(nullptr);

  InstallStopHandlersOnce();
  // The stop signals wait while the child starts and is recorded, so none
  // can come between and leave it behind; the child gets the mask as it was.
  sigset_t stop_signals, before;
  sigemptyset(&stop_signals);
  for (int sig : kStopSignals) sigaddset(&stop_signals, sig);
  pthread_sigmask(SIG_BLOCK, &stop_signals, &before);
  g_spawns_in_flight.fetch_add(1);
  if (g_stopping.load()) {
    g_spawns_in_flight.fetch_sub(1);
    pthread_sigmask(SIG_SETMASK, &before, nullptr);
    posix_spawn_file_actions_destroy(&actions);
    close(out_pipe[0]);
    close(out_pipe[1]);
    if (temporary_err) unlink(err_path.c_str());
    return Status::Unavailable(fmt::format("not starting {}: this process is stopping", argv[0]));
  }
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setsigmask(&attr, &before);

  const int64_t start = static_cast<int64_t>(NowNanos());
  pid_t pid = -1;
  int rc = argv[0].find('/') == std::string::npos ? posix_spawnp(&pid, argv[0].c_str(), &actions, &attr, cargv.data(), cenv.data())
                                                   : posix_spawn(&pid, argv[0].c_str(), &actions, &attr, cargv.data(), cenv.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  const int slot = rc == 0 ? RecordGroup(pid) : -1;
  g_spawns_in_flight.fetch_sub(1);
  pthread_sigmask(SIG_SETMASK, &before, nullptr);
  close(out_pipe[1]);
  if (rc != 0) {
    close(out_pipe[0]);
    if (temporary_err) unlink(err_path.c_str());
    return Status::FromErrno(fmt::format("cannot start {}", argv[0]), rc);
  }

  // Drain stdout until it closes or the deadline passes.
  const int64_t deadline = start + static_cast<int64_t>(options.timeout_s * 1e9);
  char buf[65536];
  for (;;) {
    const int64_t left_ms = (deadline - static_cast<int64_t>(NowNanos())) / 1000000;
    if (left_ms <= 0) {
      result->timed_out = true;
      kill(-pid, SIGKILL);  // its group: whatever it started too
      break;
    }
    pollfd p{out_pipe[0], POLLIN, 0};
    int ready = poll(&p, 1, static_cast<int>(std::min<int64_t>(left_ms, 1000)));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;
    ssize_t n = read(out_pipe[0], buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    result->out.append(buf, static_cast<size_t>(n));
  }
  close(out_pipe[0]);
  // stdout closed; the child may still linger (e.g. it closed stdout early).
  int status = 0;
  for (;;) {
    pid_t w = waitpid(pid, &status, WNOHANG);
    if (w == pid) break;
    if (w < 0 && errno != EINTR) break;
    if (static_cast<int64_t>(NowNanos()) > deadline && !result->timed_out) {
      result->timed_out = true;
      kill(-pid, SIGKILL);  // its group: whatever it started too
    }
    usleep(2000);
  }
  if (slot >= 0) g_live_groups[slot].store(0, std::memory_order_release);
  result->wall_s = static_cast<double>(static_cast<int64_t>(NowNanos()) - start) / 1e9;
  result->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  result->err_tail = TailOfFile(err_path, 8);
  if (temporary_err) unlink(err_path.c_str());
  return Status::Ok();
}

std::string DescribeFailure(const std::vector<std::string>& argv, const ChildResult& result) {
  std::string command;
  for (const std::string& a : argv) command += (command.empty() ? "" : " ") + a;
  if (result.timed_out) return fmt::format("`{}` was killed after {:.0f} s (its deadline)", command, result.wall_s);
  return fmt::format("`{}` exited with status {}{}{}", command, result.exit_code, result.err_tail.empty() ? "" : ":\n", result.err_tail);
}

}  // namespace prescient::cli
