#include "common/workload_args.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include <fmt/core.h>

namespace workload {
namespace {

[[noreturn]] void UsageError(const std::string& program, const std::string& message) {
  fmt::print(stderr, "{}: {} (see --help)\n", program, message);
  std::exit(2);
}

void PrintHelp(const std::string& program, const std::string& summary, const std::vector<std::string>& families) {
  fmt::print(
      "{}: {}\n"
      "usage: {} [--small] [--seed N] [--input FAMILY] [--threads N]\n"
      "       {} --list-inputs | --help\n"
      "  --small          small input (~50 MiB) instead of the default (~1 GiB)\n"
      "  --seed N         input generation seed (default 1)\n"
      "  --input FAMILY   input family (default {})\n"
      "  --list-inputs    print the input families and exit\n"
      "  --threads N      worker threads (default: all)\n",
      program, summary, program, program, families.front());
}

// Strict: the whole string must be a decimal number that fits.
bool ParseUnsigned(const std::string& text, uint64_t* out) {
  if (text.empty() || text[0] < '0' || text[0] > '9') return false;
  errno = 0;
  char* end = nullptr;
  unsigned long long value = std::strtoull(text.c_str(), &end, 10);
  if (errno != 0 || *end != '\0') return false;
  *out = value;
  return true;
}

}  // namespace

WorkloadArgs ParseWorkloadArgs(int argc, char** argv, const std::string& program, const std::string& summary,
                               const std::vector<std::string>& families) {
  WorkloadArgs args;
  args.input = families.front();
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--") continue;  // a separator some launchers pass along; there are no operands to separate
    std::string flag = arg;
    std::string value;
    bool has_inline_value = false;
    if (size_t eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      flag = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      has_inline_value = true;
    }
    auto take_value = [&]() -> std::string {
      if (has_inline_value) return value;
      if (i + 1 >= argc) UsageError(program, fmt::format("{} needs a value", flag));
      return argv[++i];
    };
    auto refuse_value = [&]() {
      if (has_inline_value) UsageError(program, fmt::format("{} takes no value", flag));
    };

    if (flag == "--help" || flag == "-h") {
      refuse_value();
      PrintHelp(program, summary, families);
      std::exit(0);
    } else if (flag == "--list-inputs") {
      refuse_value();
      for (const std::string& family : families) fmt::print("{}\n", family);
      std::exit(0);
    } else if (flag == "--small") {
      refuse_value();
      args.small = true;
    } else if (flag == "--seed") {
      std::string text = take_value();
      if (!ParseUnsigned(text, &args.seed)) UsageError(program, fmt::format("--seed '{}' is not a non-negative integer", text));
    } else if (flag == "--input") {
      std::string text = take_value();
      bool known = false;
      for (const std::string& family : families) known |= family == text;
      if (!known) UsageError(program, fmt::format("--input '{}' is not a known input family (see --list-inputs)", text));
      args.input = text;
    } else if (flag == "--threads") {
      std::string text = take_value();
      uint64_t n = 0;
      if (!ParseUnsigned(text, &n) || n < 1 || n > 4096)
        UsageError(program, fmt::format("--threads '{}' must be an integer from 1 to 4096", text));
      args.threads = static_cast<int>(n);
    } else if (arg.rfind("-", 0) == 0) {
      UsageError(program, fmt::format("unknown flag '{}'", arg));
    } else {
      UsageError(program, fmt::format("unexpected argument '{}'", arg));
    }
  }
  return args;
}

}  // namespace workload
