#include "launcher.h"

#include <fcntl.h>
#include <link.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fmt/format.h>

#include "common/file_io.h"
#include "runtime/run_config.h"

extern char** environ;

namespace prescient::cli {

namespace {

volatile sig_atomic_t g_child_pid = 0;

void ForwardToChild(int sig) {
  if (g_child_pid > 0) kill(g_child_pid, sig);
}

// Formats `value` into the space after the '=' of `slot` (sized beforehand),
// without allocating: it runs in the forked child.
void FillPid(std::string* slot, pid_t value) {
  char digits[24];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value > 0);
  char* out = slot->data() + slot->find('=') + 1;
  while (n > 0) *out++ = digits[--n];
  *out = '\0';
}

void SetSignal(int sig, void (*handler)(int)) {
  struct sigaction action;
  std::memset(&action, 0, sizeof(action));
  action.sa_handler = handler;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(sig, &action, nullptr);
}

}  // namespace

std::vector<std::string> LoadedSanitizerRuntimes() {
  std::vector<std::string> found;
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* data) {
        std::string name = info->dlpi_name != nullptr ? info->dlpi_name : "";
        std::string base = name.substr(name.rfind('/') + 1);
        for (const char* runtime : {"libasan.so", "libhwasan.so", "libtsan.so", "libubsan.so", "liblsan.so"}) {
          if (base.starts_with(runtime)) static_cast<std::vector<std::string>*>(data)->push_back(name);
        }
        return 0;
      },
      &found);
  return found;
}

std::vector<std::string> ChildEnvironment(const std::vector<std::string>& preload, const std::vector<std::string>& extra) {
  std::vector<std::string> env;
  std::string ld_preload;
  for (const std::string& lib : preload) ld_preload += (ld_preload.empty() ? "" : ":") + lib;
  bool omp_wait_policy_set = false;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view kv(*e);
    if (kv.starts_with("PRESCIENT_")) continue;
    if (kv.starts_with("OMP_WAIT_POLICY=")) omp_wait_policy_set = true;
    if (kv.starts_with("LD_PRELOAD=")) {
      std::string_view existing = kv.substr(std::strlen("LD_PRELOAD="));
      if (!existing.empty()) ld_preload += ":" + std::string(existing);
      continue;
    }
    env.emplace_back(kv);
  }
  env.push_back("LD_PRELOAD=" + ld_preload);
  // OpenMP threads that spin at barriers starve the fault thread while a peer
  // waits for a page (D25); the user's own setting wins.
  if (!omp_wait_policy_set) env.push_back("OMP_WAIT_POLICY=passive");
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

int RunForUserTime(const Launch& launch, uint64_t* user_cpu_ns) {
  std::vector<std::string> env = launch.env;
  std::vector<char*> envp, argv;
  for (std::string& kv : env) envp.push_back(kv.data());
  envp.push_back(nullptr);
  for (const std::string& arg : launch.argv) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid < 0) return 1;
  if (pid == 0) {
    int null = open("/dev/null", O_RDWR);
    dup2(null, STDIN_FILENO);
    dup2(null, STDOUT_FILENO);
    dup2(null, STDERR_FILENO);
    execve(launch.path.c_str(), argv.data(), envp.data());
    _exit(errno == ENOENT ? 127 : 126);
  }
  int status = 0;
  rusage usage{};
  while (wait4(pid, &status, 0, &usage) < 0) {
    if (errno != EINTR) return 1;
  }
  *user_cpu_ns = static_cast<uint64_t>(usage.ru_utime.tv_sec) * 1000000000ull + static_cast<uint64_t>(usage.ru_utime.tv_usec) * 1000ull;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

LostWorkFile::~LostWorkFile() {
  if (fd_ >= 0) close(fd_);
}

bool LostWorkFile::Open() { return CreateProcessFile("prescient-lost-work", &fd_, &path_).ok(); }

uint64_t LostWorkFile::reports() const {
  struct stat st {};
  return fd_ >= 0 && fstat(fd_, &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

int RunAndWait(const Launch& launch, const std::string& report_path) {
  // Everything the child needs is built before fork().
  std::vector<std::string> env = launch.env;
  env.push_back(fmt::format("{}={:24}", kEnvRootPid, ""));
  std::string* pid_slot = &env.back();
  std::vector<char*> envp, argv;
  for (std::string& kv : env) envp.push_back(kv.data());
  envp.push_back(nullptr);
  for (const std::string& arg : launch.argv) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);

  // Set before fork so no SIGINT can kill us in between; the child restores
  // the defaults (exec keeps ignored signals ignored).
  SetSignal(SIGINT, SIG_IGN);
  SetSignal(SIGQUIT, SIG_IGN);
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid < 0) {
    fmt::print(stderr, "prescient run: cannot start a process: {}\n", std::strerror(errno));
    return 1;
  }
  if (pid == 0) {
    SetSignal(SIGINT, SIG_DFL);
    SetSignal(SIGQUIT, SIG_DFL);
    FillPid(pid_slot, getpid());
    execve(launch.path.c_str(), argv.data(), envp.data());
    int err = errno;
    const char* prefix = "prescient run: cannot execute ";
    (void)!write(STDERR_FILENO, prefix, std::strlen(prefix));
    (void)!write(STDERR_FILENO, launch.path.c_str(), launch.path.size());
    (void)!write(STDERR_FILENO, ": ", 2);
    (void)!write(STDERR_FILENO, std::strerror(err), std::strlen(std::strerror(err)));
    (void)!write(STDERR_FILENO, "\n", 1);
    _exit(err == ENOENT ? 127 : 126);
  }
  g_child_pid = pid;
  SetSignal(SIGTERM, ForwardToChild);
  SetSignal(SIGHUP, ForwardToChild);

  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      fmt::print(stderr, "prescient run: lost track of the command: {}\n", std::strerror(errno));
      return 1;
    }
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  int sig = WTERMSIG(status);
  fmt::print(stderr, "prescient run: the command was killed by signal {} ({}){}\n", sig, strsignal(sig),
             report_path.empty() ? "" : "; no report was written");
  return 128 + sig;
}

}  // namespace prescient::cli
