// Parsing of the sizes and fractions users type on command lines.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "prescient/status.h"

namespace prescient {

// "4096", "64K", "1.5G", "2GiB", "512m" -> bytes. Suffixes are binary (K = 1024).
Status ParseBytes(std::string_view text, uint64_t* bytes);
// "25%" or "0.25" -> 0.25. Must be in (0, 1].
Status ParseFraction(std::string_view text, double* fraction);
// 1536 -> "1.5 KiB".
std::string FormatBytes(uint64_t bytes);

}  // namespace prescient
