// The farsight model's vocabulary: what one fault means, independent of
// where anything is in memory.
//
//   tokens 0 .. M-1      map ordinals: the fault was the m-th known successor
//                        of the previous fault's page (its Future Map)
//   tokens M .. M+D-1    small deltas: not in the map, but `delta` pages from
//                        the previous fault (a scan through pages never seen)
//   token  M+D           anything else
//
// Ordinals are FarSight's; deltas are ours (D31): a Future Map knows nothing
// of a page until it has faulted twice, and a scan over fresh pages is the
// commonest thing a cold map misses. A delta says "the next page" the same
// way on every input, so it keeps the vocabulary free of addresses. The map
// wins when both apply. M = 0 gives a pure delta vocabulary in the manner of
// Hashemi et al. 2018 (the "no Future Maps" ablation).
//
// The vocabulary is chosen at training time and saved in the model file's
// provenance, so a run reads it from the model it was given.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "prefetch/future_maps.h"
#include "prescient/retnet.h"
#include "prescient/status.h"

namespace prescient {

struct Vocabulary {
  int map_ordinals = 8;         // M
  std::vector<int64_t> deltas;  // D of them, none 0, no repeats

  int size() const { return map_ordinals + static_cast<int>(deltas.size()) + 1; }
  int other() const { return size() - 1; }
  bool is_delta(int token) const { return token >= map_ordinals && token < other(); }

  nlohmann::json ToJson() const;
  static Status FromJson(const nlohmann::json& j, Vocabulary* out);
  // The `count` commonest deltas between consecutive faults that the maps
  // of a fresh run would not have predicted, over all `streams`.
  static std::vector<int64_t> CommonestDeltas(const std::vector<std::vector<uint64_t>>& streams, int map_ordinals, int count);
};

// Turns faults into tokens (learning the Future Maps as it goes) and tokens
// back into pages.
class Tokenizer {
 public:
  Tokenizer(const Vocabulary& vocabulary, uint64_t map_bytes_bound);

  const Vocabulary& vocabulary() const { return vocabulary_; }
  const FutureMaps& maps() const { return maps_; }
  // The token of `page` faulting right after `prev`; teaches prev's map.
  int Tokenize(uint64_t prev, uint64_t page);
  // The page `token` names after a fault on `page`, if it names one.
  std::optional<uint64_t> Resolve(uint64_t page, int token);

 private:
  Vocabulary vocabulary_;
  FutureMaps maps_;
};

// Reads a farsight model: its weights and the vocabulary saved with them
// (pure map ordinals if none was), refusing a file whose vocabulary and
// model disagree in size. Every error names the file.
Status LoadFarsightModel(const std::string& path, RetNetWeights* weights, Vocabulary* vocabulary);

// The token stream a run would produce from `pages`, a sequence of faults,
// with fresh maps: the model's training input. The first token is other().
std::vector<uint8_t> TokensOf(const std::vector<uint64_t>& pages, const Vocabulary& vocabulary);

}  // namespace prescient
