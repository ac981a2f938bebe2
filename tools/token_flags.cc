#include "token_flags.h"

#include "transport/token.h"

namespace prescient::cli {

void AddTokenFlags(CLI::App* cmd, const std::string& role, TokenFlags* flags) {
  cmd->add_option("--token-file", flags->file, "File (mode 0600) holding " + role + "; or set PRESCIENT_TOKEN");
  // Hidden: accepted by the parser only to be refused with the reason.
  cmd->add_option("--token", flags->on_command_line)->group("");
}

Status TokenFromFlags(const TokenFlags& flags, std::string* token) {
  if (!flags.on_command_line.empty())
    return Status::InvalidArgument(
        "--token is refused: a secret on the command line is shown by `ps` to every user. Put it in a file only you can read "
        "(chmod 600) and pass --token-file FILE, or set the PRESCIENT_TOKEN environment variable");
  return ResolveToken(flags.file, token);
}

}  // namespace prescient::cli
