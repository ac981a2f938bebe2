#include "list_flags.h"

#include <cstdlib>
#include <sstream>

#include <fmt/format.h>

namespace prescient::cli {

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  for (std::string item; std::getline(ss, item, ',');) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

Status ParseLocalPercents(const std::string& flag, std::vector<double>* out) {
  out->clear();
  for (const std::string& item : SplitList(flag)) {
    std::string number = item.back() == '%' ? item.substr(0, item.size() - 1) : item;
    char* end = nullptr;
    double pct = std::strtod(number.c_str(), &end);
    if (number.empty() || *end != '\0' || !(pct > 0 && pct <= 100))
      return Status::InvalidArgument(fmt::format("--local {}: '{}' is not a percentage in (0, 100]", flag, item));
    out->push_back(pct);
  }
  return Status::Ok();
}

Status CheckTraceModels(const std::string& flag, const std::string& path, const AccessStream& stream, double pct) {
  if (pct / 100.0 >= stream.capture_local_fraction - 1e-9) return Status::Ok();
  return Status::InvalidArgument(fmt::format("--local {}: {} was captured with a {:g}% cache and holds only the accesses that missed it, so it "
                                             "cannot model {:g}%; capture again with a smaller --local",
                                             flag, path, stream.capture_local_fraction * 100, pct));
}

}  // namespace prescient::cli
