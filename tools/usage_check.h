// Checks the words of a command line against the commands and flags CLI11
// was told about, before CLI11 parses them: CLI11 reports a missing required
// flag, or "a subcommand is required", before it looks at an unknown word,
// so a typo was diagnosed as something else. An unknown command or flag is
// named, with the closest known one.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

namespace prescient::cli {

// Empty when every command and flag in argv[1..argc) is known (words that
// belong to a program being run are not checked); else the message.
std::string FindUnknownWord(const CLI::App& app, int argc, char** argv);

}  // namespace prescient::cli
