// MakeBackend: turns the --memnode setting of a run into a Backend.
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "prescient/backend.h"

namespace prescient {
namespace {

constexpr size_t kMaxMemnodes = 64;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::unique_ptr<Backend> MakeBackend(const std::string& memnodes, const TcpOptions& tcp, const LinkModel& link, Status* status) {
  if (Trim(memnodes).empty()) return MakeInProcessStore(link);

  std::vector<std::string> endpoints;
  std::string_view rest = memnodes;
  while (true) {
    size_t comma = rest.find(',');
    std::string_view item = Trim(rest.substr(0, comma));
    if (item.empty()) {
      *status = Status::InvalidArgument(fmt::format("'{}' has an empty entry; expected HOST:PORT[,HOST:PORT...]", memnodes));
      return nullptr;
    }
    endpoints.emplace_back(item);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  if (endpoints.size() > kMaxMemnodes) {
    *status = Status::InvalidArgument(fmt::format("{} memory nodes given; at most {} are supported", endpoints.size(), kMaxMemnodes));
    return nullptr;
  }
  for (size_t i = 0; i < endpoints.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (endpoints[i] == endpoints[j]) {
        *status = Status::InvalidArgument(fmt::format("memory node {} is listed twice in '{}'", endpoints[i], memnodes));
        return nullptr;
      }
    }
  }

  std::vector<std::unique_ptr<Backend>> shards;
  for (const std::string& endpoint : endpoints) {
    std::unique_ptr<Backend> shard = ConnectMemnode(endpoint, tcp, status);
    if (shard == nullptr) return nullptr;
    shards.push_back(std::move(shard));
  }
  return MakeSharded(std::move(shards));
}

}  // namespace prescient
