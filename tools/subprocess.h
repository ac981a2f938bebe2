// Running a child command to completion for the benchmark drivers: its
// stdout into a string, its stderr into a file (so a failure can be shown),
// its wall time measured here, and a deadline after which it is killed so a
// stuck cell can never hang a whole benchmark.
#pragma once

#include <string>
#include <vector>

#include "prescient/status.h"

namespace prescient::cli {

struct ChildResult {
  int exit_code = -1;  // 128 + signal when killed
  bool timed_out = false;
  double wall_s = 0;
  std::string out;       // everything it wrote to stdout
  std::string err_tail;  // the last lines it wrote to stderr
};

struct ChildOptions {
  double timeout_s = 3600;
  std::vector<std::string> extra_env;  // "NAME=value", added to ours
  std::string stderr_path;             // where its stderr goes (empty: a temporary file)
};

// Runs argv[0] (looked up in PATH when it has no '/') with `argv`.
// Fails only when the child cannot be started; a child that fails is a
// ChildResult with a non-zero exit_code.
Status RunChild(const std::vector<std::string>& argv, const ChildOptions& options, ChildResult* result);

// "exit 3: <last stderr lines>" / "killed after 600 s" for messages.
std::string DescribeFailure(const std::vector<std::string>& argv, const ChildResult& result);

// The light `prescient` binary beside the running one (prescient-ml runs
// its children through it, so they start without libtorch, D107); the
// running executable itself if there is none.
std::string SelfExecutable();

}  // namespace prescient::cli
