// Draws RMAT edges eight levels at a time. GAP draws one random number per
// level (23 for a 2^23-vertex graph); here an alias table over the 65536
// outcomes of eight consecutive levels (512 KiB, cache resident) needs one
// 64-bit draw and one lookup per eight levels, with the same distribution.
// Generation is repeated for every pass of the CSR build, so its speed matters.
#pragma once

#include <cstdint>
#include <vector>

#include "common/random.h"

namespace workload::graph {

class RmatSampler {
 public:
  // Quadrant probabilities a (0,0), b (0,1), c (1,0), d = 1 - a - b - c (1,1)
  // as (source bit, destination bit), over `levels` bits.
  RmatSampler(double a, double b, double c, int levels);

  // Returns 16 random bits that the draws left unused, for the caller's
  // own use (a weight), saving it a draw.
  uint32_t Sample(Rng& rng, uint64_t* src, uint64_t* dst) const {
    uint64_t s = 0, d = 0, r = 0;
    for (int i = 0; i < full_steps_; ++i) r = Step(full_, kLevelsPerStep, rng, &s, &d);
    if (rest_levels_ > 0) r = Step(rest_, rest_levels_, rng, &s, &d);
    *src = s;
    *dst = d;
    return static_cast<uint32_t>(r >> 16) & 0xffff;  // bits 16..31: the index uses at most 16
  }

 private:
  // Alias-method entry for one outcome of k levels: with probability
  // threshold/2^32 the outcome is this slot's own, otherwise its alias's.
  struct Slot {
    uint32_t threshold;
    uint16_t own, alias;  // outcome: source bits << 8 | destination bits
  };
  using Table = std::vector<Slot>;

  static Table BuildTable(const double quadrant[4], int levels);

  static uint64_t Step(const Table& table, int levels, Rng& rng, uint64_t* s, uint64_t* d) {
    uint64_t r = rng.Next();
    const Slot& slot = table[r & ((uint64_t{1} << (2 * levels)) - 1)];
    // Select without a branch: it would be mispredicted half the time.
    uint32_t own_mask = 0u - static_cast<uint32_t>(static_cast<uint32_t>(r >> 32) < slot.threshold);
    uint32_t outcome = (slot.own & own_mask) | (slot.alias & ~own_mask);
    *s = (*s << levels) | (outcome >> 8);
    *d = (*d << levels) | (outcome & 0xff);
    return r;
  }

  static constexpr int kLevelsPerStep = 8;
  Table full_;  // kLevelsPerStep levels
  Table rest_;  // the remaining levels % kLevelsPerStep
  int full_steps_ = 0;
  int rest_levels_ = 0;
};

}  // namespace workload::graph
