// Where a machine-readable output came from: the tool's version and the
// commit it was built from, the command line, the machine and the time.
// Every JSON the CLI writes carries it as "provenance".
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace prescient::cli {

nlohmann::json Provenance();
// This process's command line as the user typed it ("prescient ..."), quoted where needed.
std::string CommandLine();

}  // namespace prescient::cli
