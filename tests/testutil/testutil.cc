#include "testutil/testutil.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace prescient::testing {

std::string BuildPath(const std::string& relative) { return std::string(PRESCIENT_BINARY_DIR) + "/" + relative; }

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string templ = std::string(base && *base ? base : "/tmp") + "/prescient-test-XXXXXX";
  if (mkdtemp(templ.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = templ;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Child::Child(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
  std::string out = dir_.file("stdout"), err = dir_.file("stderr");
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    int fo = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int fe = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int fi = open("/dev/null", O_RDONLY);
    dup2(fi, 0);
    dup2(fo, 1);
    dup2(fe, 2);
    for (const auto& kv : env) putenv(const_cast<char*>(kv.c_str()));
    execv(args[0], args.data());
    _exit(127);
  }
}

Child::~Child() {
  if (!reaped_ && pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, &status_, 0);
  }
}

int Child::Wait(std::chrono::milliseconds timeout) {
  if (reaped_) return status_;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int st = 0;
    pid_t r = waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
      reaped_ = true;
      status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      return status_;
    }
    if (std::chrono::steady_clock::now() >= deadline) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

void Child::Kill(int signal) {
  if (!reaped_) kill(pid_, signal);
}

bool Child::Running() { return Wait(std::chrono::milliseconds(0)) == -1; }

std::string Child::Stdout() const { return ReadFile(dir_.path() + "/stdout"); }
std::string Child::Stderr() const { return ReadFile(dir_.path() + "/stderr"); }

Memnode::Memnode(const std::vector<std::string>& extra_args, const std::vector<std::string>& env) {
  std::string port_file = dir_.file("port");
  std::vector<std::string> argv = {BuildPath("prescient"), "memnode", "--listen", "127.0.0.1:0", "--port-file", port_file};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  child_ = std::make_unique<Child>(argv, env);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    std::string port = ReadFile(port_file);
    if (!port.empty() && port.back() == '\n') {
      port.pop_back();
      endpoint_ = "127.0.0.1:" + port;
      return;
    }
    if (!child_->Running()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  throw std::runtime_error("memnode did not start: " + child_->Stderr());
}

uint64_t ResidentAndPageTableBytes(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  uint64_t kib = 0;
  for (std::string line; std::getline(status, line);) {
    if (line.starts_with("VmRSS:") || line.starts_with("VmPTE:")) kib += std::stoull(line.substr(6));
  }
  return kib << 10;
}

}  // namespace prescient::testing
