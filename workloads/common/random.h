// Deterministic pseudo-random numbers for input generation. The standard
// library's distributions are implementation-defined, so inputs built with
// them could differ between toolchains; these are fully specified here.
#pragma once

#include <cstdint>

#include "common/checksum.h"

namespace workload {

// xoshiro256** seeded through SplitMix64 (the authors' recommendation).
class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (uint64_t& word : s_) {
      seed += 0x9e3779b97f4a7c15ULL;
      word = Mix64(seed);
    }
  }

  uint64_t Next() {
    uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, bound), bound > 0, without modulo bias (Lemire's method).
  uint64_t Uniform(uint64_t bound) {
    unsigned __int128 m = static_cast<unsigned __int128>(Next()) * bound;
    uint64_t low = static_cast<uint64_t>(m);
    if (low < bound) {
      uint64_t threshold = (0 - bound) % bound;
      while (low < threshold) {
        m = static_cast<unsigned __int128>(Next()) * bound;
        low = static_cast<uint64_t>(m);
      }
    }
    return static_cast<uint64_t>(m >> 64);
  }

  // Uniform in [0, 1) with 53 random bits.
  double UniformDouble() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

// A stream of its own for each (seed, stream) pair, e.g. one per thread or
// per block of work, so that parallel generation does not depend on the
// number of threads.
inline Rng StreamRng(uint64_t seed, uint64_t stream) { return Rng(Mix64(seed) ^ Mix64(stream + 0x5851f42d4c957f2dULL)); }

}  // namespace workload
