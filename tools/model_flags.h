// The flags of the `farsight` policy, shared by `prescient run`, `trace` and
// `sim`, and their check before anything starts: a missing, truncated or
// mismatched model is refused here with the loader's message.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "prescient/status.h"

namespace prescient::cli {

void AddModelFlags(CLI::App* cmd, std::string* model, int* lookahead, bool* no_hybrid);
// `policies` is one policy name or a comma-separated list.
Status CheckModelFlags(const std::string& policies, const std::string& model, int lookahead);

}  // namespace prescient::cli
