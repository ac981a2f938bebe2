// Helpers for tests that run real child processes: the memory node, and
// programs under `prescient run`. Every wait is bounded, so a hang fails the
// test instead of stalling CI.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace prescient::testing {

// Absolute path of a file in the build tree, e.g. BuildPath("prescient").
std::string BuildPath(const std::string& relative);

// A fresh directory under $TMPDIR, removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A child process whose stdout and stderr go to files.
class Child {
 public:
  // Starts argv[0] (a path) with the given arguments and extra "K=V" env.
  Child(const std::vector<std::string>& argv, const std::vector<std::string>& env = {});
  ~Child();  // SIGKILLs the child if it is still running
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return pid_; }
  // Waits up to `timeout`; returns the exit status (128 + signal when killed),
  // or -1 on time-out, in which case the child keeps running.
  int Wait(std::chrono::milliseconds timeout);
  void Kill(int signal);
  bool Running();
  std::string Stdout() const;
  std::string Stderr() const;

 private:
  pid_t pid_ = -1;
  int status_ = -1;
  bool reaped_ = false;
  TempDir dir_;
};

// A `prescient memnode` on a loopback port chosen by the kernel.
class Memnode {
 public:
  // Throws std::runtime_error (with its stderr) if the node exits or does
  // not listen within 10 s.
  explicit Memnode(const std::vector<std::string>& extra_args = {}, const std::vector<std::string>& env = {});
  const std::string& endpoint() const { return endpoint_; }  // "127.0.0.1:PORT"
  Child& process() { return *child_; }

 private:
  TempDir dir_;
  std::unique_ptr<Child> child_;
  std::string endpoint_;
};

std::string ReadFile(const std::string& path);

// What process `pid` holds in memory: its resident set and its page tables
// (VmRSS + VmPTE), in bytes.
uint64_t ResidentAndPageTableBytes(pid_t pid);

}  // namespace prescient::testing
