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

using Factory = std::function<std::unique_ptr<Prefetcher>(const PrefetchOptions&, Status*)>;

// The classic policies take any options.
template <std::unique_ptr<Prefetcher> (*Make)(const PrefetchOptions&)>
std::unique_ptr<Prefetcher> Always(const PrefetchOptions& options, Status*) {
  return Make(options);
}

const std::vector<std::pair<std::string, Factory>>& Registry() {
  static const std::vector<std::pair<std::string, Factory>> kPolicies = {
      {"none", Always<MakeNonePrefetcher>},
      {"readahead", Always<MakeReadaheadPrefetcher>},
      {"vma-readahead", Always<MakeVmaReadaheadPrefetcher>},
      {"leap", Always<MakeLeapPrefetcher>},
      {"stride", Always<MakeStridePrefetcher>},
      {"farsight", MakeFarsightPrefetcher},
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
    if (known == name) return factory(options, status);
  }
  *status = Status::InvalidArgument(fmt::format("unknown prefetch policy '{}'; choose one of: {}", name, PrefetcherNames()));
  return nullptr;
}

}  // namespace prescient
