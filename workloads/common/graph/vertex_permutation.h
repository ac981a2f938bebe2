// A seeded bijection on [0, 2^bits), used where GAP shuffles vertex ids
// (PermuteIDs) so that RMAT's hubs, which are the ids with few one-bits, end
// up spread uniformly over the id space and over memory pages. Computed, not
// stored: the CSR build regenerates edges several times, and a table lookup
// per endpoint would be a cache miss each time.
#pragma once

#include <cstdint>

#include "common/checksum.h"

namespace workload::graph {

class VertexPermutation {
 public:
  VertexPermutation(uint64_t seed, int bits) : mask_((uint64_t{1} << bits) - 1), shift_((bits + 1) / 2) {
    for (int i = 0; i < kRounds; ++i) {
      multiplier_[i] = Mix64(seed + 2 * i + 1) | 1;  // odd: invertible mod 2^bits
      key_[i] = Mix64(seed + 2 * i + 2);
    }
  }

  // Each step (multiply by an odd number, xor-shift right, xor a key; all
  // mod 2^bits) is invertible, so the composition is a permutation.
  uint32_t operator()(uint64_t v) const {
    for (int i = 0; i < kRounds; ++i) {
      v = (v * multiplier_[i]) & mask_;
      v ^= v >> shift_;
      v ^= key_[i] & mask_;
    }
    return static_cast<uint32_t>(v);
  }

 private:
  static constexpr int kRounds = 3;
  uint64_t mask_;
  int shift_;
  uint64_t multiplier_[kRounds];
  uint64_t key_[kRounds];
};

}  // namespace workload::graph
