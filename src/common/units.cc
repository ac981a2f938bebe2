#include "common/units.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <string>

#include <fmt/format.h>

namespace prescient {

static std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Status ParseBytes(std::string_view text, uint64_t* bytes) {
  std::string s = Lower(text);
  if (s.empty()) return Status::InvalidArgument("empty size; expected e.g. 512M or 2G");
  char* end = nullptr;
  double value = std::strtod(s.c_str(), &end);
  if (end == s.c_str() || !std::isfinite(value) || value < 0)
    return Status::InvalidArgument(fmt::format("'{}' is not a size; expected e.g. 4096, 512M or 2G", text));
  std::string suffix(end);
  for (const char* strip : {"ib", "b"}) {
    if (suffix.size() > std::string(strip).size() && suffix.ends_with(strip)) { suffix.resize(suffix.size() - std::string(strip).size()); break; }
  }
  double mult = 1;
  if (suffix.empty() || suffix == "b") mult = 1;
  else if (suffix == "k") mult = 1024.0;
  else if (suffix == "m") mult = 1024.0 * 1024;
  else if (suffix == "g") mult = 1024.0 * 1024 * 1024;
  else if (suffix == "t") mult = 1024.0 * 1024 * 1024 * 1024;
  else return Status::InvalidArgument(fmt::format("'{}' has an unknown unit '{}'; use K, M, G or T", text, suffix));
  double total = value * mult;
  if (total > 1.8e19) return Status::InvalidArgument(fmt::format("'{}' is too large", text));
  *bytes = static_cast<uint64_t>(total);
  return Status::Ok();
}

Status ParseFraction(std::string_view text, double* fraction) {
  std::string s(text);
  bool percent = !s.empty() && s.back() == '%';
  if (percent) s.pop_back();
  char* end = nullptr;
  double value = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(value))
    return Status::InvalidArgument(fmt::format("'{}' is not a fraction; expected e.g. 25% or 0.25", text));
  if (percent || value > 1.0) value /= 100.0;
  if (value <= 0.0 || value > 1.0)
    return Status::InvalidArgument(fmt::format("'{}' must be above 0% and at most 100%", text));
  *fraction = value;
  return Status::Ok();
}

std::string FormatBytes(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024.0 && u < 4) { v /= 1024.0; ++u; }
  return u == 0 ? fmt::format("{} B", bytes) : fmt::format("{:.1f} {}", v, kUnits[u]);
}

}  // namespace prescient
