// Comma-separated flag values shared by `prescient sim` and `prescient train`.
#pragma once

#include <string>
#include <vector>

#include "prescient/status.h"
#include "sim/access_stream.h"

namespace prescient::cli {

// "a,b,,c" -> {"a", "b", "c"}.
std::vector<std::string> SplitList(const std::string& text);
// `--local 30,50%,80`: percentages in (0, 100]; the error quotes the flag.
Status ParseLocalPercents(const std::string& flag, std::vector<double>* out);
// A trace captured with a cache of X % holds only the accesses that missed
// it, so it cannot model a smaller size (D26).
Status CheckTraceModels(const std::string& flag, const std::string& path, const AccessStream& stream, double pct);

}  // namespace prescient::cli
