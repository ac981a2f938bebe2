// FutureMaps: FarSight's Future Maps. Every page that has faulted owns a
// small ranked list of the pages seen to fault right after it. The learned
// model never sees a page number: it sees and predicts *ordinals*, the rank
// a successor held in its predecessor's map ("the next fault was this page's
// 2nd known successor"), or kNotInMap. Ordinals mean the same thing in every
// run and for every input, which is what lets a model trained on one input
// work on another; the maps, learned online in each run, turn them back
// into pages.
//
// Ranking: each entry keeps a small saturating hit count; an entry hit more
// often than the one above it moves up, and a new successor replaces the
// lowest-ranked entry (D30 records the measurement behind the rule).
//
// Memory: the maps of 256 consecutive pages form a chunk, reached through a
// root table, so untouched parts of the address space cost nothing. The
// total is held under a hard bound: when it is reached, the least recently
// used chunk is spilled to far memory and brought back the next time one of
// its pages is needed. Spilled chunks are kept in this process, standing for
// far memory as the embedded store does, and their moves are counted.
// footprint_bytes() reports what is resident, root table included.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

namespace prescient {

// How a map orders its successors.
//   kCount:   by a saturating hit count; a newcomer enters at the lowest rank
//             (the default, D30)
//   kRecency: most recent first; a newcomer enters at the top
enum class FutureMapRanking { kCount, kRecency };

struct FutureMapOptions {
  int ordinals = 8;          // entries per map (K); a model's vocabulary is K + 1
  uint64_t max_bytes = 0;    // resident bound on the maps (0: unbounded)
  FutureMapRanking ranking = FutureMapRanking::kCount;
};

class FutureMaps {
 public:
  static constexpr uint32_t kChunkPages = 256;

  explicit FutureMaps(const FutureMapOptions& options);
  ~FutureMaps();
  FutureMaps(const FutureMaps&) = delete;
  FutureMaps& operator=(const FutureMaps&) = delete;

  int ordinals() const { return ordinals_; }
  // The token for "the successor was not in the map" (== ordinals()).
  int not_in_map() const { return ordinals_; }

  // Records that `next` faulted right after `prev`. Returns the ordinal
  // `next` held in prev's map before this update, or not_in_map().
  int Observe(uint64_t prev, uint64_t next);
  // The page at `ordinal` in page's map, if that entry is filled.
  std::optional<uint64_t> Successor(uint64_t page, int ordinal);
  // How many entries page's map holds (0 for a page never seen as a predecessor).
  int Known(uint64_t page);

  uint64_t footprint_bytes() const;     // resident chunks plus the root table
  uint64_t chunk_bytes() const { return chunk_bytes_; }
  uint64_t chunks_resident() const { return resident_.size(); }
  uint64_t chunks_spilled() const { return spills_; }   // times a chunk went to far memory
  uint64_t chunks_refetched() const { return refetches_; }  // times one came back

 private:
  struct Chunk;
  struct Map {
    uint32_t* successors = nullptr;  // K entries, best first
    uint8_t* counts = nullptr;
  };
  // The map of `page`, making its chunk resident (creating it if `create`).
  // Null pointers if the chunk does not exist and create is false.
  Map MapOf(uint64_t page, bool create);
  void SpillColdest();

  const int ordinals_;
  const FutureMapRanking ranking_;
  const uint64_t max_bytes_;
  const uint64_t map_bytes_;    // one page's map: K successors (uint32) + K counts
  const uint64_t chunk_bytes_;
  // Root table: chunk id -> resident chunk. Most recently used first.
  std::list<std::unique_ptr<Chunk>> resident_;
  std::unordered_map<uint64_t, std::list<std::unique_ptr<Chunk>>::iterator> roots_;
  // Far memory for spilled chunks.
  std::unordered_map<uint64_t, std::unique_ptr<Chunk>> far_;
  uint64_t spills_ = 0, refetches_ = 0;
};

}  // namespace prescient
