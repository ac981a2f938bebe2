// The token flags every command that connects to, or serves, a memory node
// shares: --token-file FILE (or PRESCIENT_TOKEN), and a --token that is
// refused, saying why, since a secret on a command line is in `ps` for every
// user to read (transport/token.h).
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "prescient/status.h"

namespace prescient::cli {

struct TokenFlags {
  std::string file;
  std::string on_command_line;  // --token VALUE: refused
};

// `role` completes the help text: "the memory node(s)' shared secret", say.
void AddTokenFlags(CLI::App* cmd, const std::string& role, TokenFlags* flags);
// The token the flags and the environment give (empty when neither does).
Status TokenFromFlags(const TokenFlags& flags, std::string* token);

}  // namespace prescient::cli
