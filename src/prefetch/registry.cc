// The table of prefetch policies, by the name users type.
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "prefetch/policies.h"
#include "prescient/prefetcher.h"

namespace prescient {

namespace {

using Factory = std::function<std::unique_ptr<Prefetcher>(const PrefetchOptions&)>;

const std::vector<std::pair<std::string, Factory>>& Registry() {
  static const std::vector<std::pair<std::string, Factory>> kPolicies = {
      {"none", MakeNonePrefetcher},
      {"readahead", MakeReadaheadPrefetcher},
      {"vma-readahead", MakeVmaReadaheadPrefetcher},
      {"leap", MakeLeapPrefetcher},
      {"stride", MakeStridePrefetcher},
  };
  return kPolicies;
}

}  // namespace

std::vector<std::string> PrefetcherNameList() {
  std::vector<std::string> names;
  for (const auto& [name, factory] : Registry()) names.push_back(name);
  return names;
}

std::string PrefetcherNames() {
  std::string names;
  for (const auto& [name, factory] : Registry()) names += (names.empty() ? "" : ",") + name;
  return names;
}

std::unique_ptr<Prefetcher> MakePrefetcher(std::string_view name, const PrefetchOptions& options, Status* status) {
  for (const auto& [known, factory] : Registry()) {
    if (known == name) return factory(options);
  }
  *status = Status::InvalidArgument(fmt::format("unknown prefetch policy '{}'; choose one of: {}", name, PrefetcherNames()));
  return nullptr;
}

}  // namespace prescient
