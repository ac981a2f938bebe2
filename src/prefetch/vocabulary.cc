#include "prefetch/vocabulary.h"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

namespace prescient {

nlohmann::json Vocabulary::ToJson() const { return {{"map_ordinals", map_ordinals}, {"deltas", deltas}}; }

Status Vocabulary::FromJson(const nlohmann::json& j, Vocabulary* out) {
  if (!j.is_object() || !j.contains("map_ordinals") || !j["map_ordinals"].is_number_integer() || !j.contains("deltas") ||
      !j["deltas"].is_array())
    return Status::Corruption(fmt::format("the vocabulary {} needs integer map_ordinals and an array of deltas", j.dump()));
  Vocabulary v;
  v.map_ordinals = j["map_ordinals"].get<int>();
  if (v.map_ordinals < 0 || v.map_ordinals > 32) return Status::Corruption(fmt::format("vocabulary map_ordinals {} is not 0 to 32", v.map_ordinals));
  std::set<int64_t> seen;
  for (const auto& d : j["deltas"]) {
    if (!d.is_number_integer() || d.get<int64_t>() == 0 || !seen.insert(d.get<int64_t>()).second)
      return Status::Corruption(fmt::format("vocabulary delta {} must be a non-zero integer, listed once", d.dump()));
    v.deltas.push_back(d.get<int64_t>());
  }
  *out = std::move(v);
  return Status::Ok();
}

std::vector<int64_t> Vocabulary::CommonestDeltas(const std::vector<std::vector<uint64_t>>& streams, int map_ordinals, int count) {
  std::map<int64_t, uint64_t> freq;
  for (const auto& pages : streams) {
    FutureMaps maps({.ordinals = std::max(1, map_ordinals)});
    for (size_t i = 1; i < pages.size(); ++i) {
      bool in_map = map_ordinals > 0 && maps.Observe(pages[i - 1], pages[i]) != maps.not_in_map();
      int64_t delta = static_cast<int64_t>(pages[i] - pages[i - 1]);
      if (!in_map && delta != 0) ++freq[delta];
    }
  }
  std::vector<std::pair<uint64_t, int64_t>> ranked;
  for (auto [delta, n] : freq) ranked.push_back({n, delta});
  // Commonest first; ties to the smaller step, so the choice is stable.
  std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
    if (a.first != b.first) return a.first > b.first;
    return std::abs(a.second) != std::abs(b.second) ? std::abs(a.second) < std::abs(b.second) : a.second > b.second;
  });
  std::vector<int64_t> deltas;
  for (size_t i = 0; i < ranked.size() && static_cast<int>(deltas.size()) < count; ++i) deltas.push_back(ranked[i].second);
  return deltas;
}

Tokenizer::Tokenizer(const Vocabulary& vocabulary, uint64_t map_bytes_bound)
    : vocabulary_(vocabulary), maps_(FutureMapOptions{.ordinals = std::max(1, vocabulary.map_ordinals), .max_bytes = map_bytes_bound}) {}

int Tokenizer::Tokenize(uint64_t prev, uint64_t page) {
  if (vocabulary_.map_ordinals > 0) {
    int ordinal = maps_.Observe(prev, page);
    if (ordinal != maps_.not_in_map()) return ordinal;
  }
  const int64_t delta = static_cast<int64_t>(page - prev);
  for (size_t i = 0; i < vocabulary_.deltas.size(); ++i) {
    if (vocabulary_.deltas[i] == delta) return vocabulary_.map_ordinals + static_cast<int>(i);
  }
  return vocabulary_.other();
}

std::optional<uint64_t> Tokenizer::Resolve(uint64_t page, int token) {
  if (token < 0 || token >= vocabulary_.other()) return std::nullopt;
  if (token < vocabulary_.map_ordinals) return maps_.Successor(page, token);
  const int64_t delta = vocabulary_.deltas[static_cast<size_t>(token - vocabulary_.map_ordinals)];
  if (delta < 0 && page < static_cast<uint64_t>(-delta)) return std::nullopt;
  return page + static_cast<uint64_t>(delta);
}

Status LoadFarsightModel(const std::string& path, RetNetWeights* weights, Vocabulary* vocabulary) {
  PRESCIENT_RETURN_IF_ERROR(RetNetWeights::Load(path, weights));
  Vocabulary v{.map_ordinals = weights->config().ordinals, .deltas = {}};
  if (weights->provenance().contains("vocabulary")) {
    Status st = Vocabulary::FromJson(weights->provenance()["vocabulary"], &v);
    if (!st.ok()) return Status::Corruption(fmt::format("model {}: {}", path, st.message()));
  }
  if (v.size() != weights->config().vocab())
    return Status::Corruption(fmt::format("model {} predicts {} tokens but its vocabulary {} has {}", path, weights->config().vocab(),
                                          v.ToJson().dump(), v.size()));
  *vocabulary = std::move(v);
  return Status::Ok();
}

std::vector<uint8_t> TokensOf(const std::vector<uint64_t>& pages, const Vocabulary& vocabulary) {
  Tokenizer tokenizer(vocabulary, /*map_bytes_bound=*/0);
  std::vector<uint8_t> tokens;
  tokens.reserve(pages.size());
  for (size_t i = 0; i < pages.size(); ++i)
    tokens.push_back(static_cast<uint8_t>(i == 0 ? vocabulary.other() : tokenizer.Tokenize(pages[i - 1], pages[i])));
  return tokens;
}

}  // namespace prescient
