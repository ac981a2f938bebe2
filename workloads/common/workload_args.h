// The command line every workload accepts, so that scripts and tests can drive
// any of them the same way:
//
//   --small          a ~50 MiB run that finishes in seconds (default: ~1 GiB)
//   --seed N         seed for input generation (default 1)
//   --input FAMILY   input family; the first listed is the default
//   --list-inputs    print the families, one per line, and exit 0
//   --threads N      worker threads (default: the runtime's choice)
//   --help           print usage and exit 0
//
// Both "--flag value" and "--flag=value" are accepted, and a bare "--" is
// ignored (launchers pass it along; there are no operands). Anything else is an
// error: a message naming the argument goes to stderr and the process exits 2.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace workload {

struct WorkloadArgs {
  bool small = false;
  uint64_t seed = 1;
  std::string input;  // always one of the families passed to ParseWorkloadArgs
  int threads = 0;    // 0: not given; leave the thread count to the runtime
};

// `program` names the workload in messages, `summary` is one line for --help,
// and `families` are its input families (non-empty; the first is the default).
// Exits the process for --help, --list-inputs and every error.
WorkloadArgs ParseWorkloadArgs(int argc, char** argv, const std::string& program, const std::string& summary,
                               const std::vector<std::string>& families);

}  // namespace workload
